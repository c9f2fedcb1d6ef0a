//! The task being polled on this thread, and the cancel requests it has to take.
//!
//! `CURRENT` holds a pointer to the header, borrowed for the span of one poll, so
//! tracking the current task costs no reference counting; only `current_task()`
//! takes a count (through the header's key).

// Borrows the header through a pointer valid for one poll (see `enter`).
#![allow(unsafe_code)]

use std::cell::Cell;
use std::sync::atomic::Ordering;

use crate::error::{Cancelled, Error, Result};
use crate::header::{Header, HeaderPtr, HeaderRef, TaskRef, CANCELS_PENDING};

/// The task being polled: its header, alive while `enter`'s closure runs.
#[derive(Clone, Copy)]
struct Current {
    header: HeaderPtr,
}

thread_local! {
    static CURRENT: Cell<Option<Current>> = const { Cell::new(None) };
}

/// Makes the task whose header is `header` the current task for the span of `f` (one
/// poll), and restores the previous one afterwards, even if `f` unwinds.
///
/// # Safety
/// `header` must be alive for the span of `f`, with its key set, as
/// [`HeaderRef::mint`] requires (`current_task()` mints a reference from it).
#[inline(always)]
pub(crate) unsafe fn enter<R>(header: &Header, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Current>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let me = Current {
        header: HeaderPtr::new(header),
    };
    let _restore = Restore(CURRENT.with(|c| c.replace(Some(me))));
    f()
}

#[inline]
fn with_current<R>(f: impl FnOnce(Option<&Header>) -> R) -> R {
    let cur = CURRENT.with(Cell::get);
    // SAFETY: `CURRENT` is set only inside `enter`, which restores the previous value
    // before returning, and the header it was given is alive for that whole span;
    // so while it is set, the header is alive. The reference does not escape `f`,
    // which runs inside that span.
    f(cur.map(|c| unsafe { c.header.get() }))
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
    with_current(|h| {
        h.map(|h| {
            // SAFETY: `enter`'s contract: the header is alive and its key set.
            TaskRef::from_header(unsafe { HeaderRef::mint(h) })
        })
    })
}
