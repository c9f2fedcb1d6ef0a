//! The process-wide child watcher: one thread, started on first need, that reaps
//! children nobody waits for on a loop.
//!
//! It watches two kinds of children:
//! - with a pidfd: children whose [`Process`](super::Process) was dropped while they
//!   ran (an orphan's pidfd becomes readable when it exits, and the thread reaps it);
//! - without: every child when pidfds are unavailable (Linux < 5.3, or seccomp).
//!   Then the thread subscribes to SIGCHLD (through `tulip-signal`'s self-pipe) and
//!   on each one tries to reap each such child, waking the task that waits for it.
//!
//! Only the children tulip spawned are reaped (`waitpid` on their own pid, never
//! `waitpid(-1)`), so children of `std::process` or of other libraries are left to
//! their owners.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rustix::event::{poll, PollFd, PollFlags};
use tulip_signal::{Subscriber, SIGCHLD};

use super::cell::ChildCell;

struct Entry {
    cell: Arc<ChildCell>,
    pidfd: Option<Arc<OwnedFd>>,
}

struct Watcher {
    entries: Mutex<Vec<Entry>>,
    wake_read: OwnedFd,
    wake_write: OwnedFd,
    sigchld: OnceLock<Subscriber>,
}

static WATCHER: OnceLock<Watcher> = OnceLock::new();

fn entries(w: &Watcher) -> MutexGuard<'_, Vec<Entry>> {
    w.entries.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether children are watched with pidfds: decided once, by opening a pidfd on this
/// process. `TULIP_CHILD_WATCHER=sigchld` forces the SIGCHLD watcher (to test it).
pub(crate) fn use_pidfd() -> bool {
    static USE: OnceLock<bool> = OnceLock::new();
    *USE.get_or_init(|| {
        if std::env::var_os("TULIP_CHILD_WATCHER").is_some_and(|v| v == "sigchld") {
            return false;
        }
        rustix::process::pidfd_open(
            rustix::process::getpid(),
            rustix::process::PidfdFlags::empty(),
        )
        .is_ok()
    })
}

fn watcher() -> std::io::Result<&'static Watcher> {
    if let Some(w) = WATCHER.get() {
        return Ok(w);
    }
    let (r, w) = super::pipe::pipe()?;
    rustix::io::ioctl_fionbio(&r, true)?;
    rustix::io::ioctl_fionbio(&w, true)?;
    let mut started = false;
    let watcher = WATCHER.get_or_init(|| {
        started = true;
        Watcher {
            entries: Mutex::new(Vec::new()),
            wake_read: r,
            wake_write: w,
            sigchld: OnceLock::new(),
        }
    });
    if started {
        std::thread::Builder::new()
            .name("tulip-child-watcher".into())
            .spawn(move || run(watcher))?;
    }
    Ok(watcher)
}

/// Makes sure SIGCHLD is watched: called before spawning in SIGCHLD mode, so that no
/// exit can come before the subscription.
pub(crate) fn watch_sigchld() -> std::io::Result<()> {
    let w = watcher()?;
    if w.sigchld.get().is_none() {
        let sub = Subscriber::new().map_err(std::io::Error::other)?;
        sub.add(SIGCHLD).map_err(std::io::Error::other)?;
        let _ = w.sigchld.set(sub);
        nudge(w);
    }
    Ok(())
}

/// Hands `cell` to the watcher: it is reaped (and its waker woken) when it exits,
/// which `pidfd` reports if given, SIGCHLD otherwise.
pub(crate) fn adopt(cell: Arc<ChildCell>, pidfd: Option<OwnedFd>) -> std::io::Result<()> {
    if pidfd.is_none() {
        watch_sigchld()?;
    }
    let w = watcher()?;
    entries(w).push(Entry {
        cell,
        pidfd: pidfd.map(Arc::new),
    });
    nudge(w);
    Ok(())
}

fn nudge(w: &Watcher) {
    // A full pipe already holds a wake-up.
    let _ = rustix::io::write(&w.wake_write, &[1]);
}

fn run(w: &'static Watcher) {
    loop {
        let pidfds: Vec<Arc<OwnedFd>> = entries(w).iter().filter_map(|e| e.pidfd.clone()).collect();
        let mut fds = vec![PollFd::new(&w.wake_read, PollFlags::IN)];
        if let Some(s) = w.sigchld.get() {
            fds.push(PollFd::from_borrowed_fd(s.as_fd(), PollFlags::IN));
        }
        fds.extend(pidfds.iter().map(|f| PollFd::new(&**f, PollFlags::IN)));
        // Interrupted (by SIGCHLD itself, say): just look again.
        let _ = poll(&mut fds, None);
        drop(fds);
        let mut buf = [0u8; 64];
        while matches!(rustix::io::read(&w.wake_read, &mut buf), Ok(n) if n > 0) {}
        if let Some(s) = w.sigchld.get() {
            s.take_pending();
        }
        let mut done = Vec::new();
        entries(w).retain(|e| match e.cell.try_reap() {
            Ok(None) => true,
            // Exited, or no longer ours to reap (ECHILD): either way, done watching.
            _ => {
                done.push(e.cell.clone());
                false
            }
        });
        for cell in done {
            cell.wake();
        }
    }
}
