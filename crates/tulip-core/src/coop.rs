//! Cooperative budget: a task that keeps finding its await points ready hands the
//! loop back after a bounded amount of work.
//!
//! asyncio gets fairness for free: data reaches a coroutine through transport
//! callbacks, one per loop iteration. A Rust await point that is already ready
//! returns at once, so a task reading a fast socket could run for seconds without
//! yielding. Each task poll gets [`BUDGET`] units; every tulip await point that
//! completes without waiting spends one ([`poll_proceed`]); once they are spent the
//! await point wakes its task and returns `Pending`, so the task goes to the back of
//! the ready queue, as asyncio's would after one callback.
//!
//! Outside a task (a plain `block_on`) the budget is unlimited.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Units of ready work a task may do in one poll.
pub const BUDGET: u32 = 128;

thread_local! {
    static LEFT: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// Runs `f` (one task poll) with a fresh budget; afterwards the thread is back to
/// an unlimited one. (Two plain stores: this runs on every task poll. A task polled
/// from inside another task's poll leaves the outer one unlimited for the rest of
/// its poll, which only loses fairness, never progress.)
#[inline(always)]
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    LEFT.with(|l| l.set(BUDGET));
    let r = f();
    LEFT.with(|l| l.set(u32::MAX));
    r
}

/// Spends one unit of the current task's budget before an await point completes
/// without waiting. `Ready(())`: go on. `Pending`: the budget is spent; the task
/// has been woken and will go on at its next poll, after the other ready work.
///
/// Call it at the top of an await point's `poll`, before taking any data, so that
/// returning `Pending` changes nothing (cancel safe).
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    LEFT.with(|l| {
        let left = l.get();
        if left == 0 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            l.set(left - 1);
            Poll::Ready(())
        }
    })
}

/// True while the current task still has budget (for await points that want to
/// check without spending).
#[inline]
pub fn has_budget() -> bool {
    LEFT.with(|l| l.get() != 0)
}
