//! `gather`: run futures as concurrent tasks, collect their results in input order.
//!
//! Shape (asyncio's, in Rust types): every child is a future returning
//! `Result<T, E>`, where `E: From<tulip_core::Error>` so a child's panic or
//! cancellation becomes an `E` too. Each child is spawned as a task on the running
//! loop *when `gather` is called*, so the children run concurrently and keep running
//! when one of them fails.
//!
//! - [`gather`] resolves to `Ok(Vec<T>)` in input order, or to the first `Err` as soon
//!   as it happens; the other children keep running (asyncio's default).
//! - [`gather_all`] is `return_exceptions=True`: it waits for every child and gives
//!   every outcome, `Vec<Result<T, E>>`.
//! - [`gather!`](crate::gather!) is the heterogeneous form: a tuple of results.
//! - [`gather_local`] spawns `!Send` futures as local tasks.
//!
//! Cancelling the task that awaits a gather cancels every child; the gather resolves
//! to `Err(Cancelled)` once all children have finished their clean-up. Dropping the
//! gather future (Rust's cancellation) detaches the children: they keep running.
//!
//! Design: the children's `Task` handles sit in a `FuturesUnordered`, so a wake-up polls
//! only the child that woke; `gather` takes a pending cancel request *before* polling
//! them (otherwise the first child polled would take it for itself alone).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::FuturesUnordered;
use futures::StreamExt;
use tulip_core::{get_running_loop, take_cancel, Cancelled, Error, Task, TaskRef};

struct Indexed<T> {
    index: usize,
    task: Task<T>,
}

impl<T> Future for Indexed<T> {
    type Output = (usize, tulip_core::Result<T>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let index = self.index;
        Pin::new(&mut self.task).poll(cx).map(|r| (index, r))
    }
}

type Spawned<T, E> = tulip_core::Result<Vec<Task<Result<T, E>>>>;
type Deferred<T, E> = Box<dyn FnOnce() -> Spawned<T, E> + Send>;

/// The state shared by [`Gather`] and [`GatherAll`].
struct Children<T, E> {
    /// Called outside a running loop (`lp.run_until_complete(gather(..))`): the
    /// children are spawned at the first poll, on the loop that polls.
    deferred: Option<Deferred<T, E>>,
    spawn_error: Option<Error>,
    running: FuturesUnordered<Indexed<Result<T, E>>>,
    refs: Vec<TaskRef>,
    outcomes: Vec<Option<Result<T, E>>>,
    cancelled: Option<Cancelled>,
}

impl<T, E: From<Error>> Children<T, E> {
    fn new(spawned: Spawned<T, E>) -> Self {
        let mut me = Children {
            deferred: None,
            spawn_error: None,
            running: FuturesUnordered::new(),
            refs: Vec::new(),
            outcomes: Vec::new(),
            cancelled: None,
        };
        match spawned {
            Err(e) => me.spawn_error = Some(e),
            Ok(tasks) => {
                for (index, task) in tasks.into_iter().enumerate() {
                    me.refs.push(task.task_ref());
                    me.outcomes.push(None);
                    me.running.push(Indexed { index, task });
                }
            }
        }
        me
    }

    /// Drives the children: `Ready(Ok)` when all are done, `Ready(Err)` for the first
    /// failure when `fail_fast`, or for a cancel of the gather itself.
    fn later(spawn: Deferred<T, E>) -> Self {
        let mut me = Children::new(Ok(Vec::new()));
        me.deferred = Some(spawn);
        me
    }

    fn poll(&mut self, cx: &mut Context<'_>, fail_fast: bool) -> Poll<Result<(), E>> {
        if let Some(spawn) = self.deferred.take() {
            *self = Children::new(spawn());
        }
        if let Some(e) = self.spawn_error.take() {
            return Poll::Ready(Err(e.into()));
        }
        if let Some(c) = take_cancel() {
            for t in &self.refs {
                match &c.msg {
                    Some(m) => t.cancel_with(m.clone()),
                    None => t.cancel(),
                };
            }
            self.cancelled.get_or_insert(c);
        }
        while let Poll::Ready(Some((i, r))) = self.running.poll_next_unpin(cx) {
            let r = r.unwrap_or_else(|e| Err(e.into()));
            if fail_fast && self.cancelled.is_none() {
                if let Err(e) = r {
                    return Poll::Ready(Err(e));
                }
            }
            self.outcomes[i] = Some(r);
        }
        if !self.running.is_empty() {
            return Poll::Pending;
        }
        if let Some(c) = self.cancelled.take() {
            return Poll::Ready(Err(Error::Cancelled(c).into()));
        }
        Poll::Ready(Ok(()))
    }

    fn take_outcomes(&mut self) -> impl Iterator<Item = Result<T, E>> + '_ {
        self.outcomes
            .drain(..)
            .map(|o| o.expect("every child finished"))
    }
}

/// Spawns the children now, or at the first poll when no loop is running yet.
fn spawn_all<I, F, T, E>(futs: I) -> Children<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    let futs: Vec<F> = futs.into_iter().collect();
    let spawn = move || {
        let lp = get_running_loop()?;
        futs.into_iter().map(|f| lp.create_task(f)).collect()
    };
    match get_running_loop() {
        Ok(_) => Children::new(spawn()),
        Err(_) => Children::later(Box::new(spawn)),
    }
}

fn spawn_all_local<I, F, T, E>(futs: I) -> tulip_core::Result<Vec<Task<Result<T, E>>>>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + 'static,
    T: 'static,
    E: 'static,
{
    let lp = get_running_loop()?;
    futs.into_iter().map(|f| lp.create_local_task(f)).collect()
}

/// Runs `futs` concurrently as tasks; resolves to their results in input order, or to
/// the first error (asyncio's `gather(*aws)`).
///
/// Output: `Ok(results)` in input order; the first child's `Err` (the others keep
/// running); `NoRunningLoop`/`LoopClosed` (as `E`) if the children could not be
/// spawned; `Cancelled` (as `E`) if the awaiting task was cancelled — every child is
/// cancelled then, and the gather resolves once they all finished.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let lp = tulip_local::new_event_loop().unwrap();
/// let out = lp.run_until_complete(async {
///     let jobs = (1..=3u64).map(|n| async move {
///         tulip_core::sleep(Duration::from_millis(30 - 10 * n)).await?;
///         Ok::<_, tulip_core::Error>(n)
///     });
///     tulip_sync::gather(jobs).await
/// })?;
/// assert_eq!(out?, [1, 2, 3]);
/// # Ok::<(), tulip_core::Error>(())
/// ```
///
/// # Cancel safety
/// Cancelling the awaiting task cancels the children. Dropping the future detaches
/// them; their results are lost.
pub fn gather<I, F, T, E>(futs: I) -> Gather<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: From<Error> + Send + 'static,
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
    E: From<Error> + 'static,
{
    Gather {
        children: Children::new(spawn_all_local(futs)),
    }
}

/// asyncio's `gather(*aws, return_exceptions=True)`: waits for every child and gives
/// every outcome in input order.
///
/// Output: `Ok(outcomes)`; `Err` only when the children could not be spawned or the
/// awaiting task was cancelled (as for [`gather`]).
///
/// # Examples
/// ```
/// let lp = tulip_local::new_event_loop().unwrap();
/// let out = lp.run_until_complete(async {
///     let ok = Box::pin(async { Ok::<u32, tulip_core::Error>(1) });
///     let bad = Box::pin(async { Err(tulip_core::Error::TimeoutError) });
///     let futs: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>> =
///         vec![ok, bad];
///     tulip_sync::gather_all(futs).await
/// })??;
/// assert!(out[0].is_ok() && out[1].is_err());
/// # Ok::<(), tulip_core::Error>(())
/// ```
///
/// # Cancel safety
/// As [`gather`].
pub fn gather_all<I, F, T, E>(futs: I) -> GatherAll<T, E>
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: From<Error> + Send + 'static,
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

impl<T, E> std::fmt::Debug for Gather<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gather")
            .field("children", &self.children.refs.len())
            .field("running", &self.children.running.len())
            .finish()
    }
}

// Nothing is pinned structurally: the outcomes are plain values, the tasks are Unpin.
impl<T, E> Unpin for Gather<T, E> {}
impl<T, E> Unpin for GatherAll<T, E> {}

impl<T, E: From<Error>> Future for Gather<T, E> {
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

/// The future of [`gather_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherAll<T, E> {
    children: Children<T, E>,
}

impl<T, E> std::fmt::Debug for GatherAll<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatherAll")
            .field("children", &self.children.refs.len())
            .field("running", &self.children.running.len())
            .finish()
    }
}

impl<T, E: From<Error>> Future for GatherAll<T, E> {
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
/// let lp = tulip_local::new_event_loop().unwrap();
/// let (n, s) = lp.run_until_complete(async {
///     tulip_sync::gather!(
///         async { Ok::<_, tulip_core::Error>(1) },
///         async { Ok("two".to_string()) },
///     )
///     .await
/// })??;
/// assert_eq!((n, s.as_str()), (1, "two"));
/// # Ok::<(), tulip_core::Error>(())
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
        E: Send + 'static,
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
        E: From<Error> + Send + 'static,
    {
        let all = gather(children);
        async move {
            all.await?;
            Ok(slots.take_all())
        }
    }
}
