//! Loop-level state shared by every executor, and the thread's running loop.
//!
//! `RUNNING` is set only for the span of `run_until_complete` / `run_forever` (or a
//! worker thread's life in a multi-threaded executor), through [`enter_running`].

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use slab::Slab;

use crate::error::{Error, Result};
use crate::event_loop::EventLoop;
use crate::tasks::{Header, TaskRef};

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
            write!(f, " (task {})", t.name())?;
        }
        if let Some(e) = &self.error {
            write!(f, ": {e}")?;
        }
        Ok(())
    }
}

/// A loop's exception handler: `loop.set_exception_handler(handler)`.
pub type ExceptionHandler = Arc<dyn Fn(&EventLoop, &ExceptionContext) + Send + Sync>;

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

/// State every loop carries, whatever its executor: embed one in a [`Backend`].
///
/// [`Backend`]: crate::Backend
pub struct LoopCommon {
    id: u64,
    epoch: Instant,
    handler: Mutex<Option<ExceptionHandler>>,
    tasks: Mutex<Slab<Weak<Header>>>,
}

impl fmt::Debug for LoopCommon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopCommon").field("id", &self.id).finish()
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
        LoopCommon {
            id: NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed),
            epoch: Instant::now(),
            handler: Mutex::new(None),
            tasks: Mutex::new(Slab::new()),
        }
    }

    /// The loop's id, unique in the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// When the loop was created.
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    pub(crate) fn set_handler(&self, h: Option<ExceptionHandler>) {
        *self.handler.lock().unwrap_or_else(|e| e.into_inner()) = h;
    }

    pub(crate) fn handler(&self) -> Option<ExceptionHandler> {
        self.handler
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn track(&self, header: &Arc<Header>) {
        let weak = Arc::downgrade(header);
        let key = self
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(weak);
        header.slot.store(key, Ordering::Release);
    }

    pub(crate) fn untrack(&self, header: &Header) {
        let key = header.slot.swap(usize::MAX, Ordering::AcqRel);
        if key != usize::MAX {
            let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            if tasks.contains(key) {
                tasks.remove(key);
            }
        }
    }

    /// The tasks of this loop that are not done, ordered by id (creation order).
    pub fn live_tasks(&self) -> Vec<TaskRef> {
        let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<TaskRef> = tasks
            .iter()
            .filter_map(|(_, w)| w.upgrade())
            .filter(|h| !h.is_done())
            .map(TaskRef::from_header)
            .collect();
        v.sort_by_key(TaskRef::id);
        v
    }
}

thread_local! {
    static RUNNING: RefCell<Option<EventLoop>> = const { RefCell::new(None) };
}

/// Restores the previous running loop of this thread on drop.
#[derive(Debug)]
#[must_use = "the loop stops being the running loop when the guard drops"]
pub struct RunningGuard {
    prev: Option<EventLoop>,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        RUNNING.with(|r| *r.borrow_mut() = prev);
    }
}

/// Makes `lp` this thread's running loop until the guard drops. Executors call this
/// on their worker threads; `EventLoop::run_*` call it for the driving thread.
pub fn enter_running(lp: EventLoop) -> RunningGuard {
    let prev = RUNNING.with(|r| r.borrow_mut().replace(lp));
    RunningGuard { prev }
}

/// The loop running on this thread.
///
/// # Errors
/// `NoRunningLoop` outside a running loop (asyncio's RuntimeError).
///
/// # Examples
/// ```
/// assert!(tulip_core::get_running_loop().is_err());
/// ```
pub fn get_running_loop() -> Result<EventLoop> {
    RUNNING
        .with(|r| r.borrow().clone())
        .ok_or(Error::NoRunningLoop)
}

/// Runs `f` with this thread's running loop, without cloning the handle.
pub(crate) fn with_running_loop<R>(f: impl FnOnce(&EventLoop) -> R) -> Option<R> {
    RUNNING.with(|r| r.borrow().as_ref().map(f))
}

/// True if a loop is running on this thread.
pub(crate) fn has_running_loop() -> bool {
    RUNNING.with(|r| r.borrow().is_some())
}
