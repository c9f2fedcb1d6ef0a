//! The async-io mode: readiness and parking through async-io's global reactor.
//!
//! async-io keeps one reactor per process and drives it from whichever thread sits in
//! `async_io::block_on` (its fallback `async-io` thread only steps in while no
//! `block_on` is running, or when the reactor has not ticked for a while). In this
//! mode a tulip loop therefore runs as one future under `block_on`
//! ([`Reactor::run_loop`](crate::Reactor::run_loop)), and a wait is that future
//! pending on a [`Park`]: the loop's own thread processes async-io's events and
//! timers, so a smol-ecosystem crate (`Async<T>`, `async_io::Timer`,
//! `async-process`, ...) used inside the loop costs no thread hop. (A park in a
//! nested `block_on`, the first design, lost the reactor to the fallback thread: once
//! that thread holds the reactor, the nested `block_on` fails to take it and sleeps
//! until woken, and the fallback thread, seeing nobody else tick, takes it again.
//! [`Reactor::wait`](crate::Reactor::wait) still parks that way, for callers
//! outside a loop.)
//!
//! tulip's own sockets register with the same reactor through [`AioSource`], an
//! `Async` over a borrowed descriptor; the readiness protocol tulip-net sees
//! ([`Source`](crate::Source)'s ticks) is unchanged.

use std::future::Future;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use async_io::{Async, Timer};

use crate::source::{Direction, Source};

/// A descriptor owned by someone else (the [`Registered`](crate::Registered) object),
/// lent to async-io for as long as the registration lasts.
#[derive(Debug)]
pub(crate) struct FdRef(RawFd);

impl AsFd for FdRef {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: an `FdRef` lives only inside the `Async` of an `AioSource`, and
        // `Registered` detaches (drops) that `Async` before it drops or hands back the
        // I/O object that owns the descriptor, so the descriptor is open whenever
        // async-io borrows it.
        unsafe { BorrowedFd::borrow_raw(self.0) }
    }
}

/// One descriptor registered with async-io's reactor.
///
/// async-io keeps one waker per direction and, when a different waker polls, wakes the
/// one it replaces. Two tulip tasks waiting on the same half (a reader and a
/// close-watcher, say) would then wake each other forever. So async-io is only ever
/// polled with this source's own waker per direction, which raises the tulip
/// [`Source`]'s half: the waker bookkeeping stays tulip's, exactly as with the poller.
#[derive(Debug)]
pub(crate) struct AioSource {
    io: Mutex<Option<Async<FdRef>>>,
    read: Waker,
    write: Waker,
}

/// The waker async-io holds for one half of a source.
struct RaiseHalf {
    source: Weak<Source>,
    dir: Direction,
}

impl Wake for RaiseHalf {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(source) = self.source.upgrade() {
            source.raise(self.dir == Direction::Read, self.dir == Direction::Write);
        }
    }
}

impl AioSource {
    /// Registers `fd` with async-io's reactor (the caller keeps it open until
    /// [`detach`](Self::detach)).
    pub(crate) fn register(fd: BorrowedFd<'_>) -> io::Result<Async<FdRef>> {
        use std::os::fd::AsRawFd;
        Async::new(FdRef(fd.as_raw_fd()))
    }

    /// The registration `io`, raising `source`'s halves when async-io sees readiness.
    pub(crate) fn new(io: Async<FdRef>, source: &Weak<Source>) -> AioSource {
        let waker = |dir| {
            Waker::from(Arc::new(RaiseHalf {
                source: source.clone(),
                dir,
            }))
        };
        AioSource {
            io: Mutex::new(Some(io)),
            read: waker(Direction::Read),
            write: waker(Direction::Write),
        }
    }

    /// `Ready` once async-io has seen the descriptor ready in `dir` since the last
    /// call (or it is detached, or async-io reported an error: the syscall will tell);
    /// otherwise async-io will raise the half when it does.
    pub(crate) fn poll(&self, dir: Direction) -> Poll<()> {
        let io = self.io.lock().unwrap_or_else(|e| e.into_inner());
        let Some(io) = io.as_ref() else {
            return Poll::Ready(());
        };
        let r = match dir {
            Direction::Read => io.poll_readable(&mut Context::from_waker(&self.read)),
            Direction::Write => io.poll_writable(&mut Context::from_waker(&self.write)),
        };
        r.map(|_| ())
    }

    /// Removes the descriptor from async-io's reactor.
    pub(crate) fn detach(&self) {
        let io = self.io.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(io);
    }
}

/// The loop's side of a park: a flag and the parked thread's waker, so that
/// [`Reactor::notify`](crate::Reactor::notify) can end a park from any thread.
#[derive(Debug, Default)]
pub(crate) struct Notifier {
    notified: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Notifier {
    pub(crate) fn notify(&self) {
        self.notified.store(true, Ordering::SeqCst);
        let w = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = w {
            w.wake();
        }
    }

    /// Parks the thread in async-io's reactor until notified, `timeout` passes, or
    /// (with `Some(ZERO)`) after one non-blocking look at I/O.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        async_io::block_on(self.park_async(timeout));
    }

    /// The same park as a future, for a loop that runs as one future under
    /// `block_on` (see [`Reactor::run_loop`](crate::Reactor::run_loop)).
    pub(crate) fn park_async(&self, timeout: Option<Duration>) -> impl Future<Output = ()> + '_ {
        Park {
            notifier: self,
            timer: match timeout {
                Some(d) if !d.is_zero() => Some(match Instant::now().checked_add(d) {
                    Some(at) => Timer::at(at),
                    None => Timer::never(),
                }),
                _ => None,
            },
            just_look: timeout == Some(Duration::ZERO),
            looked: false,
        }
    }
}

/// The future a park blocks on (see [`Notifier::park`]).
struct Park<'a> {
    notifier: &'a Notifier,
    timer: Option<Timer>,
    just_look: bool,
    looked: bool,
}

impl Future for Park<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let n = self.notifier;
        if n.notified.swap(false, Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if self.just_look {
            // Pending with a wake-up makes `block_on` process ready I/O once
            // (a zero-timeout reactor step), then poll again.
            if self.looked {
                return Poll::Ready(());
            }
            self.looked = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        *n.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        if n.notified.swap(false, Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if let Some(t) = self.timer.as_mut() {
            if Pin::new(t).poll(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}
