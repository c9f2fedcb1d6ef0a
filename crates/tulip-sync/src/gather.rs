//! `gather`: run futures as concurrent tasks, collect their results in input order.
//!
//! Shape (asyncio's, in Rust types): every child is a future returning
//! `Result<T, E>` with `E: TaskError`, so a child's panic or cancellation becomes an
//! `E` too and tulip can tell a cancelled child from one that raised. Each child is
//! spawned as a task on the running loop *when `gather` is called* (or at the first
//! poll when no loop is running yet), so the children run concurrently.
//!
//! - [`gather`] resolves to `Ok(Vec<T>)` in input order, or to the first child that
//!   ends with an error — one it raised, or its cancellation (asyncio propagates the
//!   child's `CancelledError`) — as soon as that happens; the other children keep
//!   running (asyncio's default).
//! - [`gather_all`] is `return_exceptions=True`: it waits for every child and gives
//!   every outcome, `Vec<Result<T, E>>`; a cancelled child's outcome is an `E` holding
//!   its [`Cancelled`].
//! - [`gather!`](crate::gather!) is the heterogeneous form: a tuple of results.
//! - [`gather_local`] spawns `!Send` futures as local tasks.
//!
//! The gather is cancellable, as asyncio's `_GatheringFuture`: [`Gather::cancel`] (or
//! [`GatherHandle::cancel`] from another task) cancels every unfinished child, and the
//! gather then resolves to `Err(Cancelled)` — in `gather` mode at the first child that
//! ends cancelled, in `gather_all` mode once every child has finished. Cancelling the
//! task that awaits a gather cancels the gather the same way.
//!
//! Children are never silently detached: a gather dropped (or cancelled) before it
//! finished cancels its unfinished children. Once it has resolved, the children still
//! running (after a first error) go on, and their exceptions count as retrieved (no
//! "Task exception was never retrieved" report), as in asyncio.
//!
//! Design: as asyncio's, the gather hears of each child through a done-callback, which
//! records the child's index in a shared list (completion order) and wakes the gather;
//! the gather then reads the outcome out of the child's handle without awaiting it.
//! Awaiting would pass a cancel of the gathering task to the one child being polled;
//! instead `gather` takes a pending cancel request and cancels every child.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tulip_core::{get_running_loop, take_cancel, Cancelled, Error, Task, TaskError, TaskRef};

use crate::locks::lock;
use crate::spawn::{retire, retire_local};

type Spawned<T, E> = tulip_core::Result<Vec<Task<T, E>>>;
type Deferred<T, E> = Box<dyn FnOnce() -> Spawned<T, E> + Send>;

/// What a [`GatherHandle`] shares with its gather.
#[derive(Default)]
struct Shared {
    /// The gather's own cancel request (asyncio's `_cancel_requested`).
    cancel: Option<Cancelled>,
    /// The children, once spawned.
    refs: Vec<TaskRef>,
    spawned: bool,
    finished: bool,
}

/// A handle to a [`Gather`] or [`GatherAll`] that other tasks can keep: cancel the
/// whole gather (asyncio's `gather(...).cancel()`), or ask whether it finished.
#[derive(Clone)]
pub struct GatherHandle {
    shared: Arc<Mutex<Shared>>,
}

impl std::fmt::Debug for GatherHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.shared);
        f.debug_struct("GatherHandle")
            .field("children", &st.refs.len())
            .field("cancel_requested", &st.cancel.is_some())
            .field("finished", &st.finished)
            .finish()
    }
}

impl GatherHandle {
    /// Cancels every unfinished child (asyncio's `_GatheringFuture.cancel()`); the
    /// gather then resolves to `Err(Cancelled)`. A gather not spawned yet (built
    /// outside the loop) will not spawn its children at all. Returns false if the
    /// gather has finished or no child accepted the cancel (all were done).
    pub fn cancel(&self) -> bool {
        request_cancel(&self.shared, None)
    }

    /// [`cancel`](Self::cancel) with a message, carried by the children's `Cancelled`.
    pub fn cancel_with(&self, msg: impl Into<String>) -> bool {
        request_cancel(&self.shared, Some(msg.into()))
    }

    /// True once the gather has resolved.
    pub fn done(&self) -> bool {
        lock(&self.shared).finished
    }

    /// The children spawned so far, in input order.
    pub fn children(&self) -> Vec<TaskRef> {
        lock(&self.shared).refs.clone()
    }
}

fn request_cancel(shared: &Mutex<Shared>, msg: Option<String>) -> bool {
    let refs = {
        let mut st = lock(shared);
        if st.finished {
            return false;
        }
        if !st.spawned {
            st.cancel.get_or_insert(Cancelled { msg });
            return true;
        }
        // Recorded first: a child that ends cancelled right away must find it.
        if st.cancel.is_none() {
            st.cancel = Some(Cancelled { msg: msg.clone() });
        }
        st.refs.clone()
    };
    let mut accepted = false;
    for t in &refs {
        accepted |= match &msg {
            Some(m) => t.cancel_with(m.clone()),
            None => t.cancel(),
        };
    }
    accepted
}

/// The children that finished, in the order their done-callbacks ran, and the
/// gather's waker.
#[derive(Default)]
struct Finished {
    indices: Vec<usize>,
    waker: Option<Waker>,
}

/// The state shared by [`Gather`] and [`GatherAll`].
struct Children<T, E> {
    /// Called outside a running loop (`lp.run_until_complete(gather(..))`): the
    /// children are spawned at the first poll, on the loop that polls.
    deferred: Option<Deferred<T, E>>,
    spawn_error: Option<Error>,
    /// The children's handles, until their outcome is read.
    tasks: Vec<Option<Task<T, E>>>,
    running: usize,
    finished_list: Arc<Mutex<Finished>>,
    outcomes: Vec<Option<Result<T, E>>>,
    shared: Arc<Mutex<Shared>>,
    /// How a child nobody will read is let go (`retire` or `retire_local`).
    retire: fn(Task<T, E>),
    finished: bool,
}

impl<T, E: TaskError> Children<T, E> {
    fn new(spawned: Spawned<T, E>, retire: fn(Task<T, E>)) -> Self {
        let mut me = Children {
            deferred: None,
            spawn_error: None,
            tasks: Vec::new(),
            running: 0,
            finished_list: Arc::default(),
            outcomes: Vec::new(),
            shared: Arc::default(),
            retire,
            finished: false,
        };
        me.fill(spawned);
        me
    }

    fn later(spawn: Deferred<T, E>, retire: fn(Task<T, E>)) -> Self {
        let mut me = Children::new(Ok(Vec::new()), retire);
        lock(&me.shared).spawned = false;
        me.deferred = Some(spawn);
        me
    }

    fn fill(&mut self, spawned: Spawned<T, E>) {
        let mut st = lock(&self.shared);
        st.spawned = true;
        match spawned {
            Err(e) => self.spawn_error = Some(e),
            Ok(tasks) => {
                for (index, task) in tasks.into_iter().enumerate() {
                    st.refs.push(task.task_ref());
                    // asyncio's gather hears of its children through done-callbacks:
                    // in completion order, and without awaiting them (awaiting would
                    // pass a cancel of the gathering task to one child only).
                    let list = self.finished_list.clone();
                    task.add_done_callback(move |_| {
                        let mut f = lock(&list);
                        f.indices.push(index);
                        if let Some(w) = f.waker.take() {
                            w.wake();
                        }
                    });
                    self.outcomes.push(None);
                    self.tasks.push(Some(task));
                    self.running += 1;
                }
            }
        }
    }

    /// Resolves the gather: children still running go on, retired.
    fn finish(&mut self, out: Result<(), E>) -> Poll<Result<(), E>> {
        self.finished = true;
        lock(&self.shared).finished = true;
        for t in self.tasks.iter_mut().filter_map(Option::take) {
            (self.retire)(t);
        }
        Poll::Ready(out)
    }

    /// Drives the children: `Ready(Ok)` when all are done (and the gather was not
    /// cancelled), `Ready(Err)` for the first child error when `fail_fast`, or for a
    /// cancel of the gather itself.
    fn poll(&mut self, cx: &mut Context<'_>, fail_fast: bool) -> Poll<Result<(), E>> {
        if self.finished {
            return Poll::Ready(Err(E::from(Error::InvalidState(
                "gather polled after completion",
            ))));
        }
        if let Some(spawn) = self.deferred.take() {
            let cancelled = lock(&self.shared).cancel.clone();
            if let Some(c) = cancelled {
                // Cancelled before it ran: the children never start.
                return self.finish(Err(E::from(Error::Cancelled(c))));
            }
            self.fill(spawn());
        }
        if let Some(e) = self.spawn_error.take() {
            return self.finish(Err(E::from(e)));
        }
        if let Some(c) = take_cancel() {
            // asyncio's `Task.cancel()` cancels the future it waits on: this gather.
            if !request_cancel(&self.shared, c.msg.clone()) {
                // Every child is done already: the cancel is the awaiting task's own.
                return self.finish(Err(E::from(Error::Cancelled(c))));
            }
        }
        let ready = {
            let mut f = lock(&self.finished_list);
            f.waker = Some(cx.waker().clone());
            std::mem::take(&mut f.indices)
        };
        for i in ready {
            let Some(mut t) = self.tasks[i].take() else {
                continue;
            };
            self.running -= 1;
            let r = t.take_result();
            if fail_fast {
                if let Err(e) = r {
                    return self.finish(Err(e));
                }
            }
            self.outcomes[i] = Some(r);
        }
        if self.running > 0 {
            return Poll::Pending;
        }
        let cancelled = lock(&self.shared).cancel.clone();
        if let Some(c) = cancelled {
            return self.finish(Err(E::from(Error::Cancelled(c))));
        }
        self.finish(Ok(()))
    }

    fn take_outcomes(&mut self) -> impl Iterator<Item = Result<T, E>> + '_ {
        self.outcomes
            .drain(..)
            .map(|o| o.expect("every child finished"))
    }

    fn handle(&self) -> GatherHandle {
        GatherHandle {
            shared: self.shared.clone(),
        }
    }
}

impl<T, E> Drop for Children<T, E> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Dropped before it resolved: the children are cancelled, never detached.
        let refs = std::mem::take(&mut lock(&self.shared).refs);
        for t in &refs {
            t.cancel();
        }
        for t in self.tasks.iter_mut().filter_map(Option::take) {
            (self.retire)(t);
        }
    }
}

/// Spawns the children now, or at the first poll when no loop is running yet.
fn spawn_all<I, F, T, E>(futs: I) -> Children<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    let futs: Vec<F> = futs.into_iter().collect();
    let spawn = move || {
        let lp = get_running_loop()?;
        futs.into_iter().map(|f| lp.create_task(f)).collect()
    };
    match get_running_loop() {
        Ok(_) => Children::new(spawn(), retire::<T, E>),
        Err(_) => Children::later(Box::new(spawn), retire::<T, E>),
    }
}

fn spawn_all_local<I, F, T, E>(futs: I) -> Spawned<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: TaskError + 'static,
{
    let lp = get_running_loop()?;
    futs.into_iter().map(|f| lp.create_local_task(f)).collect()
}

/// Runs `futs` concurrently as tasks; resolves to their results in input order, or to
/// the first error (asyncio's `gather(*aws)`).
///
/// Output: `Ok(results)` in input order; the first child's error — what it raised, or
/// `Cancelled` if it ended cancelled (the other children keep running);
/// `NoRunningLoop`/`LoopClosed` (as `E`) if the children could not be spawned;
/// `Cancelled` (as `E`) if the gather or the awaiting task was cancelled — every
/// unfinished child is cancelled then.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let lp = tulip::new_event_loop().unwrap();
/// let out = lp.run_until_complete(async {
///     let jobs = (1..=3u64).map(|n| async move {
///         tulip::sleep(Duration::from_millis(30 - 10 * n)).await?;
///         Ok::<_, tulip::Error>(n)
///     });
///     tulip::gather(jobs).await
/// })?;
/// assert_eq!(out, [1, 2, 3]);
/// # Ok::<(), tulip::Error>(())
/// ```
///
/// Cancelling the gather cancels the children:
/// ```
/// use std::time::Duration;
/// let lp = tulip::new_event_loop().unwrap();
/// let r = lp.run_until_complete(async {
///     let jobs = (0..3).map(|_| tulip::sleep(Duration::from_secs(10)));
///     let g = tulip::gather(jobs);
///     let children = g.handle().children();
///     g.cancel();
///     let r = g.await;
///     assert!(children.iter().all(|c| c.cancelled()));
///     r
/// });
/// assert!(matches!(r, Err(tulip::Error::Cancelled(_))));
/// ```
///
/// # Cancel safety
/// Cancelling the awaiting task, or dropping the future before it resolved, cancels
/// the unfinished children.
pub fn gather<I, F, T, E>(futs: I) -> Gather<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    Gather {
        children: spawn_all(futs),
    }
}

/// [`gather`] for `!Send` futures: the children are local tasks of the running loop,
/// pinned to this thread. Unlike [`gather`], call it inside the running loop (the
/// children are spawned at once).
///
/// # Errors
/// As [`gather`]; `WrongThread` (as `E`) if this thread cannot run local tasks.
///
/// # Cancel safety
/// As [`gather`].
pub fn gather_local<I, F, T, E>(futs: I) -> Gather<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: TaskError + 'static,
{
    Gather {
        children: Children::new(spawn_all_local(futs), retire_local::<T, E>),
    }
}

/// asyncio's `gather(*aws, return_exceptions=True)`: waits for every child and gives
/// every outcome in input order; a cancelled child's outcome is an `E` holding its
/// `Cancelled`.
///
/// Output: `Ok(outcomes)`; `Err` only when the children could not be spawned or the
/// gather (or the awaiting task) was cancelled — then once every child finished.
///
/// # Examples
/// ```
/// let lp = tulip::new_event_loop().unwrap();
/// let out = lp.run_until_complete(async {
///     let ok = Box::pin(async { Ok::<u32, tulip::Error>(1) });
///     let bad = Box::pin(async { Err(tulip::Error::TimeoutError(None)) });
///     let futs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>> =
///         vec![ok, bad];
///     tulip::gather_all(futs).await
/// })?;
/// assert!(out[0].is_ok() && out[1].is_err());
/// # Ok::<(), tulip::Error>(())
/// ```
///
/// # Cancel safety
/// As [`gather`].
pub fn gather_all<I, F, T, E>(futs: I) -> GatherAll<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: TaskError + Send + 'static,
{
    GatherAll {
        children: spawn_all(futs),
    }
}

/// The future of [`gather`] and [`gather_local`].
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<T, E> {
    children: Children<T, E>,
}

/// The future of [`gather_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherAll<T, E> {
    children: Children<T, E>,
}

macro_rules! gather_common {
    ($name:ident) => {
        impl<T, E> std::fmt::Debug for $name<T, E> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("children", &self.children.outcomes.len())
                    .field("running", &self.children.running)
                    .finish()
            }
        }

        // Nothing is pinned structurally: the outcomes are plain values, the tasks
        // are Unpin.
        impl<T, E> Unpin for $name<T, E> {}

        impl<T, E: TaskError> $name<T, E> {
            /// A handle to cancel this gather from anywhere, or to look at it.
            pub fn handle(&self) -> GatherHandle {
                self.children.handle()
            }

            /// Cancels every unfinished child; see [`GatherHandle::cancel`].
            pub fn cancel(&self) -> bool {
                self.children.handle().cancel()
            }

            /// [`cancel`](Self::cancel) with a message.
            pub fn cancel_with(&self, msg: impl Into<String>) -> bool {
                self.children.handle().cancel_with(msg)
            }
        }
    };
}

gather_common!(Gather);
gather_common!(GatherAll);

impl<T, E: TaskError> Future for Gather<T, E> {
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.children.poll(cx, true) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => Poll::Ready(this.children.take_outcomes().collect()),
        }
    }
}

impl<T, E: TaskError> Future for GatherAll<T, E> {
    type Output = Result<Vec<Result<T, E>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.children.poll(cx, false) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => Poll::Ready(Ok(this.children.take_outcomes().collect())),
        }
    }
}

/// `gather` over futures of different output types: `gather!(a, b, c).await` gives
/// `Result<(A, B, C), E>` (up to 12 futures). The futures must share the error type
/// `E`; the behaviour is [`gather`]'s.
///
/// # Examples
/// ```
/// let lp = tulip::new_event_loop().unwrap();
/// let (n, s) = lp.run_until_complete(async {
///     tulip::gather!(
///         async { Ok::<_, tulip::Error>(1) },
///         async { Ok("two".to_string()) },
///     )
///     .await
/// })?;
/// assert_eq!((n, s.as_str()), (1, "two"));
/// # Ok::<(), tulip::Error>(())
/// ```
#[macro_export]
macro_rules! gather {
    ($($fut:expr),+ $(,)?) => {{
        let mut children = ::std::vec::Vec::new();
        let slots = ($($crate::__private::child(&mut children, $fut),)+);
        $crate::__private::gather_tuple(children, slots)
    }};
}

/// Support for [`gather!`](macro@crate::gather); not public API.
#[doc(hidden)]
pub mod private {
    use super::*;
    use std::sync::{Arc, Mutex};

    type Erased<E> = Pin<Box<dyn Future<Output = Result<(), E>> + Send>>;

    /// Where one child of `gather!` leaves its value.
    pub struct Slot<T>(Arc<Mutex<Option<T>>>);

    impl<T> std::fmt::Debug for Slot<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Slot").finish_non_exhaustive()
        }
    }

    impl<T> Slot<T> {
        fn take(self) -> T {
            let v = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
            v.expect("gather! child finished")
        }
    }

    /// Wraps one child so it stores its value in a slot.
    pub fn child<F, T, E>(children: &mut Vec<Erased<E>>, fut: F) -> Slot<T>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: TaskError + Send + 'static,
    {
        let slot = Arc::new(Mutex::new(None));
        let out = slot.clone();
        children.push(Box::pin(async move {
            let v = fut.await?;
            *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
            Ok(())
        }));
        Slot(slot)
    }

    /// A tuple of slots, emptied into a tuple of values.
    pub trait TakeAll {
        /// The tuple of values.
        type Output;
        /// Empties every slot.
        fn take_all(self) -> Self::Output;
    }

    macro_rules! take_all {
        ($($T:ident $i:tt),+) => {
            impl<$($T),+> TakeAll for ($(Slot<$T>,)+) {
                type Output = ($($T,)+);
                fn take_all(self) -> Self::Output {
                    ($(self.$i.take(),)+)
                }
            }
        };
    }
    take_all!(A 0);
    take_all!(A 0, B 1);
    take_all!(A 0, B 1, C 2);
    take_all!(A 0, B 1, C 2, D 3);
    take_all!(A 0, B 1, C 2, D 3, F 4);
    take_all!(A 0, B 1, C 2, D 3, F 4, G 5);
    take_all!(A 0, B 1, C 2, D 3, F 4, G 5, H 6);
    take_all!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7);
    take_all!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8);
    take_all!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9);
    take_all!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9, L 10);
    take_all!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9, L 10, M 11);

    /// Gathers the wrapped children (spawned now), then empties the slots.
    pub fn gather_tuple<S, E>(
        children: Vec<Erased<E>>,
        slots: S,
    ) -> impl Future<Output = Result<S::Output, E>>
    where
        S: TakeAll,
        E: TaskError + Send + 'static,
    {
        let all = gather(children);
        async move {
            all.await?;
            Ok(slots.take_all())
        }
    }
}
