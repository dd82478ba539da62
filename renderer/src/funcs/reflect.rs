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

/// Differential testing against Helm itself (`helm-oracle`, when `helm_python` is installed):
/// each case `(function, args)` is rendered by Helm as `{{ function ARGS }}` and by our
/// registry, and the printed results (or error messages) must agree.
#[cfg(test)]
pub(super) mod oracle {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use crate::fmt::{format_float_v, sprint_v};
    use crate::value::{FuncCtx, Value};

    /// Whether the oracle can run here.
    pub(in crate::funcs) fn available() -> bool {
        std::process::Command::new("python3")
            .args(["-c", "import helm_python"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// The template literal (or expression) producing `v`.
    pub(in crate::funcs) fn go_literal(v: &Value) -> String {
        match v {
            Value::Nil => "nil".into(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => {
                let s = format_float_v(*f);
                if s.contains(['.', 'e']) {
                    s
                } else {
                    format!("{s}.0")
                }
            }
            Value::String(s) => super::super::strings::go_quote(s),
            Value::List(l) => {
                let items: Vec<String> = l.iter().map(go_literal).collect();
                format!("(list {})", items.join(" "))
            }
            Value::Map(m) => {
                let items: Vec<String> = m
                    .borrow()
                    .iter()
                    .map(|(k, v)| {
                        format!("{} {}", super::super::strings::go_quote(k), go_literal(v))
                    })
                    .collect();
                format!("(dict {})", items.join(" "))
            }
            v => panic!("no literal for {v:?}"),
        }
    }

    /// Renders one template with Helm: its output, or Helm's error.
    pub(in crate::funcs) fn render(text: &str) -> Result<String, String> {
        render_with(text, "")
    }

    /// Renders one template with Helm, with `values` (YAML or JSON) as values.yaml.
    pub(in crate::funcs) fn render_with(text: &str, values: &str) -> Result<String, String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sprig-oracle-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let tdir = dir.join("templates");
        std::fs::create_dir_all(&tdir).expect("temp chart");
        std::fs::write(
            dir.join("Chart.yaml"),
            "apiVersion: v2\nname: p\nversion: 0.1.0\n",
        )
        .expect("Chart.yaml");
        std::fs::write(tdir.join("t.yaml"), text).expect("template");
        std::fs::write(dir.join("values.yaml"), values).expect("values");
        let out = std::process::Command::new("python3")
            .arg("/work/shared/tools/helm-oracle")
            .arg("render")
            .arg(&dir)
            .output()
            .expect("oracle runs");
        let _ = std::fs::remove_dir_all(&dir);
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("oracle json");
        if j["ok"].as_bool() == Some(true) {
            Ok(j["manifests"]["p/templates/t.yaml"]
                .as_str()
                .unwrap_or_default()
                .to_string())
        } else {
            Err(j["error"].as_str().unwrap_or_default().to_string())
        }
    }

    /// Helm reads values files into float64 numbers.
    fn json_value(j: &serde_json::Value) -> Value {
        match j {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => Value::list(a.iter().map(json_value).collect()),
            serde_json::Value::Object(o) => {
                Value::map(o.iter().map(|(k, v)| (k.clone(), json_value(v))).collect())
            }
        }
    }

    /// Renders each `(template, values JSON)` with our template engine and with Helm and
    /// compares the text (or, for failures, the message after `at <…>: `).
    pub(in crate::funcs) fn check_templates(cases: &[(&str, &str)]) {
        if !available() {
            eprintln!("helm oracle unavailable: differential checks skipped");
            return;
        }
        let name = "p/templates/t.yaml";
        let mut problems = Vec::new();
        for (src, values) in cases {
            let j: serde_json::Value = serde_json::from_str(values).expect("values json");
            let mut top = std::collections::BTreeMap::new();
            top.insert("Values".to_string(), json_value(&j));
            let mut set = crate::template::TemplateSet::new();
            let ours = set.parse(name, src).and_then(|()| {
                set.execute(
                    name,
                    Value::map(top),
                    &FuncCtx::default(),
                    &crate::template::ExecOptions::default(),
                )
            });
            let helm = render_with(src, values);
            match (ours, helm) {
                (Ok(o), Ok(h)) if o.replace("<no value>", "") == h => {}
                (Err(o), Err(h)) => {
                    let tail = o.message.rsplit(">: ").next().unwrap_or(&o.message);
                    if !h.ends_with(tail) {
                        problems.push(format!("{src}\n  ours: {}\n  helm: {h}", o.message));
                    }
                }
                (o, h) => problems.push(format!(
                    "{src}\n  ours: {:?}\n  helm: {h:?}",
                    o.map_err(|e| e.message)
                )),
            }
        }
        assert!(
            problems.is_empty(),
            "differences from Helm:\n{}",
            problems.join("\n")
        );
    }

    /// Compares our functions with Helm's on every case; panics listing all differences.
    pub(in crate::funcs) fn check(cases: &[(&str, Vec<Value>)]) {
        if !available() {
            eprintln!("helm oracle unavailable: differential checks skipped");
            return;
        }
        let ctx = FuncCtx::default();
        let mut ok_lines = Vec::new();
        let mut ours_ok = Vec::new();
        let mut problems = Vec::new();
        for (name, args) in cases {
            let f = crate::funcs::lookup(name).unwrap_or_else(|| panic!("{name} unregistered"));
            let call: Vec<String> = args.iter().map(go_literal).collect();
            let expr = format!("{{{{ {name} {} }}}}", call.join(" "));
            match f(&ctx, args) {
                Ok(v) => {
                    ok_lines.push(format!("«{expr}»"));
                    // Helm prints a nil result as "" (Go's "<no value>", which Helm blanks).
                    let text = match v {
                        Value::Nil => String::new(),
                        v => sprint_v(&v),
                    };
                    ours_ok.push((expr, format!("«{text}»")));
                }
                Err(e) => match render(&expr) {
                    Err(helm) if helm.ends_with(&e.message) => {}
                    other => problems.push(format!(
                        "{expr}: ours error {:?}, helm {other:?}",
                        e.message
                    )),
                },
            }
        }
        if !ok_lines.is_empty() {
            match render(&ok_lines.join("¦¦\n")) {
                Ok(text) => {
                    let helm: Vec<&str> = text.split("¦¦\n").collect();
                    for (i, (expr, ours)) in ours_ok.iter().enumerate() {
                        if helm.get(i) != Some(&ours.as_str()) {
                            problems.push(format!("{expr}: ours {ours}, helm {:?}", helm.get(i)));
                        }
                    }
                }
                Err(e) => problems.push(format!("helm failed on the batch: {e}")),
            }
        }
        assert!(
            problems.is_empty(),
            "differences from Helm:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn against_helm() {
        let vals = || {
            vec![
                Value::Nil,
                Value::Bool(true),
                Value::Int(1),
                Value::Float(1.0),
                Value::str("1"),
                Value::list(vec![Value::Int(1)]),
                Value::map([("a".to_string(), Value::Int(1))].into()),
            ]
        };
        let mut cases: Vec<(&str, Vec<Value>)> = Vec::new();
        for v in vals() {
            cases.push(("typeOf", vec![v.clone()]));
            cases.push(("kindOf", vec![v.clone()]));
            for t in [
                "int",
                "float64",
                "string",
                "map",
                "slice",
                "bool",
                "invalid",
                "<nil>",
                "[]interface {}",
            ] {
                cases.push(("typeIs", vec![Value::str(t), v.clone()]));
                cases.push(("typeIsLike", vec![Value::str(t), v.clone()]));
                cases.push(("kindIs", vec![Value::str(t), v.clone()]));
            }
            for w in vals() {
                cases.push(("deepEqual", vec![v.clone(), w]));
            }
        }
        super::oracle::check(&cases);
    }
}
