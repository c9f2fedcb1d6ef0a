//! `Task<T, E>`: the handle to a spawned task. Await it for the body's result.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::current::take_cancel;
use crate::error::{Cancelled, Error};
use crate::header::{Header, TaskRef};
use crate::header::{BATCHES, DETACHED, RAISED, RETRIEVED};
use crate::loop_common::ExceptionContext;
use crate::outcome::TaskError;

/// A handle to a spawned task. Await it for what the body returned: `Ok(v)`, the
/// body's error, or — if the task was cancelled — an `E` holding the
/// [`Cancelled`](crate::Cancelled). Dropping the handle detaches the task (it keeps
/// running), as in asyncio and tokio.
///
/// It dereferences to [`TaskRef`] for `cancel`, `done`, `cancelled`, `exception`,
/// `name`, `add_done_callback`…
///
/// # Examples
/// ```
/// let lp = tulip::new_event_loop()?;
/// let v = lp.run_until_complete(async {
///     let t = tulip::create_task(async { Ok::<_, tulip::Error>(6 * 7) })?;
///     t.await
/// })?;
/// assert_eq!(v, 42);
/// # Ok::<(), tulip::Error>(())
/// ```
pub struct Task<T, E = Error> {
    pub(crate) task: TaskRef,
    output: Output<T, E>,
}

/// Where a handle's output is.
enum Output<T, E> {
    /// Still in async-task's cell (the task may not be done yet).
    InTask(async_task::FallibleTask<Result<T, E>, Header>),
    /// Read out of the task by `result()`, kept for the next read (boxed: most
    /// handles are only awaited, and a small handle is cheaper to move around).
    Kept(Box<Result<T, E>>),
    /// Handed out, by `await` or `take_result`.
    Moved,
}

impl<T, E> fmt::Debug for Task<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.task.fmt(f)
    }
}

// The handle never pins what it holds: the output is only moved in and out.
impl<T, E> Unpin for Task<T, E> {}

impl<T, E> std::ops::Deref for Task<T, E> {
    type Target = TaskRef;
    fn deref(&self) -> &TaskRef {
        &self.task
    }
}

impl<T, E: TaskError> Task<T, E> {
    pub(crate) fn new(task: TaskRef, inner: async_task::Task<Result<T, E>, Header>) -> Self {
        Task {
            task,
            output: Output::InTask(inner.fallible()),
        }
    }

    /// A shareable reference to this task.
    pub fn task_ref(&self) -> TaskRef {
        self.task.clone()
    }

    /// Moves the output of a done task out of the handle (or of async-task's slot),
    /// leaving `Moved`; `None` while the task runs or once the output was handed out.
    fn take_output(&mut self) -> Option<Result<T, E>> {
        let mut inner = match std::mem::replace(&mut self.output, Output::Moved) {
            Output::Kept(kept) => return Some(*kept),
            Output::InTask(inner) if self.task.done() => inner,
            other => {
                self.output = other;
                return None;
            }
        };
        let mut cx = Context::from_waker(Waker::noop());
        // `done()` turns true inside the task's last poll, a moment before async-task
        // stores the output; on a multi-threaded loop another thread can look in
        // between. The output is on its way: spin, then yield, until it lands.
        let mut spins = 0u32;
        let out = loop {
            if let Poll::Ready(r) = Pin::new(&mut inner).poll(&mut cx) {
                break r;
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        };
        // No output: the loop dropped the task's future; its header says how it ended
        // (a destructor may have panicked meanwhile).
        Some(out.unwrap_or_else(|| {
            Err(E::from(match self.task.header.ending() {
                Some(crate::outcome::Ending::Raised(e)) => e,
                Some(crate::outcome::Ending::Cancelled(c)) => Error::Cancelled(c),
                _ => dropped(),
            }))
        }))
    }

    /// The output of a done task, moved out of the handle, or the `InvalidState`
    /// error saying why there is none (handed out already, or not done yet).
    fn take_or_invalid(&mut self) -> Result<Result<T, E>, E> {
        if let Output::Moved = self.output {
            return Err(E::from(Error::InvalidState("result was already taken")));
        }
        self.take_output()
            .ok_or_else(|| E::from(Error::InvalidState("result is not set")))
    }

    /// Hands the output out for good and marks an error retrieved (a task that
    /// returned has no exception to report: the flag would be a write for nothing).
    fn hand_out(&mut self) -> Result<T, E> {
        let out = self.take_or_invalid()?;
        if out.is_err() {
            self.task.header.flag(RETRIEVED);
        }
        out
    }

    /// Takes the output of a done task, once (asyncio's `result()` for values that
    /// cannot be cloned).
    ///
    /// # Errors
    /// `InvalidState` (as `E`) if the task is not done or its output was already
    /// moved out; otherwise the body's error, or the cancellation.
    pub fn take_result(&mut self) -> Result<T, E> {
        self.hand_out()
    }
}

impl<T: Clone, E: TaskError + Clone> Task<T, E> {
    /// The output of a done task, without waiting (asyncio's `result()`): readable any
    /// number of times until an `await` moves it out.
    ///
    /// # Errors
    /// `InvalidState` if the task is not done or the output was moved out by an
    /// `await`; otherwise the body's error, or the cancellation.
    pub fn result(&mut self) -> Result<T, E> {
        let out = self.take_or_invalid()?;
        self.task.header.flag(RETRIEVED);
        let copy = out.clone();
        self.output = Output::Kept(Box::new(out));
        copy
    }

    /// Same as [`result`](Self::result) (its name before the outcome contract).
    ///
    /// # Errors
    /// As [`result`](Self::result).
    pub fn try_result(&mut self) -> Result<T, E> {
        self.result()
    }
}

pub(crate) fn dropped() -> Error {
    Error::Cancelled(Cancelled {
        msg: Some("task was dropped by its loop (loop closed)".into()),
    })
}

impl<T, E: TaskError> Future for Task<T, E> {
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, E>> {
        // asyncio: cancelling a task that awaits another task cancels the inner one;
        // the outer then sees whatever the inner ends with.
        if let Some(c) = take_cancel() {
            self.task.header.request_cancel(c.msg);
        }
        let this = &mut *self;
        if matches!(this.output, Output::InTask(_)) && !this.task.done() {
            // Under the header's lock: either the finish takes this registration,
            // or this sees the task done.
            if this.task.header.set_awaiter(cx.waker()) {
                crate::introspect::note_wait(crate::introspect::Waiting::Task {
                    id: this.task.header.id,
                });
                return Poll::Pending;
            }
        }
        Poll::Ready(this.hand_out())
    }
}

impl<T, E> Drop for Task<T, E> {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.output, Output::Moved) {
            Output::InTask(t) => t.detach(),
            // Handed out or kept: the task returned, or its error was marked
            // retrieved then; either way nothing is left to report.
            Output::Kept(_) | Output::Moved => return,
        }
        let prev = self.task.header.flag(DETACHED);
        if prev & (RAISED | RETRIEVED | BATCHES) == RAISED && self.task.header.claim_report() {
            report_unretrieved(&self.task);
        }
    }
}

/// Tells the task's loop (the running one, when the handle is dropped inside it;
/// otherwise stderr) that a raised exception was never retrieved.
pub(crate) fn report_unretrieved(task: &TaskRef) {
    match crate::running::get_running_loop() {
        Ok(lp) if lp.id() == task.loop_id() => report_unretrieved_on(task, &lp),
        _ => {
            if let Some(ctx) = unretrieved_context(task) {
                crate::report::default_report(Some(task.loop_id()), &ctx);
            }
        }
    }
}

/// [`report_unretrieved`] on a known loop.
pub(crate) fn report_unretrieved_on(task: &TaskRef, lp: &crate::event_loop::EventLoop) {
    if let Some(ctx) = unretrieved_context(task) {
        lp.call_exception_handler(&ctx);
    }
}

fn unretrieved_context(task: &TaskRef) -> Option<ExceptionContext> {
    let Some(crate::outcome::Ending::Raised(err)) = task.header.ending() else {
        return None;
    };
    Some(ExceptionContext {
        message: "Task exception was never retrieved".into(),
        error: Some(err),
        task: Some(task.clone()),
    })
}

#[cfg(test)]
mod tests {
    /// The handle: a counted one-pointer reference and where the output is. A
    /// `Vec` of handles is what `gather` and a spawn-and-join loop hold per task.
    #[test]
    fn the_handle_stays_small() {
        assert_eq!(std::mem::size_of::<super::Task<u64>>(), 24);
    }
}
