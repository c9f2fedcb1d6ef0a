//! `TaskGroup`: structured concurrency (asyncio 3.11's `async with TaskGroup() as tg`).
//!
//! Rust has no async drop, so the group is a scope: [`TaskGroup::run`] takes the body
//! as a closure receiving the group, runs it in the current task, then waits for every
//! child. The body's `?` cannot skip the wait.
//!
//! Rules (asyncio 3.11's):
//! - Each child reports its end to the group through a done-callback, so the group
//!   hears of it one loop iteration after the child finished, in completion order.
//! - A child that *raised* (returned an error that is not a cancellation, or panicked)
//!   has its error collected; the first one cancels every other child and, if the body
//!   is still running, the task running the body. Every child that fails before the
//!   siblings' cancellation reaches them is reported too. A child that ended
//!   *cancelled* is not an error and cancels nothing.
//! - The group resolves to `TaskGroupError::Failed(errors)`: the children's errors in
//!   completion order, then the body's own error.
//! - A cancel of the task running the group (from outside) cancels the children; once
//!   they finished, the group resolves to `TaskGroupError::Cancelled` (unless something
//!   failed: errors win, as in asyncio). The group's own cancel of the body is
//!   withdrawn (`uncancel`) and swallowed.
//! - Leaving the group waits until every child is done — on every executor, since the
//!   group waits for the children's done-callbacks; afterwards `create_task` fails.
//!
//! Cancelled or raised is what the children's and the body's `Result`s say (see
//! [`TaskError`]): a propagated cancel is a cancellation, any other error is raised.
//!
//! Design: the group state (the children not yet reported done, errors, flags, the
//! scope's waker) sits behind one mutex. A child that raises keeps its own `E` for the
//! group (the error list gets the original) and ends raised with a shared copy, which
//! is what its `Task` handle gives.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tulip_core::{current_task, take_cancel, Cancelled, Error, Task, TaskError, TaskRef};

use crate::error::TaskGroupError;
use crate::locks::lock;

struct GroupState<E> {
    /// Children whose done-callback has not run yet.
    tasks: HashMap<u64, TaskRef>,
    errors: Vec<E>,
    aborting: bool,
    /// The body has finished: the group is waiting for its children.
    exiting: bool,
    /// The group has resolved (or its future was dropped).
    closed: bool,
    parent: Option<TaskRef>,
    body_running: bool,
    parent_cancel_requested: bool,
    waker: Option<Waker>,
}

/// A group of tasks that succeed or fail together; see [`TaskGroup::run`].
///
/// The handle is cheap to clone; the body and the children can keep clones to create
/// more children.
pub struct TaskGroup<E> {
    inner: Arc<Mutex<GroupState<E>>>,
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            inner: self.inner.clone(),
        }
    }
}

impl<E> std::fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.inner);
        f.debug_struct("TaskGroup")
            .field("tasks", &st.tasks.len())
            .field("errors", &st.errors.len())
            .field("aborting", &st.aborting)
            .finish()
    }
}

impl<E: TaskError + Send + 'static> TaskGroup<E> {
    /// Runs `body` with a new group, then waits for every child the body (or a child)
    /// created.
    ///
    /// Output: the body's value when nothing failed;
    /// `Err(TaskGroupError::Failed(errors))` with every child's (and the body's) error;
    /// `Err(TaskGroupError::Cancelled)` when the task running the group was cancelled.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use tulip::{TaskGroup, TaskGroupError};
    /// let lp = tulip::new_event_loop().unwrap();
    /// let r = lp.run_until_complete(async {
    ///     Ok::<_, tulip::Error>(
    ///         TaskGroup::run(|tg| async move {
    ///             let a = tg.create_task(async { Ok::<_, tulip::Error>(1) })?;
    ///             tg.create_task(async {
    ///                 tulip::sleep(Duration::from_secs(10)).await?; // cancelled
    ///                 Ok(2)
    ///             })?;
    ///             tg.create_task(async { Err::<i32, _>(tulip::Error::TimeoutError(None)) })?;
    ///             Ok(a)
    ///         })
    ///         .await,
    ///     )
    /// })?;
    /// match r {
    ///     Err(TaskGroupError::Failed(errors)) => assert_eq!(errors.len(), 1),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), tulip::Error>(())
    /// ```
    ///
    /// # Cancel safety
    /// Cancelling the task cancels the children and waits for them. Dropping the
    /// future cancels the children without waiting.
    pub fn run<B, Fut, R>(body: B) -> Run<Fut, R, E>
    where
        B: FnOnce(TaskGroup<E>) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        let group = TaskGroup {
            inner: Arc::new(Mutex::new(GroupState {
                tasks: HashMap::new(),
                errors: Vec::new(),
                aborting: false,
                exiting: false,
                closed: false,
                parent: None,
                body_running: false,
                parent_cancel_requested: false,
                waker: None,
            })),
        };
        Run {
            body: Some(body(group.clone())),
            group,
            started: false,
            value: None,
            body_error: None,
            propagate_cancel: None,
            cancelling_at_enter: 0,
            uncancelled: false,
        }
    }

    /// Spawns `fut` as a child task of the group.
    ///
    /// The handle gives the child's outcome. A child that raises hands its error to
    /// the group; its own handle (and `exception()`) then gives a shared copy of it,
    /// `E::from(e.to_shared())`.
    ///
    /// # Errors
    /// `InvalidState` if the group has finished or is shutting down after a failure;
    /// `NoRunningLoop`/`LoopClosed` as for `create_task`.
    #[track_caller]
    pub fn create_task<F, T>(&self, fut: F) -> tulip_core::Result<Task<T, E>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        {
            let st = lock(&self.inner);
            if st.closed || (st.exiting && st.tasks.is_empty()) {
                return Err(Error::InvalidState("task group is finished"));
            }
            if st.aborting {
                return Err(Error::InvalidState("task group is shutting down"));
            }
        }
        let slot: Arc<Mutex<Option<E>>> = Arc::default();
        let keep = slot.clone();
        let task = tulip_core::create_task(async move {
            match fut.await {
                Err(e) if e.as_cancelled().is_none() => {
                    let shared = E::from(e.to_shared());
                    *lock(&keep) = Some(e);
                    Err(shared)
                }
                other => other,
            }
        })?;
        lock(&self.inner).tasks.insert(task.id(), task.task_ref());
        let group = self.clone();
        task.add_done_callback(move |t| group.on_task_done(t, &slot));
        Ok(task)
    }

    /// A child's done-callback (asyncio's `_on_task_done`).
    fn on_task_done(&self, t: &TaskRef, slot: &Mutex<Option<E>>) {
        let (to_cancel, parent, waker) = {
            let mut st = lock(&self.inner);
            st.tasks.remove(&t.id());
            let waker = if st.tasks.is_empty() {
                st.waker.take()
            } else {
                None
            };
            let raised = match t.exception() {
                Ok(Some(shared)) => Some(lock(slot).take().unwrap_or_else(|| E::from(shared))),
                _ => None,
            };
            let Some(e) = raised else {
                drop(st);
                if let Some(w) = waker {
                    w.wake();
                }
                return;
            };
            if st.closed {
                return;
            }
            st.errors.push(e);
            let mut to_cancel = Vec::new();
            let mut parent = None;
            if !st.aborting && !st.parent_cancel_requested {
                to_cancel = abort_locked(&mut st);
                if st.body_running {
                    st.parent_cancel_requested = true;
                    parent = st.parent.clone();
                }
            }
            (to_cancel, parent, waker)
        };
        for c in to_cancel {
            c.cancel();
        }
        if let Some(p) = parent {
            p.cancel();
        }
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn abort(&self) {
        let to_cancel = abort_locked(&mut lock(&self.inner));
        for t in to_cancel {
            t.cancel();
        }
    }
}

/// Marks the group aborting; returns the children to cancel.
fn abort_locked<E>(st: &mut GroupState<E>) -> Vec<TaskRef> {
    st.aborting = true;
    st.tasks.values().filter(|t| !t.done()).cloned().collect()
}

pin_project_lite::pin_project! {
    /// The future of [`TaskGroup::run`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Run<Fut, R, E> {
        group: TaskGroup<E>,
        #[pin]
        body: Option<Fut>,
        started: bool,
        value: Option<R>,
        body_error: Option<E>,
        propagate_cancel: Option<Cancelled>,
        cancelling_at_enter: u64,
        uncancelled: bool,
    }

    impl<Fut, R, E> PinnedDrop for Run<Fut, R, E> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let to_cancel = {
                let mut st = lock(&this.group.inner);
                if st.closed {
                    return;
                }
                st.closed = true;
                std::mem::take(&mut st.tasks)
            };
            for t in to_cancel.values() {
                t.cancel();
            }
        }
    }
}

impl<Fut, R, E> std::fmt::Debug for Run<Fut, R, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run").field("group", &self.group).finish()
    }
}

/// Withdraws the group's own cancel of the task running it, once; true if no other
/// request is left (the group's cancellation is then swallowed).
fn uncancel_ours<E>(group: &TaskGroup<E>, done: &mut bool, at_enter: u64) -> bool {
    let (ours, parent) = {
        let st = lock(&group.inner);
        (st.parent_cancel_requested, st.parent.clone())
    };
    if !ours || *done {
        return false;
    }
    *done = true;
    let Some(p) = parent else { return false };
    if p.uncancel() <= at_enter {
        // Our request, if the body never took it, must not outlive the group.
        let _ = take_cancel();
        return true;
    }
    false
}

impl<Fut, R, E> Future for Run<Fut, R, E>
where
    Fut: Future<Output = Result<R, E>>,
    E: TaskError + Send + 'static,
{
    type Output = Result<R, TaskGroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if !*this.started {
            *this.started = true;
            let mut st = lock(&this.group.inner);
            st.parent = current_task();
            *this.cancelling_at_enter = st.parent.as_ref().map_or(0, |p| p.cancelling());
            st.body_running = true;
        }
        if let Some(body) = this.body.as_mut().as_pin_mut() {
            let outcome = match body.poll(cx) {
                Poll::Ready(r) => r,
                Poll::Pending => {
                    let ours = lock(&this.group.inner).parent_cancel_requested;
                    // The group cancelled the body, which is parked where tulip cannot
                    // reach: stop it here rather than lose the whole task.
                    match if ours { take_cancel() } else { None } {
                        Some(c) => Err(E::from(Error::Cancelled(c))),
                        None => return Poll::Pending,
                    }
                }
            };
            this.body.set(None);
            {
                let mut st = lock(&this.group.inner);
                st.body_running = false;
                st.exiting = true;
            }
            match outcome {
                Ok(v) => *this.value = Some(v),
                Err(e) => {
                    if let Some(c) = e.as_cancelled() {
                        let swallowed =
                            uncancel_ours(this.group, this.uncancelled, *this.cancelling_at_enter);
                        if !swallowed {
                            *this.propagate_cancel = Some(c.clone());
                        }
                    } else {
                        *this.body_error = Some(e);
                    }
                    if !lock(&this.group.inner).aborting {
                        this.group.abort();
                    }
                }
            }
        }
        if let Some(c) = take_cancel() {
            // Cancelled from outside while waiting: cancel the children (unless the
            // group is already aborting, when asyncio swallows it).
            if !lock(&this.group.inner).aborting {
                this.propagate_cancel.get_or_insert(c);
                this.group.abort();
            }
        }
        let mut st = lock(&this.group.inner);
        if !st.tasks.is_empty() {
            st.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        st.closed = true;
        let mut errors = std::mem::take(&mut st.errors);
        drop(st);
        uncancel_ours(this.group, this.uncancelled, *this.cancelling_at_enter);
        // asyncio lists the body's own error after the children's.
        errors.extend(this.body_error.take());
        Poll::Ready(if !errors.is_empty() {
            Err(TaskGroupError::Failed(errors))
        } else if let Some(c) = this.propagate_cancel.take() {
            Err(TaskGroupError::Cancelled(c))
        } else {
            this.value
                .take()
                .ok_or(TaskGroupError::Cancelled(Cancelled::default()))
        })
    }
}
