//! Deadlines: [`wait_for`] (a task with a deadline) and [`timeout`] / [`timeout_at`]
//! scopes (asyncio 3.11's `asyncio.timeout`).
//!
//! Both cancel through the task protocol, so the cancelled work runs its async
//! clean-up before the caller sees the timeout, and both read how the work ended:
//!
//! - `wait_for` spawns the future as a task; on expiry it cancels that task and waits
//!   for it to end. If it ended cancelled, the caller gets
//!   [`Error::TimeoutError`](tulip_core::Error::TimeoutError), whose `source()` is the task's
//!   [`Cancelled`] (asyncio: `raise TimeoutError from exc`); if it swallowed the cancel
//!   and returned a value, or raised another error, the caller gets that (asyncio
//!   3.11). A zero timeout cancels the task before its body runs.
//! - A `Timeout` scope runs its future *inline*, in the current task. On expiry its
//!   timer cancels the current task; the future sees `Cancelled` at its next tulip
//!   await point, cleans up and returns. If it ended with that cancellation, the scope
//!   withdraws its own cancel request with `TaskRef::uncancel` (asyncio's `uncancel()`
//!   dance) and reports `TimeoutError`; if it returned normally, so does the scope. A
//!   cancel from outside during the scope still propagates. If the future is parked
//!   on something tulip cannot reach (so nothing takes the request), the scope drops
//!   it and reports `TimeoutError` at once.
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
    current_task, deadline_after, get_running_loop, loop_time, sleep_until, take_cancel, Cancelled,
    Error, EventLoop, Handle, Sleep, TaskError, TaskRef, TimerHandle,
};

use crate::locks::lock;
use crate::spawn::Spawn;

/// Runs `fut` as a task and waits at most `timeout` for it (asyncio's `wait_for`).
///
/// Output: the task's result; `Err(TimeoutError(Some(cancelled)))` (as `E`) if the deadline
/// passed and the task, cancelled, ended cancelled — it has finished its clean-up by
/// then; the task's value or error if it swallowed that cancel and ended otherwise;
/// `Err(Cancelled)` if the awaiting task was cancelled (the inner task is cancelled
/// and awaited too). A zero `timeout` cancels the task before its body ever runs.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use tulip::Error;
/// let lp = tulip::new_event_loop().unwrap();
/// let r = lp.run_until_complete(tulip::wait_for(
///     tulip::sleep(Duration::from_secs(10)),
///     Duration::from_millis(10),
/// ));
/// let e = r.unwrap_err();
/// assert!(e.is_timeout());
/// let cause = std::error::Error::source(&e).unwrap();
/// assert!(cause.downcast_ref::<tulip::Cancelled>().is_some());
/// ```
///
/// As in asyncio (where `wait_for` is a coroutine), the task is spawned when the
/// `WaitFor` is first polled: a `WaitFor` never awaited runs nothing. The deadline
/// too counts from that poll, on the running loop's clock.
///
/// # Cancel safety
/// Cancelling the awaiting task cancels the inner one. Dropping the future after its
/// first poll detaches the inner task (it keeps running).
pub fn wait_for<F, T, E>(fut: F, timeout: Duration) -> WaitFor<T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    let task = if timeout.is_zero() {
        // asyncio cancels the new task before it ever runs: its body never starts.
        Spawn::lazy(async move {
            drop(fut);
            Err(E::from(Error::Cancelled(Cancelled::default())))
        })
    } else {
        Spawn::lazy(fut)
    };
    WaitFor {
        task,
        sleep: None,
        delay: Some(timeout),
        state: if timeout.is_zero() {
            WaitForState::TimingOut
        } else {
            WaitForState::Running
        },
    }
}

enum WaitForState {
    Running,
    TimingOut,
    Cancelling(Cancelled),
}

/// The future of [`wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<T, E = Error> {
    task: Spawn<T, E>,
    sleep: Option<Sleep>,
    /// The timeout, until the first poll turns it into `sleep`.
    delay: Option<Duration>,
    state: WaitForState,
}

impl<T, E> std::fmt::Debug for WaitFor<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitFor").field("task", &self.task).finish()
    }
}

impl<T, E> Unpin for WaitFor<T, E> {}

impl<T, E: TaskError> Future for WaitFor<T, E> {
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let task = match this.task.get() {
            Ok(t) => t,
            Err(e) => return Poll::Ready(Err(E::from(e))),
        };
        if let Some(d) = this.delay.take() {
            // The deadline counts from the first poll on the running loop's clock
            // (virtual, for a test loop); one too far to represent is no deadline.
            this.sleep = loop_time().checked_add(d).map(sleep_until);
        }
        let mut outer_cancel = take_cancel();
        if let WaitForState::Running = this.state {
            if let (None, Some(sleep)) = (&outer_cancel, this.sleep.as_mut()) {
                match Pin::new(sleep).poll(cx) {
                    // asyncio: a task done by the time the deadline is seen gives its
                    // outcome; otherwise it is cancelled and awaited.
                    Poll::Ready(Ok(())) if !task.done() => {
                        task.cancel();
                        this.state = WaitForState::TimingOut;
                    }
                    Poll::Ready(Ok(())) | Poll::Pending => {}
                    // The sleep took a cancel request that arrived just after the
                    // check above (another thread cancelled us mid-poll).
                    Poll::Ready(Err(Error::Cancelled(c))) => outer_cancel = Some(c),
                    Poll::Ready(Err(e)) => {
                        task.cancel();
                        return Poll::Ready(Err(E::from(e)));
                    }
                }
            }
        }
        if let Some(c) = outer_cancel {
            // asyncio: if the task is done already its outcome is returned; otherwise
            // it is cancelled, awaited, and the cancel propagates.
            if !task.done() {
                match &c.msg {
                    Some(m) => task.cancel_with(m.clone()),
                    None => task.cancel(),
                };
                this.state = WaitForState::Cancelling(c);
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
                    Err(E::from(Error::Cancelled(Cancelled::default())))
                }
                WaitForState::Running => out,
                // The task ended after our cancel: if it ended cancelled, the deadline
                // passed (`TimeoutError from CancelledError`); a value or another error
                // it ended with is the caller's.
                WaitForState::TimingOut => match out {
                    Err(e) => match e.as_cancelled() {
                        Some(c) => Err(E::from(Error::TimeoutError(Some(c.clone())))),
                        None => Err(e),
                    },
                    ok => ok,
                },
                WaitForState::Cancelling(c) => Err(E::from(Error::Cancelled(c))),
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

/// The scheduled expiry: `call_soon` for a deadline already past (as asyncio),
/// `call_at` otherwise.
enum Armed {
    Soon(Handle),
    At(TimerHandle),
}

impl Armed {
    fn cancel(&self) {
        match self {
            Armed::Soon(h) => h.cancel(),
            Armed::At(h) => h.cancel(),
        }
    }
}

struct TimeoutState {
    when: Option<Instant>,
    /// Made outside a loop: the delay, turned into `when` on entering.
    delay: Option<Duration>,
    phase: Phase,
    task: Option<TaskRef>,
    cancelling_at_enter: u64,
    lp: Option<EventLoop>,
    timer: Option<Armed>,
}

/// A deadline for a piece of async code (asyncio 3.11's `asyncio.timeout()`), made
/// with [`timeout`] or [`timeout_at`]. Clones share the deadline, so the code inside
/// can [`reschedule`](Self::reschedule) it.
///
/// [`run`](Self::run) wraps a future returning `Result<T, E>`: it runs in the current
/// task and resolves to what the future returned, or — once the deadline passed and
/// the future, cancelled, ended with that cancellation —
/// [`Error::TimeoutError`](tulip_core::Error::TimeoutError) (as `E`), whose `source()` is the
/// cancellation. A future that swallows the cancel and returns normally makes the
/// scope return normally too, with [`expired`](Self::expired) true (asyncio 3.11). A
/// timeout is entered once.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let cm = tulip::timeout(Duration::from_millis(10));
///     let r = cm.run(tulip::sleep(Duration::from_secs(10))).await;
///     assert!(matches!(r, Err(tulip::Error::TimeoutError(Some(_)))));
///     assert!(cm.expired());
///     Ok::<_, tulip::Error>(())
/// })?;
/// # Ok::<(), tulip::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "a timeout does nothing until its run() wraps a future"]
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

/// A [`Timeout`] that expires `delay` from now on the running loop's clock
/// ([`loop_time`](tulip_core::loop_time)). Made outside a loop, it counts from when
/// it is entered, on that loop's clock ([`when`](Timeout::when) is `None` until then).
pub fn timeout(delay: Duration) -> Timeout {
    let t = Timeout::new(None);
    {
        let mut st = lock(&t.inner);
        match get_running_loop() {
            Ok(_) => st.when = Some(deadline_after(delay)),
            Err(_) => st.delay = Some(delay),
        }
    }
    t
}

/// A [`Timeout`] that expires at `when`. A deadline already past lets the body start
/// and cancels it at its first await point (asyncio schedules the expiry with
/// `call_soon`).
pub fn timeout_at(when: Instant) -> Timeout {
    Timeout::new(Some(when))
}

impl Timeout {
    /// A timeout expiring at `when`; `None` never expires (until rescheduled).
    pub fn new(when: Option<Instant>) -> Timeout {
        Timeout {
            inner: Arc::new(Mutex::new(TimeoutState {
                when,
                delay: None,
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

    /// True once the deadline passed while the scope ran (asyncio: the scope is
    /// expiring or expired), whether or not the body let the cancel end it.
    pub fn expired(&self) -> bool {
        matches!(lock(&self.inner).phase, Phase::Expiring | Phase::Expired)
    }

    /// Moves the deadline of the running scope (`None`: no deadline). A deadline
    /// already in the past expires the scope at the loop's next iteration.
    ///
    /// # Errors
    /// `RuntimeError` unless the scope is entered and not yet expiring (asyncio 3.11:
    /// "Cannot change state of … Timeout"; rescheduling before entering is an
    /// assertion there).
    pub fn reschedule(&self, when: Option<Instant>) -> Result<(), crate::Error> {
        let mut st = lock(&self.inner);
        match st.phase {
            Phase::Entered => {}
            Phase::Created => {
                return Err(crate::Error::RuntimeError("timeout has not been entered"))
            }
            Phase::Expiring => {
                return Err(crate::Error::RuntimeError(
                    "cannot change state of expiring timeout",
                ))
            }
            Phase::Expired => {
                return Err(crate::Error::RuntimeError(
                    "cannot change state of expired timeout",
                ))
            }
            Phase::Exited => {
                return Err(crate::Error::RuntimeError(
                    "cannot change state of finished timeout",
                ))
            }
        }
        st.when = when;
        self.arm(&mut st);
        Ok(())
    }

    /// Runs `fut` under this deadline, in the current task.
    ///
    /// Output: what `fut` returned; `Err(TimeoutError(Some(cancelled)))` (as `E`) if the deadline
    /// passed and `fut` ended with the scope's cancellation; `Err(Cancelled)` if the
    /// task was (also) cancelled from outside; `Err(InvalidState)` if the scope was
    /// entered before, or outside a task.
    ///
    /// # Cancel safety
    /// Dropping the returned future drops `fut` and disarms the deadline.
    pub fn run<F, T, E>(&self, fut: F) -> TimeoutScope<F>
    where
        F: Future<Output = Result<T, E>>,
        E: TaskError,
    {
        TimeoutScope {
            cm: self.clone(),
            started: false,
            finished: false,
            fut: Some(fut),
        }
    }

    /// Schedules the expiry for `st.when` (replacing any earlier one).
    fn arm(&self, st: &mut TimeoutState) {
        if let Some(t) = st.timer.take() {
            t.cancel();
        }
        let (Some(when), Some(lp)) = (st.when, st.lp.clone()) else {
            return;
        };
        let me = self.clone();
        st.timer = if when <= lp.time() {
            lp.call_soon(move || me.on_timeout()).ok().map(Armed::Soon)
        } else {
            lp.call_at(when, move || me.on_timeout())
                .ok()
                .map(Armed::At)
        };
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
        if let Some(d) = st.delay.take() {
            st.when = Some(deadline_after(d));
        }
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

    /// Leaves the scope. `cancelled` is the cancellation `fut` ended with, if it did;
    /// returns the error that replaces the output (asyncio's `__aexit__`).
    fn exit(&self, cancelled: Option<&Cancelled>) -> Option<Error> {
        let mut st = lock(&self.inner);
        if let Some(t) = st.timer.take() {
            t.cancel();
        }
        if st.phase != Phase::Expiring {
            st.phase = Phase::Exited;
            return None;
        }
        st.phase = Phase::Expired;
        let task = st.task.clone()?;
        let at_enter = st.cancelling_at_enter;
        drop(st);
        // Withdraw our request whatever the body did; only a body that ended with the
        // cancellation, and no other request outstanding, makes it a timeout.
        let others = task.uncancel() > at_enter;
        if !others {
            // Our own request, if nobody took it, must not leak past the scope.
            let _ = take_cancel();
        }
        match cancelled {
            Some(c) if !others => Some(Error::TimeoutError(Some(c.clone()))),
            _ => None,
        }
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

impl<F, T, E> Future for TimeoutScope<F>
where
    F: Future<Output = Result<T, E>>,
    E: TaskError,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if *this.finished {
            return Poll::Ready(Err(E::from(Error::InvalidState(
                "timeout scope polled after exit",
            ))));
        }
        if !*this.started {
            *this.started = true;
            if let Err(e) = this.cm.enter() {
                *this.finished = true;
                return Poll::Ready(Err(E::from(e)));
            }
        }
        let fut = this.fut.as_mut().as_pin_mut().expect("future present");
        match fut.poll(cx) {
            Poll::Ready(out) => {
                *this.finished = true;
                this.fut.set(None);
                let cancelled = out.as_ref().err().and_then(|e| e.as_cancelled());
                match this.cm.exit(cancelled) {
                    Some(e) => Poll::Ready(Err(E::from(e))),
                    None => Poll::Ready(out),
                }
            }
            Poll::Pending => {
                if !this.cm.expired() {
                    return Poll::Pending;
                }
                // Expiring: did the future take our cancel? If not, it is parked
                // where tulip cannot reach it; stop it here, as if it had let the
                // cancellation end it.
                let Some(c) = take_cancel() else {
                    return Poll::Pending;
                };
                *this.finished = true;
                this.fut.set(None);
                let e = this.cm.exit(Some(&c)).unwrap_or(Error::Cancelled(c));
                Poll::Ready(Err(E::from(e)))
            }
        }
    }
}
