//! One child as tulip keeps it: the `std::process::Child` (whose `try_wait` reaps it),
//! its exit status once known, and the waker of whoever waits when the process-wide
//! watcher (not the loop's reactor) reports the exit.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

#[derive(Debug)]
pub(crate) struct ChildCell {
    pid: u32,
    /// Reaping (`try_wait`) and signalling happen under this lock, so a signal is
    /// never sent to a pid that was reaped (and maybe reused) meanwhile.
    child: Mutex<Child>,
    status: Mutex<Option<ExitStatus>>,
    waker: Mutex<Option<Waker>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ChildCell {
    pub(crate) fn new(child: Child) -> ChildCell {
        ChildCell {
            pid: child.id(),
            child: Mutex::new(child),
            status: Mutex::new(None),
            waker: Mutex::new(None),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status if the child has been reaped.
    pub(crate) fn status(&self) -> Option<ExitStatus> {
        *lock(&self.status)
    }

    /// Reaps the child if it has exited (never blocks).
    pub(crate) fn try_reap(&self) -> io::Result<Option<ExitStatus>> {
        if let Some(s) = self.status() {
            return Ok(Some(s));
        }
        let mut child = lock(&self.child);
        let got = child.try_wait()?;
        if let Some(s) = got {
            *lock(&self.status) = Some(s);
        }
        Ok(got)
    }

    /// Sends `sig` unless the child has been reaped: then `ESRCH` (asyncio's
    /// `ProcessLookupError`), without touching a pid that may have been reused.
    pub(crate) fn signal(&self, sig: rustix::process::Signal) -> io::Result<()> {
        let _child = lock(&self.child);
        if self.status().is_some() {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        let pid = rustix::process::Pid::from_raw(self.pid as i32)
            .ok_or_else(|| io::Error::other("child has no valid pid"))?;
        match rustix::process::kill_process(pid, sig) {
            // A zombie not yet reaped: it has exited, nothing to do.
            Err(rustix::io::Errno::SRCH) => Ok(()),
            r => Ok(r?),
        }
    }

    /// Stores the waker to call when the watcher reaps the child.
    pub(crate) fn set_waker(&self, w: &Waker) {
        let mut slot = lock(&self.waker);
        match slot.as_ref() {
            Some(old) if old.will_wake(w) => {}
            _ => *slot = Some(w.clone()),
        }
    }

    pub(crate) fn wake(&self) {
        if let Some(w) = lock(&self.waker).take() {
            w.wake();
        }
    }
}

/// asyncio's `returncode`: the exit code, or minus the signal that killed the child.
pub(crate) fn returncode(s: ExitStatus) -> i32 {
    match (s.code(), s.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => -sig,
        (None, None) => -1,
    }
}
