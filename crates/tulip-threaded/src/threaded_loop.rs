//! The loop: who runs what, and how a run starts and ends.
//!
//! Two kinds of thread serve one loop:
//! - **The driver** is the thread that called `run_until_complete` / `run_forever`.
//!   It owns the loop's "lane": one FIFO queue ([`Shared::calls`]) of callbacks, the
//!   main future's steps and the steps of `!Send` tasks spawned on it; the timers;
//!   and the reactor's `wait`. One iteration is asyncio's `_run_once`: wait for I/O or
//!   the next timer (not at all if the lane has work), take the due timers, run
//!   exactly the items that were queued when the iteration started, then the due
//!   timers' callbacks. Workers help by taking due timers out of the buckets in firing
//!   order; the driver alone runs the callbacks among them, and a worker fires the
//!   sleeps' timers (they only wake a task) that no callback precedes (`timers.rs`).
//!   After a step of its own (the main future, a local task), with a worker awake
//!   and a CPU free, the driver spins a few microseconds on the lane before it
//!   waits, so a worker's answer reaches it without the poller (`spin_for_lane`).
//! - **The workers** (N threads, started at the first run) run `Send` task steps, from
//!   per-worker deques with stealing and a global injector (see `worker.rs`), and the
//!   `!Send` tasks pinned to them.
//!
//! Why the reactor is shared and waited on by the driver only: `Reactor::wait` must be
//! called by one thread at a time, and timers must fire while every worker is parked.
//! The driver has to sleep somewhere anyway, so it sleeps in the poller with the next
//! timer's deadline as timeout. The steps its wait wakes it keeps and runs itself,
//! giving the later half of a burst to the workers (none at all on one CPU:
//! `dispatch.rs`); steps woken anywhere else go to the workers. A worker about to
//! park looks at the reactor without blocking first (`Reactor::poll_now`), and runs
//! what that wakes: the driver's wait is the only one that blocks. Per-worker reactors
//! would need a socket to be re-registered when its task is stolen; one poller per
//! loop keeps `tulip-net`'s contract (one reactor per loop) as it is.
//!
//! Why callbacks go through one lane: asyncio promises `call_soon` callbacks run in
//! FIFO order relative to each other, and `stop()` ends the loop after the iteration
//! that is running. Running callbacks on one thread keeps both exactly; task steps, the
//! bulk of the work, run in parallel.
//!
//! Invariants:
//! - tasks make progress only while a run is on the stack: `start` opens the gate,
//!   and the `Session` guard closes it and waits until every worker left the run;
//! - `calls` is popped only by the driver; `pinned[i]` and worker `i`'s deque are
//!   popped only by worker `i` (its deque is also stolen from by the others);
//! - a `!Send` task's step is run or dropped only on its home thread; when that is
//!   impossible (woken after close, from elsewhere) it is leaked, never dropped;
//! - `driver_sleeping` is raised before the lane and timers are looked at one last time
//!   and the poller is entered; pushers raise their item first, then (after a SeqCst
//!   fence) notify the poller if they see the flag, so no wake-up of the driver is lost.
//!
//! Shutdown order (`close`, or dropping the last handle): raise `closed`, raise
//! `shutdown` at the gate, join the workers (each drops what is left in its queues),
//! then drop the lane, the injector and the timers.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::sync::{Arc, OnceLock, Weak};
use std::task::Waker;
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use concurrent_queue::ConcurrentQueue;
use crossbeam_deque::{Injector, Stealer, Worker};
use tulip_core::{
    Activity, Armed, Backend, Callback, Error, EventLoop, LoopCommon, MainFuture, MainSlot, Result,
    Runnable, Schedule, StatCounter,
};
use tulip_reactor::{Reactor, ReactorKind, TimerId};

use crate::dispatch;
use crate::idle::Idle;
use crate::spin::{self, SpinBackoff};
use crate::sync::{fence, lock, try_lock, AtomicBool, AtomicU64, Condvar, Mutex, Ordering};
use crate::timers::{Clock, Timers};
use crate::worker;

/// An item of the driver's lane.
pub(crate) enum Item {
    Call(Callback),
    Local(Runnable),
    Main,
}

/// The driver's spin before it waits (see `ThreadedLoop::spin_for_lane`).
#[derive(Default)]
struct DriverSpin {
    /// The last iteration ran a step of the driver's own.
    ran_own: bool,
    backoff: SpinBackoff,
}

/// The driver does not spin when a timer is due sooner than this: the spin (about
/// 20 µs) would make it late.
const DRIVER_SPIN_TIMER_MARGIN: Duration = Duration::from_micros(100);

/// The gate workers wait at between runs.
#[derive(Default)]
pub(crate) struct Session {
    pub(crate) active: bool,
    pub(crate) shutdown: bool,
    pub(crate) in_session: usize,
}

/// What every handle, waker, worker and foreign thread sees.
pub(crate) struct Shared {
    pub(crate) common: LoopCommon,
    pub(crate) this: Weak<ThreadedLoop>,
    reactor: Arc<Reactor>,
    name: String,
    // Task steps.
    pub(crate) injector: Injector<Runnable>,
    pub(crate) stealers: Vec<Stealer<Runnable>>,
    pub(crate) pinned: Vec<ConcurrentQueue<Runnable>>,
    pub(crate) idle: Idle,
    deques: Mutex<Vec<Worker<Runnable>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    // The driver's lane.
    calls: ConcurrentQueue<Item>,
    timers: Mutex<Timers>,
    /// The timers' earliest deadline in `clock` ticks (`u64::MAX`: none); see `timers.rs`.
    next_due: AtomicU64,
    clock: Clock,
    /// The driver's buffer for due timers, kept between iterations (see [`Due`]).
    due: Mutex<Vec<Callback>>,
    driver_sleeping: AtomicBool,
    /// The CPUs this process may use: the driver spins only while one is free of
    /// awake workers (`ThreadedLoop::spin_for_lane`).
    cpus: usize,
    /// The driver gives the later half of a burst its reactor wait woke to the
    /// workers (`Builder::hand_off`; see `dispatch.rs`).
    hand_off: bool,
    local_owner: OnceLock<ThreadId>,
    // Runs.
    pub(crate) session: Mutex<Session>,
    pub(crate) gate: Condvar,
    pub(crate) left: Condvar,
    pub(crate) ending: AtomicBool,
    stopping: AtomicBool,
    running: AtomicBool,
    closed: AtomicBool,
    /// `EventLoop::stats()`: the driver's figures, then one slot per worker.
    pub(crate) driver_stats: Counters,
    pub(crate) worker_stats: Vec<Counters>,
}

/// Figures `stats()` reads. Each is written by one thread only (the driver, or its
/// worker); a cache line each, so workers do not write each other's lines.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct Counters {
    pub(crate) iterations: StatCounter,
    pub(crate) callbacks: StatCounter,
    pub(crate) steps: StatCounter,
    pub(crate) steals: StatCounter,
    /// A worker's parks; the driver's waits in the poller (`LoopStats::waits`).
    pub(crate) parks: StatCounter,
}

/// The multi-threaded executor; use it through [`EventLoop`] (built by
/// [`new_event_loop`] or [`Builder`](crate::Builder)).
pub struct ThreadedLoop {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ThreadedLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadedLoop")
            .field("id", &self.shared.common.id())
            .field("workers", &self.shared.stealers.len())
            .finish()
    }
}

/// Creates a multi-threaded loop with one worker per available CPU.
///
/// # Errors
/// The OS refused to create the poller.
///
/// # Examples
/// ```
/// let lp = tulip::executors::threaded::new_event_loop()?;
/// let sum = lp.run_until_complete(async {
///     let tasks: Vec<_> = (0..4u64)
///         .map(|i| tulip::create_task(async move { Ok::<_, tulip::Error>(i * 10) }))
///         .collect::<Result<_, _>>()?;
///     let mut sum = 0;
///     for t in tasks {
///         sum += t.await?;
///     }
///     Ok::<_, tulip::Error>(sum)
/// })?;
/// assert_eq!(sum, 60);
/// lp.close()?;
/// # Ok::<(), tulip::Error>(())
/// ```
pub fn new_event_loop() -> Result<EventLoop> {
    crate::Builder::new().build()
}

impl ThreadedLoop {
    pub(crate) fn build(
        workers: usize,
        name: String,
        kind: ReactorKind,
        virtual_clock: bool,
        hand_off: bool,
        spin: bool,
        cpus: usize,
    ) -> Result<Arc<ThreadedLoop>> {
        let reactor = Arc::new(Reactor::with_kind(kind)?);
        let common = LoopCommon::with_clock(virtual_clock);
        common.clock().attach(&reactor);
        // Timer ticks count from the clock's start: a virtual clock's deadlines
        // round-trip through them exactly.
        let clock = Clock::with_epoch(common.epoch());
        let deques: Vec<Worker<Runnable>> = (0..workers).map(|_| Worker::new_fifo()).collect();
        Ok(Arc::new_cyclic(|this| ThreadedLoop {
            shared: Arc::new(Shared {
                common,
                this: this.clone(),
                reactor,
                name,
                injector: Injector::new(),
                stealers: deques.iter().map(Worker::stealer).collect(),
                pinned: (0..workers).map(|_| ConcurrentQueue::unbounded()).collect(),
                idle: Idle::new(workers, virtual_clock, spin),
                driver_stats: Counters::default(),
                worker_stats: (0..workers).map(|_| Counters::default()).collect(),
                deques: Mutex::new(deques),
                threads: Mutex::new(Vec::new()),
                calls: ConcurrentQueue::unbounded(),
                timers: Mutex::new(Timers::new()),
                next_due: AtomicU64::new(u64::MAX),
                clock,
                due: Mutex::new(Vec::new()),
                driver_sleeping: AtomicBool::new(false),
                cpus,
                hand_off,
                local_owner: OnceLock::new(),
                session: Mutex::new(Session::default()),
                gate: Condvar::new(),
                left: Condvar::new(),
                ending: AtomicBool::new(false),
                stopping: AtomicBool::new(false),
                running: AtomicBool::new(false),
                closed: AtomicBool::new(false),
            }),
        }))
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.shared.stealers.len()
    }
}

impl Shared {
    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Wakes the driver if it sleeps in the poller. Call after making work visible.
    pub(crate) fn wake_driver(&self) {
        fence(Ordering::SeqCst);
        if self.driver_sleeping.load(Ordering::SeqCst) {
            let _ = self.reactor.notify();
        }
    }

    /// Adds `cb` to the timers, due at `when`, and wakes the driver (its wait may
    /// need to end sooner); returns the timer's id.
    fn insert_timer(&self, when: Instant, cb: Callback) -> Result<TimerId> {
        if self.is_closed() {
            return Err(Error::LoopClosed);
        }
        let ticks = self.clock.ticks(when);
        let mut timers = lock(&self.timers);
        // Checked again under the lock `drain` clears the timers under: a timer added
        // by a thread that raced `close` is refused, never kept in dead timers.
        if self.is_closed() {
            drop(timers);
            drop(cb);
            return Err(Error::LoopClosed);
        }
        let id = timers.insert(ticks, cb, &self.next_due);
        drop(timers);
        self.wake_driver();
        Ok(id)
    }

    fn push_lane(&self, item: Item) {
        if self.calls.push(item).is_ok() {
            self.drain_if_closed_meanwhile();
            self.wake_driver();
        }
    }

    /// After a push from a thread that saw the loop open: if `close` ran meanwhile,
    /// its drain may have come before the push, so drain again, or the item would
    /// stay in a queue nobody reads (its task never dropped, whatever it owns kept).
    /// Wakers run on any thread (async-io's reactor thread, `to_thread` workers),
    /// so this race is real. Pairs with the fence in `close`.
    fn drain_if_closed_meanwhile(&self) {
        fence(Ordering::SeqCst);
        if self.is_closed() {
            self.drain();
        }
    }

    /// Queues a `Send` task step: onto this worker's deque when called on one of this
    /// loop's workers, onto the injector otherwise; then wakes an idle worker, unless
    /// the step is the only one on this worker's deque.
    ///
    /// That one this worker runs next, as soon as the step it runs (the one that woke
    /// it) returns: a thief woken for it would find it gone, or take it and turn a
    /// message passed between two tasks into a wake-up across threads at every pass
    /// (`ping_pong`). tokio gets the same from its LIFO slot; here the deque stays
    /// FIFO, and only the wake-up is saved. The cost: a step that wakes one task and
    /// then runs on for long keeps that task waiting (tokio's LIFO slot does too);
    /// once two are queued, a sleeper is woken to steal.
    fn push_task(&self, r: Runnable) {
        if self.is_closed() {
            tulip_core::drop_step(r); // Whoever awaits the task sees it cancelled.
            return;
        }
        let mut slot = Some(r);
        let more = worker::with_worker(self.common.id(), |ctx| {
            if let Some(r) = slot.take() {
                ctx.local.push(r)
            }
            worker::has_surplus(&ctx.local)
        });
        if let Some(r) = slot {
            // Woken by the driver's own reactor wait: the driver runs it next.
            let Some(r) = dispatch::keep(self.common.id(), r) else {
                return;
            };
            self.injector.push(r);
            self.drain_if_closed_meanwhile();
        } else if more == Some(false) {
            return;
        }
        self.idle.unpark_one();
    }

    /// A worker with nothing to run looks at the reactor without blocking: readiness
    /// the driver has not picked up yet (it is running steps) becomes work for this
    /// worker instead of waiting for the driver's next wait. True if it woke tasks.
    pub(crate) fn poll_io(&self) -> bool {
        self.reactor.poll_now() > 0
    }

    /// A worker takes due timers out of the buckets (see `timers.rs`): the leading ones
    /// that only wake a task it fires itself, once the lock is dropped, with `fire` as
    /// its buffer; the rest wait for the driver. True if it took some. Never waits for
    /// the timers' lock.
    pub(crate) fn take_due_timers(&self, fire: &mut Vec<Callback>) -> bool {
        let due = self.next_due.load(Ordering::Relaxed);
        if due == u64::MAX {
            return false;
        }
        let now = self.clock.ticks(self.common.clock().now());
        if now < due {
            return false;
        }
        let took =
            try_lock(&self.timers).is_some_and(|mut t| t.take_due(now, &self.next_due, fire) > 0);
        for cb in fire.drain(..) {
            cb.run_timed(&self.common);
        }
        took
    }

    /// True if a `Send` task step waits in the injector or in a worker's deque.
    pub(crate) fn steps_queued(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    fn is_local_owner(&self) -> bool {
        self.local_owner.get() == Some(&std::thread::current().id())
    }

    /// A `!Send` step that cannot run any more (the loop is closed): dropped on its
    /// home thread, leaked elsewhere (dropping it there would be unsound for its
    /// future, and async-task would panic).
    fn discard_local(&self, home: usize, r: Runnable) {
        let at_home = match home {
            0 => self.is_local_owner(),
            w => worker::with_worker(self.common.id(), |ctx| ctx.index + 1 == w).unwrap_or(false),
        };
        if at_home {
            tulip_core::drop_step(r);
        } else {
            std::mem::forget(r);
        }
    }

    fn spawn_workers(self: &Arc<Self>) -> Result<()> {
        let mut threads = lock(&self.threads);
        if !threads.is_empty() {
            return Ok(());
        }
        let deques = std::mem::take(&mut *lock(&self.deques));
        for (index, local) in deques.into_iter().enumerate() {
            let shared = self.clone();
            let t = std::thread::Builder::new()
                .name(format!("{}-{index}", self.name))
                .spawn(move || worker::main(shared, index, local))?;
            threads.push(t);
        }
        Ok(())
    }

    /// Raises `shutdown` at the gate and joins every worker (but never the current
    /// thread, should the last handle be dropped on a worker).
    fn shutdown_workers(&self) {
        lock(&self.session).shutdown = true;
        self.gate.notify_all();
        self.ending.store(true, Ordering::SeqCst);
        self.idle.unpark_all();
        let threads = std::mem::take(&mut *lock(&self.threads));
        let me = std::thread::current().id();
        for t in threads {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }

    /// Drops everything still queued on the lane, the injector and the timers.
    fn drain(&self) {
        while let Ok(item) = self.calls.pop() {
            if let Item::Local(r) = item {
                self.discard_local(0, r);
            }
        }
        loop {
            match self.injector.steal() {
                crossbeam_deque::Steal::Success(r) => tulip_core::drop_step(r),
                crossbeam_deque::Steal::Empty => break,
                crossbeam_deque::Steal::Retry => {}
            }
        }
        lock(&self.timers).clear(&self.next_due);
    }
}

/// The timers that fell due in one iteration of the driver, run after the lane's items.
/// Dropped, it gives its buffer back for the next iteration; if the iteration unwound
/// (a panic out of the main future), what did not run yet goes on the lane, so the next
/// run of the loop still fires it.
struct Due<'a> {
    shared: &'a Shared,
    list: Vec<Callback>,
}

impl Drop for Due<'_> {
    fn drop(&mut self) {
        for cb in self.list.drain(..) {
            let _ = self.shared.calls.push(Item::Call(cb));
        }
        *lock(&self.shared.due) = std::mem::take(&mut self.list);
    }
}

/// One run of the loop: opened by `start`, closed (workers out, `running` lowered)
/// when dropped, even by unwinding.
struct Run<'a> {
    shared: &'a Shared,
}

impl Drop for Run<'_> {
    fn drop(&mut self) {
        let sh = self.shared;
        {
            let mut s = lock(&sh.session);
            s.active = false;
            sh.ending.store(true, Ordering::SeqCst);
        }
        sh.idle.unpark_all();
        let mut s = lock(&sh.session);
        while s.in_session > 0 {
            s = sh.left.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        drop(s);
        sh.running.store(false, Ordering::Release);
    }
}

impl ThreadedLoop {
    fn start(&self) -> Result<Run<'_>> {
        let sh = &self.shared;
        if sh.running.swap(true, Ordering::AcqRel) {
            return Err(Error::LoopRunning);
        }
        if let Err(e) = sh.spawn_workers() {
            sh.running.store(false, Ordering::Release);
            return Err(e);
        }
        {
            let mut s = lock(&sh.session);
            sh.ending.store(false, Ordering::SeqCst);
            s.active = true;
        }
        sh.gate.notify_all();
        Ok(Run { shared: sh })
    }

    /// How long the driver may sleep: zero if the lane has work or a stop is pending,
    /// else until the next timer (or for ever).
    fn timeout(&self) -> Option<Duration> {
        let sh = &self.shared;
        if !sh.calls.is_empty() || sh.stopping.load(Ordering::SeqCst) {
            return Some(Duration::ZERO);
        }
        let next = lock(&sh.timers).next_deadline(&sh.clock);
        sh.common
            .clock()
            .wait_timeout(next, || self.virtual_activity())
    }

    /// For a virtual clock about to wait (the lane is empty): may it jump to the next
    /// timer? Only when every worker is parked, no step is queued, no blocking job of
    /// this loop runs and no task waits on I/O. Workers still running steps: wait for
    /// the last one to park (it wakes the driver). I/O or a blocking job: real-paced.
    ///
    /// The parked count is read before and after the queues: a worker that woke in
    /// between (it may have taken the step the queues no longer show) changed its
    /// generation, so an unchanged word means nobody ran anything meanwhile.
    fn virtual_activity(&self) -> Activity {
        let sh = &*self.shared;
        let before = sh.idle.parked_word();
        if Idle::parked_count(before) < sh.stealers.len() {
            return Activity::Inside;
        }
        // Read before the queues: a blocking job pushes its wake-up, then uncounts.
        let outside = sh.common.clock().outside_busy() || sh.reactor.io_interest();
        if !sh.calls.is_empty() {
            return Activity::Ready;
        }
        let queued = sh.steps_queued() || sh.pinned.iter().any(|q| !q.is_empty());
        if queued || sh.idle.parked_word() != before {
            Activity::Inside
        } else if outside {
            Activity::Outside
        } else {
            Activity::Idle
        }
    }

    /// One iteration of the driver (see the module docs).
    /// The first half of an iteration: whether the driver waits in the reactor
    /// (`Some(timeout)`), with `driver_sleeping` raised if so.
    #[inline(always)]
    fn begin_iteration(&self, spin: &mut DriverSpin) -> Option<Option<Duration>> {
        let sh = &*self.shared;
        if self.timeout() != Some(Duration::ZERO) {
            // About to wait: a moment to free the finished tasks only the registry
            // keeps (a no-op unless a quarter of it finished since the last sweep).
            // Before the timeout is read again: a freed task's destructors may
            // schedule work.
            sh.common.sweep_tasks(false);
            if spin.ran_own {
                self.spin_for_lane(spin);
            }
        }
        if self.timeout() != Some(Duration::ZERO) || sh.reactor.has_io() {
            sh.driver_sleeping.store(true, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            // async-io's park runs wakers before it returns: a step kept then would
            // wait for the park to end; there, woken steps go to the workers.
            if !sh.reactor.kind().wakes_inside_park() {
                dispatch::begin(sh.common.id());
            }
            let timeout = self.timeout();
            if timeout != Some(Duration::ZERO) {
                sh.driver_stats.parks.add(1);
            }
            Some(timeout)
        } else {
            None
        }
    }

    /// The driver ran a step of its own (the main future, a local task) and is
    /// about to wait: if a worker is awake, the step likely handed it something
    /// whose answer comes back in microseconds (`main_ping_pong`: the main future
    /// and a task passing messages). Look at the lane for a few microseconds first:
    /// while `driver_sleeping` is down, the worker's push skips the poller's
    /// notification, and the driver skips the wait — two syscalls and two
    /// trips through the kernel's scheduler a message.
    ///
    /// Not when every CPU already has an awake worker: the spin would take a CPU
    /// from the work. Spins that find nothing back off (`spin.rs`); none while a
    /// timer is due within the spin's span.
    fn spin_for_lane(&self, spin: &mut DriverSpin) {
        let sh = &*self.shared;
        let awake = sh.idle.awake();
        if !sh.idle.may_spin() || awake == 0 || awake >= sh.cpus || !spin.backoff.try_spin() {
            return;
        }
        if self.timeout().is_some_and(|t| t < DRIVER_SPIN_TIMER_MARGIN) {
            return;
        }
        // Ends at work for the lane, or once every worker is parked: no answer comes
        // soon then (work from elsewhere wakes the driver through the poller, as
        // always).
        let found = spin::spin(|| {
            if !sh.calls.is_empty() || sh.stopping.load(Ordering::Relaxed) {
                ControlFlow::Break(true)
            } else if sh.idle.awake() == 0 {
                ControlFlow::Break(false)
            } else {
                ControlFlow::Continue(())
            }
        });
        spin.backoff.record(found == Some(true));
    }

    /// The second half: the lane's items, then the timers that fell due. True if it
    /// ran a step of the driver's own (the main future, a local task).
    #[inline(always)]
    fn finish_iteration(&self, main: &mut MainSlot<'_, '_>, waited: bool) -> bool {
        let sh = &*self.shared;
        let mut steps = 0;
        let mut own = false;
        if waited {
            sh.driver_sleeping.store(false, Ordering::SeqCst);
            sh.common.clock().waited();
            if let Some(r) = dispatch::end() {
                // A burst: the later half of it to the workers, one of them woken.
                if sh.hand_off && dispatch::share(2, |r| sh.injector.push(r)) {
                    sh.idle.unpark_one();
                }
                steps += run_kept(r);
            }
        }
        // Due timers go after what the lane holds now, as asyncio appends them to its
        // ready queue; they run straight from a reused buffer (no trip through the
        // lane, no allocation per iteration).
        let mut due = Due {
            shared: sh,
            list: std::mem::take(&mut *lock(&sh.due)),
        };
        let now = sh.clock.ticks(sh.common.clock().now());
        lock(&sh.timers).expire(now, &mut due.list, &sh.next_due);
        let mut calls = due.list.len() as u64;
        for _ in 0..sh.calls.len() {
            match sh.calls.pop() {
                Ok(Item::Call(cb)) => {
                    calls += 1;
                    cb.run_timed(&sh.common);
                }
                Ok(Item::Local(r)) => {
                    steps += 1;
                    own = true;
                    self.run_local(r);
                }
                Ok(Item::Main) => {
                    steps += 1;
                    own = true;
                    main.poll();
                }
                Err(_) => break,
            }
        }
        // While every worker is busy and steps already queue for them, the steps
        // these timers wake run here, after them: in the injector they would wait
        // behind that backlog (in a burst of 100,000 sleepers, the late 1% waited
        // there 20–40 ms after their timer fired). Otherwise they go to the
        // workers as always.
        let keep =
            !due.list.is_empty() && sh.idle.awake() == sh.stealers.len() && sh.steps_queued();
        if keep {
            dispatch::begin(sh.common.id());
        }
        for cb in due.list.drain(..) {
            cb.run_timed(&sh.common);
        }
        if keep {
            if let Some(r) = dispatch::end() {
                steps += run_kept(r);
            }
        }
        let c = &sh.driver_stats;
        c.iterations.add(1);
        c.callbacks.add(calls);
        c.steps.add(steps);
        own
    }

    fn run_local(&self, r: Runnable) {
        if self.shared.is_local_owner() {
            r.run();
        } else {
            // Spawned on another thread that drove this loop before; it cannot run here.
            tulip_core::report_exception(&tulip_core::ExceptionContext {
                message: "a local task of another thread was left behind".into(),
                error: None,
                task: None,
            });
            std::mem::forget(r);
        }
    }

    /// The driver's iterations, until the main future is done or `stop()`.
    fn drive(&self, main: &mut MainSlot<'_, '_>) -> Result<()> {
        let _run = self.start()?;
        let reactor = self.shared.reactor.clone();
        let spin = RefCell::new(DriverSpin::default());
        reactor.run_loop(
            || self.begin_iteration(&mut spin.borrow_mut()),
            |waited| {
                let own = self.finish_iteration(main, waited);
                spin.borrow_mut().ran_own = own;
                if main.is_done() {
                    return Some(Ok(()));
                }
                if self.shared.stopping.swap(false, Ordering::AcqRel) {
                    return Some(match main.has_future() {
                        true => Err(Error::StoppedBeforeComplete),
                        false => Ok(()),
                    });
                }
                None
            },
            |e| {
                tulip_core::report_exception(&tulip_core::ExceptionContext {
                    message: format!("poller wait failed: {e}"),
                    error: None,
                    task: None,
                })
            },
        )
    }
}

/// Runs `first`, then every step kept after it in the dispatch window that just
/// closed, on this thread (the driver); returns how many ran.
fn run_kept(first: Runnable) -> u64 {
    worker::run_step(first);
    let mut ran = 1;
    while let Some(r) = dispatch::next_kept() {
        ran += 1;
        worker::run_step(r);
    }
    ran
}

impl Drop for ThreadedLoop {
    fn drop(&mut self) {
        // No handle is left: nobody can run or close the loop any more.
        self.shared.closed.store(true, Ordering::Release);
        self.shared.shutdown_workers();
        self.shared.drain();
    }
}

impl Schedule for ThreadedLoop {
    fn schedule(&self, runnable: Runnable) {
        self.shared.push_task(runnable);
    }
}

impl Backend for ThreadedLoop {
    fn executor(&self) -> &'static str {
        "threaded"
    }

    fn fill_stats(&self, stats: &mut tulip_core::LoopStats) {
        let sh = &*self.shared;
        stats.iterations = sh.driver_stats.iterations.get();
        stats.callbacks_run = sh.driver_stats.callbacks.get();
        stats.task_steps = sh.driver_stats.steps.get();
        stats.waits = sh.driver_stats.parks.get();
        stats.ready_depth = sh.calls.len() + sh.injector.len();
        stats.pending_timers = lock(&sh.timers).len();
        for (index, c) in sh.worker_stats.iter().enumerate() {
            let mut w = tulip_core::WorkerStats::default();
            w.index = index;
            w.task_steps = c.steps.get();
            w.steals = c.steals.get();
            w.parks = c.parks.get();
            w.queue_depth = sh.stealers[index].len() + sh.pinned[index].len();
            stats.task_steps += w.task_steps;
            stats.ready_depth += w.queue_depth;
            stats.workers.push(w);
        }
    }

    fn common(&self) -> &LoopCommon {
        &self.shared.common
    }

    fn into_schedule(self: Arc<Self>) -> Arc<dyn Schedule> {
        self
    }

    fn schedule_local(&self, runnable: Runnable) -> Result<()> {
        let home = self.local_home();
        self.schedule_local_on(home, runnable)
    }

    fn local_home(&self) -> usize {
        worker::with_worker(self.shared.common.id(), |ctx| ctx.index + 1).unwrap_or(0)
    }

    fn schedule_local_on(&self, home: usize, runnable: Runnable) -> Result<()> {
        let sh = &self.shared;
        if sh.is_closed() {
            sh.discard_local(home, runnable);
            return Err(Error::LoopClosed);
        }
        match home {
            0 => sh.push_lane(Item::Local(runnable)),
            w => {
                let _ = sh.pinned[w - 1].push(runnable);
                sh.idle.unpark_worker(w - 1);
            }
        }
        Ok(())
    }

    fn can_spawn_local(&self) -> bool {
        let sh = &self.shared;
        if worker::with_worker(sh.common.id(), |_| ()).is_some() {
            return true;
        }
        *sh.local_owner.get_or_init(|| std::thread::current().id()) == std::thread::current().id()
    }

    fn call_soon(&self, cb: Callback) -> Result<()> {
        if self.shared.is_closed() {
            return Err(Error::LoopClosed);
        }
        self.shared.push_lane(Item::Call(cb));
        Ok(())
    }

    fn call_at(&self, when: Instant, cb: Callback) -> Result<()> {
        self.shared.insert_timer(when, cb).map(drop)
    }

    /// A sleep's timer is a key into the timers' slab: no shared handle to allocate,
    /// and `disarm` removes it (and its waker) from whichever thread drops the sleep.
    fn arm_wake(&self, when: Instant, waker: Waker) -> Result<Armed> {
        let key = self.shared.insert_timer(when, Callback::wake_only(waker))?;
        Ok(Armed::Key(key))
    }

    fn disarm(&self, key: TimerId) {
        // The waker is dropped once the lock is let go of (the statement's end).
        let removed = lock(&self.shared.timers).cancel(key);
        drop(removed);
    }

    fn run_until(&self, mut main: MainFuture<'_>) -> Result<()> {
        self.shared.push_lane(Item::Main);
        let shared = Arc::downgrade(&self.shared);
        let mut slot = MainSlot::new(Some(&mut main), move || {
            if let Some(shared) = shared.upgrade() {
                shared.push_lane(Item::Main);
            }
        });
        self.drive(&mut slot)
    }

    fn run_forever(&self) -> Result<()> {
        let mut slot = MainSlot::new(None, || {});
        self.drive(&mut slot)
    }

    fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.wake_driver();
    }

    fn close(&self) -> Result<()> {
        let sh = &self.shared;
        if sh.running.load(Ordering::Acquire) {
            return Err(Error::LoopRunning);
        }
        if sh.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        // Pairs with `drain_if_closed_meanwhile`: a push either sees `closed` or is
        // seen by the drain below.
        fence(Ordering::SeqCst);
        sh.shutdown_workers();
        sh.drain();
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    fn reactor(&self) -> &Arc<Reactor> {
        &self.shared.reactor
    }
}
