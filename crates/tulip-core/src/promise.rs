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

use crate::current::take_cancel;
use crate::error::{Cancelled, Error, Result};
use crate::event_loop::EventLoop;
use crate::handle::Callback;
use crate::running::get_running_loop;

type PromiseCallback<T> = Box<dyn FnOnce(&Promise<T>) + Send + 'static>;

/// An awaiter's waker or a done-callback: both run in registration order, each as
/// its own callback (in asyncio an awaiting task's wake-up is a done-callback too).
enum Entry<T> {
    Wake(Waker),
    Call(PromiseCallback<T>),
}

struct State<T> {
    outcome: Option<Result<T>>,
    entries: Vec<(u64, Entry<T>)>,
    next_cb: u64,
}

struct Inner<T> {
    lp: Option<EventLoop>,
    state: Mutex<State<T>>,
}

/// A value that will be set later: asyncio's `Future`.
///
/// Clones share the same state. Awaiting gives `Ok(value)` (a clone), the error set
/// with [`set_exception`](Self::set_exception), or `Err(Cancelled)`.
///
/// # Examples
/// ```
/// use tulip_core::Promise;
/// let lp = tulip_local::new_event_loop().unwrap();
/// let p: Promise<u32> = lp.create_future();
/// let setter = p.clone();
/// lp.call_soon(move || { setter.set_result(7).unwrap(); })?;
/// assert_eq!(lp.run_until_complete(p.clone())?, 7);
/// assert!(p.done());
/// # Ok::<(), tulip_core::Error>(())
/// ```
pub struct Promise<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Promise<T> {
    fn clone(&self) -> Self {
        Promise {
            inner: self.inner.clone(),
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
pub struct CallbackId(u64);

impl<T: Send + 'static> Promise<T> {
    /// A promise not bound to a loop: its callbacks go to whichever loop is running
    /// when it completes (or run at once if none is).
    pub fn new() -> Self {
        Self::build(None)
    }

    pub(crate) fn with_loop(lp: EventLoop) -> Self {
        Self::build(Some(lp))
    }

    fn build(lp: Option<EventLoop>) -> Self {
        Promise {
            inner: Arc::new(Inner {
                lp,
                state: Mutex::new(State {
                    outcome: None,
                    entries: Vec::new(),
                    next_cb: 0,
                }),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn complete(&self, outcome: Result<T>) -> Result<()> {
        let entries = {
            let mut st = self.lock();
            if st.outcome.is_some() {
                return Err(Error::InvalidState("promise is already done"));
            }
            st.outcome = Some(outcome);
            std::mem::take(&mut st.entries)
        };
        self.schedule(entries.into_iter().map(|(_, e)| e).collect());
        Ok(())
    }

    /// Runs the awaiters and callbacks of a completed promise in registration order:
    /// a callback goes to the end of the loop's ready queue with `call_soon`; an
    /// awaiter is woken, which puts its next step at the end of the same queue — where
    /// asyncio's `call_soon(task.__wakeup)` would run it.
    fn schedule(&self, entries: Vec<Entry<T>>) {
        if entries.is_empty() {
            return;
        }
        let lp = if entries.iter().all(|e| matches!(e, Entry::Wake(_))) {
            None
        } else {
            self.inner.lp.clone().or_else(|| get_running_loop().ok())
        };
        for entry in entries {
            match (entry, &lp) {
                (Entry::Wake(w), _) => w.wake(),
                (Entry::Call(cb), None) => cb(self),
                (Entry::Call(cb), Some(lp)) => {
                    let me = self.clone();
                    // A closed loop drops the callback, as asyncio's does.
                    let _ = lp.backend().call_soon(Callback::internal(move || cb(&me)));
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
        self.lock().outcome.is_some()
    }

    /// True if it was cancelled.
    pub fn cancelled(&self) -> bool {
        matches!(self.lock().outcome, Some(Err(Error::Cancelled(_))))
    }

    /// The error it was completed with, `None` if it has a value.
    ///
    /// # Errors
    /// `InvalidState` if not done; `Cancelled` if cancelled (as asyncio raises).
    pub fn exception(&self) -> Result<Option<Error>> {
        match &self.lock().outcome {
            None => Err(Error::InvalidState("exception is not set")),
            Some(Err(e @ Error::Cancelled(_))) => Err(e.clone()),
            Some(Err(e)) => Ok(Some(e.clone())),
            Some(Ok(_)) => Ok(None),
        }
    }

    /// Schedules `cb` for when the promise is done (at once if it is).
    pub fn add_done_callback<F: FnOnce(&Promise<T>) + Send + 'static>(&self, cb: F) -> CallbackId {
        let mut st = self.lock();
        let id = st.next_cb;
        st.next_cb += 1;
        if st.outcome.is_none() {
            st.entries.push((id, Entry::Call(Box::new(cb))));
        } else {
            drop(st);
            self.schedule(vec![Entry::Call(Box::new(cb))]);
        }
        CallbackId(id)
    }

    /// Removes a callback that has not been scheduled yet; returns how many were
    /// removed (0 or 1).
    pub fn remove_done_callback(&self, id: CallbackId) -> usize {
        let mut st = self.lock();
        let before = st.entries.len();
        st.entries
            .retain(|(i, e)| *i != id.0 || matches!(e, Entry::Wake(_)));
        before - st.entries.len()
    }
}

impl<T: Clone + Send + 'static> Promise<T> {
    /// The value, without waiting.
    ///
    /// # Errors
    /// `InvalidState` if not done; the stored error (or `Cancelled`) otherwise.
    pub fn result(&self) -> Result<T> {
        match &self.lock().outcome {
            None => Err(Error::InvalidState("result is not set")),
            Some(r) => r.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> Future for Promise<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        if let Some(c) = take_cancel() {
            // asyncio: cancelling a task that awaits a future cancels the future.
            let _ = self.complete(Err(Error::Cancelled(c.clone())));
            return Poll::Ready(Err(Error::Cancelled(c)));
        }
        let mut st = self.lock();
        if let Some(r) = &st.outcome {
            let r = r.clone();
            drop(st);
            std::task::ready!(crate::coop::poll_proceed(cx));
            return Poll::Ready(r);
        }
        let known = st
            .entries
            .iter()
            .any(|(_, e)| matches!(e, Entry::Wake(w) if w.will_wake(cx.waker())));
        if !known {
            let id = st.next_cb;
            st.next_cb += 1;
            st.entries.push((id, Entry::Wake(cx.waker().clone())));
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
        Promise::with_loop(self.internal())
    }
}
