//! [`TulipTimer`] and [`TulipSleep`]: hyper's `rt::Timer` over the loop's timers.
//!
//! A sleep registers one loop timer (`EventLoop::call_at`) at its first pending
//! poll, which wakes the polling task; dropping the sleep cancels it. Unlike
//! `tulip_core::sleep`, a hyper sleep is not a tulip await point: it never takes
//! the task's cancel request (hyper would read it as "the timeout fired"). The
//! futures this crate spawns take cancel requests themselves (see
//! [`Cancellable`](crate::Cancellable)).
//!
//! `reset` changes the deadline in place. A deadline moved later keeps the timer
//! already armed: it wakes the task early, the poll sees the deadline is not
//! reached and arms a new one. So a deadline pushed back on every message costs a
//! timer per expiry of the old deadline, not one per push.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hyper::rt::Sleep;
use tulip_core::{EventLoop, TimerHandle};

/// hyper's timer on tulip: `http1::Builder::timer(TulipTimer::new())`.
///
/// [`TulipTimer::new`] arms each sleep on the loop running the thread that polls
/// it; [`TulipTimer::with_loop`] on one given loop. A sleep polled where there is
/// no loop at all (a foreign executor) falls back to a helper thread that wakes it
/// at its deadline, so it still fires on time; on a closed loop it fires at once
/// (nothing waits on that loop any more).
#[derive(Clone, Debug, Default)]
pub struct TulipTimer {
    lp: Option<EventLoop>,
}

impl TulipTimer {
    /// A timer for the loop running the thread that polls its sleeps.
    pub fn new() -> Self {
        TulipTimer { lp: None }
    }

    /// A timer whose sleeps are armed on `lp`.
    pub fn with_loop(lp: EventLoop) -> Self {
        TulipTimer { lp: Some(lp) }
    }

    fn make(&self, deadline: Instant) -> TulipSleep {
        TulipSleep {
            deadline,
            armed: None,
            on_thread: None,
            lp: self.lp.clone(),
        }
    }
}

impl hyper::rt::Timer for TulipTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(self.make(tulip_core::deadline_after(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(self.make(deadline))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<TulipSleep>() {
            Some(s) => s.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// The sleep [`TulipTimer`] hands hyper; a `Future<Output = ()>` usable on its own.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct TulipSleep {
    deadline: Instant,
    /// The loop timer that will wake the task, and the waker it will wake.
    armed: Option<(TimerHandle, Waker)>,
    /// Outside any loop: the waker a helper thread will wake at the deadline.
    on_thread: Option<Waker>,
    lp: Option<EventLoop>,
}

impl TulipSleep {
    /// A sleep until `deadline` on the loop that polls it.
    pub fn until(deadline: Instant) -> Self {
        TulipTimer::new().make(deadline)
    }

    /// When the sleep ends.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline. An armed timer for an earlier instant is kept (it wakes
    /// the task, which re-arms); one for a later instant is cancelled.
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        if matches!(&self.armed, Some((t, _)) if t.when() > deadline) {
            self.disarm();
        }
    }

    fn disarm(&mut self) {
        if let Some((t, _)) = self.armed.take() {
            t.cancel();
        }
    }

    /// Arms a loop timer for the deadline that wakes `waker`.
    fn arm(&mut self, waker: &Waker) -> Result<(), tulip_core::Error> {
        self.disarm();
        let w = waker.clone();
        let wake = move || w.wake();
        let timer = match &self.lp {
            Some(lp) => lp.call_at(self.deadline, wake)?,
            None => match tulip_core::get_running_loop() {
                Ok(lp) => lp.call_at(self.deadline, wake)?,
                Err(_) => {
                    let waiting = matches!(&self.on_thread, Some(w) if w.will_wake(waker));
                    if !waiting && wake_from_thread(self.deadline, waker.clone()) {
                        self.on_thread = Some(waker.clone());
                    }
                    return Ok(());
                }
            },
        };
        self.armed = Some((timer, waker.clone()));
        Ok(())
    }
}

/// The fallback for a sleep polled outside any loop: a thread that wakes it.
/// False if no thread could be started (the waker was woken at once instead).
fn wake_from_thread(deadline: Instant, waker: Waker) -> bool {
    let w = waker.clone();
    let spawned = std::thread::Builder::new()
        .name("tulip-hyper-sleep".into())
        .spawn(move || {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            w.wake();
        });
    if let Err(e) = spawned {
        // No thread to wait in: have the task poll again rather than never.
        eprintln!("tulip-hyper: cannot start a timer thread ({e}); the sleep is polled again");
        waker.wake();
        return false;
    }
    true
}

impl Future for TulipSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let now = Instant::now();
        if now >= this.deadline {
            this.disarm();
            return Poll::Ready(());
        }
        if let Some((t, w)) = &this.armed {
            // Armed for no later than the deadline, with this task's waker, and not
            // fired yet (the loop fires a timer only once its instant has passed).
            if t.when() > now && w.will_wake(cx.waker()) {
                return Poll::Pending;
            }
        }
        match this.arm(cx.waker()) {
            Ok(()) => Poll::Pending,
            // The loop is closed: nothing will ever wake this sleep.
            Err(_) => Poll::Ready(()),
        }
    }
}

impl Sleep for TulipSleep {}

impl Drop for TulipSleep {
    fn drop(&mut self) {
        self.disarm();
    }
}
