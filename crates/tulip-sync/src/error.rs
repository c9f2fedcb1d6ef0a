//! The crate's errors, with asyncio's names.
//!
//! Cancellation and timeouts are [`tulip::Error`](tulip_core::Error) (`Cancelled`,
//! `TimeoutError`): functions that can fail only that way return
//! [`tulip::Result`](tulip_core::Result). The queues and locks add their own failures
//! in [`Error`], which carries a core error in [`Error::Core`]. Both convert into each
//! other's direction that matters: `?` turns a core error into [`Error`], and an
//! [`Error`] into a `tulip::Error` (so `q.get().await?` works in a function returning
//! `tulip::Result`).

use std::fmt;
use std::sync::Arc;

use tulip_core::Cancelled;

/// Errors of the locks and queues (asyncio's exception names).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// asyncio.QueueFull: `put_nowait` on a full queue. ([`PutError::Full`] hands the
    /// item back; this variant is what it becomes once the item is dropped.)
    #[error("queue is full")]
    QueueFull,
    /// asyncio.QueueEmpty: `get_nowait` on an empty queue.
    #[error("queue is empty")]
    QueueEmpty,
    /// asyncio.QueueShutDown: the queue was shut down.
    #[error("queue is shut down")]
    QueueShutDown,
    /// asyncio.BrokenBarrier: the barrier was aborted or reset while waiting.
    #[error("barrier is broken")]
    BrokenBarrier,
    /// asyncio's ValueError: a `BoundedSemaphore` released too often, `task_done`
    /// called more times than items were put.
    #[error("value error: {0}")]
    ValueError(&'static str),
    /// asyncio's RuntimeError: a primitive used the wrong way (a guard of another lock,
    /// a timeout scope entered twice).
    #[error("runtime error: {0}")]
    RuntimeError(&'static str),
    /// Cancellation, timeout or another loop error from tulip-core.
    #[error(transparent)]
    Core(#[from] tulip_core::Error),
}

impl Error {
    /// True when this is a cancellation (`Core(Cancelled)`).
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Core(e) if e.is_cancelled())
    }
}

impl tulip_core::TaskError for Error {
    fn as_tulip(&self) -> Option<&tulip_core::Error> {
        match self {
            Error::Core(e) => Some(e),
            _ => None,
        }
    }

    fn to_shared(&self) -> tulip_core::Error {
        self.clone().into()
    }
}

impl From<Cancelled> for Error {
    fn from(c: Cancelled) -> Self {
        Error::Core(tulip_core::Error::Cancelled(c))
    }
}

impl From<Error> for tulip_core::Error {
    /// A core error comes back out as itself; the others become
    /// `tulip::Error::Exception`.
    fn from(e: Error) -> Self {
        match e {
            Error::Core(e) => e,
            other => tulip_core::Error::Exception(Arc::new(other)),
        }
    }
}

/// Why a `put` failed; every variant hands the item back.
///
/// Convert it with `?` into [`Error`] (or `tulip::Error`) to drop the item.
#[derive(Clone, PartialEq, Eq)]
pub enum PutError<T> {
    /// asyncio.QueueFull: `put_nowait` on a full queue.
    Full(T),
    /// asyncio.QueueShutDown: the queue was shut down.
    ShutDown(T),
    /// The task waiting in `put` was cancelled; the item was not put.
    Cancelled(T, Cancelled),
}

impl<T> PutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(t) | PutError::ShutDown(t) | PutError::Cancelled(t, _) => t,
        }
    }

    /// The error without the item.
    pub fn error(&self) -> Error {
        match self {
            PutError::Full(_) => Error::QueueFull,
            PutError::ShutDown(_) => Error::QueueShutDown,
            PutError::Cancelled(_, c) => Error::from(c.clone()),
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error(), f)
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error(), f)
    }
}

impl<T> std::error::Error for PutError<T> {}

impl<T> From<PutError<T>> for Error {
    fn from(e: PutError<T>) -> Self {
        e.error()
    }
}

impl<T> From<PutError<T>> for tulip_core::Error {
    fn from(e: PutError<T>) -> Self {
        e.error().into()
    }
}

/// How a [`TaskGroup`](crate::TaskGroup) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskGroupError<E> {
    /// asyncio's ExceptionGroup: every error of the children (and of the body), in the
    /// order they happened.
    Failed(Vec<E>),
    /// The task running the group was cancelled from outside (and nothing failed).
    Cancelled(Cancelled),
}

impl<E> TaskGroupError<E> {
    /// The collected errors (empty for `Cancelled`).
    pub fn errors(&self) -> &[E] {
        match self {
            TaskGroupError::Failed(v) => v,
            TaskGroupError::Cancelled(_) => &[],
        }
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskGroupError::Cancelled(c) => write!(f, "task group {c}"),
            TaskGroupError::Failed(errs) => {
                let n = errs.len();
                write!(f, "unhandled errors in a task group ({n} sub-error")?;
                f.write_str(if n == 1 { ")" } else { "s)" })?;
                for e in errs {
                    write!(f, "; {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}

impl<E> From<TaskGroupError<E>> for tulip_core::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    /// `Cancelled` stays a cancellation; `Failed` becomes `Exception(group)`.
    fn from(e: TaskGroupError<E>) -> Self {
        match e {
            TaskGroupError::Cancelled(c) => tulip_core::Error::Cancelled(c),
            failed => tulip_core::Error::Exception(Arc::new(failed)),
        }
    }
}

impl<E: tulip_core::TaskError> From<tulip_core::Error> for TaskGroupError<E> {
    /// A cancellation becomes `Cancelled`; any other error a one-error `Failed`.
    fn from(e: tulip_core::Error) -> Self {
        match e {
            tulip_core::Error::Cancelled(c) => TaskGroupError::Cancelled(c),
            other => TaskGroupError::Failed(vec![E::from(other)]),
        }
    }
}

/// A group's result can be a task's: `create_task(TaskGroup::run(..))` ends cancelled
/// when the group was cancelled, raised when it failed.
impl<E: tulip_core::TaskError> tulip_core::TaskError for TaskGroupError<E> {
    fn as_tulip(&self) -> Option<&tulip_core::Error> {
        None
    }

    fn to_shared(&self) -> tulip_core::Error {
        match self {
            TaskGroupError::Cancelled(c) => tulip_core::Error::Cancelled(c.clone()),
            TaskGroupError::Failed(errs) => tulip_core::Error::Exception(Arc::new(
                TaskGroupError::Failed(errs.iter().map(|e| e.to_shared()).collect()),
            )),
        }
    }

    fn as_cancelled(&self) -> Option<&Cancelled> {
        match self {
            TaskGroupError::Cancelled(c) => Some(c),
            TaskGroupError::Failed(_) => None,
        }
    }
}
