//! `sleep`, `sleep_until` and `yield_now`: the basic await points.
//!
//! A sleep registers one timer on the running loop at its first poll; the timer wakes
//! the sleeper (the timer's payload is the task's waker itself: no allocation besides
//! the cancel handle). Dropping the sleep cancels the timer. Each poll first
//! takes a pending cancel request, so a cancelled task wakes from its sleep with
//! `Err(Cancelled)` (asyncio's `CancelledError` out of `await asyncio.sleep()`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::current::take_cancel;
use crate::error::{Error, Result};
use crate::handle::{Callback, Handle};
use crate::running::with_running_loop;

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// # Cancel safety
/// Cancel safe: dropping it cancels its timer and loses nothing.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Option<Instant>,
    /// The timer registered for `deadline`, and the waker it will wake.
    timer: Option<(Handle, Waker)>,
    yielded: bool,
}

/// Waits `delay` on the running loop (asyncio's `await asyncio.sleep(delay)`).
/// `sleep(Duration::ZERO)` yields to the loop for exactly one iteration.
///
/// Output: `Ok(())`, or `Err(Cancelled)` if the task was cancelled meanwhile,
/// `Err(NoRunningLoop)` outside a loop.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// let lp = tulip_local::new_event_loop().unwrap();
/// let start = Instant::now();
/// lp.run_until_complete(tulip_core::sleep(Duration::from_millis(20)))?;
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// # Ok::<(), tulip_core::Error>(())
/// ```
pub fn sleep(delay: Duration) -> Sleep {
    if delay.is_zero() {
        return Sleep {
            deadline: None,
            timer: None,
            yielded: false,
        };
    }
    sleep_until(crate::clock::deadline_after(delay))
}

/// Waits until `deadline` on the running loop.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: Some(deadline),
        timer: None,
        yielded: false,
    }
}

/// Yields to the loop once: other ready callbacks and tasks run before this task
/// continues. Same as `sleep(Duration::ZERO)`, with a smaller future.
///
/// Output: `Ok(())`, or `Err(Cancelled)` if the task was cancelled meanwhile.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
///
/// # Cancel safety
/// Cancel safe: it holds nothing.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Some(c) = take_cancel() {
            return Poll::Ready(Err(Error::Cancelled(c)));
        }
        if self.yielded {
            return Poll::Ready(Ok(()));
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Sleep {
    /// When this sleep ends (`None` for a zero sleep).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Some(c) = take_cancel() {
            if let Some((t, _)) = self.timer.take() {
                t.cancel();
            }
            return Poll::Ready(Err(Error::Cancelled(c)));
        }
        let Some(deadline) = self.deadline else {
            if self.yielded {
                return Poll::Ready(Ok(()));
            }
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        // The loop fires a timer only once its deadline has passed, so the clock
        // alone says whether this sleep is over: the timer just wakes the task.
        if self.timer.is_some() && Instant::now() >= deadline {
            self.timer = None;
            self.deadline = None;
            self.yielded = true;
            return Poll::Ready(Ok(()));
        }
        crate::introspect::note_wait(crate::introspect::Waiting::Sleep { until: deadline });
        if let Some((_, w)) = &self.timer {
            if w.will_wake(cx.waker()) {
                return Poll::Pending;
            }
        }
        // First poll, or polled by another task: (re)arm the timer with this waker.
        if let Some((t, _)) = self.timer.take() {
            t.cancel();
        }
        let handle = Handle::new();
        let armed = with_running_loop(|lp| {
            lp.backend()
                .call_at(deadline, Callback::wake(cx.waker().clone(), handle.clone()))
        });
        match armed {
            None => Poll::Ready(Err(Error::NoRunningLoop)),
            Some(Err(e)) => Poll::Ready(Err(e)),
            Some(Ok(())) => {
                self.timer = Some((handle, cx.waker().clone()));
                Poll::Pending
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some((t, _)) = self.timer.take() {
            t.cancel();
        }
    }
}
