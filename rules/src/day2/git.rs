//! The `git` binary, run the same way every time: a clean environment (no `GIT_DIR`,
//! `GIT_INDEX_FILE`… inherited from a hook or a shell), English messages, no prompts, and
//! errors that say which command failed and what git printed.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::Day2Error;

/// `GIT_*` variables a user sets on purpose and that a command of ours should honour: the
/// commit identity and how to reach remotes. Every other `GIT_*` variable is cleared.
const KEPT_VARS: &[&str] = &[
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CEILING_DIRECTORIES",
];

/// The identity of commits when the user has none configured.
pub(crate) const FALLBACK_NAME: &str = "Wayfinder";
pub(crate) const FALLBACK_EMAIL: &str = "wayfinder@localhost";

/// A `git` invocation context: the directory it runs in and extra variables.
#[derive(Clone, Debug)]
pub(crate) struct Git {
    dir: PathBuf,
    envs: Vec<(String, String)>,
    config: Vec<String>,
}

/// What a finished git command printed.
pub(crate) struct GitOutput {
    pub(crate) ok: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Git {
    pub(crate) fn new(dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
            envs: Vec::new(),
            config: Vec::new(),
        }
    }

    /// The same context with one more environment variable (`GIT_INDEX_FILE`…).
    pub(crate) fn with_env(&self, key: &str, value: &str) -> Git {
        let mut g = self.clone();
        g.envs.push((key.to_string(), value.to_string()));
        g
    }

    /// The same context with a `-c key=value` setting on every command.
    pub(crate) fn with_config(&self, setting: &str) -> Git {
        let mut g = self.clone();
        g.config.push(setting.to_string());
        g
    }

    fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new("git");
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("GIT_") && !KEPT_VARS.contains(&k.as_ref()) {
                cmd.env_remove(&key);
            }
        }
        cmd.env("LC_ALL", "C")
            .env("LANGUAGE", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0");
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd.current_dir(&self.dir);
        for c in &self.config {
            cmd.arg("-c").arg(c);
        }
        cmd.args(args);
        cmd
    }

    /// Runs a command and returns what it printed, whether or not it succeeded.
    pub(crate) fn output<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<GitOutput, Day2Error> {
        self.output_with_input(args, None)
    }

    /// Runs a command feeding `input` on its standard input.
    pub(crate) fn output_with_input<S: AsRef<OsStr>>(
        &self,
        args: &[S],
        input: Option<&[u8]>,
    ) -> Result<GitOutput, Day2Error> {
        let mut cmd = self.command(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().map_err(|e| Day2Error::Git {
            args: show_args(args),
            message: if e.kind() == std::io::ErrorKind::NotFound {
                "the `git` program is not installed or not on PATH".to_string()
            } else {
                e.to_string()
            },
        })?;
        // Feed stdin on a thread so a command that prints a lot while reading cannot block.
        let writer = match (input, child.stdin.take()) {
            (Some(data), Some(mut stdin)) => {
                let data = data.to_vec();
                Some(std::thread::spawn(move || {
                    let _ = stdin.write_all(&data);
                }))
            }
            _ => None,
        };
        let out: Output = child.wait_with_output().map_err(|e| Day2Error::Git {
            args: show_args(args),
            message: e.to_string(),
        })?;
        if let Some(w) = writer {
            let _ = w.join();
        }
        Ok(GitOutput {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs a command that must succeed; returns its trimmed standard output.
    pub(crate) fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<String, Day2Error> {
        let out = self.output(args)?;
        if out.ok {
            Ok(out.stdout.trim_end().to_string())
        } else {
            Err(Day2Error::Git {
                args: show_args(args),
                message: first_error(&out.stderr),
            })
        }
    }

    /// Like [`Git::run`], with standard input.
    pub(crate) fn run_with_input<S: AsRef<OsStr>>(
        &self,
        args: &[S],
        input: &[u8],
    ) -> Result<String, Day2Error> {
        let out = self.output_with_input(args, Some(input))?;
        if out.ok {
            Ok(out.stdout.trim_end().to_string())
        } else {
            Err(Day2Error::Git {
                args: show_args(args),
                message: first_error(&out.stderr),
            })
        }
    }

    /// The top directory of the work tree holding `self.dir`, or `NotGitRepo`.
    pub(crate) fn toplevel(&self) -> Result<PathBuf, Day2Error> {
        let out = self.output(&["rev-parse", "--show-toplevel"])?;
        if !out.ok || out.stdout.trim().is_empty() {
            return Err(Day2Error::NotGitRepo {
                path: self.dir.display().to_string(),
            });
        }
        Ok(PathBuf::from(out.stdout.trim_end()))
    }

    /// The path of `self.dir` inside its repository (`""` at the top, else `a/b/`).
    pub(crate) fn prefix(&self) -> Result<String, Day2Error> {
        self.run(&["rev-parse", "--show-prefix"])
    }

    /// The commit a revision names, or `UnknownRevision`.
    pub(crate) fn commit_of(&self, rev: &str) -> Result<String, Day2Error> {
        let spec = format!("{rev}^{{commit}}");
        let out = self.output(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &spec,
        ])?;
        let sha = out.stdout.trim();
        if !out.ok || sha.is_empty() {
            return Err(Day2Error::UnknownRevision {
                rev: rev.to_string(),
            });
        }
        Ok(sha.to_string())
    }

    /// The object a spec names, if any (`rev-parse --verify --quiet`).
    pub(crate) fn try_rev_parse(&self, spec: &str) -> Result<Option<String>, Day2Error> {
        let out = self.output(&["rev-parse", "--verify", "--quiet", "--end-of-options", spec])?;
        let sha = out.stdout.trim();
        Ok((out.ok && !sha.is_empty()).then(|| sha.to_string()))
    }

    /// Files among `paths` (relative to `self.dir`) with uncommitted changes, staged or not,
    /// or untracked.
    pub(crate) fn dirty(&self, paths: &[String]) -> Result<Vec<String>, Day2Error> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let mut args: Vec<&str> = vec![
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--",
        ];
        args.extend(paths.iter().map(String::as_str));
        let out = self.run(&args)?;
        let mut dirty = Vec::new();
        let mut fields = out.split('\0').filter(|s| !s.is_empty());
        while let Some(entry) = fields.next() {
            let (status, path) = entry.split_at(entry.len().min(3));
            // A rename carries its source path as the next field.
            if status.starts_with('R') || status.starts_with('C') {
                let _ = fields.next();
            }
            dirty.push(path.to_string());
        }
        dirty.sort();
        dirty.dedup();
        Ok(dirty)
    }

    /// The commit identity to use: the user's (`GIT_COMMITTER_*`, `user.name`, `user.email`),
    /// else `Wayfinder <wayfinder@localhost>`.
    pub(crate) fn identity(&self) -> (String, String) {
        let get = |env: &str, key: &str| -> Option<String> {
            std::env::var(env)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .or_else(|| {
                    self.output(&["config", "--get", key])
                        .ok()
                        .filter(|o| o.ok)
                        .map(|o| o.stdout.trim().to_string())
                        .filter(|v| !v.is_empty())
                })
        };
        (
            get("GIT_COMMITTER_NAME", "user.name").unwrap_or_else(|| FALLBACK_NAME.to_string()),
            get("GIT_COMMITTER_EMAIL", "user.email").unwrap_or_else(|| FALLBACK_EMAIL.to_string()),
        )
    }

    /// This context with an identity for commits (the user's, or the fallback one).
    pub(crate) fn with_identity(&self) -> Git {
        let (name, email) = self.identity();
        let mut g = self.with_config(&format!("user.name={name}"));
        g = g.with_config(&format!("user.email={email}"));
        if std::env::var_os("GIT_AUTHOR_NAME").is_none() {
            g = g.with_env("GIT_AUTHOR_NAME", &name);
        }
        if std::env::var_os("GIT_AUTHOR_EMAIL").is_none() {
            g = g.with_env("GIT_AUTHOR_EMAIL", &email);
        }
        g
    }
}

fn show_args<S: AsRef<OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The useful part of git's error output: its `fatal:`/`error:` lines, else all of it.
pub(crate) fn first_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim_end)
        .filter(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .collect();
    let text = if lines.is_empty() {
        stderr.trim().to_string()
    } else {
        lines.join("; ")
    };
    if text.is_empty() {
        "git exited with an error and printed nothing".to_string()
    } else {
        text
    }
}

/// The short form of a commit id.
pub(crate) fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_picked() {
        assert_eq!(
            first_error("hint: x\nfatal: not a git repository\n"),
            "fatal: not a git repository"
        );
        assert_eq!(first_error("something odd\n"), "something odd");
        assert!(first_error("").contains("printed nothing"));
    }

    #[test]
    fn short_ids() {
        assert_eq!(short("0123456789abcdef"), "0123456789ab");
        assert_eq!(short("abc"), "abc");
    }

    #[test]
    fn not_a_repository_is_reported() {
        let dir = std::env::temp_dir().join(format!("wayfinder-git-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        // GIT_CEILING_DIRECTORIES keeps git from finding a repository above the temp dir.
        let g = Git::new(&dir).with_env(
            "GIT_CEILING_DIRECTORIES",
            &std::env::temp_dir().display().to_string(),
        );
        let r = g.toplevel();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(r, Err(Day2Error::NotGitRepo { .. })));
    }
}
