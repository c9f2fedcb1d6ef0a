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
use tulip_core::{sleep_until, take_cancel, Error, Sleep, Task, TaskError};

use crate::locks::lock;

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task is done.
    FirstCompleted,
    /// As soon as any task *raises* — its body returned an error that is not a
    /// cancellation, or panicked (`TaskRef::failed`) — or when all are done. A
    /// cancelled task does not count (as in asyncio).
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
/// (the tasks keep running, detached); `Err(InvalidArgument)` for an empty list, as
/// asyncio raises ValueError.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use tulip::{wait, ReturnWhen};
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let fast = tulip::create_task(async { Ok::<_, tulip::Error>(()) })?;
///     let slow = tulip::create_task(tulip::sleep(Duration::from_secs(10)))?;
///     let (done, pending) = wait(vec![fast], ReturnWhen::AllCompleted).await?;
///     assert_eq!(done.len(), 1);
///     assert!(pending.is_empty());
///     let (done, pending) = wait(vec![slow], ReturnWhen::AllCompleted)
///         .timeout(Duration::from_millis(10))
///         .await?;
///     assert_eq!((done.len(), pending.len()), (0, 1));
///     pending[0].cancel();
///     Ok::<_, tulip::Error>(())
/// })?;
/// # Ok::<(), tulip::Error>(())
/// ```
///
/// # Cancel safety
/// Cancel safe for the tasks: they keep running whatever happens to the `Wait`.
pub fn wait<T, E, I>(tasks: I, return_when: ReturnWhen) -> Wait<T, E>
where
    I: IntoIterator<Item = Task<T, E>>,
{
    let tasks: Vec<_> = tasks.into_iter().map(Some).collect();
    Wait {
        seen: vec![false; tasks.len()],
        tasks,
        return_when,
        deadline: None,
        delay: None,
        sleep: None,
        shared: Arc::default(),
        done_order: Vec::new(),
        started: false,
    }
}

/// The future of [`wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T, E = Error> {
    tasks: Vec<Option<Task<T, E>>>,
    seen: Vec<bool>,
    return_when: ReturnWhen,
    deadline: Option<Instant>,
    /// The timeout, until the first poll turns it into `deadline`.
    delay: Option<Duration>,
    sleep: Option<Sleep>,
    shared: Arc<Mutex<Finished>>,
    done_order: Vec<usize>,
    started: bool,
}

impl<T, E> std::fmt::Debug for Wait<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.tasks.len())
            .field("done", &self.done_order.len())
            .field("return_when", &self.return_when)
            .finish()
    }
}

impl<T, E> Wait<T, E> {
    /// Returns whatever is done after `timeout`, even if `return_when` does not
    /// hold yet (asyncio's `timeout=`). The timeout counts from the first poll (as
    /// asyncio's `wait` is a coroutine), on the running loop's clock.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.delay = Some(timeout);
        self
    }

    fn start(&mut self) {
        self.started = true;
        if let Some(d) = self.delay.take() {
            self.deadline = Some(tulip_core::deadline_after(d));
        }
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

    fn split(&mut self) -> Split<T, E> {
        let done = self
            .done_order
            .iter()
            .filter_map(|&i| self.tasks[i].take())
            .collect();
        let pending = self.tasks.iter_mut().filter_map(Option::take).collect();
        (done, pending)
    }
}

/// `(done, pending)`.
type Split<T, E> = (Vec<Task<T, E>>, Vec<Task<T, E>>);

impl<T, E> Unpin for Wait<T, E> {}

impl<T, E> Future for Wait<T, E> {
    type Output = tulip_core::Result<Split<T, E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(c) = take_cancel() {
            return Poll::Ready(Err(c.into()));
        }
        if this.tasks.is_empty() {
            return Poll::Ready(Err(Error::InvalidArgument("set of awaitables is empty")));
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
/// Each item is what awaiting the task gives: `Ok(value)`, the error it raised
/// (`Panicked` for a panic), or — for a task that ended cancelled — an `E` holding its
/// `Cancelled` (asyncio raises `CancelledError` for it). If the consuming task is
/// cancelled while waiting for the next item, the stream yields `Err(Cancelled)` once
/// (the tasks keep running).
/// Bound the whole iteration with [`timeout`](crate::timeout).
///
/// # Examples
/// ```
/// use futures::StreamExt;
/// use std::time::Duration;
/// let lp = tulip::new_event_loop().unwrap();
/// let order = lp.run_until_complete(async {
///     let mut tasks = Vec::new();
///     for n in [30u64, 10, 20] {
///         tasks.push(tulip::create_task(async move {
///             tulip::sleep(Duration::from_millis(n)).await.map(|_| n)
///         })?);
///     }
///     let mut order = Vec::new();
///     let mut s = tulip::as_completed(tasks);
///     while let Some(r) = s.next().await {
///         order.push(r?);
///     }
///     Ok::<_, tulip::Error>(order)
/// })?;
/// assert_eq!(order, [10, 20, 30]);
/// # Ok::<(), tulip::Error>(())
/// ```
pub fn as_completed<T, E, I>(tasks: I) -> AsCompleted<T, E>
where
    I: IntoIterator<Item = Task<T, E>>,
{
    AsCompleted {
        running: tasks.into_iter().collect(),
    }
}

/// The stream of [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<T, E = Error> {
    running: FuturesUnordered<Task<T, E>>,
}

impl<T, E> std::fmt::Debug for AsCompleted<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsCompleted")
            .field("running", &self.running.len())
            .finish()
    }
}

impl<T, E: TaskError> Stream for AsCompleted<T, E> {
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.running.is_empty() {
            return Poll::Ready(None);
        }
        if let Some(c) = take_cancel() {
            return Poll::Ready(Some(Err(E::from(c.into()))));
        }
        this.running.poll_next_unpin(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.running.len(), Some(self.running.len()))
    }
}
