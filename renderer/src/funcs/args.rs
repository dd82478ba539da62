//! Argument checks shared by all functions, with Go's `text/template` messages.
//!
//! Go converts each argument to the function's declared parameter type; a mismatch is
//! `wrong type for value; expected int; got float64`, a nil for a non-interface parameter is
//! `invalid value; expected string`, and a wrong count is
//! `wrong number of args for NAME: want N got M`.

use std::rc::Rc;

use crate::value::{FuncError, Value};

/// Checks the exact number of arguments.
pub fn want(name: &str, args: &[Value], n: usize) -> Result<(), FuncError> {
    if args.len() != n {
        return Err(FuncError::new(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// Checks at least `n` arguments (variadic functions).
pub fn want_at_least(name: &str, args: &[Value], n: usize) -> Result<(), FuncError> {
    if args.len() < n {
        return Err(FuncError::new(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            args.len()
        )));
    }
    Ok(())
}

fn wrong(expected: &str, got: &Value) -> FuncError {
    match got {
        Value::Nil => FuncError::new(format!("invalid value; expected {expected}")),
        v => FuncError::new(format!(
            "wrong type for value; expected {expected}; got {}",
            v.type_name()
        )),
    }
}

/// A `string` parameter.
pub fn string(args: &[Value], i: usize) -> Result<Rc<str>, FuncError> {
    match &args[i] {
        Value::String(s) => Ok(s.clone()),
        v => Err(wrong("string", v)),
    }
}

/// An `int` (or `int64`) parameter. Go converts no floats implicitly.
pub fn int(args: &[Value], i: usize) -> Result<i64, FuncError> {
    match &args[i] {
        Value::Int(n) => Ok(*n),
        v => Err(wrong("int", v)),
    }
}

/// A `bool` parameter.
pub fn boolean(args: &[Value], i: usize) -> Result<bool, FuncError> {
    match &args[i] {
        Value::Bool(b) => Ok(*b),
        v => Err(wrong("bool", v)),
    }
}

/// A `float64` parameter (untyped integer constants convert).
pub fn float(args: &[Value], i: usize) -> Result<f64, FuncError> {
    match &args[i] {
        Value::Float(f) => Ok(*f),
        Value::Int(n) => Ok(*n as f64),
        v => Err(wrong("float64", v)),
    }
}

/// A `[]interface{}` parameter.
pub fn list(args: &[Value], i: usize) -> Result<Rc<Vec<Value>>, FuncError> {
    match &args[i] {
        Value::List(l) => Ok(l.clone()),
        v => Err(wrong("[]interface {}", v)),
    }
}

/// A `map[string]interface{}` parameter.
pub fn map(args: &[Value], i: usize) -> Result<crate::value::MapRef, FuncError> {
    match &args[i] {
        Value::Map(m) => Ok(m.clone()),
        v => Err(wrong("map[string]interface {}", v)),
    }
}
