//! Loop metrics: `EventLoop::stats()`, readable from any thread while the loop runs.

use crate::event_loop::EventLoop;

/// A snapshot of a loop's counters and queues (see [`EventLoop::stats`]).
///
/// Counters (`iterations`, `callbacks_run`, `task_steps`) count since the loop was
/// created; depths are as of the loop's latest iteration.
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
    /// Items in the ready queue(s) at the latest iteration.
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

impl EventLoop {
    /// The loop's metrics now: iterations, callbacks and task steps run, ready-queue
    /// depth, live tasks, pending timers, registered I/O sources, the default blocking
    /// pool's busy and idle threads, and per-worker figures on the threaded executor.
    /// Callable from any thread while the loop runs.
    ///
    /// # Examples
    /// ```
    /// let lp = tulip_local::new_event_loop()?;
    /// lp.run_until_complete(async {
    ///     tulip_core::create_task(async { Ok::<_, tulip_core::Error>(()) })?.await
    /// })?;
    /// let s = lp.stats();
    /// assert_eq!(s.executor, "local");
    /// assert!(s.task_steps >= 1 && s.iterations >= 1);
    /// assert_eq!(s.live_tasks, 0);
    /// # Ok::<(), tulip_core::Error>(())
    /// ```
    pub fn stats(&self) -> LoopStats {
        let backend = self.backend();
        let pool = crate::blocking::default_pool();
        let (threads, idle) = pool.thread_counts();
        let mut s = LoopStats {
            executor: backend.executor(),
            live_tasks: backend.common().live_count(),
            io_sources: backend.reactor().registered(),
            blocking_busy: threads.saturating_sub(idle),
            blocking_idle: idle,
            ..LoopStats::default()
        };
        backend.fill_stats(&mut s);
        s
    }
}
