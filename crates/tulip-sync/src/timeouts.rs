//! Deadlines: [`wait_for`] (a task with a deadline) and [`timeout`] / [`timeout_at`]
//! scopes (asyncio 3.11's `asyncio.timeout`).
//!
//! Both cancel through the task protocol, so the cancelled work runs its async
//! clean-up before the caller sees `TimeoutError`:
//!
//! - `wait_for` spawns the future as a task; on expiry it cancels that task, waits for
//!   it to end, and reports `TimeoutError`. (asyncio returns the value of an inner
//!   coroutine that caught the cancel; a tulip task's output is opaque — it usually
//!   holds the `Err(Cancelled)` its await point returned — so tulip always reports the
//!   timeout.)
//! - A `Timeout` scope runs its future *inline*, in the current task. On expiry its
//!   timer cancels the current task; the future sees `Cancelled` at its next tulip
//!   await point, cleans up, returns, and the scope turns that into `TimeoutError`,
//!   withdrawing its own cancel request with `TaskRef::uncancel` (asyncio's
//!   `uncancel()` dance). A cancel from outside during the scope still propagates. If
//!   the future is parked on something tulip cannot reach (so nothing takes the
//!   request), the scope drops it and reports `TimeoutError` at once.
//!
//! Scope states: `Created` → (first poll) `Entered` → (timer) `Expiring` → (future
//! done) `Expired`, or `Entered` → `Exited`. Only the timer callback moves to
//! `Expiring`; only the scope's `poll` moves on from there.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tulip_core::{
    current_task, get_running_loop, sleep_until, take_cancel, Cancelled, Error, EventLoop, Sleep,
    TaskRef, TimerHandle,
};

use crate::locks::lock;
use crate::spawn::Spawn;

/// Runs `fut` as a task and waits at most `timeout` for it (asyncio's `wait_for`).
///
/// Output: the task's result; `Err(TimeoutError)` if the deadline passed — the task
/// was cancelled and has finished its clean-up by then; `Err(Cancelled)` if the
/// awaiting task was cancelled (the inner task is cancelled and awaited too).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use tulip_core::Error;
/// let lp = tulip_local::new_event_loop().unwrap();
/// let r = lp.run_until_complete(tulip_sync::wait_for(
///     tulip_core::sleep(Duration::from_secs(10)),
///     Duration::from_millis(10),
/// ))?;
/// assert!(matches!(r, Err(Error::TimeoutError)));
/// # Ok::<(), tulip_core::Error>(())
/// ```
///
/// # Cancel safety
/// Cancelling the awaiting task cancels the inner one. Dropping the future detaches
/// the inner task (it keeps running).
pub fn wait_for<F>(fut: F, timeout: Duration) -> WaitFor<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    WaitFor {
        task: Spawn::new(fut),
        sleep: sleep_until(Instant::now() + timeout),
        state: WaitForState::Running,
    }
}

enum WaitForState {
    Running,
    TimingOut,
    Cancelling(Cancelled),
}

/// The future of [`wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<T> {
    task: Spawn<T>,
    sleep: Sleep,
    state: WaitForState,
}

impl<T> std::fmt::Debug for WaitFor<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitFor").field("task", &self.task).finish()
    }
}

impl<T> Unpin for WaitFor<T> {}

impl<T> Future for WaitFor<T> {
    type Output = tulip_core::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let task = match this.task.get() {
            Ok(t) => t,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if let Some(c) = take_cancel() {
            match &c.msg {
                Some(m) => task.cancel_with(m.clone()),
                None => task.cancel(),
            };
            this.state = WaitForState::Cancelling(c);
        }
        if let WaitForState::Running = this.state {
            match Pin::new(&mut this.sleep).poll(cx) {
                Poll::Ready(Ok(())) => {
                    task.cancel();
                    this.state = WaitForState::TimingOut;
                }
                // The sleep took a cancel request that arrived just after the check
                // above (another thread cancelled us mid-poll): the same outer cancel.
                Poll::Ready(Err(Error::Cancelled(c))) => {
                    match &c.msg {
                        Some(m) => task.cancel_with(m.clone()),
                        None => task.cancel(),
                    };
                    this.state = WaitForState::Cancelling(c);
                }
                Poll::Ready(Err(e)) => {
                    task.cancel();
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {}
            }
        }
        let Poll::Ready(out) = Pin::new(&mut *task).poll(cx) else {
            return Poll::Pending;
        };
        // Awaiting the task passes a cancel request of ours on to it (asyncio's rule):
        // if one arrived after the check above, the task was cancelled on our behalf.
        let cancelled_for_us = task.cancelling() > 0;
        this.task = Spawn::Gone;
        Poll::Ready(
            match std::mem::replace(&mut this.state, WaitForState::Running) {
                WaitForState::Running if cancelled_for_us => {
                    Err(Error::Cancelled(Cancelled::default()))
                }
                WaitForState::Running => out,
                // Whatever the task ended with after our cancel (typically a value holding
                // `Err(Cancelled)`, which Rust cannot look into), the deadline passed.
                WaitForState::TimingOut => Err(Error::TimeoutError),
                WaitForState::Cancelling(c) => Err(Error::Cancelled(c)),
            },
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Created,
    Entered,
    Expiring,
    Expired,
    Exited,
}

struct TimeoutState {
    when: Option<Instant>,
    phase: Phase,
    task: Option<TaskRef>,
    cancelling_at_enter: u64,
    lp: Option<EventLoop>,
    timer: Option<TimerHandle>,
}

/// A deadline for a piece of async code (asyncio 3.11's `asyncio.timeout()`), made
/// with [`timeout`] or [`timeout_at`]. Clones share the deadline, so the code inside
/// can [`reschedule`](Self::reschedule) it.
///
/// [`run`](Self::run) wraps a future: it runs in the current task and resolves to
/// `Ok(output)`, or `Err(TimeoutError)` once the deadline passed and the future has
/// finished its clean-up. A timeout is entered once.
///
/// Note: when the deadline passes, the scope's result is `Err(TimeoutError)` whatever
/// the future returned after being cancelled (Rust cannot tell a `Cancelled` inside an
/// arbitrary output type).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let lp = tulip_local::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let cm = tulip_sync::timeout(Duration::from_millis(10));
///     let r = cm.run(tulip_core::sleep(Duration::from_secs(10))).await;
///     assert!(matches!(r, Err(tulip_core::Error::TimeoutError)));
///     assert!(cm.expired());
/// })?;
/// # Ok::<(), tulip_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Timeout {
    inner: Arc<Mutex<TimeoutState>>,
}

impl std::fmt::Debug for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.inner);
        f.debug_struct("Timeout")
            .field("when", &st.when)
            .field("phase", &st.phase)
            .finish()
    }
}

/// A [`Timeout`] that expires `delay` from now.
pub fn timeout(delay: Duration) -> Timeout {
    Timeout::new(Some(Instant::now() + delay))
}

/// A [`Timeout`] that expires at `when`.
pub fn timeout_at(when: Instant) -> Timeout {
    Timeout::new(Some(when))
}

impl Timeout {
    /// A timeout expiring at `when`; `None` never expires (until rescheduled).
    pub fn new(when: Option<Instant>) -> Timeout {
        Timeout {
            inner: Arc::new(Mutex::new(TimeoutState {
                when,
                phase: Phase::Created,
                task: None,
                cancelling_at_enter: 0,
                lp: None,
                timer: None,
            })),
        }
    }

    /// The current deadline.
    pub fn when(&self) -> Option<Instant> {
        lock(&self.inner).when
    }

    /// True once the deadline passed while the scope ran.
    pub fn expired(&self) -> bool {
        matches!(lock(&self.inner).phase, Phase::Expiring | Phase::Expired)
    }

    /// Moves the deadline (`None`: no deadline). A deadline already in the past
    /// expires the scope at the loop's next iteration. No effect once the scope has
    /// expired or exited.
    pub fn reschedule(&self, when: Option<Instant>) {
        let mut st = lock(&self.inner);
        if let Some(t) = st.timer.take() {
            t.cancel();
        }
        st.when = when;
        if st.phase == Phase::Entered {
            self.arm(&mut st);
        }
    }

    /// Runs `fut` under this deadline, in the current task.
    ///
    /// Output: `Ok(output)`; `Err(TimeoutError)` if the deadline passed;
    /// `Err(Cancelled)` if the task was (also) cancelled from outside and `fut` did
    /// not take that cancel; `Err(InvalidState)` if the scope was entered before, or
    /// outside a task.
    ///
    /// # Cancel safety
    /// Dropping the returned future drops `fut` and disarms the deadline.
    pub fn run<F: Future>(&self, fut: F) -> TimeoutScope<F> {
        TimeoutScope {
            cm: self.clone(),
            started: false,
            finished: false,
            fut: Some(fut),
        }
    }

    fn arm(&self, st: &mut TimeoutState) {
        let (Some(when), Some(lp)) = (st.when, st.lp.clone()) else {
            return;
        };
        let me = self.clone();
        st.timer = lp.call_at(when, move || me.on_timeout()).ok();
    }

    fn on_timeout(&self) {
        let task = {
            let mut st = lock(&self.inner);
            if st.phase != Phase::Entered {
                return;
            }
            st.phase = Phase::Expiring;
            st.timer = None;
            st.task.clone()
        };
        if let Some(t) = task {
            t.cancel();
        }
    }

    fn enter(&self) -> tulip_core::Result<()> {
        let mut st = lock(&self.inner);
        if st.phase != Phase::Created {
            return Err(Error::InvalidState("timeout scope was already entered"));
        }
        let task = current_task().ok_or(Error::InvalidState("timeout() used outside a task"))?;
        st.lp = Some(get_running_loop()?);
        st.cancelling_at_enter = task.cancelling();
        st.task = Some(task);
        st.phase = Phase::Entered;
        self.arm(&mut st);
        Ok(())
    }

    /// The scope's future was dropped before it finished (maybe on another task's
    /// stack, so no `take_cancel` here): disarm, and withdraw our cancel request.
    fn abandon(&self) {
        let mut st = lock(&self.inner);
        if let Some(t) = st.timer.take() {
            t.cancel();
        }
        let ours = st.phase == Phase::Expiring;
        st.phase = if ours { Phase::Expired } else { Phase::Exited };
        let task = st.task.clone();
        drop(st);
        if let (true, Some(t)) = (ours, task) {
            t.uncancel();
        }
    }

    /// Leaves the scope; `Some(err)` replaces the future's output.
    fn exit(&self, leftover: Option<Cancelled>) -> Option<Error> {
        let mut st = lock(&self.inner);
        if let Some(t) = st.timer.take() {
            t.cancel();
        }
        if st.phase != Phase::Expiring {
            st.phase = Phase::Exited;
            return leftover.map(Error::Cancelled);
        }
        st.phase = Phase::Expired;
        let task = st.task.clone()?;
        let at_enter = st.cancelling_at_enter;
        drop(st);
        if task.uncancel() > at_enter {
            // Someone else cancelled too: that cancel wins.
            return Some(Error::Cancelled(leftover.unwrap_or_default()));
        }
        // Our own request, if nobody took it, must not leak past the scope.
        let _ = take_cancel();
        Some(Error::TimeoutError)
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Timeout::run`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct TimeoutScope<F> {
        cm: Timeout,
        started: bool,
        finished: bool,
        #[pin]
        fut: Option<F>,
    }

    impl<F> PinnedDrop for TimeoutScope<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if *this.started && !*this.finished {
                this.cm.abandon();
            }
        }
    }
}

impl<F> std::fmt::Debug for TimeoutScope<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutScope")
            .field("cm", &self.cm)
            .finish()
    }
}

impl<F: Future> Future for TimeoutScope<F> {
    type Output = tulip_core::Result<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if *this.finished {
            return Poll::Ready(Err(Error::InvalidState("timeout scope polled after exit")));
        }
        if !*this.started {
            *this.started = true;
            if let Err(e) = this.cm.enter() {
                *this.finished = true;
                return Poll::Ready(Err(e));
            }
        }
        let fut = this.fut.as_mut().as_pin_mut().expect("future present");
        match fut.poll(cx) {
            Poll::Ready(out) => {
                *this.finished = true;
                this.fut.set(None);
                Poll::Ready(match this.cm.exit(None) {
                    Some(Error::Cancelled(_)) | None => Ok(out),
                    Some(e) => Err(e),
                })
            }
            Poll::Pending => {
                if !this.cm.expired() {
                    return Poll::Pending;
                }
                // Expiring: did the future take our cancel? If not, it is parked
                // where tulip cannot reach it; stop it here.
                let Some(c) = take_cancel() else {
                    return Poll::Pending;
                };
                *this.finished = true;
                this.fut.set(None);
                Poll::Ready(Err(this.cm.exit(Some(c)).unwrap_or(Error::TimeoutError)))
            }
        }
    }
}
