//! Queues: [`Queue`] (FIFO), [`PriorityQueue`], [`LifoQueue`] — asyncio's, with
//! `maxsize`, `task_done`/`join` and `shutdown` (Python 3.13).
//!
//! Design: one `Arc<Mutex<State>>` holds the items (a FIFO deque, a LIFO vector or a
//! min-heap), the unfinished-task counter, the shutdown flag and three
//! [`WaitQueue`](crate::waiters)s: getters, putters, joiners. Items stay in the queue
//! until a getter takes them: a `put` wakes the oldest getter, which then takes
//! whatever item is first *when it runs* (so the priority order holds). A woken getter
//! that was cancelled in the meantime passes its wake-up to the next getter, so an item
//! never sits in the queue while a getter sleeps. Putters are symmetric.
//!
//! The poll logic lives on the queue (`poll_get`, `poll_put`) with the waiter key kept
//! by the caller, so the borrowing futures, the owning [`QueueStream`] and
//! [`QueueSink`] share it.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::{Sink, Stream};
use tulip_core::take_cancel;

use crate::error::{Error, PutError};
use crate::locks::lock;
use crate::waiters::WaitQueue;

/// An item in the priority heap, ordered so the heap pops the *smallest* first.
struct Prio<T> {
    item: T,
    cmp: fn(&T, &T) -> Ordering,
}

impl<T> PartialEq for Prio<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.cmp)(&self.item, &other.item) == Ordering::Equal
    }
}
impl<T> Eq for Prio<T> {}
impl<T> PartialOrd for Prio<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Prio<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.cmp)(&other.item, &self.item)
    }
}

fn ord_cmp<T: Ord>(a: &T, b: &T) -> Ordering {
    a.cmp(b)
}

enum Store<T> {
    Fifo(VecDeque<T>),
    Lifo(Vec<T>),
    Priority(BinaryHeap<Prio<T>>, fn(&T, &T) -> Ordering),
}

impl<T> Store<T> {
    fn len(&self) -> usize {
        match self {
            Store::Fifo(d) => d.len(),
            Store::Lifo(v) => v.len(),
            Store::Priority(h, _) => h.len(),
        }
    }

    fn push(&mut self, item: T) {
        match self {
            Store::Fifo(d) => d.push_back(item),
            Store::Lifo(v) => v.push(item),
            Store::Priority(h, cmp) => h.push(Prio { item, cmp: *cmp }),
        }
    }

    fn pop(&mut self) -> Option<T> {
        match self {
            Store::Fifo(d) => d.pop_front(),
            Store::Lifo(v) => v.pop(),
            Store::Priority(h, _) => h.pop().map(|p| p.item),
        }
    }
}

struct State<T> {
    items: Store<T>,
    maxsize: usize,
    unfinished: usize,
    shutdown: bool,
    getters: WaitQueue<()>,
    putters: WaitQueue<()>,
    joiners: WaitQueue<()>,
}

impl<T> State<T> {
    fn full(&self) -> bool {
        self.maxsize > 0 && self.items.len() >= self.maxsize
    }

    fn put_now(&mut self, item: T) {
        self.items.push(item);
        self.unfinished += 1;
        let _ = self.getters.notify_one(());
    }

    fn get_now(&mut self) -> Option<T> {
        let item = self.items.pop()?;
        let _ = self.putters.notify_one(());
        Some(item)
    }

    fn finish_tasks(&mut self, n: usize) {
        self.unfinished = self.unfinished.saturating_sub(n);
        if self.unfinished == 0 {
            self.joiners.notify_all(());
        }
    }
}

/// asyncio.Queue: a FIFO queue for tasks, optionally bounded. Clones share the queue.
///
/// `maxsize == 0` means unbounded. [`put`](Self::put) waits while the queue is full,
/// [`get`](Self::get) while it is empty; the `_nowait` forms fail instead. Every
/// successful put counts as an unfinished task until a matching
/// [`task_done`](Self::task_done); [`join`](Self::join) waits for none to be left.
/// [`stream`](Self::stream) turns the receiving side into a `futures::Stream`.
///
/// # Examples
/// ```
/// use tulip_sync::Queue;
/// let lp = tulip_local::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let q = Queue::new(1);
///     let consumer = q.clone();
///     tulip_core::create_task(async move {
///         while let Ok(n) = consumer.get().await {
///             println!("got {n}");
///             consumer.task_done()?;
///         }
///         Ok::<_, tulip_sync::Error>(())
///     })?;
///     for n in 0..3 {
///         q.put(n).await?; // waits while the one slot is taken
///     }
///     q.join().await?;
///     Ok::<_, tulip_sync::Error>(())
/// })?;
/// # Ok::<(), tulip_sync::Error>(())
/// ```
pub struct Queue<T> {
    inner: Arc<Mutex<State<T>>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            inner: self.inner.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.inner);
        f.debug_struct("Queue")
            .field("maxsize", &st.maxsize)
            .field("qsize", &st.items.len())
            .field("unfinished", &st.unfinished)
            .field("shutdown", &st.shutdown)
            .finish()
    }
}

impl<T> Queue<T> {
    /// A FIFO queue holding at most `maxsize` items (0: unbounded).
    pub fn new(maxsize: usize) -> Queue<T> {
        Queue::build(Store::Fifo(VecDeque::new()), maxsize)
    }

    fn build(items: Store<T>, maxsize: usize) -> Queue<T> {
        Queue {
            inner: Arc::new(Mutex::new(State {
                items,
                maxsize,
                unfinished: 0,
                shutdown: false,
                getters: WaitQueue::default(),
                putters: WaitQueue::default(),
                joiners: WaitQueue::default(),
            })),
        }
    }

    /// Number of items in the queue.
    pub fn qsize(&self) -> usize {
        lock(&self.inner).items.len()
    }

    /// The bound given at creation (0: unbounded).
    pub fn maxsize(&self) -> usize {
        lock(&self.inner).maxsize
    }

    /// True when there are no items.
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// True when a bounded queue holds `maxsize` items.
    pub fn full(&self) -> bool {
        lock(&self.inner).full()
    }

    /// How many tasks wait in `get` and in `put` right now (a snapshot, for tests and
    /// monitoring).
    pub fn waiters(&self) -> (usize, usize) {
        let st = lock(&self.inner);
        (st.getters.len(), st.putters.len())
    }

    /// Puts `item` without waiting.
    ///
    /// # Errors
    /// [`PutError::Full`] or [`PutError::ShutDown`], handing the item back.
    pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        let mut st = lock(&self.inner);
        if st.shutdown {
            return Err(PutError::ShutDown(item));
        }
        if st.full() {
            return Err(PutError::Full(item));
        }
        st.put_now(item);
        Ok(())
    }

    /// Takes the first item without waiting.
    ///
    /// # Errors
    /// `QueueEmpty` when there is none; `QueueShutDown` when there is none and the
    /// queue is shut down (or was shut down with `immediate`).
    pub fn get_nowait(&self) -> Result<T, Error> {
        let mut st = lock(&self.inner);
        match st.get_now() {
            Some(item) => Ok(item),
            None if st.shutdown => Err(Error::QueueShutDown),
            None => Err(Error::QueueEmpty),
        }
    }

    /// Puts `item`, waiting while the queue is full.
    ///
    /// # Errors
    /// [`PutError::ShutDown`] (also for a putter waiting when `shutdown` is called) and
    /// [`PutError::Cancelled`]; both hand the item back.
    ///
    /// # Cancel safety
    /// Cancel safe: a cancelled put has not put its item and returns it; a slot freed
    /// for it passes to the next putter.
    pub fn put(&self, item: T) -> Put<'_, T> {
        Put {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    /// Takes the first item, waiting while the queue is empty.
    ///
    /// # Errors
    /// `QueueShutDown` once the queue is shut down and empty; `Core(Cancelled)`.
    ///
    /// # Cancel safety
    /// Cancel safe: no item is taken by a cancelled `get`, and the wake-up it received
    /// passes to the next getter.
    pub fn get(&self) -> Get<'_, T> {
        Get {
            queue: self,
            key: None,
        }
    }

    /// Marks one item taken with `get` as processed.
    ///
    /// # Errors
    /// `ValueError` if called more times than items were put.
    pub fn task_done(&self) -> Result<(), Error> {
        let mut st = lock(&self.inner);
        if st.unfinished == 0 {
            return Err(Error::ValueError("task_done() called too many times"));
        }
        st.finish_tasks(1);
        Ok(())
    }

    /// Waits until every item put has been marked with `task_done` (at once if none
    /// is unfinished).
    ///
    /// Output: `Ok(())`, or `Err(Cancelled)`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub fn join(&self) -> Join<'_, T> {
        Join {
            queue: self,
            key: None,
        }
    }

    /// Shuts the queue down (Python 3.13): `put` fails with `QueueShutDown` from now
    /// on, and so do waiting putters. Getters drain the remaining items, then get
    /// `QueueShutDown`. With `immediate`, the remaining items are dropped (and counted
    /// as done for `join`) and waiting getters fail at once.
    pub fn shutdown(&self, immediate: bool) {
        let mut st = lock(&self.inner);
        st.shutdown = true;
        if immediate {
            let mut dropped = 0;
            while st.items.pop().is_some() {
                dropped += 1;
            }
            if dropped > 0 {
                st.finish_tasks(dropped);
            }
        }
        st.getters.notify_all(());
        st.putters.notify_all(());
    }

    /// True once [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        lock(&self.inner).shutdown
    }

    /// The receiving side as a `futures::Stream` of items; it ends when the queue is
    /// shut down and empty.
    ///
    /// # Cancel safety
    /// The stream does not take cancel requests (a `Stream` has no way to report
    /// them); a task cancelled while waiting on it only is stopped by the task
    /// protocol, and no item is lost.
    pub fn stream(&self) -> QueueStream<T> {
        QueueStream {
            queue: self.clone(),
            key: None,
        }
    }

    fn poll_get(
        &self,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
        cancellable: bool,
    ) -> Poll<Result<T, Error>> {
        if cancellable {
            if let Some(c) = take_cancel() {
                self.abandon_get(key);
                return Poll::Ready(Err(c.into()));
            }
        }
        let mut st = lock(&self.inner);
        if let Some(k) = *key {
            if st.getters.take(k, cx.waker()).is_none() {
                return crate::pending(tulip_core::introspect::Waiting::Queue {
                    addr: crate::addr(&self.inner),
                });
            }
            *key = None;
        }
        if let Some(item) = st.get_now() {
            return Poll::Ready(Ok(item));
        }
        if st.shutdown {
            return Poll::Ready(Err(Error::QueueShutDown));
        }
        *key = Some(st.getters.push(cx.waker()));
        crate::pending(tulip_core::introspect::Waiting::Queue {
            addr: crate::addr(&self.inner),
        })
    }

    fn abandon_get(&self, key: &mut Option<usize>) {
        if let Some(k) = key.take() {
            let mut st = lock(&self.inner);
            if st.getters.remove(k).is_some() && st.items.len() > 0 {
                let _ = st.getters.notify_one(());
            }
        }
    }

    /// The sending side as a `futures::Sink` of items (see [`QueueSink`]): with
    /// `StreamExt::forward` or `SinkExt::send`, each item is put as
    /// [`put`](Self::put) would, waiting while a bounded queue is full.
    ///
    /// # Cancel safety
    /// As [`stream`](Self::stream), the sink does not take cancel requests; an item
    /// it accepted and could not put yet stays in the sink until a flush.
    pub fn sink(&self) -> QueueSink<T> {
        QueueSink {
            queue: self.clone(),
            item: None,
            key: None,
        }
    }

    fn poll_put(
        &self,
        item: &mut Option<T>,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
        cancellable: bool,
    ) -> Poll<Result<(), PutError<T>>> {
        let Some(value) = item.take() else {
            return Poll::Ready(Ok(()));
        };
        if cancellable {
            if let Some(c) = take_cancel() {
                self.abandon_put(key);
                return Poll::Ready(Err(PutError::Cancelled(value, c)));
            }
        }
        let mut st = lock(&self.inner);
        if let Some(k) = *key {
            if st.putters.take(k, cx.waker()).is_none() {
                *item = Some(value);
                return crate::pending(tulip_core::introspect::Waiting::Queue {
                    addr: crate::addr(&self.inner),
                });
            }
            *key = None;
        }
        if st.shutdown {
            return Poll::Ready(Err(PutError::ShutDown(value)));
        }
        if !st.full() {
            st.put_now(value);
            return Poll::Ready(Ok(()));
        }
        *key = Some(st.putters.push(cx.waker()));
        *item = Some(value);
        crate::pending(tulip_core::introspect::Waiting::Queue {
            addr: crate::addr(&self.inner),
        })
    }

    fn abandon_put(&self, key: &mut Option<usize>) {
        if let Some(k) = key.take() {
            let mut st = lock(&self.inner);
            if st.putters.remove(k).is_some() && !st.full() {
                let _ = st.putters.notify_one(());
            }
        }
    }
}

impl<T: Ord> Queue<T> {
    fn priority(maxsize: usize) -> Queue<T> {
        Queue::build(Store::Priority(BinaryHeap::new(), ord_cmp::<T>), maxsize)
    }
}

/// The future of [`Queue::put`].
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T> {
    queue: &'a Queue<T>,
    item: Option<T>,
    key: Option<usize>,
}

impl<T> Unpin for Put<'_, T> {}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A ready await point spends the task's budget (tulip_core::coop).
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        let this = self.get_mut();
        this.queue.poll_put(&mut this.item, &mut this.key, cx, true)
    }
}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        self.queue.abandon_put(&mut self.key);
    }
}

/// The future of [`Queue::get`].
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T> {
    queue: &'a Queue<T>,
    key: Option<usize>,
}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A ready await point spends the task's budget (tulip_core::coop).
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        let this = self.get_mut();
        this.queue.poll_get(&mut this.key, cx, true)
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        self.queue.abandon_get(&mut self.key);
    }
}

/// The future of [`Queue::join`].
#[must_use = "futures do nothing unless awaited"]
pub struct Join<'a, T> {
    queue: &'a Queue<T>,
    key: Option<usize>,
}

impl<T> Future for Join<'_, T> {
    type Output = tulip_core::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(c) = take_cancel() {
            this.abandon();
            return Poll::Ready(Err(c.into()));
        }
        let mut st = lock(&this.queue.inner);
        if let Some(k) = this.key {
            if st.joiners.take(k, cx.waker()).is_none() {
                return crate::pending(tulip_core::introspect::Waiting::Queue {
                    addr: crate::addr(&this.queue.inner),
                });
            }
            this.key = None;
        }
        if st.unfinished == 0 {
            return Poll::Ready(Ok(()));
        }
        this.key = Some(st.joiners.push(cx.waker()));
        crate::pending(tulip_core::introspect::Waiting::Queue {
            addr: crate::addr(&this.queue.inner),
        })
    }
}

impl<T> Join<'_, T> {
    fn abandon(&mut self) {
        if let Some(k) = self.key.take() {
            let _ = lock(&self.queue.inner).joiners.remove(k);
        }
    }
}

impl<T> Drop for Join<'_, T> {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// The receiving side of a [`Queue`] as a `futures::Stream`; see [`Queue::stream`].
///
/// # Examples
/// ```
/// use futures::StreamExt;
/// use tulip_sync::Queue;
/// let lp = tulip_local::new_event_loop().unwrap();
/// let got: Vec<i32> = lp.run_until_complete(async {
///     let q = Queue::new(0);
///     for n in 1..=3 {
///         q.put_nowait(n).unwrap();
///     }
///     q.shutdown(false);
///     Ok::<_, tulip_core::Error>(q.stream().collect().await)
/// })?;
/// assert_eq!(got, [1, 2, 3]);
/// # Ok::<(), tulip_core::Error>(())
/// ```
pub struct QueueStream<T> {
    queue: Queue<T>,
    key: Option<usize>,
}

impl<T> std::fmt::Debug for QueueStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueStream")
            .field("queue", &self.queue)
            .finish()
    }
}

impl<T> Unpin for QueueStream<T> {}

impl<T> Stream for QueueStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.queue
            .poll_get(&mut this.key, cx, false)
            .map(|r| r.ok())
    }
}

impl<T> Drop for QueueStream<T> {
    fn drop(&mut self) {
        self.queue.abandon_get(&mut self.key);
    }
}

/// The sending side of a [`Queue`] as a `futures::Sink`; see [`Queue::sink`].
///
/// `start_send` puts the item at once when there is room; otherwise the sink holds it
/// (one item at most) and `poll_ready` / `poll_flush` wait, as a putter does, until
/// the queue takes it. `poll_close` is `poll_flush`: it leaves the queue open (call
/// [`Queue::shutdown`] to end its stream). Errors: `QueueShutDown` once the queue is
/// shut down (an item held then is dropped). Dropping the sink drops an item it still
/// holds, as the `Sink` contract allows: flush or close it first.
///
/// # Examples
/// ```
/// use futures::{SinkExt, StreamExt};
/// use tulip_sync::Queue;
/// let lp = tulip_local::new_event_loop().unwrap();
/// let got: Vec<i32> = lp.run_until_complete(async {
///     let q = Queue::new(2); // bounded: the forward waits for the reader
///     let reader = tulip_core::create_task({
///         let q = q.clone();
///         async move { Ok::<_, tulip_core::Error>(q.stream().collect::<Vec<_>>().await) }
///     })?;
///     let mut sink = q.sink();
///     futures::stream::iter((1..=5).map(Ok)).forward(&mut sink).await?;
///     q.shutdown(false);
///     reader.await
/// })?;
/// assert_eq!(got, [1, 2, 3, 4, 5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct QueueSink<T> {
    queue: Queue<T>,
    item: Option<T>,
    key: Option<usize>,
}

impl<T> std::fmt::Debug for QueueSink<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueSink")
            .field("queue", &self.queue)
            .field("holding", &self.item.is_some())
            .finish()
    }
}

impl<T> Unpin for QueueSink<T> {}

impl<T> QueueSink<T> {
    /// Puts the held item, if any, waiting while the queue is full.
    fn poll_push(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match self
            .queue
            .poll_put(&mut self.item, &mut self.key, cx, false)
        {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(_)) => Poll::Ready(Err(Error::QueueShutDown)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Sink<T> for QueueSink<T> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_push(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Error> {
        let this = self.get_mut();
        if this.item.is_some() {
            return Err(Error::RuntimeError(
                "QueueSink::start_send without poll_ready",
            ));
        }
        match this.queue.put_nowait(item) {
            Ok(()) => Ok(()),
            Err(PutError::Full(v)) => {
                this.item = Some(v);
                Ok(())
            }
            Err(_) => Err(Error::QueueShutDown),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_push(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().poll_push(cx)
    }
}

impl<T> Drop for QueueSink<T> {
    fn drop(&mut self) {
        self.queue.abandon_put(&mut self.key);
    }
}

/// asyncio.PriorityQueue: a [`Queue`] that hands out the *smallest* item first.
/// It dereferences to [`Queue`] for the whole API.
///
/// # Examples
/// ```
/// use tulip_sync::PriorityQueue;
/// let q = PriorityQueue::new(0);
/// for p in [3, 1, 2] {
///     q.put_nowait((p, format!("job {p}"))).unwrap();
/// }
/// assert_eq!(q.get_nowait().unwrap().0, 1);
/// assert_eq!(q.get_nowait().unwrap().0, 2);
/// ```
pub struct PriorityQueue<T>(Queue<T>);

impl<T: Ord> PriorityQueue<T> {
    /// A priority queue holding at most `maxsize` items (0: unbounded).
    pub fn new(maxsize: usize) -> Self {
        PriorityQueue(Queue::priority(maxsize))
    }
}

/// asyncio.LifoQueue: a [`Queue`] that hands out the *newest* item first.
/// It dereferences to [`Queue`] for the whole API.
///
/// # Examples
/// ```
/// use tulip_sync::LifoQueue;
/// let q = LifoQueue::new(0);
/// q.put_nowait(1).unwrap();
/// q.put_nowait(2).unwrap();
/// assert_eq!(q.get_nowait().unwrap(), 2);
/// ```
pub struct LifoQueue<T>(Queue<T>);

impl<T> LifoQueue<T> {
    /// A LIFO queue holding at most `maxsize` items (0: unbounded).
    pub fn new(maxsize: usize) -> Self {
        LifoQueue(Queue::build(Store::Lifo(Vec::new()), maxsize))
    }
}

macro_rules! queue_wrapper {
    ($name:ident) => {
        impl<T> std::ops::Deref for $name<T> {
            type Target = Queue<T>;
            fn deref(&self) -> &Queue<T> {
                &self.0
            }
        }
        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name(self.0.clone())
            }
        }
        impl<T> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }
    };
}
queue_wrapper!(PriorityQueue);
queue_wrapper!(LifoQueue);
