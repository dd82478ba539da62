//! The cache survives crashes and sharing: a build killed with SIGKILL, then
//! a build that must succeed with a clean `cache verify`; concurrent builds
//! on one cache.

use std::thread::sleep;
use std::time::Duration;

use wayfinder_tests::{snapshot, Tree, Workspace};

fn assert_same_bytes(want: &Tree, got: &Tree, what: &str) {
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "{what}: the files of out/"
    );
    for (path, state) in want {
        assert!(state.bytes == got[path].bytes, "{what}: out/{path} differs");
    }
}

#[test]
fn sigkill_in_the_middle_of_a_build_leaves_a_usable_cache() {
    let reference = Workspace::example_named("reference");
    let cold = reference.build(&[]).elapsed;
    let want = snapshot(&reference.out());

    let ws = Workspace::example();
    // Kill cold builds at several points of their run; each resumes the cache
    // the previous one left.
    for fraction in [0.1, 0.3, 0.5, 0.8] {
        let delay = cold.mul_f64(fraction).max(Duration::from_millis(5));
        let mut child = ws
            .command(&["build", "--jobs", "2"])
            .spawn()
            .expect("spawn wayfinder");
        sleep(delay);
        // Child::kill sends SIGKILL on Unix.
        let _ = child.kill();
        let _ = child.wait();
    }
    ws.build(&[]);
    assert_same_bytes(&want, &snapshot(&ws.out()), "after SIGKILLed builds");
    let verify = ws.run(&["cache", "verify"]);
    verify.assert_success();
    // And the next build has nothing to do.
    let summary = ws.build(&[]).summary();
    assert!(
        summary.actions().iter().all(|a| a.status == "cached"),
        "{:?}",
        summary.status_counts()
    );
}

#[test]
fn concurrent_builds_share_one_cache() {
    let a = Workspace::example_named("a");
    let b = Workspace::example_named("b");
    let cache = a.cache_dir();
    let mut ca = a.command(&["build"]);
    let mut cb = b.command(&["build"]);
    ca.env("WAYFINDER_CACHE_DIR", &cache);
    cb.env("WAYFINDER_CACHE_DIR", &cache);
    let ha = std::thread::spawn(move || {
        let out = ca.output().expect("run a");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    });
    let (code_b, err_b) = {
        let out = cb.output().expect("run b");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code_a, err_a) = ha.join().expect("thread a");
    assert_eq!(code_a, Some(0), "build a:\n{err_a}");
    assert_eq!(code_b, Some(0), "build b:\n{err_b}");
    assert_same_bytes(
        &snapshot(&a.out()),
        &snapshot(&b.out()),
        "two builds on one cache",
    );
    a.run(&["cache", "verify"]).assert_success();
}
