//! Runtime values of the template engine, modelled on the Go types Helm templates see.
//!
//! | Go type                    | `Value` variant |
//! |----------------------------|-----------------|
//! | `nil` (untyped / interface)| `Nil`           |
//! | `bool`                     | `Bool`          |
//! | `int`, `int64`, …          | `Int`           |
//! | `float64`                  | `Float`         |
//! | `string`                   | `String`        |
//! | `[]byte`                   | `Bytes`         |
//! | `[]interface{}`, `[]string`| `List`          |
//! | `map[string]interface{}`   | `Map` (shared, mutable: Go maps are references) |
//! | structs with fields/methods (`.Release`, `.Files`, semver…) | `Object` |
//!
//! `Data` is the plain, `Send` twin of `Value` used to move values in and out of a render
//! (parsed YAML, coalesced values) without `Rc`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// A plain, thread-safe value tree: what YAML/JSON parsing produces and what values files hold.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Data {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Data>),
    Map(BTreeMap<String, Data>),
}

impl Data {
    pub fn as_map(&self) -> Option<&BTreeMap<String, Data>> {
        match self {
            Data::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn empty_map() -> Data {
        Data::Map(BTreeMap::new())
    }
}

/// A Go map shared by reference (`set`, `unset`, `merge` mutate it in place).
pub type MapRef = Rc<RefCell<BTreeMap<String, Value>>>;

/// A runtime template value.
#[derive(Clone)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Rc<Vec<Value>>),
    Map(MapRef),
    Object(Rc<dyn Object>),
}

/// A Go struct (or pointer to one) with fields and methods, such as `.Release` or `.Files`.
pub trait Object {
    /// The Go type name used in messages and `typeOf`, such as `*chart.Metadata`.
    fn type_name(&self) -> &str;
    /// A field (or niladic method) by name; `None` when the type has no such field or method.
    fn field(&self, name: &str) -> Option<Value>;
    /// Whether `name` is a method that takes arguments (called as `.Files.Get "x"`).
    fn has_method(&self, _name: &str) -> bool {
        false
    }
    /// Calls a method with arguments.
    fn call_method(&self, name: &str, _args: &[Value]) -> Result<Value, FuncError> {
        Err(FuncError::new(format!("can't call method {name}")))
    }
    /// How `fmt` prints it with `%v` (Go prints structs as `{a b}`); also used by `toString`.
    fn go_string(&self) -> String {
        format!("{{{}}}", self.type_name())
    }
    /// The value as `encoding/json` would see it (for `toYaml`, `toJson`).
    fn to_data(&self) -> Data {
        Data::Null
    }
    /// Truthiness in `if`: structs are always true, pointers true unless nil.
    fn truthy(&self) -> bool {
        true
    }
    /// The Go reflect kind `kindOf` prints: `ptr` for pointers to structs, `struct` for values.
    fn kind(&self) -> &'static str {
        "ptr"
    }
    /// The Go map or slice this object also is, for `range`, `index` and `len` (Helm's
    /// `.Files` is a `map[string][]byte` with methods, `.Capabilities.APIVersions` a `[]string`).
    fn as_value(&self) -> Option<Value> {
        None
    }
    /// Lets functions downcast to a concrete object type (semver versions, times).
    fn as_any(&self) -> &dyn std::any::Any;
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::String(Rc::from(s))
    }
    pub fn string(s: String) -> Value {
        Value::String(Rc::from(s))
    }
    pub fn list(v: Vec<Value>) -> Value {
        Value::List(Rc::new(v))
    }
    pub fn map(m: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(RefCell::new(m)))
    }
    pub fn empty_map() -> Value {
        Value::map(BTreeMap::new())
    }

    /// Converts plain data into a runtime value (maps become fresh shared maps).
    pub fn from_data(d: &Data) -> Value {
        match d {
            Data::Null => Value::Nil,
            Data::Bool(b) => Value::Bool(*b),
            Data::Int(i) => Value::Int(*i),
            Data::Float(f) => Value::Float(*f),
            Data::String(s) => Value::str(s),
            Data::List(l) => Value::list(l.iter().map(Value::from_data).collect()),
            Data::Map(m) => Value::map(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::from_data(v)))
                    .collect(),
            ),
        }
    }

    /// Converts back to plain data, as `encoding/json` would see the value.
    pub fn to_data(&self) -> Data {
        match self {
            Value::Nil => Data::Null,
            Value::Bool(b) => Data::Bool(*b),
            Value::Int(i) => Data::Int(*i),
            Value::Float(f) => Data::Float(*f),
            Value::String(s) => Data::String(s.to_string()),
            // encoding/json writes []byte as base64; callers that care handle Bytes first.
            Value::Bytes(b) => Data::String(String::from_utf8_lossy(b).into_owned()),
            Value::List(l) => Data::List(l.iter().map(Value::to_data).collect()),
            Value::Map(m) => Data::Map(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_data()))
                    .collect(),
            ),
            Value::Object(o) => o.to_data(),
        }
    }

    /// Go's truthiness (`if`, `and`, `or`, `not`, `default`'s emptiness is the same rule).
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
            Value::Object(o) => o.truthy(),
        }
    }

    /// The Go type name as `printf "%T"` / `typeOf` print it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::String(_) => "string".into(),
            Value::Bytes(_) => "[]uint8".into(),
            Value::List(_) => "[]interface {}".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(o) => o.type_name().to_string(),
        }
    }

    /// The Go reflect kind as `kindOf` prints it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) => "slice",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => o.kind(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "Nil"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Float(x) => write!(f, "Float({x})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Bytes(b) => write!(f, "Bytes({b:?})"),
            Value::List(l) => f.debug_list().entries(l.iter()).finish(),
            Value::Map(m) => f.debug_map().entries(m.borrow().iter()).finish(),
            Value::Object(o) => write!(f, "Object({})", o.type_name()),
        }
    }
}

/// An error raised by a template function. The evaluator wraps it as Go does:
/// `error calling NAME: MESSAGE`.
#[derive(Clone, Debug, PartialEq)]
pub struct FuncError {
    pub message: String,
    /// Set by `fail`/`required`-style functions whose message Helm prints without the
    /// `error calling NAME:` prefix.
    pub raw: bool,
}

impl FuncError {
    pub fn new(message: impl Into<String>) -> FuncError {
        FuncError {
            message: message.into(),
            raw: false,
        }
    }
}

impl fmt::Display for FuncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Per-render state available to plain (Sprig-style) functions.
#[derive(Default)]
pub struct FuncCtx {
    /// Set when a nondeterministic function (random, uuid, time, key generation) ran.
    pub nondeterministic: std::cell::Cell<bool>,
}

impl FuncCtx {
    pub fn mark_nondeterministic(&self) {
        self.nondeterministic.set(true);
    }
}

/// A plain template function: Sprig's and the simple Helm ones. Functions that need the
/// template engine (`include`, `tpl`) are built into the evaluator.
pub type Func = fn(&FuncCtx, &[Value]) -> Result<Value, FuncError>;
