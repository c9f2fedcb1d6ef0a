//! Loop-level state shared by every executor: id, clock origin, exception handler,
//! live tasks, and the count of handles that keep the loop open.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::clock::LoopClock;
use crate::error::Error;
use crate::header::{Header, TaskRef};
use crate::task_registry::TaskRegistry;

/// What the exception handler is told (asyncio's `context` dict).
#[derive(Debug, Clone)]
pub struct ExceptionContext {
    /// What happened, e.g. "Task exception was never retrieved".
    pub message: String,
    /// The error, if there was one.
    pub error: Option<Error>,
    /// The task involved, if any.
    pub task: Option<TaskRef>,
}

impl fmt::Display for ExceptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(t) = &self.task {
            // Slow-step reports name the task in their message already.
            let site = t.spawn_site().to_string();
            if !self.message.contains(&site) {
                write!(f, " (task {:?}, spawned at {site})", t.name())?;
            }
        }
        if let Some(e) = &self.error {
            write!(f, ": {e}")?;
        }
        Ok(())
    }
}

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

/// State every loop carries, whatever its executor: embed one in a [`Backend`].
///
/// [`Backend`]: crate::Backend
pub struct LoopCommon {
    id: u64,
    epoch: Instant,
    clock: LoopClock,
    /// The exception handler, kept as `Any` (it names `EventLoop`, a layer above).
    handler: Mutex<Option<Arc<dyn Any + Send + Sync>>>,
    tasks: TaskRegistry,
    /// Counted [`EventLoop`] handles alive (the loop's own tasks hold uncounted ones).
    handles: AtomicUsize,
    /// asyncio's debug mode (`set_debug`), and the step duration it reports.
    debug: AtomicBool,
    slow_nanos: AtomicU64,
    /// The main task of the `run_until_complete` in progress (it is not in `tasks`:
    /// `all_tasks()` leaves it out, the task dump shows it).
    main: Mutex<Option<TaskRef>>,
}

impl fmt::Debug for LoopCommon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopCommon").field("id", &self.id).finish()
    }
}

impl Drop for LoopCommon {
    fn drop(&mut self) {
        self.set_debug(false);
    }
}

impl Default for LoopCommon {
    fn default() -> Self {
        Self::new()
    }
}

impl LoopCommon {
    /// Fresh state with a new loop id.
    pub fn new() -> Self {
        Self::with_clock(false)
    }

    /// Fresh state with a new loop id, and a virtual clock (standing at the loop's
    /// epoch) if `virtual_clock`.
    pub fn with_clock(virtual_clock: bool) -> Self {
        let epoch = Instant::now();
        LoopCommon {
            id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            epoch,
            clock: match virtual_clock {
                true => LoopClock::virtual_at(epoch),
                false => LoopClock::real(),
            },
            handler: Mutex::new(None),
            tasks: TaskRegistry::default(),
            handles: AtomicUsize::new(0),
            debug: AtomicBool::new(false),
            slow_nanos: AtomicU64::new(crate::debug_flag::DEFAULT_SLOW.as_nanos() as u64),
            main: Mutex::new(None),
        }
        .with_debug_from_env()
    }

    fn with_debug_from_env(self) -> Self {
        if crate::debug_flag::env_debug() {
            self.set_debug(true);
        }
        self
    }

    /// True in debug mode (asyncio's `loop.get_debug()`).
    #[inline]
    pub fn debug(&self) -> bool {
        crate::debug_flag::any_debug() && self.debug.load(Ordering::Relaxed)
    }

    /// When a step begins, if this loop is in debug mode (it is then timed).
    #[inline(always)]
    pub(crate) fn step_start(&self) -> Option<Instant> {
        if !self.debug() {
            return None;
        }
        Some(Instant::now())
    }

    /// Turns debug mode on or off (asyncio's `loop.set_debug()`).
    pub fn set_debug(&self, on: bool) {
        if self.debug.swap(on, Ordering::AcqRel) != on {
            crate::debug_flag::count_debug(on);
        }
    }

    /// How long a callback or task step may run before debug mode reports it.
    pub fn slow_callback_duration(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.slow_nanos.load(Ordering::Relaxed))
    }

    /// Sets [`slow_callback_duration`](Self::slow_callback_duration).
    pub fn set_slow_callback_duration(&self, d: std::time::Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.slow_nanos.store(nanos, Ordering::Relaxed);
    }

    pub(crate) fn set_main(&self, task: &TaskRef) {
        *self.main.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.clone());
    }

    pub(crate) fn main_id(&self) -> Option<u64> {
        let main = self.main.lock().unwrap_or_else(|e| e.into_inner());
        main.as_ref().map(TaskRef::id)
    }

    pub(crate) fn clear_main(&self) {
        *self.main.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The live tasks and the main task, if one runs: what the task dump shows.
    pub(crate) fn dump_tasks(&self) -> Vec<TaskRef> {
        let mut v = self.live_tasks();
        let main = self.main.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(t) = main.filter(|t| !t.done()) {
            v.insert(0, t);
        }
        v
    }

    /// The loop's id, unique in the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// When the loop was created (where a virtual clock starts).
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// The loop's clock.
    #[inline]
    pub fn clock(&self) -> &LoopClock {
        &self.clock
    }

    pub(crate) fn acquire_handle(&self) {
        self.handles.fetch_add(1, Ordering::Relaxed);
    }

    /// Uncounts a handle; true if it was the last one.
    pub(crate) fn release_handle(&self) -> bool {
        self.handles.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Wakes every live task that is parked, so that a closed loop's executor drops
    /// its step and, with it, the task's future (destructors run, sockets close,
    /// awaiters hear "cancelled"). Each is woken through its header's key, a waker
    /// of the task (a task that finished meanwhile ignores the wake).
    pub(crate) fn release_parked(&self) {
        for t in self.tasks.pending() {
            t.header.key().wake_by_ref();
        }
    }

    pub(crate) fn set_handler(&self, h: Option<Arc<dyn Any + Send + Sync>>) {
        *self.handler.lock().unwrap_or_else(|e| e.into_inner()) = h;
    }

    pub(crate) fn handler(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        self.handler
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Adds a new task to the registry (see `task_registry.rs`).
    pub(crate) fn track(&self, header: &Header) {
        self.tasks.insert(header);
    }

    /// Takes a task that finished on a closed loop out of the registry at once
    /// (see `task_registry.rs`; on an open loop it waits for a sweep).
    pub(crate) fn untrack(&self, header: &Header) {
        self.tasks.remove(header);
    }

    /// Counts a task that finished on the open loop: it stays in the registry until
    /// a sweep (see `task_registry.rs`).
    #[inline]
    pub(crate) fn note_finished(&self) {
        self.tasks.note_finished();
    }

    /// Takes finished tasks out of the registry, freeing what only the registry
    /// kept: all of them if `all`, else if a quarter of it finished since the last
    /// sweep. An executor calls it when it is about to wait with nothing to run.
    pub fn sweep_tasks(&self, all: bool) {
        self.tasks.sweep(all);
    }

    /// How many tasks of this loop are not done.
    pub fn live_count(&self) -> usize {
        self.tasks.count_pending()
    }

    /// The tasks of this loop that are not done, ordered by id (creation order).
    pub fn live_tasks(&self) -> Vec<TaskRef> {
        let mut v = self.tasks.pending();
        v.sort_by_key(TaskRef::id);
        v
    }
}
