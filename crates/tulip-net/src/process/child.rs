//! `Process` and the two ways to make one.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::process::Command;
use std::sync::Arc;
use std::task::{Context, Poll};

use tulip_reactor::Direction;

use super::cell::{returncode, ChildCell};
use super::options::{Stdio, SubprocessOptions};
use super::pipe::{pipe, PipeReader, PipeWriter};
use super::watcher;
use crate::error::{Error, Result};
use crate::io::{cancel_point, Io};
use crate::streams::StreamReader;
use crate::writer::StreamWriter;

/// A child process (asyncio's `asyncio.subprocess.Process`).
///
/// Dropping it closes its pipes and never blocks; a child still running is reaped
/// by tulip when it exits (see the [module docs](super)).
pub struct Process {
    cell: Arc<ChildCell>,
    /// The child's pidfd, registered with the loop's reactor; `None` when the
    /// process-wide SIGCHLD watcher reports the exit instead.
    exit: Option<Io<OwnedFd>>,
    /// The child's stdin, if it was [`Stdio::Pipe`] (over a [`PipeWriter`]). Closing
    /// it (or dropping it) is the child's end of file.
    pub stdin: Option<StreamWriter>,
    /// The child's stdout, if it was [`Stdio::Pipe`] (over a [`PipeReader`], with the
    /// options' `limit`).
    pub stdout: Option<StreamReader>,
    /// The child's stderr, if it was [`Stdio::Pipe`].
    pub stderr: Option<StreamReader>,
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.pid())
            .field("returncode", &self.cell.status().map(returncode))
            .finish_non_exhaustive()
    }
}

/// Runs `program` with `args` (no shell), as asyncio's `create_subprocess_exec`.
///
/// # Errors
/// `Io` if the program cannot be started (`NotFound` for a missing program) or a
/// pipe cannot be made; `Loop(NoRunningLoop)` outside a running loop; `Cancelled`.
///
/// # Examples
/// ```
/// use tulip::net::process::{create_subprocess_exec, Stdio, SubprocessOptions};
/// let lp = tulip::new_event_loop().unwrap();
/// let out = lp.run_until_complete(async {
///     let opts = SubprocessOptions::new().stdout(Stdio::Pipe);
///     let mut p = create_subprocess_exec("echo", ["hello"], opts).await?;
///     let (out, _) = p.communicate(None).await?;
///     assert_eq!(p.returncode(), Some(0));
///     Ok::<_, tulip::net::Error>(out.unwrap())
/// })?;
/// assert_eq!(out, b"hello\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn create_subprocess_exec<P, I, S>(
    program: P,
    args: I,
    options: SubprocessOptions,
) -> Result<Process>
where
    P: AsRef<OsStr>,
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    start().await?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    spawn(cmd, options)
}

/// Runs `cmd` with `/bin/sh -c`, as asyncio's `create_subprocess_shell`.
///
/// # Errors
/// As [`create_subprocess_exec`].
pub async fn create_subprocess_shell(
    cmd: impl AsRef<OsStr>,
    options: SubprocessOptions,
) -> Result<Process> {
    start().await?;
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(cmd);
    spawn(c, options)
}

/// The await point at the start of both: takes a pending cancel.
async fn start() -> Result<()> {
    cancel_point(|_| Poll::Ready(Ok(()))).await
}

/// The child's side and the parent's side of one standard stream.
fn ends(s: Stdio, to_child: bool) -> io::Result<(Option<OwnedFd>, Option<OwnedFd>)> {
    Ok(match s {
        Stdio::Inherit => (None, None),
        Stdio::Pipe => {
            let (r, w) = pipe()?;
            if to_child {
                (Some(r), Some(w))
            } else {
                (Some(w), Some(r))
            }
        }
        Stdio::DevNull => {
            let f = std::fs::OpenOptions::new()
                .read(to_child)
                .write(!to_child)
                .open("/dev/null")?;
            (Some(f.into()), None)
        }
        Stdio::Fd(fd) => (Some(fd), None),
        Stdio::Stdout => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Stdio::Stdout is only for stderr",
            ))
        }
    })
}

fn child_stdio(fd: Option<OwnedFd>) -> std::process::Stdio {
    fd.map_or_else(std::process::Stdio::inherit, std::process::Stdio::from)
}

fn spawn(mut cmd: Command, o: SubprocessOptions) -> Result<Process> {
    let lp = tulip_core::get_running_loop()?;
    drop(lp);
    let (in_child, in_parent) = ends(o.stdin, true)?;
    let (out_child, out_parent) = ends(o.stdout, false)?;
    let (err_child, err_parent) = match o.stderr {
        Stdio::Stdout => {
            let copy = match &out_child {
                Some(fd) => fd.try_clone()?,
                None => io::stdout().as_fd().try_clone_to_owned()?,
            };
            (Some(copy), None)
        }
        s => ends(s, false)?,
    };
    cmd.stdin(child_stdio(in_child))
        .stdout(child_stdio(out_child))
        .stderr(child_stdio(err_child));
    if let Some(dir) = o.cwd {
        cmd.current_dir(dir);
    }
    if let Some(env) = o.env {
        cmd.env_clear().envs(env);
    }
    let pidfd_mode = watcher::use_pidfd();
    if !pidfd_mode {
        watcher::watch_sigchld()?;
    }
    let child = cmd.spawn()?;
    // The command holds the child's ends of the pipes: close them now, so that the
    // child's exit is our end of file.
    drop(cmd);
    let cell = Arc::new(ChildCell::new(child));
    let pidfd = if pidfd_mode {
        rustix::process::Pid::from_raw(cell.pid() as i32).and_then(|pid| {
            rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
        })
    } else {
        None
    };
    let mut process = Process {
        cell: cell.clone(),
        exit: None,
        stdin: None,
        stdout: None,
        stderr: None,
    };
    match pidfd {
        Some(fd) => process.exit = Some(Io::new(fd)?),
        None => watcher::adopt(cell, None)?,
    }
    let reader = |fd| Ok::<_, Error>(StreamReader::from_async_read(PipeReader::new(fd)?, o.limit));
    process.stdin = in_parent
        .map(|fd| Ok::<_, Error>(StreamWriter::from_async_write(PipeWriter::new(fd)?)))
        .transpose()?;
    process.stdout = out_parent.map(reader).transpose()?;
    process.stderr = err_parent.map(reader).transpose()?;
    Ok(process)
}

impl Process {
    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.cell.pid()
    }

    /// asyncio's `returncode`: `None` while the child runs, then its exit code, or
    /// minus the number of the signal that killed it (`-9` after [`kill`](Self::kill)).
    /// Never blocks.
    pub fn returncode(&self) -> Option<i32> {
        self.cell.try_reap().ok().flatten().map(returncode)
    }

    fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<Result<i32>> {
        let status = match &self.exit {
            Some(pidfd) => pidfd.poll_op(Direction::Read, cx, |_| {
                self.cell
                    .try_reap()?
                    .ok_or_else(|| io::ErrorKind::WouldBlock.into())
            }),
            None => {
                self.cell.set_waker(cx.waker());
                match self.cell.try_reap() {
                    Ok(None) => Poll::Pending,
                    Ok(Some(s)) => Poll::Ready(Ok(s)),
                    Err(e) => Poll::Ready(Err(e)),
                }
            }
        };
        status.map(|s| Ok(returncode(s?)))
    }

    /// Waits for the child to exit and returns its [`returncode`](Self::returncode).
    ///
    /// Does not read the pipes: a child that fills its stdout pipe waits for the
    /// parent to read it (asyncio warns the same; use
    /// [`communicate`](Self::communicate)). Cancelling the wait leaves the child
    /// running.
    ///
    /// # Errors
    /// `Cancelled`; `Io` if the child cannot be reaped (someone else reaped it).
    pub async fn wait(&self) -> Result<i32> {
        cancel_point(|cx| self.poll_wait(cx)).await
    }

    /// Sends `input` to stdin (then closes it) while reading stdout and stderr to
    /// their ends, all at once, so no pipe fills up and blocks the child; then waits
    /// for the child to exit. Returns what stdout and stderr gave (`None` for one
    /// that is not a pipe), as asyncio's `communicate`.
    ///
    /// A child that exits without reading all of `input` is not an error (asyncio
    /// ignores the broken pipe too). Cancelling leaves the child running; what was
    /// read so far is lost.
    ///
    /// # Errors
    /// `Cancelled`; `Io` for a read or write that failed otherwise.
    pub async fn communicate(
        &mut self,
        input: Option<&[u8]>,
    ) -> Result<(Option<Vec<u8>>, Option<Vec<u8>>)> {
        let stdin = self.stdin.take();
        let feed = async move {
            if let Some(w) = stdin {
                if let Some(data) = input {
                    w.write(data);
                    match w.drain().await {
                        Err(e) if e.io_kind().is_some_and(is_peer_gone) => {}
                        r => r?,
                    }
                }
                w.close();
            }
            Ok::<_, Error>(())
        };
        let out = read_all(self.stdout.as_mut());
        let err = read_all(self.stderr.as_mut());
        let ((), out, err) = futures::try_join!(feed, out, err)?;
        self.wait().await?;
        Ok((out, err))
    }

    /// Sends signal `sig` to the child.
    ///
    /// # Errors
    /// `Io(InvalidInput)` for a number that is not a named signal; `Io` with `ESRCH`
    /// once the child has exited and been reaped (asyncio's `ProcessLookupError`).
    pub fn send_signal(&self, sig: i32) -> Result<()> {
        let sig = rustix::process::Signal::from_named_raw(sig)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a signal number"))?;
        Ok(self.cell.signal(sig)?)
    }

    /// Sends SIGTERM.
    ///
    /// # Errors
    /// As [`send_signal`](Self::send_signal).
    pub fn terminate(&self) -> Result<()> {
        self.send_signal(tulip_signal::SIGTERM)
    }

    /// Sends SIGKILL.
    ///
    /// # Errors
    /// As [`send_signal`](Self::send_signal).
    pub fn kill(&self) -> Result<()> {
        self.send_signal(tulip_signal::SIGKILL)
    }
}

fn is_peer_gone(e: io::ErrorKind) -> bool {
    matches!(
        e,
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}

async fn read_all(r: Option<&mut StreamReader>) -> Result<Option<Vec<u8>>> {
    match r {
        Some(r) => Ok(Some(r.read_to_end().await?)),
        None => Ok(None),
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !matches!(self.cell.try_reap(), Ok(None)) {
            return;
        }
        // Still running: the watcher reaps it when it exits (in SIGCHLD mode it
        // already watches every child).
        if let Some(pidfd) = &self.exit {
            let copy = pidfd.get().try_clone().ok();
            let _ = watcher::adopt(self.cell.clone(), copy);
        }
    }
}
