//! Release artifacts (DESIGN §5): reproducible chart archives and the voyage OCI artifact.
//!
//! - `chart`: `helm package`-compatible, byte-reproducible `.tgz` archives (the `chart:NAME`
//!   action writes `out/charts/NAME-VERSION.tgz`);
//! - `ignore`: `.helmignore` rules;
//! - `voyage`: the voyage artifact (config, one layer per chart, a values-and-policies
//!   layer, annotations) and the Flux artifact of a cluster rendering;
//! - `pull`: voyages pinned at a version only the registry has;
//! - `push`: `wayfinder push` (build what is needed, then push, HEAD first).

mod chart;
mod ignore;
pub(crate) mod pull;
pub mod push;
pub mod voyage;

pub use pull::{use_ca_file, use_cache_dir, CACHE_AREA};

pub(crate) use chart::package_chart;
