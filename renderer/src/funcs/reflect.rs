//! Sprig's reflection functions: `typeOf`, `typeIs`, `typeIsLike`, `kindOf`, `kindIs`,
//! `deepEqual` (Go's `reflect.DeepEqual`: an `int` never equals a `float64`).

use std::collections::HashMap;
use std::rc::Rc;

use super::args;
use crate::value::{Func, FuncCtx, FuncError, Value};

/// Nesting depth beyond which `deep_equal` gives up (cyclic values built with `set`).
const MAX_DEPTH: usize = 10_000;

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("typeOf", |_, a| {
        args::want("typeOf", a, 1)?;
        Ok(Value::string(a[0].type_name()))
    });
    m.insert("typeIs", |_, a| {
        args::want("typeIs", a, 2)?;
        let t = args::string(a, 0)?;
        Ok(Value::Bool(*t == *a[1].type_name()))
    });
    m.insert("typeIsLike", |_, a| {
        args::want("typeIsLike", a, 2)?;
        let t = args::string(a, 0)?;
        let actual = a[1].type_name();
        Ok(Value::Bool(*t == *actual || format!("*{t}") == actual))
    });
    m.insert("kindOf", |_, a| {
        args::want("kindOf", a, 1)?;
        Ok(Value::str(a[0].kind_name()))
    });
    m.insert("kindIs", |_, a| {
        args::want("kindIs", a, 2)?;
        let t = args::string(a, 0)?;
        Ok(Value::Bool(*t == *a[1].kind_name()))
    });
    m.insert("deepEqual", deep_equal_fn);
}

fn deep_equal_fn(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("deepEqual", a, 2)?;
    Ok(Value::Bool(deep_equal(&a[0], &a[1])))
}

/// Go's `reflect.DeepEqual` on template values.
pub(super) fn deep_equal(a: &Value, b: &Value) -> bool {
    eq_at(a, b, 0)
}

fn eq_at(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            Rc::ptr_eq(x, y)
                || (x.len() == y.len()
                    && x.iter().zip(y.iter()).all(|(p, q)| eq_at(p, q, depth + 1)))
        }
        (Value::Map(x), Value::Map(y)) => {
            if Rc::ptr_eq(x, y) {
                return true;
            }
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len()
                && x.iter().all(|(k, v)| match y.get(k) {
                    Some(w) => eq_at(v, w, depth + 1),
                    None => false,
                })
        }
        (Value::Object(x), Value::Object(y)) => {
            Rc::ptr_eq(x, y) || (x.type_name() == y.type_name() && x.go_string() == y.go_string())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, a: &[Value]) -> String {
        let mut m = HashMap::new();
        register(&mut m);
        crate::fmt::sprint_v(&m[name](&FuncCtx::default(), a).expect("call"))
    }

    #[test]
    fn types_and_kinds() {
        assert_eq!(call("typeOf", &[Value::Int(1)]), "int");
        assert_eq!(call("typeOf", &[Value::Float(1.0)]), "float64");
        assert_eq!(call("typeOf", &[Value::Nil]), "<nil>");
        assert_eq!(call("typeOf", &[Value::list(vec![])]), "[]interface {}");
        assert_eq!(
            call("typeOf", &[Value::empty_map()]),
            "map[string]interface {}"
        );
        assert_eq!(call("kindOf", &[Value::empty_map()]), "map");
        assert_eq!(call("kindOf", &[Value::list(vec![])]), "slice");
        assert_eq!(call("kindOf", &[Value::Nil]), "invalid");
        assert_eq!(
            call("kindIs", &[Value::str("string"), Value::str("x")]),
            "true"
        );
        assert_eq!(
            call("typeIs", &[Value::str("int"), Value::Float(1.0)]),
            "false"
        );
        assert_eq!(
            call("typeIsLike", &[Value::str("int"), Value::Int(1)]),
            "true"
        );
    }

    #[test]
    fn deep_equality() {
        let m1 = Value::map([("a".to_string(), Value::list(vec![Value::Int(1)]))].into());
        let m2 = Value::map([("a".to_string(), Value::list(vec![Value::Int(1)]))].into());
        assert!(deep_equal(&m1, &m2));
        assert!(!deep_equal(&Value::Int(1), &Value::Float(1.0)));
        assert!(!deep_equal(&Value::Nil, &Value::list(vec![])));
        assert!(deep_equal(&Value::Nil, &Value::Nil));
        assert!(!deep_equal(
            &Value::Float(f64::NAN),
            &Value::Float(f64::NAN)
        ));
    }
}
