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

use crate::error::{Cancelled, Error, Result};
use crate::event_loop::EventLoop;
use crate::handle::Callback;
use crate::registry::get_running_loop;
use crate::tasks::take_cancel;

type PromiseCallback<T> = Box<dyn FnOnce(&Promise<T>) + Send + 'static>;

struct State<T> {
    outcome: Option<Result<T>>,
    wakers: Vec<Waker>,
    callbacks: Vec<(u64, PromiseCallback<T>)>,
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
/// assert_eq!(lp.run_until_complete(p.clone())??, 7);
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
                    wakers: Vec::new(),
                    callbacks: Vec::new(),
                    next_cb: 0,
                }),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn complete(&self, outcome: Result<T>) -> Result<()> {
        let (wakers, cbs) = {
            let mut st = self.lock();
            if st.outcome.is_some() {
                return Err(Error::InvalidState("promise is already done"));
            }
            st.outcome = Some(outcome);
            (
                std::mem::take(&mut st.wakers),
                std::mem::take(&mut st.callbacks),
            )
        };
        for w in wakers {
            w.wake();
        }
        self.schedule_callbacks(cbs.into_iter().map(|(_, cb)| cb).collect());
        Ok(())
    }

    fn schedule_callbacks(&self, cbs: Vec<PromiseCallback<T>>) {
        if cbs.is_empty() {
            return;
        }
        let me = self.clone();
        let run = move || {
            for cb in cbs {
                cb(&me)
            }
        };
        let lp = self.inner.lp.clone().or_else(|| get_running_loop().ok());
        match lp {
            Some(lp) => {
                // A closed loop drops the callbacks, as asyncio's does.
                let _ = lp.backend().call_soon(Callback::internal(run));
            }
            None => run(),
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
            st.callbacks.push((id, Box::new(cb)));
        } else {
            drop(st);
            self.schedule_callbacks(vec![Box::new(cb)]);
        }
        CallbackId(id)
    }

    /// Removes a callback that has not been scheduled yet; returns how many were
    /// removed (0 or 1).
    pub fn remove_done_callback(&self, id: CallbackId) -> usize {
        let mut st = self.lock();
        let before = st.callbacks.len();
        st.callbacks.retain(|(i, _)| *i != id.0);
        before - st.callbacks.len()
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
            return Poll::Ready(r.clone());
        }
        if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            st.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}
