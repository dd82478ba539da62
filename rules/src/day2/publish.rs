//! `wayfinder publish`: the rendered tree as one commit on a branch of a GitOps repository
//! (the "rendered manifests" pattern).
//!
//! 1. The files of `out/clusters/` are read once. The GitOps repository is never checked
//!    out: a temporary bare repository fetches the branch tip (`--depth 1`).
//! 2. `git fast-import` makes one commit on that tip whose tree is the tip's tree with
//!    `PREFIX/clusters/` replaced by the rendered files (files of removed clusters and
//!    components disappear; everything outside `PREFIX/clusters/` is kept). Its message
//!    names the source commit.
//! 3. The same tree as the tip's: nothing changed, no commit, no push.
//! 4. `git push` without force. A push rejected because the branch moved (another publisher
//!    won) goes back to 1 on the new tip, after a jittered back-off, within a bounded number
//!    of attempts, so concurrent publishers lose no update and the history stays linear.
//!    A push refused by a server hook fails at once with the hook's message.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::git::{first_error, short, Git};
use super::Day2Error;

/// Told about each retry: (attempt that failed, why).
pub type RetryHook = dyn Fn(usize, &str) + Sync;

/// What to publish where.
pub struct PublishOptions<'a> {
    /// `--git`: a path (of a bare repository, usually) or a URL.
    pub url: String,
    pub branch: String,
    /// `--path`: where `clusters/` goes in the repository (`""`: the top).
    pub prefix: String,
    /// Push attempts before giving up on a busy branch.
    pub attempts: usize,
    /// The workspace root (its commit is named in the message).
    pub source_root: &'a Path,
    /// The workspace name, for the message.
    pub source_name: String,
    /// The rendered output directory (`out/`); `out/clusters/` is published.
    pub out_dir: PathBuf,
    /// Told about each retry: (attempt that failed, why).
    pub on_retry: Option<&'a RetryHook>,
}

/// What a publish did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// The branch already holds this rendering.
    Unchanged { tip: Option<String> },
    /// A commit was pushed.
    Committed {
        commit: String,
        /// Attempts it took (1 without contention).
        attempts: usize,
        files: usize,
    },
}

/// The default number of push attempts.
pub const DEFAULT_ATTEMPTS: usize = 20;

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pseudo_random() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // SplitMix64 over the clock and the pid: enough to spread concurrent publishers.
    let mut z = nanos ^ (u64::from(std::process::id()) << 32);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The back-off before attempt `n + 1`: grows with `n`, jittered, at most ~1.5 s.
fn backoff(n: usize) -> Duration {
    let base = 25u64 << n.min(6);
    let jitter = pseudo_random() % (base + 1);
    Duration::from_millis((base / 2 + jitter).min(1500))
}

/// The URL as shown in messages: a password or token in it is hidden.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let host_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..host_end].rfind('@') {
            let userinfo = &rest[..at];
            let host = &rest[at + 1..];
            return match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None if scheme.starts_with("http") => format!("{scheme}://***@{host}"),
                None => url.to_string(),
            };
        }
    }
    url.to_string()
}

/// Normalizes `--path`: no `..`, no leading `/`; `""` or `.` is the top.
fn clean_prefix(p: &str) -> Result<String, Day2Error> {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if p.starts_with('/')
        || parts
            .iter()
            .any(|s| *s == ".." || s.contains('\n') || s.starts_with('"'))
    {
        return Err(Day2Error::Usage {
            message: format!("`--path {p}` is not a relative path inside the repository"),
            help: Some("use a path such as `fleet` or `envs/prod`".into()),
        });
    }
    Ok(parts.join("/"))
}

/// Every file under `dir`, as (path relative to `dir`, bytes), sorted.
fn collect_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, Day2Error> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, rel)) = stack.pop() {
        let rd = match std::fs::read_dir(&d) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && rel.is_empty() => return Ok(out),
            Err(e) => return Err(Day2Error::Io(format!("cannot read `{}`: {e}", d.display()))),
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            // Temp files of a build; names fast-import would need quoted.
            if name.starts_with('.') || name.contains('\n') || name.starts_with('"') {
                continue;
            }
            let r = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let ft = e.file_type().map_err(|err| {
                Day2Error::Io(format!("cannot stat `{}`: {err}", e.path().display()))
            })?;
            if ft.is_dir() {
                stack.push((e.path(), r));
            } else if ft.is_file() {
                let data = std::fs::read(e.path()).map_err(|err| {
                    Day2Error::Io(format!("cannot read `{}`: {err}", e.path().display()))
                })?;
                out.push((r, data));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The workspace's commit, and whether tracked files differ from it.
fn source_commit(root: &Path) -> Option<(String, bool)> {
    let git = Git::new(root);
    git.toplevel().ok()?;
    let head = git.run(&["rev-parse", "--verify", "HEAD"]).ok()?;
    let dirty = git
        .run(&["status", "--porcelain", "--untracked-files=no"])
        .map(|s| !s.trim().is_empty())
        .unwrap_or(false);
    Some((head, dirty))
}

fn message(
    opts: &PublishOptions<'_>,
    source: &Option<(String, bool)>,
    clusters: usize,
    files: usize,
    dest: &str,
) -> String {
    let mut m = String::new();
    match source {
        Some((sha, dirty)) => {
            let _ = writeln!(
                m,
                "publish {} from {}{}",
                opts.source_name,
                short(sha),
                if *dirty {
                    " with uncommitted changes"
                } else {
                    ""
                }
            );
            let _ = writeln!(m, "\nSource-Commit: {sha}");
            if *dirty {
                let _ = writeln!(m, "Source-Dirty: the working tree had uncommitted changes");
            }
        }
        None => {
            let _ = writeln!(m, "publish {} (no source commit)", opts.source_name);
            let _ = writeln!(
                m,
                "\nSource-Commit: none (the workspace is not in a git repository)"
            );
        }
    }
    let _ = writeln!(
        m,
        "Rendered: {clusters} clusters, {files} files in `{dest}`"
    );
    m
}

/// Publishes the rendered tree; see the module guide.
pub fn publish(opts: &PublishOptions<'_>) -> Result<PublishOutcome, Day2Error> {
    let prefix = clean_prefix(&opts.prefix)?;
    let dest = if prefix.is_empty() {
        "clusters".to_string()
    } else {
        format!("{prefix}/clusters")
    };
    // A local path is made absolute: git runs in the temporary repository.
    let url = match std::fs::canonicalize(&opts.url) {
        Ok(p) if Path::new(&opts.url).exists() => p.display().to_string(),
        _ => opts.url.clone(),
    };
    let files = collect_files(&opts.out_dir.join("clusters"))?;
    let clusters = {
        let mut names: Vec<&str> = files
            .iter()
            .filter_map(|(p, _)| p.split_once('/').map(|x| x.0))
            .collect();
        names.dedup();
        names.len()
    };
    let source = source_commit(opts.source_root);
    let msg = message(opts, &source, clusters, files.len(), &dest);

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = TempDir(
        std::env::temp_dir().join(format!("wayfinder-publish-{}-{nanos}", std::process::id())),
    );
    std::fs::create_dir_all(&tmp.0)
        .map_err(|e| Day2Error::Io(format!("cannot create `{}`: {e}", tmp.0.display())))?;
    let git = Git::new(&tmp.0);
    git.run(&["init", "-q", "--bare"])?;
    let ok = git
        .output(&["check-ref-format", "--branch", &opts.branch])?
        .ok;
    if !ok || opts.branch.starts_with('-') {
        return Err(Day2Error::Usage {
            message: format!("`{}` is not a valid branch name", opts.branch),
            help: Some("use a branch name such as `main` or `rendered/prod`".into()),
        });
    }
    let (name, email) = if source.is_some() {
        Git::new(opts.source_root).identity()
    } else {
        git.identity()
    };
    let branch_ref = format!("refs/heads/{}", opts.branch);
    let attempts = opts.attempts.max(1);
    for attempt in 1..=attempts {
        // 1. The branch tip.
        let _ = git.output(&["update-ref", "-d", "refs/wayfinder/base"]);
        let fetch = git.output(&[
            "fetch",
            "-q",
            "--depth=1",
            "--no-tags",
            "--end-of-options",
            &url,
            &format!("+{branch_ref}:refs/wayfinder/base"),
        ])?;
        let tip = if fetch.ok {
            git.try_rev_parse("refs/wayfinder/base")?
        } else if fetch.stderr.contains("couldn't find remote ref") {
            None
        } else {
            return Err(Day2Error::NotARemote {
                url: redact(&opts.url),
                message: first_error(&fetch.stderr).replace(&url, &redact(&url)),
            });
        };
        // 2. The commit.
        let stream = fast_import_stream(&name, &email, &msg, tip.as_deref(), &dest, &files);
        git.run_with_input(&["fast-import", "--quiet", "--force"], &stream)?;
        let commit = git.run(&["rev-parse", "--verify", "refs/wayfinder/publish"])?;
        // 3. Nothing changed?
        let new_tree = git.run(&["rev-parse", &format!("{commit}^{{tree}}")])?;
        let unchanged = match &tip {
            Some(t) => git.run(&["rev-parse", &format!("{t}^{{tree}}")])? == new_tree,
            None => files.is_empty(),
        };
        if unchanged {
            return Ok(PublishOutcome::Unchanged { tip });
        }
        // 4. Push.
        let push = git.output(&[
            "push",
            "--porcelain",
            "--end-of-options",
            &url,
            &format!("{commit}:{branch_ref}"),
        ])?;
        if push.ok {
            return Ok(PublishOutcome::Committed {
                commit,
                attempts: attempt,
                files: files.len(),
            });
        }
        let hidden = redact(&url);
        let scrub = |m: String| {
            if hidden == url {
                m
            } else {
                m.replace(&url, &hidden)
            }
        };
        match classify_push(&push.stdout, &push.stderr) {
            PushFailure::Moved(why) => {
                if let Some(f) = opts.on_retry {
                    f(attempt, &scrub(why));
                }
                if attempt < attempts {
                    std::thread::sleep(backoff(attempt));
                }
            }
            PushFailure::Hook(message) => {
                return Err(Day2Error::HookRejected {
                    url: redact(&opts.url),
                    message: scrub(message),
                })
            }
            PushFailure::Other(message) => {
                return Err(Day2Error::PushRejected {
                    url: redact(&opts.url),
                    message: scrub(message),
                })
            }
        }
    }
    Err(Day2Error::Contention {
        branch: opts.branch.clone(),
        attempts,
    })
}

/// The `git fast-import` input of the publish commit.
fn fast_import_stream(
    name: &str,
    email: &str,
    msg: &str,
    tip: Option<&str>,
    dest: &str,
    files: &[(String, Vec<u8>)],
) -> Vec<u8> {
    let size: usize = files.iter().map(|(p, d)| p.len() + d.len() + 64).sum();
    let mut s: Vec<u8> = Vec::with_capacity(size + 1024);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // `<`, `>` and newlines cannot appear in an ident.
    let clean = |v: &str| v.replace(['<', '>', '\n'], "");
    s.extend_from_slice(b"commit refs/wayfinder/publish\n");
    s.extend_from_slice(
        format!("committer {} <{}> {now} +0000\n", clean(name), clean(email)).as_bytes(),
    );
    s.extend_from_slice(format!("data {}\n", msg.len()).as_bytes());
    s.extend_from_slice(msg.as_bytes());
    s.push(b'\n');
    if let Some(t) = tip {
        s.extend_from_slice(format!("from {t}\n").as_bytes());
        s.extend_from_slice(format!("D {dest}\n").as_bytes());
    }
    for (path, data) in files {
        s.extend_from_slice(format!("M 100644 inline {dest}/{path}\n").as_bytes());
        s.extend_from_slice(format!("data {}\n", data.len()).as_bytes());
        s.extend_from_slice(data);
        s.push(b'\n');
    }
    s.push(b'\n');
    s
}

/// Why a push failed.
#[derive(Debug, PartialEq, Eq)]
enum PushFailure {
    /// The branch moved (another publisher pushed first): fetch and try again.
    Moved(String),
    /// A hook refused the push: its messages.
    Hook(String),
    Other(String),
}

/// Reads `git push --porcelain` output: `!\t<src>:<dst>\t[rejected] (fetch first)`.
fn classify_push(stdout: &str, stderr: &str) -> PushFailure {
    let status = stdout
        .lines()
        .find(|l| l.starts_with('!'))
        .map(|l| l.split('\t').nth(2).unwrap_or(l).to_string());
    let remote: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("remote:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let Some(status) = status else {
        return PushFailure::Other(first_error(stderr));
    };
    let moved = status.starts_with("[rejected]")
        || [
            "cannot lock ref",
            "failed to lock",
            "failed to update ref",
            "incorrect old value",
            "reference already exists",
        ]
        .iter()
        .any(|m| status.contains(m));
    if moved {
        return PushFailure::Moved(status);
    }
    if status.contains("hook declined") {
        let msg = if remote.is_empty() {
            status
        } else {
            remote.join("\n")
        };
        return PushFailure::Hook(msg);
    }
    let mut msg = status;
    if !remote.is_empty() {
        msg.push_str(": ");
        msg.push_str(&remote.join("; "));
    }
    PushFailure::Other(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_normalized_or_refused() {
        assert_eq!(clean_prefix("").unwrap(), "");
        assert_eq!(clean_prefix(".").unwrap(), "");
        assert_eq!(clean_prefix("fleet/prod/").unwrap(), "fleet/prod");
        assert_eq!(clean_prefix("./a//b").unwrap(), "a/b");
        for bad in ["/abs", "a/../b", ".."] {
            assert!(clean_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn push_failures_are_told_apart() {
        let out = "To /r.git\n!\tabc:refs/heads/main\t[rejected] (fetch first)\nDone\n";
        assert!(matches!(classify_push(out, ""), PushFailure::Moved(_)));
        let out = "To /r.git\n!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n";
        let err = "remote: policy: no pushes on Friday        \nremote: ask #platform\nerror: failed to push some refs\n";
        assert_eq!(
            classify_push(out, err),
            PushFailure::Hook("policy: no pushes on Friday\nask #platform".into())
        );
        let out = "!\tabc:refs/heads/main\t[remote rejected] (failed to update ref)\n";
        assert!(matches!(classify_push(out, ""), PushFailure::Moved(_)));
        assert!(matches!(
            classify_push("", "fatal: unable to access"),
            PushFailure::Other(_)
        ));
    }

    #[test]
    fn credentials_in_urls_are_hidden() {
        assert_eq!(
            redact("https://bot:s3cret@git.example/acme/gitops.git"),
            "https://bot:***@git.example/acme/gitops.git"
        );
        assert_eq!(redact("/srv/git/gitops.git"), "/srv/git/gitops.git");
        assert_eq!(redact("ssh://git@host/x.git"), "ssh://git@host/x.git");
        assert_eq!(
            redact("https://ghp_token@git.example/x.git"),
            "https://***@git.example/x.git"
        );
    }

    #[test]
    fn backoff_is_bounded() {
        for n in 0..50 {
            assert!(backoff(n) <= Duration::from_millis(1500));
        }
    }

    #[test]
    fn the_stream_replaces_the_destination() {
        let files = vec![("a/x.yaml".to_string(), b"kind: A\n".to_vec())];
        let s = String::from_utf8(fast_import_stream(
            "N",
            "e@x",
            "msg\n",
            Some("abc"),
            "fleet/clusters",
            &files,
        ))
        .unwrap();
        assert!(s.contains("from abc\nD fleet/clusters\nM 100644 inline fleet/clusters/a/x.yaml\ndata 8\nkind: A\n"), "{s}");
        assert!(s.contains("committer N <e@x> "));
        let s =
            String::from_utf8(fast_import_stream("N", "e", "m", None, "clusters", &files)).unwrap();
        assert!(!s.contains("from ") && !s.contains("\nD "));
    }

    #[test]
    fn files_are_collected_sorted_without_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("b")).unwrap();
        std::fs::create_dir_all(tmp.path().join("a")).unwrap();
        std::fs::write(tmp.path().join("b/x.yaml"), "x").unwrap();
        std::fs::write(tmp.path().join("a/y.yaml"), "y").unwrap();
        std::fs::write(tmp.path().join("a/.y.yaml.1.tmp"), "t").unwrap();
        let f = collect_files(tmp.path()).unwrap();
        let names: Vec<&str> = f.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["a/y.yaml", "b/x.yaml"]);
        assert!(collect_files(&tmp.path().join("none")).unwrap().is_empty());
    }
}
