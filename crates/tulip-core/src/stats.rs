//! What `EventLoop::stats()` returns (its `impl` is in `metrics.rs`, above the
//! executor contract, which names these types).

/// A snapshot of a loop's counters and queues (see [`EventLoop::stats`](crate::EventLoop::stats)).
///
/// Counters (`iterations`, `callbacks_run`, `task_steps`, `waits`) count since the loop was
/// created; depths are as of a recent iteration. Figures are sampled, not exact to the
/// step while the loop runs: executors publish them every few iterations (the local
/// loop every 8, a threaded worker its steps every 64), whenever they are about to
/// wait, and when a run ends, so that counting costs the hot path next to nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoopStats {
    /// The executor's name (`"local"`, `"threaded"`).
    pub executor: &'static str,
    /// Loop iterations run (each runs what was ready when it began).
    pub iterations: u64,
    /// Callbacks run (`call_soon`, timers, done-callbacks).
    pub callbacks_run: u64,
    /// Task steps run (polls of tasks), on every thread of the loop.
    pub task_steps: u64,
    /// Times the loop's thread found nothing ready and went to wait in the poller
    /// (for I/O, a timer, or work from another thread). A message that reaches the
    /// loop while it waits costs a wake-up through the kernel; on the threaded
    /// executor, the driving thread spins a few microseconds first after a step of
    /// the main future, so the main future and a task passing messages add few.
    pub waits: u64,
    /// Items in the ready queue(s) at a recent iteration.
    pub ready_depth: usize,
    /// Tasks spawned and not done (the main task of `run_until_complete` not counted).
    pub live_tasks: usize,
    /// Timers scheduled and not yet due.
    pub pending_timers: usize,
    /// I/O sources registered with the loop's reactor.
    pub io_sources: usize,
    /// Threads of the default blocking pool running a job.
    pub blocking_busy: usize,
    /// Threads of the default blocking pool waiting for one.
    pub blocking_idle: usize,
    /// Per worker thread (threaded executor; empty for the local one).
    pub workers: Vec<WorkerStats>,
}

/// One worker thread's figures (threaded executor).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// The worker's index (its thread is named `<prefix>-<index>`).
    pub index: usize,
    /// Task steps it ran.
    pub task_steps: u64,
    /// Times it found work by stealing from another worker.
    pub steals: u64,
    /// Times it parked for lack of work.
    pub parks: u64,
    /// Steps in its own queue now.
    pub queue_depth: usize,
}

/// A statistics counter for executors: one thread writes it (a load and a store, no
/// read-modify-write, so counting costs no locked instruction on the hot path), any
/// thread reads it for [`LoopStats`].
#[derive(Debug, Default)]
pub struct StatCounter(std::sync::atomic::AtomicU64);

impl StatCounter {
    /// Adds `by`. Only the counter's one writer thread may call this.
    #[inline]
    pub fn add(&self, by: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.0.store(self.0.load(Relaxed).wrapping_add(by), Relaxed);
    }

    /// The count now (from any thread).
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}
