//! The task being polled on this thread, and the cancel requests it has to take.
//!
//! `CURRENT` holds the header by value and is swapped in and out around each poll, so
//! tracking the current task costs no reference counting.

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::error::{Cancelled, Error, Result};
use crate::header::{Header, TaskRef, CANCELS_PENDING};

thread_local! {
    static CURRENT: Cell<Option<Arc<Header>>> = const { Cell::new(None) };
}

/// Makes `header` the current task for the span of `f` (one poll).
#[inline(always)]
pub(crate) fn enter<R>(header: Arc<Header>, f: impl FnOnce() -> R) -> (Arc<Header>, R) {
    let prev = CURRENT.with(|c| c.replace(Some(header)));
    let r = f();
    let header = CURRENT
        .with(|c| c.replace(prev))
        .expect("current task restored");
    (header, r)
}

#[inline]
fn with_current<R>(f: impl FnOnce(Option<&Arc<Header>>) -> R) -> R {
    CURRENT.with(|c| {
        let h = c.take();
        let r = f(h.as_ref());
        c.set(h);
        r
    })
}

/// Takes the current task's pending cancel request. Every tulip await point calls this
/// first when polled and, on `Some`, stops waiting and returns `Err(Cancelled)`.
///
/// Outside a task (or with no request) returns `None`.
#[inline]
pub fn take_cancel() -> Option<Cancelled> {
    if CANCELS_PENDING.load(Ordering::SeqCst) == 0 {
        return None;
    }
    with_current(|h| h.and_then(|h| h.take_cancel()))
}

/// [`take_cancel`] as a `Result`: `Err(Error::Cancelled)` when a cancel was pending.
///
/// # Errors
/// `Cancelled` when the current task was asked to cancel.
pub fn check_cancel() -> Result<()> {
    match take_cancel() {
        Some(c) => Err(Error::Cancelled(c)),
        None => Ok(()),
    }
}

/// The task being run on this thread (asyncio's `current_task()`).
pub fn current_task() -> Option<TaskRef> {
    with_current(|h| h.cloned().map(TaskRef::from_header))
}
