//! The evaluator: walks a tree against a value, as Go's `text/template/exec.go` does.
//!
//! 1. `exec_tree` starts a template with a fresh variable stack (`$` = dot).
//! 2. `walk` runs nodes: text, actions (printing the pipeline value, `<no value>` for nil),
//!    `if`/`with`/`range` (with `break`/`continue` as a returned [`Flow`]), `template`.
//! 3. `eval_pipeline` → `eval_command` → field chains, variables, function calls.
//!
//! Go distinguishes an "invalid" nil (a pipeline result, a variable, the data of an included
//! template: `.x` on it yields no value) from a nil `interface{}` (a map element or range
//! element: `.x` on it is `nil pointer evaluating interface {}.x`). [`Dot`] and variables carry
//! that bit (`iface`: the value's static Go type is `interface {}`).

use std::collections::HashMap;
use std::sync::Arc;

use super::ast::{Arg, Branch, Builtin, Command, FuncRef, List, Node, Number, Pipe, Span};
use super::builtins;
use super::parser::Tree;
use super::{Overlay, TemplateError, TemplateSet, ROOT_NAME};
use crate::fmt::quote_go;
use crate::value::{FuncCtx, FuncError, Value};

/// Helm's limit of nested `include`s of one name (`recursionMaxNums`).
const INCLUDE_MAX: usize = 1000;
/// Our limit of nested template executions (Go allows 100000, more than a native stack holds).
const MAX_DEPTH: usize = 10_000;

pub(super) type R<T> = Result<T, Box<TemplateError>>;

/// The dot, or a variable's value, with whether its static type is `interface {}`.
#[derive(Clone)]
pub(super) struct Dot {
    pub v: Value,
    pub iface: bool,
}

/// How a list finished: normally, or by `{{break}}`/`{{continue}}`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Normal,
    Break,
    Continue,
}

/// The node an error is reported at (Go's `s.at(node)`).
#[derive(Clone, Copy)]
pub(super) enum At<'n> {
    Arg(&'n Arg),
    Cmd(&'n Command),
    Pipe(&'n Pipe),
    Template(Span, &'n str),
}

impl At<'_> {
    fn span(&self) -> Span {
        match self {
            At::Arg(a) => a.span(),
            At::Cmd(c) => c.span,
            At::Pipe(p) => p.span,
            At::Template(s, _) => *s,
        }
    }
    fn context(&self) -> String {
        match self {
            At::Arg(a) => a.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Template(_, name) => format!("{{{{template {}}}}}", quote_go(name)),
        }
    }
}

pub(super) struct State<'a> {
    set: &'a TemplateSet,
    pub(super) ctx: &'a FuncCtx,
    strict: bool,
    /// The variable stack: interned name, value.
    vars: Vec<(u32, Dot)>,
    /// Where the current template's variables start (templates inherit no variables).
    base: usize,
    depth: usize,
    included: HashMap<Box<str>, usize>,
    overlays: Vec<Arc<Overlay>>,
    /// Arguments of plain function calls being evaluated.
    args: Vec<Value>,
    /// The stack address when the execution started, and how many bytes below it nested
    /// templates may use (deep `include` recursion would overflow the native stack).
    stack_top: usize,
    stack_budget: usize,
}

/// An address on the current stack (a local's), to measure how deep the evaluator is.
#[inline(never)]
fn stack_addr() -> usize {
    let x = 0u8;
    std::hint::black_box(&x) as *const u8 as usize
}

impl<'a> State<'a> {
    pub(super) fn new(
        set: &'a TemplateSet,
        ctx: &'a FuncCtx,
        strict: bool,
        stack_budget: usize,
    ) -> State<'a> {
        State {
            stack_top: stack_addr(),
            stack_budget,
            set,
            ctx,
            strict,
            vars: Vec::with_capacity(16),
            base: 0,
            depth: 0,
            included: HashMap::new(),
            overlays: Vec::new(),
            args: Vec::with_capacity(32),
        }
    }

    /// Runs `tree` with `dot`, appending to `out`.
    pub(super) fn exec_tree(&mut self, tree: &Tree, dot: Value, out: &mut String) -> R<()> {
        let old_base = self.base;
        let old_len = self.vars.len();
        self.base = old_len;
        let dot = Dot {
            v: dot,
            iface: false,
        };
        self.vars.push((0, dot.clone()));
        self.depth += 1;
        let used = self.stack_top.saturating_sub(stack_addr());
        let r = if self.depth > MAX_DEPTH || used > self.stack_budget {
            Err(self.errorf_plain(
                tree,
                &format!("exceeded maximum template depth ({MAX_DEPTH})"),
            ))
        } else {
            self.walk(tree, &dot, &tree.root, out).map(|_| ())
        };
        self.depth -= 1;
        self.vars.truncate(old_len);
        self.base = old_base;
        r
    }

    fn find_template(&self, name: &str) -> Option<Arc<Tree>> {
        for o in self.overlays.iter().rev() {
            if let Some(t) = o.defs.get(name) {
                return Some(t.clone());
            }
        }
        self.set.lookup(name).cloned()
    }

    // ---- errors ----

    fn errorf_plain(&self, tree: &Tree, msg: &str) -> Box<TemplateError> {
        let m = format!("template: {}: {}", tree.name, msg);
        Box::new(TemplateError {
            chain: vec![m.clone()],
            message: m,
            exec: true,
        })
    }

    /// Go's `s.errorf` at a node: `template: FILE:LINE:COL: executing "NAME" at <CTX>: MSG`.
    pub(super) fn errorf(&self, tree: &Tree, at: At<'_>, msg: &str) -> Box<TemplateError> {
        let m = self.located(tree, at, msg);
        Box::new(TemplateError {
            chain: vec![m.clone()],
            message: m,
            exec: true,
        })
    }

    fn located(&self, tree: &Tree, at: At<'_>, msg: &str) -> String {
        let span = at.span();
        format!(
            "template: {}:{}:{}: executing {} at <{}>: {}",
            tree.parse_name,
            span.line,
            span.col,
            quote_go(&tree.name),
            at.context(),
            msg
        )
    }

    /// `error calling NAME: %w` wrapping an inner chain.
    fn wrap_err(
        &self,
        tree: &Tree,
        at: At<'_>,
        name: &str,
        inner_msg: &str,
        inner_chain: Vec<String>,
    ) -> Box<TemplateError> {
        let m = self.located(tree, at, &format!("error calling {name}: {inner_msg}"));
        let mut chain = Vec::with_capacity(inner_chain.len() + 1);
        chain.push(m.clone());
        chain.extend(inner_chain);
        Box::new(TemplateError {
            chain,
            message: m,
            exec: true,
        })
    }

    fn func_error(&self, tree: &Tree, at: At<'_>, name: &str, e: FuncError) -> Box<TemplateError> {
        let msg = e.message;
        // Go reports argument conversion errors without "error calling".
        if msg.starts_with("wrong type for value;")
            || msg.starts_with("invalid value; expected")
            || msg.starts_with("wrong number of args for")
        {
            return self.errorf(tree, at, &msg);
        }
        let msg = if e.raw && !msg.contains("HELM_ERR_START") {
            format!("HELM_ERR_START{msg}HELM_ERR_END")
        } else {
            msg
        };
        self.wrap_err(tree, at, name, &msg.clone(), vec![msg])
    }

    // ---- variables ----

    fn var_value(&self, tree: &Tree, at: At<'_>, id: u32, name: &str) -> R<Dot> {
        for (vid, d) in self.vars[self.base..].iter().rev() {
            if *vid == id {
                return Ok(d.clone());
            }
        }
        Err(self.errorf(tree, at, &format!("undefined variable: {name}")))
    }

    fn set_var(&mut self, tree: &Tree, at: At<'_>, id: u32, name: &str, v: Dot) -> R<()> {
        let base = self.base;
        for (vid, d) in self.vars[base..].iter_mut().rev() {
            if *vid == id {
                *d = v;
                return Ok(());
            }
        }
        Err(self.errorf(tree, at, &format!("undefined variable: {name}")))
    }

    // ---- walking ----

    fn walk(&mut self, tree: &Tree, dot: &Dot, list: &List, out: &mut String) -> R<Flow> {
        for node in list {
            let flow = match node {
                Node::Text(t) => {
                    out.push_str(t);
                    Flow::Normal
                }
                Node::Action(pipe) => {
                    let v = self.eval_pipeline(tree, dot, pipe)?;
                    if pipe.decl.is_empty() {
                        match &v {
                            Value::Nil => out.push_str("<no value>"),
                            Value::String(s) => out.push_str(s),
                            v => crate::fmt::write_value(out, v),
                        }
                    }
                    Flow::Normal
                }
                Node::If(b) => self.walk_if_with(tree, dot, b, false, out)?,
                Node::With(b) => self.walk_if_with(tree, dot, b, true, out)?,
                Node::Range(b) => {
                    self.walk_range(tree, dot, b, out)?;
                    Flow::Normal
                }
                Node::Template { span, name, pipe } => {
                    self.walk_template(tree, dot, *span, name, pipe.as_ref(), out)?;
                    Flow::Normal
                }
                Node::Break(_) => return Ok(Flow::Break),
                Node::Continue(_) => return Ok(Flow::Continue),
            };
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_if_with(
        &mut self,
        tree: &Tree,
        dot: &Dot,
        b: &Branch,
        with: bool,
        out: &mut String,
    ) -> R<Flow> {
        let mark = self.vars.len();
        let r = (|| {
            let v = self.eval_pipeline(tree, dot, &b.pipe)?;
            if v.truthy() {
                if with {
                    let d = Dot { v, iface: false };
                    self.walk(tree, &d, &b.list, out)
                } else {
                    self.walk(tree, dot, &b.list, out)
                }
            } else if let Some(e) = &b.else_list {
                self.walk(tree, dot, e, out)
            } else {
                Ok(Flow::Normal)
            }
        })();
        self.vars.truncate(mark);
        r
    }

    fn walk_range(&mut self, tree: &Tree, dot: &Dot, b: &Branch, out: &mut String) -> R<()> {
        let mark = self.vars.len();
        let r = self.walk_range_inner(tree, dot, b, out);
        self.vars.truncate(mark);
        r
    }

    fn range_iteration(
        &mut self,
        tree: &Tree,
        b: &Branch,
        index: impl FnOnce() -> Value,
        elem: Dot,
        out: &mut String,
    ) -> R<Flow> {
        let decl = &b.pipe.decl;
        let at = At::Pipe(&b.pipe);
        let mark = self.vars.len();
        if !decl.is_empty() {
            if b.pipe.is_assign {
                if decl.len() > 1 {
                    let i = Dot {
                        v: index(),
                        iface: false,
                    };
                    self.set_var(tree, at, decl[0].id, &decl[0].name, i)?;
                    self.set_var(tree, at, decl[1].id, &decl[1].name, elem.clone())?;
                } else {
                    self.set_var(tree, at, decl[0].id, &decl[0].name, elem.clone())?;
                }
            } else {
                self.vars[mark - 1].1 = elem.clone();
                if decl.len() > 1 {
                    self.vars[mark - 2].1 = Dot {
                        v: index(),
                        iface: false,
                    };
                }
            }
        }
        let r = self.walk(tree, &elem, &b.list, out);
        self.vars.truncate(mark);
        r
    }

    fn walk_range_inner(&mut self, tree: &Tree, dot: &Dot, b: &Branch, out: &mut String) -> R<()> {
        let mut val = self.eval_pipeline(tree, dot, &b.pipe)?;
        if let Value::Object(o) = &val {
            if let Some(v) = o.as_value() {
                val = v;
            }
        }
        let mut ran = false;
        match &val {
            Value::List(l) => {
                let l = l.clone();
                for (i, e) in l.iter().enumerate() {
                    ran = true;
                    let elem = Dot {
                        v: e.clone(),
                        iface: true,
                    };
                    if self.range_iteration(tree, b, || Value::Int(i as i64), elem, out)?
                        == Flow::Break
                    {
                        break;
                    }
                }
            }
            Value::Map(m) => {
                let entries: Vec<(String, Value)> = m
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (k, v) in entries {
                    ran = true;
                    let elem = Dot { v, iface: true };
                    if self.range_iteration(tree, b, || Value::string(k), elem, out)? == Flow::Break
                    {
                        break;
                    }
                }
            }
            Value::Bytes(bs) => {
                let bs = bs.clone();
                for (i, x) in bs.iter().enumerate() {
                    ran = true;
                    let elem = Dot {
                        v: Value::Int(*x as i64),
                        iface: false,
                    };
                    if self.range_iteration(tree, b, || Value::Int(i as i64), elem, out)?
                        == Flow::Break
                    {
                        break;
                    }
                }
            }
            Value::Int(n) => {
                if b.pipe.decl.len() > 1 {
                    return Err(self.errorf(
                        tree,
                        last_at(&b.pipe),
                        &format!("can't use {n} to iterate over more than one variable"),
                    ));
                }
                for i in 0..*n {
                    ran = true;
                    let elem = Dot {
                        v: Value::Int(i),
                        iface: false,
                    };
                    if self.range_iteration(tree, b, || Value::Nil, elem, out)? == Flow::Break {
                        break;
                    }
                }
            }
            Value::Nil => {}
            v => {
                return Err(self.errorf(
                    tree,
                    last_at(&b.pipe),
                    &format!("range can't iterate over {}", crate::fmt::sprint_v(v)),
                ))
            }
        }
        if !ran {
            if let Some(e) = &b.else_list {
                self.walk(tree, dot, e, out)?;
            }
        }
        Ok(())
    }

    fn walk_template(
        &mut self,
        tree: &Tree,
        dot: &Dot,
        span: Span,
        name: &str,
        pipe: Option<&Pipe>,
        out: &mut String,
    ) -> R<()> {
        let at = At::Template(span, name);
        let Some(t) = self.find_template(name) else {
            return Err(self.errorf(
                tree,
                at,
                &format!("template {} not defined", quote_go(name)),
            ));
        };
        let v = match pipe {
            Some(p) => self.eval_pipeline(tree, dot, p)?,
            None => Value::Nil,
        };
        if self.depth >= MAX_DEPTH {
            return Err(self.errorf(
                tree,
                at,
                &format!("exceeded maximum template depth ({MAX_DEPTH})"),
            ));
        }
        self.exec_tree(&t, v, out)
    }

    // ---- evaluation ----

    pub(super) fn eval_pipeline(&mut self, tree: &Tree, dot: &Dot, pipe: &Pipe) -> R<Value> {
        let mut val: Option<Value> = None;
        for cmd in &pipe.cmds {
            val = Some(self.eval_command(tree, dot, cmd, val)?);
        }
        let v = val.unwrap_or(Value::Nil);
        for d in &pipe.decl {
            let dv = Dot {
                v: v.clone(),
                iface: false,
            };
            if pipe.is_assign {
                self.set_var(tree, last_at(pipe), d.id, &d.name, dv)?;
            } else {
                self.vars.push((d.id, dv));
            }
        }
        Ok(v)
    }

    fn not_a_function(&self, tree: &Tree, args: &[Arg], has_final: bool) -> R<()> {
        if args.len() > 1 || has_final {
            let first = &args[0];
            return Err(self.errorf(
                tree,
                At::Arg(first),
                &format!("can't give argument to non-function {first}"),
            ));
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        tree: &Tree,
        dot: &Dot,
        cmd: &Command,
        fin: Option<Value>,
    ) -> R<Value> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                let d = self.eval_field_chain(
                    tree,
                    dot,
                    dot.clone(),
                    At::Arg(first),
                    idents,
                    &cmd.args,
                    fin,
                )?;
                return Ok(d.v);
            }
            Arg::Chain { node, idents, .. } => {
                let recv = self.eval_chain_base(tree, dot, first, node)?;
                let at = chain_at(node);
                let d = self.eval_field_chain(tree, dot, recv, at, idents, &cmd.args, fin)?;
                return Ok(d.v);
            }
            Arg::Ident { name, func, .. } => {
                return self.eval_function(
                    tree,
                    dot,
                    first,
                    name,
                    *func,
                    At::Cmd(cmd),
                    &cmd.args,
                    fin,
                );
            }
            Arg::Pipe(p) => {
                self.not_a_function(tree, &cmd.args, fin.is_some())?;
                return self.eval_pipeline(tree, dot, p);
            }
            Arg::Variable { var, idents, .. } => {
                let v = self.var_value(tree, At::Arg(first), var.id, &var.name)?;
                if idents.is_empty() {
                    self.not_a_function(tree, &cmd.args, fin.is_some())?;
                    return Ok(v.v);
                }
                let d =
                    self.eval_field_chain(tree, dot, v, At::Arg(first), idents, &cmd.args, fin)?;
                return Ok(d.v);
            }
            _ => {}
        }
        self.not_a_function(tree, &cmd.args, fin.is_some())?;
        match first {
            Arg::Bool(_, b) => Ok(Value::Bool(*b)),
            Arg::Dot(_) => Ok(dot.v.clone()),
            Arg::Nil(_) => Err(self.errorf(tree, At::Arg(first), "nil is not a command")),
            Arg::Number { .. } => self.constant(tree, first),
            Arg::String { value, .. } => Ok(Value::str(value)),
            _ => Err(self.errorf(
                tree,
                At::Arg(first),
                &format!("can't evaluate command {}", quote_go(&first.to_string())),
            )),
        }
    }

    fn constant(&self, tree: &Tree, arg: &Arg) -> R<Value> {
        match arg {
            Arg::Number { value, text, .. } => match value {
                Number::Int(i) => Ok(Value::Int(*i)),
                Number::Float(f) => Ok(Value::Float(*f)),
                Number::Overflow => {
                    Err(self.errorf(tree, At::Arg(arg), &format!("{text} overflows int")))
                }
            },
            _ => Ok(Value::Nil),
        }
    }

    fn eval_chain_base(&mut self, tree: &Tree, dot: &Dot, chain: &Arg, node: &Arg) -> R<Dot> {
        if let Arg::Nil(_) = node {
            return Err(self.errorf(
                tree,
                At::Arg(chain),
                &format!("indirection through explicit nil in {chain}"),
            ));
        }
        self.eval_arg(tree, dot, node)
    }

    /// An argument of a function (Go's `evalArg` for an `interface{}` parameter).
    pub(super) fn eval_arg(&mut self, tree: &Tree, dot: &Dot, arg: &Arg) -> R<Dot> {
        let plain = |v| Dot { v, iface: false };
        Ok(match arg {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => Dot {
                v: Value::Nil,
                iface: true,
            },
            Arg::Bool(_, b) => plain(Value::Bool(*b)),
            Arg::Number { .. } => plain(self.constant(tree, arg)?),
            Arg::String { value, .. } => plain(Value::str(value)),
            Arg::Field { idents, .. } => self.eval_field_chain(
                tree,
                dot,
                dot.clone(),
                At::Arg(arg),
                idents,
                std::slice::from_ref(arg),
                None,
            )?,
            Arg::Variable { var, idents, .. } => {
                let v = self.var_value(tree, At::Arg(arg), var.id, &var.name)?;
                if idents.is_empty() {
                    v
                } else {
                    self.eval_field_chain(tree, dot, v, At::Arg(arg), idents, &[], None)?
                }
            }
            Arg::Pipe(p) => plain(self.eval_pipeline(tree, dot, p)?),
            Arg::Ident { name, func, .. } => {
                let v = self.eval_function(tree, dot, arg, name, *func, At::Arg(arg), &[], None)?;
                Dot {
                    iface: matches!(v, Value::Nil),
                    v,
                }
            }
            Arg::Chain { node, idents, .. } => {
                let recv = self.eval_chain_base(tree, dot, arg, node)?;
                self.eval_field_chain(tree, dot, recv, chain_at(node), idents, &[], None)?
            }
        })
    }

    /// `.a.b.c` on `recv`; the last field gets `args` (`args[0]` is the field itself).
    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        tree: &Tree,
        dot: &Dot,
        mut recv: Dot,
        at: At<'_>,
        idents: &[Box<str>],
        args: &[Arg],
        fin: Option<Value>,
    ) -> R<Dot> {
        let n = idents.len();
        for id in &idents[..n - 1] {
            recv = self.eval_field(tree, dot, id, at, &[], None, recv)?;
        }
        self.eval_field(tree, dot, &idents[n - 1], at, args, fin, recv)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        tree: &Tree,
        dot: &Dot,
        name: &str,
        at: At<'_>,
        args: &[Arg],
        fin: Option<Value>,
        recv: Dot,
    ) -> R<Dot> {
        let has_args = args.len() > 1 || fin.is_some();
        match &recv.v {
            Value::Nil => {
                if !recv.iface {
                    if self.strict {
                        return Err(self.errorf(
                            tree,
                            at,
                            &format!("nil data; no entry for key {}", quote_go(name)),
                        ));
                    }
                    return Ok(Dot {
                        v: Value::Nil,
                        iface: false,
                    });
                }
                Err(self.errorf(
                    tree,
                    at,
                    &format!("nil pointer evaluating interface {{}}.{name}"),
                ))
            }
            Value::Map(m) => {
                if VALUES_METHODS.contains(&name) && !m.borrow().contains_key(name) {
                    let m = m.clone();
                    return self.values_method(tree, dot, at, name, m, args, fin);
                }
                if has_args {
                    return Err(self.errorf(
                        tree,
                        at,
                        &format!("{name} is not a method but has arguments"),
                    ));
                }
                let found = m.borrow().get(name).cloned();
                match found {
                    Some(v) => Ok(Dot { v, iface: true }),
                    None if self.strict => Err(self.errorf(
                        tree,
                        at,
                        &format!("map has no entry for key {}", quote_go(name)),
                    )),
                    None => Ok(Dot {
                        v: Value::Nil,
                        iface: true,
                    }),
                }
            }
            Value::Object(o) => {
                let o = o.clone();
                if o.has_method(name) {
                    let mut vals = Vec::with_capacity(args.len());
                    for a in args.iter().skip(1) {
                        vals.push(self.eval_arg(tree, dot, a)?.v);
                    }
                    if let Some(f) = fin {
                        vals.push(f);
                    }
                    return match o.call_method(name, &vals) {
                        Ok(v) => Ok(Dot {
                            iface: matches!(v, Value::Nil),
                            v,
                        }),
                        Err(e) => Err(self.func_error(tree, at, name, e)),
                    };
                }
                match o.field(name) {
                    Some(v) => {
                        if has_args {
                            return Err(self.errorf(
                                tree,
                                at,
                                &format!("{name} has arguments but cannot be invoked as function"),
                            ));
                        }
                        Ok(Dot {
                            iface: matches!(v, Value::Nil),
                            v,
                        })
                    }
                    None => match o.as_value() {
                        // A map type with methods: other names are keys.
                        Some(m @ Value::Map(_)) => {
                            let recv = Dot { v: m, iface: false };
                            self.eval_field(tree, dot, name, at, args, fin, recv)
                        }
                        _ => Err(self.errorf(
                            tree,
                            at,
                            &format!("can't evaluate field {name} in type {}", o.type_name()),
                        )),
                    },
                }
            }
            v => {
                let typ = if recv.iface {
                    "interface {}".to_string()
                } else {
                    v.type_name()
                };
                Err(self.errorf(
                    tree,
                    at,
                    &format!("can't evaluate field {name} in type {typ}"),
                ))
            }
        }
    }

    /// A method of Helm's `chartutil.Values` (the type of `.Values` and `.Template`), called on
    /// a map that has no key of that name. Go looks methods up before keys, and only on that
    /// named type; we cannot tell it from a plain map, so any map without such a key has them.
    #[allow(clippy::too_many_arguments)]
    fn values_method(
        &mut self,
        tree: &Tree,
        dot: &Dot,
        at: At<'_>,
        name: &str,
        m: crate::value::MapRef,
        args: &[Arg],
        fin: Option<Value>,
    ) -> R<Dot> {
        let mut vals = Vec::new();
        for a in args.iter().skip(1) {
            vals.push(self.eval_arg(tree, dot, a)?.v);
        }
        if let Some(f) = fin {
            vals.push(f);
        }
        let want = if matches!(name, "Table" | "PathValue" | "Encode") {
            1
        } else {
            0
        };
        if vals.len() != want {
            return Err(self.errorf(
                tree,
                at,
                &format!(
                    "wrong number of args for {name}: want {want} got {}",
                    vals.len()
                ),
            ));
        }
        let plain = |v| Ok(Dot { v, iface: false });
        let fail = |s: &Self, msg: String| Err(s.wrap_err(tree, at, name, &msg.clone(), vec![msg]));
        let arg = match vals.first() {
            Some(Value::String(p)) => p.to_string(),
            Some(v) => {
                let got = if matches!(v, Value::Nil) {
                    "invalid value; expected string".to_string()
                } else {
                    format!(
                        "wrong type for value; expected string; got {}",
                        v.type_name()
                    )
                };
                return Err(self.errorf(tree, at, &got));
            }
            None => String::new(),
        };
        match name {
            "AsMap" => plain(Value::Map(m)),
            "YAML" => match crate::funcs::lookup("toYaml") {
                Some(f) => match f(self.ctx, &[Value::Map(m)]) {
                    Ok(Value::String(y)) => plain(Value::string(format!("{y}\n"))),
                    Ok(v) => plain(v),
                    Err(e) => fail(self, e.message),
                },
                None => fail(self, "toYaml is not available".into()),
            },
            "Table" => match values_table(&m, &arg) {
                Ok(t) => plain(t),
                Err(k) => fail(self, format!("{} is not a table", quote_go(&k))),
            },
            "PathValue" => {
                if arg.is_empty() {
                    return fail(self, "YAML path cannot be empty".into());
                }
                let path: Vec<&str> = arg.split('.').collect();
                let (key, table) = path
                    .split_last()
                    .map(|(k, t)| (*k, t.join(".")))
                    .unwrap_or(("", String::new()));
                let t = if path.len() == 1 {
                    Ok(Value::Map(m))
                } else {
                    values_table(&m, &table)
                };
                let found = match t {
                    Ok(Value::Map(t)) => t.borrow().get(key).cloned(),
                    _ => None,
                };
                match found {
                    Some(v) if !matches!(v, Value::Map(_)) => Ok(Dot { v, iface: true }),
                    _ => fail(self, format!("{} is not a value", quote_go(key))),
                }
            }
            _ => fail(self, "can't encode to a writer in a template".into()),
        }
    }

    /// A function call; `args[0]` is the function name when there are arguments.
    #[allow(clippy::too_many_arguments)]
    fn eval_function(
        &mut self,
        tree: &Tree,
        dot: &Dot,
        ident: &Arg,
        name: &str,
        func: FuncRef,
        call_at: At<'_>,
        args: &[Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let rest = if args.is_empty() { args } else { &args[1..] };
        match func {
            FuncRef::Unknown => Err(self.errorf(
                tree,
                At::Arg(ident),
                &format!("{} is not a defined function", quote_go(name)),
            )),
            FuncRef::Builtin(b @ (Builtin::And | Builtin::Or)) => {
                if rest.is_empty() && fin.is_none() {
                    return Err(self.errorf(
                        tree,
                        At::Arg(ident),
                        &format!("wrong number of args for {name}: want at least 1 got 0"),
                    ));
                }
                let want = b == Builtin::Or;
                let mut v = Value::Nil;
                for a in rest {
                    v = self.eval_arg(tree, dot, a)?.v;
                    if v.truthy() == want {
                        return Ok(v);
                    }
                }
                if let Some(f) = fin {
                    v = f;
                }
                Ok(v)
            }
            FuncRef::Builtin(b) => {
                builtins::check_arity(b, name, rest.len(), fin.is_some())
                    .map_err(|m| self.errorf(tree, At::Arg(ident), &m))?;
                let mut vals = Vec::with_capacity(rest.len() + 1);
                let mut iface = Vec::with_capacity(rest.len() + 1);
                for a in rest {
                    let (v, i) = self.eval_typed_arg(tree, dot, b, vals.len(), a)?;
                    vals.push(v);
                    iface.push(i);
                }
                if let Some(f) = fin {
                    vals.push(f);
                    iface.push(false);
                }
                match b {
                    Builtin::Include => self.include(tree, call_at, vals),
                    Builtin::Tpl => self.tpl(tree, call_at, vals),
                    _ => {
                        let first = rest.first().map(|a| a.to_string()).unwrap_or_default();
                        builtins::call(b, &vals, &iface, &first).map_err(|m| {
                            let m2 = m.clone();
                            self.wrap_err(tree, call_at, name, &m, vec![m2])
                        })
                    }
                }
            }
            FuncRef::Plain(f) => {
                // Arguments go on a shared stack (no allocation per call); nested calls made
                // while evaluating them push above and truncate back.
                let base = self.args.len();
                for a in rest {
                    match self.eval_arg(tree, dot, a) {
                        Ok(d) => self.args.push(d.v),
                        Err(e) => {
                            self.args.truncate(base);
                            return Err(e);
                        }
                    }
                }
                if let Some(f) = fin {
                    self.args.push(f);
                }
                let r = f(self.ctx, &self.args[base..]);
                self.args.truncate(base);
                r.map_err(|e| self.func_error(tree, call_at, name, e))
            }
        }
    }

    /// Arguments of builtins with a `string` first parameter are converted as Go does.
    fn eval_typed_arg(
        &mut self,
        tree: &Tree,
        dot: &Dot,
        b: Builtin,
        i: usize,
        a: &Arg,
    ) -> R<(Value, bool)> {
        let wants_string = i == 0 && matches!(b, Builtin::Printf | Builtin::Include | Builtin::Tpl);
        if !wants_string {
            let d = self.eval_arg(tree, dot, a)?;
            return Ok((d.v, d.iface));
        }
        match a {
            Arg::String { value, .. } => Ok((Value::str(value), false)),
            Arg::Bool(..) | Arg::Number { .. } => {
                Err(self.errorf(tree, At::Arg(a), &format!("expected string; found {a}")))
            }
            Arg::Nil(_) => Err(self.errorf(tree, At::Arg(a), "cannot assign nil to string")),
            _ => {
                let d = self.eval_arg(tree, dot, a)?;
                match &d.v {
                    Value::String(_) => Ok((d.v, false)),
                    Value::Nil if !d.iface => {
                        Err(self.errorf(tree, At::Arg(a), "invalid value; expected string"))
                    }
                    v => {
                        let got = if matches!(v, Value::Nil) {
                            "interface {}".to_string()
                        } else {
                            v.type_name()
                        };
                        Err(self.errorf(
                            tree,
                            At::Arg(a),
                            &format!("wrong type for value; expected string; got {got}"),
                        ))
                    }
                }
            }
        }
    }

    fn include(&mut self, tree: &Tree, at: At<'_>, vals: Vec<Value>) -> R<Value> {
        let mut it = vals.into_iter();
        let name_v = it.next().unwrap_or(Value::Nil);
        let data = it.next().unwrap_or(Value::Nil);
        let name = name_v.as_str().unwrap_or("");
        let count = self.included.get(name).copied().unwrap_or(0);
        if count > INCLUDE_MAX {
            let inner = "unable to execute template".to_string();
            let msg = format!("rendering template has a nested reference name: {name}: {inner}");
            return Err(self.wrap_err(tree, at, "include", &msg.clone(), vec![msg, inner]));
        }
        match self.included.get_mut(name) {
            Some(c) => *c += 1,
            None => {
                self.included.insert(name.into(), 1);
            }
        }
        let r = match self.find_template(name) {
            Some(t) => {
                let mut buf = String::new();
                self.exec_tree(&t, data, &mut buf).map(|_| buf)
            }
            None => Err(Box::new(TemplateError::plain(format!(
                "template: no template {} associated with template {}",
                quote_go(name),
                quote_go(ROOT_NAME)
            )))),
        };
        if let Some(c) = self.included.get_mut(name) {
            *c = c.saturating_sub(1);
        }
        match r {
            Ok(s) => Ok(Value::string(s)),
            Err(e) => Err(self.wrap_err(tree, at, "include", &e.message, e.chain)),
        }
    }

    fn tpl(&mut self, tree: &Tree, at: At<'_>, vals: Vec<Value>) -> R<Value> {
        let mut it = vals.into_iter();
        let text = it.next().unwrap_or(Value::Nil);
        let data = it.next().unwrap_or(Value::Nil);
        let text = text.as_str().unwrap_or("");
        let overlay = match self.set.tpl_overlay(text) {
            Ok(o) => o,
            Err(pe) => {
                let msg = format!("cannot parse template {}: {pe}", quote_go(text));
                return Err(self.wrap_err(tree, at, "tpl", &msg.clone(), vec![msg, pe]));
            }
        };
        let main = overlay.main.clone();
        self.overlays.push(overlay);
        let mut buf = String::new();
        let r = self.exec_tree(&main, data, &mut buf);
        self.overlays.pop();
        match r {
            Ok(()) => Ok(Value::string(buf.replace("<no value>", ""))),
            Err(e) => {
                let msg = format!(
                    "error during tpl function execution for {}: {}",
                    quote_go(text),
                    e.message
                );
                let mut chain = vec![msg.clone()];
                chain.extend(e.chain);
                Err(self.wrap_err(tree, at, "tpl", &msg, chain))
            }
        }
    }
}

/// Methods of Helm's `chartutil.Values`.
const VALUES_METHODS: &[&str] = &["AsMap", "YAML", "Table", "PathValue", "Encode"];

/// `Values.Table`: the sub-map at a dotted path, or the key that is not a table.
fn values_table(m: &crate::value::MapRef, name: &str) -> Result<Value, String> {
    let mut cur = m.clone();
    for part in name.split('.') {
        let next = match cur.borrow().get(part) {
            Some(Value::Map(n)) => n.clone(),
            _ => return Err(part.to_string()),
        };
        cur = next;
    }
    Ok(Value::Map(cur))
}

/// The node Go's state points at after evaluating the base of `(base).field`.
fn chain_at(node: &Arg) -> At<'_> {
    match node {
        Arg::Pipe(p) => last_at(p),
        n => At::Arg(n),
    }
}

/// The node Go's state points at after evaluating a pipeline (for `range` errors).
fn last_at(p: &Pipe) -> At<'_> {
    match p.cmds.last() {
        Some(c) => match c.args.first() {
            Some(a @ Arg::Ident { .. }) => match c.args.last() {
                Some(l) if c.args.len() > 1 => At::Arg(l),
                _ => At::Arg(a),
            },
            Some(a) => At::Arg(a),
            None => At::Pipe(p),
        },
        None => At::Pipe(p),
    }
}
