//! `TaskRef`: a shareable, untyped reference to a task — identity, state, how it
//! ended, cancel, done-callbacks. What done-callbacks receive and what
//! [`current_task`](crate::current_task) returns.

use std::fmt;
use std::sync::atomic::Ordering;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::handle::Callback;
use crate::header::{
    DoneEntry, DoneList, Header, TaskRef, Waiting, BATCHES, CANCELLED, DETACHED, FAILED, RAISED,
    RETRIEVED,
};
use crate::outcome::Ending;
use crate::running::get_running_loop;
use crate::task::report_unretrieved;

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
        u64::from(self.header.cancelling())
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
            let lp = lp.as_ref().map(|lp| lp.backend());
            // Done already. If it raised, the callback may retrieve the exception:
            // no report until it ran (see `BatchEnd`).
            let batch = self.failed().then(|| BatchEnd::begin(self, 0));
            run_done_callback(self, entry, lp, batch);
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
    // `None`, the common case: nothing was registered.
    if let Some(entries) = entries {
        queue_callbacks(task, entries, lp, None);
    }
}

/// [`schedule_entries`] for a spawned task that raised, with done-callbacks: they are
/// a batch (see [`CALLBACK_BATCH`](crate::header::CALLBACK_BATCH)), which the last
/// of them ends once it ran.
pub(crate) fn schedule_raised_callbacks(task: &TaskRef, entries: DoneList, lp: &dyn Backend) {
    let batch = BatchEnd::begin(task, RAISED);
    queue_callbacks(task, entries, Some(lp), Some(batch));
}

/// Queues the callbacks and wakes the awaiter, each at its place; `batch` goes with
/// the last callback.
fn queue_callbacks(
    task: &TaskRef,
    mut entries: DoneList,
    lp: Option<&dyn Backend>,
    mut batch: Option<BatchEnd>,
) {
    let mut calls_left = entries
        .iter()
        .filter(|w| matches!(w, Waiting::Call(..)))
        .count();
    for entry in entries.take() {
        match entry {
            Waiting::Wake(w) => w.wake(),
            Waiting::Call(cb) => {
                calls_left -= 1;
                let batch = if calls_left == 0 { batch.take() } else { None };
                run_done_callback(task, cb, lp, batch);
            }
        }
    }
    drop(batch);
}

/// The end of a batch of a raised task's done-callbacks, carried by the last of them:
/// dropped once it ran (or unrun, by a closed loop that refused or dropped it), it
/// lowers the batch count, and if that was the last batch in flight, nobody retrieved
/// the exception and the handle is gone, reports it. One of those callbacks may
/// retrieve it (a `TaskGroup`'s does); asyncio reports when the task is collected,
/// after its callbacks ran.
struct BatchEnd(TaskRef);

impl BatchEnd {
    /// Counts a batch in flight, setting `bits` with it.
    fn begin(task: &TaskRef, bits: u32) -> BatchEnd {
        task.header.begin_batch(bits);
        BatchEnd(task.clone())
    }
}

impl Drop for BatchEnd {
    fn drop(&mut self) {
        let now = self.0.header.end_batch();
        if now & (BATCHES | RAISED | RETRIEVED | DETACHED) == RAISED | DETACHED
            && !std::thread::panicking()
            && self.0.header.claim_report()
        {
            report_unretrieved(&self.0);
        }
    }
}

/// Schedules one done-callback on `lp` with `call_soon` (a closed loop refuses and
/// drops it, as asyncio's would); without a loop, runs it inline. `batch` is dropped
/// once the callback ran, or with it.
fn run_done_callback(
    task: &TaskRef,
    cb: DoneEntry,
    lp: Option<&dyn Backend>,
    batch: Option<BatchEnd>,
) {
    let t = task.clone();
    let run = move || {
        // A panicking callback still ends its batch (and may report), then the
        // panic goes on to the loop's "Exception in callback".
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cb(&t)));
        drop(batch);
        if let Err(payload) = ran {
            std::panic::resume_unwind(payload);
        }
    };
    match lp {
        Some(lp) => {
            let _ = lp.call_soon(Callback::internal(run));
        }
        None => run(),
    }
}
