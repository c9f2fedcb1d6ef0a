//! The driver keeps the first task step its reactor wait wakes, and runs it itself.
//!
//! Before, every step a readiness event woke went to a worker: a push to the
//! injector, a futex wake of a parked worker, and on a 2-core machine three runnable
//! threads (the driver and two workers) where the work was one task's. tokio's
//! workers poll I/O themselves and run what it wakes; tulip's reactor stays with the
//! driver (see `threaded_loop.rs`), so the driver runs what it woke instead — the
//! first step only, so that a wait that woke many tasks still spreads them over the
//! workers.
//!
//! While a driver thread dispatches its reactor's events (from the end of
//! `begin_iteration` to the start of `finish_iteration`), `DISPATCHING` holds its
//! loop's id; `push_task` on that thread puts the first step into `KEPT` instead of
//! the injector, and `finish_iteration` runs it before the lane. Other threads' wakes,
//! and the driver's own outside that window, take the usual path. Not with the
//! async-io backend: its park runs wakers before it returns (and returns only when
//! notified), so a kept step would wait for the park to end.

use std::cell::Cell;

use tulip_core::Runnable;

thread_local! {
    /// The loop whose driver this thread is, while it dispatches (0: none; loop ids
    /// start at 1).
    static DISPATCHING: Cell<u64> = const { Cell::new(0) };
    /// The first step the dispatch woke.
    static KEPT: Cell<Option<Runnable>> = const { Cell::new(None) };
}

/// The driver of loop `loop_id` is about to wait and dispatch on this thread.
#[inline]
pub(crate) fn begin(loop_id: u64) {
    DISPATCHING.with(|d| d.set(loop_id));
}

/// Keeps `r` for the driver if this thread is dispatching for loop `loop_id` and has
/// kept nothing yet; otherwise hands it back.
#[inline]
pub(crate) fn keep(loop_id: u64, r: Runnable) -> Option<Runnable> {
    if DISPATCHING.with(Cell::get) != loop_id {
        return Some(r);
    }
    KEPT.with(|k| match k.take() {
        None => {
            k.set(Some(r));
            None
        }
        Some(first) => {
            k.set(Some(first));
            Some(r)
        }
    })
}

/// The dispatch is over: what it kept, if anything.
#[inline]
pub(crate) fn end() -> Option<Runnable> {
    DISPATCHING.with(|d| d.set(0));
    KEPT.with(Cell::take)
}
