//! Stage 1 of reading YAML: the event stream (from `saphyr-parser`) becomes a node tree per
//! document, like go-yaml v2's `parser` does (anchors are per document, an alias points at the
//! node its anchor named, even an enclosing one that is still open).
//!
//! Errors are rewritten to libyaml's wording and line numbering as go-yaml reports them
//! (`yaml: line N: MESSAGE`).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

/// go-yaml's limit on nesting (`max_flow_level` / `max_indents`).
pub(crate) const MAX_DEPTH: usize = 10000;

/// One node of a document; `line` is 0-based like libyaml's marks.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    #[allow(dead_code)]
    pub(crate) line: usize,
}

#[derive(Debug)]
pub(crate) enum Kind {
    /// `tag` is the full tag (`tag:yaml.org,2002:str`, `!foo`, `!`) or empty; `implicit` is
    /// libyaml's `plain_implicit` (plain and untagged, or tagged `!`).
    Scalar {
        value: String,
        tag: String,
        implicit: bool,
    },
    Seq(Vec<usize>),
    /// Keys and values alternate.
    Map(Vec<usize>),
    Alias {
        target: usize,
        name: String,
    },
}

/// A parsed document: an arena of nodes and its root (`None` for an empty stream).
#[derive(Debug, Default)]
pub(crate) struct Doc {
    pub(crate) nodes: Vec<Node>,
    pub(crate) root: Option<usize>,
}

/// A syntax error as go-yaml words it, without the `yaml: ` prefix.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) line: Option<usize>,
}

impl SyntaxError {
    /// `line N: message` (or just `message`), as go-yaml prints it after `yaml: `.
    pub(crate) fn go_text(&self) -> String {
        match self.line {
            Some(l) => format!("line {l}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// Reads documents from `text`; stops after `max_docs` documents (go-yaml's `Unmarshal` reads
/// only the first and never looks at the rest).
pub(crate) fn parse_docs(text: &str, max_docs: usize) -> Result<Vec<Doc>, SyntaxError> {
    if text.chars().any(|c| !readable(c)) {
        return Err(SyntaxError {
            message: "control characters are not allowed".into(),
            line: None,
        });
    }
    // libyaml accepts a tab as the separator after `:` (`key:\tvalue`); saphyr does not. Where
    // saphyr stops on exactly that, the tab becomes a space and the text is read again.
    let mut patched: Option<String> = None;
    for _ in 0..1000 {
        let current = patched.as_deref().unwrap_or(text);
        match parse_docs_once(current, max_docs) {
            Err(Retry::TabAfterColon(at, e)) => match untab(current, at) {
                Some(t) => patched = Some(t),
                None => return Err(e),
            },
            r => return r.map_err(Retry::into_error),
        }
    }
    parse_docs_once(patched.as_deref().unwrap_or(text), max_docs).map_err(Retry::into_error)
}

/// libyaml's reader: the characters a YAML stream may contain.
fn readable(c: char) -> bool {
    let v = c as u32;
    matches!(v, 0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD)
        || v >= 0x10000
}

enum Retry {
    Syntax(SyntaxError),
    /// saphyr refused a tab after `:`; the character index where it stopped.
    TabAfterColon(usize, SyntaxError),
}

impl Retry {
    fn into_error(self) -> SyntaxError {
        match self {
            Retry::Syntax(e) | Retry::TabAfterColon(_, e) => e,
        }
    }
}

impl From<SyntaxError> for Retry {
    fn from(e: SyntaxError) -> Retry {
        Retry::Syntax(e)
    }
}

/// Turns the tabs between a `:` and character index `at` into spaces.
fn untab(text: &str, at: usize) -> Option<String> {
    let mut chars: Vec<char> = text.chars().collect();
    let mut i = at.min(chars.len());
    let mut changed = false;
    while i > 0 && matches!(chars[i - 1], ' ' | '\t') {
        if chars[i - 1] == '\t' {
            chars[i - 1] = ' ';
            changed = true;
        }
        i -= 1;
    }
    (changed && i > 0 && chars[i - 1] == ':').then(|| chars.into_iter().collect())
}

fn parse_docs_once(text: &str, max_docs: usize) -> Result<Vec<Doc>, Retry> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut b = Builder::default();
    let mut in_doc = false;
    let mut offsets: Option<Vec<usize>> = None;
    while let Some(ev) = parser.next_event() {
        let (ev, span) = match ev {
            Ok(x) => x,
            Err(e) if e.info() == "':' must be followed by a valid YAML whitespace" => {
                return Err(Retry::TabAfterColon(
                    e.marker().index(),
                    scan_error(text, &e),
                ));
            }
            Err(e) => return Err(Retry::Syntax(scan_error(text, &e))),
        };
        let line0 = span.start.line().saturating_sub(1);
        match ev {
            Event::StreamStart | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                in_doc = true;
                b = Builder::default();
            }
            Event::DocumentEnd => {
                if in_doc {
                    in_doc = false;
                    docs.push(std::mem::take(&mut b).finish());
                    if docs.len() >= max_docs {
                        break;
                    }
                }
            }
            Event::Alias(id) => {
                let Some(&target) = b.anchors.get(&id) else {
                    let name = alias_name(text, span.start.index());
                    return Err(Retry::Syntax(SyntaxError {
                        message: format!("unknown anchor '{name}' referenced"),
                        line: None,
                    }));
                };
                let name = alias_name(text, span.start.index());
                b.add(Kind::Alias { target, name }, line0, 0)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                if style == ScalarStyle::DoubleQuoted && value.contains('/') {
                    check_escapes(text, &mut offsets, span.start.index(), span.end.index())?;
                }
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let implicit = match &tag {
                    None => style == ScalarStyle::Plain,
                    Some(t) => t == "!",
                };
                let kind = Kind::Scalar {
                    value: value.into_owned(),
                    tag: tag.unwrap_or_default(),
                    implicit,
                };
                b.add(kind, line0, anchor)?;
            }
            Event::SequenceStart(anchor, _) => b.open(Kind::Seq(Vec::new()), line0, anchor)?,
            Event::MappingStart(anchor, _) => b.open(Kind::Map(Vec::new()), line0, anchor)?,
            Event::SequenceEnd | Event::MappingEnd => {
                b.stack.pop();
            }
        }
    }
    Ok(docs)
}

#[derive(Default)]
struct Builder {
    nodes: Vec<Node>,
    root: Option<usize>,
    /// Open collections, innermost last.
    stack: Vec<usize>,
    /// saphyr anchor id → node.
    anchors: HashMap<usize, usize>,
}

impl Builder {
    fn add(&mut self, kind: Kind, line: usize, anchor: usize) -> Result<usize, SyntaxError> {
        let id = self.nodes.len();
        self.nodes.push(Node { kind, line });
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        match self.stack.last() {
            None => {
                if self.root.is_none() {
                    self.root = Some(id);
                }
            }
            Some(&parent) => match &mut self.nodes[parent].kind {
                Kind::Seq(c) | Kind::Map(c) => c.push(id),
                _ => {}
            },
        }
        Ok(id)
    }

    fn open(&mut self, kind: Kind, line: usize, anchor: usize) -> Result<(), SyntaxError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(SyntaxError {
                message: format!("exceeded max depth of {MAX_DEPTH}"),
                line: Some(line + 1),
            });
        }
        let id = self.add(kind, line, anchor)?;
        self.stack.push(id);
        Ok(())
    }

    fn finish(self) -> Doc {
        Doc {
            nodes: self.nodes,
            root: self.root,
        }
    }
}

/// The anchor name of an alias event starting at character `index` (`*name`).
fn alias_name(text: &str, index: usize) -> String {
    let rest: String = text.chars().skip(index).take(1024).collect();
    let rest = rest.strip_prefix('*').unwrap_or(&rest);
    rest.chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
        .collect()
}

/// Rewrites a saphyr error into libyaml's message and go-yaml's line number.
///
/// go-yaml prints `problem_mark.line + 1` for scanner errors and `problem_mark.line` (0-based,
/// so one less) for parser errors, and no line at all when the 0-based line is 0.
fn scan_error(text: &str, e: &ScanError) -> SyntaxError {
    let info = e.info();
    // libyaml's context ("while parsing a block mapping, …") is not printed by go-yaml.
    let problem = match info.strip_prefix("while ") {
        Some(rest) => rest.split_once(", ").map_or(info, |(_, p)| p),
        None => info,
    };
    let line0 = e.marker().line().saturating_sub(1);
    let scanner = |m: &str| (m.to_string(), false);
    let parser = |m: &str| (m.to_string(), true);
    let (message, parser_error) = match problem {
        "did not find expected key"
        | "did not find expected ',' or '}'"
        | "did not find expected '-' indicator"
        | "did not find expected node content"
        | "did not find expected <document start>" => parser(problem),
        "expected ',' or ']'" | "illegal placement of ':' indicator" => {
            parser("did not find expected ',' or ']'")
        }
        "invalid trailing content after double-quoted scalar" => {
            parser("did not find expected key")
        }
        "simple key expect ':'" => scanner("could not find expected ':'"),
        "simple key expected" => {
            // saphyr notices at the end of the input; libyaml's parser stops at the token
            // that is not a key: the last line with content.
            let upto: Vec<&str> = text.lines().take(e.marker().line()).collect();
            let last = upto.iter().rposition(|l| !l.trim().is_empty()).unwrap_or(0);
            return SyntaxError {
                message: "did not find expected key".into(),
                line: (last != 0).then_some(last),
            };
        }
        p if p.starts_with("tabs disallowed") || p.starts_with("unexpected character") => {
            scanner("found character that cannot start any token")
        }
        "found unknown anchor" => {
            let name = alias_name(text, e.marker().index());
            return SyntaxError {
                message: format!("unknown anchor '{name}' referenced"),
                line: None,
            };
        }
        "found unexpected end of stream" => {
            // libyaml notices at the end of the input.
            let last0 = text.matches('\n').count();
            return SyntaxError {
                message: problem.to_string(),
                line: (last0 != 0).then_some(last0 + 1),
            };
        }
        "recursion limit exceeded" => scanner(&format!("exceeded max depth of {MAX_DEPTH}")),
        p => scanner(p),
    };
    let line = if parser_error {
        (line0 != 0).then_some(line0)
    } else {
        (line0 != 0).then_some(line0 + 1)
    };
    SyntaxError { message, line }
}

/// go-yaml (YAML 1.1) knows fewer escapes than saphyr (YAML 1.2): `\/` is an error there.
/// Checks the raw text of a double-quoted scalar spanning characters `start..end`.
fn check_escapes(
    text: &str,
    offsets: &mut Option<Vec<usize>>,
    start: usize,
    end: usize,
) -> Result<(), SyntaxError> {
    let (b0, b1) = if text.is_ascii() {
        (start.min(text.len()), end.min(text.len()))
    } else {
        let offs = offsets.get_or_insert_with(|| {
            let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            v.push(text.len());
            v
        });
        let at = |i: usize| offs.get(i).copied().unwrap_or(text.len());
        (at(start), at(end))
    };
    let raw = text.get(b0..b1).unwrap_or("");
    let mut it = raw.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            continue;
        }
        match it.next() {
            Some(
                '0' | 'a' | 'b' | 't' | '\t' | 'n' | 'v' | 'f' | 'r' | 'e' | ' ' | '"' | '\''
                | '\\' | 'N' | '_' | 'L' | 'P' | 'x' | 'u' | 'U' | '\n' | '\r' | '\u{85}'
                | '\u{2028}' | '\u{2029}',
            )
            | None => {}
            Some(_) => {
                let line0 = text[..b0].matches('\n').count();
                return Err(SyntaxError {
                    message: "found unknown escape character".into(),
                    line: (line0 != 0).then_some(line0 + 1),
                });
            }
        }
    }
    Ok(())
}
