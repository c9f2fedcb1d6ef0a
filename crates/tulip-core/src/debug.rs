//! asyncio's debug mode: `loop.set_debug(True)` or `PYTHONASYNCIODEBUG=1`.
//!
//! In debug mode a loop times every task step and callback and reports the ones
//! longer than its `slow_callback_duration` to its exception handler, with the task's
//! name and spawn site; tasks record when they were spawned. Off — the default — it
//! costs one load of a process-wide count per step: while no loop has debug on, the
//! count is zero and nothing else is read.

use std::sync::Arc;
use std::time::Instant;

use crate::backend::Backend;
use crate::event_loop::EventLoop;
use crate::header::TaskRef;
use crate::loop_common::{ExceptionContext, LoopCommon};

/// Reports the step of `task`'s task that began at `start`, if it was slow.
#[cold]
pub(crate) fn step_end(start: Instant, task: impl FnOnce() -> TaskRef, lp: &Arc<dyn Backend>) {
    let took = start.elapsed();
    if took < lp.common().slow_callback_duration() {
        return;
    }
    let task = task();
    let ctx = ExceptionContext {
        message: format!(
            "Executing task {:?} (spawned at {}) took {:.3} seconds",
            task.name(),
            task.spawn_site(),
            took.as_secs_f64()
        ),
        error: None,
        task: Some(task),
    };
    EventLoop::from_backend_uncounted(lp.clone()).call_exception_handler(&ctx);
}

/// Reports a callback that began at `start` on the loop whose state is `common`, if
/// it was slow.
#[cold]
pub(crate) fn callback_end(start: Instant, common: &LoopCommon) {
    let took = start.elapsed();
    if took < common.slow_callback_duration() {
        return;
    }
    crate::running::report_exception(&ExceptionContext {
        message: format!(
            "Executing a callback took {:.3} seconds",
            took.as_secs_f64()
        ),
        error: None,
        task: None,
    });
}

/// Debug mode's report of a blocking call made on a thread that runs a loop: the call
/// stalls every task and callback of that loop for as long as it waits.
pub(crate) fn blocking_call_on_loop_thread(what: &str) {
    if !crate::debug_flag::any_debug() {
        return;
    }
    let Ok(lp) = crate::running::get_running_loop() else {
        return;
    };
    if !lp.get_debug() {
        return;
    }
    let task = crate::current::current_task();
    let message = match &task {
        Some(t) => format!(
            "{what} blocks the thread of running loop {} (in task {:?}, spawned at {}); await instead",
            lp.id(),
            t.name(),
            t.spawn_site()
        ),
        None => format!("{what} blocks the thread of running loop {}; await instead", lp.id()),
    };
    lp.call_exception_handler(&ExceptionContext {
        message,
        error: None,
        task,
    });
}

impl crate::handle::Callback {
    /// [`run_reporting`](Self::run_reporting) for the executor of the loop whose state
    /// is `common`: also times the callback when that loop is in debug mode.
    #[inline]
    pub fn run_timed(self, common: &crate::loop_common::LoopCommon) {
        match common.step_start() {
            None => self.run_reporting(),
            Some(start) => {
                self.run_reporting();
                callback_end(start, common);
            }
        }
    }
}
