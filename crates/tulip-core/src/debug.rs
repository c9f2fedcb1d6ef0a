//! asyncio's debug mode: `loop.set_debug(True)` or `PYTHONASYNCIODEBUG=1`.
//!
//! In debug mode a loop times every task step and callback and reports the ones
//! longer than its `slow_callback_duration` to its exception handler, with the task's
//! name and spawn site; tasks record when they were spawned. Off — the default — it
//! costs one load of a process-wide count per step: while no loop has debug on, the
//! count is zero and nothing else is read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::event_loop::EventLoop;
use crate::header::{Header, TaskRef};
use crate::loop_common::{ExceptionContext, LoopCommon};

/// asyncio's default `slow_callback_duration`.
pub(crate) const DEFAULT_SLOW: Duration = Duration::from_millis(100);

/// Loops with debug mode on, in the process.
static DEBUG_LOOPS: AtomicUsize = AtomicUsize::new(0);

#[inline(always)]
pub(crate) fn any_debug() -> bool {
    DEBUG_LOOPS.load(Ordering::Relaxed) != 0
}

pub(crate) fn count_debug(on: bool) {
    if on {
        DEBUG_LOOPS.fetch_add(1, Ordering::Relaxed);
    } else {
        DEBUG_LOOPS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `TULIP_DEBUG` (anything but empty or `0`) or asyncio's `PYTHONASYNCIODEBUG`
/// (anything but empty), read once: new loops start in debug mode.
pub(crate) fn env_debug() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty());
        (set("TULIP_DEBUG") && std::env::var("TULIP_DEBUG").as_deref() != Ok("0"))
            || set("PYTHONASYNCIODEBUG")
    })
}

/// The start of a step, if its loop is in debug mode.
#[inline(always)]
pub(crate) fn step_start(common: &LoopCommon) -> Option<Instant> {
    if !common.debug() {
        return None;
    }
    Some(Instant::now())
}

/// Reports the step of `header`'s task that began at `start`, if it was slow.
#[cold]
pub(crate) fn step_end(start: Instant, header: &Arc<Header>, lp: &Arc<dyn Backend>) {
    let took = start.elapsed();
    if took < lp.common().slow_callback_duration() {
        return;
    }
    let task = TaskRef::from_header(header.clone());
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
    crate::report::report_exception(&ExceptionContext {
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
    if !any_debug() {
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
