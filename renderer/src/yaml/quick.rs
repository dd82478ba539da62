//! A fast path for the one YAML read every rendered document gets: `helm template` decodes each
//! manifest into `SimpleHead` (`apiVersion`, `kind`, `metadata.name`, `metadata.annotations`),
//! which needs the whole document to be valid YAML but only those four values.
//!
//! `quick_head` recognises the block-style subset that templates and CRDs are written in and
//! proves the document valid while it scans it once, line by line, without building values:
//! block mappings with simple keys, block sequences (also `key:` followed by `- item` at the
//! same indentation, and compact `- key: value` / `- - x` items), plain scalars (also over
//! several lines), single- and double-quoted scalars (also over several lines), literal and
//! folded block scalars, and one-line flow sequences of scalars, `[]` and `{}`.
//!
//! Anything else, or anything it is not sure of, returns `None` (anchors, aliases, tags,
//! complex keys, tabs outside block scalars, flow mappings, explicit indentation indicators,
//! document markers, head values that would not decode to plain strings, duplicate or
//! differently-cased head keys…), and the caller runs the full parser, which stays the
//! reference for every error message. `None` is never a verdict: it only means "ask the real
//! parser". The rule that keeps this safe: accept only constructs that libyaml/go-yaml v2 (and
//! our parser) read without error and that mean what this scan assumes.

use std::collections::BTreeMap;

use super::resolve::{plain_is_null, plain_is_str};

/// Deeper nesting than this goes to the full parser.
const MAX_DEPTH: usize = 200;

/// The fields of Helm's `releaseutil.SimpleHead`; absent or null ones are empty.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct QuickHead {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) name: String,
    pub(crate) annotations: BTreeMap<String, String>,
}

/// The head of `doc` when it is certainly valid YAML in the supported subset; `None` means
/// "use the full parser".
pub(crate) fn quick_head(doc: &str) -> Option<QuickHead> {
    let mut stop = 0;
    quick_head_at(doc, &mut stop)
}

/// `quick_head`, also telling on which line the scan stopped (for tests).
fn quick_head_at(doc: &str, stop: &mut usize) -> Option<QuickHead> {
    let lines = split_lines(doc)?;
    let mut s = Scan {
        lines,
        i: 0,
        head: Head::default(),
    };
    let out = quick_scan(&mut s);
    *stop = s.i;
    out
}

fn quick_scan(s: &mut Scan<'_>) -> Option<QuickHead> {
    s.skip_blank();
    let Some(first) = s.lines.get(s.i) else {
        // Only comments: a null document, whose head is empty.
        return Some(QuickHead::default());
    };
    if first.tab {
        return None;
    }
    let col = first.indent;
    if !starts_key(&first.text[col..]) {
        return None;
    }
    s.block_mapping(col, Ctx::Root, 0)?;
    s.skip_blank();
    if s.i < s.lines.len() {
        return None;
    }
    std::mem::take(&mut s.head).finish()
}

struct Line<'a> {
    text: &'a str,
    /// Leading spaces.
    indent: usize,
    /// Only spaces (or nothing).
    blank: bool,
    /// Blank, or a comment after spaces.
    skippable: bool,
    /// Contains a tab.
    tab: bool,
}

/// Lines of the document; `None` for characters this scan does not handle.
fn split_lines(doc: &str) -> Option<Vec<Line<'_>>> {
    // Printable ASCII throughout (the usual case) is checked in one branch-free pass; anything
    // else takes the character-by-character check.
    let plain = doc
        .bytes()
        .fold(true, |ok, b| ok & matches!(b, b'\n' | b'\t' | 0x20..=0x7e));
    if !plain {
        check_characters(doc)?;
    }
    let mut out = Vec::new();
    for text in doc.split('\n') {
        let indent = text.bytes().take_while(|&b| b == b' ').count();
        let rest = &text[indent..];
        if text.starts_with("---") || text.starts_with("...") || text.starts_with('%') {
            return None;
        }
        out.push(Line {
            text,
            indent,
            blank: rest.is_empty(),
            skippable: rest.is_empty() || rest.starts_with('#'),
            tab: text.contains('\t'),
        });
    }
    Some(out)
}

/// `None` when the document holds a character this scan does not handle.
fn check_characters(doc: &str) -> Option<()> {
    for (pos, b) in doc.bytes().enumerate() {
        match b {
            b'\n' | b'\t' | 0x20..=0x7e => {}
            b'\r' | 0..=0x1f | 0x7f => return None,
            _ => {
                // Non-ASCII: only printable characters that are not YAML line breaks or BOMs.
                let rest = doc.get(pos..).and_then(|r| r.chars().next());
                if let Some(c) = rest {
                    let v = c as u32;
                    let ok = matches!(v, 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..)
                        && !matches!(v, 0x2028 | 0x2029 | 0xFEFF);
                    if !ok {
                        return None;
                    }
                }
            }
        }
    }
    Some(())
}

/// Where a mapping sits, for collecting the head.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Root,
    Metadata,
    Annotations,
    Other,
}

/// What a value is, as far as the head cares.
enum Val {
    Null,
    Str(String),
    Map,
    Other,
}

#[derive(Default)]
struct Head {
    api_version: Option<Val>,
    kind: Option<Val>,
    metadata: Option<Val>,
    name: Option<Val>,
    annotations: Option<Val>,
    annotation_values: BTreeMap<String, String>,
}

impl Head {
    fn finish(self) -> Option<QuickHead> {
        let text = |v: Option<Val>| -> Option<String> {
            match v {
                None | Some(Val::Null) => Some(String::new()),
                Some(Val::Str(s)) => Some(s),
                _ => None,
            }
        };
        match self.metadata {
            None | Some(Val::Null) | Some(Val::Map) => {}
            _ => return None,
        }
        match self.annotations {
            None | Some(Val::Null) | Some(Val::Map) => {}
            _ => return None,
        }
        Some(QuickHead {
            api_version: text(self.api_version)?,
            kind: text(self.kind)?,
            name: text(self.name)?,
            annotations: self.annotation_values,
        })
    }
}

struct Scan<'a> {
    lines: Vec<Line<'a>>,
    /// The current line.
    i: usize,
    head: Head,
}

/// Characters that cannot start a plain scalar here (or that we leave to the full parser).
fn bad_plain_start(b: u8) -> bool {
    matches!(
        b,
        b'?' | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

fn key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'/' | b'.' | b'-')
}

/// The length of a simple plain key at the start of `t` when `t` is `key:` followed by a space
/// or the end of the line.
fn plain_key_len(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    let first = *b.first()?;
    if !(first.is_ascii_alphanumeric() || matches!(first, b'_' | b'$' | b'/' | b'.')) {
        return None;
    }
    let n = b.iter().take_while(|&&c| key_char(c)).count();
    match (b.get(n), b.get(n + 1)) {
        (Some(b':'), None | Some(b' ')) => Some(n),
        _ => None,
    }
}

/// A quoted key without escapes: (key, bytes used including the `:`).
fn quoted_key(t: &str) -> Option<(&str, usize)> {
    let q = *t.as_bytes().first()?;
    if q != b'"' && q != b'\'' {
        return None;
    }
    let end = t[1..].find(q as char)? + 1;
    let key = &t[1..end];
    // ASCII only: `encoding/json` folds case with Unicode rules (the Kelvin sign is a `k`).
    if key.contains('\\') || !key.is_ascii() {
        return None;
    }
    let b = t.as_bytes();
    match (b.get(end + 1), b.get(end + 2)) {
        (Some(b':'), None | Some(b' ')) => Some((key, end + 2)),
        _ => None,
    }
}

fn starts_key(t: &str) -> bool {
    plain_key_len(t).is_some() || quoted_key(t).is_some()
}

fn is_dash_item(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

/// After a complete value: only spaces, optionally followed by a comment.
fn rest_is_trailer(t: &str) -> bool {
    let trimmed = t.trim_start_matches(' ');
    trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < t.len())
}

/// The content of one line of a plain scalar in block context; `None` when it holds a `: ` or
/// ends in `:` (a mapping indicator: an error, or a key we do not handle) or a tab. Returns
/// the text before any ` #` comment, trimmed, and whether a comment ended it.
fn plain_line(t: &str) -> Option<(&str, bool)> {
    let b = t.as_bytes();
    let mut end = b.len();
    let mut comment = false;
    for (k, &c) in b.iter().enumerate() {
        match c {
            b'\t' => return None,
            b':' if matches!(b.get(k + 1), None | Some(b' ')) => return None,
            b'#' if k > 0 && b[k - 1] == b' ' => {
                end = k;
                comment = true;
                break;
            }
            _ => {}
        }
    }
    Some((t[..end].trim_end_matches(' '), comment))
}

impl<'a> Scan<'a> {
    fn skip_blank(&mut self) {
        while self.lines.get(self.i).is_some_and(|l| l.skippable) {
            self.i += 1;
        }
    }

    /// A block mapping whose keys are at column `col`; the first key is at (`self.i`, `col`),
    /// possibly after a `- ` on the same line.
    fn block_mapping(&mut self, col: usize, ctx: Ctx, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut seen: Vec<&'a str> = Vec::new();
        loop {
            let line = self.lines.get(self.i)?;
            if line.tab {
                return None;
            }
            let text = line.text;
            let t = &text[col..];
            let (key, used) = match plain_key_len(t) {
                // A null key (`null:`) fails the conversion to JSON: the full parser says how.
                Some(n) if plain_is_null(&t[..n]) => return None,
                Some(n) => (&t[..n], n + 1),
                None => quoted_key(t)?,
            };
            let field = self.field(ctx, key, &mut seen)?;
            let val = self.value(col + used, col, true, field, depth + 1)?;
            self.store(ctx, field, key, val)?;
            self.skip_blank();
            let Some(next) = self.lines.get(self.i) else {
                return Some(());
            };
            if next.indent < col {
                return Some(());
            }
            if next.indent > col {
                return None;
            }
        }
    }

    /// Which head field a key is, checking for duplicates and other casings (which
    /// `encoding/json` would match case-insensitively).
    fn field(&self, ctx: Ctx, key: &'a str, seen: &mut Vec<&'a str>) -> Option<Field> {
        let names: &[(&str, Field)] = match ctx {
            Ctx::Root => &[
                ("apiVersion", Field::ApiVersion),
                ("kind", Field::Kind),
                ("metadata", Field::Metadata),
            ],
            Ctx::Metadata => &[("name", Field::Name), ("annotations", Field::Annotations)],
            Ctx::Annotations => {
                if seen.contains(&key) {
                    return None;
                }
                seen.push(key);
                return Some(Field::Annotation);
            }
            Ctx::Other => return Some(Field::None),
        };
        for (name, f) in names {
            if key.eq_ignore_ascii_case(name) {
                if key != *name || seen.contains(&key) {
                    return None;
                }
                seen.push(key);
                return Some(*f);
            }
        }
        Some(Field::None)
    }

    fn store(&mut self, ctx: Ctx, field: Field, key: &str, val: Val) -> Option<()> {
        let h = &mut self.head;
        match field {
            Field::None => {}
            Field::ApiVersion => h.api_version = Some(val),
            Field::Kind => h.kind = Some(val),
            Field::Metadata => h.metadata = Some(val),
            Field::Name => h.name = Some(val),
            Field::Annotations => h.annotations = Some(val),
            Field::Annotation => {
                debug_assert!(ctx == Ctx::Annotations);
                let s = match val {
                    Val::Null => String::new(),
                    Val::Str(s) => s,
                    _ => return None,
                };
                // Plain keys that are not strings (`true:`, `1:`) stringify differently.
                if !plain_is_str(key) {
                    return None;
                }
                h.annotation_values.insert(key.to_string(), s);
            }
        }
        Some(())
    }

    /// The value starting at byte `at` of the current line (after `key:` or `- `), inside a
    /// block collection at column `parent`. Leaves `self.i` on the first line after it.
    fn value(
        &mut self,
        at: usize,
        parent: usize,
        in_mapping: bool,
        field: Field,
        depth: usize,
    ) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        let text = self.lines[self.i].text;
        let rest = &text[at..];
        let t = rest.trim_start_matches(' ');
        // `rest` is empty or starts with a space (the callers checked `key: ` and `- `).
        let start = text.len() - t.len();
        let want_map = match field {
            Field::Metadata => Some(Ctx::Metadata),
            Field::Annotations => Some(Ctx::Annotations),
            _ => None,
        };
        let want_str = matches!(
            field,
            Field::ApiVersion | Field::Kind | Field::Name | Field::Annotation
        );
        if t.is_empty() || t.starts_with('#') {
            // The value is on the following lines, or null.
            self.i += 1;
            self.skip_blank();
            let Some(next) = self.lines.get(self.i) else {
                return Some(Val::Null);
            };
            if next.tab && next.indent >= parent {
                return None;
            }
            let nt = &next.text[next.indent..];
            if next.indent > parent || (in_mapping && next.indent == parent && is_dash_item(nt)) {
                let col = next.indent;
                if is_dash_item(nt) {
                    if want_map.is_some() || want_str {
                        return None;
                    }
                    self.block_sequence(col, depth + 1)?;
                    return Some(Val::Other);
                }
                if next.indent == parent {
                    return None;
                }
                if !starts_key(nt) {
                    // A scalar or flow collection on its own line (`resources:\n  {}`).
                    return self.scalar(col, parent, want_str, want_map, false);
                }
                if want_str {
                    return None;
                }
                self.block_mapping(col, want_map.unwrap_or(Ctx::Other), depth + 1)?;
                return Some(Val::Map);
            }
            return Some(Val::Null);
        }
        if t.starts_with('-') && is_dash_item(t) {
            if in_mapping || want_map.is_some() || want_str {
                return None;
            }
            self.block_sequence(start, depth + 1)?;
            return Some(Val::Other);
        }
        if !in_mapping && starts_key(t) {
            if want_str {
                return None;
            }
            self.block_mapping(start, Ctx::Other, depth + 1)?;
            return Some(Val::Other);
        }
        self.scalar(start, parent, want_str, want_map, true)
    }

    /// A scalar or one-line flow collection starting at byte `start` of the current line.
    fn scalar(
        &mut self,
        start: usize,
        parent: usize,
        want_str: bool,
        want_map: Option<Ctx>,
        allow_block: bool,
    ) -> Option<Val> {
        let t = &self.lines[self.i].text[start..];
        let first = *t.as_bytes().first()?;
        match first {
            b'"' | b'\'' => {
                if want_map.is_some() {
                    return None;
                }
                self.quoted(start, parent, want_str)
            }
            b'|' | b'>' => {
                if want_map.is_some() || want_str || !allow_block {
                    return None;
                }
                self.block_scalar(t, parent)?;
                Some(Val::Other)
            }
            b'[' | b'{' => {
                if want_map.is_some() || want_str {
                    // `metadata: {}` and `annotations: {}` are empty maps.
                    if t.starts_with("{}") && rest_is_trailer(&t[2..]) && want_map.is_some() {
                        self.i += 1;
                        return Some(Val::Map);
                    }
                    return None;
                }
                flow_line(t)?;
                self.i += 1;
                Some(Val::Other)
            }
            _ => {
                // `-x` and `:x` start plain scalars in block context; `-` and `:` alone do not.
                let second = t.as_bytes().get(1).copied();
                let dash_or_colon = matches!(first, b'-' | b':');
                if (bad_plain_start(first) && first != b':')
                    || (dash_or_colon && matches!(second, None | Some(b' ')))
                {
                    return None;
                }
                self.plain(t, parent, want_str || want_map.is_some())
            }
        }
    }

    /// A plain scalar starting with `t` on the current line, continued on more-indented lines.
    fn plain(&mut self, t: &str, parent: usize, want: bool) -> Option<Val> {
        let (content, comment) = plain_line(t)?;
        self.i += 1;
        let mut multi = false;
        if !comment {
            loop {
                let mut j = self.i;
                while self.lines.get(j).is_some_and(|l| l.blank) {
                    j += 1;
                }
                let Some(next) = self.lines.get(j) else { break };
                if next.indent <= parent {
                    break;
                }
                let nt = &next.text[next.indent..];
                if nt.starts_with('#') {
                    break; // a comment ends the scalar; what follows is checked by the caller
                }
                // libyaml reads any other first character as text here (`"`, `-`, `[`…).
                if next.tab || nt.starts_with(':') {
                    return None;
                }
                let (_, c) = plain_line(nt)?;
                multi = true;
                self.i = j + 1;
                if c {
                    break;
                }
            }
        }
        if !want {
            return Some(Val::Other);
        }
        if multi {
            return None;
        }
        if content.is_empty() {
            return Some(Val::Null);
        }
        if !plain_is_str(content) {
            return None;
        }
        Some(Val::Str(content.to_string()))
    }

    /// A quoted scalar starting at byte `start` of the current line.
    fn quoted(&mut self, start: usize, parent: usize, want: bool) -> Option<Val> {
        let text = self.lines[self.i].text;
        let q = text.as_bytes()[start];
        let mut line = self.i;
        let mut pos = start + 1;
        let mut value = String::new();
        let mut simple = true; // one line, no escapes we do not decode
        loop {
            let l = &self.lines[line];
            let b = l.text.as_bytes();
            if l.tab {
                return None;
            }
            let mut k = pos;
            let mut closed = None;
            while k < b.len() {
                let c = b[k];
                if c == q {
                    if q == b'\'' && b.get(k + 1) == Some(&b'\'') {
                        value.push('\'');
                        k += 2;
                        continue;
                    }
                    closed = Some(k);
                    break;
                }
                if c == b'\\' && q == b'"' {
                    let n = escape_len(&b[k + 1..])?;
                    match b[k + 1] {
                        b'\\' => value.push('\\'),
                        b'"' => value.push('"'),
                        b'/' => value.push('/'),
                        b'n' => value.push('\n'),
                        b't' => value.push('\t'),
                        _ => simple = false,
                    }
                    k += 1 + n;
                    continue;
                }
                // Copy a run of ordinary characters.
                let run = b[k..]
                    .iter()
                    .position(|&x| x == q || (x == b'\\' && q == b'"'))
                    .map_or(b.len(), |p| k + p);
                value.push_str(&l.text[k..run]);
                k = run;
            }
            if let Some(end) = closed {
                if !rest_is_trailer(&l.text[end + 1..]) {
                    return None;
                }
                self.i = line + 1;
                break;
            }
            // Continues on the next line, which must be indented past the parent.
            simple = false;
            line += 1;
            let next = self.lines.get(line)?;
            if !next.blank && next.indent <= parent {
                return None;
            }
            pos = next.indent;
        }
        if !want {
            return Some(Val::Other);
        }
        if !simple {
            return None;
        }
        Some(Val::Str(value))
    }

    /// A literal or folded block scalar whose header is `t`, inside a collection at `parent`.
    fn block_scalar(&mut self, t: &str, parent: usize) -> Option<()> {
        let header = &t[1..];
        let indicators = header.bytes().take_while(|&b| b != b' ').count();
        if indicators > 1 || (indicators == 1 && !matches!(header.as_bytes()[0], b'-' | b'+')) {
            return None;
        }
        if !rest_is_trailer(&header[indicators..]) {
            return None;
        }
        self.i += 1;
        // Leading blank lines must not be more indented than the first content line.
        let mut max_blank = 0;
        let mut j = self.i;
        while let Some(l) = self.lines.get(j) {
            if !l.blank {
                break;
            }
            max_blank = max_blank.max(l.text.len());
            j += 1;
        }
        let Some(first) = self.lines.get(j) else {
            self.i = j;
            return Some(());
        };
        if first.indent <= parent {
            // Empty scalar; the blank lines before the next node are fine if not too deep.
            if max_blank > parent + 1 {
                return None;
            }
            self.i = j;
            return Some(());
        }
        let content = first.indent;
        if max_blank > content {
            return None;
        }
        while let Some(l) = self.lines.get(j) {
            if !l.blank && l.indent < content {
                break;
            }
            j += 1;
        }
        // Trailing blank lines belong to the scalar; the next content line is the caller's.
        self.i = j;
        Some(())
    }

    /// A block sequence whose dashes are at column `col`; the first at (`self.i`, `col`).
    fn block_sequence(&mut self, col: usize, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        loop {
            let line = self.lines.get(self.i)?;
            if line.tab || !is_dash_item(&line.text[col..]) {
                return None;
            }
            self.value(col + 1, col, false, Field::None, depth + 1)?;
            self.skip_blank();
            let Some(next) = self.lines.get(self.i) else {
                return Some(());
            };
            if next.indent < col || (next.indent == col && !is_dash_item(&next.text[col..])) {
                return Some(());
            }
            if next.indent > col {
                return None;
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Field {
    None,
    ApiVersion,
    Kind,
    Metadata,
    Name,
    Annotations,
    Annotation,
}

/// The length of a valid double-quoted escape after its backslash (libyaml's set), or `None`
/// for an invalid one or a line-continuation backslash.
fn escape_len(b: &[u8]) -> Option<usize> {
    let hex = |n: usize| -> Option<usize> {
        let digits = b.get(1..=n)?;
        if !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let v = u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
        if (0xD800..=0xDFFF).contains(&v) || v > 0x10FFFF {
            return None;
        }
        Some(n + 1)
    };
    match *b.first()? {
        b'0' | b'a' | b'b' | b't' | b'n' | b'v' | b'f' | b'r' | b'e' | b' ' | b'"' | b'/'
        | b'\\' | b'N' | b'_' | b'L' | b'P' => Some(1),
        b'x' => hex(2),
        b'u' => hex(4),
        b'U' => hex(8),
        _ => None,
    }
}

/// A one-line flow sequence of scalars (`[a, "b", 'c']`), `[]` or `{}`, then a trailer.
fn flow_line(t: &str) -> Option<()> {
    if let Some(rest) = t.strip_prefix("{}") {
        return rest_is_trailer(rest).then_some(());
    }
    let b = t.as_bytes();
    if b.first() != Some(&b'[') {
        return None;
    }
    let mut k = 1;
    let skip_spaces = |k: &mut usize| {
        while b.get(*k) == Some(&b' ') {
            *k += 1;
        }
    };
    skip_spaces(&mut k);
    if b.get(k) == Some(&b']') {
        return rest_is_trailer(&t[k + 1..]).then_some(());
    }
    loop {
        skip_spaces(&mut k);
        let c = *b.get(k)?;
        if c == b'"' || c == b'\'' {
            k += 1;
            loop {
                let x = *b.get(k)?;
                if x == c {
                    if c == b'\'' && b.get(k + 1) == Some(&b'\'') {
                        k += 2;
                        continue;
                    }
                    k += 1;
                    break;
                }
                if x == b'\\' && c == b'"' {
                    k += 1 + escape_len(&b[k + 1..])?;
                    continue;
                }
                if x == b'\t' {
                    return None;
                }
                k += 1;
            }
        } else {
            if bad_plain_start(c) || c == b'-' && matches!(b.get(k + 1), None | Some(b' ')) {
                return None;
            }
            let start = k;
            while let Some(&x) = b.get(k) {
                if matches!(x, b',' | b']') {
                    break;
                }
                if matches!(x, b'[' | b'{' | b'}' | b'#' | b'\t')
                    || (x == b':' && matches!(b.get(k + 1), None | Some(b' ' | b',' | b']')))
                {
                    return None;
                }
                k += 1;
            }
            if t[start..k].trim_end_matches(' ').is_empty() {
                return None;
            }
        }
        skip_spaces(&mut k);
        match *b.get(k)? {
            b',' => {
                k += 1;
                skip_spaces(&mut k);
                if b.get(k) == Some(&b']') {
                    return None; // trailing comma: leave it to the full parser
                }
            }
            b']' => return rest_is_trailer(&t[k + 1..]).then_some(()),
            _ => return None,
        }
    }
}

#[cfg(test)]
#[path = "quick_tests.rs"]
mod tests;
