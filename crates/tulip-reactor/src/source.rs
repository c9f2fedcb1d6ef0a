//! One registered I/O source: readiness per direction, and the waker to call when it
//! changes.
//!
//! Readiness is a word per direction: `tick << 1 | ready`. Only the reactor raises it
//! (bumping the tick), and [`Source::clear_ready`] lowers it only if the tick is the one
//! the caller saw, so an edge that arrives between a failed syscall and the clear is
//! never lost. A new source starts ready: the first operation just tries the syscall.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

/// Which half of a source an operation waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Waiting to read (or accept).
    Read,
    /// Waiting to write (or finish connecting).
    Write,
}

#[derive(Debug)]
struct Half {
    /// `tick << 1 | ready`.
    state: AtomicU64,
    waker: Mutex<Option<Waker>>,
}

impl Half {
    fn new() -> Self {
        Half {
            state: AtomicU64::new(1),
            waker: Mutex::new(None),
        }
    }

    /// Marks the half ready with a new tick (no wake-up).
    fn set_ready(&self) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                Some((((s >> 1) + 1) << 1) | 1)
            });
    }

    fn has_waiter(&self) -> bool {
        self.waker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Marks the half ready with a new tick and wakes its waiter.
    fn raise(&self) {
        self.set_ready();
        let waker = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A source registered with a [`Reactor`](crate::Reactor).
#[derive(Debug)]
pub struct Source {
    pub(crate) key: usize,
    read: Half,
    write: Half,
    /// Whether the reactor reports a peer's shutdown (epoll's `EPOLLRDHUP`) with the
    /// read edge that carries it; only then can a short read mean "drained".
    sees_read_closed: bool,
    /// Raised (for good) before the read edge that reported the peer's shutdown.
    read_closed: AtomicBool,
    /// In async-io mode, the registration with async-io's reactor.
    #[cfg(feature = "async-io")]
    aio: Option<crate::aio::AioSource>,
}

impl Source {
    /// A source whose reactor reports a peer's shutdown if `sees_read_closed`.
    pub(crate) fn with_read_closed(key: usize, sees_read_closed: bool) -> Self {
        Source {
            key,
            read: Half::new(),
            write: Half::new(),
            sees_read_closed,
            read_closed: AtomicBool::new(false),
            #[cfg(feature = "async-io")]
            aio: None,
        }
    }

    /// A source whose readiness comes from async-io's reactor (`io`).
    #[cfg(feature = "async-io")]
    pub(crate) fn with_aio(
        io: async_io::Async<crate::aio::FdRef>,
        key: usize,
    ) -> std::sync::Arc<Self> {
        std::sync::Arc::new_cyclic(|me| Source {
            key,
            read: Half::new(),
            write: Half::new(),
            sees_read_closed: false,
            read_closed: AtomicBool::new(false),
            aio: Some(crate::aio::AioSource::new(io, me)),
        })
    }

    /// Leaves async-io's reactor and wakes whoever waits (deregistration).
    #[cfg(feature = "async-io")]
    pub(crate) fn detach(&self) {
        if let Some(aio) = &self.aio {
            aio.detach();
        }
        self.raise_all();
    }

    fn half(&self, dir: Direction) -> &Half {
        match dir {
            Direction::Read => &self.read,
            Direction::Write => &self.write,
        }
    }

    /// `Ready(tick)` when the source may be ready in `dir`; otherwise stores the waker
    /// and returns `Pending` until the reactor sees readiness.
    pub fn poll_ready(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<u64> {
        let half = self.half(dir);
        let s = half.state.load(Ordering::Acquire);
        if s & 1 == 1 {
            return Poll::Ready(s >> 1);
        }
        {
            let mut slot = half.waker.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        #[cfg(feature = "async-io")]
        if let Some(aio) = &self.aio {
            // async-io's interest is one-shot: arm it (with the source's own waker,
            // which raises this half) each time the half is found not ready.
            if aio.poll(dir).is_ready() {
                half.set_ready();
            }
        }
        let s = half.state.load(Ordering::Acquire);
        if s & 1 == 1 {
            // Raised meanwhile: the waker just stored is not needed; leaving it would
            // count as a waiter (`Reactor::io_interest`) until the next edge.
            let mut slot = half.waker.lock().unwrap_or_else(|e| e.into_inner());
            if slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = None;
            }
            Poll::Ready(s >> 1)
        } else {
            Poll::Pending
        }
    }

    /// Whether a waker waits on either half (see `Reactor::io_interest`).
    pub(crate) fn has_waiter(&self) -> bool {
        self.read.has_waiter() || self.write.has_waiter()
    }

    /// `Some(tick)` if the source may be ready in `dir`, without storing a waker: lets
    /// a caller try the syscall first (a write, say) and clear readiness if it falls
    /// short.
    pub fn ready_tick(&self, dir: Direction) -> Option<u64> {
        let s = self.half(dir).state.load(Ordering::Acquire);
        (s & 1 == 1).then_some(s >> 1)
    }

    /// Shorthand for `poll_ready(Direction::Read, cx)`.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<u64> {
        self.poll_ready(Direction::Read, cx)
    }

    /// Shorthand for `poll_ready(Direction::Write, cx)`.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<u64> {
        self.poll_ready(Direction::Write, cx)
    }

    /// Marks `dir` not ready after an operation would have blocked (or read short),
    /// unless the reactor raised it again since `tick` was observed.
    pub fn clear_ready(&self, dir: Direction, tick: u64) {
        let _ = self.half(dir).state.compare_exchange(
            (tick << 1) | 1,
            tick << 1,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// After a stream read that returned fewer bytes than it asked for, with the read
    /// readiness at `tick`: the socket was drained, unless the peer's shutdown is
    /// queued behind the data (a read edge already spent on it). A reactor that
    /// reports shutdowns says which; then readiness is lowered, and the next read
    /// waits for an edge instead of making a `recv` that would only say
    /// `WouldBlock`. Elsewhere this does nothing (that `recv` finds the end of the
    /// stream). Not for datagram sockets, where a short read is one datagram.
    pub fn short_read(&self, tick: u64) {
        if self.sees_read_closed && !self.read_closed.load(Ordering::Acquire) {
            self.clear_ready(Direction::Read, tick);
        }
    }

    /// The reactor saw the peer shut down its side: raised before the read edge.
    pub(crate) fn mark_read_closed(&self) {
        self.read_closed.store(true, Ordering::Release);
    }

    pub(crate) fn raise(&self, readable: bool, writable: bool) {
        if readable {
            self.read.raise();
        }
        if writable {
            self.write.raise();
        }
    }

    /// Wakes both wakers (used when the source is deregistered or the reactor closes).
    pub(crate) fn raise_all(&self) {
        self.raise(true, true);
    }
}
