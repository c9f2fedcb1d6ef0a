//! Thread bridges: submitting work to a loop from a plain thread and waiting for it
//! there (asyncio's `run_coroutine_threadsafe` and its `concurrent.futures.Future`).
//!
//! [`run_coroutine_threadsafe`] spawns the future as a task of the loop (spawning is
//! thread-safe and wakes the loop) and hands back a [`ConcurrentFuture`]: a slot that
//! the task fills when it ends, with a condition variable a plain thread blocks on.
//!
//! The slot is filled exactly once, by whichever comes first: the task's outcome; a
//! [`ConcurrentFuture::cancel`] (which also asks the task to cancel, as asyncio does);
//! or the task being dropped without finishing (its loop closed), seen as `Cancelled`.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::FutureExt;

use crate::error::{panic_message, Cancelled, Error, Result};
use crate::event_loop::EventLoop;
use crate::header::TaskRef;
use crate::outcome::TaskError;
use crate::running::get_running_loop;

enum Slot<T, E> {
    Pending,
    Done(Result<T, E>),
    Taken,
}

struct Shared<T, E> {
    slot: Mutex<Slot<T, E>>,
    cv: Condvar,
}

impl<T, E> Shared<T, E> {
    fn lock(&self) -> MutexGuard<'_, Slot<T, E>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fills the slot if it is still pending; false if it was not.
    fn complete(&self, out: Result<T, E>) -> bool {
        let mut slot = self.lock();
        if !matches!(*slot, Slot::Pending) {
            return false;
        }
        *slot = Slot::Done(out);
        drop(slot);
        self.cv.notify_all();
        true
    }
}

/// Fills the slot with `Cancelled` if the task is dropped before it did.
struct Completer<T, E: From<Error>>(Arc<Shared<T, E>>);

impl<T, E: From<Error>> Drop for Completer<T, E> {
    fn drop(&mut self) {
        self.0.complete(Err(E::from(Error::Cancelled(Cancelled {
            msg: Some("the task was dropped before it finished (loop closed)".into()),
        }))));
    }
}

/// The result of work submitted to a loop from another thread (asyncio's
/// `concurrent.futures.Future`): block on it with [`result`](Self::result), or
/// [`cancel`](Self::cancel) it.
pub struct ConcurrentFuture<T, E = Error> {
    shared: Arc<Shared<T, E>>,
    task: TaskRef,
    loop_id: u64,
}

impl<T, E: TaskError> fmt::Debug for ConcurrentFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrentFuture")
            .field("task", &self.task)
            .field("done", &self.done())
            .finish()
    }
}

/// Submits `fut` to `lp` from any thread (asyncio's
/// `asyncio.run_coroutine_threadsafe(coro, loop)`). It runs as a task of `lp` when the
/// loop runs; the returned handle lets a plain thread wait for the result.
///
/// # Errors
/// `LoopClosed` if the loop is closed.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let lp = tulip_local::new_event_loop()?;
/// let lp2 = lp.clone();
/// let t = std::thread::spawn(move || {
///     let f = tulip_core::run_coroutine_threadsafe(async { Ok::<_, tulip_core::Error>(6 * 7) }, &lp2)?;
///     let v = f.result(Some(Duration::from_secs(10)));
///     lp2.call_soon_threadsafe({ let lp = lp2.clone(); move || lp.stop() })?;
///     v
/// });
/// lp.run_forever()?;
/// assert_eq!(t.join().unwrap()?, 42);
/// # Ok::<(), tulip_core::Error>(())
/// ```
pub fn run_coroutine_threadsafe<F, T, E>(fut: F, lp: &EventLoop) -> Result<ConcurrentFuture<T, E>>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    let shared = Arc::new(Shared {
        slot: Mutex::new(Slot::Pending),
        cv: Condvar::new(),
    });
    let completer = Completer(shared.clone());
    let task = lp.create_task(async move {
        let completer = completer;
        // A panic is the caller's error value, as asyncio sets the exception on the
        // concurrent future; it is not reported to the loop's exception handler.
        let out = match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(out) => out,
            Err(p) => Err(E::from(Error::Panicked(panic_message(p.as_ref()).into()))),
        };
        // The outcome is the caller's: the task itself always returns.
        completer.0.complete(out);
        Ok::<(), Error>(())
    })?;
    Ok(ConcurrentFuture {
        shared,
        task: task.task_ref(),
        loop_id: lp.id(),
    })
}

impl<T, E: TaskError> ConcurrentFuture<T, E> {
    /// Blocks this thread until the work is done (at most `timeout`; `None`: no limit),
    /// then takes its result.
    ///
    /// # Errors
    /// `TimeoutError` if `timeout` passed first (the work goes on; call again);
    /// `Cancelled` if it was cancelled; `Panicked` if it panicked; `InvalidState` if
    /// the result was already taken; `WrongThread` if called on a thread where the
    /// target loop is running (it would wait for itself).
    pub fn result(&self, timeout: Option<Duration>) -> Result<T, E> {
        if get_running_loop().is_ok_and(|lp| lp.id() == self.loop_id) {
            return Err(E::from(Error::WrongThread));
        }
        crate::debug::blocking_call_on_loop_thread("ConcurrentFuture::result()");
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut slot = self.shared.lock();
        loop {
            match std::mem::replace(&mut *slot, Slot::Taken) {
                Slot::Done(out) => return out,
                Slot::Taken => {
                    return Err(E::from(Error::InvalidState("result was already taken")))
                }
                Slot::Pending => *slot = Slot::Pending,
            }
            slot = match deadline {
                None => self.shared.cv.wait(slot).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(E::from(Error::TimeoutError(None)));
                    }
                    self.shared
                        .cv
                        .wait_timeout(slot, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Cancels the work: the handle is done and cancelled at once, and the task is
    /// asked to cancel (its next await point returns `Err(Cancelled)`). False if it was
    /// already done.
    pub fn cancel(&self) -> bool {
        if !self.shared.complete(Err(E::from(Error::cancelled()))) {
            return false;
        }
        self.task.cancel();
        true
    }

    /// True once the work finished, failed or was cancelled.
    pub fn done(&self) -> bool {
        !matches!(*self.shared.lock(), Slot::Pending)
    }

    /// True if it ended cancelled (and the result was not taken yet).
    pub fn cancelled(&self) -> bool {
        matches!(&*self.shared.lock(), Slot::Done(Err(e)) if e.as_cancelled().is_some())
    }

    /// The task running the work on the loop.
    pub fn task(&self) -> &TaskRef {
        &self.task
    }
}
