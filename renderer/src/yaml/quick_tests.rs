use super::*;
use crate::manifest::{full_head, split_manifests};

/// What the full parser says: `Some(head)` when the document decodes, `None` on an error.
fn reference(doc: &str) -> Option<QuickHead> {
    let d = full_head("t.yaml", doc.to_string()).ok()?;
    Some(QuickHead {
        api_version: d.api_version,
        kind: d.kind,
        name: d.name,
        annotations: d.annotations,
    })
}

/// The property that makes the fast path safe: whenever it answers, the full parser accepts
/// the document and reads the same head.
fn check(doc: &str) -> bool {
    match quick_head(doc) {
        None => false,
        Some(h) => {
            assert_eq!(Some(h), reference(doc), "quick_head disagrees on:\n{doc}");
            true
        }
    }
}

#[test]
fn reads_common_documents() {
    let doc = "\
# a comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: \"rel-app\"
  labels:
    app: x
  annotations:
    helm.sh/hook: pre-install,post-install
    'quoted': 'it''s'
    empty:
    checksum/config: \"abc\\\"d\"
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: app
        image: \"nginx:1.2\"
        args: [\"--a\", '--b', c]
        command:
          - /bin/sh
          - -c
          - |
            echo hi
              indented: text # not a comment

            done
        env: []
        resources: {}
      - - nested
        - seq
      -
        name: later
  description: a long plain scalar
    continued here
    and here # with a comment
  folded: >-
    text
  quoted: \"multi
    line\"
";
    assert!(check(doc));
    let h = quick_head(doc).unwrap();
    assert_eq!(h.kind, "Deployment");
    assert_eq!(h.api_version, "apps/v1");
    assert_eq!(h.name, "rel-app");
    assert_eq!(h.annotations["helm.sh/hook"], "pre-install,post-install");
    assert_eq!(h.annotations["quoted"], "it's");
    assert_eq!(h.annotations["empty"], "");
    assert_eq!(h.annotations["checksum/config"], "abc\"d");
    // No metadata at all, metadata: {} and null metadata.
    for doc in [
        "kind: A\n",
        "kind: A\nmetadata: {}\n",
        "kind: A\nmetadata:\n",
        "kind: A\nmetadata:\n  annotations: {}\n",
        "# only a comment\n",
        "a: :8080\nb:\n- :x\n",
    ] {
        assert!(check(doc), "{doc}");
    }
}

#[test]
fn leaves_everything_else_to_the_full_parser() {
    for doc in [
        // errors
        "a: b: c\n",
        "a: 1\n b: 2\n",
        "a:\n  - x\n  y: 1\n",
        "a: \"unterminated\n",
        "a: 'x' y\n",
        "a: |x\n  t\n",
        "a: - b\n",
        "a: :\n",
        "a: : b\n",
        "a: \"\\q\"\n",
        "a:\n\t- x\n",
        "- a\n- b\n",
        "just a scalar\n",
        // valid, but outside the subset or not plain strings
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "? a\n: b\n",
        "kind: 1\n",
        "kind: true\n",
        "kind: [a]\n",
        "Kind: A\n",
        "kind: A\nkind: B\n",
        "metadata: x\n",
        "metadata:\n  name: a\n    b\n",
        "metadata:\n  annotations:\n    a: 1\n",
        "metadata:\n  annotations:\n    true: x\n",
        "a: {b: c}\n",
        "a: [b, [c]]\n",
        "a: |2\n   x\n",
        "a: \"x\\\n  y\"\n",
        "a: b\n...\n",
        "a: b\r\n",
        "a: \u{85}\n",
        "<<: {a: b}\n",
        "a: |\n     \n  b\n", // leading blank line deeper than the content
        "apiVersion: v1\nnull: Secret\n", // a null key: the conversion to JSON fails
        "kind: A\nspec:\n  NULL: 1\n",
    ] {
        assert_eq!(quick_head(doc), None, "{doc:?}");
    }
}

fn corpus_docs() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let root = if root.join("expected").is_dir() {
        root
    } else {
        std::path::PathBuf::from("/work/shared/conformance")
    };
    let mut docs = Vec::new();
    let Ok(charts) = std::fs::read_dir(root.join("expected")) else {
        return docs;
    };
    let mut files: Vec<_> = charts
        .flatten()
        .flat_map(|c| std::fs::read_dir(c.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(m) = v.get("manifests").and_then(|m| m.as_object()) else {
            continue;
        };
        for (path, content) in m {
            if path.ends_with("NOTES.txt") {
                continue;
            }
            if let Some(c) = content.as_str() {
                docs.extend(split_manifests(c));
            }
        }
    }
    docs
}

#[test]
fn agrees_with_the_full_parser_on_the_corpus() {
    let docs = corpus_docs();
    if docs.is_empty() {
        eprintln!("skipped: conformance corpus not found");
        return;
    }
    let (mut fast, mut fast_bytes, mut bytes) = (0, 0, 0);
    for d in &docs {
        bytes += d.len();
        if check(d) {
            fast += 1;
            fast_bytes += d.len();
        }
    }
    let mut misses: Vec<&String> = docs.iter().filter(|d| quick_head(d).is_none()).collect();
    misses.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in misses.iter().take(12) {
        let mut stop = 0;
        let _ = quick_head_at(d, &mut stop);
        let line = d.split('\n').nth(stop).unwrap_or("<end>");
        let prev = d.split('\n').nth(stop.saturating_sub(1)).unwrap_or("");
        eprintln!(
            "miss ({} bytes) at line {stop}: {prev:?} / {line:?}",
            d.len()
        );
    }
    eprintln!(
        "quick_head: {fast}/{} documents, {fast_bytes}/{bytes} bytes on the fast path",
        docs.len()
    );
    assert!(fast_bytes * 10 >= bytes * 9, "{fast_bytes}/{bytes}");
}

/// Small random edits of corpus documents: whenever the fast path answers, the full parser
/// must agree. (A deterministic xorshift generator keeps failures reproducible.)
#[test]
fn mutated_documents_never_fool_the_fast_path() {
    let docs = corpus_docs();
    if docs.is_empty() {
        eprintln!("skipped: conformance corpus not found");
        return;
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const PIECES: &[&str] = &[
        ":", ": ", " #", "#", "-", "- ", "\"", "'", "\\", "|", ">", "|-", "[", "]", "{", "}", ",",
        "&a", "*a", "!", "?", " ", "  ", "\n", "\n ", "\n  - ", "\t", "%", "@", "`", "''", "\\u00",
        "\\x4", "---", "...", "key: ", "kind: ", "true", "1", "~", "null", "é", "\u{2028}",
    ];
    let small: Vec<&String> = docs.iter().filter(|d| d.len() < 4000).collect();
    let rounds = if cfg!(debug_assertions) { 4000 } else { 40_000 };
    let mut answered = 0;
    for _ in 0..rounds {
        let doc = small[(next() % small.len() as u64) as usize];
        let mut s: Vec<char> = doc.chars().collect();
        for _ in 0..1 + next() % 3 {
            let at = (next() % (s.len() as u64 + 1)) as usize;
            match next() % 3 {
                0 => {
                    let p = PIECES[(next() % PIECES.len() as u64) as usize];
                    s.splice(at..at, p.chars());
                }
                1 if at < s.len() => {
                    s.remove(at);
                }
                _ => {
                    let p = PIECES[(next() % PIECES.len() as u64) as usize];
                    let end = (at + p.chars().count()).min(s.len());
                    s.splice(at..end, p.chars());
                }
            }
        }
        let m: String = s.into_iter().collect();
        answered += usize::from(check(&m));
    }
    eprintln!("mutations answered by the fast path: {answered}/{rounds}");
}
