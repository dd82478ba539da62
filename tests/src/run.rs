//! The result of one `wayfinder` command, and the JSON build summary.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One finished `wayfinder` command.
pub struct Run {
    /// The command line, for messages.
    pub args: Vec<String>,
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub(crate) fn wait(mut child: Child, args: &[&str], start: Instant, timeout: Duration) -> Run {
        // Drain both pipes on threads so a chatty process never blocks.
        let mut out = child.stdout.take();
        let mut err = child.stderr.take();
        let t_out = std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(o) = out.as_mut() {
                let _ = o.read_to_end(&mut s);
            }
            s
        });
        let t_err = std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_end(&mut s);
            }
            s
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() > timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "`wayfinder {}` did not finish within {timeout:?}",
                        args.join(" ")
                    );
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => panic!("wait for wayfinder: {e}"),
            }
        };
        let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: status.code(),
            stdout,
            stderr,
            elapsed: start.elapsed(),
        }
    }

    fn describe(&self) -> String {
        format!(
            "`wayfinder {}` exited with {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.join(" "),
            self.code,
            truncate(&self.stdout, 4000),
            truncate(&self.stderr, 8000)
        )
    }

    /// No panic: the Rust panic message never reaches the user, and the
    /// process was not ended by a signal or the panic exit code 101.
    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked at"),
            "wayfinder panicked:\n{}",
            self.describe()
        );
        assert!(
            self.code.is_some(),
            "wayfinder was killed by a signal:\n{}",
            self.describe()
        );
        assert_ne!(
            self.code,
            Some(101),
            "wayfinder panicked:\n{}",
            self.describe()
        );
    }

    /// Exit code 0.
    pub fn assert_success(&self) -> &Self {
        self.assert_no_panic();
        assert_eq!(self.code, Some(0), "expected success:\n{}", self.describe());
        self
    }

    /// Exit code 2 (bad usage or bad input), without a panic.
    pub fn assert_bad_input(&self) -> &Self {
        self.assert_no_panic();
        assert_eq!(
            self.code,
            Some(2),
            "expected exit code 2 (bad input):\n{}",
            self.describe()
        );
        assert!(
            !self.stderr.trim().is_empty(),
            "a bad-input error must say something on stderr:\n{}",
            self.describe()
        );
        self
    }

    /// stderr mentions every one of `needles` (whitespace-insensitive).
    pub fn assert_stderr_mentions(&self, needles: &[&str]) -> &Self {
        for needle in needles {
            assert!(
                crate::contains_loose(&self.stderr, needle),
                "stderr should mention `{needle}`:\n{}",
                self.describe()
            );
        }
        self
    }

    /// stderr points at `file` (a path relative to the workspace root, as a
    /// suffix of what is printed) at `line`: `file:line` as miette and
    /// compilers print it, or `file` followed by `line N`.
    pub fn assert_points_at(&self, file: &str, line: usize) -> &Self {
        let with_col = format!("{file}:{line}:");
        let bare = format!("{file}:{line}");
        let ok = crate::contains_loose(&self.stderr, &with_col)
            || self
                .stderr
                .lines()
                .any(|l| l.trim_end().ends_with(&bare) || l.contains(&format!("{bare} ")))
            || (crate::contains_loose(&self.stderr, file)
                && crate::contains_loose(&self.stderr, &format!("line {line}")));
        assert!(
            ok,
            "stderr should point at `{file}` line {line}:\n{}",
            self.describe()
        );
        self
    }

    /// stderr points at some line of `file`: `file:N`.
    pub fn assert_points_into(&self, file: &str) -> &Self {
        let squashed: String = self.stderr.split_whitespace().collect();
        let prefix = format!("{file}:");
        let ok = squashed.match_indices(&prefix).any(|(i, _)| {
            squashed[i + prefix.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        });
        let line_word = self
            .stderr
            .match_indices("line ")
            .any(|(i, m)| self.stderr[i + m.len()..].starts_with(|c: char| c.is_ascii_digit()));
        let ok = ok || (crate::contains_loose(&self.stderr, file) && line_word);
        assert!(
            ok,
            "stderr should point at a line of `{file}`:\n{}",
            self.describe()
        );
        self
    }

    /// The JSON build summary printed on stdout (`--json`).
    pub fn summary(&self) -> Summary {
        Summary::parse(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a build summary ({e}):\n{}", self.describe()))
    }
}

/// At most `max` characters of `s`: its head and its tail, where errors usually are.
fn truncate(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s.to_string();
    }
    let head: String = chars[..max / 3].iter().collect();
    let tail: String = chars[chars.len() - (max - max / 3)..].iter().collect();
    format!(
        "{head}\n[… {} characters left out …]\n{tail}",
        chars.len() - max
    )
}

/// One action of a build summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub target: String,
    pub kind: String,
    pub key: String,
    pub status: String,
    pub duration_ms: f64,
    pub inputs: BTreeMap<String, String>,
}

/// The build summary: `{"actions": [{target, kind, key, status, duration_ms, inputs}…]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    actions: Vec<Action>,
}

/// The statuses DESIGN.md §9 allows.
pub const STATUSES: &[&str] = &["built", "cached", "remote-cached", "failed", "skipped"];

impl Summary {
    /// Parses a summary, checking every field the contract names.
    pub fn parse(text: &str) -> Result<Summary, String> {
        let v: Value =
            serde_json::from_str(text.trim()).map_err(|e| format!("invalid JSON: {e}"))?;
        let list = v
            .get("actions")
            .and_then(Value::as_array)
            .ok_or("no `actions` array")?;
        let mut actions = Vec::new();
        for (i, a) in list.iter().enumerate() {
            let s = |k: &str| {
                a.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or(format!("action {i}: `{k}` is not a string: {a}"))
            };
            let status = s("status")?;
            if !STATUSES.contains(&status.as_str()) {
                return Err(format!("action {i}: unknown status `{status}`"));
            }
            let duration_ms = a
                .get("duration_ms")
                .and_then(Value::as_f64)
                .ok_or(format!("action {i}: `duration_ms` is not a number: {a}"))?;
            let inputs = a
                .get("inputs")
                .and_then(Value::as_object)
                .ok_or(format!("action {i}: `inputs` is not an object: {a}"))?
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|d| (k.clone(), d.to_string()))
                        .ok_or(format!("action {i}: input `{k}` is not a digest string"))
                })
                .collect::<Result<_, _>>()?;
            actions.push(Action {
                target: s("target")?,
                kind: s("kind")?,
                key: s("key")?,
                status,
                duration_ms,
                inputs,
            });
        }
        Ok(Summary { actions })
    }

    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// Actions whose target is `render:…`.
    pub fn renders(&self) -> impl Iterator<Item = &Action> {
        self.actions
            .iter()
            .filter(|a| a.target.starts_with("render:"))
    }

    /// Actions that did work (status `built`).
    pub fn built(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.status == "built")
    }

    /// The statuses seen, with counts, for messages.
    pub fn status_counts(&self) -> BTreeMap<&str, usize> {
        let mut m = BTreeMap::new();
        for a in &self.actions {
            *m.entry(a.status.as_str()).or_insert(0) += 1;
        }
        m
    }
}
