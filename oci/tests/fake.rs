//! The client against a tiny in-test HTTP server (`TcpListener` on port 0) that misbehaves
//! in ways a real registry will not on demand: tampered blobs, malformed manifests, 503s.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wayfinder_oci::{sha256_digest, Credentials, OciError, Registry, RegistryOptions};

/// Serves `answer(method, path) -> (status, body)` until the test ends; returns `host:port`.
fn serve(answer: impl Fn(&str, &str) -> (u16, Vec<u8>) + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                let mut length = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let (status, out) = answer(&method, &path);
                let mut s = stream;
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n",
                    if method == "HEAD" { 0 } else { out.len() }
                );
                if method != "HEAD" {
                    let _ = s.write_all(&out);
                }
            });
        }
    });
    addr
}

fn client(host: &str) -> Registry {
    Registry::new(
        host,
        RegistryOptions {
            plain_http: true,
            credentials: Some(Credentials {
                username: String::new(),
                secret: String::new(),
            }),
            retries: 3,
            backoff: Duration::from_millis(5),
            timeout: Duration::from_secs(5),
            ..Default::default()
        },
    )
    .expect("client")
}

#[test]
fn a_pulled_blob_whose_digest_does_not_match_is_rejected() {
    let host = serve(|_, path| {
        if path.contains("/blobs/") {
            (200, b"tampered content".to_vec())
        } else {
            (200, b"{}".to_vec())
        }
    });
    let reg = client(&host);
    let want = sha256_digest(b"the real content");
    let e = reg.pull_blob("acme/x", &want).unwrap_err();
    assert!(matches!(e, OciError::DigestMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains(&host), "{e}");
    assert_eq!(reg.stats().blobs_downloaded, 0);
}

#[test]
fn a_malformed_manifest_is_rejected() {
    let host = serve(|_, path| {
        if path.ends_with("/manifests/1.0.0") {
            (200, b"{\"schemaVersion\": 2, \"layers\": \"nope\"".to_vec())
        } else if path.ends_with("/manifests/2.0.0") {
            (200, br#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:../../etc","size":1},"layers":[]}"#.to_vec())
        } else {
            (200, b"{}".to_vec())
        }
    });
    let reg = client(&host);
    for tag in ["1.0.0", "2.0.0"] {
        let e = reg.pull_image_manifest("acme/x", tag).unwrap_err();
        assert!(matches!(e, OciError::BadManifest { .. }), "{tag}: {e:?}");
    }
    // A manifest pulled by digest must have that digest.
    let e = reg
        .pull_manifest("acme/x", &sha256_digest(b"something else"))
        .unwrap_err();
    assert!(
        matches!(
            e,
            OciError::DigestMismatch { .. } | OciError::Registry { .. }
        ),
        "{e:?}"
    );
}

#[test]
fn server_errors_and_throttling_are_retried_with_backoff() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let host = serve(move |method, _| {
        if method == "HEAD" {
            let n = c.fetch_add(1, Ordering::SeqCst);
            return match n {
                0 => (503, Vec::new()),
                1 => (429, Vec::new()),
                _ => (200, Vec::new()),
            };
        }
        (200, b"{}".to_vec())
    });
    let reg = client(&host);
    assert!(reg.head_blob("acme/x", &sha256_digest(b"a")).unwrap());
    assert_eq!(reg.stats().retries, 2);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // A registry that keeps failing gives up with the last error.
    let host = serve(|_, _| (500, b"boom".to_vec()));
    let e = client(&host)
        .head_blob("acme/x", &sha256_digest(b"a"))
        .unwrap_err();
    assert!(matches!(e, OciError::Registry { .. }), "{e:?}");
}
