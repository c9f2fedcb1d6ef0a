//! The driver keeps the task steps its own reactor wait wakes, and runs them itself.
//!
//! Before, every step a readiness event woke went to a worker: a push to the
//! injector, a futex wake of a parked worker, and on a 2-core machine three runnable
//! threads (the driver and two workers) where the work was one task's. tokio's
//! workers poll I/O themselves and run what it woke, waking another worker to steal
//! when there is more than one; tulip's reactor stays with the driver (see
//! `threaded_loop.rs`), so the driver keeps what it woke instead, in wake order:
//! - with hand-off (`Builder::hand_off(true)`, the default when the process may use
//!   more than one CPU), a burst of three or more steps gives its later half to the
//!   workers and wakes one; the driver runs the rest, so a wait that woke many tasks
//!   still spreads them over the workers;
//! - without (`hand_off(false)`, the default when it may use one CPU only:
//!   `taskset -c 0`, a one-CPU container), the driver runs every step: there a
//!   hand-off buys no parallelism and costs a context switch.
//!
//! While a driver thread dispatches its reactor's events (from the end of
//! `begin_iteration` to the start of `finish_iteration`), `DISPATCHING` holds its
//! loop's id; `push_task` on that thread keeps the step here instead of putting it on
//! the injector, and `finish_iteration` runs what was kept before the lane. Other
//! threads' wakes, and the driver's own outside that window, take the usual path.
//! Not with the async-io backend: its park runs wakers before it returns (and returns
//! only when notified), so a kept step would wait for the park to end.
//!
//! The same window opens around the due timers' callbacks in `finish_iteration`
//! while every worker is busy and steps already queue for them: the steps the
//! timers wake would otherwise wait behind that backlog, and the driver runs them
//! right after the callbacks, with either backend (no park is in progress then).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use tulip_core::Runnable;

thread_local! {
    /// The loop whose driver this thread is, while it dispatches (0: none; loop ids
    /// start at 1).
    static DISPATCHING: Cell<u64> = const { Cell::new(0) };
    /// The first step the dispatch woke (most waits wake one: no queue for it).
    static FIRST: Cell<Option<Runnable>> = const { Cell::new(None) };
    /// The steps after the first, in the order they woke.
    static MORE: RefCell<VecDeque<Runnable>> = const { RefCell::new(VecDeque::new()) };
}

/// The driver of loop `loop_id` is about to wait and dispatch on this thread.
#[inline]
pub(crate) fn begin(loop_id: u64) {
    DISPATCHING.with(|d| d.set(loop_id));
}

/// Keeps `r` for the driver if this thread is dispatching for loop `loop_id`;
/// otherwise hands it back.
#[inline]
pub(crate) fn keep(loop_id: u64, r: Runnable) -> Option<Runnable> {
    if DISPATCHING.with(Cell::get) != loop_id {
        return Some(r);
    }
    FIRST.with(|k| match k.take() {
        None => k.set(Some(r)),
        Some(first) => {
            k.set(Some(first));
            MORE.with(|m| m.borrow_mut().push_back(r));
        }
    });
    None
}

/// The dispatch is over: the first step it kept, if any (the rest come from
/// [`share`] and [`next_kept`]).
#[inline]
pub(crate) fn end() -> Option<Runnable> {
    DISPATCHING.with(|d| d.set(0));
    FIRST.with(Cell::take)
}

/// Gives the later half of the steps kept after the first to `give`, if at least
/// `min` are kept; true if it gave any.
pub(crate) fn share(min: usize, mut give: impl FnMut(Runnable)) -> bool {
    MORE.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() < min.max(1) {
            return false;
        }
        let keep = m.len() - m.len() / 2;
        for r in m.drain(keep..) {
            give(r);
        }
        true
    })
}

/// The next step kept after the first, in the order they woke.
#[inline]
pub(crate) fn next_kept() -> Option<Runnable> {
    MORE.with(|m| m.borrow_mut().pop_front())
}
