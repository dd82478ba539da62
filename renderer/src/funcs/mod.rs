//! The function map: Sprig's functions and Helm's plain functions, by name.
//!
//! Each submodule registers its functions with `register`. Functions that need the template
//! engine itself (`include`, `tpl`, `template`) live in the evaluator, not here.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::value::Func;

mod conv;
mod crypto;
mod dates;
mod defaults;
mod dicts;
pub(crate) mod encoding;
mod helm;
mod lists;
mod math;
mod network;
mod paths;
mod random;
mod reflect;
mod regexp;
pub(crate) mod semver;
mod strings;

pub mod args;

/// Every plain function, by name.
pub fn builtins() -> &'static HashMap<&'static str, Func> {
    static MAP: OnceLock<HashMap<&'static str, Func>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut m: HashMap<&'static str, Func> = HashMap::new();
        strings::register(&mut m);
        lists::register(&mut m);
        dicts::register(&mut m);
        defaults::register(&mut m);
        conv::register(&mut m);
        math::register(&mut m);
        regexp::register(&mut m);
        encoding::register(&mut m);
        paths::register(&mut m);
        reflect::register(&mut m);
        semver::register(&mut m);
        dates::register(&mut m);
        crypto::register(&mut m);
        random::register(&mut m);
        network::register(&mut m);
        helm::register(&mut m);
        m
    })
}

/// Looks up a plain function by name.
pub fn lookup(name: &str) -> Option<Func> {
    builtins().get(name).copied()
}
