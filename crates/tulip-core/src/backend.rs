//! The executor contract: what an executor crate implements so that an [`EventLoop`]
//! can stand in front of it.
//!
//! Tasks are allocated in one place (`tasks.rs`, with `async-task`); an executor only
//! ever sees [`Runnable`]s to run and [`Callback`]s to call. The loop-level state that
//! every executor shares (id, clock origin, exception handler, live tasks) is the
//! [`LoopCommon`] the executor embeds and returns from [`Backend::common`].
//!
//! [`EventLoop`]: crate::EventLoop

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use std::task::Waker;

use tulip_reactor::{Reactor, TimerId};

use crate::error::Result;
use crate::handle::{Callback, Handle};
use crate::loop_common::LoopCommon;

/// A `sleep`'s timer as [`Backend::arm_wake`] armed it.
#[derive(Debug)]
pub enum Armed {
    /// A cancellable callback in the loop's queue; cancelling the handle drops the
    /// waker.
    Handle(Handle),
    /// An entry of the executor's own timer store, removed with
    /// [`Backend::disarm`]. Timer ids are unique in the process, so one handed to
    /// another loop's `disarm` matches nothing there.
    Key(TimerId),
}

pub use crate::header::{Runnable, Schedule};

thread_local! {
    /// Steps whose drop was asked for while another step was being dropped on this
    /// thread; `None` while no drop is under way.
    static DROPPING: RefCell<Option<Vec<Runnable>>> = const { RefCell::new(None) };
}

/// Drops a task step that a closed loop will never run — and with it the task's
/// future — but never from inside another such drop.
///
/// A closed executor is handed steps by `wake()`, and code often wakes while it holds
/// a lock: a `LockGuard` dropped with its task's future wakes the next waiter under
/// the lock's mutex. Dropping that waiter's future right there would run *its*
/// destructor, which takes the same mutex: a deadlock. So a drop that starts while
/// another is under way on this thread is queued, and the outermost one drops the
/// queue after its own step, once every destructor in between has returned. Executors
/// call this instead of `drop(runnable)` whenever they refuse a step.
pub fn drop_step(runnable: Runnable) {
    let first = DROPPING.with(|d| match &mut *d.borrow_mut() {
        Some(queued) => {
            queued.push(runnable);
            None
        }
        slot @ None => {
            *slot = Some(Vec::new());
            Some(runnable)
        }
    });
    let Some(runnable) = first else {
        return;
    };
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            let left = DROPPING.with(|d| d.borrow_mut().take());
            drop(left);
        }
    }
    let _done = Done;
    drop(runnable);
    while let Some(next) = DROPPING.with(|d| d.borrow_mut().as_mut().and_then(Vec::pop)) {
        drop(next);
    }
}

/// The future an executor drives in `run_until`: the loop's "main" task.
pub type MainFuture<'a> = Pin<&'a mut (dyn Future<Output = ()> + 'a)>;

/// What an executor provides. Object-safe; every method may be called from any thread
/// unless it says otherwise.
pub trait Backend: Schedule {
    /// The state every loop carries, whatever its executor.
    fn common(&self) -> &LoopCommon;

    /// This executor as the [`Schedule`] a spawned task's header keeps (`self`).
    fn into_schedule(self: Arc<Self>) -> Arc<dyn Schedule>;

    /// The executor's name, as users pick it (`"local"`, `"threaded"`).
    fn executor(&self) -> &'static str;

    /// Fills the executor's part of [`EventLoop::stats`](crate::EventLoop::stats):
    /// iterations, callbacks and steps run, queue depths, timers, workers. Called from
    /// any thread.
    fn fill_stats(&self, stats: &mut crate::stats::LoopStats) {
        let _ = stats;
    }

    /// Queues a step of a `!Send` task spawned on the current thread. Errors with
    /// `WrongThread` if the current thread cannot run this loop's local tasks.
    fn schedule_local(&self, runnable: Runnable) -> Result<()>;

    /// True if `!Send` tasks spawned now, on this thread, can be run by this loop.
    fn can_spawn_local(&self) -> bool;

    /// Which of the loop's threads a `!Send` task spawned now, on this thread, lives
    /// on. Captured at spawn and handed back to [`schedule_local_on`] at every wake-up
    /// (which may come from any thread). Single-threaded executors keep the default.
    ///
    /// [`schedule_local_on`]: Backend::schedule_local_on
    fn local_home(&self) -> usize {
        0
    }

    /// Queues a step of a `!Send` task whose home is `home` (see
    /// [`local_home`](Backend::local_home)); called by the task's waker, from any
    /// thread. The default ignores `home` and calls `schedule_local`.
    fn schedule_local_on(&self, home: usize, runnable: Runnable) -> Result<()> {
        let _ = home;
        self.schedule_local(runnable)
    }

    /// Queues a callback at the end of the ready queue. Wakes the loop if it is
    /// blocked waiting for I/O.
    fn call_soon(&self, cb: Callback) -> Result<()>;

    /// Queues a callback for `when` (timers fire in deadline order, ties in insertion
    /// order).
    fn call_at(&self, when: Instant, cb: Callback) -> Result<()>;

    /// Arms a timer that wakes `waker` at `when` (a `sleep`'s), and says how to
    /// disarm it. The default queues a cancellable callback with
    /// [`call_at`](Backend::call_at), which costs a shared allocation for the handle;
    /// an executor whose timer queue can remove an entry by key returns
    /// [`Armed::Key`] instead, and disarms it in [`disarm`](Backend::disarm).
    fn arm_wake(&self, when: Instant, waker: Waker) -> Result<Armed> {
        let (cb, handle) = Callback::wake_with_handle(waker);
        self.call_at(when, cb)?;
        Ok(Armed::Handle(handle))
    }

    /// Removes the timer `arm_wake` returned `key` for, dropping its waker, if it has
    /// not fired; called from whatever thread drops or re-arms the sleep. An executor
    /// that cannot reach its queue from there leaves the timer to fire into a waker
    /// nobody waits on. The default does nothing (it never hands out keys).
    fn disarm(&self, key: TimerId) {
        let _ = key;
    }

    /// Runs the loop until `main` completes (then `Ok`), or until `stop()` (then
    /// `Err(StoppedBeforeComplete)`). The caller has checked the loop is neither closed
    /// nor running.
    fn run_until(&self, main: MainFuture<'_>) -> Result<()>;

    /// Runs the loop until `stop()` is called.
    fn run_forever(&self) -> Result<()>;

    /// Asks the running loop to return after the current iteration.
    fn stop(&self);

    /// Drops every queued callback and task step; later calls fail with `LoopClosed`.
    fn close(&self) -> Result<()>;

    /// True while `run_forever` / `run_until` is on the stack.
    fn is_running(&self) -> bool;

    /// True after `close()`.
    fn is_closed(&self) -> bool;

    /// The I/O reactor of this loop.
    fn reactor(&self) -> &Arc<Reactor>;
}
