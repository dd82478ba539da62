//! The test servers `scripts/test.sh` starts answer as the other tests
//! expect (skipped when the variables are not set).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use wayfinder_tests::servers;

/// A minimal HTTP/1.0 request; returns (status, body).
fn http(method: &str, url: &str, body: &[u8], auth: Option<(&str, &str)>) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut req = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some((user, password)) = auth {
        req.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(&format!("{user}:{password}"))
        ));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).expect("send");
    stream.write_all(body).expect("send body");
    let mut resp = Vec::new();
    stream.read_to_end(&mut resp).expect("read");
    parse_response(&resp)
}

/// The status code and body of a raw HTTP/1.0 response.
pub(crate) fn parse_response(resp: &[u8]) -> (u16, Vec<u8>) {
    let text = String::from_utf8_lossy(resp);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body_at = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(resp.len(), |i| i + 4);
    (status, resp[body_at..].to_vec())
}

/// Standard base64 (for Basic auth headers).
pub(crate) fn base64(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &x)| acc | (u32::from(x) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn http_cache_server_stores_and_serves_blobs() {
    let Some(url) = servers::http_cache() else {
        println!("skipping: WAYFINDER_TEST_HTTP_CACHE is not set (run scripts/test.sh)");
        return;
    };
    let key = format!("{url}/cas/wayfinder-tests-smoke-{}", std::process::id());
    let (put, _) = http("PUT", &key, b"blob", None);
    assert!(matches!(put, 200 | 201 | 204), "PUT {key}: {put}");
    assert_eq!(http("GET", &key, b"", None), (200, b"blob".to_vec()));
    assert_eq!(
        http("GET", &format!("{url}/ac/missing-entry"), b"", None).0,
        404
    );
    http("DELETE", &key, b"", None);
}

#[test]
fn auth_http_cache_server_wants_credentials() {
    let (Some(url), Some((user, password))) = (servers::http_cache_auth(), servers::credentials())
    else {
        println!("skipping: WAYFINDER_TEST_HTTP_CACHE_AUTH is not set (run scripts/test.sh)");
        return;
    };
    let key = format!("{url}/cas/wayfinder-tests-auth-{}", std::process::id());
    assert_eq!(http("PUT", &key, b"x", None).0, 401);
    assert_eq!(http("PUT", &key, b"x", Some((&user, "wrong"))).0, 401);
    let (put, _) = http("PUT", &key, b"x", Some((&user, &password)));
    assert!(
        matches!(put, 200 | 201 | 204),
        "PUT with credentials: {put}"
    );
}

#[test]
fn registries_answer_the_v2_api() {
    let (Some(open), Some(auth), Some((user, password))) = (
        servers::registry(),
        servers::registry_auth(),
        servers::credentials(),
    ) else {
        println!("skipping: WAYFINDER_TEST_REGISTRY is not set (run scripts/test.sh)");
        return;
    };
    assert_eq!(http("GET", &format!("http://{open}/v2/"), b"", None).0, 200);
    assert_eq!(http("GET", &format!("http://{auth}/v2/"), b"", None).0, 401);
    assert_eq!(
        http(
            "GET",
            &format!("http://{auth}/v2/"),
            b"",
            Some((&user, &password))
        )
        .0,
        200
    );
}
