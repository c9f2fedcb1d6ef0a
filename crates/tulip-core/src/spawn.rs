//! Spawning tasks: `create_task`, `ensure_future`, `spawn_local`, and the loop's
//! view of its live tasks (`all_tasks`, `all_done`).
//!
//! Every task is allocated once with `async-task`: the cell holds the task's
//! [`Header`] as its metadata and the user's future wrapped in a [`TaskFuture`] (see
//! `task_future.rs` for the protocol it adds).

use std::future::Future;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::backend::{Runnable, Schedule};
use crate::error::{Error, Result};
use crate::event_loop::EventLoop;
use crate::header::{Header, HeaderPtr, HeaderRef, MainTask, TaskRef};
use crate::outcome::TaskError;
use crate::promise::Promise;
use crate::running::{get_running_loop, runs_here, with_running_loop};
use crate::task::Task;
use crate::task_future::TaskFuture;

/// Spawns `fut` on `lp` (Send futures, any thread); `site` is where the user spawned it.
#[inline]
pub(crate) fn spawn_on<F, T, E>(
    lp: &EventLoop,
    fut: F,
    site: &'static Location<'static>,
) -> Result<Task<T, E>>
where
    F: Future<Output = std::result::Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    if lp.is_closed() {
        return Err(Error::LoopClosed);
    }
    let sched = lp.backend_arc().into_schedule();
    let task_lp = lp.backend_arc();
    let (runnable, task) = async_task::Builder::new()
        .metadata(Header::new(lp.id(), site, Some(sched)))
        .spawn(
            move |header: &Header| TaskFuture::spawned(HeaderPtr::new(header), task_lp, fut),
            schedule_spawned,
        );
    Ok(launch(lp, runnable, task))
}

/// async-task's schedule function for a spawned `Send` task. It captures nothing:
/// async-task then hands a waker's own count to the step it schedules when the waker
/// is woken by value, where a schedule function with captures costs one more atomic
/// decrement on every such wake-up (async-task's `raw.rs`, `wake`). The executor is
/// in the task's header instead.
///
/// The executor must stay alive for the whole call, even when the call drops the step
/// and with it the task's last count (a closed loop refuses steps): that count may be
/// what keeps the header, and the `Arc` in it, alive. On a thread running this very
/// loop, the thread's running-loop slot holds the executor for the call. Anywhere
/// else, a clone of the task's key holds a count on the cell around the call, as
/// async-task itself does for a schedule function with captures.
#[allow(unsafe_code)]
fn schedule_spawned(r: Runnable) {
    let header = r.metadata();
    let Some(sched) = header.sched.as_ref() else {
        // Only spawned tasks use this function, and their header always has it.
        unreachable!("a spawned task's header names its executor");
    };
    let sched: *const dyn Schedule = Arc::as_ptr(sched);
    if runs_here(sched.cast()) {
        // SAFETY: this thread's running loop is this executor: the `EventLoop` in the
        // running-loop slot holds it for the whole call (a nested run inside a
        // destructor keeps the outer loop's handle until it restores it).
        unsafe { (*sched).schedule(r) }
    } else {
        // The header is alive here (`r` holds a count), so its key may be cloned.
        let keep = header.key().clone();
        // SAFETY: `keep` is a count on the task's cell until after the call, so the
        // header, its `Arc`, and through it the executor outlive the call.
        unsafe { (*sched).schedule(r) };
        drop(keep);
    }
}

/// Spawns a `!Send` future on `lp`; the current thread must be one that runs `lp`.
pub(crate) fn spawn_local_on<F, T, E>(
    lp: &EventLoop,
    fut: F,
    site: &'static Location<'static>,
) -> Result<Task<T, E>>
where
    F: Future<Output = std::result::Result<T, E>> + 'static,
    T: 'static,
    E: TaskError + 'static,
{
    if lp.is_closed() {
        return Err(Error::LoopClosed);
    }
    if !lp.backend().can_spawn_local() {
        return Err(Error::WrongThread);
    }
    let backend = lp.backend_arc();
    let home = backend.local_home();
    let task_lp = lp.backend_arc();
    let (runnable, task) = async_task::Builder::new()
        .metadata(Header::new(lp.id(), site, None))
        .spawn_local(
            move |header: &Header| TaskFuture::spawned(HeaderPtr::new(header), task_lp, fut),
            move |r| {
                if let Err(Error::LoopClosed) = backend.schedule_local_on(home, r) {
                    // Dropped by the backend on its own thread.
                }
            },
        );
    Ok(launch(lp, runnable, task))
}

/// Registers a new task with its loop and schedules its first step. The handle's
/// reference, and the loop's task registry until it lets the finished task go
/// (`task_registry.rs`), each hold a count on the task's one allocation (see
/// `HeaderRef`).
//
// Sets up the header's key and own count (`HeaderRef::launch`), which must happen
// once, before the task is shared: only here, right after async-task made it.
#[allow(unsafe_code)]
fn launch<T, E: TaskError>(
    lp: &EventLoop,
    runnable: Runnable,
    task: async_task::Task<std::result::Result<T, E>, Header>,
) -> Task<T, E> {
    // SAFETY: once, before the runnable is scheduled; only this thread has the
    // header so far.
    let me = TaskRef::from_header(unsafe { HeaderRef::launch(&runnable) });
    let common = lp.backend().common();
    if common.debug() {
        me.header.lock().extra().born = crate::introspect::clock_nanos();
    }
    common.track(&me.header);
    runnable.schedule();
    Task::new(me, task)
}

/// Spawns `fut` on the running loop (asyncio's `create_task` / `ensure_future`).
///
/// The body returns `Result<T, E>`; how it ends decides the task's state (see
/// [`TaskError`]): `Ok` is a result, a propagated cancel makes it cancelled, any
/// other error (or a panic) makes it raised.
///
/// # Errors
/// `NoRunningLoop` outside a running loop; `LoopClosed` if the loop is closed.
#[track_caller]
pub fn create_task<F, T, E>(fut: F) -> Result<Task<T, E>>
where
    F: Future<Output = std::result::Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    // Borrowing the running loop (not cloning a counted handle) keeps spawning cheap.
    let site = Location::caller();
    with_running_loop(|lp| spawn_on(lp, fut, site)).unwrap_or(Err(Error::NoRunningLoop))
}

/// Same as [`create_task`]: asyncio's older name.
///
/// # Errors
/// As [`create_task`].
#[track_caller]
pub fn ensure_future<F, T, E>(fut: F) -> Result<Task<T, E>>
where
    F: Future<Output = std::result::Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    create_task(fut)
}

/// Spawns a `!Send` future on the running loop, pinned to the current thread.
///
/// # Errors
/// `NoRunningLoop` outside a running loop; `WrongThread` if this thread cannot run the
/// loop's local tasks.
#[track_caller]
pub fn spawn_local<F, T, E>(fut: F) -> Result<Task<T, E>>
where
    F: Future<Output = std::result::Result<T, E>> + 'static,
    T: 'static,
    E: TaskError + 'static,
{
    spawn_local_on(&get_running_loop()?, fut, Location::caller())
}

/// A promise that is resolved once every task in `tasks` is done (at once if there
/// are none). Built on done-callbacks, so it resolves one loop iteration after the
/// last task finishes, as asyncio's `wait` does.
///
/// # Examples
/// ```
/// let lp = tulip::new_event_loop()?;
/// lp.run_until_complete(async {
///     let a = tulip::create_task(async { Ok::<_, tulip::Error>(1) })?;
///     let b = tulip::create_task(async { Ok::<_, tulip::Error>(2) })?;
///     tulip::all_done([a.task_ref(), b.task_ref()].iter()).await?;
///     assert!(a.done() && b.done());
///     Ok::<_, tulip::Error>(())
/// })?;
/// # Ok::<(), tulip::Error>(())
/// ```
pub fn all_done<'a>(tasks: impl IntoIterator<Item = &'a TaskRef>) -> Promise<()> {
    let pending: Vec<&TaskRef> = tasks.into_iter().filter(|t| !t.done()).collect();
    let all: Promise<()> = Promise::new();
    if pending.is_empty() {
        let _ = all.set_result(());
        return all;
    }
    let left = Arc::new(AtomicUsize::new(pending.len()));
    for t in pending {
        let (left, all) = (left.clone(), all.clone());
        t.add_done_callback(move |_| {
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                let _ = all.set_result(());
            }
        });
    }
    all
}

/// The not-yet-done tasks of the running loop (asyncio's `all_tasks()`).
///
/// # Errors
/// `NoRunningLoop` outside a running loop.
pub fn all_tasks() -> Result<Vec<TaskRef>> {
    Ok(get_running_loop()?.backend().common().live_tasks())
}

impl EventLoop {
    /// Wraps `fut` in a task scheduled on this loop.
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    #[track_caller]
    pub fn create_task<F, T, E>(&self, fut: F) -> Result<Task<T, E>>
    where
        F: Future<Output = std::result::Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: TaskError + Send + 'static,
    {
        spawn_on(self, fut, Location::caller())
    }

    /// Wraps a `!Send` future in a task pinned to the current thread.
    ///
    /// # Errors
    /// `LoopClosed` if closed; `WrongThread` if this thread cannot run the loop's
    /// local tasks (for the single-threaded loop: any thread but the one that created
    /// it).
    #[track_caller]
    pub fn create_local_task<F, T, E>(&self, fut: F) -> Result<Task<T, E>>
    where
        F: Future<Output = std::result::Result<T, E>> + 'static,
        T: 'static,
        E: TaskError + 'static,
    {
        spawn_local_on(self, fut, Location::caller())
    }
}

/// The main task of `run_until_complete` on `lp`: not spawned, so its header has an
/// allocation of its own.
pub(crate) fn main_task(lp: &EventLoop, site: &'static Location<'static>) -> MainTask {
    let header = Header::new(lp.id(), site, None);
    if lp.backend().common().debug() {
        header.lock().extra().born = crate::introspect::clock_nanos();
    }
    MainTask::new(header)
}

/// `schedule_spawned` without an executor, so that Miri can check that the executor
/// outlives a call that drops the task's last count
/// (`cargo +nightly miri test -p tulip-core --lib spawn`).
#[cfg(test)]
mod tests {
    use std::panic::Location;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::schedule_spawned;
    use crate::backend::{Runnable, Schedule};
    use crate::header::{Header, HeaderRef};

    /// An executor that refuses every step, as a closed loop does: it drops the step,
    /// then does its own bookkeeping. Raises `gone` when dropped.
    struct Refusing {
        refused: AtomicUsize,
        gone: Arc<AtomicBool>,
    }

    impl Schedule for Refusing {
        fn schedule(&self, r: Runnable) {
            drop(r);
            self.refused.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Drop for Refusing {
        fn drop(&mut self) {
            assert_eq!(self.refused.load(Ordering::SeqCst), 1);
            self.gone.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    #[allow(unsafe_code)]
    fn an_executor_that_drops_the_last_count_outlives_its_call() {
        let gone = Arc::new(AtomicBool::new(false));
        // The header holds the executor's only count (no `Weak` either, which would
        // keep its memory): a use after the cell is freed is a use after free.
        let sched: Arc<dyn Schedule> = Arc::new(Refusing {
            refused: AtomicUsize::new(0),
            gone: gone.clone(),
        });
        let (runnable, task) = async_task::Builder::new()
            .metadata(Header::new(1, Location::caller(), Some(sched)))
            .spawn(|_: &Header| async { 1u32 }, schedule_spawned);
        // SAFETY: once, before the runnable is scheduled.
        let me = unsafe { HeaderRef::launch(&runnable) };
        // The header's own count (the registry's, in a loop) given back, the
        // reference and the handle dropped: the step holds the task's last count.
        // SAFETY: the count `launch` gave the header, given up once.
        drop(unsafe { HeaderRef::adopt(me.ptr()) });
        drop(me);
        drop(task);
        assert!(!gone.load(Ordering::SeqCst));
        // No loop runs on this thread: the key's count holds the cell, and through
        // it the executor, for the whole call, in which the step is dropped.
        runnable.schedule();
        // Then the cell went, and the executor, which only its header held.
        assert!(gone.load(Ordering::SeqCst));
    }
}
