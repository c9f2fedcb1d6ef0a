//! Loop metrics: `EventLoop::stats()`, readable from any thread while the loop runs.

use crate::event_loop::EventLoop;
use crate::stats::LoopStats;

impl EventLoop {
    /// The loop's metrics now: iterations, callbacks and task steps run, ready-queue
    /// depth, live tasks, pending timers, registered I/O sources, the default blocking
    /// pool's busy and idle threads, and per-worker figures on the threaded executor.
    /// Callable from any thread while the loop runs.
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::executors::local::new_event_loop()?;
    /// lp.run_until_complete(async {
    ///     tulip::create_task(async { Ok::<_, tulip::Error>(()) })?.await
    /// })?;
    /// let s = lp.stats();
    /// assert_eq!(s.executor, "local");
    /// assert!(s.task_steps >= 1 && s.iterations >= 1);
    /// assert_eq!(s.live_tasks, 0);
    /// # Ok::<(), tulip::Error>(())
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
