//! The remote cache (DESIGN §6, issue 5): runners share builds through a real nginx WebDAV
//! server (skipped with a message when `WAYFINDER_TEST_HTTP_CACHE*` are not set), and every
//! fault the issue lists (corruption, truncation, 500, a hanging server, wrong credentials, a
//! missing blob, a server down from the start) makes the build slower, never wrong or failed.
//! Faults no real server produces on demand come from tiny in-test servers on port 0.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wayfinder_tests::{servers, snapshot, Run, Summary, Workspace};

/// A fresh prefix on the nginx cache: (URL, directory nginx serves it from).
fn nginx_prefix(test: &str) -> Option<(String, PathBuf)> {
    let (Some(url), Some(dir)) = (servers::http_cache(), servers::http_cache_dir()) else {
        println!("skipped {test}: WAYFINDER_TEST_HTTP_CACHE(_DIR) not set (scripts/test.sh starts nginx)");
        return None;
    };
    let name = unique(test);
    let path = dir.join(&name);
    fs::create_dir_all(&path).expect("create the cache prefix");
    // nginx's worker runs as another user and creates `ac/` and `cas/` inside.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(&path, fs::Permissions::from_mode(0o777));
    }
    Some((format!("{}/{name}", url.trim_end_matches('/')), path))
}

fn unique(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("it-remote-{test}-{}-{nanos}", std::process::id())
}

/// `wayfinder build --json --remote-cache URL ARGS…` with `env`.
fn build_with(ws: &Workspace, url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["build", "--json", "--remote-cache", url];
    all.extend_from_slice(args);
    let mut cmd = ws.command(&all);
    cmd.env("WAYFINDER_REMOTE_CACHE_TIMEOUT", "2");
    for (k, v) in env {
        cmd.env(k, v);
    }
    ws.run_cmd(cmd, &all)
}

fn count<'a>(s: &'a Summary, status: &str) -> Vec<&'a str> {
    s.actions()
        .iter()
        .filter(|a| a.status == status)
        .map(|a| a.target.as_str())
        .collect()
}

/// Actions the action cache can serve (cluster actions only assemble their directory).
fn cacheable(s: &Summary) -> usize {
    s.actions().iter().filter(|a| a.kind != "cluster").count()
}

fn remote_warnings(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("warning: remote cache"))
        .collect()
}

/// The out/ trees of two workspaces hold the same files with the same bytes.
fn assert_same_out(a: &Workspace, b: &Workspace) {
    let (ta, tb) = (snapshot(&a.out()), snapshot(&b.out()));
    assert!(!ta.is_empty(), "runner A wrote no output");
    let names = |t: &wayfinder_tests::Tree| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&ta), names(&tb), "the same files");
    for (path, state) in &ta {
        assert!(
            tb[path].bytes == state.bytes,
            "`{path}` differs between the runners"
        );
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn runners_share_builds_and_survive_a_corrupted_cache() {
    let Some((url, dir)) = nginx_prefix("scenario") else {
        return;
    };
    // Runner A: empty local cache, builds everything and uploads.
    let a = Workspace::example();
    let run_a = build_with(&a, &url, &[], &[]);
    run_a.assert_success();
    let sa = run_a.summary();
    assert!(count(&sa, "remote-cached").is_empty());
    assert!(remote_warnings(&run_a).is_empty(), "{}", run_a.stderr);
    assert!(!files_under(&dir.join("ac")).is_empty(), "entries uploaded");
    let blobs = files_under(&dir.join("cas"));
    assert!(!blobs.is_empty(), "blobs uploaded");

    // Runner B: another checkout path, a fresh local cache: every cacheable action is
    // served by the remote, and the output is byte-identical.
    let b = Workspace::example_named("checkout-b");
    let run_b = build_with(&b, &url, &[], &[]);
    run_b.assert_success();
    let sb = run_b.summary();
    let remote = count(&sb, "remote-cached");
    assert_eq!(
        remote.len(),
        cacheable(&sb),
        "100% remote hits: {:?}",
        sb.status_counts()
    );
    assert!(
        sb.built().all(|a| a.kind == "cluster"),
        "only cluster directories are assembled"
    );
    assert_same_out(&a, &b);
    assert!(remote_warnings(&run_b).is_empty(), "{}", run_b.stderr);
    let stats = b.run(&["cache", "stats"]);
    stats.assert_success();
    assert!(
        stats.stdout.contains("lookups hit (100.0%)"),
        "cache stats shows the remote hit rate:\n{}",
        stats.stdout
    );
    assert!(stats.stdout.contains("downloaded"), "{}", stats.stdout);

    // Every blob on the server is corrupted: runner C detects it, rebuilds, same output.
    for blob in &blobs {
        let mut bytes = fs::read(blob).expect("read blob");
        if let Some(first) = bytes.first_mut() {
            *first ^= 0x20;
        } else {
            bytes.push(b'x');
        }
        fs::write(blob, bytes).expect("corrupt blob");
    }
    let c = Workspace::example_named("checkout-c");
    let run_c = build_with(&c, &url, &[], &[]);
    run_c.assert_success();
    let sc = run_c.summary();
    assert!(
        count(&sc, "remote-cached").is_empty(),
        "no corrupt blob is used: {:?}",
        sc.status_counts()
    );
    assert_same_out(&a, &c);
    let warnings = remote_warnings(&run_c);
    assert_eq!(warnings.len(), 1, "one warning:\n{}", run_c.stderr);
    assert!(
        warnings[0].contains("failed verification"),
        "{}",
        warnings[0]
    );

    // C uploaded good blobs again: a fourth runner hits.
    let d = Workspace::example_named("checkout-d");
    let run_d = build_with(&d, &url, &[], &[]);
    run_d.assert_success();
    assert_eq!(
        count(&run_d.summary(), "remote-cached").len(),
        cacheable(&sb)
    );
    assert_same_out(&a, &d);
}

#[test]
fn a_missing_blob_is_a_miss() {
    let Some((url, dir)) = nginx_prefix("missing") else {
        return;
    };
    let a = Workspace::example();
    build_with(&a, &url, &[], &[]).assert_success();
    fs::remove_dir_all(dir.join("cas")).expect("remove blobs");
    let b = Workspace::example_named("b");
    let run = build_with(&b, &url, &[], &[]);
    run.assert_success();
    assert!(count(&run.summary(), "remote-cached").is_empty());
    assert_same_out(&a, &b);
    assert!(
        !run.stderr.contains("failed verification"),
        "a missing blob is a plain miss:\n{}",
        run.stderr
    );
}

#[test]
fn read_only_and_workspace_settings() {
    let Some((url, dir)) = nginx_prefix("readonly") else {
        return;
    };
    let a = Workspace::example();
    build_with(&a, &url, &["--remote-read-only"], &[]).assert_success();
    assert!(files_under(&dir).is_empty(), "read-only uploads nothing");

    // `[cache] remote` with `remote_write = false`: read-only too.
    let b = Workspace::example_named("b");
    b.replace(
        "workspace.toml",
        "# remote = \"http://127.0.0.1:9090/cache\"\n# remote_write = true",
        &format!("remote = \"{url}\"\nremote_write = false"),
    );
    let run = b.build(&[]);
    assert!(run.stderr.contains("remote cache"), "{}", run.stderr);
    assert!(
        files_under(&dir).is_empty(),
        "remote_write = false uploads nothing"
    );

    // `--no-remote-cache` turns the workspace's remote off.
    let run = b.run(&["build", "--json", "--no-remote-cache"]);
    run.assert_success();
    assert!(!run.stderr.contains("remote cache"), "{}", run.stderr);

    // The workspace's remote, writable: runner c uploads, a fresh runner d hits.
    let setting = format!("remote = \"{url}\"");
    let c = Workspace::example_named("c");
    c.replace(
        "workspace.toml",
        "# remote = \"http://127.0.0.1:9090/cache\"",
        &setting,
    );
    c.build(&[]);
    assert!(!files_under(&dir.join("ac")).is_empty(), "uploaded");
    let d = Workspace::example_named("d");
    d.replace(
        "workspace.toml",
        "# remote = \"http://127.0.0.1:9090/cache\"",
        &setting,
    );
    let s = d.build(&[]).summary();
    assert_eq!(count(&s, "remote-cached").len(), cacheable(&s));
}

#[test]
fn signed_entries() {
    let Some((url, _)) = nginx_prefix("signed") else {
        return;
    };
    let key = [("WAYFINDER_CACHE_SIGNING_KEY", "team-secret")];
    let a = Workspace::example();
    build_with(&a, &url, &[], &key).assert_success();

    let b = Workspace::example_named("b");
    let run = build_with(&b, &url, &["--require-signed"], &key);
    run.assert_success();
    let s = run.summary();
    assert_eq!(count(&s, "remote-cached").len(), cacheable(&s));

    let c = Workspace::example_named("c");
    let run = build_with(
        &c,
        &url,
        &["--require-signed"],
        &[("WAYFINDER_CACHE_SIGNING_KEY", "another")],
    );
    run.assert_success();
    assert!(count(&run.summary(), "remote-cached").is_empty());
    assert_eq!(remote_warnings(&run).len(), 1, "{}", run.stderr);
    assert_same_out(&a, &c);

    // Unsigned entries are misses under --require-signed.
    let Some((plain_url, _)) = nginx_prefix("unsigned") else {
        return;
    };
    build_with(&a, &plain_url, &[], &[]).assert_success();
    let d = Workspace::example_named("d");
    let run = build_with(&d, &plain_url, &["--require-signed"], &key);
    run.assert_success();
    assert!(count(&run.summary(), "remote-cached").is_empty());
    assert!(run.stderr.contains("unsigned"), "{}", run.stderr);

    // --require-signed without a key is bad input.
    d.run(&["build", "--require-signed", "--remote-cache", &plain_url])
        .assert_bad_input()
        .assert_stderr_mentions(&["WAYFINDER_CACHE_SIGNING_KEY"]);
}

#[test]
fn credentials_from_the_environment_and_wrong_ones() {
    let (Some(url), Some((user, password))) = (servers::http_cache_auth(), servers::credentials())
    else {
        println!("skipped credentials test: WAYFINDER_TEST_HTTP_CACHE_AUTH not set");
        return;
    };
    let url = format!("{}/{}", url.trim_end_matches('/'), unique("auth"));
    let good = [
        ("WAYFINDER_REMOTE_CACHE_USERNAME", user.as_str()),
        ("WAYFINDER_REMOTE_CACHE_PASSWORD", password.as_str()),
    ];
    let a = Workspace::example();
    let run = build_with(&a, &url, &[], &good);
    run.assert_success();
    assert!(remote_warnings(&run).is_empty(), "{}", run.stderr);
    assert!(
        !run.stderr.contains(&password),
        "the password is never printed"
    );

    let b = Workspace::example_named("b");
    let run = build_with(&b, &url, &[], &good);
    let s = run.summary();
    assert_eq!(count(&s, "remote-cached").len(), cacheable(&s));

    // Wrong credentials: the build works without the remote, with one warning.
    let c = Workspace::example_named("c");
    let wrong = [
        ("WAYFINDER_REMOTE_CACHE_USERNAME", user.as_str()),
        ("WAYFINDER_REMOTE_CACHE_PASSWORD", "wrong-password"),
    ];
    let run = build_with(&c, &url, &[], &wrong);
    run.assert_success();
    assert!(count(&run.summary(), "remote-cached").is_empty());
    let w = remote_warnings(&run);
    assert_eq!(w.len(), 1, "{}", run.stderr);
    assert!(w[0].contains("401"), "{}", w[0]);
    assert!(!run.stderr.contains("wrong-password"));
    assert_same_out(&a, &c);
}

#[test]
fn bad_urls_are_bad_input() {
    let ws = Workspace::example();
    ws.run(&["build", "--remote-cache", "ftp://u:hunter2@host/x"])
        .assert_bad_input()
        .assert_stderr_mentions(&["--remote-cache", "ftp://"]);
    let run = ws.run(&["build", "--remote-cache", "ftp://u:hunter2@host/x"]);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    ws.replace(
        "workspace.toml",
        "# remote = \"http://127.0.0.1:9090/cache\"",
        "remote = \"oci://registry-without-repo\"",
    );
    ws.run(&["build"])
        .assert_bad_input()
        .assert_stderr_mentions(&["workspace.toml", "oci://registry-without-repo"]);
    let mut cmd = ws.command(&["build", "--remote-cache", "http://127.0.0.1:9/x"]);
    cmd.env("WAYFINDER_REMOTE_CACHE_TIMEOUT", "soon");
    ws.run_cmd(cmd, &["build"])
        .assert_bad_input()
        .assert_stderr_mentions(&["WAYFINDER_REMOTE_CACHE_TIMEOUT"]);
}

// ---------------------------------------------------------------------------------------
// Faults from tiny in-test servers.

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    /// A working cache in memory.
    Store = 0,
    /// Every request gets 500.
    Fail500 = 1,
    /// Requests are read, never answered.
    Hang = 2,
    /// GET cas/… answers with half of the body and closes.
    TruncateBlobs = 3,
}

/// An HTTP cache on port 0 whose behaviour can be switched; stops when dropped.
struct FakeServer {
    url: String,
    mode: Arc<AtomicU8>,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    fn start(mode: Mode) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}/cache", listener.local_addr().expect("addr"));
        let mode_ = Arc::new(AtomicU8::new(mode as u8));
        let stop = Arc::new(AtomicBool::new(false));
        let data: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let (m, s) = (Arc::clone(&mode_), Arc::clone(&stop));
        std::thread::spawn(move || {
            // Bounded: a forgotten server ends by itself.
            let end = Instant::now() + Duration::from_secs(300);
            while !s.load(Ordering::SeqCst) && Instant::now() < end {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (m, s, data) = (Arc::clone(&m), Arc::clone(&s), Arc::clone(&data));
                        std::thread::spawn(move || serve(conn, &m, &s, &data));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeServer {
            url,
            mode: mode_,
            stop,
        }
    }

    fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Serves one connection (one request; the answer closes it).
fn serve(
    mut conn: TcpStream,
    mode: &AtomicU8,
    stop: &AtomicBool,
    data: &Mutex<HashMap<String, Vec<u8>>>,
) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut parts = head.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let respond = |conn: &mut TcpStream, status: &str, body: &[u8], claimed: usize| {
        let _ = conn.write_all(
            format!("HTTP/1.1 {status}\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
        let _ = conn.write_all(body);
    };
    match mode.load(Ordering::SeqCst) {
        1 => respond(&mut conn, "500 Internal Server Error", b"", 0),
        2 => {
            // Hold the connection without answering, until the test ends (bounded).
            let end = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::SeqCst) && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        m => {
            let mut d = data.lock().unwrap_or_else(|e| e.into_inner());
            if method == "PUT" {
                d.insert(path, body);
                respond(&mut conn, "201 Created", b"", 0);
            } else {
                match d.get(&path) {
                    Some(v) if m == 3 && path.contains("/cas/") => {
                        respond(&mut conn, "200 OK", &v[..v.len() / 2], v.len())
                    }
                    Some(v) => respond(&mut conn, "200 OK", v, v.len()),
                    None => respond(&mut conn, "404 Not Found", b"", 0),
                }
            }
        }
    }
}

#[test]
fn a_server_answering_500_is_not_a_build_failure() {
    let server = FakeServer::start(Mode::Fail500);
    let ws = Workspace::example();
    let run = build_with(&ws, &server.url, &[], &[]);
    run.assert_success();
    let w = remote_warnings(&run);
    assert_eq!(
        w.len(),
        1,
        "one warning, not one per action:\n{}",
        run.stderr
    );
    assert!(w[0].contains("500"), "{}", w[0]);
    assert!(w[0].contains("not usable"), "{}", w[0]);
    let s = run.summary();
    assert!(count(&s, "failed").is_empty());
    assert!(count(&s, "remote-cached").is_empty());
}

#[test]
fn a_hanging_server_is_bounded_by_the_timeout() {
    let server = FakeServer::start(Mode::Hang);
    let ws = Workspace::example();
    let run = build_with(
        &ws,
        &server.url,
        &[],
        &[("WAYFINDER_REMOTE_CACHE_TIMEOUT", "1")],
    );
    run.assert_success();
    let w = remote_warnings(&run);
    assert_eq!(w.len(), 1, "{}", run.stderr);
    assert!(w[0].contains("timed out"), "{}", w[0]);
    assert!(
        w[0].contains("not usable"),
        "the breaker stopped the waiting: {}",
        w[0]
    );
    assert!(count(&run.summary(), "remote-cached").is_empty());
}

#[test]
fn truncated_blobs_are_misses() {
    let server = FakeServer::start(Mode::Store);
    let a = Workspace::example();
    let run = build_with(&a, &server.url, &[], &[]);
    run.assert_success();
    // The fake works: a second runner hits.
    let b = Workspace::example_named("b");
    let s = build_with(&b, &server.url, &[], &[]).summary();
    assert_eq!(count(&s, "remote-cached").len(), cacheable(&s));

    server.set(Mode::TruncateBlobs);
    let c = Workspace::example_named("c");
    let run = build_with(&c, &server.url, &[], &[]);
    run.assert_success();
    assert!(count(&run.summary(), "remote-cached").is_empty());
    assert_same_out(&a, &c);
    assert_eq!(remote_warnings(&run).len(), 1, "{}", run.stderr);
}

#[test]
fn a_server_down_from_the_start() {
    // A port nobody listens on: bind one, then let it go.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let ws = Workspace::example();
    let url = format!("http://127.0.0.1:{port}/cache");
    let run = build_with(&ws, &url, &[], &[]);
    run.assert_success();
    let w = remote_warnings(&run);
    assert_eq!(w.len(), 1, "{}", run.stderr);
    assert!(w[0].contains("cannot connect"), "{}", w[0]);
    let s = run.summary();
    assert!(count(&s, "failed").is_empty());
    // The same workspace again, no remote: same output.
    let plain = Workspace::example_named("plain");
    plain.build(&[]);
    assert_same_out(&plain, &ws);
}

// ---------------------------------------------------------------------------------------
// The OCI backend, on the real docker-registry.

#[test]
fn an_oci_registry_as_the_cache() {
    let Some(registry) = servers::registry() else {
        println!("skipped oci cache test: WAYFINDER_TEST_REGISTRY not set");
        return;
    };
    let url = format!("oci://{registry}/{}", unique("oci"));
    let a = Workspace::example();
    let run = build_with(&a, &url, &[], &[]);
    run.assert_success();
    assert!(remote_warnings(&run).is_empty(), "{}", run.stderr);
    let b = Workspace::example_named("b");
    let run = build_with(&b, &url, &[], &[]);
    run.assert_success();
    let s = run.summary();
    assert_eq!(
        count(&s, "remote-cached").len(),
        cacheable(&s),
        "{:?}\n{}",
        s.status_counts(),
        run.stderr
    );
    assert_same_out(&a, &b);
}

#[test]
fn an_oci_registry_with_credentials() {
    let (Some(registry), Some((user, password))) =
        (servers::registry_auth(), servers::credentials())
    else {
        println!("skipped oci credentials test: WAYFINDER_TEST_REGISTRY_AUTH not set");
        return;
    };
    let url = format!("oci://{registry}/{}", unique("oci-auth"));
    let good = [
        ("WAYFINDER_REMOTE_CACHE_USERNAME", user.as_str()),
        ("WAYFINDER_REMOTE_CACHE_PASSWORD", password.as_str()),
    ];
    let a = Workspace::example();
    let run = build_with(&a, &url, &[], &good);
    run.assert_success();
    assert!(remote_warnings(&run).is_empty(), "{}", run.stderr);
    let b = Workspace::example_named("b");
    let s = build_with(&b, &url, &[], &good).summary();
    assert_eq!(count(&s, "remote-cached").len(), cacheable(&s));

    let c = Workspace::example_named("c");
    let wrong = [
        ("WAYFINDER_REMOTE_CACHE_USERNAME", user.as_str()),
        ("WAYFINDER_REMOTE_CACHE_PASSWORD", "wrong-password"),
    ];
    let run = build_with(&c, &url, &[], &wrong);
    run.assert_success();
    assert!(count(&run.summary(), "remote-cached").is_empty());
    assert_eq!(remote_warnings(&run).len(), 1, "{}", run.stderr);
    assert!(!run.stderr.contains("wrong-password"));
    assert_same_out(&a, &c);
}

// ---------------------------------------------------------------------------------------
// An HTTPS cache whose certificate comes from a private CA: a throwaway CA and server
// certificate (`openssl`) and a throwaway nginx of this test, on a free port.

/// The path of a tool, from `PATH` or the usual sbin directories.
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A throwaway nginx serving `https://127.0.0.1:PORT/cache/` (WebDAV) from its own prefix
/// directory; killed when dropped. One process (`master_process off`), so killing it leaves
/// no worker behind.
struct TlsNginx {
    child: std::process::Child,
    port: u16,
}

impl TlsNginx {
    fn start(nginx: &Path, dir: &Path) -> TlsNginx {
        fs::create_dir_all(dir.join("www/cache")).expect("create the www dir");
        let mut last_error = String::new();
        // A free port can be taken between the probe and nginx's bind: try a few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let d = dir.display();
            let conf = format!(
                "worker_processes 1;\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\n\
                 error_log {d}/error.log warn;\nevents {{ worker_connections 64; }}\n\
                 http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n\
                 proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
                 uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
                 default_type application/octet-stream;\n  client_max_body_size 0;\n\
                 server {{\n    listen 127.0.0.1:{port} ssl;\n\
                 ssl_certificate {d}/server.pem;\n    ssl_certificate_key {d}/server.key;\n\
                 root {d}/www;\n    location /cache/ {{\n      dav_methods PUT DELETE;\n\
                 create_full_put_path on;\n      dav_access user:rw group:rw all:r;\n    }}\n\
                 }}\n}}\n"
            );
            fs::write(dir.join("nginx.conf"), conf).expect("write nginx.conf");
            let log = fs::File::create(dir.join("nginx.out")).expect("create nginx.out");
            let mut child = std::process::Command::new(nginx)
                .arg("-c")
                .arg(dir.join("nginx.conf"))
                .arg("-p")
                .arg(dir)
                .arg("-e")
                .arg(dir.join("error.log"))
                .stdin(std::process::Stdio::null())
                .stdout(log.try_clone().expect("clone the log handle"))
                .stderr(log)
                .spawn()
                .expect("start nginx");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!(
                        "nginx exited ({status}):\n{}{}",
                        fs::read_to_string(dir.join("nginx.out")).unwrap_or_default(),
                        fs::read_to_string(dir.join("error.log")).unwrap_or_default()
                    );
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return TlsNginx { child, port };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_error = "nginx did not listen within 10 s".to_string();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("cannot start the test's nginx: {last_error}");
    }
}

impl Drop for TlsNginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `wayfinder build --json --remote-cache URL` with only the TLS settings in `env` (the
/// inherited `SSL_CERT_FILE`/`SSL_CERT_DIR` are removed).
fn build_tls(ws: &Workspace, url: &str, env: &[(&str, &Path)]) -> Run {
    let args = ["build", "--json", "--remote-cache", url];
    let mut cmd = ws.command(&args);
    cmd.env("WAYFINDER_REMOTE_CACHE_TIMEOUT", "5")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    ws.run_cmd(cmd, &args)
}

#[test]
fn an_https_cache_with_a_private_ca() {
    let (Some(nginx), Some(_)) = (tool("nginx"), tool("openssl")) else {
        println!("skipped an_https_cache_with_a_private_ca: nginx or openssl is not installed");
        return;
    };
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path();
    wayfinder_tests::pki::make(dir);
    let server = TlsNginx::start(&nginx, dir);
    let url = format!("https://127.0.0.1:{}/cache", server.port);
    let ca = dir.join("ca.pem");

    // Runner A trusts the CA through SSL_CERT_FILE and uploads.
    let a = Workspace::example();
    let run_a = build_tls(&a, &url, &[("SSL_CERT_FILE", &ca)]);
    run_a.assert_success();
    assert!(remote_warnings(&run_a).is_empty(), "{}", run_a.stderr);
    assert!(
        !files_under(&dir.join("www/cache/ac")).is_empty(),
        "entries uploaded over HTTPS:\n{}",
        run_a.stderr
    );

    // Runner B, fresh local cache, the same CA: every cacheable action is a remote hit.
    let b = Workspace::example_named("https-b");
    let run_b = build_tls(&b, &url, &[("SSL_CERT_FILE", &ca)]);
    run_b.assert_success();
    let sb = run_b.summary();
    assert_eq!(
        count(&sb, "remote-cached").len(),
        cacheable(&sb),
        "{:?}\n{}",
        sb.status_counts(),
        run_b.stderr
    );
    assert!(remote_warnings(&run_b).is_empty(), "{}", run_b.stderr);
    assert_same_out(&a, &b);

    // WAYFINDER_REMOTE_CACHE_CA adds the CA to the system's roots: hits too.
    let c = Workspace::example_named("https-c");
    let run_c = build_tls(&c, &url, &[("WAYFINDER_REMOTE_CACHE_CA", &ca)]);
    run_c.assert_success();
    let sc = run_c.summary();
    assert_eq!(
        count(&sc, "remote-cached").len(),
        cacheable(&sc),
        "{}",
        run_c.stderr
    );

    // Without the CA the certificate is not trusted: the build still succeeds, with one
    // warning naming the cache and hinting at the CA settings.
    let d = Workspace::example_named("https-d");
    let run_d = build_tls(&d, &url, &[]);
    run_d.assert_success();
    assert!(count(&run_d.summary(), "remote-cached").is_empty());
    let w = remote_warnings(&run_d);
    assert_eq!(w.len(), 1, "one warning:\n{}", run_d.stderr);
    assert!(w[0].contains(&url), "names the cache: {}", w[0]);
    assert!(
        w[0].contains("WAYFINDER_REMOTE_CACHE_CA") && w[0].contains("SSL_CERT_FILE"),
        "hints at the CA settings: {}",
        w[0]
    );
    assert_same_out(&a, &d);
    drop(server);
}
