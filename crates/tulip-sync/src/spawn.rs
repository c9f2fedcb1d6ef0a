//! A task spawned when the API is called (`shield`, as asyncio's `ensure_future`), or
//! at the first poll — when no loop is running yet (so that
//! `lp.run_until_complete(shield(fut))` works), or always for `wait_for`, which asyncio
//! runs as a coroutine: nothing starts before it is awaited.

use std::future::Future;

use tulip_core::{get_running_loop, Error, Task, TaskError};

type Deferred<T, E> = Box<dyn FnOnce() -> tulip_core::Result<Task<T, E>> + Send>;

pub(crate) enum Spawn<T, E> {
    Task(Task<T, E>),
    Deferred(Deferred<T, E>),
    Failed(Error),
    Gone,
}

impl<T, E> std::fmt::Debug for Spawn<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spawn::Task(t) => t.fmt(f),
            Spawn::Deferred(_) => f.write_str("Deferred"),
            Spawn::Failed(e) => write!(f, "Failed({e})"),
            Spawn::Gone => f.write_str("Gone"),
        }
    }
}

impl<T: Send + 'static, E: TaskError + Send + 'static> Spawn<T, E> {
    pub(crate) fn new<F>(fut: F) -> Spawn<T, E>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        if get_running_loop().is_err() {
            return Spawn::Deferred(Box::new(move || tulip_core::create_task(fut)));
        }
        Spawn::from_result(tulip_core::create_task(fut))
    }

    /// Spawns `fut` at the first poll, on the loop that polls (asyncio's coroutine
    /// functions, like `wait_for`, start their work only when awaited).
    pub(crate) fn lazy<F>(fut: F) -> Spawn<T, E>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        Spawn::Deferred(Box::new(move || tulip_core::create_task(fut)))
    }
}

impl<T, E> Spawn<T, E> {
    fn from_result(r: tulip_core::Result<Task<T, E>>) -> Spawn<T, E> {
        match r {
            Ok(t) => Spawn::Task(t),
            Err(e) => Spawn::Failed(e),
        }
    }

    /// The task, spawning it now if it was deferred.
    pub(crate) fn get(&mut self) -> tulip_core::Result<&mut Task<T, E>> {
        if let Spawn::Deferred(_) = self {
            let Spawn::Deferred(spawn) = std::mem::replace(self, Spawn::Gone) else {
                unreachable!()
            };
            *self = Spawn::from_result(spawn());
        }
        match std::mem::replace(self, Spawn::Gone) {
            Spawn::Failed(e) => Err(e),
            Spawn::Gone => Err(Error::InvalidState("future polled after completion")),
            Spawn::Task(t) => {
                *self = Spawn::Task(t);
                let Spawn::Task(t) = self else { unreachable!() };
                Ok(t)
            }
            Spawn::Deferred(_) => unreachable!(),
        }
    }

    /// The task if it exists.
    pub(crate) fn task(&self) -> Option<&Task<T, E>> {
        match self {
            Spawn::Task(t) => Some(t),
            _ => None,
        }
    }
}

/// Lets go of a child whose outcome nobody will read, as asyncio's `gather` and
/// `shield` do: its exception counts as retrieved (no "Task exception was never
/// retrieved" report). The handle lives in the task's done-callback until then.
pub(crate) fn retire<T, E>(task: Task<T, E>)
where
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    let r = (*task).clone();
    r.add_done_callback(move |t| {
        let _ = t.exception();
        drop(task);
    });
}

/// [`retire`] for handles that cannot move to another thread (local tasks): a small
/// local task awaits the child, which retrieves its outcome. Without a running loop
/// on this thread, a finished child is marked retrieved and an unfinished one is
/// detached.
pub(crate) fn retire_local<T: 'static, E: TaskError + 'static>(task: Task<T, E>) {
    if task.done() {
        let _ = task.exception();
        return;
    }
    let r = (*task).clone();
    if tulip_core::spawn_local(async move {
        let _ = task.await;
        Ok::<_, Error>(())
    })
    .is_err()
    {
        let _ = r.exception();
    }
}
