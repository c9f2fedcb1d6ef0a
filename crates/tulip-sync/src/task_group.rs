//! `TaskGroup`: structured concurrency (asyncio 3.11's `async with TaskGroup() as tg`).
//!
//! Rust has no async drop, so the group is a scope: [`TaskGroup::run`] takes the body
//! as a closure receiving the group, runs it in the current task, then waits for every
//! child. The body's `?` cannot skip the wait.
//!
//! Rules (asyncio's):
//! - The first child failure (an `Err`, or a panic) cancels every other child and, if
//!   the body is still running, the task running the body. Children are not cancelled
//!   by a sibling's *cancellation*.
//! - Every error is collected; the group resolves to `TaskGroupError::Failed(errors)`.
//! - A cancel of the task running the group (from outside) cancels the children; once
//!   they finished, the group resolves to `TaskGroupError::Cancelled` (unless something
//!   failed: errors win, as in asyncio).
//! - Leaving the group waits for every child; afterwards `create_task` fails.
//!
//! Telling a cancellation apart from a failure: for `tulip_core::Error` and
//! `tulip_sync::Error` the group asks `is_cancelled()`. For other error types it
//! cannot look inside, so an `Err` from a child (or body) that had been asked to
//! cancel counts as that cancellation.
//!
//! Design: the group state (live-child count, children's `TaskRef`s, errors, flags,
//! the scope's waker) sits behind one mutex. Each child carries a guard whose drop
//! decrements the count and wakes the scope — it runs however the child ends (returns,
//! fails, is cancelled before it starts, or is dropped with a closed loop).

use std::any::Any;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures::FutureExt;
use tulip_core::{current_task, panic_message, take_cancel, Cancelled, Error, Task, TaskRef};

use crate::error::TaskGroupError;
use crate::locks::lock;

struct GroupState<E> {
    live: usize,
    children: HashMap<u64, TaskRef>,
    errors: Vec<E>,
    aborting: bool,
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
            .field("live", &st.live)
            .field("errors", &st.errors.len())
            .field("aborting", &st.aborting)
            .finish()
    }
}

/// Whether an error is a cancellation (see the module docs).
fn is_cancellation<E: 'static>(e: &E, was_asked_to_cancel: bool) -> bool {
    let any = e as &dyn Any;
    if let Some(e) = any.downcast_ref::<Error>() {
        return e.is_cancelled();
    }
    if let Some(e) = any.downcast_ref::<crate::Error>() {
        return e.is_cancelled();
    }
    was_asked_to_cancel
}

impl<E: From<Error> + Send + 'static> TaskGroup<E> {
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
    /// use tulip_sync::{TaskGroup, TaskGroupError};
    /// let lp = tulip_local::new_event_loop().unwrap();
    /// let r = lp.run_until_complete(TaskGroup::run(|tg| async move {
    ///     let a = tg.create_task(async { Ok::<_, tulip_core::Error>(1) })?;
    ///     tg.create_task(async {
    ///         tulip_core::sleep(Duration::from_secs(10)).await?; // cancelled
    ///         Ok(2)
    ///     })?;
    ///     tg.create_task(async { Err::<i32, _>(tulip_core::Error::TimeoutError) })?;
    ///     Ok(a)
    /// }))?;
    /// match r {
    ///     Err(TaskGroupError::Failed(errors)) => assert_eq!(errors.len(), 1),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), tulip_core::Error>(())
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
                live: 0,
                children: HashMap::new(),
                errors: Vec::new(),
                aborting: false,
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
            cancelled: None,
            cancelling_at_enter: 0,
        }
    }

    /// Spawns `fut` as a child task of the group.
    ///
    /// The handle gives the child's value. A child that fails hands its error to the
    /// group; its own handle then reports `Cancelled` (message `"failed in task
    /// group"`), since the error is not `Clone`.
    ///
    /// # Errors
    /// `InvalidState` if the group has finished or is shutting down after a failure;
    /// `NoRunningLoop`/`LoopClosed` as for `create_task`.
    pub fn create_task<F, T>(&self, fut: F) -> tulip_core::Result<Task<T>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        {
            let mut st = lock(&self.inner);
            if st.closed {
                return Err(Error::InvalidState("task group is finished"));
            }
            if st.aborting {
                return Err(Error::InvalidState("task group is shutting down"));
            }
            st.live += 1;
        }
        let guard = ChildGuard {
            group: self.clone(),
        };
        let group = self.clone();
        let task = tulip_core::create_task(async move {
            let _guard = guard;
            let outcome = AssertUnwindSafe(fut).catch_unwind().await;
            let me = current_task().expect("a child runs as a task");
            let err = match outcome {
                Ok(Ok(v)) => return v,
                Ok(Err(e)) => (!is_cancellation(&e, me.cancelling() > 0)).then_some(e),
                Err(panic) => Some(E::from(Error::Panicked(panic_message(&*panic).into()))),
            };
            if let Some(e) = err {
                group.child_failed(e, &me);
            }
            // End this task cancelled: request it and park where nothing takes it.
            me.cancel_with("failed in task group");
            let never: Infallible = std::future::pending().await;
            match never {}
        })?;
        let mut st = lock(&self.inner);
        if !task.done() {
            st.children.insert(task.id(), task.task_ref());
        }
        Ok(task)
    }

    fn child_failed(&self, e: E, me: &TaskRef) {
        let (to_cancel, parent) = {
            let mut st = lock(&self.inner);
            st.errors.push(e);
            if st.aborting {
                return;
            }
            let to_cancel = self.abort_locked(&mut st);
            let parent = if st.body_running && !st.parent_cancel_requested {
                st.parent_cancel_requested = true;
                st.parent.clone()
            } else {
                None
            };
            (to_cancel, parent)
        };
        for t in to_cancel.iter().filter(|t| *t != me) {
            t.cancel();
        }
        if let Some(p) = parent {
            p.cancel();
        }
    }

    /// Marks the group aborting; returns the children to cancel.
    fn abort_locked(&self, st: &mut GroupState<E>) -> Vec<TaskRef> {
        st.aborting = true;
        st.children.retain(|_, t| !t.done());
        st.children.values().cloned().collect()
    }

    fn abort(&self) {
        let to_cancel = self.abort_locked(&mut lock(&self.inner));
        for t in to_cancel {
            t.cancel();
        }
    }
}

struct ChildGuard<E> {
    group: TaskGroup<E>,
}

impl<E> Drop for ChildGuard<E> {
    fn drop(&mut self) {
        let mut st = lock(&self.group.inner);
        st.live -= 1;
        if st.live == 0 {
            if let Some(w) = st.waker.take() {
                w.wake();
            }
        }
    }
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
        cancelled: Option<Cancelled>,
        cancelling_at_enter: u64,
    }

    impl<Fut, R, E> PinnedDrop for Run<Fut, R, E> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let to_cancel = {
                let mut st = lock(&this.group.inner);
                st.closed = true;
                st.children.retain(|_, t| !t.done());
                std::mem::take(&mut st.children)
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

impl<Fut, R, E> Future for Run<Fut, R, E>
where
    Fut: Future<Output = Result<R, E>>,
    E: From<Error> + Send + 'static,
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
                Poll::Ready(r) => Some(r),
                Poll::Pending => None,
            };
            let ours = lock(&this.group.inner).parent_cancel_requested;
            let outcome = match outcome {
                Some(r) => Some(r),
                // The group cancelled the body, which is parked where tulip cannot
                // reach: stop it here rather than lose the whole task.
                None if ours && take_cancel().is_some() => Some(Err(Error::cancelled().into())),
                None => return Poll::Pending,
            };
            this.body.set(None);
            if let Some(r) = outcome {
                let slots = (
                    &mut *this.value,
                    &mut *this.body_error,
                    &mut *this.cancelled,
                );
                body_done(this.group, r, slots, *this.cancelling_at_enter);
            }
        }
        if let Some(c) = take_cancel() {
            this.group.abort();
            this.cancelled.get_or_insert(c);
        }
        let mut st = lock(&this.group.inner);
        if st.live > 0 {
            st.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        st.closed = true;
        st.children.clear();
        let mut errors = std::mem::take(&mut st.errors);
        drop(st);
        // asyncio lists the body's own error after the children's.
        errors.extend(this.body_error.take());
        Poll::Ready(if !errors.is_empty() {
            Err(TaskGroupError::Failed(errors))
        } else if let Some(c) = this.cancelled.take() {
            Err(TaskGroupError::Cancelled(c))
        } else {
            this.value
                .take()
                .ok_or(TaskGroupError::Cancelled(Cancelled::default()))
        })
    }
}

/// Where the body's outcome goes: its value, its error, an outside cancel.
type BodySlots<'a, R, E> = (
    &'a mut Option<R>,
    &'a mut Option<E>,
    &'a mut Option<Cancelled>,
);

/// The body finished: keep its value, or its error (unless it is the cancel the group
/// itself caused), and withdraw the group's cancel of the parent.
fn body_done<R, E>(
    group: &TaskGroup<E>,
    r: Result<R, E>,
    (value, body_error, cancelled): BodySlots<'_, R, E>,
    cancelling_at_enter: u64,
) where
    E: From<Error> + Send + 'static,
{
    let (ours, parent) = {
        let mut st = lock(&group.inner);
        st.body_running = false;
        (st.parent_cancel_requested, st.parent.clone())
    };
    let asked = parent
        .as_ref()
        .is_some_and(|p| p.cancelling() > cancelling_at_enter);
    if let (true, Some(p)) = (ours, &parent) {
        if p.uncancel() <= cancelling_at_enter {
            // Our request, if the body never took it, must not outlive the body.
            let _ = take_cancel();
        }
    }
    match r {
        Ok(v) => *value = Some(v),
        Err(e) if is_cancellation(&e, asked) => {
            if !ours {
                // Cancelled from outside.
                group.abort();
                cancelled.get_or_insert_with(Cancelled::default);
            }
        }
        Err(e) => {
            *body_error = Some(e);
            group.abort();
        }
    }
}
