//! `wayfinder push` and the release artifacts (issue 4, DESIGN §5): reproducible chart
//! packages, reproducible voyage manifests, pushes against the real test registries (skipped
//! with a message when `WAYFINDER_TEST_REGISTRY` is not set), faults and credentials.

use wayfinder_tests::{servers, Run, Workspace};

/// A repository prefix no other test uses.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("wf-push-{name}-{}-{nanos}", std::process::id())
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n{}", run.stdout, run.stderr))
}

/// The `push:…` actions of a push summary.
fn pushes(v: &serde_json::Value) -> Vec<serde_json::Value> {
    v["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["kind"] == "push")
        .cloned()
        .collect()
}

fn push(ws: &Workspace, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut all = vec!["push", "--json"];
    all.extend_from_slice(args);
    let mut cmd = ws.command(&all);
    cmd.env("SOURCE_DATE_EPOCH", "1700000000");
    for (k, v) in env {
        cmd.env(k, v);
    }
    ws.run_cmd(cmd, &all)
}

#[test]
fn chart_packages_are_byte_identical_across_directories_and_load_in_helm() {
    let a = Workspace::example();
    let b = Workspace::example_named("elsewhere");
    a.build(&["chart:cert-manager"]);
    b.build(&["chart:cert-manager"]);
    let list = |ws: &Workspace| {
        let mut v: Vec<_> = std::fs::read_dir(ws.out().join("charts"))
            .expect("out/charts")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let names = list(&a);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("cert-manager-") && names[0].ends_with(".tgz"));
    let pa = std::fs::read(a.out().join("charts").join(&names[0])).unwrap();
    let pb = std::fs::read(b.out().join("charts").join(&names[0])).unwrap();
    assert_eq!(pa, pb, "the same chart packaged in two directories differs");
    // Touching a file without changing it does not change the package.
    let same = a.read("charts/cert-manager/values.yaml");
    a.write("charts/cert-manager/values.yaml", &same);
    a.build(&["chart:cert-manager"]);
    assert_eq!(
        std::fs::read(a.out().join("charts").join(&names[0])).unwrap(),
        pa
    );

    let oracle = std::process::Command::new("python3")
        .args(["-c", "import helm_python"])
        .output()
        .is_ok_and(|o| o.status.success());
    let tool = wayfinder_tests::shared_dir().map(|d| d.join("tools/helm-oracle"));
    match tool.filter(|t| t.exists() && oracle) {
        Some(tool) => {
            let out = std::process::Command::new("python3")
                .arg(&tool)
                .arg("render")
                .arg(a.out().join("charts").join(&names[0]))
                .output()
                .expect("run the oracle");
            assert!(
                out.status.success(),
                "Helm cannot load the package: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("cert-manager"));
        }
        None => println!("skipping the Helm check: the oracle is not available"),
    }
}

#[test]
fn the_voyage_manifest_digest_is_the_same_in_two_directories() {
    let a = Workspace::example();
    let b = Workspace::example_named("other-place");
    let ra = push(&a, &[], &["--dry-run", "voyage:core"]);
    let rb = push(&b, &[], &["--dry-run", "voyage:core"]);
    ra.assert_success();
    rb.assert_success();
    let (pa, pb) = (pushes(&json(&ra)), pushes(&json(&rb)));
    assert_eq!(pa.len(), 1);
    let digest = pa[0]["digest"].as_str().unwrap_or_default().to_string();
    assert!(digest.starts_with("sha256:"), "{pa:?}");
    assert_eq!(digest, pb[0]["digest"].as_str().unwrap_or_default());
    // Another creation time is another manifest.
    let mut cmd = a.command(&["push", "--json", "--dry-run", "voyage:core"]);
    cmd.env("SOURCE_DATE_EPOCH", "1700000001");
    let rc = a.run_cmd(cmd, &["push"]);
    rc.assert_success();
    assert_ne!(pushes(&json(&rc))[0]["digest"], pa[0]["digest"]);
}

#[test]
fn pushing_twice_uploads_nothing_the_second_time() {
    let Some(reg) = servers::registry() else {
        println!("skipping: WAYFINDER_TEST_REGISTRY is not set (run scripts/test.sh)");
        return;
    };
    let ws = Workspace::example();
    let url = format!("oci://{reg}/{}", unique("twice"));
    let first = push(&ws, &[], &["--registry", &url, "--plain-http"]);
    first.assert_success();
    let v = json(&first);
    let p = pushes(&v);
    assert_eq!(p.len(), 2, "every voyage by default: {p:?}");
    assert!(v["uploads"].as_u64().unwrap_or(0) >= 4, "{v}");
    assert!(p.iter().all(|a| a["status"] == "built"));
    let refs: Vec<&str> = p
        .iter()
        .map(|a| a["reference"].as_str().unwrap_or(""))
        .collect();
    assert!(
        refs.iter().any(|r| r.ends_with("/voyages/core:1.5.0")),
        "{refs:?}"
    );

    // Every push is an action of its own: a key (the manifest and the reference) and the
    // manifest as its input, in a summary the harness accepts.
    let summary = first.summary();
    let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    for a in summary.actions().iter().filter(|a| a.kind == "push") {
        assert!(hex64(&a.key), "{a:?}");
        assert!(a.inputs.get("manifest").is_some_and(|m| hex64(m)), "{a:?}");
    }
    let keys = |v: &serde_json::Value| -> std::collections::BTreeMap<String, String> {
        pushes(v)
            .iter()
            .map(|a| (a["target"].to_string(), a["key"].to_string()))
            .collect()
    };
    assert_eq!(keys(&v).len(), 2);

    let second = push(&ws, &[], &["--registry", &url, "--plain-http"]);
    second.assert_success();
    let v2 = json(&second);
    assert_eq!(keys(&v2), keys(&v), "the same push has the same key");
    // A dry run of the same push has its key; another place is another push.
    let dry = push(&ws, &[], &["--registry", &url, "--dry-run"]);
    assert_eq!(keys(&json(&dry)), keys(&v));
    let elsewhere = format!("oci://{reg}/{}", unique("twice-elsewhere"));
    let dry = push(&ws, &[], &["--registry", &elsewhere, "--dry-run"]);
    let other = keys(&json(&dry));
    assert!(
        other.iter().all(|(t, k)| keys(&v).get(t) != Some(k)),
        "{other:?}"
    );
    assert_eq!(v2["uploads"], 0, "{v2}");
    assert!(pushes(&v2)
        .iter()
        .all(|a| a["status"] == "cached" && a["uploads"] == 0));
    assert!(second.stderr.contains("0 uploads"), "{}", second.stderr);
    // `wayfinder build` never pushes.
    let b = ws.build(&[]);
    assert!(!b.stdout.contains("\"push\""));
}

#[test]
fn a_version_tag_is_immutable_unless_forced() {
    let Some(reg) = servers::registry() else {
        println!("skipping: WAYFINDER_TEST_REGISTRY is not set (run scripts/test.sh)");
        return;
    };
    let ws = Workspace::example();
    let url = format!("oci://{reg}/{}", unique("immutable"));
    push(
        &ws,
        &[],
        &["--registry", &url, "--plain-http", "voyage:core"],
    )
    .assert_success();
    ws.append(
        "voyages/core/values/cert-manager.yaml",
        "\n# changed\nextraFlag: true\n",
    );
    let conflict = push(
        &ws,
        &[],
        &["--registry", &url, "--plain-http", "voyage:core"],
    );
    assert_eq!(conflict.code, Some(2), "{}", conflict.stderr);
    conflict.assert_stderr_mentions(&["already exists with different content", "--force"]);
    let forced = push(
        &ws,
        &[],
        &["--registry", &url, "--plain-http", "--force", "voyage:core"],
    );
    forced.assert_success();
    assert_eq!(pushes(&json(&forced))[0]["push_status"], "overwritten");
}

#[test]
fn a_registry_that_is_down_fails_clearly_and_leaves_the_workspace_intact() {
    let ws = Workspace::example();
    ws.build(&[]);
    let before = wayfinder_tests::snapshot(&ws.out());
    // Port 9 on loopback: nothing listens.
    let run = push(
        &ws,
        &[],
        &["--registry", "oci://127.0.0.1:9/acme", "--plain-http"],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_no_panic();
    run.assert_stderr_mentions(&["cannot reach registry `127.0.0.1:9`"]);
    assert_eq!(wayfinder_tests::snapshot(&ws.out()), before);
    ws.build(&[]);
}

#[test]
fn no_registry_configured_is_bad_input() {
    let ws = Workspace::example();
    ws.replace(
        "workspace.toml",
        &format!("url = \"{}\"", example_registry_url()),
        "",
    );
    let run = push(&ws, &[], &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    run.assert_stderr_mentions(&["no registry to push to"]);
    let run = push(&ws, &[], &["--registry", "https://x/y"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let run = push(
        &ws,
        &[],
        &["voyage:nope", "--registry", "oci://127.0.0.1:9/x"],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn wrong_credentials_name_the_registry_and_never_leak_the_password() {
    let (Some(reg), Some((user, _))) = (servers::registry_auth(), servers::credentials()) else {
        println!("skipping: WAYFINDER_TEST_REGISTRY_AUTH is not set (run scripts/test.sh)");
        return;
    };
    let ws = Workspace::example();
    let canary = "canary-pw-9f3b1e77";
    let url = format!("oci://{reg}/{}", unique("badcreds"));
    let mut args = vec![
        "push",
        "--json",
        "-vv",
        "--registry",
        &url,
        "--plain-http",
        "voyage:core",
    ];
    let mut cmd = ws.command(&args);
    cmd.env("WAYFINDER_REGISTRY_USERNAME", &user)
        .env("WAYFINDER_REGISTRY_PASSWORD", canary)
        .env("RUST_LOG", "trace");
    let run = ws.run_cmd(cmd, &args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_stderr_mentions(&["refused the credentials", &reg]);
    assert!(
        !run.stderr.contains(canary) && !run.stdout.contains(canary),
        "the password leaked"
    );
    // The same through a Docker config with -vv.
    let docker = ws.tmp().join("home/.docker");
    std::fs::create_dir_all(&docker).unwrap();
    let auth = crate::servers::base64(&format!("{user}:{canary}"));
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths": {{"{reg}": {{"auth": "{auth}"}}}}}}"#),
    )
    .unwrap();
    args.retain(|a| *a != "--json");
    let mut cmd = ws.command(&args);
    cmd.env("RUST_LOG", "trace");
    let run = ws.run_cmd(cmd, &args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        !run.stderr.contains(canary) && !run.stderr.contains(&auth),
        "the password leaked"
    );
}

#[test]
fn good_credentials_from_the_docker_config_push() {
    let (Some(reg), Some((user, pass))) = (servers::registry_auth(), servers::credentials()) else {
        println!("skipping: WAYFINDER_TEST_REGISTRY_AUTH is not set (run scripts/test.sh)");
        return;
    };
    let ws = Workspace::example();
    let docker = ws.tmp().join("home/.docker");
    std::fs::create_dir_all(&docker).unwrap();
    let auth = crate::servers::base64(&format!("{user}:{pass}"));
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths": {{"http://{reg}": {{"auth": "{auth}"}}}}}}"#),
    )
    .unwrap();
    let url = format!("oci://{reg}/{}", unique("goodcreds"));
    let run = push(
        &ws,
        &[],
        &[
            "--registry",
            &url,
            "--plain-http",
            "-vv",
            "voyage:observability",
        ],
    );
    run.assert_success();
    assert!(!run.stderr.contains(&pass) && !run.stdout.contains(&pass));
    // The environment variables work too, and an unchanged push uploads nothing.
    let run = push(
        &ws,
        &[
            ("WAYFINDER_REGISTRY_USERNAME", &user),
            ("WAYFINDER_REGISTRY_PASSWORD", &pass),
        ],
        &["--registry", &url, "--plain-http", "voyage:observability"],
    );
    run.assert_success();
    assert_eq!(json(&run)["uploads"], 0);
}

#[test]
fn cluster_renderings_push_as_flux_artifacts_and_skip_when_unchanged() {
    let Some(reg) = servers::registry() else {
        println!("skipping: WAYFINDER_TEST_REGISTRY is not set (run scripts/test.sh)");
        return;
    };
    let ws = Workspace::example();
    let prefix = unique("flux");
    let url = format!("oci://{reg}/{prefix}");
    let first = push(
        &ws,
        &[],
        &["--registry", &url, "--plain-http", "cluster:peu01"],
    );
    first.assert_success();
    let p = pushes(&json(&first));
    assert_eq!(p.len(), 1);
    assert!(p[0]["reference"]
        .as_str()
        .unwrap_or("")
        .ends_with("/clusters/peu01:latest"));
    let again = push(
        &ws,
        &[],
        &["--registry", &url, "--plain-http", "cluster:peu01"],
    );
    again.assert_success();
    assert_eq!(json(&again)["uploads"], 0);
    // The manifest carries Flux's media types.
    let (status, body) = http_get(
        &reg,
        &format!("/v2/{prefix}/clusters/peu01/manifests/latest"),
        "application/vnd.oci.image.manifest.v1+json",
    );
    assert_eq!(status, 200);
    let m: serde_json::Value = serde_json::from_slice(&body).expect("manifest JSON");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.cncf.flux.config.v1+json"
    );
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.cncf.flux.content.v1.tar+gzip"
    );
}

#[test]
fn the_voyage_manifest_has_the_designed_shape() {
    let Some(reg) = servers::registry() else {
        println!("skipping: WAYFINDER_TEST_REGISTRY is not set (run scripts/test.sh)");
        return;
    };
    let ws = Workspace::example();
    let prefix = unique("shape");
    let url = format!("oci://{reg}/{prefix}");
    push(
        &ws,
        &[],
        &["--registry", &url, "--plain-http", "voyage:core"],
    )
    .assert_success();
    let (status, body) = http_get(
        &reg,
        &format!("/v2/{prefix}/voyages/core/manifests/1.5.0"),
        "application/vnd.oci.image.manifest.v1+json",
    );
    assert_eq!(status, 200);
    let m: serde_json::Value = serde_json::from_slice(&body).expect("manifest JSON");
    assert_eq!(
        m["artifactType"],
        "application/vnd.wayfinder.voyage.v1+json"
    );
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.wayfinder.voyage.config.v1+json"
    );
    let layers = m["layers"].as_array().expect("layers");
    let charts = layers
        .iter()
        .filter(|l| l["mediaType"] == "application/vnd.cncf.helm.chart.content.v1.tar+gzip")
        .count();
    assert_eq!(charts, 3, "one layer per chart of core: {m}");
    assert_eq!(layers.len(), 4, "plus the values-and-policies layer: {m}");
    let a = &m["annotations"];
    assert_eq!(a["org.opencontainers.image.title"], "core");
    assert_eq!(a["org.opencontainers.image.version"], "1.5.0");
    assert_eq!(
        a["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    // The config is the resolved voyage.
    let digest = m["config"]["digest"].as_str().unwrap_or_default();
    let (status, cfg) = http_get(
        &reg,
        &format!("/v2/{prefix}/voyages/core/blobs/{digest}"),
        "*/*",
    );
    assert_eq!(status, 200);
    let cfg: serde_json::Value = serde_json::from_slice(&cfg).expect("config JSON");
    assert_eq!(cfg["name"], "core");
    let comps = cfg["components"].as_array().expect("components");
    let ingress = comps
        .iter()
        .find(|c| c["name"] == "ingress-nginx")
        .expect("ingress");
    assert_eq!(ingress["namespace"], "ingress");
    assert_eq!(ingress["needs"][0], "cert-manager");
    assert!(ingress["chart"]["digest"]
        .as_str()
        .unwrap_or("")
        .starts_with("sha256:"));
}

/// A minimal HTTP/1.0 GET; returns (status, body).
fn http_get(host: &str, path: &str, accept: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: {accept}\r\n\r\n"
    )
    .expect("send");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read");
    crate::servers::parse_response(&resp)
}

/// The workspace moves on: `voyages/core` is at 1.6.0 with other values, while peu01 still
/// pins `core@1.5.0`.
fn move_core_past_150(ws: &Workspace) {
    ws.replace(
        "voyages/core/voyage.toml",
        "version = \"1.5.0\"",
        "version = \"1.6.0\"",
    );
    ws.append(
        "voyages/core/values/cert-manager.yaml",
        "\nreplicaCount: 3\n",
    );
}

fn cluster_out(ws: &Workspace, cluster: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(ws.out().join("clusters").join(cluster))
        .expect("cluster output")
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

#[test]
fn a_cluster_pinned_to_a_version_only_the_registry_has_renders_from_the_artifact() {
    let Some(reg) = servers::registry() else {
        println!("skipping: WAYFINDER_TEST_REGISTRY is not set (run scripts/test.sh)");
        return;
    };
    let ws = Workspace::example();
    let prefix = unique("pull");
    ws.replace(
        "workspace.toml",
        &example_registry_url(),
        &format!("oci://{reg}/{prefix}"),
    );
    push(&ws, &[], &["--plain-http", "voyage:core"]).assert_success();
    ws.build(&[]);
    let at_150 = cluster_out(&ws, "peu01");
    assert!(at_150.len() > 2, "{at_150:?}");

    move_core_past_150(&ws);
    std::fs::remove_dir_all(ws.out()).expect("remove out/");
    let run = ws.build(&[]);
    assert_eq!(cluster_out(&ws, "peu01"), at_150, "{}", run.stderr);
    assert!(ws.path(".wayfinder/voyages").is_dir());

    // Pulled once, recorded by tag and stored by digest in the cache dir; the workspace
    // sees it through a link; later builds reuse it.
    let tag = ws
        .cache_dir()
        .join(format!("voyages-v1/tags/{reg}/{prefix}/voyages/core/1.5.0"));
    let digest = std::fs::read_to_string(&tag).expect("the tag is recorded in the cache");
    assert!(digest.starts_with("sha256:"));
    let stored = ws
        .cache_dir()
        .join(format!("voyages-v1/sha256-{}", &digest[7..]));
    assert!(stored.join("config.json").is_file());
    let seen = ws.path(&format!(".wayfinder/voyages/sha256-{}", &digest[7..]));
    assert!(seen.join("config.json").is_file());
    std::fs::remove_dir_all(ws.out()).expect("remove out/");
    ws.build(&[]);
    assert_eq!(cluster_out(&ws, "peu01"), at_150);
}

#[test]
fn an_old_pin_that_cannot_be_pulled_is_still_a_clear_error() {
    let ws = Workspace::example();
    ws.replace(
        "voyages/core/voyage.toml",
        "version = \"1.5.0\"",
        "version = \"1.6.0\"",
    );
    // A registry that is down.
    ws.replace(
        "workspace.toml",
        &example_registry_url(),
        "oci://127.0.0.1:9/acme",
    );
    let run = ws.run(&["build"]);
    run.assert_bad_input();
    run.assert_stderr_mentions(&["`core@1.5.0`", "cannot reach registry", "cannot be pulled"]);
    run.assert_points_at("clusters/gauss/peu01/cluster.toml", 2);
    // No registry at all.
    ws.replace("workspace.toml", "url = \"oci://127.0.0.1:9/acme\"", "");
    let run = ws.run(&["build"]);
    run.assert_bad_input();
    run.assert_stderr_mentions(&["`core@1.5.0`", "no `[registry] url`"]);
}

/// A throwaway `docker-registry` of this test only (killed with the guard).
struct OwnRegistry {
    child: std::process::Child,
}

impl OwnRegistry {
    fn start(dir: &std::path::Path, port: u16) -> Option<OwnRegistry> {
        Self::start_with(dir, port, None)
    }

    /// With `tls = (certificate, key)`, the registry speaks HTTPS only.
    fn start_with(
        dir: &std::path::Path,
        port: u16,
        tls: Option<(&std::path::Path, &std::path::Path)>,
    ) -> Option<OwnRegistry> {
        let storage = dir.join("storage");
        std::fs::create_dir_all(&storage).ok()?;
        let config = dir.join("registry.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n{}",
                storage.display(),
                tls.map(|(c, k)| format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    c.display(),
                    k.display()
                ))
                .unwrap_or_default()
            ),
        )
        .ok()?;
        let child = std::process::Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .env("REGISTRY_HTTP_SECRET", "wayfinder-tests")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let me = OwnRegistry { child };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(me);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }
}

impl Drop for OwnRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Blob data files the registry has stored.
fn stored_blobs(storage: &std::path::Path) -> usize {
    fn count(p: &std::path::Path, depth: usize) -> usize {
        if depth > 8 {
            return 0;
        }
        std::fs::read_dir(p)
            .map(|rd| {
                rd.flatten()
                    .map(|e| {
                        if e.file_type().is_ok_and(|t| t.is_dir()) {
                            count(&e.path(), depth + 1)
                        } else {
                            usize::from(e.file_name() == "data")
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&storage.join("docker/registry/v2/blobs"), 0)
}

#[test]
fn a_registry_killed_mid_push_never_has_a_tag_on_missing_blobs_and_the_push_completes_later() {
    if servers::registry().is_none() {
        println!("skipping: no test registry environment (run scripts/test.sh)");
        return;
    }
    let ws = Workspace::example();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let dir = ws.tmp().join("own-registry");
    let Some(registry) = OwnRegistry::start(&dir, port) else {
        println!("skipping: cannot start docker-registry");
        return;
    };
    let url = format!("oci://127.0.0.1:{port}/acme");
    ws.build(&[]);
    let args = ["push", "--registry", &url, "--plain-http", "voyage:core"];
    let mut cmd = ws.command(&args);
    cmd.env("SOURCE_DATE_EPOCH", "1700000000");
    let child = cmd.spawn().expect("spawn wayfinder push");
    // Kill the registry as soon as it has stored the first blob.
    let storage = dir.join("storage");
    let t0 = std::time::Instant::now();
    while stored_blobs(&storage) == 0 && t0.elapsed() < std::time::Duration::from_secs(60) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    drop(registry);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the push should fail: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Same storage, registry back: no tag yet, then the push completes.
    let _registry = OwnRegistry::start(&dir, port).expect("restart docker-registry");
    let host = format!("127.0.0.1:{port}");
    let accept = "application/vnd.oci.image.manifest.v1+json";
    let (status, _) = http_get(&host, "/v2/acme/voyages/core/manifests/1.5.0", accept);
    assert_eq!(status, 404, "a tag exists after a failed push");
    let again = push(
        &ws,
        &[],
        &["--registry", &url, "--plain-http", "voyage:core"],
    );
    again.assert_success();
    let p = pushes(&json(&again));
    // Blobs whose upload was cut off are uploaded again (the registry had not linked them).
    assert_eq!(p[0]["push_status"], "pushed", "{p:?}");
    let (status, body) = http_get(&host, "/v2/acme/voyages/core/manifests/1.5.0", accept);
    assert_eq!(status, 200);
    let m: serde_json::Value = serde_json::from_slice(&body).expect("manifest");
    let mut digests = vec![m["config"]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_string()];
    for l in m["layers"].as_array().expect("layers") {
        digests.push(l["digest"].as_str().unwrap_or_default().to_string());
    }
    for d in digests {
        let (status, _) = http_get(&host, &format!("/v2/acme/voyages/core/blobs/{d}"), "*/*");
        assert_eq!(status, 200, "blob {d} of the tagged manifest is missing");
    }
}

/// The example's `[registry] url` as the harness left it (pointed at the test registry).
fn example_registry_url() -> String {
    format!(
        "oci://{}/acme",
        wayfinder_tests::servers::registry().unwrap_or_else(|| "127.0.0.1:5000".into())
    )
}

/// Is Debian's `docker-registry` installed? (The tests with a registry of their own need it.)
fn docker_registry_installed() -> bool {
    std::process::Command::new("docker-registry")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `wayfinder build --json` with extra environment variables.
fn build_env(ws: &Workspace, env: &[(&str, &std::ffi::OsStr)]) -> Run {
    let args = ["build", "--json"];
    let mut cmd = ws.command(&args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    ws.run_cmd(cmd, &args)
}

#[test]
fn a_tls_registry_with_a_private_ca_works_with_ca_file_and_ssl_cert_file_and_fails_clearly_without()
{
    if !docker_registry_installed() {
        println!("skipping: docker-registry is not installed (scripts/test.sh installs it)");
        return;
    }
    let ws = Workspace::example();
    let dir = ws.tmp().join("tls-registry");
    let wayfinder_tests::pki::Pki { ca, cert, key } = wayfinder_tests::pki::make(&dir.join("pki"));
    let port = free_port();
    let _registry =
        OwnRegistry::start_with(&dir, port, Some((&cert, &key))).expect("start docker-registry");
    let host = format!("127.0.0.1:{port}");
    let url = format!("oci://{host}/acme");
    let ca_s = ca.to_string_lossy().into_owned();

    // Without the CA: a clear error naming the registry, a hint, no credential in sight.
    let canary = "canary-tls-pw-51c2e0";
    let run = push(
        &ws,
        &[
            ("WAYFINDER_REGISTRY_USERNAME", "someone"),
            ("WAYFINDER_REGISTRY_PASSWORD", canary),
            ("RUST_LOG", "trace"),
        ],
        &["--registry", &url, "-vv", "voyage:core"],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_no_panic();
    run.assert_stderr_mentions(&[
        &format!("TLS with registry `{host}` failed"),
        "certificate",
        "--ca-file",
        "SSL_CERT_FILE",
    ]);
    assert!(
        !run.stderr.contains(canary) && !run.stdout.contains(canary),
        "the password leaked"
    );
    assert!(
        !run.stderr.contains("retrying"),
        "a certificate is not retried"
    );

    // Plain HTTP to a TLS registry says so.
    let run = push(
        &ws,
        &[],
        &["--registry", &url, "--plain-http", "voyage:core"],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_stderr_mentions(&[&host, "speaks TLS", "drop `--plain-http`"]);

    // `--ca-file`.
    let run = push(
        &ws,
        &[],
        &["--registry", &url, "--ca-file", &ca_s, "voyage:core"],
    );
    run.assert_success();
    let p = pushes(&json(&run));
    assert_eq!(p[0]["push_status"], "pushed", "{p:?}");
    assert!(p[0]["reference"]
        .as_str()
        .unwrap_or("")
        .starts_with(&format!("{host}/acme/voyages/core:")));

    // `SSL_CERT_FILE`: the same push again uploads nothing.
    let run = push(
        &ws,
        &[("SSL_CERT_FILE", &ca_s)],
        &["--registry", &url, "voyage:core"],
    );
    run.assert_success();
    assert_eq!(json(&run)["uploads"], 0);
    assert_eq!(pushes(&json(&run))[0]["push_status"], "unchanged");

    // A missing CA file is bad input.
    let run = push(
        &ws,
        &[],
        &[
            "--registry",
            &url,
            "--ca-file",
            "no-such-ca.pem",
            "voyage:core",
        ],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    run.assert_stderr_mentions(&["no-such-ca.pem"]);

    // Pull: a cluster pinned to a version only the TLS registry has.
    ws.replace("workspace.toml", &example_registry_url(), &url);
    ws.build(&[]);
    let at_150 = cluster_out(&ws, "peu01");
    move_core_past_150(&ws);
    std::fs::remove_dir_all(ws.out()).expect("remove out/");
    // Loopback registries are plain HTTP for pulls unless told otherwise.
    let run = build_env(&ws, &[("SSL_CERT_FILE", ca.as_os_str())]);
    run.assert_bad_input();
    run.assert_stderr_mentions(&["`core@1.5.0`", &host, "WAYFINDER_REGISTRY_PLAIN_HTTP=0"]);
    let tls = std::ffi::OsStr::new("0");
    let run = build_env(&ws, &[("WAYFINDER_REGISTRY_PLAIN_HTTP", tls)]);
    run.assert_bad_input();
    run.assert_stderr_mentions(&["`core@1.5.0`", &host, "SSL_CERT_FILE"]);
    let run = build_env(
        &ws,
        &[
            ("WAYFINDER_REGISTRY_PLAIN_HTTP", tls),
            ("SSL_CERT_FILE", ca.as_os_str()),
        ],
    );
    run.assert_success();
    assert_eq!(cluster_out(&ws, "peu01"), at_150, "{}", run.stderr);

    // `wayfinder push --ca-file` trusts the CA for the pulls of the load too (fresh cache).
    let fresh = ws.tmp().join("fresh-cache");
    let fresh_s = fresh.to_string_lossy().into_owned();
    let run = push(
        &ws,
        &[
            ("WAYFINDER_REGISTRY_PLAIN_HTTP", "0"),
            ("WAYFINDER_CACHE_DIR", &fresh_s),
        ],
        &["--ca-file", &ca_s, "voyage:core"],
    );
    run.assert_success();
    assert!(pushes(&json(&run))[0]["reference"]
        .as_str()
        .unwrap_or("")
        .ends_with("/voyages/core:1.6.0"));
    assert!(fresh
        .join(format!("voyages-v1/tags/{host}/acme/voyages/core/1.5.0"))
        .is_file());
}

#[test]
fn a_second_checkout_sharing_the_cache_renders_a_pulled_pin_without_the_registry() {
    if !docker_registry_installed() {
        println!("skipping: docker-registry is not installed (scripts/test.sh installs it)");
        return;
    }
    let a = Workspace::example();
    let b = Workspace::example_named("second-checkout");
    let port = free_port();
    let registry =
        OwnRegistry::start(&a.tmp().join("own-registry"), port).expect("start docker-registry");
    let host = format!("127.0.0.1:{port}");
    let url = format!("oci://{host}/acme");
    for ws in [&a, &b] {
        ws.replace("workspace.toml", &example_registry_url(), &url);
    }
    push(&a, &[], &["--plain-http", "voyage:core"]).assert_success();
    a.build(&[]);
    let at_150 = cluster_out(&a, "peu01");
    for ws in [&a, &b] {
        move_core_past_150(ws);
    }
    std::fs::remove_dir_all(a.out()).expect("remove out/");
    a.build(&[]);
    assert_eq!(cluster_out(&a, "peu01"), at_150);
    // Stored in the cache, linked from the workspace.
    let tag = a
        .cache_dir()
        .join(format!("voyages-v1/tags/{host}/acme/voyages/core/1.5.0"));
    let digest = std::fs::read_to_string(&tag).expect("the tag is recorded in the cache");
    let hex = digest.trim().trim_start_matches("sha256:");
    assert!(a
        .cache_dir()
        .join(format!("voyages-v1/sha256-{hex}/config.json"))
        .is_file());
    let link = a.path(&format!(".wayfinder/voyages/sha256-{hex}"));
    if cfg!(unix) {
        let meta = std::fs::symlink_metadata(&link).expect("the workspace link");
        assert!(meta.file_type().is_symlink(), "not a link into the cache");
    }
    drop(registry);

    // The registry is gone: a checkout with a cache of its own cannot pull…
    let run = b.run(&["build"]);
    run.assert_bad_input();
    run.assert_stderr_mentions(&["`core@1.5.0`", "cannot reach registry"]);
    // …and one sharing the first one's cache renders the pinned cluster without it.
    let run = build_env(&b, &[("WAYFINDER_CACHE_DIR", a.cache_dir().as_os_str())]);
    run.assert_success();
    assert_eq!(cluster_out(&b, "peu01"), at_150, "{}", run.stderr);
    assert!(b
        .path(&format!(".wayfinder/voyages/sha256-{hex}/config.json"))
        .is_file());
}
