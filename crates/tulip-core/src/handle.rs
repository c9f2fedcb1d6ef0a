//! Handles to scheduled callbacks: `Handle` (call_soon) and `TimerHandle` (call_later).
//!
//! A callback that has a handle keeps what it does inside the handle, not in the
//! loop's queue: `cancel()` raises the flag and drops the closure (or the waker) at
//! once, as asyncio's `Handle.cancel()` clears `_callback` and `_args`. The queue's
//! entry is then an empty shell until it surfaces, so a cancelled timer an hour out
//! keeps nothing alive for that hour (a sleeping task's cell, a socket a closure
//! holds). The loop checks the flag right before running, as asyncio's `Handle._run`
//! does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A callback scheduled with `call_soon`; `cancel()` stops it from running.
#[derive(Clone)]
pub struct Handle {
    inner: Arc<Shared>,
}

/// What a handle and its queue entry share.
struct Shared {
    cancelled: AtomicBool,
    /// The callback, until it runs or is cancelled.
    action: Mutex<Option<Action>>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("cancelled", &self.cancelled())
            .finish_non_exhaustive()
    }
}

impl Handle {
    fn holding(action: Action) -> Handle {
        Handle {
            inner: Arc::new(Shared {
                cancelled: AtomicBool::new(false),
                action: Mutex::new(Some(action)),
            }),
        }
    }

    /// Cancels the callback and drops it now. No effect if it already ran.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Release);
        // Dropped outside the lock: a closure's destructor may do anything.
        let action = self.take();
        drop(action);
    }

    /// True once `cancel()` was called.
    pub fn cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }

    fn take(&self) -> Option<Action> {
        // A poisoned lock: only the `take` of another thread panicked, which cannot
        // leave the `Option` half-written.
        self.inner
            .action
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// A callback scheduled with `call_later` / `call_at`.
#[derive(Debug, Clone)]
pub struct TimerHandle {
    handle: Handle,
    when: Instant,
}

impl TimerHandle {
    pub(crate) fn new(handle: Handle, when: Instant) -> Self {
        TimerHandle { handle, when }
    }

    /// Cancels the timer. No effect if it already fired.
    pub fn cancel(&self) {
        self.handle.cancel()
    }

    /// True once `cancel()` was called.
    pub fn cancelled(&self) -> bool {
        self.handle.cancelled()
    }

    /// When the callback is due.
    pub fn when(&self) -> Instant {
        self.when
    }
}

/// A scheduled callback as an executor stores it: run it with [`Callback::run`].
pub struct Callback {
    slot: Slot,
}

/// Where a callback's action is.
enum Slot {
    /// Here: nobody can cancel it.
    Own(Action),
    /// In its handle, which `cancel()` empties; `wakes` says whether the action only
    /// wakes a waker (known without the handle's lock).
    Shared { handle: Handle, wakes: bool },
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback").finish_non_exhaustive()
    }
}

/// What a callback does: call a closure, or (for timers that only wake a task, the
/// commonest kind) wake a waker, which needs no allocation of its own.
enum Action {
    Call(Box<dyn FnOnce() + Send + 'static>),
    Wake(std::task::Waker),
}

impl Action {
    fn run(self) {
        match self {
            Action::Call(f) => f(),
            Action::Wake(w) => w.wake(),
        }
    }
}

impl Callback {
    /// A callback calling `f`, and the handle that cancels it.
    pub(crate) fn with_handle(f: Box<dyn FnOnce() + Send + 'static>) -> (Self, Handle) {
        Self::in_handle(Action::Call(f))
    }

    /// A callback that wakes `waker`, and the handle that cancels it (and drops the
    /// waker).
    pub fn wake_with_handle(waker: std::task::Waker) -> (Self, Handle) {
        Self::in_handle(Action::Wake(waker))
    }

    /// `action` kept in a new handle, and the callback that runs it from there.
    fn in_handle(action: Action) -> (Self, Handle) {
        let wakes = matches!(action, Action::Wake(_));
        let handle = Handle::holding(action);
        let cb = Callback {
            slot: Slot::Shared {
                handle: handle.clone(),
                wakes,
            },
        };
        (cb, handle)
    }

    /// A callback that wakes `waker` and that nobody can cancel.
    pub fn wake_only(waker: std::task::Waker) -> Self {
        Callback {
            slot: Slot::Own(Action::Wake(waker)),
        }
    }

    /// A callback that nobody can cancel (used for the loop's own bookkeeping).
    pub fn internal<F: FnOnce() + Send + 'static>(f: F) -> Self {
        Callback {
            slot: Slot::Own(Action::Call(Box::new(f))),
        }
    }

    /// True for a callback that only wakes a task (the timer of a `sleep`): running it
    /// runs no user code, so an executor may run it on any thread, provided no callback
    /// that fell due before it is still waiting to run.
    pub fn only_wakes(&self) -> bool {
        match &self.slot {
            Slot::Own(a) => matches!(a, Action::Wake(_)),
            Slot::Shared { wakes, .. } => *wakes,
        }
    }

    /// True if its handle was cancelled.
    pub fn is_cancelled(&self) -> bool {
        match &self.slot {
            Slot::Own(_) => false,
            Slot::Shared { handle, .. } => handle.cancelled(),
        }
    }

    /// Runs the callback unless it was cancelled. Panics propagate: the executor catches
    /// them and reports them to the loop's exception handler.
    pub fn run(self) {
        match self.slot {
            Slot::Own(a) => a.run(),
            Slot::Shared { handle, .. } => {
                if !handle.cancelled() {
                    if let Some(a) = handle.take() {
                        a.run();
                    }
                }
            }
        }
    }
}
