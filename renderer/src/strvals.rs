//! Helm's `--set` / `--set-string` / `--set-file` / `--set-json` parser (`pkg/strvals`).

use crate::value::Data;

/// Parses one `--set` expression (`a.b=c,d[0]=e`) into `base`.
pub fn parse_set(expr: &str, base: &mut Data) -> Result<(), String> {
    let _ = (expr, base);
    Err("--set is not implemented yet".into())
}
