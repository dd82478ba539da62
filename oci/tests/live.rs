//! The client against the real test registries (`scripts/test.sh` starts them); skipped with
//! a message when `WAYFINDER_TEST_REGISTRY` is not set.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::time::Duration;

use wayfinder_oci::{sha256_digest, Credentials, Image, OciError, Registry, RegistryOptions};

fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("wf-oci-live/{name}-{}-{nanos}", std::process::id())
}

fn open(host: &str, creds: Option<Credentials>) -> Registry {
    Registry::new(
        host,
        RegistryOptions {
            plain_http: true,
            credentials: Some(creds.unwrap_or(Credentials {
                username: String::new(),
                secret: String::new(),
            })),
            retries: 1,
            backoff: Duration::from_millis(10),
            ..Default::default()
        },
    )
    .expect("client")
}

#[test]
fn blobs_and_images_round_trip_and_unchanged_pushes_upload_nothing() {
    let Some(host) = env("WAYFINDER_TEST_REGISTRY") else {
        println!("skipping: WAYFINDER_TEST_REGISTRY is not set (run scripts/test.sh)");
        return;
    };
    let reg = open(&host, None);
    let repo = unique("img");
    let data = format!("blob {repo}").into_bytes();
    let d = sha256_digest(&data);
    assert!(!reg.head_blob(&repo, &d).unwrap());
    assert!(reg.ensure_blob(&repo, &d, &data).unwrap());
    assert!(!reg.ensure_blob(&repo, &d, &data).unwrap());
    assert_eq!(reg.pull_blob(&repo, &d).unwrap(), Some(data.clone()));
    assert_eq!(
        reg.pull_blob(&repo, &sha256_digest(b"absent")).unwrap(),
        None
    );

    let img = Image::new(
        Some("application/x-wayfinder-test"),
        ("application/x-config", b"{}".to_vec()),
        vec![("application/x-layer".into(), data.clone(), BTreeMap::new())],
        BTreeMap::new(),
    );
    let first = reg.push_image(&repo, "1.0.0", &img, false).unwrap();
    assert_eq!(
        (first.status, first.blobs_uploaded, first.blobs_present),
        ("pushed", 1, 1)
    );
    let again = reg.push_image(&repo, "1.0.0", &img, false).unwrap();
    assert_eq!((again.status, again.blobs_uploaded), ("unchanged", 0));
    let (m, _, digest) = reg.pull_image_manifest(&repo, "1.0.0").unwrap().unwrap();
    assert_eq!(digest, img.digest());
    assert_eq!(m, img.manifest);
    assert_eq!(reg.pull_descriptor(&repo, &m.layers[0]).unwrap(), data);
    assert!(reg.pull_image_manifest(&repo, "9.9.9").unwrap().is_none());

    // Different content under the same tag: refused, then forced.
    let other = Image::new(
        Some("application/x-wayfinder-test"),
        ("application/x-config", b"{\"v\":2}".to_vec()),
        vec![("application/x-layer".into(), data, BTreeMap::new())],
        BTreeMap::new(),
    );
    let e = reg.push_image(&repo, "1.0.0", &other, false).unwrap_err();
    assert!(matches!(e, OciError::TagConflict { .. }), "{e}");
    assert_eq!(
        reg.head_manifest(&repo, "1.0.0").unwrap(),
        Some(img.digest())
    );
    let forced = reg.push_image(&repo, "1.0.0", &other, true).unwrap();
    assert_eq!(forced.status, "overwritten");
    assert_eq!(
        reg.head_manifest(&repo, "1.0.0").unwrap(),
        Some(other.digest())
    );
}

#[test]
fn the_auth_registry_takes_good_credentials_and_names_itself_on_bad_ones() {
    let (Some(host), Some(user), Some(pass)) = (
        env("WAYFINDER_TEST_REGISTRY_AUTH"),
        env("WAYFINDER_TEST_REGISTRY_USER"),
        env("WAYFINDER_TEST_REGISTRY_PASSWORD"),
    ) else {
        println!("skipping: WAYFINDER_TEST_REGISTRY_AUTH is not set (run scripts/test.sh)");
        return;
    };
    let repo = unique("auth");
    let good = open(
        &host,
        Some(Credentials {
            username: user.clone(),
            secret: pass,
        }),
    );
    let data = b"authed".to_vec();
    let d = sha256_digest(&data);
    good.ensure_blob(&repo, &d, &data).unwrap();
    assert_eq!(good.pull_blob(&repo, &d).unwrap(), Some(data.clone()));

    let canary = "canary-Wr0ng-pa55";
    let bad = open(
        &host,
        Some(Credentials {
            username: user,
            secret: canary.into(),
        }),
    );
    let e = bad.head_blob(&repo, &d).unwrap_err();
    assert!(
        matches!(e, OciError::Unauthorized { status: 401, .. }),
        "{e:?}"
    );
    let text = format!("{e} {e:?}");
    assert!(text.contains(&host), "{text}");
    assert!(!text.contains(canary), "{text}");
    let anon = open(&host, None);
    assert!(matches!(
        anon.push_blob(&repo, &d, &data).unwrap_err(),
        OciError::Unauthorized { .. }
    ));
}
