//! Integration tests of the `wayfinder` CLI contract (DESIGN.md §2, §3, §9;
//! issue 3): they run the real binary on copies of the repo's example
//! workspace. See `wayfinder_tests` (tests/src/lib.rs) for the harness, and
//! scripts/test.sh for the command that builds the binary and runs them.

#![allow(clippy::print_stdout)] // skip messages of tests whose servers or oracle are missing

mod bad_input;
mod build;
mod commands;
mod crash;
mod day2;
mod example;
mod fast;
mod incremental;
mod push;
mod remote_cache;
mod servers;
mod template;
mod test_cmd;
