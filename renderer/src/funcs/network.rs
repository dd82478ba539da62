//! `getHostByName`: Helm replaces Sprig's resolver with one that returns "" unless DNS
//! lookups are enabled (`--enable-dns`), which Wayfinder never does: renders stay hermetic.

use std::collections::HashMap;

use super::args;
use crate::value::{Func, FuncCtx, FuncError, Value};

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("getHostByName", get_host_by_name);
}

fn get_host_by_name(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("getHostByName", a, 1)?;
    args::string(a, 0)?;
    Ok(Value::str(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_is_off() {
        let ctx = FuncCtx::default();
        let r = get_host_by_name(&ctx, &[Value::str("helm.sh")]).unwrap();
        assert_eq!(r.as_str(), Some(""));
        assert!(!ctx.nondeterministic.get());
        let e = get_host_by_name(&ctx, &[Value::Int(1)]).unwrap_err();
        assert_eq!(e.message, "wrong type for value; expected string; got int");
    }
}
