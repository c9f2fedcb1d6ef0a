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

use crate::backend::Runnable;
use crate::error::{Error, Result};
use crate::event_loop::EventLoop;
use crate::header::{Header, HeaderPtr, HeaderRef, MainTask, TaskRef};
use crate::outcome::TaskError;
use crate::promise::Promise;
use crate::running::{get_running_loop, with_running_loop};
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
    let backend = lp.backend_arc();
    let task_lp = lp.backend_arc();
    let (runnable, task) = async_task::Builder::new()
        .metadata(Header::new(lp.id(), site))
        .spawn(
            move |header: &Header| TaskFuture::spawned(HeaderPtr::new(header), task_lp, fut),
            move |r| backend.schedule(r),
        );
    Ok(launch(lp, runnable, task))
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
        .metadata(Header::new(lp.id(), site))
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
    let header = Header::new(lp.id(), site);
    if lp.backend().common().debug() {
        header.lock().extra().born = crate::introspect::clock_nanos();
    }
    MainTask::new(header)
}
