//! The `wayfinder` command line: parse arguments, call the libraries, print, exit.
//!
//! Exit codes: 0 success, 1 build or test failure, 2 bad usage or bad input.
//! stdout carries data only (manifests, JSON); progress and diagnostics go to stderr.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod day2;
mod push;
mod remote;
mod test_cmd;

use std::process::ExitCode;

use clap::Parser;

/// Large buffers (the records and summary of a big fleet are megabytes) come from glibc's
/// heap and stay there when freed, so this short-lived process reuses pages instead of
/// faulting in fresh ones for every buffer: page faults were most of an incremental build's
/// time on a 1,000-cluster fleet.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: `mallopt` only sets allocator parameters; no other thread exists yet.
    unsafe {
        // Older glibc caps the threshold at 32 MiB (and rejects more, returning 0).
        if libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20) == 0 {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        }
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    commands::setup_output(&args);
    // Never panic at the user: a bug becomes an error message and exit code 1.
    let result = std::panic::catch_unwind(|| commands::run(&args));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            eprintln!("error: internal error: {msg}");
            ExitCode::from(1)
        }
    }
}
