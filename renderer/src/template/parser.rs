//! The parser: tokens → trees, following Go's `text/template/parse/parse.go`.
//!
//! One source yields its main tree plus one tree per `{{define}}`/`{{block}}`. Functions are
//! resolved here (`function "x" not defined` is a parse error, as in Go), variables are checked
//! against Go's lexical scopes, and number literals get their Go constant type.
//! Errors read `template: NAME:LINE: message`.

use std::sync::Arc;

use super::ast::{
    is_empty_list, Arg, Branch, Builtin, Command, FuncRef, List, Node, Number, Pipe, Span, Var,
};
use super::lexer::{lex, line_starts, Tok, Token};

/// One parsed template (the file itself, or a `define`).
#[derive(Debug)]
pub struct Tree {
    pub name: Box<str>,
    /// The name of the source it was parsed from (Go's `ParseName`), used in error locations.
    pub parse_name: Arc<str>,
    pub root: List,
}

/// Parses `src` as template `name`; returns the trees in definition order, main tree last.
pub fn parse(name: &str, src: &str, lenient: bool) -> Result<Vec<Tree>, String> {
    let ls = line_starts(src);
    let toks = lex(src, &ls);
    let parse_name: Arc<str> = Arc::from(name);
    let mut p = Parser {
        toks,
        pos: 0,
        seen: 0,
        src,
        parse_name: parse_name.clone(),
        vars: vec![std::rc::Rc::from("$")],
        range_depth: 0,
        depth: 0,
        action_line: 0,
        trees: Vec::new(),
        lenient,
    };
    let root = p.parse_top()?;
    p.add_tree(name.into(), root)?;
    Ok(p.trees)
}

/// What `text_or_action` found.
enum Item {
    Node(Node),
    End,
    /// `{{else}}` (an `if`/`with` may follow it in the same action).
    Else,
}

struct Parser<'a> {
    toks: Vec<Token>,
    pos: usize,
    seen: usize,
    src: &'a str,
    parse_name: Arc<str>,
    vars: Vec<std::rc::Rc<str>>,
    range_depth: usize,
    /// Nesting of control structures and parenthesized pipelines (bounded: the parser and
    /// the evaluator recurse on it).
    depth: usize,
    action_line: u32,
    trees: Vec<Tree>,
    lenient: bool,
}

type R<T> = Result<T, String>;

/// How deeply control structures and parentheses may nest (real charts use a dozen levels).
const MAX_NESTING: usize = 200;

const EOF_TOKEN: Token = Token {
    tok: Tok::Eof,
    span: Span {
        offset: 0,
        line: 0,
        col: 0,
    },
    end: 0,
};

impl<'a> Parser<'a> {
    fn tok_at(&self, i: usize) -> &Token {
        self.toks.get(i).or(self.toks.last()).unwrap_or(&EOF_TOKEN)
    }

    fn peek(&mut self) -> Token {
        self.seen = self.seen.max(self.pos);
        self.tok_at(self.pos).clone()
    }

    fn next(&mut self) -> Token {
        let t = self.peek();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn skip_spaces(&mut self) {
        while matches!(self.tok_at(self.pos).tok, Tok::Space) {
            self.pos += 1;
        }
    }

    fn next_non_space(&mut self) -> Token {
        self.skip_spaces();
        self.next()
    }

    fn peek_non_space(&mut self) -> Token {
        self.skip_spaces();
        self.peek()
    }

    fn backup(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn errorf(&self, msg: impl AsRef<str>) -> String {
        let line = self.tok_at(self.seen).span.line.max(1);
        format!("template: {}:{}: {}", self.parse_name, line, msg.as_ref())
    }

    fn describe(&self, t: &Token) -> String {
        t.tok.describe(self.src, t.span, t.end)
    }

    fn unexpected(&self, t: &Token, context: &str) -> String {
        if let Tok::Error(m) = &t.tok {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != t.span.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if m.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{m}{extra}"));
        }
        self.errorf(format!("unexpected {} in {}", self.describe(t), context))
    }

    fn expect(&mut self, want: fn(&Tok) -> bool, context: &str) -> R<Token> {
        let t = self.next_non_space();
        if !want(&t.tok) {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    /// Go's `treeSet` rule: a non-empty definition cannot be redefined within one source.
    fn add_tree(&mut self, name: Box<str>, root: List) -> R<()> {
        if let Some(i) = self.trees.iter().position(|t| t.name == name) {
            if !is_empty_list(&self.trees[i].root) {
                if !is_empty_list(&root) {
                    return Err(self.errorf(format!(
                        "template: multiple definition of template {}",
                        crate::fmt::quote_go(&name)
                    )));
                }
                return Ok(());
            }
            self.trees.remove(i);
        }
        self.trees.push(Tree {
            name,
            parse_name: self.parse_name.clone(),
            root,
        });
        Ok(())
    }

    fn parse_top(&mut self) -> R<List> {
        let mut root = Vec::new();
        loop {
            let t = self.peek();
            match t.tok {
                Tok::Eof => break,
                Tok::LeftDelim => {
                    let save = self.pos;
                    self.next();
                    if self.next_non_space().tok == Tok::Define {
                        self.parse_definition()?;
                        continue;
                    }
                    self.pos = save;
                }
                _ => {}
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End => return Err(self.errorf("unexpected {{end}}")),
                Item::Else => return Err(self.errorf("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    fn with_fresh_scope<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        let vars = std::mem::replace(&mut self.vars, vec![std::rc::Rc::from("$")]);
        let depth = std::mem::replace(&mut self.range_depth, 0);
        let r = f(self);
        self.vars = vars;
        self.range_depth = depth;
        r
    }

    fn parse_definition(&mut self) -> R<()> {
        const CONTEXT: &str = "define clause";
        let t = self.expect(|t| matches!(t, Tok::String(_) | Tok::RawString(_)), CONTEXT)?;
        let name = self.unquote_tok(&t)?;
        self.expect(|t| matches!(t, Tok::RightDelim), CONTEXT)?;
        let root = self.with_fresh_scope(|p| {
            let (list, end) = p.item_list()?;
            if !matches!(end, Item::End) {
                return Err(p.errorf(format!("unexpected {} in {CONTEXT}", item_str(&end))));
            }
            Ok(list)
        })?;
        self.add_tree(name.into(), root)
    }

    fn unquote_tok(&self, t: &Token) -> R<String> {
        let q = match &t.tok {
            Tok::String(q) | Tok::RawString(q) => q,
            _ => return Err(self.unexpected(t, "string")),
        };
        unquote(q).ok_or_else(|| self.errorf("invalid syntax"))
    }

    fn item_list(&mut self) -> R<(List, Item)> {
        let mut list = Vec::new();
        while self.peek_non_space().tok != Tok::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                end @ (Item::End | Item::Else) => return Ok((list, end)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> R<Item> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Text(s) => Ok(Item::Node(Node::Text((*s).into()))),
            Tok::LeftDelim => {
                self.action_line = t.span.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> R<Item> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Block => return self.block_control().map(Item::Node),
            Tok::Break | Tok::Continue => {
                let is_break = t.tok == Tok::Break;
                let n = self.next_non_space();
                let word = if is_break {
                    "{{break}}"
                } else {
                    "{{continue}}"
                };
                if n.tok != Tok::RightDelim {
                    return Err(self.unexpected(&n, word));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{word} outside {{{{range}}}}")));
                }
                return Ok(Item::Node(if is_break {
                    Node::Break(t.span)
                } else {
                    Node::Continue(t.span)
                }));
            }
            Tok::Else => {
                let p = self.peek_non_space();
                if !matches!(p.tok, Tok::If | Tok::With) {
                    self.expect(|t| matches!(t, Tok::RightDelim), "else")?;
                }
                return Ok(Item::Else);
            }
            Tok::End => {
                self.expect(|t| matches!(t, Tok::RightDelim), "end")?;
                return Ok(Item::End);
            }
            Tok::If => return self.control("if").map(|b| Item::Node(Node::If(b))),
            Tok::Range => return self.control("range").map(|b| Item::Node(Node::Range(b))),
            Tok::With => return self.control("with").map(|b| Item::Node(Node::With(b))),
            Tok::Template => return self.template_control().map(Item::Node),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", Tok::RightDelim)?;
        Ok(Item::Node(Node::Action(pipe)))
    }

    fn control(&mut self, context: &str) -> R<Branch> {
        let nvars = self.vars.len();
        self.enter()?;
        let r = self.control_inner(context);
        self.depth -= 1;
        self.vars.truncate(nvars);
        r
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            self.depth -= 1;
            return Err(self.errorf(format!("nesting deeper than {MAX_NESTING} levels")));
        }
        Ok(())
    }

    fn control_inner(&mut self, context: &str) -> R<Branch> {
        let pipe = self.pipeline(context, Tok::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = r?;
        let mut else_list = None;
        if let Item::Else = next {
            let p = self.peek();
            if context == "if" && p.tok == Tok::If {
                self.next();
                else_list = Some(vec![Node::If(self.control("if")?)]);
            } else if context == "with" && p.tok == Tok::With {
                self.next();
                else_list = Some(vec![Node::With(self.control("with")?)]);
            } else {
                let (l, next) = self.item_list()?;
                if !matches!(next, Item::End) {
                    return Err(self.errorf(format!("expected end; found {}", item_str(&next))));
                }
                else_list = Some(l);
            }
        }
        Ok(Branch {
            span: pipe.span,
            pipe,
            list,
            else_list,
        })
    }

    fn template_control(&mut self) -> R<Node> {
        const CONTEXT: &str = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, CONTEXT)?;
        let pipe = if self.next_non_space().tok != Tok::RightDelim {
            self.backup();
            Some(self.pipeline(CONTEXT, Tok::RightDelim)?)
        } else {
            None
        };
        Ok(Node::Template {
            span: t.span,
            name: name.into(),
            pipe,
        })
    }

    fn template_name(&self, t: &Token, context: &str) -> R<String> {
        match t.tok {
            Tok::String(_) | Tok::RawString(_) => self.unquote_tok(t),
            _ => Err(self.unexpected(t, context)),
        }
    }

    fn block_control(&mut self) -> R<Node> {
        const CONTEXT: &str = "block clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Tok::RightDelim)?;
        let root = self.with_fresh_scope(|p| {
            let (list, end) = p.item_list()?;
            if !matches!(end, Item::End) {
                return Err(p.errorf(format!("unexpected {} in {CONTEXT}", item_str(&end))));
            }
            Ok(list)
        })?;
        self.add_tree(name.as_str().into(), root)?;
        Ok(Node::Template {
            span: t.span,
            name: name.into(),
            pipe: Some(pipe),
        })
    }

    fn pipeline(&mut self, context: &str, end: Tok) -> R<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            span: start.span,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        'decls: loop {
            let v = self.peek_non_space();
            if let Tok::Variable(name) = &v.tok {
                let vpos = self.pos;
                self.next();
                let after = self.peek();
                let next = self.peek_non_space();
                match next.tok {
                    Tok::Assign | Tok::Declare => {
                        pipe.is_assign = next.tok == Tok::Assign;
                        self.next_non_space();
                        pipe.decl.push(Var::new(name));
                        self.vars.push(name.clone());
                    }
                    Tok::Char(',') => {
                        self.next_non_space();
                        pipe.decl.push(Var::new(name));
                        self.vars.push(name.clone());
                        if context == "range" && pipe.decl.len() < 2 {
                            match self.peek_non_space().tok {
                                Tok::Variable(_) | Tok::RightDelim | Tok::RightParen => {
                                    continue 'decls;
                                }
                                _ => return Err(self.errorf("range can only initialize variables")),
                            }
                        }
                        return Err(self.errorf(format!("too many declarations in {context}")));
                    }
                    _ => {
                        let _ = after;
                        self.pos = vpos;
                    }
                }
            }
            break;
        }
        loop {
            let t = self.next_non_space();
            if t.tok == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match t.tok {
                Tok::Bool(_)
                | Tok::CharConst(_)
                | Tok::Complex(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Identifier(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::RawString(_)
                | Tok::String(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&t, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> R<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if let Some(
                Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number { .. } | Arg::String { .. },
            ) = c.args.first()
            {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> R<Command> {
        let span = self.peek_non_space().span;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                args.push(op);
            }
            let t = self.next();
            match t.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.backup(),
                Tok::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(Command { span, args })
    }

    fn operand(&mut self) -> R<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        let p = self.peek();
        if !matches!(p.tok, Tok::Field(_)) {
            return Ok(Some(node));
        }
        let span = p.span;
        let mut more = Vec::new();
        while let Tok::Field(f) = self.peek().tok {
            self.next();
            more.push(Box::<str>::from(&*f));
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(more);
                Arg::Field { span, idents }
            }
            Arg::Variable {
                var, mut idents, ..
            } => {
                idents.extend(more);
                Arg::Variable { span, var, idents }
            }
            Arg::Bool(..) | Arg::String { .. } | Arg::Number { .. } | Arg::Nil(_) | Arg::Dot(_) => {
                let s = crate::fmt::quote_go(&node.to_string());
                return Err(self.errorf(format!("unexpected . after term {s}")));
            }
            node => Arg::Chain {
                span,
                node: Box::new(node),
                idents: more,
            },
        }))
    }

    fn term(&mut self) -> R<Option<Arg>> {
        let t = self.next_non_space();
        let span = t.span;
        Ok(Some(match t.tok {
            Tok::Identifier(name) => {
                // Helm's function map (Sprig + Helm) shadows Go's builtins, except that the
                // engine's own `include` and `tpl` come first.
                let builtin = Builtin::lookup(&name);
                let func = if let Some(b @ (Builtin::Include | Builtin::Tpl)) = builtin {
                    FuncRef::Builtin(b)
                } else if let Some(f) = crate::funcs::lookup(&name) {
                    FuncRef::Plain(f)
                } else if let Some(b) = builtin {
                    FuncRef::Builtin(b)
                } else if self.lenient {
                    FuncRef::Unknown
                } else {
                    return Err(self.errorf(format!(
                        "function {} not defined",
                        crate::fmt::quote_go(&name)
                    )));
                };
                Arg::Ident {
                    span,
                    name: (*name).into(),
                    func,
                }
            }
            Tok::Dot => Arg::Dot(span),
            Tok::Nil => Arg::Nil(span),
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return Err(self.errorf(format!(
                        "undefined variable {}",
                        crate::fmt::quote_go(&name)
                    )));
                }
                Arg::Variable {
                    span,
                    var: Var::new(&name),
                    idents: Vec::new(),
                }
            }
            Tok::Field(f) => Arg::Field {
                span,
                idents: vec![(*f).into()],
            },
            Tok::Bool(b) => Arg::Bool(span, b),
            Tok::CharConst(text) => {
                let value = parse_char_const(&text).map_err(|e| self.errorf(e))?;
                Arg::Number {
                    span,
                    text: (*text).into(),
                    value,
                }
            }
            Tok::Complex(text) => {
                return Err(self.errorf(format!(
                    "complex constants are not supported: {}",
                    crate::fmt::quote_go(&text)
                )))
            }
            Tok::Number(text) => {
                let value = parse_number(&text).map_err(|e| self.errorf(e))?;
                Arg::Number {
                    span,
                    text: (*text).into(),
                    value,
                }
            }
            Tok::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", Tok::RightParen);
                self.depth -= 1;
                Arg::Pipe(Box::new(p?))
            }
            Tok::String(ref q) | Tok::RawString(ref q) => {
                let value = unquote(q).ok_or_else(|| self.errorf("invalid syntax"))?;
                Arg::String {
                    span,
                    quoted: (**q).into(),
                    value: value.into(),
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

fn item_str(i: &Item) -> &'static str {
    match i {
        Item::End => "{{end}}",
        Item::Else => "{{else}}",
        _ => "node",
    }
}

/// Go's `strconv` underscore rule: only between digits (or after a base prefix).
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let b = if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        &b[1..]
    } else {
        b
    };
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1] | 0x20 == b'x';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || hex && (c | 0x20).is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// `strconv.ParseUint(s, 0, 64)` on the unsigned part; None when invalid or out of range.
fn parse_uint0(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (radix, digits) = if s.len() >= 2 && s.as_bytes()[0] == b'0' {
        match s.as_bytes()[1] | 0x20 {
            b'x' => (16, &s[2..]),
            b'o' => (8, &s[2..]),
            b'b' => (2, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if digits.is_empty() {
        return if radix == 8 && s == "0" {
            Some(0)
        } else {
            None
        };
    }
    u64::from_str_radix(&digits, radix).ok()
}

fn parse_float_go(s: &str) -> Option<f64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let t: String = s.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, &t[..]),
    };
    let v = if body.len() > 2 && (body.starts_with("0x") || body.starts_with("0X")) {
        parse_hex_float(&body[2..])?
    } else {
        if !body
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.find(['p', 'P']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => return None,
    };
    let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
    let mut v = 0f64;
    for c in ip.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in fp.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// Go's `newNumber` + `idealConstant`: the constant's value in a context without a type.
pub fn parse_number(text: &str) -> Result<Number, String> {
    let q = crate::fmt::quote_go(text);
    if text.ends_with('i') {
        return Err(format!("complex constants are not supported: {q}"));
    }
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let u = parse_uint0(body);
    let int = match u {
        Some(u) if neg && u <= i64::MAX as u64 + 1 => Some((u as i128).wrapping_neg() as i64),
        Some(u) if !neg && u <= i64::MAX as u64 => Some(u as i64),
        _ => None,
    };
    let is_uint = u.is_some() && !neg;
    let is_hex = body.len() > 2
        && (body.starts_with("0x") || body.starts_with("0X"))
        && !body.contains(['p', 'P']);
    let mut is_float = false;
    let mut float = 0.0;
    if int.is_none() && !is_uint {
        if let Some(f) = parse_float_go(text) {
            if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(format!("integer overflow: {q}"));
            }
            is_float = true;
            float = f;
        }
    }
    if is_float && !is_hex && text.contains(['.', 'e', 'E', 'p', 'P']) {
        return Ok(Number::Float(float));
    }
    if let Some(i) = int {
        // An integer literal written like a float (`1.0`) is still a float constant.
        if text.contains(['.', 'e', 'E', 'p', 'P']) && !is_hex {
            return Ok(Number::Float(i as f64));
        }
        return Ok(Number::Int(i));
    }
    if is_uint {
        return Ok(Number::Overflow);
    }
    Err(format!("illegal number syntax: {q}"))
}

fn parse_char_const(text: &str) -> Result<Number, String> {
    let inner = &text[1..];
    match unquote_char(inner, '\'') {
        Some((c, "'")) => Ok(Number::Int(c as i64)),
        Some(_) => Err(format!("malformed character constant: {text}")),
        None => Err("invalid syntax".into()),
    }
}

/// One (possibly escaped) character of a quoted literal, and the rest. A `\xNN`/octal escape
/// yields the byte's code point (Go would produce a raw byte).
fn unquote_char(s: &str, quote: char) -> Option<(char, &str)> {
    let mut it = s.chars();
    let c = it.next()?;
    if c == quote && (quote == '\'' || quote == '"') {
        return None;
    }
    if c != '\\' {
        return Some((c, it.as_str()));
    }
    let e = it.next()?;
    let rest = it.as_str();
    let simple = match e {
        'a' => Some('\x07'),
        'b' => Some('\x08'),
        'f' => Some('\x0c'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\x0b'),
        '\\' => Some('\\'),
        '\'' | '"' => {
            if e != quote {
                return None;
            }
            Some(e)
        }
        _ => None,
    };
    if let Some(c) = simple {
        return Some((c, rest));
    }
    let hex = |n: usize| -> Option<(u32, &str)> {
        let d = rest.get(..n)?;
        let v = u32::from_str_radix(d, 16).ok()?;
        if !d.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some((v, &rest[n..]))
    };
    match e {
        'x' => {
            let (v, r) = hex(2)?;
            Some((char::from_u32(v)?, r))
        }
        'u' => {
            let (v, r) = hex(4)?;
            Some((char::from_u32(v)?, r))
        }
        'U' => {
            let (v, r) = hex(8)?;
            Some((char::from_u32(v)?, r))
        }
        '0'..='7' => {
            let d = s.get(1..4)?;
            if !d.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return None;
            }
            let v = u32::from_str_radix(d, 8).ok()?;
            if v > 255 {
                return None;
            }
            Some((char::from_u32(v)?, &s[4..]))
        }
        _ => None,
    }
}

/// Go's `strconv.Unquote` for `"…"` and `` `…` `` literals.
pub fn unquote(q: &str) -> Option<String> {
    if q.len() < 2 {
        return None;
    }
    if q.starts_with('`') {
        if !q.ends_with('`') {
            return None;
        }
        return Some(q[1..q.len() - 1].replace('\r', ""));
    }
    if !q.starts_with('"') || !q.ends_with('"') {
        return None;
    }
    let mut s = &q[1..q.len() - 1];
    if !s.contains(['\\', '"']) {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    while !s.is_empty() {
        let (c, rest) = unquote_char(s, '"')?;
        out.push(c);
        s = rest;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> Result<Vec<Tree>, String> {
        parse("t", src, false)
    }

    #[test]
    fn numbers_follow_go_constant_rules() {
        assert_eq!(parse_number("1"), Ok(Number::Int(1)));
        assert_eq!(parse_number("-12"), Ok(Number::Int(-12)));
        assert_eq!(parse_number("0x1F"), Ok(Number::Int(31)));
        assert_eq!(parse_number("0o17"), Ok(Number::Int(15)));
        assert_eq!(parse_number("017"), Ok(Number::Int(15)));
        assert_eq!(parse_number("1_000"), Ok(Number::Int(1000)));
        assert_eq!(parse_number("1e3"), Ok(Number::Float(1000.0)));
        assert_eq!(parse_number("1.5"), Ok(Number::Float(1.5)));
        assert_eq!(parse_number("1.0"), Ok(Number::Float(1.0)));
        assert_eq!(parse_number(".5"), Ok(Number::Float(0.5)));
        assert_eq!(
            parse_number("09"),
            Err("integer overflow: \"09\"".to_string())
        );
        assert_eq!(parse_number("18446744073709551615"), Ok(Number::Overflow));
        assert_eq!(parse_char_const("'a'"), Ok(Number::Int(97)));
        assert_eq!(parse_char_const("'\\n'"), Ok(Number::Int(10)));
    }

    #[test]
    fn unquotes_go_strings() {
        assert_eq!(unquote("\"a\\tb\\u00e9\\x41\""), Some("a\tbéA".into()));
        assert_eq!(unquote("`a\\n`"), Some("a\\n".into()));
        assert_eq!(unquote("\"a\\'\""), None);
    }

    #[test]
    fn defines_become_trees() {
        let t = p("a{{define \"x\"}}X{{end}}b").unwrap();
        let names: Vec<&str> = t.iter().map(|t| &*t.name).collect();
        assert_eq!(names, vec!["x", "t"]);
    }

    #[test]
    fn parse_errors_match_go() {
        assert_eq!(
            p("{{ .a }").unwrap_err(),
            "template: t:1: unexpected \"}\" in operand"
        );
        assert_eq!(
            p("{{ if .a }}x").unwrap_err(),
            "template: t:1: unexpected EOF"
        );
        assert_eq!(
            p("{{ end }}").unwrap_err(),
            "template: t:1: unexpected {{end}}"
        );
        assert_eq!(
            p("\n{{ $x }}").unwrap_err(),
            "template: t:2: undefined variable \"$x\""
        );
        assert_eq!(
            p("{{ nosuchfunc 1 }}").unwrap_err(),
            "template: t:1: function \"nosuchfunc\" not defined"
        );
        assert_eq!(
            p("{{ }}").unwrap_err(),
            "template: t:1: missing value for command"
        );
        assert_eq!(
            p("{{ break }}").unwrap_err(),
            "template: t:1: {{break}} outside {{range}}"
        );
        assert_eq!(
            p("{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}").unwrap_err(),
            "template: t:1: template: multiple definition of template \"a\""
        );
    }

    #[test]
    fn field_chain_position_is_the_second_field() {
        let t = p("{{ .Values.a.b }}").unwrap();
        let Node::Action(pipe) = &t[0].root[0] else {
            panic!()
        };
        let Arg::Field { span, idents } = &pipe.cmds[0].args[0] else {
            panic!()
        };
        assert_eq!(idents.len(), 3);
        assert_eq!(span.col, 10);
    }
}
