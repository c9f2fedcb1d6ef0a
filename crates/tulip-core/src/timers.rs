//! `sleep`, `sleep_until` and `yield_now`: the basic await points.
//!
//! A sleep registers one timer on the running loop at its first poll; the timer wakes
//! the sleeper (the timer's payload is the task's waker itself). The executor arms
//! it ([`Backend::arm_wake`](crate::Backend::arm_wake)): by key in its own queue
//! (the local loop: no allocation), or as a cancellable callback. Dropping the sleep
//! disarms the timer, which drops the waker at once. Each poll first
//! takes a pending cancel request, so a cancelled task wakes from its sleep with
//! `Err(Cancelled)` (asyncio's `CancelledError` out of `await asyncio.sleep()`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::backend::Armed;
use crate::clock::{saturating_after, VirtualClock};
use crate::current::take_cancel;
use crate::error::{Error, Result};
use crate::event_loop::EventLoop;
use crate::running::with_running_loop;

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// # Cancel safety
/// Cancel safe: dropping it cancels its timer and loses nothing.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    when: When,
    /// The timer armed for the deadline, and the waker it will wake.
    timer: Option<(Armed, Waker)>,
}

/// Where a sleep is.
#[derive(Debug, Clone, Copy)]
enum When {
    /// A zero sleep, or one whose timer fired: it yields once, then is over.
    Yield,
    /// It yielded (or is over).
    Yielded,
    /// A delay whose deadline is fixed at the first poll: the sleep was made outside
    /// any loop, so only then is the loop (and its clock) known.
    Delay(Duration),
    /// Until this deadline.
    At(Instant),
}

/// Waits `delay` on the running loop's clock (asyncio's `await asyncio.sleep(delay)`).
/// `sleep(Duration::ZERO)` yields to the loop for exactly one iteration.
///
/// The deadline is `delay` after the running loop's time; a sleep made outside any
/// loop counts from its first poll instead (as an asyncio coroutine starts when first
/// run).
///
/// Output: `Ok(())`, or `Err(Cancelled)` if the task was cancelled meanwhile,
/// `Err(NoRunningLoop)` outside a loop.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// let lp = tulip::new_event_loop().unwrap();
/// let start = Instant::now();
/// lp.run_until_complete(tulip::sleep(Duration::from_millis(20)))?;
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// # Ok::<(), tulip::Error>(())
/// ```
pub fn sleep(delay: Duration) -> Sleep {
    let when = if delay.is_zero() {
        When::Yield
    } else {
        match with_running_loop(EventLoop::time) {
            Some(now) => When::At(saturating_after(now, delay)),
            None => When::Delay(delay),
        }
    };
    Sleep { when, timer: None }
}

/// The running loop's time (`loop.time()`: its virtual clock, if it has one), or the
/// real clock outside a loop. Deadlines meant for the running loop start here.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// assert!(tulip::loop_time() <= Instant::now()); // no loop: the real clock
/// let lp = tulip::executors::local::Builder::new().virtual_clock().build()?;
/// let t0 = lp.time();
/// let t = lp.run_until_complete(async {
///     tulip::sleep(Duration::from_secs(5)).await?;
///     Ok::<_, tulip::Error>(tulip::loop_time())
/// })?;
/// assert_eq!(t - t0, Duration::from_secs(5));
/// # Ok::<(), tulip::Error>(())
/// ```
#[inline]
pub fn loop_time() -> Instant {
    with_running_loop(EventLoop::time).unwrap_or_else(Instant::now)
}

/// The instant `delay` after [`loop_time`], saturating: a delay the clock cannot add
/// (say `Duration::MAX`) means "never" instead of a panic.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
/// assert!(tulip::deadline_after(Duration::MAX) > Instant::now());
/// ```
pub fn deadline_after(delay: Duration) -> Instant {
    saturating_after(loop_time(), delay)
}

impl EventLoop {
    /// The handle to this loop's virtual clock; `None` for a loop on the real clock.
    /// Build a loop with one with the executors' `Builder::virtual_clock()` (or
    /// `tulip::testing::new_virtual_loop()`); see [`VirtualClock`].
    pub fn virtual_clock(&self) -> Option<VirtualClock> {
        self.backend().common().clock().virtual_clock()
    }
}

/// Waits until `deadline` on the running loop.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        when: When::At(deadline),
        timer: None,
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
    /// When this sleep ends (`None` for a zero sleep, and for a sleep made outside a
    /// loop until its first poll).
    pub fn deadline(&self) -> Option<Instant> {
        match self.when {
            When::At(t) => Some(t),
            _ => None,
        }
    }

    /// Disarms the timer, if one is armed.
    fn disarm(&mut self) {
        match self.timer.take() {
            Some((Armed::Handle(h), _)) => h.cancel(),
            Some((Armed::Key(key), _)) => {
                with_running_loop(|lp| lp.backend().disarm(key));
            }
            None => {}
        }
    }
}

impl Future for Sleep {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Some(c) = take_cancel() {
            self.disarm();
            return Poll::Ready(Err(Error::Cancelled(c)));
        }
        let deadline = match self.when {
            When::Yielded => return Poll::Ready(Ok(())),
            When::Yield => {
                self.when = When::Yielded;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            When::Delay(delay) => {
                let at = deadline_after(delay);
                self.when = When::At(at);
                at
            }
            When::At(at) => at,
        };
        // The loop fires a timer only once its deadline has passed, so the clock
        // alone says whether this sleep is over: the timer just wakes the task.
        if self.timer.is_some() && loop_time() >= deadline {
            self.timer = None;
            self.when = When::Yielded;
            return Poll::Ready(Ok(()));
        }
        crate::introspect::note_wait(crate::introspect::Waiting::Sleep { until: deadline });
        if let Some((_, w)) = &self.timer {
            if w.will_wake(cx.waker()) {
                return Poll::Pending;
            }
        }
        // First poll, or polled by another task: (re)arm the timer with this waker.
        self.disarm();
        let armed = with_running_loop(|lp| lp.backend().arm_wake(deadline, cx.waker().clone()));
        match armed {
            None => Poll::Ready(Err(Error::NoRunningLoop)),
            Some(Err(e)) => Poll::Ready(Err(e)),
            Some(Ok(armed)) => {
                self.timer = Some((armed, cx.waker().clone()));
                Poll::Pending
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.disarm();
    }
}

#[cfg(test)]
mod tests {
    use super::Sleep;

    /// Every sleeping task carries a `Sleep` inside its allocation: 8 bytes more
    /// once pushed each task's future across a `memcpy` size step in the timer burst
    /// (docs/benchmarks.md, "Sleeps without a handle").
    #[test]
    fn a_sleep_stays_within_64_bytes() {
        assert!(
            std::mem::size_of::<Sleep>() <= 64,
            "{}",
            std::mem::size_of::<Sleep>()
        );
    }
}
