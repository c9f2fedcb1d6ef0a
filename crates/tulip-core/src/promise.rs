//! `Promise<T>`: asyncio's `Future` — a result that will be set later, by anyone.
//!
//! Named `Promise` so it never shadows `std::future::Future`. State lives behind one
//! mutex: the outcome once set, the wakers of the tasks awaiting it, and the
//! done-callbacks. Done-callbacks are scheduled with `call_soon` on the promise's loop
//! (or the running loop), never run inline from `set_result`, as in asyncio.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::backend::Backend;
use crate::current::take_cancel;
use crate::error::{Cancelled, Error, Result};
use crate::event_loop::EventLoop;
use crate::first_rest::FirstRest;
use crate::handle::Callback;
use crate::running::get_running_loop;

type PromiseCallback<T> = Box<dyn FnOnce(&Promise<T>) + Send + 'static>;

/// An awaiter's waker or a done-callback (with its id, for `remove_done_callback`):
/// both run in registration order, each as its own callback (in asyncio an awaiting
/// task's wake-up is a done-callback too).
enum Entry<T> {
    Wake(u32, Waker),
    Call(u32, PromiseCallback<T>),
}

/// Before completion the entries waiting for it; after, the outcome (nothing waits
/// on a done promise: a callback added then is scheduled at once).
enum Phase<T> {
    Pending(FirstRest<Entry<T>>),
    Done(Result<T>),
}

struct State<T> {
    phase: Phase<T>,
    next_cb: u32,
}

/// One allocation per promise: an awaiter or a callback is kept inline, the loop
/// as its executor alone (a promise's loop handle never keeps the loop open).
struct Inner<T> {
    lp: Option<Arc<dyn Backend>>,
    state: Mutex<State<T>>,
}

impl<T> Inner<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Takes the next entry id from `counter`, skipping [`NOT_WAITING`].
fn next_id(counter: &mut u32) -> u32 {
    let id = *counter;
    *counter = counter.wrapping_add(1) % NOT_WAITING;
    id
}

impl<T> State<T> {
    fn outcome(&self) -> Option<&Result<T>> {
        match &self.phase {
            Phase::Done(r) => Some(r),
            Phase::Pending(_) => None,
        }
    }
}

/// A value that will be set later: asyncio's `Future`.
///
/// Clones share the same state. Awaiting gives `Ok(value)` (a clone), the error set
/// with [`set_exception`](Self::set_exception), or `Err(Cancelled)`.
///
/// # Examples
/// ```
/// use tulip::Promise;
/// let lp = tulip::new_event_loop().unwrap();
/// let p: Promise<u32> = lp.create_future();
/// let setter = p.clone();
/// lp.call_soon(move || { setter.set_result(7).unwrap(); })?;
/// assert_eq!(lp.run_until_complete(p.clone())?, 7);
/// assert!(p.done());
/// # Ok::<(), tulip::Error>(())
/// ```
#[must_use = "a Promise does nothing unless awaited or given a result"]
pub struct Promise<T> {
    inner: Arc<Inner<T>>,
    /// The awaiter entry this handle registered while the promise was pending (its
    /// id, or [`NOT_WAITING`]): a poll again finds it without a look at the other
    /// awaiters, and dropping the handle takes it out.
    waiting: u32,
}

/// A handle that has not registered an awaiter.
const NOT_WAITING: u32 = u32::MAX;

impl<T> Clone for Promise<T> {
    /// Another handle to the same promise (one that awaits nothing yet).
    fn clone(&self) -> Self {
        Promise {
            inner: self.inner.clone(),
            waiting: NOT_WAITING,
        }
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if self.waiting != NOT_WAITING {
            // A wait given up (a `select!` that took another branch): its waker goes
            // now, not when the promise completes.
            if let Phase::Pending(entries) = &mut self.inner.lock().phase {
                let id = self.waiting;
                entries.retain(|e| !matches!(e, Entry::Wake(i, _) if *i == id));
            }
        }
    }
}

impl<T: Send + 'static> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("done", &self.done())
            .finish()
    }
}

impl<T: Send + 'static> Default for Promise<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Identifies a done-callback for [`Promise::remove_done_callback`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackId(u32);

impl<T: Send + 'static> Promise<T> {
    /// A promise not bound to a loop: its callbacks go to whichever loop is running
    /// when it completes (or run at once if none is).
    pub fn new() -> Self {
        Self::build(None)
    }

    pub(crate) fn with_loop(lp: &EventLoop) -> Self {
        Self::build(Some(lp.backend_arc()))
    }

    fn build(lp: Option<Arc<dyn Backend>>) -> Self {
        Promise {
            inner: Arc::new(Inner {
                lp,
                state: Mutex::new(State {
                    phase: Phase::Pending(FirstRest::default()),
                    next_cb: 0,
                }),
            }),
            waiting: NOT_WAITING,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.inner.lock()
    }

    fn complete(&self, outcome: Result<T>) -> Result<()> {
        let entries = {
            let mut st = self.lock();
            match std::mem::replace(&mut st.phase, Phase::Done(outcome)) {
                Phase::Pending(entries) => entries,
                done @ Phase::Done(_) => {
                    st.phase = done;
                    return Err(Error::InvalidState("promise is already done"));
                }
            }
        };
        self.schedule(entries);
        Ok(())
    }

    /// Runs the awaiters and callbacks of a completed promise in registration order:
    /// a callback goes to the end of the loop's ready queue with `call_soon`; an
    /// awaiter is woken, which puts its next step at the end of the same queue — where
    /// asyncio's `call_soon(task.__wakeup)` would run it.
    fn schedule(&self, mut entries: FirstRest<Entry<T>>) {
        let lp = if entries.iter().all(|e| matches!(e, Entry::Wake(..))) {
            None
        } else {
            self.inner
                .lp
                .clone()
                .or_else(|| get_running_loop().ok().map(|lp| lp.backend_arc()))
        };
        for entry in entries.take() {
            match (entry, &lp) {
                (Entry::Wake(_, w), _) => w.wake(),
                (Entry::Call(_, cb), None) => cb(self),
                (Entry::Call(_, cb), Some(lp)) => {
                    let me = self.clone();
                    // A closed loop drops the callback, as asyncio's does.
                    let _ = lp.call_soon(Callback::internal(move || cb(&me)));
                }
            }
        }
    }

    /// Marks the promise done with `value` and wakes its awaiters.
    ///
    /// # Errors
    /// `InvalidState` if it is already done (or cancelled).
    pub fn set_result(&self, value: T) -> Result<()> {
        self.complete(Ok(value))
    }

    /// Marks the promise done with an error.
    ///
    /// # Errors
    /// `InvalidState` if it is already done.
    pub fn set_exception(&self, error: Error) -> Result<()> {
        self.complete(Err(error))
    }

    /// Cancels the promise; returns false if it was already done.
    pub fn cancel(&self) -> bool {
        self.complete(Err(Error::Cancelled(Cancelled::default())))
            .is_ok()
    }

    /// [`cancel`](Self::cancel) with a message.
    pub fn cancel_with(&self, msg: impl Into<String>) -> bool {
        self.complete(Err(Error::Cancelled(Cancelled {
            msg: Some(msg.into()),
        })))
        .is_ok()
    }

    /// True once a result, an error or a cancel is set.
    pub fn done(&self) -> bool {
        self.lock().outcome().is_some()
    }

    /// True if it was cancelled.
    pub fn cancelled(&self) -> bool {
        matches!(self.lock().outcome(), Some(Err(Error::Cancelled(_))))
    }

    /// The error it was completed with, `None` if it has a value.
    ///
    /// # Errors
    /// `InvalidState` if not done; `Cancelled` if cancelled (as asyncio raises).
    pub fn exception(&self) -> Result<Option<Error>> {
        match self.lock().outcome() {
            None => Err(Error::InvalidState("exception is not set")),
            Some(Err(e @ Error::Cancelled(_))) => Err(e.clone()),
            Some(Err(e)) => Ok(Some(e.clone())),
            Some(Ok(_)) => Ok(None),
        }
    }

    /// Schedules `cb` for when the promise is done (at once if it is).
    pub fn add_done_callback<F: FnOnce(&Promise<T>) + Send + 'static>(&self, cb: F) -> CallbackId {
        let mut st = self.lock();
        let id = next_id(&mut st.next_cb);
        let entry = Entry::Call(id, Box::new(cb));
        match &mut st.phase {
            Phase::Pending(entries) => entries.push(entry),
            Phase::Done(_) => {
                drop(st);
                let mut now = FirstRest::default();
                now.push(entry);
                self.schedule(now);
            }
        }
        CallbackId(id)
    }

    /// Removes a callback that has not been scheduled yet; returns how many were
    /// removed (0 or 1).
    pub fn remove_done_callback(&self, id: CallbackId) -> usize {
        match &mut self.lock().phase {
            Phase::Pending(entries) => {
                entries.retain(|e| !matches!(e, Entry::Call(i, _) if *i == id.0))
            }
            Phase::Done(_) => 0,
        }
    }
}

impl<T: Clone + Send + 'static> Promise<T> {
    /// The value, without waiting.
    ///
    /// # Errors
    /// `InvalidState` if not done; the stored error (or `Cancelled`) otherwise.
    pub fn result(&self) -> Result<T> {
        match self.lock().outcome() {
            None => Err(Error::InvalidState("result is not set")),
            Some(r) => r.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> Future for Promise<T> {
    type Output = Result<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Some(c) = take_cancel() {
            // asyncio: cancelling a task that awaits a future cancels the future.
            let _ = self.complete(Err(Error::Cancelled(c.clone())));
            return Poll::Ready(Err(Error::Cancelled(c)));
        }
        let this = &mut *self;
        let mut st = this.inner.lock();
        let State { phase, next_cb } = &mut *st;
        match phase {
            Phase::Done(r) => {
                let r = r.clone();
                drop(st);
                this.waiting = NOT_WAITING;
                std::task::ready!(crate::coop::poll_proceed(cx));
                return Poll::Ready(r);
            }
            // Polled again: refresh this handle's own entry. Only a handle that
            // polls again looks through the entries, so a promise awaited by n tasks
            // costs n registrations, not n² comparisons.
            Phase::Pending(entries) if this.waiting != NOT_WAITING => {
                let id = this.waiting;
                let mine = entries.iter_mut().find_map(|e| match e {
                    Entry::Wake(i, w) if *i == id => Some(w),
                    _ => None,
                });
                match mine {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    Some(w) => w.clone_from(cx.waker()),
                    None => {
                        entries.push(Entry::Wake(id, cx.waker().clone()));
                    }
                }
            }
            Phase::Pending(entries) => {
                let id = next_id(next_cb);
                entries.push(Entry::Wake(id, cx.waker().clone()));
                this.waiting = id;
            }
        }
        drop(st);
        crate::introspect::note_wait(crate::introspect::Waiting::Promise {
            addr: Arc::as_ptr(&self.inner) as *const () as usize,
        });
        Poll::Pending
    }
}

impl EventLoop {
    /// A new promise bound to this loop (asyncio's `loop.create_future()`): its
    /// done-callbacks are scheduled on this loop.
    pub fn create_future<T: Send + 'static>(&self) -> Promise<T> {
        Promise::with_loop(self)
    }
}

#[cfg(test)]
mod tests {
    use super::{Entry, Inner, Promise};
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn a_promise_is_one_small_allocation() {
        // The idle_promise benchmark row: a task parked on its own promise pays for
        // this (plus the `Arc`'s two counts and the allocator's word). It was 104
        // bytes, plus a 128-byte vector for the first awaiter's waker. A handle is
        // the `Arc` and its own awaiter's id.
        assert_eq!(std::mem::size_of::<Entry<()>>(), 24);
        assert!(std::mem::size_of::<Inner<()>>() <= 72);
        assert_eq!(std::mem::size_of::<Promise<()>>(), 16);
    }

    /// A counting waker.
    struct Count(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn waiting<T>(p: &Promise<T>) -> usize {
        match &p.inner.state.lock().unwrap().phase {
            super::Phase::Pending(entries) => entries.len(),
            super::Phase::Done(_) => 0,
        }
    }

    fn poll_with(p: &mut Promise<u32>, w: &std::sync::Arc<Count>) -> bool {
        let waker = Waker::from(w.clone());
        std::pin::Pin::new(p)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    }

    #[test]
    fn a_handle_polled_again_keeps_one_entry_and_the_latest_waker() {
        let p: Promise<u32> = Promise::new();
        let (a, b) = (
            std::sync::Arc::new(Count(Default::default())),
            std::sync::Arc::new(Count(Default::default())),
        );
        let mut mine = p.clone();
        for w in [&a, &a, &b] {
            assert!(poll_with(&mut mine, w));
        }
        // A clone has not registered anything: its first poll adds its own entry.
        let mut other = mine.clone();
        assert!(poll_with(&mut other, &a));
        assert_eq!(waiting(&p), 2);
        drop(other);
        assert_eq!(
            waiting(&p),
            1,
            "a dropped waiting handle takes its entry out"
        );
        p.set_result(1).unwrap();
        let woken = |w: &std::sync::Arc<Count>| w.0.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!((woken(&a), woken(&b)), (0, 1));
        assert!(!poll_with(&mut mine, &b));
    }

    #[test]
    fn awaiters_and_callbacks_keep_registration_order_past_the_inline_one() {
        let p: Promise<u32> = Promise::new();
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut fut = p.clone();
        let waker = Waker::noop();
        assert!(matches!(
            std::pin::Pin::new(&mut fut).poll(&mut Context::from_waker(waker)),
            Poll::Pending
        ));
        let ids: Vec<_> = (0..3)
            .map(|i| {
                let order = order.clone();
                p.add_done_callback(move |p| order.lock().unwrap().push((i, p.result().unwrap())))
            })
            .collect();
        assert_eq!(p.remove_done_callback(ids[1]), 1);
        assert_eq!(p.remove_done_callback(ids[1]), 0);
        // No loop runs: the callbacks run inline, in their order.
        p.set_result(7).unwrap();
        assert_eq!(*order.lock().unwrap(), [(0, 7), (2, 7)]);
        assert_eq!(p.remove_done_callback(ids[2]), 0);
        assert!(p.set_result(8).is_err());
        assert_eq!(p.result().unwrap(), 7);
    }
}
