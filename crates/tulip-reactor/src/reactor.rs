//! The reactor: one poller, the registered sources, and the wait that wakes them.
//!
//! Invariant: a source is in `sources` exactly while its file descriptor is in the
//! poller. [`Registered`] owns the I/O object and deletes it from the poller before the
//! object is dropped, which is what makes `Poller::add` sound.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use polling::{Event, Events, PollMode, Poller};
use slab::Slab;

use crate::source::Source;

/// Which reactor a loop parks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReactorKind {
    /// A poller of the `polling` crate, one per loop: the default off Linux.
    #[cfg_attr(not(target_os = "linux"), default)]
    Polling,
    /// tulip's own epoll set, one per loop: the default on Linux. One system call
    /// per wait where `polling` makes five, and it sees a peer's shutdown
    /// (`EPOLLRDHUP`).
    #[cfg(target_os = "linux")]
    #[cfg_attr(target_os = "linux", default)]
    Epoll,
    /// async-io's process-wide reactor, driven by the loop's own thread as
    /// `async_io::block_on` drives it, so async-io based crates (`Async<T>`,
    /// `async_io::Timer`, `async-process`, ...) share it with tulip's sockets
    /// (feature `async-io`).
    #[cfg(feature = "async-io")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async-io")))]
    AsyncIo,
}

impl ReactorKind {
    /// Whether this kind delivers readiness to wakers from inside its park (async-io's
    /// reactor does), so that a push made then must notify to end the park. tulip's
    /// own pollers return from their wait before any waker runs.
    pub fn wakes_inside_park(self) -> bool {
        match self {
            ReactorKind::Polling => false,
            #[cfg(target_os = "linux")]
            ReactorKind::Epoll => false,
            #[cfg(feature = "async-io")]
            ReactorKind::AsyncIo => true,
        }
    }
}

/// I/O readiness for one event loop.
#[derive(Debug)]
pub struct Reactor {
    mode: Mode,
    registered: AtomicUsize,
}

#[derive(Debug)]
enum Mode {
    Polling {
        poller: Poller,
        sources: Mutex<Slab<Arc<Source>>>,
        events: Mutex<Events>,
    },
    #[cfg(target_os = "linux")]
    Epoll {
        epoll: crate::epoll::Epoll,
        sources: Mutex<Slab<Arc<Source>>>,
    },
    #[cfg(feature = "async-io")]
    /// The park, and tulip's sources (kept only so that `io_interest` can see
    /// which have a waiter).
    AsyncIo(crate::aio::Notifier, Mutex<Slab<Arc<Source>>>),
}

impl Reactor {
    /// A reactor of the default kind (a fresh epoll set on Linux, a `polling`
    /// poller elsewhere).
    ///
    /// # Errors
    /// The OS refused to create the poller (out of file descriptors, say).
    pub fn new() -> io::Result<Reactor> {
        Reactor::with_kind(ReactorKind::default())
    }

    /// A reactor of the given kind.
    ///
    /// # Errors
    /// The OS refused to create the poller (out of file descriptors, say).
    pub fn with_kind(kind: ReactorKind) -> io::Result<Reactor> {
        let mode = match kind {
            ReactorKind::Polling => Mode::Polling {
                poller: Poller::new()?,
                sources: Mutex::new(Slab::new()),
                events: Mutex::new(Events::new()),
            },
            #[cfg(target_os = "linux")]
            ReactorKind::Epoll => Mode::Epoll {
                epoll: crate::epoll::Epoll::new()?,
                sources: Mutex::new(Slab::new()),
            },
            #[cfg(feature = "async-io")]
            ReactorKind::AsyncIo => Mode::AsyncIo(Default::default(), Default::default()),
        };
        Ok(Reactor {
            mode,
            registered: AtomicUsize::new(0),
        })
    }

    /// Which reactor this is.
    pub fn kind(&self) -> ReactorKind {
        match self.mode {
            Mode::Polling { .. } => ReactorKind::Polling,
            #[cfg(target_os = "linux")]
            Mode::Epoll { .. } => ReactorKind::Epoll,
            #[cfg(feature = "async-io")]
            Mode::AsyncIo(..) => ReactorKind::AsyncIo,
        }
    }

    /// Runs a loop whose iterations wait in this reactor between two halves:
    /// `begin` says whether to wait (`Some(timeout)`, as for [`wait`](Self::wait)),
    /// then `finish(waited)` runs the rest of the iteration and ends the loop by
    /// returning `Some`. A wait that fails goes to `report` (the iteration goes on).
    ///
    /// With tulip's poller this is a plain loop around `wait`. In async-io's
    /// reactor the whole loop is one future under `async_io::block_on`, and a wait
    /// is that future pending: the loop's thread then drives async-io's reactor as
    /// `block_on` itself does, rather than from a nested `block_on` that loses the
    /// reactor to async-io's fallback thread.
    #[inline]
    pub fn run_loop<R>(
        &self,
        mut begin: impl FnMut() -> Option<Option<Duration>>,
        mut finish: impl FnMut(bool) -> Option<R>,
        report: impl Fn(io::Error),
    ) -> R {
        #[cfg(feature = "async-io")]
        if let Mode::AsyncIo(n, _) = &self.mode {
            let _ = &report; // async-io's park does not fail
            return async_io::block_on(async move {
                loop {
                    let wait = begin();
                    if let Some(timeout) = wait {
                        n.park_async(timeout).await;
                    }
                    if let Some(r) = finish(wait.is_some()) {
                        return r;
                    }
                }
            });
        }
        // tulip's own pollers (one loop for both, so that `begin` and `finish` are
        // inlined into it: two copies made LLVM call them out of line, +9% on
        // ping_pong's instructions).
        loop {
            let wait = begin();
            if let Some(timeout) = wait {
                if let Err(e) = self.wait(timeout) {
                    report(e);
                }
            }
            if let Some(r) = finish(wait.is_some()) {
                return r;
            }
        }
    }

    /// Wakes a thread blocked in [`wait`](Self::wait) (or makes the next wait return
    /// at once). Callable from any thread.
    ///
    /// # Errors
    /// The poller's notification write failed.
    pub fn notify(&self) -> io::Result<()> {
        match &self.mode {
            Mode::Polling { poller, .. } => poller.notify(),
            #[cfg(target_os = "linux")]
            Mode::Epoll { epoll, .. } => epoll.notify(),
            #[cfg(feature = "async-io")]
            Mode::AsyncIo(n, _) => {
                n.notify();
                Ok(())
            }
        }
    }

    /// Whether the loop should look at I/O now and then even with work ready: true if
    /// sources are registered here; always true in async-io mode, where other crates
    /// register sources tulip cannot count.
    pub fn has_io(&self) -> bool {
        match self.mode {
            Mode::Polling { .. } => self.registered() > 0,
            #[cfg(target_os = "linux")]
            Mode::Epoll { .. } => self.registered() > 0,
            #[cfg(feature = "async-io")]
            Mode::AsyncIo(..) => true,
        }
    }

    /// Whether a task waits on I/O here: a registered source has a waker stored in
    /// either direction (a read, accept, write or connect is pending). A virtual clock
    /// does not jump past a timer while this holds. In async-io mode, sources other
    /// crates register with async-io are not seen.
    pub fn io_interest(&self) -> bool {
        if self.registered() == 0 {
            return false;
        }
        let sources = match &self.mode {
            Mode::Polling { sources, .. } => sources,
            #[cfg(target_os = "linux")]
            Mode::Epoll { sources, .. } => sources,
            #[cfg(feature = "async-io")]
            Mode::AsyncIo(_, sources) => sources,
        };
        sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(_, s)| s.has_waiter())
    }

    /// Number of sources currently registered through this reactor.
    pub fn registered(&self) -> usize {
        self.registered.load(Ordering::Relaxed)
    }

    /// Blocks until a source becomes ready, [`notify`](Self::notify) is called, or
    /// `timeout` passes (`None`: no limit; `Some(ZERO)`: just look). Wakes the wakers of
    /// the sources that became ready; returns how many events it handled (in
    /// async-io mode, where readiness is delivered to wakers directly, always 0).
    ///
    /// # Errors
    /// The poller's wait failed (other than by interruption, which counts as a wake).
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        match &self.mode {
            Mode::Polling {
                poller,
                sources,
                events,
            } => Self::wait_polling(poller, sources, events, timeout),
            #[cfg(target_os = "linux")]
            Mode::Epoll { epoll, sources } => {
                Self::wait_epoll(epoll, sources, timeout).map(|(handled, _)| handled)
            }
            #[cfg(feature = "async-io")]
            Mode::AsyncIo(n, _) => {
                n.park(timeout);
                Ok(0)
            }
        }
    }

    /// Looks for ready sources without blocking, from a thread other than the one
    /// that waits (a worker of the threaded loop with nothing to run): wakes their
    /// wakers and returns how many. A notification or timer expiry it takes on the
    /// way is passed on with [`notify`](Self::notify), so the waiting thread still
    /// gets it. Only with tulip's epoll set (Linux, the default); elsewhere it looks
    /// at nothing and returns 0. A failed look also returns 0: the waiting thread's
    /// next wait meets the same failure and reports it.
    pub fn poll_now(&self) -> usize {
        if self.registered() == 0 {
            return 0;
        }
        match &self.mode {
            #[cfg(target_os = "linux")]
            Mode::Epoll { epoll, sources } => {
                match Self::wait_epoll(epoll, sources, Some(Duration::ZERO)) {
                    Ok((handled, woken)) => {
                        if woken {
                            let _ = epoll.notify();
                        }
                        handled
                    }
                    Err(_) => 0,
                }
            }
            _ => 0,
        }
    }

    /// One wait of the epoll set: raises the sources it reports (taking the sources'
    /// lock only if there is one) and returns how many, and whether it took a
    /// notification or the timer's expiry.
    #[cfg(target_os = "linux")]
    fn wait_epoll(
        epoll: &crate::epoll::Epoll,
        sources: &Mutex<Slab<Arc<Source>>>,
        timeout: Option<Duration>,
    ) -> io::Result<(usize, bool)> {
        let mut handled = 0;
        let mut list = None;
        let woken = epoll.wait(timeout, |ev| {
            let sources =
                list.get_or_insert_with(|| sources.lock().unwrap_or_else(|e| e.into_inner()));
            if Self::raise(sources, ev.key, ev.readable, ev.writable, ev.read_closed) {
                handled += 1;
            }
        })?;
        Ok((handled, woken))
    }

    fn wait_polling(
        poller: &Poller,
        sources: &Mutex<Slab<Arc<Source>>>,
        events: &Mutex<Events>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let mut events = events.lock().unwrap_or_else(|e| e.into_inner());
        events.clear();
        match poller.wait(&mut events, timeout) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(e) => return Err(e),
        }
        let mut handled = 0;
        let sources = sources.lock().unwrap_or_else(|e| e.into_inner());
        for ev in events.iter() {
            if Self::raise(&sources, ev.key, ev.readable, ev.writable, false) {
                handled += 1;
            }
        }
        Ok(handled)
    }

    /// Registers `io` for edge-triggered read and write readiness (level-triggered
    /// where the OS has no edge mode).
    ///
    /// # Errors
    /// The poller refused the descriptor.
    pub fn register<T: AsFd>(self: &Arc<Self>, io: T) -> io::Result<Registered<T>> {
        let source = match &self.mode {
            Mode::Polling {
                poller, sources, ..
            } => {
                let source = Self::insert(sources, false);
                let mode = if poller.supports_edge() {
                    PollMode::Edge
                } else {
                    PollMode::Level
                };
                let fd = io.as_fd().as_raw_fd();
                // SAFETY: `Registered` owns `io` and deletes `fd` from the poller in its
                // `Drop` (or in `into_inner`) before `io` can be closed, so the poller
                // never holds a descriptor that has been closed.
                let added = unsafe { poller.add_with_mode(fd, Event::all(source.key), mode) };
                if let Err(e) = added {
                    Self::remove(sources, source.key);
                    return Err(e);
                }
                source
            }
            #[cfg(target_os = "linux")]
            Mode::Epoll { epoll, sources, .. } => {
                let source = Self::insert(sources, true);
                // `Registered` owns `io` and deletes it from the set in its `Drop` (or
                // in `into_inner`) before `io` can be closed.
                if let Err(e) = epoll.add(io.as_fd(), source.key) {
                    Self::remove(sources, source.key);
                    return Err(e);
                }
                source
            }
            #[cfg(feature = "async-io")]
            Mode::AsyncIo(_, sources) => {
                let io = crate::aio::AioSource::register(io.as_fd())?;
                let mut sources = sources.lock().unwrap_or_else(|e| e.into_inner());
                let entry = sources.vacant_entry();
                let source = Source::with_aio(io, entry.key());
                entry.insert(source.clone());
                source
            }
        };
        self.registered.fetch_add(1, Ordering::Relaxed);
        Ok(Registered {
            io: Some(io),
            source,
            reactor: self.clone(),
        })
    }

    /// A new source in `sources`, under the key it is stored at; `sees_read_closed`:
    /// this reactor reports a peer's shutdown (see `Source::short_read`).
    fn insert(sources: &Mutex<Slab<Arc<Source>>>, sees_read_closed: bool) -> Arc<Source> {
        let mut sources = sources.lock().unwrap_or_else(|e| e.into_inner());
        let entry = sources.vacant_entry();
        let source = Arc::new(Source::with_read_closed(entry.key(), sees_read_closed));
        entry.insert(source.clone());
        source
    }

    /// Raises the source under `key` for one readiness event; false if it is gone.
    fn raise(
        sources: &Slab<Arc<Source>>,
        key: usize,
        readable: bool,
        writable: bool,
        read_closed: bool,
    ) -> bool {
        let Some(src) = sources.get(key) else {
            return false;
        };
        if read_closed {
            src.mark_read_closed();
        }
        src.raise(readable, writable);
        true
    }

    fn remove(sources: &Mutex<Slab<Arc<Source>>>, key: usize) {
        let mut sources = sources.lock().unwrap_or_else(|e| e.into_inner());
        if sources.contains(key) {
            sources.remove(key).raise_all();
        }
    }

    fn deregister(&self, fd: BorrowedFd<'_>, source: &Source) {
        match &self.mode {
            Mode::Polling {
                poller, sources, ..
            } => {
                let _ = poller.delete(fd);
                Self::remove(sources, source.key);
            }
            #[cfg(target_os = "linux")]
            Mode::Epoll { epoll, sources, .. } => {
                let _ = epoll.delete(fd);
                Self::remove(sources, source.key);
            }
            #[cfg(feature = "async-io")]
            Mode::AsyncIo(_, sources) => {
                let _ = fd;
                let mut list = sources.lock().unwrap_or_else(|e| e.into_inner());
                if list.contains(source.key) {
                    list.remove(source.key);
                }
                drop(list);
                source.detach();
            }
        }
        self.registered.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An I/O object registered with a reactor. Deregisters itself on drop.
#[derive(Debug)]
pub struct Registered<T: AsFd> {
    io: Option<T>,
    source: Arc<Source>,
    reactor: Arc<Reactor>,
}

impl<T: AsFd> Registered<T> {
    /// The I/O object.
    pub fn get_ref(&self) -> &T {
        self.io
            .as_ref()
            .expect("io is present until drop or into_inner")
    }

    /// The I/O object, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        self.io
            .as_mut()
            .expect("io is present until drop or into_inner")
    }

    /// The readiness state to wait on.
    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    /// The reactor this object is registered with.
    pub fn reactor(&self) -> &Arc<Reactor> {
        &self.reactor
    }

    /// Deregisters and hands back the I/O object.
    pub fn into_inner(mut self) -> T {
        let io = self
            .io
            .take()
            .expect("io is present until drop or into_inner");
        self.reactor.deregister(io.as_fd(), &self.source);
        io
    }
}

impl<T: AsFd> Drop for Registered<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            self.reactor.deregister(io.as_fd(), &self.source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::task::{Context, Poll, Wake, Waker};

    /// A waker that records its wake and notifies the reactor, as a loop's task
    /// waker does (in async-io mode only a notify ends a park).
    struct NotifyFlag {
        flag: std::sync::atomic::AtomicBool,
        reactor: std::sync::Weak<Reactor>,
    }
    impl Wake for NotifyFlag {
        fn wake(self: Arc<Self>) {
            self.flag.store(true, Ordering::SeqCst);
            if let Some(r) = self.reactor.upgrade() {
                r.notify().unwrap();
            }
        }
    }

    /// A non-blocking socket registered with `reactor`, and its peer.
    fn registered_pair(reactor: &Arc<Reactor>) -> (Registered<UnixStream>, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        (reactor.register(a).unwrap(), b)
    }

    /// A readable edge wakes the waker the source was polled with, ends the wait,
    /// and carries a new tick; deregistering uncounts the source.
    fn readable_edge_wakes_the_stored_waker_on(reactor: Arc<Reactor>) {
        let (mut reg, mut b) = registered_pair(&reactor);
        assert_eq!(reactor.registered(), 1);
        let flag = Arc::new(NotifyFlag {
            flag: false.into(),
            reactor: Arc::downgrade(&reactor),
        });
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let tick = match reg.source().poll_readable(&mut cx) {
            Poll::Ready(t) => t,
            Poll::Pending => panic!("new source starts ready"),
        };
        let mut buf = [0u8; 8];
        assert_eq!(
            reg.get_mut().read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        reg.source().clear_ready(crate::Direction::Read, tick);
        assert!(reg.source().poll_readable(&mut cx).is_pending());
        b.write_all(b"hi").unwrap();
        let start = std::time::Instant::now();
        reactor.wait(Some(Duration::from_secs(30))).unwrap();
        assert!(start.elapsed() < Duration::from_secs(20), "wait not ended");
        assert!(flag.flag.load(Ordering::SeqCst));
        match reg.source().poll_readable(&mut cx) {
            Poll::Ready(t) => assert_ne!(t, tick, "readiness carries a new tick"),
            Poll::Pending => panic!("readable after the write"),
        }
        assert_eq!(reg.get_mut().read(&mut buf).unwrap(), 2);
        drop(reg);
        assert_eq!(reactor.registered(), 0);
    }

    /// `notify` from another thread ends a wait long before its timeout.
    fn notify_ends_a_wait_early_on(reactor: Arc<Reactor>) {
        let r2 = reactor.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            r2.notify().unwrap();
        });
        let start = std::time::Instant::now();
        reactor.wait(Some(Duration::from_secs(10))).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
    }

    #[test]
    fn readable_edge_wakes_the_stored_waker() {
        readable_edge_wakes_the_stored_waker_on(Arc::new(Reactor::new().unwrap()));
    }

    #[test]
    fn stale_tick_does_not_clear_new_readiness() {
        let reactor = Arc::new(Reactor::new().unwrap());
        let (reg, mut b) = registered_pair(&reactor);
        b.write_all(b"x").unwrap();
        reactor.wait(Some(Duration::from_secs(5))).unwrap();
        // tick 0 was the initial state; the reactor has raised it since.
        reg.source().clear_ready(crate::Direction::Read, 0);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(reg.source().poll_readable(&mut cx).is_ready());
    }

    #[test]
    fn ready_tick_peeks_without_a_waker() {
        let reactor = Arc::new(Reactor::new().unwrap());
        let (reg, _b) = registered_pair(&reactor);
        let tick = reg
            .source()
            .ready_tick(crate::Direction::Write)
            .expect("starts ready");
        reg.source().clear_ready(crate::Direction::Write, tick);
        assert_eq!(reg.source().ready_tick(crate::Direction::Write), None);
        reactor.wait(Some(Duration::from_secs(5))).unwrap();
        // The socket is writable: the reactor raised the edge again.
        assert!(reg.source().ready_tick(crate::Direction::Write).is_some());
    }

    #[test]
    fn notify_ends_a_wait_early() {
        notify_ends_a_wait_early_on(Arc::new(Reactor::new().unwrap()));
    }

    /// A look without blocking from another thread wakes the waker of a source that
    /// became ready, as the waiter's wait would have.
    #[test]
    fn poll_now_wakes_a_ready_source() {
        let reactor = Arc::new(Reactor::new().unwrap());
        let (mut reg, mut b) = registered_pair(&reactor);
        // Take the new source's first edges (it starts writable).
        reactor.wait(Some(Duration::ZERO)).unwrap();
        let flag = Arc::new(NotifyFlag {
            flag: false.into(),
            reactor: std::sync::Weak::new(),
        });
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let Poll::Ready(tick) = reg.source().poll_readable(&mut cx) else {
            panic!("new source starts ready");
        };
        let mut buf = [0u8; 8];
        assert!(reg.get_mut().read(&mut buf).is_err());
        reg.source().clear_ready(crate::Direction::Read, tick);
        assert!(reg.source().poll_readable(&mut cx).is_pending());
        assert_eq!(reactor.poll_now(), 0, "nothing is ready yet");
        b.write_all(b"hi").unwrap();
        let r2 = reactor.clone();
        let handled = std::thread::spawn(move || r2.poll_now()).join().unwrap();
        assert_eq!(handled, 1);
        assert!(flag.flag.load(Ordering::SeqCst));
        assert_eq!(reg.get_mut().read(&mut buf).unwrap(), 2);
    }

    /// A notification that a look without blocking takes on the way still ends the
    /// waiter's next wait: the look passes it on.
    #[test]
    fn poll_now_passes_a_notification_on() {
        let reactor = Arc::new(Reactor::new().unwrap());
        let (_reg, _b) = registered_pair(&reactor);
        // Take the new source's first edges, so that only the notification is left.
        reactor.wait(Some(Duration::ZERO)).unwrap();
        reactor.notify().unwrap();
        let r2 = reactor.clone();
        std::thread::spawn(move || r2.poll_now()).join().unwrap();
        let start = std::time::Instant::now();
        reactor.wait(Some(Duration::from_secs(30))).unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the notification was lost"
        );
    }

    /// The `polling` poller stays selectable everywhere: the same contract holds.
    mod polling_mode {
        use super::*;

        fn reactor() -> Arc<Reactor> {
            let r = Arc::new(Reactor::with_kind(ReactorKind::Polling).unwrap());
            assert_eq!(r.kind(), ReactorKind::Polling);
            r
        }

        #[test]
        fn readable_edge_wakes_the_stored_waker() {
            readable_edge_wakes_the_stored_waker_on(reactor());
        }

        #[test]
        fn notify_ends_a_wait_early() {
            notify_ends_a_wait_early_on(reactor());
        }
    }

    /// Linux's own epoll set: the default there.
    #[cfg(target_os = "linux")]
    mod epoll_mode {
        use super::*;

        fn reactor() -> Arc<Reactor> {
            let r = Arc::new(Reactor::new().unwrap());
            assert_eq!(r.kind(), ReactorKind::Epoll);
            r
        }

        /// Notifications are edges of an eventfd that is never read: many of them,
        /// before and between waits, each end the next wait at once.
        #[test]
        fn every_notify_ends_the_next_wait() {
            let reactor = reactor();
            for _ in 0..1_000 {
                reactor.notify().unwrap();
                reactor.notify().unwrap();
                let start = std::time::Instant::now();
                reactor.wait(None).unwrap();
                assert!(start.elapsed() < Duration::from_secs(20));
            }
        }

        /// A sub-millisecond timeout goes through the timerfd; a whole-millisecond
        /// one through `epoll_wait`; neither returns before its time.
        #[test]
        fn timeouts_never_end_early() {
            let reactor = reactor();
            reactor.wait(Some(Duration::ZERO)).unwrap();
            for d in [
                Duration::from_micros(300),
                Duration::from_millis(2),
                Duration::from_micros(2_500),
            ] {
                let start = std::time::Instant::now();
                // A timerfd armed by an earlier wait may end one wait early (the
                // loop then waits again): wait until the time has passed.
                while start.elapsed() < d {
                    reactor.wait(Some(d - start.elapsed())).unwrap();
                }
                assert!(start.elapsed() >= d);
            }
        }

        /// A peer's shutdown of its side (`EPOLLRDHUP`) raises the read edge, so a
        /// reader waiting for more sees the end of the stream.
        #[test]
        fn a_peer_shutdown_raises_the_read_edge() {
            let reactor = reactor();
            let (reg, b) = registered_pair(&reactor);
            let src = reg.source().clone();
            let tick = src
                .ready_tick(crate::Direction::Read)
                .expect("starts ready");
            src.clear_ready(crate::Direction::Read, tick);
            b.shutdown(std::net::Shutdown::Write).unwrap();
            reactor.wait(Some(Duration::from_secs(10))).unwrap();
            assert!(src.ready_tick(crate::Direction::Read).is_some());
            let mut buf = [0u8; 4];
            assert_eq!(reg.get_ref().read(&mut buf).unwrap(), 0);
        }
    }

    /// Async-io mode: readiness reaches the waker the source was polled with, and a
    /// waker that notifies the reactor (as a loop's task waker does) ends the park.
    #[cfg(feature = "async-io")]
    mod async_io_mode {
        use super::*;

        fn reactor() -> Arc<Reactor> {
            let r = Arc::new(Reactor::with_kind(ReactorKind::AsyncIo).unwrap());
            assert_eq!(r.kind(), ReactorKind::AsyncIo);
            assert!(r.has_io());
            r
        }

        #[test]
        fn readable_wakes_the_waker_and_ends_the_park() {
            readable_edge_wakes_the_stored_waker_on(reactor());
        }

        #[test]
        fn notify_from_another_thread_ends_a_park() {
            notify_ends_a_wait_early_on(reactor());
        }

        #[test]
        fn notify_before_the_park_makes_it_return_at_once() {
            let reactor = reactor();
            reactor.notify().unwrap();
            let start = std::time::Instant::now();
            reactor.wait(None).unwrap();
            assert!(start.elapsed() < Duration::from_secs(20));
        }

        #[test]
        fn zero_timeout_and_short_timeout_return() {
            let reactor = reactor();
            reactor.wait(Some(Duration::ZERO)).unwrap();
            let start = std::time::Instant::now();
            reactor.wait(Some(Duration::from_millis(10))).unwrap();
            assert!(start.elapsed() >= Duration::from_millis(10));
        }

        #[test]
        fn dropping_the_registration_wakes_waiters() {
            let reactor = reactor();
            let (reg, _b) = registered_pair(&reactor);
            let src = reg.source().clone();
            let tick = src
                .ready_tick(crate::Direction::Read)
                .expect("starts ready");
            src.clear_ready(crate::Direction::Read, tick);
            let flag = Arc::new(NotifyFlag {
                flag: false.into(),
                reactor: Arc::downgrade(&reactor),
            });
            let waker = Waker::from(flag.clone());
            let mut cx = Context::from_waker(&waker);
            assert!(src.poll_readable(&mut cx).is_pending());
            drop(reg);
            assert_eq!(reactor.registered(), 0);
            assert!(
                flag.flag.load(Ordering::SeqCst),
                "a waiter learns of the close"
            );
        }
    }
}
