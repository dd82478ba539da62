//! `wayfinder-engine`: the build engine. It knows nothing of Helm or OCI.
//!
//! - [`Digest`]: typed blake3 digests (`Digest<Blob>`, `Digest<Action>`).
//! - [`StableHash`], [`KeyInputs`]: canonical, length-prefixed action keys.
//! - [`BuildGraph`]: the petgraph DAG of targets, with named cycles.
//! - [`Store`]: what a cache must provide (blobs, action cache, state records).
//! - [`execute`]: the parallel scheduler with early cutoff and dedupe by key.
//! - [`FileDigests`]: file digests through a persisted stat cache.
//!
//! ```
//! use std::collections::BTreeMap;
//! use wayfinder_engine::{execute, Action, ActionError, DepOutputs, Digest, ExecOptions,
//!     KeyInputs, MemStore, Plan, Produced, Store};
//!
//! struct Hello;
//! impl Action for Hello {
//!     fn kind(&self) -> &str { "hello" }
//!     fn key_inputs(&self, _: &DepOutputs<'_>) -> Result<KeyInputs, ActionError> {
//!         Ok(KeyInputs { kind: "hello".into(), rules_version: "1".into(), ..Default::default() })
//!     }
//!     fn run(&self, _: &DepOutputs<'_>, _: &dyn Store) -> Result<Produced, ActionError> {
//!         Ok(Produced { outputs: vec![("out".into(), b"hi".to_vec())], ..Default::default() })
//!     }
//! }
//! let mut plan = Plan::new();
//! plan.add("hello:world", Box::new(Hello), &[]);
//! let store = MemStore::new();
//! let outcomes = execute(&plan, &store, None, &ExecOptions::default()).unwrap();
//! assert_eq!(outcomes[0].status.as_str(), "built");
//! ```

mod codec;
mod digest;
mod files;
mod glob;
mod graph;
mod key;
mod scheduler;
mod store;

pub use codec::{Reader, Writer};
pub use digest::{Action as ActionKey, Blob, Digest};
pub use files::{FileDigests, FileError, FileStamp, RACY_WINDOW_NS};
pub use glob::{glob_match, is_glob};
pub use graph::{find_cycle, BuildGraph, CycleError};
pub use key::{KeyHasher, KeyInputs, StableHash};
pub use scheduler::{
    execute, Action, ActionError, Deferred, DepOutputs, ExecError, ExecOptions, Memo, Outcome,
    Plan, Produced, Status,
};
pub use store::{ActionResult, MemStore, Origin, Store, StoreError};
