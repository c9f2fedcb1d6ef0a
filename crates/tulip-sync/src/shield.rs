//! `shield`: await a task without passing a cancel on to it.
//!
//! Awaiting a `Task` normally forwards the awaiting task's cancel to it (asyncio
//! semantics). A [`Shield`] takes the cancel request itself first: the awaiter gets
//! `Err(Cancelled)` at once and the inner task keeps running.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tulip_core::{take_cancel, Task, TaskError, TaskRef};

use crate::spawn::Spawn;

/// Runs `fut` as a task and awaits it, protected from cancellation (asyncio's
/// `shield`).
///
/// Output: the task's result (an inner task that ended cancelled gives
/// `Err(Cancelled)`); `Err(Cancelled)` if the *awaiting* task was cancelled — the
/// inner task is not, and keeps running, detached (keep a [`Shield::task`] reference
/// to watch it; an error it raises later is reported as never retrieved, as in
/// asyncio 3.11).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let outer = tulip::create_task(async {
///         let s = tulip::shield(tulip::sleep(Duration::from_millis(20)));
///         let inner = s.task().unwrap();
///         Ok::<_, tulip::Error>((s.await, inner))
///     })?;
///     tulip::sleep(Duration::from_millis(5)).await?;
///     outer.cancel();
///     let (r, inner) = outer.await?;
///     assert!(r.unwrap_err().is_cancelled());
///     assert!(!inner.cancelled()); // still running
///     Ok::<_, tulip::Error>(())
/// })?;
/// # Ok::<(), tulip::Error>(())
/// ```
///
/// # Cancel safety
/// That is its purpose: neither a cancel nor dropping the `Shield` stops the task.
pub fn shield<F, T, E>(fut: F) -> Shield<T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    Shield {
        task: Spawn::new(fut),
    }
}

/// [`shield`] for a task that already exists.
pub fn shield_task<T, E>(task: Task<T, E>) -> Shield<T, E> {
    Shield {
        task: Spawn::Task(task),
    }
}

/// The future of [`shield`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Shield<T, E = tulip_core::Error> {
    task: Spawn<T, E>,
}

impl<T, E> Shield<T, E> {
    /// The protected task (`None` if it is not spawned: no loop was running when
    /// `shield` was called, or spawning failed).
    pub fn task(&self) -> Option<TaskRef> {
        self.task.task().map(|t| (**t).clone())
    }
}

impl<T, E> Unpin for Shield<T, E> {}

impl<T, E: TaskError> Future for Shield<T, E> {
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(c) = take_cancel() {
            // The handle is dropped: the task is detached, and an error it raises
            // later is reported as never retrieved — as asyncio 3.11's shield, whose
            // outer done-callback removes the inner one that would retrieve it.
            this.task = Spawn::Gone;
            return Poll::Ready(Err(E::from(c.into())));
        }
        match this.task.get() {
            Ok(t) => Pin::new(t).poll(cx),
            Err(e) => Poll::Ready(Err(E::from(e))),
        }
    }
}
