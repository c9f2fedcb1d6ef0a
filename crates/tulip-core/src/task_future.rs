//! The future async-task runs: the user's future plus asyncio's task protocol.
//!
//! - makes the task's header the thread's current task while it is polled;
//! - takes a cancel nobody inside took, and enforces it by dropping the future;
//! - catches a panic (in a poll, or in a destructor while the future is dropped) and
//!   makes it the task's raised error;
//! - finishes the task: decides how it ended from what the body returned, schedules
//!   its done-callbacks and awaiters, reports an exception nobody will retrieve.
//!
//! A `TaskFuture` dropped before it finished (its loop closed, or dropped its parked
//! tasks) finishes the task as cancelled, so awaiters and done-callbacks still hear.

// Reads the header through a pointer into the task's own allocation (see `poll`).
#![allow(unsafe_code)]

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::backend::Backend;
use crate::coop;
use crate::current;
use crate::error::{Cancelled, Error};
use crate::event_loop::EventLoop;
use crate::header::{
    has_calls, Header, HeaderPtr, HeaderRef, MainTask, TaskRef, DETACHED, RAISED, RETRIEVED,
};
use crate::outcome::{Ending, TaskError};
use crate::task::{dropped, report_unretrieved_on};
use crate::task_ref::{schedule_entries, schedule_raised_callbacks};

/// Whose future a [`TaskFuture`] is: a spawned task's ([`Spawned`], which holds
/// nothing, so a spawned task's cell carries no word for it) or the main task's of
/// `run_until_complete` (`&TaskRef`, held by `run_until_complete`).
pub(crate) trait Role {
    /// The main task's reference; `None` for a spawned task.
    fn main(&self) -> Option<&TaskRef>;

    /// Keeps the waker the main task waits with (a spawned task's key wakes it).
    fn set_waker(&self, _w: &Waker) {}
}

/// The role of a spawned task's future.
pub(crate) struct Spawned;

impl Role for Spawned {
    #[inline]
    fn main(&self) -> Option<&TaskRef> {
        None
    }
}

impl Role for &MainTask {
    #[inline]
    fn main(&self) -> Option<&TaskRef> {
        Some(&self.task)
    }

    fn set_waker(&self, w: &Waker) {
        MainTask::set_waker(self, w);
    }
}

pin_project_lite::pin_project! {
    /// The user's future plus asyncio's task protocol.
    pub(crate) struct TaskFuture<R: Role, F> {
        // A spawned task's header is async-task's metadata, in the same allocation as
        // this future; the main task's is kept alive by `role`, which outlives this.
        header: HeaderPtr,
        // The main future of `run_until_complete` (its errors go to the caller, not
        // the exception handler) or a spawned task's.
        role: R,
        // The loop's executor (not a counted `EventLoop` handle: smaller, and a task
        // must not keep its loop open).
        lp: Arc<dyn Backend>,
        #[pin]
        fut: Option<F>,
    }

    impl<R: Role, F> PinnedDrop for TaskFuture<R, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // The future is taken out (set to `None`, even by a destructor that
            // panicked) exactly when the task finishes: then nothing is left to do.
            if this.fut.is_some() {
                // SAFETY: as in `poll`; and a future is dropped while its
                // allocation is alive (async-task drops it inside `run` or when the
                // `Runnable` is dropped, both holding a count).
                let header = unsafe { this.header.get() };
                // Dropped before it finished: by its loop, closing or dropping it.
                let mut ending = Ending::Cancelled(match dropped() {
                    Error::Cancelled(c) => c,
                    _ => Cancelled::default(),
                });
                if let Some(e) = drop_future(this.fut) {
                    ending = Ending::Raised(e);
                }
                finish(header, this.lp, ending, this.role.main());
            }
        }
    }
}

impl<F> TaskFuture<Spawned, F> {
    /// The future of a spawned task whose header (async-task's metadata) is at
    /// `header`, in the allocation that will hold this future.
    pub(crate) fn spawned(header: HeaderPtr, lp: Arc<dyn Backend>, fut: F) -> Self {
        TaskFuture {
            header,
            role: Spawned,
            lp,
            fut: Some(fut),
        }
    }
}

impl<'a, F> TaskFuture<&'a MainTask, F> {
    /// The main future of `run_until_complete`, as the task `main`.
    pub(crate) fn main(main: &'a MainTask, lp: Arc<dyn Backend>, fut: F) -> Self {
        TaskFuture {
            header: main.task.header.ptr(),
            role: main,
            lp,
            fut: Some(fut),
        }
    }
}

/// The step count once a poll that began at `steps` ended: even again, and never
/// back to 0 when it wraps (0 means "not polled yet", which decides how a cancel
/// requested before the first poll is delivered).
fn steps_after_poll(steps: u32) -> u32 {
    steps.wrapping_add(2).max(2)
}

/// Drops the user's future; a panic in a destructor becomes the returned error.
fn drop_future<F>(fut: Pin<&mut Option<F>>) -> Option<Error> {
    let mut fut = fut;
    match catch_unwind(AssertUnwindSafe(|| fut.set(None))) {
        Ok(()) => None,
        Err(payload) => Some(Error::from_panic(payload.as_ref())),
    }
}

impl<R, F, T, E> Future for TaskFuture<R, F>
where
    R: Role,
    F: Future<Output = Result<T, E>>,
    E: TaskError,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // SAFETY: a spawned task's header is in the same allocation as this future,
        // which async-task frees only after dropping the future; the main task's is
        // kept alive by `role`, which outlives this future.
        let header: &Header = unsafe { this.header.get() };
        let main = this.role.main();
        // A request that was there before this poll: the task was woken for it.
        let asked_before = header.cancel_pending();
        // Only this thread writes the step count, and only around a poll.
        let steps = header.steps.load(Ordering::Relaxed);
        let first_poll = steps == 0;
        if first_poll {
            // `cancel_pending` first: it reads only the process-wide count while no
            // cancel is pending anywhere.
            if let Some(c) = header
                .cancel_pending()
                .then(|| header.take_cancel())
                .flatten()
            {
                // asyncio throws into the coroutine before its first line.
                return Poll::Ready(cancelled_now(header, this.lp, this.fut, c, main));
            }
        }
        let fut = this
            .fut
            .as_mut()
            .as_pin_mut()
            .expect("future present while pending");
        // Odd while the poll runs (the task dump's "running").
        header.steps.store(steps.wrapping_add(1), Ordering::Relaxed);
        crate::introspect::begin_poll();
        // The process-wide flag first: with no loop in debug mode, no virtual call.
        let timed = if crate::debug_flag::any_debug() {
            this.lp.common().step_start()
        } else {
            None
        };
        let res = {
            #[cfg(feature = "tracing")]
            let _entered = header.span.enter();
            // SAFETY: the header is alive for this whole poll (see above), and its key
            // is set (at launch, or with the main task's `Arc`).
            unsafe {
                current::enter(header, || {
                    coop::with_budget(|| catch_unwind(AssertUnwindSafe(|| fut.poll(cx))))
                })
            }
        };
        header
            .steps
            .store(steps_after_poll(steps), Ordering::Relaxed);
        header
            .wait
            .store(crate::introspect::end_poll(), Ordering::Relaxed);
        if let Some(start) = timed {
            // SAFETY: the header is alive for this poll, and its key is set.
            let task = || TaskRef::from_header(unsafe { HeaderRef::mint(header) });
            crate::debug::step_end(start, task, this.lp);
        }
        let out = match res {
            Ok(Poll::Pending) => {
                if first_poll && main.is_some() {
                    // (A spawned task's key wakes it already.) Stored before the flag
                    // is read again below; `request_cancel` raises the flag before
                    // it wakes through the key, which reads this under its lock.
                    this.role.set_waker(cx.waker());
                }
                if header.cancel_pending() {
                    if asked_before {
                        // The task was polled for the request and nothing inside took
                        // it: enforce it by dropping the future.
                        let c = header.take_cancel().unwrap_or_default();
                        return Poll::Ready(cancelled_now(header, this.lp, this.fut, c, main));
                    }
                    // It arrived while the task was running: deliver it at the next
                    // await point, on the next poll.
                    cx.waker().wake_by_ref();
                }
                return Poll::Pending;
            }
            Ok(Poll::Ready(out)) => out,
            Err(payload) => Err(E::from(Error::from_panic(payload.as_ref()))),
        };
        let mut ending = Ending::of(&out);
        let mut out = out;
        if let Some(e) = drop_future(this.fut) {
            ending = Ending::Raised(e.clone());
            out = Err(E::from(e));
        }
        finish(header, this.lp, ending, main);
        Poll::Ready(out)
    }
}

/// Ends the task cancelled with `c`, dropping its future now.
fn cancelled_now<F, T, E: TaskError>(
    header: &Header,
    lp: &Arc<dyn Backend>,
    fut: Pin<&mut Option<F>>,
    c: Cancelled,
    main: Option<&TaskRef>,
) -> Result<T, E> {
    if let Some(e) = drop_future(fut) {
        finish(header, lp, Ending::Raised(e.clone()), main);
        return Err(E::from(e));
    }
    finish(header, lp, Ending::Cancelled(c.clone()), main);
    Err(E::from(Error::Cancelled(c)))
}

/// Marks the task done with `ending` (out of its loop's registry at once if the loop
/// is closed) and schedules its done-callbacks and awaiter. `main` is the main task's reference;
/// `None` for a spawned task, whose reference is made through its header's key.
fn finish(header: &Header, lp: &Arc<dyn Backend>, ending: Ending, main: Option<&TaskRef>) {
    let raised = matches!(ending, Ending::Raised(_));
    let mut entries = header.finish(ending);
    if main.is_none() {
        // The registry keeps a finished task until it sweeps (`task_registry.rs`),
        // unless the loop is closed: then nothing will sweep, and the task leaves now.
        // The fence pairs with `EventLoop::close`'s (the state is stored above).
        std::sync::atomic::fence(Ordering::SeqCst);
        if lp.is_closed() {
            lp.common().untrack(header);
        } else {
            lp.common().note_finished();
        }
    }
    if entries.is_none() && !(raised && main.is_none()) {
        // Nothing waits for it and nothing is to report: no reference needed.
        return;
    }
    let task = match main {
        Some(main) => main.clone(),
        // SAFETY: the header is alive (this runs inside the task's last step, or
        // while its future is dropped, both holding a count), its key set at launch.
        None => TaskRef::from_header(unsafe { HeaderRef::mint(header) }),
    };
    if raised && main.is_none() {
        // Its done-callbacks run first: one of them may retrieve the exception.
        if let Some(e) = entries.take_if(|e| has_calls(e)) {
            return schedule_raised_callbacks(&task, e, &**lp);
        }
        let prev = task.header.flag(RAISED);
        if prev & DETACHED != 0 && prev & RETRIEVED == 0 && task.header.claim_report() {
            report_unretrieved_on(&task, &EventLoop::from_backend_uncounted(lp.clone()));
        }
    }
    schedule_entries(&task, entries, Some(&**lp));
}

#[cfg(test)]
mod tests {
    use super::steps_after_poll;

    #[test]
    fn the_step_count_never_reads_unpolled_again() {
        assert_eq!(steps_after_poll(0), 2);
        assert_eq!(steps_after_poll(2), 4);
        // 2^31 polls later the count wraps past 0 and lands on 2.
        assert_eq!(steps_after_poll(u32::MAX - 1), 2);
    }
}
