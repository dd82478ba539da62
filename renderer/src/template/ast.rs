//! The syntax tree of a parsed template, shaped like Go's `text/template/parse` nodes.
//!
//! Every node carries a [`Span`]: the byte offset Go records as the node's `Pos`, plus the
//! line and column Go prints in errors (`NAME:LINE:COL`, the column counted in bytes from 0).
//! The tree is plain data (`Send + Sync`): literals are stored as Rust values and turned into
//! runtime `Value`s by the evaluator; functions are resolved at parse time.

use std::fmt;

use crate::value::Func;

/// Where a token or node starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// Byte offset in the template source.
    pub offset: u32,
    /// 1-based line.
    pub line: u32,
    /// 0-based byte column, as Go's `ErrorContext` prints it.
    pub col: u32,
}

/// A variable name (with its `$`) and its interned id, which the evaluator compares.
#[derive(Clone, Debug)]
pub struct Var {
    pub name: Box<str>,
    pub id: u32,
}

impl Var {
    pub fn new(name: &str) -> Var {
        Var {
            name: name.into(),
            id: intern(name),
        }
    }
}

/// Interns a variable name; `$` is always 0.
pub fn intern(name: &str) -> u32 {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashMap<Box<str>, u32>>> = OnceLock::new();
    if name == "$" {
        return 0;
    }
    let m = NAMES.get_or_init(|| Mutex::new(HashMap::new()));
    let mut m = match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let next = m.len() as u32 + 1;
    *m.entry(name.into()).or_insert(next)
}

/// A list of nodes (a template body, the branch of an `if`, …).
pub type List = Vec<Node>;

/// A node of a template body.
#[derive(Debug)]
pub enum Node {
    /// Literal text, already trimmed by `{{-`/`-}}`.
    Text(Box<str>),
    /// `{{pipeline}}`: prints the value unless the pipeline declares variables.
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
    /// `{{template "name" pipeline}}` (also what `{{block}}` leaves in place).
    Template {
        span: Span,
        name: Box<str>,
        pipe: Option<Pipe>,
    },
    Break(Span),
    Continue(Span),
}

/// The shared shape of `if`, `with` and `range`.
#[derive(Debug)]
pub struct Branch {
    pub span: Span,
    pub pipe: Pipe,
    pub list: List,
    pub else_list: Option<List>,
}

/// A pipeline: optional variable declarations, then commands separated by `|`.
#[derive(Debug)]
pub struct Pipe {
    pub span: Span,
    /// `$x := …` or `$i, $v := …`.
    pub decl: Vec<Var>,
    /// `$x = …` rather than `$x := …`.
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

/// One command of a pipeline: a function, method or value with its arguments.
#[derive(Debug)]
pub struct Command {
    pub span: Span,
    pub args: Vec<Arg>,
}

/// How a function name resolved at parse time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Call,
    Include,
    Tpl,
}

impl Builtin {
    /// The builtins of Go's `text/template` plus Helm's engine functions.
    pub fn lookup(name: &str) -> Option<Builtin> {
        Some(match name {
            "and" => Builtin::And,
            "or" => Builtin::Or,
            "not" => Builtin::Not,
            "len" => Builtin::Len,
            "index" => Builtin::Index,
            "slice" => Builtin::Slice,
            "eq" => Builtin::Eq,
            "ne" => Builtin::Ne,
            "lt" => Builtin::Lt,
            "le" => Builtin::Le,
            "gt" => Builtin::Gt,
            "ge" => Builtin::Ge,
            "print" => Builtin::Print,
            "printf" => Builtin::Printf,
            "println" => Builtin::Println,
            "html" => Builtin::Html,
            "js" => Builtin::Js,
            "urlquery" => Builtin::Urlquery,
            "call" => Builtin::Call,
            "include" => Builtin::Include,
            "tpl" => Builtin::Tpl,
            _ => return None,
        })
    }
}

/// A resolved function.
#[derive(Clone, Copy)]
pub enum FuncRef {
    Builtin(Builtin),
    Plain(Func),
    /// Not known when parsing leniently (tests only); calling it is an error.
    Unknown,
}

impl fmt::Debug for FuncRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FuncRef::Builtin(b) => write!(f, "Builtin({b:?})"),
            FuncRef::Plain(_) => write!(f, "Plain"),
            FuncRef::Unknown => write!(f, "Unknown"),
        }
    }
}

/// A number literal with the value Go's `idealConstant` gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// A valid constant that does not fit an `int` (an execution error when used).
    Overflow,
}

/// An operand of a command.
#[derive(Debug)]
pub enum Arg {
    /// `.`
    Dot(Span),
    /// `nil`
    Nil(Span),
    Bool(Span, bool),
    /// `text` is the literal as written (Go prints it in error contexts).
    Number {
        span: Span,
        text: Box<str>,
        value: Number,
    },
    String {
        span: Span,
        quoted: Box<str>,
        value: Box<str>,
    },
    /// `.a.b.c`
    Field {
        span: Span,
        idents: Vec<Box<str>>,
    },
    /// `$x` or `$x.a.b`.
    Variable {
        span: Span,
        var: Var,
        idents: Vec<Box<str>>,
    },
    /// `(pipeline).a.b` and other terms followed by fields.
    Chain {
        span: Span,
        node: Box<Arg>,
        idents: Vec<Box<str>>,
    },
    /// A parenthesized pipeline.
    Pipe(Box<Pipe>),
    /// A function name.
    Ident {
        span: Span,
        name: Box<str>,
        func: FuncRef,
    },
}

impl Arg {
    pub fn span(&self) -> Span {
        match self {
            Arg::Dot(s) | Arg::Nil(s) | Arg::Bool(s, _) => *s,
            Arg::Number { span, .. }
            | Arg::String { span, .. }
            | Arg::Field { span, .. }
            | Arg::Variable { span, .. }
            | Arg::Chain { span, .. }
            | Arg::Ident { span, .. } => *span,
            Arg::Pipe(p) => p.span,
        }
    }
}

fn write_idents(f: &mut fmt::Formatter<'_>, idents: &[Box<str>]) -> fmt::Result {
    for i in idents {
        write!(f, ".{i}")?;
    }
    Ok(())
}

// `Display` reproduces Go's `Node.String()`, which error messages quote as `<context>`.
impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number { text, .. } => f.write_str(text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Field { idents, .. } => write_idents(f, idents),
            Arg::Variable { var, idents, .. } => {
                f.write_str(&var.name)?;
                write_idents(f, idents)
            }
            Arg::Chain { node, idents, .. } => {
                if let Arg::Pipe(p) = &**node {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                write_idents(f, idents)
            }
            Arg::Pipe(p) => write!(f, "{p}"),
            Arg::Ident { name, .. } => f.write_str(name),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            for (i, d) in self.decl.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(&d.name)?;
            }
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

/// Go's `parse.IsEmptyTree`: only whitespace text (and comments, already dropped).
pub fn is_empty_list(list: &List) -> bool {
    list.iter().all(|n| match n {
        Node::Text(t) => t
            .trim_matches([' ', '\t', '\r', '\n', '\x0b', '\x0c'])
            .is_empty(),
        _ => false,
    })
}
