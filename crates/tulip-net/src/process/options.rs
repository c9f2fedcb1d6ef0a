//! What a child's standard streams are connected to, and the rest of the options of
//! `create_subprocess_exec` / `create_subprocess_shell`.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use crate::streams::DEFAULT_LIMIT;

/// Where one of a child's standard streams goes (asyncio's `PIPE`, `DEVNULL`,
/// `None`, a file, `STDOUT`).
#[derive(Debug, Default)]
pub enum Stdio {
    /// Inherit the parent's (asyncio's `None`, the default).
    #[default]
    Inherit,
    /// A pipe to the parent: [`Process::stdin`](super::Process::stdin) /
    /// `stdout` / `stderr`.
    Pipe,
    /// `/dev/null`.
    DevNull,
    /// This open file (or any descriptor): the child gets a copy.
    Fd(OwnedFd),
    /// For stderr only: wherever stdout goes (asyncio's `STDOUT`).
    Stdout,
}

impl From<std::fs::File> for Stdio {
    fn from(f: std::fs::File) -> Self {
        Stdio::Fd(f.into())
    }
}

/// Options of [`create_subprocess_exec`](super::create_subprocess_exec) and
/// [`create_subprocess_shell`](super::create_subprocess_shell), as asyncio's keyword
/// arguments. Built with chained setters:
///
/// ```
/// use tulip::net::process::{Stdio, SubprocessOptions};
/// let opts = SubprocessOptions::new().stdout(Stdio::Pipe).stderr(Stdio::Stdout).cwd("/tmp");
/// # let _ = opts;
/// ```
#[derive(Debug)]
pub struct SubprocessOptions {
    pub(crate) stdin: Stdio,
    pub(crate) stdout: Stdio,
    pub(crate) stderr: Stdio,
    pub(crate) cwd: Option<PathBuf>,
    pub(crate) env: Option<Vec<(OsString, OsString)>>,
    pub(crate) limit: usize,
}

impl Default for SubprocessOptions {
    fn default() -> Self {
        SubprocessOptions {
            stdin: Stdio::Inherit,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            cwd: None,
            env: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl SubprocessOptions {
    /// Every stream inherited, the parent's directory and environment, the default
    /// reader limit (64 KiB).
    pub fn new() -> Self {
        Self::default()
    }

    /// The child's stdin (`Stdio::Stdout` is refused at spawn).
    pub fn stdin(mut self, s: Stdio) -> Self {
        self.stdin = s;
        self
    }

    /// The child's stdout (`Stdio::Stdout` is refused at spawn).
    pub fn stdout(mut self, s: Stdio) -> Self {
        self.stdout = s;
        self
    }

    /// The child's stderr; `Stdio::Stdout` merges it into stdout.
    pub fn stderr(mut self, s: Stdio) -> Self {
        self.stderr = s;
        self
    }

    /// The child's working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The child's whole environment (asyncio's `env=`: these variables and no
    /// others).
    pub fn env<K, V>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        self.env = Some(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// The buffer limit of the stdout / stderr readers (asyncio's `limit=`).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}
