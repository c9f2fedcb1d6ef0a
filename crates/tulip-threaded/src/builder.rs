//! Choosing the number of workers and their thread names.

use std::sync::Arc;

use tulip_core::{EventLoop, Result};
use tulip_reactor::ReactorKind;

use crate::threaded_loop::ThreadedLoop;

/// Builds a threaded loop.
///
/// # Examples
/// ```
/// let lp = tulip::executors::threaded::Builder::new()
///     .workers(3)
///     .thread_name("my-worker")
///     .build()?;
/// let name = lp.run_until_complete(async {
///     tulip::create_task(async {
///         Ok::<_, tulip::Error>(std::thread::current().name().map(String::from))
///     })?
///     .await
/// })?;
/// assert!(name.unwrap().starts_with("my-worker-"));
/// lp.close()?;
/// # Ok::<(), tulip::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    workers: usize,
    name: String,
    reactor: ReactorKind,
    virtual_clock: bool,
    hand_off: bool,
    spin: bool,
    /// The CPUs this process may use, read once here.
    cpus: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// One worker per available CPU (at least one); threads named `tulip-worker-<i>`;
    /// woken steps handed off to the workers unless the process may use one CPU
    /// only (see [`hand_off`](Builder::hand_off)).
    pub fn new() -> Builder {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Builder {
            workers: cpus,
            name: "tulip-worker".into(),
            reactor: ReactorKind::default(),
            virtual_clock: false,
            hand_off: cpus > 1,
            spin: cpus > 1,
            cpus,
        }
    }

    /// Sets the number of worker threads (0 counts as 1).
    pub fn workers(mut self, n: usize) -> Builder {
        self.workers = n.max(1);
        self
    }

    /// Sets the worker threads' name prefix; worker `i` is named `<prefix>-<i>`.
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Builder {
        self.name = prefix.into();
        self
    }

    /// Sets which reactor the loop parks in: tulip's own poller (the default) or,
    /// with the `async-io` feature, async-io's, shared with the smol ecosystem.
    pub fn reactor(mut self, kind: ReactorKind) -> Builder {
        self.reactor = kind;
        self
    }

    /// Whether the driver hands part of a burst of task steps its reactor wait woke
    /// to the workers (`true`: from three steps on, the later half, waking one
    /// worker) or runs them all itself (`false`). Handing off spreads a burst over
    /// the workers; on one CPU it buys no parallelism and costs a context switch.
    /// Default: `true`, unless the process may use one CPU only (`taskset -c 0`, a
    /// container limited to one CPU). Steps woken by tasks, timers and other threads
    /// go to the workers either way; with the async-io reactor, so do the steps its
    /// wait woke (its park runs wakers before it returns).
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::executors::threaded::Builder::new().hand_off(false).build()?;
    /// assert_eq!(lp.run_until_complete(async { Ok::<_, tulip::Error>(7) })?, 7);
    /// lp.close()?;
    /// # Ok::<(), tulip::Error>(())
    /// ```
    pub fn hand_off(mut self, hand_off: bool) -> Builder {
        self.hand_off = hand_off;
        self
    }

    /// Whether a worker with nothing to run looks for work for a few more microseconds
    /// before it parks (one worker at a time; while it does, nobody else is woken
    /// for new work), and the driving thread, after a step of the main future or of
    /// a local task while a worker is awake, looks at its queue a few microseconds
    /// before it waits in the poller. Work that comes soon, such as the next task a
    /// busy thread spawns or the reply to a message, is then taken without a park
    /// and an unpark (two syscalls); the price is that CPU time. Spins that keep
    /// finding nothing become rarer. Default: `true`, unless the process may use one
    /// CPU only, where the spinning thread would hold the CPU the work must come
    /// from.
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::executors::threaded::Builder::new().spin(false).build()?;
    /// assert_eq!(lp.run_until_complete(async { Ok::<_, tulip::Error>(7) })?, 7);
    /// lp.close()?;
    /// # Ok::<(), tulip::Error>(())
    /// ```
    pub fn spin(mut self, spin: bool) -> Builder {
        self.spin = spin;
        self
    }

    /// Puts the loop on a virtual clock, for tests: `time()`, sleeps, `call_later`
    /// and timeouts follow it; when the lane is empty, every worker is parked and no
    /// task waits on I/O or a blocking job, the loop jumps straight to its next
    /// timer, so timer-heavy tests take no wall time. [`EventLoop::virtual_clock`]
    /// gives the handle that moves it by hand ([`VirtualClock`](tulip_core::VirtualClock)
    /// says exactly when it jumps).
    ///
    /// # Examples
    /// ```
    /// use std::time::{Duration, Instant};
    /// let lp = tulip::executors::threaded::Builder::new().workers(2).virtual_clock().build()?;
    /// let (wall, t0) = (Instant::now(), lp.time());
    /// let t = lp.run_until_complete(async {
    ///     let t = tulip::create_task(async {
    ///         tulip::sleep(Duration::from_secs(3600)).await?;
    ///         Ok::<_, tulip::Error>(tulip::loop_time())
    ///     })?;
    ///     t.await
    /// })?;
    /// assert_eq!(t - t0, Duration::from_secs(3600));
    /// assert!(wall.elapsed() < Duration::from_secs(60));
    /// lp.close()?;
    /// # Ok::<(), tulip::Error>(())
    /// ```
    pub fn virtual_clock(mut self) -> Builder {
        self.virtual_clock = true;
        self
    }

    /// The loop. Its workers start at its first run.
    ///
    /// # Errors
    /// The OS refused to create the poller.
    pub fn build(self) -> Result<EventLoop> {
        let lp: Arc<ThreadedLoop> = ThreadedLoop::build(
            self.workers,
            self.name,
            self.reactor,
            self.virtual_clock,
            self.hand_off,
            self.spin,
            self.cpus,
        )?;
        Ok(EventLoop::from_backend(lp))
    }
}
