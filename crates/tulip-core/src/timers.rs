//! `sleep`, `sleep_until` and `yield_now`: the basic await points.
//!
//! A sleep registers one timer on the running loop at its first poll; the timer sets a
//! flag and wakes the sleeper. Dropping the sleep cancels the timer. Each poll first
//! takes a pending cancel request, so a cancelled task wakes from its sleep with
//! `Err(Cancelled)` (asyncio's `CancelledError` out of `await asyncio.sleep()`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::task::AtomicWaker;

use crate::error::{Error, Result};
use crate::handle::TimerHandle;
use crate::registry::get_running_loop;
use crate::tasks::take_cancel;

#[derive(Default)]
struct Fired {
    done: AtomicBool,
    waker: AtomicWaker,
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// # Cancel safety
/// Cancel safe: dropping it cancels its timer and loses nothing.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Option<Instant>,
    timer: Option<(TimerHandle, Arc<Fired>)>,
    yielded: bool,
}

impl std::fmt::Debug for Fired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fired")
            .field("done", &self.done.load(Ordering::Relaxed))
            .finish()
    }
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
/// lp.run_until_complete(tulip_core::sleep(Duration::from_millis(20)))??;
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
    sleep_until(Instant::now() + delay)
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
        match &self.timer {
            Some((_, fired)) => {
                fired.waker.register(cx.waker());
                if fired.done.load(Ordering::Acquire) {
                    self.timer = None;
                    self.deadline = None;
                    self.yielded = true;
                    return Poll::Ready(Ok(()));
                }
                Poll::Pending
            }
            None => {
                let lp = match get_running_loop() {
                    Ok(lp) => lp,
                    Err(e) => return Poll::Ready(Err(e)),
                };
                let fired = Arc::new(Fired::default());
                fired.waker.register(cx.waker());
                let f2 = fired.clone();
                let handle = match lp.call_at(deadline, move || {
                    f2.done.store(true, Ordering::Release);
                    f2.waker.wake();
                }) {
                    Ok(h) => h,
                    Err(e) => return Poll::Ready(Err(e)),
                };
                self.timer = Some((handle, fired));
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
