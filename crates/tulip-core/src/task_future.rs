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

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::backend::Backend;
use crate::coop;
use crate::current;
use crate::error::{Cancelled, Error};
use crate::event_loop::EventLoop;
use crate::header::{Header, TaskRef, DETACHED, RAISED, RETRIEVED};
use crate::outcome::{Ending, TaskError};
use crate::task::{dropped, report_unretrieved_on};
use crate::task_ref::schedule_entries;

pin_project_lite::pin_project! {
    /// The user's future plus asyncio's task protocol.
    pub(crate) struct TaskFuture<F> {
        header: Option<Arc<Header>>,
        started: bool,
        // The main future of `run_until_complete`: its errors go to the caller, not
        // the exception handler.
        is_main: bool,
        // The loop's executor (not a counted `EventLoop` handle: smaller, and a task
        // must not keep its loop open).
        lp: Arc<dyn Backend>,
        #[pin]
        fut: Option<F>,
    }

    impl<F> PinnedDrop for TaskFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(header) = this.header.take() {
                // Dropped before it finished: by its loop, closing or dropping it.
                let mut ending = Ending::Cancelled(match dropped() {
                    Error::Cancelled(c) => c,
                    _ => Cancelled::default(),
                });
                if let Some(e) = drop_future(this.fut) {
                    ending = Ending::Raised(e);
                }
                finish(header, this.lp, ending, *this.is_main);
            }
        }
    }
}

impl<F> TaskFuture<F> {
    pub(crate) fn new(header: Arc<Header>, lp: Arc<dyn Backend>, fut: F, is_main: bool) -> Self {
        TaskFuture {
            header: Some(header),
            started: false,
            is_main,
            lp,
            fut: Some(fut),
        }
    }
}

/// Drops the user's future; a panic in a destructor becomes the returned error.
fn drop_future<F>(fut: Pin<&mut Option<F>>) -> Option<Error> {
    let mut fut = fut;
    match catch_unwind(AssertUnwindSafe(|| fut.set(None))) {
        Ok(()) => None,
        Err(payload) => Some(Error::from_panic(payload.as_ref())),
    }
}

impl<F, T, E> Future for TaskFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: TaskError,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let header = this.header.take().expect("header present while pending");
        // A request that was there before this poll: the task was woken for it.
        let asked_before = header.cancel_pending();
        let first_poll = !*this.started;
        if first_poll {
            *this.started = true;
            if let Some(c) = header.take_cancel() {
                // asyncio throws into the coroutine before its first line.
                return Poll::Ready(cancelled_now(header, this.lp, this.fut, c, *this.is_main));
            }
        }
        let fut = this
            .fut
            .as_mut()
            .as_pin_mut()
            .expect("future present while pending");
        // Odd while the poll runs (the task dump's "running"); only this thread writes.
        let steps = header.steps.load(Ordering::Relaxed);
        header.steps.store(steps.wrapping_add(1), Ordering::Relaxed);
        crate::introspect::begin_poll();
        // The process-wide flag first: with no loop in debug mode, no virtual call.
        let timed = if crate::debug_flag::any_debug() {
            this.lp.common().step_start()
        } else {
            None
        };
        #[cfg(feature = "tracing")]
        let span = header.span.clone();
        #[cfg(feature = "tracing")]
        let _entered = span.enter();
        let (header, res) = current::enter(header, || {
            coop::with_budget(|| catch_unwind(AssertUnwindSafe(|| fut.poll(cx))))
        });
        header.steps.store(steps.wrapping_add(2), Ordering::Relaxed);
        header
            .wait
            .store(crate::introspect::end_poll(), Ordering::Relaxed);
        if let Some(start) = timed {
            crate::debug::step_end(start, &header, this.lp);
        }
        let out = match res {
            Ok(Poll::Pending) => {
                if first_poll {
                    // Stored before the flag is read again below; `request_cancel`
                    // raises the flag before it reads the waker, under the same lock.
                    header.set_waker(cx.waker());
                }
                if header.cancel_pending() {
                    if asked_before {
                        // The task was polled for the request and nothing inside took
                        // it: enforce it by dropping the future.
                        let c = header.take_cancel().unwrap_or_default();
                        return Poll::Ready(cancelled_now(
                            header,
                            this.lp,
                            this.fut,
                            c,
                            *this.is_main,
                        ));
                    }
                    // It arrived while the task was running: deliver it at the next
                    // await point, on the next poll.
                    cx.waker().wake_by_ref();
                }
                *this.header = Some(header);
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
        finish(header, this.lp, ending, *this.is_main);
        Poll::Ready(out)
    }
}

/// Ends the task cancelled with `c`, dropping its future now.
fn cancelled_now<F, T, E: TaskError>(
    header: Arc<Header>,
    lp: &Arc<dyn Backend>,
    fut: Pin<&mut Option<F>>,
    c: Cancelled,
    is_main: bool,
) -> Result<T, E> {
    if let Some(e) = drop_future(fut) {
        finish(header, lp, Ending::Raised(e.clone()), is_main);
        return Err(E::from(e));
    }
    finish(header, lp, Ending::Cancelled(c.clone()), is_main);
    Err(E::from(Error::Cancelled(c)))
}

fn finish(header: Arc<Header>, lp: &Arc<dyn Backend>, ending: Ending, is_main: bool) {
    let raised = matches!(ending, Ending::Raised(_));
    let entries = header.finish(ending);
    lp.common().untrack(&header);
    let task = TaskRef::from_header(header);
    if raised && !is_main {
        let prev = task.header.flag(RAISED);
        if prev & DETACHED != 0 && prev & RETRIEVED == 0 {
            report_unretrieved_on(&task, &EventLoop::from_backend_uncounted(lp.clone()));
        }
    }
    schedule_entries(&task, entries, Some(&**lp));
}
