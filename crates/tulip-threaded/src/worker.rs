//! The worker threads: find a task step, run it, park when there is none.
//!
//! A worker's life: wait at the gate for a run of the loop (or for shutdown); for the
//! span of the run, make the loop its running loop and run task steps; when the run
//! ends, leave (the driver waits for every worker to leave before `run_*` returns, so
//! no task makes progress while the loop is not running, as in asyncio); at shutdown,
//! drop what is left in its own queues — on its own thread, which is where the `!Send`
//! tasks pinned to it must be dropped.
//!
//! Where a worker looks for work, in order: its own deque (FIFO), the tasks pinned to
//! it, the global injector (a batch at a time), then the other workers' deques, from a
//! rotating starting point. Every 61st step takes due timers out of the buckets and looks
//! at the injector first, so timers fire and tasks woken from other threads are not
//! starved by a busy local queue or a busy driver. With nothing found, it takes due
//! timers out of the buckets (firing the ones that only wake a task, leaving the rest
//! for the driver: see `timers.rs`), then looks at the
//! reactor without blocking (`Reactor::poll_now`): sockets that became ready while
//! the driver was busy running steps wake their tasks onto this worker's deque,
//! instead of waiting for the driver's next wait. Then, unless another worker does,
//! it spins: looks for work again for some microseconds (see `idle.rs`). Only then
//! does it park.

use std::cell::Cell;
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use crossbeam_deque::{Steal, Worker};
use tulip_core::{enter_running, Callback, EventLoop, Runnable};

use crate::spin::{spin, SpinBackoff};
use crate::sync::{lock, Ordering};
use crate::threaded_loop::{Counters, Shared};

/// What a worker thread knows about itself, for `schedule` calls made on it.
pub(crate) struct WorkerCtx {
    pub(crate) loop_id: u64,
    pub(crate) index: usize,
    pub(crate) local: Rc<Worker<Runnable>>,
}

thread_local! {
    /// This worker thread's context (null off the workers). A plain pointer, so that
    /// a `schedule` made on a worker reads it without a destructor-registration
    /// check or a borrow flag; [`ContextGuard`] keeps it valid.
    static CONTEXT: Cell<*const WorkerCtx> = const { Cell::new(ptr::null()) };
}

/// Publishes a worker's context in [`CONTEXT`] while it lives.
struct ContextGuard;

impl ContextGuard {
    /// Points `CONTEXT` at `ctx` until the guard drops; `ctx` outlives the guard.
    fn set(ctx: &WorkerCtx) -> ContextGuard {
        CONTEXT.with(|c| c.set(ctx));
        ContextGuard
    }
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        CONTEXT.with(|c| c.set(ptr::null()));
    }
}

/// Runs `f` with this thread's worker context, if there is one.
#[allow(unsafe_code)]
#[inline]
fn with_context<R>(f: impl FnOnce(&WorkerCtx) -> R) -> Option<R> {
    let ctx = CONTEXT.with(Cell::get);
    if ctx.is_null() {
        return None;
    }
    // SAFETY: only `ContextGuard::set` makes the pointer non-null, from a context
    // that outlives the guard, and the guard nulls it when it drops (unwinding too);
    // the cell is this thread's own, so the context is alive while `f` runs.
    let ctx = unsafe { &*ctx };
    Some(f(ctx))
}

/// Runs `f` with this thread's worker context if it is a worker of loop `loop_id`.
#[inline]
pub(crate) fn with_worker<R>(loop_id: u64, f: impl FnOnce(&WorkerCtx) -> R) -> Option<R> {
    with_context(|ctx| (ctx.loop_id == loop_id).then(|| f(ctx))).flatten()
}

/// The index of the worker thread this code runs on, `None` off the workers of every
/// threaded loop.
///
/// # Examples
/// ```
/// assert_eq!(tulip::executors::threaded::current_worker(), None); // the test's own thread
/// let lp = tulip::executors::threaded::Builder::new().workers(2).build()?;
/// let on = lp.run_until_complete(async {
///     let t = tulip::create_task(async {
///         Ok::<_, tulip::Error>(tulip::executors::threaded::current_worker())
///     })?;
///     t.await
/// })?;
/// assert!(matches!(on, Some(0 | 1)));
/// lp.close()?;
/// # Ok::<(), tulip::Error>(())
/// ```
pub fn current_worker() -> Option<usize> {
    with_context(|ctx| ctx.index)
}

/// Body of worker thread `index`.
pub(crate) fn main(shared: Arc<Shared>, index: usize, local: Worker<Runnable>) {
    let local = Rc::new(local);
    let ctx = WorkerCtx {
        loop_id: shared.common.id(),
        index,
        local: local.clone(),
    };
    let context = ContextGuard::set(&ctx);
    let mut w = Runner {
        shared: &shared,
        index,
        local: &local,
        tick: 0,
        steps: 0,
        fire: Vec::new(),
        spin: SpinBackoff::default(),
    };
    while w.enter() {
        if let Some(lp) = shared.this.upgrade() {
            let _running = enter_running(EventLoop::from_backend_uncounted(lp));
            w.run_session();
        }
        w.leave();
    }
    // Shutdown: drop what is left here, on the thread that owns it.
    while let Ok(r) = shared.pinned[index].pop() {
        tulip_core::drop_step(r);
    }
    drop(context);
    while let Some(r) = local.pop() {
        tulip_core::drop_step(r);
    }
}

struct Runner<'a> {
    shared: &'a Shared,
    index: usize,
    local: &'a Worker<Runnable>,
    tick: u32,
    /// Steps run and not yet added to this worker's `Counters` (published every
    /// `PUBLISH_EVERY` steps and before parking: a plain add per step).
    steps: u64,
    /// The buffer for the due timers this worker fires (`Shared::take_due_timers`).
    fire: Vec<Callback>,
    /// Whether spinning has paid off lately (see [`SpinBackoff`]).
    spin: SpinBackoff,
}

/// How many steps a worker runs between two publications of its step count.
const PUBLISH_EVERY: u64 = 64;

impl Runner<'_> {
    /// Waits at the gate for a run; false at shutdown.
    fn enter(&self) -> bool {
        let mut s = lock(&self.shared.session);
        loop {
            if s.shutdown {
                return false;
            }
            if s.active {
                s.in_session += 1;
                return true;
            }
            s = self.shared.gate.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Tells the driver this worker is out of the run.
    fn leave(&self) {
        let mut s = lock(&self.shared.session);
        s.in_session -= 1;
        if s.in_session == 0 {
            self.shared.left.notify_all();
        }
    }

    fn ending(&self) -> bool {
        self.shared.ending.load(Ordering::SeqCst)
    }

    /// Runs task steps until the run ends.
    fn run_session(&mut self) {
        let shared = self.shared;
        let idle = &shared.idle;
        while !self.ending() {
            if let Some(r) = self.find() {
                self.run(r);
                continue;
            }
            // Nothing to run: take the due timers out (firing the sleeps' ones), then
            // look again.
            if self.shared.take_due_timers(&mut self.fire) {
                continue;
            }
            // Then ready sockets the driver has not looked at yet.
            if self.shared.poll_io() {
                continue;
            }
            // Then, if no other worker does, spin a while.
            if let Some(r) = self.spin() {
                self.run(r);
                continue;
            }
            idle.prepare(self.index);
            if self.ending() {
                idle.cancel(self.index);
                break;
            }
            if let Some(r) = self.find() {
                idle.cancel(self.index);
                self.run(r);
                continue;
            }
            self.publish_steps();
            self.stats().parks.add(1);
            // Runs on a virtual clock's loop only: it jumps only once every worker
            // is parked, so the last one tells the driver, which may be waiting for
            // exactly that.
            idle.park(self.index, || shared.wake_driver());
        }
        self.publish_steps();
    }

    /// Looks for work a few microseconds longer before parking, if this worker may
    /// spin now (see `idle.rs`). When it found some and more is queued, it wakes
    /// another worker, as the pushers it made skip their wake-up would have.
    fn spin(&mut self) -> Option<Runnable> {
        let idle = &self.shared.idle;
        if !self.spin.try_spin() || !idle.start_spin() {
            return None;
        }
        let mut found = spin(|| {
            if self.ending() {
                return ControlFlow::Break(None);
            }
            match self.find() {
                Some(r) => ControlFlow::Break(Some(r)),
                None => ControlFlow::Continue(()),
            }
        })
        .flatten();
        idle.end_spin();
        // Pushes made while this worker spun woke nobody. They are visible now: take
        // one, and if more is queued, wake a sleeper for the rest.
        if found.is_none() && !self.ending() {
            found = self.find();
        }
        self.spin.record(found.is_some());
        if found.is_some() && self.shared.steps_queued() {
            idle.pass_on();
        }
        found
    }

    fn stats(&self) -> &Counters {
        &self.shared.worker_stats[self.index]
    }

    fn publish_steps(&mut self) {
        let steps = std::mem::take(&mut self.steps);
        self.stats().steps.add(steps);
    }

    #[inline]
    fn run(&mut self, r: Runnable) {
        self.steps += 1;
        if self.steps == PUBLISH_EVERY {
            self.publish_steps();
        }
        run_step(r);
        // Steps queued here (woken, or a batch taken from the injector) beyond the
        // one this worker takes next: let an idle worker steal some.
        if has_surplus(self.local) {
            self.shared.idle.unpark_one();
        }
    }

    fn find(&mut self) -> Option<Runnable> {
        self.tick = self.tick.wrapping_add(1);
        if self.tick % 61 == 0 {
            // A busy worker takes due timers out too: the driver may be busy for a
            // long while (a main future spawning a hundred thousand sleepers).
            self.shared.take_due_timers(&mut self.fire);
            if let Some(r) = self.take_injected() {
                return Some(r);
            }
        }
        if let Some(r) = self.local.pop() {
            return Some(r);
        }
        if let Ok(r) = self.shared.pinned[self.index].pop() {
            return Some(r);
        }
        self.take_injected().or_else(|| self.steal())
    }

    fn take_injected(&self) -> Option<Runnable> {
        loop {
            match self.shared.injector.steal_batch_and_pop(self.local) {
                Steal::Success(r) => return Some(r),
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
    }

    fn steal(&self) -> Option<Runnable> {
        let n = self.shared.stealers.len();
        let start = self.tick as usize % n.max(1);
        for i in (0..n).map(|k| (start + k) % n) {
            if i == self.index {
                continue;
            }
            loop {
                match self.shared.stealers[i].steal_batch_and_pop(self.local) {
                    Steal::Success(r) => {
                        self.stats().steals.add(1);
                        return Some(r);
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        None
    }
}

/// True if a worker's own deque holds more steps than the one the worker runs
/// next: only then is an idle worker woken to steal (see `Shared::push_task`).
#[inline]
pub(crate) fn has_surplus(local: &Worker<Runnable>) -> bool {
    local.len() > 1
}

/// Runs one task step on this thread (a worker, or the driver for a step its reactor
/// wait woke). Task panics are caught inside the task (tulip-core's TaskFuture); this
/// catches what escapes it (a panicking waker or drop), so the thread survives anyway.
#[inline]
pub(crate) fn run_step(r: Runnable) {
    if catch_unwind(AssertUnwindSafe(|| r.run())).is_err() {
        report_escaped_panic();
    }
}

/// A panic escaped a task step (a panicking waker or destructor): say so, and go on.
#[cold]
#[inline(never)]
fn report_escaped_panic() {
    tulip_core::report_exception(&tulip_core::ExceptionContext {
        message: "a task step panicked outside its task; the thread continues".into(),
        error: None,
        task: None,
    });
}
