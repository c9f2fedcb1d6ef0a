//! `TaskRef`: a shareable, untyped reference to a task — identity, state, how it
//! ended, cancel, done-callbacks. What done-callbacks receive and what
//! [`current_task`](crate::current_task) returns.

use std::fmt;
use std::sync::atomic::Ordering;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::handle::Callback;
use crate::header::{DoneEntry, DoneList, Header, TaskRef, CANCELLED, FAILED, RETRIEVED};
use crate::outcome::Ending;
use crate::running::get_running_loop;

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRef")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("done", &self.done())
            .finish()
    }
}

impl PartialEq for TaskRef {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq::<Header>(&*self.header, &*other.header)
    }
}
impl Eq for TaskRef {}

/// By id, which is one per task and never changes: asyncio keeps tasks in sets
/// (`background_tasks.add(task)`). Clippy's `mutable_key_type` lint flags a
/// `HashSet<TaskRef>` for the task's state inside; equality and hash never read that
/// state, so it may be allowed (or `TaskRef` listed under `ignore-interior-mutability`
/// in `clippy.toml`).
impl std::hash::Hash for TaskRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl TaskRef {
    /// The task's id, unique in the process, increasing in creation order.
    pub fn id(&self) -> u64 {
        self.header.id
    }

    /// The id of the loop the task was created on.
    pub fn loop_id(&self) -> u64 {
        self.header.loop_id
    }

    /// The task's name: the one given with `set_name`, or `Task-<id>` as in asyncio.
    pub fn name(&self) -> String {
        let name = self
            .header
            .lock()
            .extra
            .as_ref()
            .and_then(|e| e.name.clone());
        name.unwrap_or_else(|| format!("Task-{}", self.header.id))
    }

    /// Renames the task.
    pub fn set_name(&self, name: impl Into<String>) {
        let name = name.into();
        #[cfg(feature = "tracing")]
        self.header.span.record("name", name.as_str());
        self.header.lock().extra().name = Some(name);
    }

    /// Asks the task to cancel: the next tulip await point inside it returns
    /// `Err(Cancelled)`. Returns false if the task is already done.
    pub fn cancel(&self) -> bool {
        self.header.request_cancel(None)
    }

    /// [`cancel`](Self::cancel) with a message, carried by the `Cancelled` error.
    pub fn cancel_with(&self, msg: impl Into<String>) -> bool {
        self.header.request_cancel(Some(msg.into()))
    }

    /// How many cancel requests are outstanding (asyncio's `cancelling()`).
    pub fn cancelling(&self) -> u64 {
        u64::from(self.header.cancelling.load(Ordering::Relaxed))
    }

    /// Withdraws one cancel request (asyncio's `uncancel()`): decrements
    /// [`cancelling`](Self::cancelling) and returns the new count. When it reaches
    /// zero, a request nobody has taken yet is dropped too (as in Python 3.13), so
    /// a timeout scope that cancelled its own task leaves no stray cancel behind.
    pub fn uncancel(&self) -> u64 {
        u64::from(self.header.uncancel())
    }

    /// True when the task has finished (returned, raised or was cancelled).
    pub fn done(&self) -> bool {
        self.header.is_done()
    }

    /// True when the task finished cancelled.
    pub fn cancelled(&self) -> bool {
        self.header.state.load(Ordering::Acquire) == CANCELLED
    }

    /// True when the task finished by raising: its body returned an error that is not
    /// a cancellation, or panicked.
    pub fn failed(&self) -> bool {
        self.header.state.load(Ordering::Acquire) == FAILED
    }

    /// The error the task raised, `None` if it returned a value (asyncio's
    /// `exception()`). Can be read any number of times; reading it counts as
    /// retrieving it, so no "never retrieved" report follows.
    ///
    /// # Errors
    /// `InvalidState` if the task is not done; `Cancelled` if it was cancelled (as
    /// asyncio raises `CancelledError`).
    pub fn exception(&self) -> Result<Option<Error>> {
        match self.header.ending() {
            None => Err(Error::InvalidState("exception is not set")),
            Some(Ending::Returned) => Ok(None),
            Some(Ending::Cancelled(c)) => Err(Error::Cancelled(c)),
            Some(Ending::Raised(e)) => {
                self.header.flag(RETRIEVED);
                Ok(Some(e))
            }
        }
    }

    /// Schedules `cb` to run (each callback with its own `call_soon`, after the
    /// callbacks and awaiters registered before it) once the task is done; if it is
    /// done already, schedules it now.
    pub fn add_done_callback<F: FnOnce(&TaskRef) + Send + 'static>(&self, cb: F) {
        if let Err(entry) = self.header.add_entry(Box::new(cb)) {
            let lp = get_running_loop().ok();
            run_done_callback(self, entry, lp.as_ref().map(|lp| lp.backend()));
        }
    }

    /// Removes every done-callback not yet scheduled; returns how many were removed.
    /// (Closures have no identity in Rust, so this is asyncio's
    /// `remove_done_callback` for all of them at once.)
    pub fn clear_done_callbacks(&self) -> usize {
        self.header.clear_callbacks()
    }
}

/// Schedules a finished task's done-callbacks on `lp` and wakes its awaiter, in
/// registration order. A callback goes to the end of the ready queue with
/// `call_soon`; the awaiter is woken, which puts its next step at the end of the same
/// queue — the very place asyncio's `call_soon(task.__wakeup)` would run it. Without
/// a loop, callbacks run inline.
#[inline]
pub(crate) fn schedule_entries(
    task: &TaskRef,
    entries: Option<DoneList>,
    lp: Option<&dyn Backend>,
) {
    match entries.filter(|e| !e.is_empty()) {
        // The common case: no done-callback, at most an awaiter.
        None => task.header.awaiter.wake(),
        Some(entries) => schedule_callbacks(task, entries, lp),
    }
}

/// [`schedule_entries`] when there are done-callbacks.
fn schedule_callbacks(task: &TaskRef, mut entries: DoneList, lp: Option<&dyn Backend>) {
    let awaiter_id = task.header.awaiter_id.load(Ordering::Relaxed);
    let mut woken = false;
    for (id, cb) in entries.take() {
        if !woken && id > awaiter_id {
            task.header.awaiter.wake();
            woken = true;
        }
        run_done_callback(task, cb, lp);
    }
    if !woken {
        task.header.awaiter.wake();
    }
}

/// Schedules one done-callback on `lp` with `call_soon` (a closed loop refuses and
/// drops it, as asyncio's would); without a loop, runs it inline.
fn run_done_callback(task: &TaskRef, cb: DoneEntry, lp: Option<&dyn Backend>) {
    let t = task.clone();
    match lp {
        Some(lp) => {
            let _ = lp.call_soon(Callback::internal(move || cb(&t)));
        }
        None => cb(&t),
    }
}
