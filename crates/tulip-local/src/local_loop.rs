//! The loop itself.
//!
//! Ownership: `Shared` is what every handle, waker and foreign thread sees (atomics,
//! an injector queue, the reactor). The ready queue and the timer queue (`State`) are
//! owned by whichever `run_*` call is on the stack: it takes them out of `saved` when
//! it starts, publishes them to its own thread through `ACTIVE` (so that callbacks and
//! wakers running on the loop's thread push without locking), and puts them back when
//! it returns. Everything pushed from elsewhere goes through `injector`.
//!
//! Invariants:
//! - the loop runs only on the thread that first ran it (or spawned a local task on it);
//! - one iteration runs exactly the items that were ready when it started; items added
//!   meanwhile wait for the next iteration (asyncio's `_run_once`);
//! - this file's `finish_iteration` is the only place callbacks and task steps run;
//! - `sleeping` is raised before the injector is checked one last time and the poller
//!   is entered, and foreign pushers notify the poller when they see it raised, so no
//!   wake-up is lost; with async-io's reactor, whose park calls wakers on this thread
//!   and ends only when notified, pushes on this thread notify too.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Waker;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use tulip_core::{
    Activity, Armed, Backend, Callback, Error, EventLoop, LoopCommon, MainFuture, MainSlot, Result,
    Runnable, Schedule,
};
use tulip_reactor::{Reactor, ReactorKind, TimerId, TimerQueue};

/// One entry of the ready queue. Callbacks are boxed so that an entry is two words:
/// with a thousand tasks ready, the queue then fits in the L1 cache (measured: half
/// the cache misses per yield against a three-word entry).
enum Item {
    Task(Runnable),
    /// A step of a `!Send` task: only this loop's thread may drop it.
    Local(Runnable),
    Call(Box<Callback>),
    /// A timer that fell due: its callback is the next one in [`State::fired`] (kept
    /// beside the queue, in the same order, so that firing a timer allocates nothing).
    Fired,
    Main,
}

#[derive(Default)]
struct State {
    ready: VecDeque<Item>,
    /// The callbacks of the `Item::Fired` entries of `ready`, in queue order.
    fired: VecDeque<Callback>,
    timers: TimerQueue<Callback>,
    /// Iterations begun, items run (task steps and callbacks), and callbacks among
    /// them: plain counts, published to [`Counters`] now and then (see
    /// [`Shared::publish`]). `iterations` also paces `IO_POLL_INTERVAL`.
    iterations: u64,
    ran: u64,
    calls: u64,
    /// Iterations that waited in the poller with something other than a zero timeout.
    waits: u64,
}

thread_local! {
    /// The loop running on this thread: its id and its state, which the run's
    /// `RunGuard` owns. A plain pointer, so that reading it (on every push from the
    /// loop's own thread) checks no destructor registration and no borrow flag.
    static ACTIVE: Cell<(u64, *const RefCell<State>)> = const { Cell::new((0, ptr::null())) };
}

struct Shared {
    common: LoopCommon,
    reactor: Arc<Reactor>,
    owner: OnceLock<ThreadId>,
    injector: Mutex<Vec<Item>>,
    injected: AtomicBool,
    timers_in: Mutex<Vec<(Instant, Callback)>>,
    saved: Mutex<Option<State>>,
    sleeping: AtomicBool,
    /// The reactor calls wakers on this thread *inside* a park that only a notify
    /// ends (async-io's): a push made then must notify. tulip's poller returns from
    /// its wait after dispatching, so there a notify would only cost a syscall.
    wakes_inside_park: bool,
    stopping: AtomicBool,
    running: AtomicBool,
    closed: AtomicBool,
    /// `EventLoop::stats()`.
    counters: Counters,
}

/// With tasks ready to run, poll registered I/O once every this many iterations;
/// the stats' sampled figures are published as often.
const IO_POLL_INTERVAL: u64 = 8;

/// The single-threaded executor; use it through [`EventLoop`].
pub struct LocalLoop {
    shared: Arc<Shared>,
}

/// The figures `stats()` reads, published from [`State`] by the running thread every
/// `IO_POLL_INTERVAL` iterations, before the loop waits and when a run ends, so that
/// an iteration adds to plain integers instead of storing five atomics.
#[derive(Debug, Default)]
struct Counters {
    iterations: AtomicU64,
    ran: AtomicU64,
    calls: AtomicU64,
    waits: AtomicU64,
    depth: AtomicUsize,
    timers: AtomicUsize,
}

impl std::fmt::Debug for LocalLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLoop")
            .field("id", &self.shared.common.id())
            .field("reactor", &self.shared.reactor.kind())
            .field("running", &self.shared.running.load(Ordering::Relaxed))
            .field("closed", &self.shared.closed.load(Ordering::Relaxed))
            .finish()
    }
}

/// Creates a single-threaded loop.
///
/// # Errors
/// The OS refused to create the poller.
pub fn new_event_loop() -> Result<EventLoop> {
    Ok(EventLoop::from_backend(Arc::new(LocalLoop::new()?)))
}

impl LocalLoop {
    /// A new, not yet running loop.
    ///
    /// # Errors
    /// The OS refused to create the poller.
    pub fn new() -> Result<LocalLoop> {
        LocalLoop::with_reactor(ReactorKind::default())
    }

    /// A new loop that parks in the given kind of reactor.
    ///
    /// # Errors
    /// The OS refused to create the poller.
    pub fn with_reactor(kind: ReactorKind) -> Result<LocalLoop> {
        LocalLoop::build(kind, false)
    }

    /// A new loop that parks in `kind` of reactor, on a virtual clock if
    /// `virtual_clock` (see [`Builder::virtual_clock`](crate::Builder::virtual_clock)).
    pub(crate) fn build(kind: ReactorKind, virtual_clock: bool) -> Result<LocalLoop> {
        let common = LoopCommon::with_clock(virtual_clock);
        let reactor = Arc::new(Reactor::with_kind(kind)?);
        common.clock().attach(&reactor);
        // The heap counts from the clock's start, so a virtual clock's deadlines
        // come back from it exactly.
        let state = State {
            timers: TimerQueue::with_epoch(common.epoch()),
            ..State::default()
        };
        Ok(LocalLoop {
            shared: Arc::new(Shared {
                common,
                reactor,
                owner: OnceLock::new(),
                injector: Mutex::new(Vec::new()),
                injected: AtomicBool::new(false),
                timers_in: Mutex::new(Vec::new()),
                saved: Mutex::new(Some(state)),
                sleeping: AtomicBool::new(false),
                wakes_inside_park: kind.wakes_inside_park(),
                stopping: AtomicBool::new(false),
                running: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                counters: Counters::default(),
            }),
        })
    }
}

/// Runs `f` on the state cell of loop `id` if that loop is running on this thread.
#[allow(unsafe_code)]
#[inline]
fn with_active<R>(id: u64, f: impl FnOnce(&RefCell<State>) -> R) -> Option<R> {
    let (aid, st) = ACTIVE.with(Cell::get);
    if aid != id || st.is_null() {
        return None;
    }
    // SAFETY: `LocalLoop::start` set the pointer from the `Rc` its `RunGuard` holds,
    // and the guard's `drop` puts the previous value back before that `Rc` is
    // dropped; the cell is this thread's own, so the state is alive while we read it.
    Some(f(unsafe { &*st }))
}

/// Runs `f` on the state of loop `id` if that loop is running on this thread.
#[inline]
fn on_active<R>(id: u64, f: impl FnOnce(&mut State) -> R) -> Option<R> {
    with_active(id, |st| f(&mut st.borrow_mut()))
}

/// [`on_active`], but `None` instead of a panic if the state is borrowed already.
fn on_active_try<R>(id: u64, f: impl FnOnce(&mut State) -> R) -> Option<R> {
    with_active(id, |st| Some(f(&mut *st.try_borrow_mut().ok()?))).flatten()
}

impl Shared {
    fn is_owner_thread(&self) -> bool {
        self.owner.get() == Some(&std::thread::current().id())
    }

    /// Binds the loop to this thread if unbound; false if bound to another.
    fn bind(&self) -> bool {
        *self.owner.get_or_init(|| std::thread::current().id()) == std::thread::current().id()
    }

    /// The slow path of [`enqueue`](Self::enqueue), out of line so that the fast one
    /// (a push on the running loop's thread) is small enough to inline.
    #[inline(never)]
    fn push_foreign(&self, item: Item) -> Result<()> {
        // `closed` is read under the injector's lock, and `close` raises it before it
        // takes that lock to drain: an item is either drained by `close` or refused
        // here (and dropped), never left behind.
        let mut injector = self.injector.lock().unwrap_or_else(|e| e.into_inner());
        if self.closed.load(Ordering::Acquire) {
            drop(injector);
            self.discard(item);
            return Err(Error::LoopClosed);
        }
        injector.push(item);
        drop(injector);
        self.injected.store(true, Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) {
            let _ = self.reactor.notify();
        }
        Ok(())
    }

    /// Queues `item`: straight into the ready queue when called on the loop's thread
    /// while it runs, through the injector otherwise.
    #[inline(always)]
    fn enqueue(&self, item: Item) -> Result<()> {
        let mut slot = Some(item);
        on_active(self.common.id(), |st| {
            if let Some(it) = slot.take() {
                st.ready.push_back(it)
            }
        });
        match slot {
            None => {
                self.wake_own_park();
                Ok(())
            }
            Some(item) => self.push_foreign(item),
        }
    }

    /// After a push on the loop's own thread: if that push came from a waker the
    /// reactor called inside its park, end the park.
    #[inline]
    fn wake_own_park(&self) {
        if self.wakes_inside_park && self.sleeping.load(Ordering::SeqCst) {
            let _ = self.reactor.notify();
        }
    }

    /// Drops an item the closed loop will never run, with whatever it owns. Only a
    /// `!Send` task's step must stay on the loop's thread (its future belongs there):
    /// elsewhere it is leaked, never dropped.
    fn discard(&self, item: Item) {
        match item {
            Item::Local(r) if !(self.is_owner_thread() || self.owner.get().is_none()) => {
                std::mem::forget(r)
            }
            Item::Task(r) | Item::Local(r) => tulip_core::drop_step(r),
            item => drop(item),
        }
    }

    /// Moves what other threads (or this thread, while the loop was not running)
    /// queued into the loop's own queues. One atomic load when there is nothing.
    #[inline(always)]
    fn drain_injected(&self, st: &mut State) {
        if self.injected.load(Ordering::SeqCst) {
            self.take_injected(st);
        }
    }

    /// The part of [`drain_injected`](Self::drain_injected) that runs when something
    /// was queued: out of line, so the check each iteration makes is one load.
    #[inline(never)]
    fn take_injected(&self, st: &mut State) {
        if !self.injected.swap(false, Ordering::SeqCst) {
            return;
        }
        let items = std::mem::take(&mut *self.injector.lock().unwrap_or_else(|e| e.into_inner()));
        st.ready.extend(items);
        let mut timers = self.timers_in.lock().unwrap_or_else(|e| e.into_inner());
        for (when, cb) in timers.drain(..) {
            st.timers.insert(when, cb);
        }
    }

    /// Consumes a `stop()` request; a plain load in the common case of none.
    fn take_stop(&self) -> bool {
        self.stopping.load(Ordering::Acquire) && self.stopping.swap(false, Ordering::AcqRel)
    }

    fn timeout(&self, st: &mut State) -> Option<Duration> {
        if !st.ready.is_empty() || self.stopping.load(Ordering::Acquire) {
            return Some(Duration::ZERO);
        }
        let next = st.timers.next_deadline();
        self.common
            .clock()
            .wait_timeout(next, || self.virtual_activity())
    }

    /// For a virtual clock about to wait (nothing ready): may it jump to the next
    /// timer? Not if another thread queued work, nor while a blocking job of this
    /// loop runs or a task waits on I/O: those are real-paced.
    fn virtual_activity(&self) -> Activity {
        if self.injected.load(Ordering::SeqCst) {
            Activity::Ready
        } else if self.common.clock().outside_busy() || self.reactor.io_interest() {
            Activity::Outside
        } else {
            Activity::Idle
        }
    }

    /// Publishes `st`'s counts and depths for `stats()`.
    fn publish(&self, st: &State) {
        let c = &self.counters;
        c.iterations.store(st.iterations, Ordering::Relaxed);
        c.ran.store(st.ran, Ordering::Relaxed);
        c.calls.store(st.calls, Ordering::Relaxed);
        c.waits.store(st.waits, Ordering::Relaxed);
        c.depth.store(st.ready.len(), Ordering::Relaxed);
        c.timers.store(st.timers.len(), Ordering::Relaxed);
    }
}

/// Restores `saved`, `ACTIVE` and `running` when a run ends, even by unwinding.
struct RunGuard<'a> {
    shared: &'a Shared,
    state: Rc<RefCell<State>>,
    prev: (u64, *const RefCell<State>),
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.set(self.prev));
        let st = std::mem::take(&mut *self.state.borrow_mut());
        self.shared.publish(&st);
        *self.shared.saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(st);
        self.shared.running.store(false, Ordering::Release);
    }
}

impl LocalLoop {
    fn start(&self) -> Result<RunGuard<'_>> {
        let sh = &*self.shared;
        if !sh.bind() {
            return Err(Error::WrongThread);
        }
        if sh.running.swap(true, Ordering::AcqRel) {
            return Err(Error::LoopRunning);
        }
        let st = sh
            .saved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        let state = Rc::new(RefCell::new(st));
        let prev = ACTIVE.with(|a| a.replace((sh.common.id(), Rc::as_ptr(&state))));
        Ok(RunGuard {
            shared: sh,
            state,
            prev,
        })
    }

    /// The first half of an iteration: whether to wait for I/O or the next timer
    /// (`Some(timeout)`; not at all if work is ready), with `sleeping` raised if so.
    /// The reactor waits between the halves ([`Reactor::run_loop`]).
    #[inline(always)]
    fn begin_iteration(&self, state: &Rc<RefCell<State>>) -> Option<Option<Duration>> {
        let sh = &*self.shared;
        if state.borrow().ready.is_empty() {
            // Nothing to run: a moment to free the finished tasks only the registry
            // keeps (a no-op unless a quarter of it finished since the last sweep).
            // Before the timeout is read: a freed task's destructors may schedule
            // work.
            sh.common.sweep_tasks(false);
        }
        let (timeout, waits, sample) = {
            let mut st = state.borrow_mut();
            st.iterations += 1;
            let sample = st.iterations % IO_POLL_INTERVAL == 0;
            sh.drain_injected(&mut st);
            let timeout = sh.timeout(&mut st);
            let waits = timeout != Some(Duration::ZERO);
            st.waits += u64::from(waits);
            if sample || waits {
                sh.publish(&st);
            }
            (timeout, waits, sample)
        };
        // With work ready, look at I/O only every few iterations when sockets are
        // registered (a zero-timeout poll is a syscall), and not at all otherwise.
        let must_poll = waits || (sample && sh.reactor.has_io());
        if !must_poll {
            return None;
        }
        sh.sleeping.store(true, Ordering::SeqCst);
        Some(if sh.injected.load(Ordering::SeqCst) {
            Some(Duration::ZERO)
        } else {
            timeout
        })
    }

    /// The second half of an iteration: collect due timers, then run exactly the
    /// items that are ready now.
    #[inline(always)]
    fn finish_iteration(
        &self,
        state: &Rc<RefCell<State>>,
        main: &mut MainSlot<'_, '_>,
        must_poll: bool,
    ) {
        let sh = &*self.shared;
        if must_poll {
            sh.sleeping.store(false, Ordering::SeqCst);
            sh.common.clock().waited();
        }
        // This iteration runs exactly what is ready now; whatever is scheduled while it
        // runs goes behind them and waits for the next iteration. (One queue, popped
        // in place: a second queue to swap with would double the memory it sweeps.)
        let ntodo = {
            let mut st = state.borrow_mut();
            if must_poll {
                sh.drain_injected(&mut st);
            }
            if !st.timers.is_empty() {
                let now = sh.common.clock().now();
                let State {
                    ready,
                    fired,
                    timers,
                    ..
                } = &mut *st;
                for cb in timers.expire(now) {
                    fired.push_back(cb);
                    ready.push_back(Item::Fired);
                }
            }
            st.ran += st.ready.len() as u64;
            st.ready.len()
        };
        let mut calls = 0;
        for _ in 0..ntodo {
            let item = state.borrow_mut().ready.pop_front();
            match item {
                Some(Item::Task(r) | Item::Local(r)) => {
                    r.run();
                }
                Some(Item::Call(cb)) => {
                    calls += 1;
                    cb.run_timed(&sh.common);
                }
                Some(Item::Fired) => {
                    calls += 1;
                    let cb = state.borrow_mut().fired.pop_front();
                    if let Some(cb) = cb {
                        cb.run_timed(&sh.common);
                    }
                }
                Some(Item::Main) => main.poll(),
                None => break,
            }
        }
        if calls != 0 {
            state.borrow_mut().calls += calls;
        }
    }
}

fn report_wait_error(e: std::io::Error) {
    tulip_core::report_exception(&tulip_core::ExceptionContext {
        message: format!("poller wait failed: {e}"),
        error: None,
        task: None,
    });
}

impl Schedule for LocalLoop {
    fn schedule(&self, runnable: Runnable) {
        if self.shared.enqueue(Item::Task(runnable)).is_err() {
            // The loop is closed: the step was discarded (see `Shared::discard`).
        }
    }
}

impl Backend for LocalLoop {
    fn executor(&self) -> &'static str {
        "local"
    }

    fn fill_stats(&self, stats: &mut tulip_core::LoopStats) {
        let c = &self.shared.counters;
        stats.iterations = c.iterations.load(Ordering::Relaxed);
        stats.waits = c.waits.load(Ordering::Relaxed);
        let calls = c.calls.load(Ordering::Relaxed);
        stats.callbacks_run = calls;
        stats.task_steps = c.ran.load(Ordering::Relaxed).saturating_sub(calls);
        stats.ready_depth = c.depth.load(Ordering::Relaxed);
        stats.pending_timers = c.timers.load(Ordering::Relaxed)
            + (self.shared.timers_in.lock()).map_or(0, |t| t.len());
    }

    fn common(&self) -> &LoopCommon {
        &self.shared.common
    }

    fn into_schedule(self: Arc<Self>) -> Arc<dyn Schedule> {
        self
    }

    fn schedule_local(&self, runnable: Runnable) -> Result<()> {
        self.shared.enqueue(Item::Local(runnable))
    }

    fn can_spawn_local(&self) -> bool {
        self.shared.bind()
    }

    fn call_soon(&self, cb: Callback) -> Result<()> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::LoopClosed);
        }
        self.shared.enqueue(Item::Call(Box::new(cb)))
    }

    /// On the loop's own thread, a sleep's timer is a key into the timer queue: no
    /// shared handle to allocate, and `disarm` removes the entry (and its waker) at
    /// once. From any other thread, the cancellable callback of the default.
    fn arm_wake(&self, when: Instant, waker: Waker) -> Result<Armed> {
        let sh = &*self.shared;
        if sh.closed.load(Ordering::Acquire) {
            return Err(Error::LoopClosed);
        }
        let id = sh.common.id();
        let mut slot = Some(waker);
        let key = on_active(id, |st| {
            let waker = slot.take()?;
            Some(st.timers.insert(when, Callback::wake_only(waker)))
        })
        .flatten();
        match (key, slot) {
            (Some(key), _) => {
                sh.wake_own_park();
                Ok(Armed::Key(key))
            }
            (None, Some(waker)) => {
                let (cb, handle) = Callback::wake_with_handle(waker);
                self.call_at(when, cb)?;
                Ok(Armed::Handle(handle))
            }
            (None, None) => unreachable!("the waker was taken only for an insert"),
        }
    }

    fn disarm(&self, key: TimerId) {
        // The payload (a waker) is dropped after the state is let go of: dropping the
        // last waker of a finished task frees it, which must not find the state
        // borrowed. A state already borrowed (a drop from inside the loop's own
        // bookkeeping) leaves the entry to fire into a waker nobody waits on.
        let removed = on_active_try(self.shared.common.id(), |st| st.timers.cancel(key));
        drop(removed);
    }

    fn call_at(&self, when: Instant, cb: Callback) -> Result<()> {
        let sh = &*self.shared;
        if sh.closed.load(Ordering::Acquire) {
            return Err(Error::LoopClosed);
        }
        let mut slot = Some(cb);
        on_active(sh.common.id(), |st| {
            if let Some(cb) = slot.take() {
                st.timers.insert(when, cb);
            }
        });
        if slot.is_none() {
            sh.wake_own_park();
        }
        if let Some(cb) = slot {
            let mut timers_in = sh.timers_in.lock().unwrap_or_else(|e| e.into_inner());
            if sh.closed.load(Ordering::Acquire) {
                drop(timers_in);
                drop(cb);
                return Err(Error::LoopClosed);
            }
            timers_in.push((when, cb));
            drop(timers_in);
            sh.injected.store(true, Ordering::SeqCst);
            if sh.sleeping.load(Ordering::SeqCst) {
                let _ = sh.reactor.notify();
            }
        }
        Ok(())
    }

    fn run_until(&self, mut main: MainFuture<'_>) -> Result<()> {
        let guard = self.start()?;
        {
            let mut st = guard.state.borrow_mut();
            self.shared.drain_injected(&mut st);
            st.ready.push_back(Item::Main);
        }
        let shared = Arc::downgrade(&self.shared);
        let mut slot = MainSlot::new(Some(&mut main), move || {
            if let Some(shared) = shared.upgrade() {
                let _ = shared.enqueue(Item::Main);
            }
        });
        self.shared.reactor.run_loop(
            || self.begin_iteration(&guard.state),
            |waited| {
                self.finish_iteration(&guard.state, &mut slot, waited);
                if slot.is_done() {
                    return Some(Ok(()));
                }
                // `then`, not `then_some`: no error built and dropped per iteration.
                self.shared
                    .take_stop()
                    .then(|| Err(Error::StoppedBeforeComplete))
            },
            report_wait_error,
        )
    }

    fn run_forever(&self) -> Result<()> {
        let guard = self.start()?;
        let mut slot = MainSlot::new(None, || {});
        self.shared.reactor.run_loop(
            || self.begin_iteration(&guard.state),
            |waited| {
                self.finish_iteration(&guard.state, &mut slot, waited);
                self.shared.take_stop().then_some(Ok(()))
            },
            report_wait_error,
        )
    }

    fn stop(&self) {
        self.shared.stopping.store(true, Ordering::Release);
        if self.shared.sleeping.load(Ordering::SeqCst) {
            let _ = self.shared.reactor.notify();
        }
    }

    fn close(&self) -> Result<()> {
        let sh = &*self.shared;
        if sh.running.load(Ordering::Acquire) {
            return Err(Error::LoopRunning);
        }
        if sh.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let saved = sh.saved.lock().unwrap_or_else(|e| e.into_inner()).take();
        let injected = std::mem::take(&mut *sh.injector.lock().unwrap_or_else(|e| e.into_inner()));
        let timers = std::mem::take(&mut *sh.timers_in.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(mut st) = saved {
            st.timers.clear();
            st.fired.clear();
            for item in st.ready.drain(..) {
                sh.discard(item);
            }
        }
        for item in injected {
            sh.discard(item);
        }
        drop(timers);
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    fn reactor(&self) -> &Arc<Reactor> {
        &self.shared.reactor
    }
}
