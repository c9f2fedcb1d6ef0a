//! The loop's clock: real (`Instant::now()`), or virtual for tests.
//!
//! Every loop has a [`LoopClock`]; `EventLoop::time()`, `sleep`, `call_later`, the
//! timeouts of tulip-sync and the executors' timer heaps all read it. A real clock
//! is one branch in front of `Instant::now()`.
//!
//! A virtual clock is an `Instant` that only moves when told: it starts at the
//! instant the loop was built (its `epoch`) and stands still while the loop runs.
//! It moves in three ways:
//!
//! - **Jump** (auto-advance, on by default): when the executor finds nothing to do
//!   — no callback or task step ready, no worker running one, no blocking-pool job
//!   of this loop in flight, no I/O source with a waiter — it sets the clock to the
//!   next timer's deadline at once instead of sleeping ([`Activity::Idle`]).
//! - **Real pacing**: when the loop does wait on the outside world (a socket read is
//!   pending, a `to_thread` job is running: [`Activity::Outside`]), data could still
//!   arrive, so it waits in the reactor for real, for as long as the virtual time
//!   left to the next timer, and the clock then moves on by the real time waited
//!   (capped at that timer). While the outside world is involved, virtual time is
//!   never faster than real time, so a reply that would beat a timeout on a real
//!   clock beats it on the virtual one too.
//! - **By hand**: [`VirtualClock::advance`] / [`advance_to`](VirtualClock::advance_to),
//!   from any thread; timers then due fire at the loop's next iteration. With
//!   auto-advance off, this is the only way it moves, and an idle loop waits (for
//!   I/O, a wake-up, or an advance) without a timeout.
//!
//! Not seen by the idle check (document, don't guess): threads the loop does not know
//! about (a `std::thread` calling `call_soon_threadsafe` later, a foreign async-io
//! source); with those, turn auto-advance off and advance by hand.
//!
//! Fields: the virtual time is nanoseconds since `epoch` in one atomic, moved only
//! forward (`fetch_max`); `outside` counts this loop's blocking jobs in flight; the
//! real-pacing record is written and read by the thread driving the loop only.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use tulip_reactor::Reactor;

/// How far ahead "never" is: a deadline past what the clock can hold saturates here
/// (thirty years; asyncio accepts `math.inf`, tokio saturates too).
const NEVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// The instant `delay` after `now`, saturating at "never".
pub(crate) fn saturating_after(now: Instant, delay: Duration) -> Instant {
    now.checked_add(delay.min(NEVER)).unwrap_or(now)
}

/// What an executor with nothing ready to run tells the clock about itself, when a
/// virtual clock decides whether it may jump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Work appeared meanwhile: do not wait.
    Ready,
    /// Nothing can happen until a timer fires: jump to it.
    Idle,
    /// The loop's own threads are still running steps (a worker of the threaded
    /// executor): wait, without a timeout, until they report idle.
    Inside,
    /// The loop waits on the outside world (I/O with a waiter, a blocking job):
    /// wait for real, and let the clock follow real time.
    Outside,
}

/// A loop's clock. Executors embed it through [`LoopCommon`](crate::LoopCommon);
/// everything else reads it through `EventLoop::time()`.
#[derive(Debug)]
pub struct LoopClock {
    virt: Option<Arc<VirtualTime>>,
}

/// A handle to a loop's virtual clock (from `EventLoop::virtual_clock()`).
/// `Clone + Send + Sync`; usable from any thread.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let lp = tulip::executors::local::Builder::new().virtual_clock().build()?;
/// let clock = lp.virtual_clock().expect("built with a virtual clock");
/// let t0 = lp.time();
/// // An hour of sleeping takes no wall time: the idle loop jumps to the timer.
/// lp.run_until_complete(tulip::sleep(Duration::from_secs(3600)))?;
/// assert_eq!(lp.time() - t0, Duration::from_secs(3600));
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(clock.now() - t0, Duration::from_secs(3601));
/// # Ok::<(), tulip::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct VirtualClock {
    inner: Arc<VirtualTime>,
}

#[derive(Debug)]
struct VirtualTime {
    epoch: Instant,
    /// Nanoseconds since `epoch`; only ever raised.
    nanos: AtomicU64,
    auto: AtomicBool,
    /// Blocking jobs of this loop in flight (see [`OutsideWork`]).
    outside: AtomicUsize,
    /// The reactor to notify when the clock is moved by hand.
    reactor: OnceLock<Weak<Reactor>>,
    /// A real-paced wait in progress: (real start, virtual start, cap).
    pacing: Mutex<Option<(Instant, Instant, Option<Instant>)>>,
}

impl VirtualTime {
    fn now(&self) -> Instant {
        self.epoch + Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    fn advance_to(&self, when: Instant) {
        let ticks = when.saturating_duration_since(self.epoch).as_nanos();
        self.nanos
            .fetch_max(u64::try_from(ticks).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    fn notify(&self) {
        if let Some(r) = self.reactor.get().and_then(Weak::upgrade) {
            let _ = r.notify();
        }
    }
}

impl LoopClock {
    /// The real clock.
    pub fn real() -> LoopClock {
        LoopClock { virt: None }
    }

    /// A virtual clock standing at `epoch`, auto-advance on.
    pub fn virtual_at(epoch: Instant) -> LoopClock {
        LoopClock {
            virt: Some(Arc::new(VirtualTime {
                epoch,
                nanos: AtomicU64::new(0),
                auto: AtomicBool::new(true),
                outside: AtomicUsize::new(0),
                reactor: OnceLock::new(),
                pacing: Mutex::new(None),
            })),
        }
    }

    /// The loop's time: `Instant::now()`, or the virtual time.
    #[inline]
    pub fn now(&self) -> Instant {
        match &self.virt {
            None => Instant::now(),
            Some(v) => v.now(),
        }
    }

    /// True for a virtual clock.
    #[inline]
    pub fn is_virtual(&self) -> bool {
        self.virt.is_some()
    }

    /// The user's handle, for a virtual clock.
    pub fn virtual_clock(&self) -> Option<VirtualClock> {
        self.virt
            .as_ref()
            .map(|v| VirtualClock { inner: v.clone() })
    }

    /// Tells a virtual clock which reactor to notify when it is moved by hand (so a
    /// loop waiting without a timeout looks at its timers again). Executors call this
    /// once, at construction.
    pub fn attach(&self, reactor: &Arc<Reactor>) {
        if let Some(v) = &self.virt {
            let _ = v.reactor.set(Arc::downgrade(reactor));
        }
    }

    /// Counts a piece of work done outside the loop on its behalf (a blocking job)
    /// until the guard drops: a virtual clock does not jump meanwhile. `None` (and
    /// nothing counted) on a real clock.
    pub fn outside_work(&self) -> Option<OutsideWork> {
        let v = self.virt.as_ref()?;
        v.outside.fetch_add(1, Ordering::SeqCst);
        Some(OutsideWork { time: v.clone() })
    }

    /// Whether work counted by [`outside_work`](Self::outside_work) is in flight.
    pub fn outside_busy(&self) -> bool {
        self.virt
            .as_ref()
            .is_some_and(|v| v.outside.load(Ordering::SeqCst) > 0)
    }

    /// How long the executor should wait in the reactor when nothing is ready and
    /// `next` is the earliest timer (`None`: no timer; the result `None`: no limit).
    ///
    /// A real clock waits until `next`. A virtual clock asks `activity` (only when it
    /// would otherwise wait) and jumps, waits for the loop's own threads, or paces
    /// the wait in real time (see the module docs); call [`waited`](Self::waited)
    /// when the wait is over.
    #[inline]
    pub fn wait_timeout(
        &self,
        next: Option<Instant>,
        activity: impl FnOnce() -> Activity,
    ) -> Option<Duration> {
        match &self.virt {
            None => next.map(|d| d.saturating_duration_since(Instant::now())),
            Some(v) => Self::virtual_wait(v, next, activity),
        }
    }

    fn virtual_wait(
        v: &VirtualTime,
        next: Option<Instant>,
        activity: impl FnOnce() -> Activity,
    ) -> Option<Duration> {
        let mut pacing = v.pacing.lock().unwrap_or_else(|e| e.into_inner());
        *pacing = None;
        let now = v.now();
        if next.is_some_and(|t| t <= now) {
            return Some(Duration::ZERO);
        }
        if !v.auto.load(Ordering::SeqCst) {
            return None;
        }
        match activity() {
            Activity::Ready => Some(Duration::ZERO),
            Activity::Idle => next.map(|t| {
                v.advance_to(t);
                Duration::ZERO
            }),
            Activity::Inside => None,
            Activity::Outside => {
                *pacing = Some((Instant::now(), now, next));
                next.map(|t| t - now)
            }
        }
    }

    /// After the reactor wait that [`wait_timeout`](Self::wait_timeout) planned: a
    /// real-paced wait moves the virtual clock on by the real time it took (capped
    /// at the timer it waited for). Nothing for a real clock.
    #[inline]
    pub fn waited(&self) {
        if let Some(v) = &self.virt {
            let paced = v.pacing.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some((real, from, cap)) = paced {
                let to = from + real.elapsed();
                v.advance_to(cap.map_or(to, |c| to.min(c)));
            }
        }
    }
}

/// Work in flight outside the loop on its behalf (from
/// [`LoopClock::outside_work`]); uncounted when dropped.
#[derive(Debug)]
pub struct OutsideWork {
    time: Arc<VirtualTime>,
}

impl Drop for OutsideWork {
    fn drop(&mut self) {
        self.time.outside.fetch_sub(1, Ordering::SeqCst);
        // The loop may be waiting for this without a timeout of its own.
        self.time.notify();
    }
}

impl VirtualClock {
    /// The virtual time (what `EventLoop::time()` returns).
    pub fn now(&self) -> Instant {
        self.inner.now()
    }

    /// Moves the clock forward by `d`. Timers due by then fire at the loop's next
    /// iteration, in deadline order; the loop is woken if it waits.
    pub fn advance(&self, d: Duration) {
        let d = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .inner
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(d))
            });
        self.inner.notify();
    }

    /// Moves the clock forward to `when` (a `when` in the past changes nothing).
    pub fn advance_to(&self, when: Instant) {
        self.inner.advance_to(when);
        self.inner.notify();
    }

    /// Turns jumping to the next timer when the loop is idle on (the default) or
    /// off. Off, the clock moves only by [`advance`](Self::advance).
    pub fn set_auto_advance(&self, on: bool) {
        self.inner.auto.store(on, Ordering::SeqCst);
        self.inner.notify();
    }

    /// Whether the clock jumps when the loop is idle.
    pub fn auto_advance(&self) -> bool {
        self.inner.auto.load(Ordering::SeqCst)
    }
}
