//! The lexer: template source → tokens, following Go's `text/template/parse/lex.go`.
//!
//! Text runs until `{{`; `{{- ` trims the whitespace before it and ` -}}` the whitespace
//! after; `{{/* … */}}` comments vanish. Inside an action, spaces are tokens (the parser needs
//! them to tell `$x := …` from `$x arg`). A lexing error becomes a final `Error` token so that
//! the parser reports whichever error Go would meet first.

use std::rc::Rc;

use super::ast::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Text(Rc<str>),
    LeftDelim,
    RightDelim,
    Space,
    /// `=`
    Assign,
    /// `:=`
    Declare,
    /// `|`
    Pipe,
    /// Any other printable ASCII character in an action (`,` in `range $i, $v`).
    Char(char),
    /// A quoted string as written, with its quotes.
    String(Rc<str>),
    RawString(Rc<str>),
    CharConst(Rc<str>),
    Number(Rc<str>),
    Complex(Rc<str>),
    Bool(bool),
    Dot,
    /// `.name` (without the dot).
    Field(Rc<str>),
    /// `$name` or `$` (with the `$`).
    Variable(Rc<str>),
    Identifier(Rc<str>),
    Nil,
    LeftParen,
    RightParen,
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
    Eof,
    Error(String),
}

impl Tok {
    /// Go's `item.String()`, used in "unexpected X in Y" messages.
    pub fn describe(&self, src: &str, span: Span, end: u32) -> String {
        let kw = |s: &str| format!("<{s}>");
        match self {
            Tok::Eof => "EOF".into(),
            Tok::Error(m) => m.clone(),
            Tok::Block => kw("block"),
            Tok::Break => kw("break"),
            Tok::Continue => kw("continue"),
            Tok::Define => kw("define"),
            Tok::Else => kw("else"),
            Tok::End => kw("end"),
            Tok::If => kw("if"),
            Tok::Range => kw("range"),
            Tok::Template => kw("template"),
            Tok::With => kw("with"),
            Tok::Nil => kw("nil"),
            Tok::Dot => kw("."),
            _ => {
                let text = src.get(span.offset as usize..end as usize).unwrap_or("");
                let text = match self {
                    Tok::Text(t) => &**t,
                    _ => text,
                };
                let q = crate::fmt::quote_go(text);
                if text.chars().count() > 10 {
                    let short: String = text.chars().take(10).collect();
                    format!("{}...", crate::fmt::quote_go(&short))
                } else {
                    q
                }
            }
        }
    }
}

/// A token with where it starts and ends (byte offsets).
#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
    pub end: u32,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphabetic() || c.is_numeric()
}

/// Go's `%#U`: `U+0041 'A'`.
pub fn rune_u(c: char) -> String {
    if c == '\u{FFFD}' || !crate::fmt::is_print(c) {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{}'", c as u32, c)
    }
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    start: usize,
    paren_depth: i32,
    line_starts: &'a [u32],
    out: Vec<Token>,
}

/// Offsets where lines start; `span_at` maps an offset to line and column.
pub fn line_starts(src: &str) -> Vec<u32> {
    let mut v = vec![0u32];
    for (i, b) in src.bytes().enumerate() {
        if b == b'\n' {
            v.push(i as u32 + 1);
        }
    }
    v
}

pub fn span_at(line_starts: &[u32], offset: usize) -> Span {
    let off = offset as u32;
    let idx = match line_starts.binary_search(&off) {
        Ok(i) => i,
        Err(i) => i.saturating_sub(1),
    };
    Span {
        offset: off,
        line: idx as u32 + 1,
        col: off - line_starts.get(idx).copied().unwrap_or(0),
    }
}

/// Lexes a whole template.
pub fn lex(src: &str, line_starts: &[u32]) -> Vec<Token> {
    let mut l = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
        start: 0,
        paren_depth: 0,
        line_starts,
        out: Vec::new(),
    };
    l.run();
    l.out
}

impl<'a> Lexer<'a> {
    fn push(&mut self, tok: Tok, start: usize, end: usize) {
        let span = span_at(self.line_starts, start);
        self.out.push(Token {
            tok,
            span,
            end: end as u32,
        });
    }

    fn emit(&mut self, tok: Tok) {
        self.push(tok, self.start, self.pos);
        self.start = self.pos;
    }

    /// Records an error token at the current position and stops.
    fn error(&mut self, msg: String) -> bool {
        self.push(Tok::Error(msg), self.start, self.pos);
        false
    }

    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn rest(&self) -> &'a [u8] {
        &self.b[self.pos.min(self.b.len())..]
    }

    fn has_right_trim_at(&self, at: usize) -> bool {
        let s = &self.b[at.min(self.b.len())..];
        s.len() >= 4 && is_space(s[0]) && s[1] == b'-' && s[2] == b'}' && s[3] == b'}'
    }

    /// (at a right delimiter, with trim marker)
    fn at_right_delim(&self) -> (bool, bool) {
        if self.has_right_trim_at(self.pos) {
            return (true, true);
        }
        if self.rest().starts_with(b"}}") {
            return (true, false);
        }
        (false, false)
    }

    fn run(&mut self) {
        loop {
            if !self.lex_text() {
                return;
            }
            // At `{{`.
            if !self.lex_left_delim() {
                return;
            }
        }
    }

    /// Text up to the next `{{`; returns false at EOF.
    fn lex_text(&mut self) -> bool {
        let rest = &self.src[self.pos..];
        match rest.find("{{") {
            Some(x) => {
                let delim = self.pos + x;
                let after = &self.b[delim + 2..];
                let trim = after.len() >= 2 && after[0] == b'-' && is_space(after[1]);
                let mut end = delim;
                if trim {
                    while end > self.start && is_space(self.b[end - 1]) {
                        end -= 1;
                    }
                }
                if end > self.start {
                    let t = self.src[self.start..end].into();
                    self.push(Tok::Text(t), self.start, end);
                }
                self.pos = delim;
                self.start = delim;
                true
            }
            None => {
                self.pos = self.b.len();
                if self.pos > self.start {
                    let t = self.src[self.start..].into();
                    self.push(Tok::Text(t), self.start, self.pos);
                }
                self.start = self.pos;
                self.emit(Tok::Eof);
                false
            }
        }
    }

    fn lex_left_delim(&mut self) -> bool {
        self.pos += 2;
        let r = self.rest();
        let trim = r.len() >= 2 && r[0] == b'-' && is_space(r[1]);
        let after = if trim { 2 } else { 0 };
        if self.b[self.pos + after..].starts_with(b"/*") {
            self.pos += after;
            self.start = self.pos;
            return self.lex_comment();
        }
        let delim_start = self.start;
        self.push(Tok::LeftDelim, delim_start, self.pos);
        self.pos += after;
        self.start = self.pos;
        self.paren_depth = 0;
        self.lex_inside_action()
    }

    fn lex_comment(&mut self) -> bool {
        self.pos += 2;
        let rest = &self.src[self.pos..];
        let Some(x) = rest.find("*/") else {
            return self.error("unclosed comment".into());
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.error("comment ends before closing delimiter".into());
        }
        if trim {
            self.pos += 2;
        }
        self.pos += 2;
        if trim {
            while self.pos < self.b.len() && is_space(self.b[self.pos]) {
                self.pos += 1;
            }
        }
        self.start = self.pos;
        true
    }

    fn lex_right_delim(&mut self, trim: bool) {
        if trim {
            self.pos += 2;
            self.start = self.pos;
        }
        self.pos += 2;
        self.emit(Tok::RightDelim);
        if trim {
            while self.pos < self.b.len() && is_space(self.b[self.pos]) {
                self.pos += 1;
            }
            self.start = self.pos;
        }
    }

    /// Lexes the inside of an action; returns true after its `}}`.
    fn lex_inside_action(&mut self) -> bool {
        loop {
            let (delim, trim) = self.at_right_delim();
            if delim {
                if self.paren_depth == 0 {
                    self.lex_right_delim(trim);
                    return true;
                }
                return self.error("unclosed left paren".into());
            }
            let Some(c) = self.next_char() else {
                return self.error("unclosed action".into());
            };
            let ok = match c {
                ' ' | '\t' | '\r' | '\n' => {
                    self.pos -= 1;
                    match self.lex_space() {
                        Some(true) => {
                            // Right at a trim-marked delimiter.
                            self.lex_right_delim(true);
                            return true;
                        }
                        Some(false) => true,
                        None => false,
                    }
                }
                '=' => {
                    self.emit(Tok::Assign);
                    true
                }
                ':' => {
                    if self.next_char() != Some('=') {
                        return self.error("expected :=".into());
                    }
                    self.emit(Tok::Declare);
                    true
                }
                '|' => {
                    self.emit(Tok::Pipe);
                    true
                }
                '"' => self.lex_quote(),
                '`' => self.lex_raw_quote(),
                '$' => self.lex_field_or_variable(true),
                '\'' => self.lex_char(),
                '.' => {
                    let next_digit = self.rest().first().is_some_and(|b| b.is_ascii_digit());
                    if next_digit {
                        self.pos -= 1;
                        self.lex_number()
                    } else {
                        self.lex_field_or_variable(false)
                    }
                }
                '+' | '-' | '0'..='9' => {
                    self.pos -= 1;
                    self.lex_number()
                }
                c if is_alnum(c) => {
                    self.pos -= c.len_utf8();
                    self.lex_identifier()
                }
                '(' => {
                    self.paren_depth += 1;
                    self.emit(Tok::LeftParen);
                    true
                }
                ')' => {
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return self.error("unexpected right paren".into());
                    }
                    self.emit(Tok::RightParen);
                    true
                }
                c if c.is_ascii() && !c.is_ascii_control() => {
                    self.emit(Tok::Char(c));
                    true
                }
                c => {
                    return self.error(format!("unrecognized character in action: {}", rune_u(c)));
                }
            };
            if !ok {
                return false;
            }
        }
    }

    /// A run of spaces. Some(true) when it ends on ` -}}` with a single space (the caller
    /// lexes the delimiter), Some(false) after emitting a space token.
    fn lex_space(&mut self) -> Option<bool> {
        let mut n = 0;
        while self.pos < self.b.len() && is_space(self.b[self.pos]) {
            self.pos += 1;
            n += 1;
        }
        if self.has_right_trim_at(self.pos - 1) {
            self.pos -= 1;
            if n == 1 {
                self.start = self.pos;
                return Some(true);
            }
        }
        self.emit(Tok::Space);
        Some(false)
    }

    fn at_terminator(&self) -> bool {
        match self.rest().first() {
            None => true,
            Some(&b) => {
                is_space(b)
                    || matches!(b, b'.' | b',' | b'|' | b':' | b')' | b'(')
                    || self.rest().starts_with(b"}}")
            }
        }
    }

    fn lex_field_or_variable(&mut self, var: bool) -> bool {
        if self.at_terminator() {
            self.emit(if var {
                Tok::Variable("$".into())
            } else {
                Tok::Dot
            });
            return true;
        }
        let mut last = None;
        while let Some(c) = self.peek_char() {
            if !is_alnum(c) {
                last = Some(c);
                break;
            }
            self.pos += c.len_utf8();
        }
        if !self.at_terminator() {
            let c = last.unwrap_or('\u{FFFD}');
            return self.error(format!("bad character {}", rune_u(c)));
        }
        let text = &self.src[self.start..self.pos];
        let tok = if var {
            Tok::Variable(text.into())
        } else {
            Tok::Field(text[1..].into())
        };
        self.emit(tok);
        true
    }

    fn lex_identifier(&mut self) -> bool {
        let mut last = None;
        while let Some(c) = self.peek_char() {
            if !is_alnum(c) {
                last = Some(c);
                break;
            }
            self.pos += c.len_utf8();
        }
        if !self.at_terminator() {
            let c = last.unwrap_or('\u{FFFD}');
            return self.error(format!("bad character {}", rune_u(c)));
        }
        let word = &self.src[self.start..self.pos];
        let tok = match word {
            "block" => Tok::Block,
            "break" => Tok::Break,
            "continue" => Tok::Continue,
            "define" => Tok::Define,
            "else" => Tok::Else,
            "end" => Tok::End,
            "if" => Tok::If,
            "range" => Tok::Range,
            "nil" => Tok::Nil,
            "template" => Tok::Template,
            "with" => Tok::With,
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            _ => Tok::Identifier(word.into()),
        };
        self.emit(tok);
        true
    }

    fn accept(&mut self, set: &[u8]) -> bool {
        if let Some(&b) = self.rest().first() {
            if set.contains(&b) {
                self.pos += 1;
                return true;
            }
        }
        false
    }

    fn accept_run(&mut self, set: &[u8]) {
        while self.accept(set) {}
    }

    fn scan_number(&mut self) -> bool {
        self.accept(b"+-");
        let mut digits: &[u8] = b"0123456789_";
        if self.accept(b"0") {
            if self.accept(b"xX") {
                digits = b"0123456789abcdefABCDEF_";
            } else if self.accept(b"oO") {
                digits = b"01234567_";
            } else if self.accept(b"bB") {
                digits = b"01_";
            }
        }
        self.accept_run(digits);
        if self.accept(b".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept(b"eE") {
            self.accept(b"+-");
            self.accept_run(b"0123456789_");
        }
        if digits.len() == 23 && self.accept(b"pP") {
            self.accept(b"+-");
            self.accept_run(b"0123456789_");
        }
        self.accept(b"i");
        if let Some(c) = self.peek_char() {
            if is_alnum(c) {
                self.pos += c.len_utf8();
                return false;
            }
        }
        true
    }

    fn lex_number(&mut self) -> bool {
        if !self.scan_number() {
            let t = self.src[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", crate::fmt::quote_go(&t)));
        }
        if matches!(self.rest().first(), Some(b'+') | Some(b'-')) {
            if !self.scan_number() || self.b[self.pos - 1] != b'i' {
                let t = self.src[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", crate::fmt::quote_go(&t)));
            }
            let t = self.src[self.start..self.pos].into();
            self.emit(Tok::Complex(t));
            return true;
        }
        let t = self.src[self.start..self.pos].into();
        self.emit(Tok::Number(t));
        true
    }

    fn lex_quote(&mut self) -> bool {
        loop {
            match self.next_char() {
                Some('\\') => match self.next_char() {
                    None | Some('\n') => return self.error("unterminated quoted string".into()),
                    _ => {}
                },
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some('"') => break,
                _ => {}
            }
        }
        let t = self.src[self.start..self.pos].into();
        self.emit(Tok::String(t));
        true
    }

    fn lex_raw_quote(&mut self) -> bool {
        match self.src[self.pos..].find('`') {
            Some(x) => {
                self.pos += x + 1;
                let t = self.src[self.start..self.pos].into();
                self.emit(Tok::RawString(t));
                true
            }
            None => {
                self.pos = self.b.len();
                self.error("unterminated raw quoted string".into())
            }
        }
    }

    fn lex_char(&mut self) -> bool {
        loop {
            match self.next_char() {
                Some('\\') => match self.next_char() {
                    None | Some('\n') => {
                        return self.error("unterminated character constant".into())
                    }
                    _ => {}
                },
                None | Some('\n') => return self.error("unterminated character constant".into()),
                Some('\'') => break,
                _ => {}
            }
        }
        let t = self.src[self.start..self.pos].into();
        self.emit(Tok::CharConst(t));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let ls = line_starts(src);
        lex(src, &ls).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn text_and_actions() {
        assert_eq!(
            toks("a {{ .b }} c"),
            vec![
                Tok::Text("a ".into()),
                Tok::LeftDelim,
                Tok::Space,
                Tok::Field("b".into()),
                Tok::Space,
                Tok::RightDelim,
                Tok::Text(" c".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn trim_markers_and_comments() {
        assert_eq!(
            toks("a  \n{{- 3 -}}\n b{{/* x */}}c"),
            vec![
                Tok::Text("a".into()),
                Tok::LeftDelim,
                Tok::Number("3".into()),
                Tok::RightDelim,
                Tok::Text("b".into()),
                Tok::Text("c".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("x {{- /* c */ -}} y"),
            vec![Tok::Text("x".into()), Tok::Text("y".into()), Tok::Eof]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            toks("{{ \"abc }}").last(),
            Some(&Tok::Error("unterminated quoted string".into()))
        );
        assert_eq!(
            toks("{{ .a ").last(),
            Some(&Tok::Error("unclosed action".into()))
        );
        assert_eq!(
            toks("{{/* a */ }}").last(),
            Some(&Tok::Error("comment ends before closing delimiter".into()))
        );
    }

    #[test]
    fn spans() {
        let src = "ab\n  {{ .x }}";
        let ls = line_starts(src);
        let t = lex(src, &ls);
        let f = t.iter().find(|t| t.tok == Tok::Field("x".into())).unwrap();
        assert_eq!((f.span.line, f.span.col), (2, 5));
    }
}
