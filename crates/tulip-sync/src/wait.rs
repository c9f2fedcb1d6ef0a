//! `wait` (done and pending sets) and `as_completed` (a stream in completion order).
//!
//! Design: `wait` learns of completions through each task's done-callback, as
//! asyncio's does, so the results stay inside the `Task` handles it hands back. The
//! callbacks push the task's index into a shared list and wake the waiter; indices
//! are de-duplicated, so a task seen done at the first poll and by its callback counts
//! once. `as_completed` polls the tasks in a `FuturesUnordered`, which yields them in
//! the order they finish.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures::stream::FuturesUnordered;
use futures::{Stream, StreamExt};
use tulip_core::{sleep_until, take_cancel, Error, Sleep, Task};

use crate::locks::lock;

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task is done.
    FirstCompleted,
    /// As soon as any task fails, or when all are done. A task *fails* when it ends
    /// with an error of its own — it panicked (`TaskRef::failed`). A cancelled task
    /// does not count (as in asyncio), and neither does a task that *returned* an
    /// `Err` value: for the loop that task completed; use [`gather`](fn@crate::gather)
    /// to stop at the first `Err`.
    FirstException,
    /// When every task is done.
    #[default]
    AllCompleted,
}

#[derive(Default)]
struct Finished {
    indices: Vec<usize>,
    waker: Option<Waker>,
}

/// Waits for `tasks` until `return_when` holds (or the [`Wait::timeout`] passes) and
/// returns `(done, pending)` (asyncio's `asyncio.wait`).
///
/// `done` is in completion order, `pending` in input order; the results stay in the
/// tasks (`task.await` on a done task returns at once; `try_result()` also works).
/// Tasks are never cancelled by `wait`.
///
/// Output: `Ok((done, pending))`; `Err(Cancelled)` if the awaiting task was cancelled
/// (the tasks keep running, detached); `Err(InvalidState)` for an empty list, as
/// asyncio raises ValueError.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use tulip_sync::{wait, ReturnWhen};
/// let lp = tulip_local::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let fast = tulip_core::create_task(async { 1 })?;
///     let slow = tulip_core::create_task(tulip_core::sleep(Duration::from_secs(10)))?;
///     let (done, pending) = wait(vec![fast], ReturnWhen::AllCompleted).await?;
///     assert_eq!(done.len(), 1);
///     assert!(pending.is_empty());
///     let (done, pending) = wait(vec![slow], ReturnWhen::AllCompleted)
///         .timeout(Duration::from_millis(10))
///         .await?;
///     assert_eq!((done.len(), pending.len()), (0, 1));
///     pending[0].cancel();
///     Ok::<_, tulip_core::Error>(())
/// })??;
/// # Ok::<(), tulip_core::Error>(())
/// ```
///
/// # Cancel safety
/// Cancel safe for the tasks: they keep running whatever happens to the `Wait`.
pub fn wait<T, I>(tasks: I, return_when: ReturnWhen) -> Wait<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    let tasks: Vec<_> = tasks.into_iter().map(Some).collect();
    Wait {
        seen: vec![false; tasks.len()],
        tasks,
        return_when,
        deadline: None,
        sleep: None,
        shared: Arc::default(),
        done_order: Vec::new(),
        started: false,
    }
}

/// The future of [`wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    tasks: Vec<Option<Task<T>>>,
    seen: Vec<bool>,
    return_when: ReturnWhen,
    deadline: Option<Instant>,
    sleep: Option<Sleep>,
    shared: Arc<Mutex<Finished>>,
    done_order: Vec<usize>,
    started: bool,
}

impl<T> std::fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.tasks.len())
            .field("done", &self.done_order.len())
            .field("return_when", &self.return_when)
            .finish()
    }
}

impl<T> Wait<T> {
    /// Returns whatever is done after `timeout` (measured from this call), even if
    /// `return_when` does not hold yet (asyncio's `timeout=`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Some(Instant::now() + timeout);
        self
    }

    fn start(&mut self) {
        self.started = true;
        for (i, t) in self.tasks.iter().flatten().enumerate() {
            if t.done() {
                self.seen[i] = true;
                self.done_order.push(i);
                continue;
            }
            let shared = self.shared.clone();
            t.add_done_callback(move |_| {
                let mut f = lock(&shared);
                f.indices.push(i);
                if let Some(w) = f.waker.take() {
                    w.wake();
                }
            });
        }
    }

    fn satisfied(&self) -> bool {
        if self.done_order.len() == self.tasks.len() {
            return true;
        }
        match self.return_when {
            ReturnWhen::FirstCompleted => !self.done_order.is_empty(),
            ReturnWhen::FirstException => self
                .done_order
                .iter()
                .any(|&i| self.tasks[i].as_ref().is_some_and(|t| t.failed())),
            ReturnWhen::AllCompleted => false,
        }
    }

    fn split(&mut self) -> (Vec<Task<T>>, Vec<Task<T>>) {
        let done = self
            .done_order
            .iter()
            .filter_map(|&i| self.tasks[i].take())
            .collect();
        let pending = self.tasks.iter_mut().filter_map(Option::take).collect();
        (done, pending)
    }
}

impl<T> Unpin for Wait<T> {}

impl<T> Future for Wait<T> {
    type Output = tulip_core::Result<(Vec<Task<T>>, Vec<Task<T>>)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(c) = take_cancel() {
            return Poll::Ready(Err(c.into()));
        }
        if this.tasks.is_empty() {
            return Poll::Ready(Err(Error::InvalidState("wait() needs at least one task")));
        }
        if !this.started {
            this.start();
        }
        {
            let mut f = lock(&this.shared);
            for i in f.indices.drain(..) {
                if !std::mem::replace(&mut this.seen[i], true) {
                    this.done_order.push(i);
                }
            }
            f.waker = Some(cx.waker().clone());
        }
        if this.satisfied() {
            return Poll::Ready(Ok(this.split()));
        }
        if let Some(deadline) = this.deadline {
            let sleep = this.sleep.get_or_insert_with(|| sleep_until(deadline));
            match Pin::new(sleep).poll(cx) {
                Poll::Ready(Ok(())) => return Poll::Ready(Ok(this.split())),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }
}

/// The tasks' results as a `futures::Stream`, in the order they finish (asyncio's
/// `as_completed`).
///
/// Each item is what awaiting the task gives: `Ok(value)`, or the task's own error
/// (`Cancelled`, `Panicked`). If the consuming task is cancelled while waiting for the
/// next item, the stream yields `Err(Cancelled)` once (the tasks keep running).
/// Bound the whole iteration with [`timeout`](crate::timeout).
///
/// # Examples
/// ```
/// use futures::StreamExt;
/// use std::time::Duration;
/// let lp = tulip_local::new_event_loop().unwrap();
/// let order = lp.run_until_complete(async {
///     let mut tasks = Vec::new();
///     for n in [30u64, 10, 20] {
///         tasks.push(tulip_core::create_task(async move {
///             tulip_core::sleep(Duration::from_millis(n)).await.map(|_| n)
///         })?);
///     }
///     let mut order = Vec::new();
///     let mut s = tulip_sync::as_completed(tasks);
///     while let Some(r) = s.next().await {
///         order.push(r??);
///     }
///     Ok::<_, tulip_core::Error>(order)
/// })??;
/// assert_eq!(order, [10, 20, 30]);
/// # Ok::<(), tulip_core::Error>(())
/// ```
pub fn as_completed<T, I>(tasks: I) -> AsCompleted<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    AsCompleted {
        running: tasks.into_iter().collect(),
    }
}

/// The stream of [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<T> {
    running: FuturesUnordered<Task<T>>,
}

impl<T> std::fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("running", &self.running.len())
            .finish()
    }
}

impl<T> Stream for AsCompleted<T> {
    type Item = tulip_core::Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.running.is_empty() {
            return Poll::Ready(None);
        }
        if let Some(c) = take_cancel() {
            return Poll::Ready(Some(Err(c.into())));
        }
        this.running.poll_next_unpin(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.running.len(), Some(self.running.len()))
    }
}
