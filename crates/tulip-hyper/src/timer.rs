//! [`TulipTimer`] and [`TulipSleep`]: hyper's `rt::Timer` over the loop's timers.
//!
//! A sleep registers one loop timer (`EventLoop::call_at`) at its first pending
//! poll, which wakes the polling task. Unlike `tulip::sleep`, a hyper sleep is
//! not a tulip await point: it never takes the task's cancel request (hyper would
//! read it as "the timeout fired"). The futures this crate spawns take cancel
//! requests themselves (see [`Cancellable`](crate::Cancellable)).
//!
//! Loop timers are reused rather than made per sleep, because hyper makes a fresh
//! sleep for the header-read timeout of every request (30 s by default) and drops
//! it as soon as the head has arrived: one loop timer per request would cost an
//! allocation, a heap insertion and, 30 s later, the removal of a cancelled entry.
//! Instead:
//!
//! - a sleep dropped before its deadline leaves its armed loop timer in its
//!   [`TulipTimer`]'s one spare slot (cancelling the timer it displaces);
//! - a sleep about to arm first looks in the slot: a timer armed for the same task
//!   (`Waker::will_wake`) at an instant not after the new deadline and not yet
//!   passed is adopted instead of arming a new one. It wakes the task early; the
//!   poll sees the deadline not reached and arms for the real deadline then.
//!
//! So a keep-alive connection arms about one loop timer per timeout period, not one
//! per request. A spare that nobody adopts fires once and wakes its task for
//! nothing (a spurious poll, which futures must tolerate). `reset` moves a deadline
//! in place by the same rule: an armed timer not after the new deadline is kept.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use hyper::rt::Sleep;
use tulip_core::{EventLoop, TimerHandle};

/// An armed loop timer and the waker it will wake.
type Armed = (TimerHandle, Waker);

/// hyper's timer on tulip: `http1::Builder::timer(TulipTimer::new())`.
///
/// [`TulipTimer::new`] arms each sleep on the loop running the thread that polls
/// it; [`TulipTimer::with_loop`] on one given loop. A sleep polled where there is
/// no loop at all (a foreign executor) falls back to a helper thread that wakes it
/// at its deadline, so it still fires on time; on a closed loop it fires at once
/// (nothing waits on that loop any more).
///
/// Clones share one spare slot (see the module docs): one timer per connection
/// reuses loop timers best, which is what the [`server`](crate::server) presets do.
#[derive(Clone, Debug, Default)]
pub struct TulipTimer {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    lp: Option<EventLoop>,
    /// A loop timer left armed by a dropped sleep, for the next sleep to adopt.
    spare: Mutex<Option<Armed>>,
}

impl Shared {
    fn spare(&self) -> std::sync::MutexGuard<'_, Option<Armed>> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some((t, _)) = self.spare().take() {
            t.cancel();
        }
    }
}

impl TulipTimer {
    /// A timer for the loop running the thread that polls its sleeps.
    pub fn new() -> Self {
        TulipTimer::default()
    }

    /// A timer whose sleeps are armed on `lp`.
    pub fn with_loop(lp: EventLoop) -> Self {
        TulipTimer {
            shared: Arc::new(Shared {
                lp: Some(lp),
                spare: Mutex::new(None),
            }),
        }
    }

    /// The clock the sleeps follow: the loop's (virtual, for a test loop).
    fn clock_now(&self) -> Instant {
        match &self.shared.lp {
            Some(lp) => lp.time(),
            None => tulip_core::loop_time(),
        }
    }

    fn make(&self, deadline: Instant) -> TulipSleep {
        TulipSleep {
            deadline,
            armed: None,
            on_thread: None,
            timer: self.shared.clone(),
        }
    }
}

impl hyper::rt::Timer for TulipTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        // A duration the clock cannot add saturates ("never"), as `deadline_after`.
        let deadline = self
            .clock_now()
            .checked_add(duration)
            .unwrap_or_else(|| tulip_core::deadline_after(duration));
        Box::pin(self.make(deadline))
    }

    fn now(&self) -> Instant {
        self.clock_now()
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
    timer: Arc<Shared>,
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

    /// Arms a loop timer for the deadline that wakes `waker`, or adopts the spare.
    fn arm(&mut self, waker: &Waker, now: Instant) -> Result<(), tulip_core::Error> {
        self.disarm();
        let spare = self.timer.spare().take();
        if let Some((t, w)) = spare {
            if w.will_wake(waker) && t.when() <= self.deadline && t.when() > now {
                self.armed = Some((t, w));
                return Ok(());
            }
            t.cancel();
        }
        let w = waker.clone();
        let wake = move || w.wake();
        let timer = match &self.timer.lp {
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
        tulip_core::report_exception(&tulip_core::ExceptionContext {
            message: format!(
                "tulip-hyper: cannot start a timer thread ({e}); the sleep is polled again"
            ),
            error: None,
            task: None,
        });
        waker.wake();
        return false;
    }
    true
}

impl Future for TulipSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let now = match &this.timer.lp {
            Some(lp) => lp.time(),
            None => tulip_core::loop_time(),
        };
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
        match this.arm(cx.waker(), now) {
            Ok(()) => Poll::Pending,
            // The loop is closed: nothing will ever wake this sleep.
            Err(_) => Poll::Ready(()),
        }
    }
}

impl Sleep for TulipSleep {}

impl Drop for TulipSleep {
    fn drop(&mut self) {
        // Leave a timer still to fire for the next sleep to adopt (module docs).
        // (One that has fired already is never adopted: `arm` checks its instant.)
        if let Some(armed) = self.armed.take() {
            if let Some((old, _)) = self.timer.spare().replace(armed) {
                old.cancel();
            }
        }
    }
}
