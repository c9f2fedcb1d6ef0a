//! Handles to scheduled callbacks: `Handle` (call_soon) and `TimerHandle` (call_later).
//!
//! A callback is cancelled by flipping a flag it shares with its handle; the loop checks
//! the flag right before running it, as asyncio's `Handle._run` does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A callback scheduled with `call_soon`; `cancel()` stops it from running.
#[derive(Debug, Clone)]
pub struct Handle {
    cancelled: Arc<AtomicBool>,
}

impl Handle {
    pub(crate) fn new() -> Handle {
        Handle {
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Cancels the callback. No effect if it already ran.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    /// True once `cancel()` was called.
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
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
    f: Action,
    handle: Option<Handle>,
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

impl Callback {
    pub(crate) fn new(f: Box<dyn FnOnce() + Send + 'static>, handle: Option<Handle>) -> Self {
        Callback {
            f: Action::Call(f),
            handle,
        }
    }

    /// A callback that wakes `waker`, cancellable through `handle`.
    pub(crate) fn wake(waker: std::task::Waker, handle: Handle) -> Self {
        Callback {
            f: Action::Wake(waker),
            handle: Some(handle),
        }
    }

    /// A callback that wakes `waker` and that nobody can cancel.
    pub fn wake_only(waker: std::task::Waker) -> Self {
        Callback {
            f: Action::Wake(waker),
            handle: None,
        }
    }

    /// A callback that nobody can cancel (used for the loop's own bookkeeping).
    pub fn internal<F: FnOnce() + Send + 'static>(f: F) -> Self {
        Callback {
            f: Action::Call(Box::new(f)),
            handle: None,
        }
    }

    /// True for a callback that only wakes a task (the timer of a `sleep`): running it
    /// runs no user code, so an executor may run it on any thread, provided no callback
    /// that fell due before it is still waiting to run.
    pub fn only_wakes(&self) -> bool {
        matches!(self.f, Action::Wake(_))
    }

    /// True if its handle was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.handle.as_ref().is_some_and(Handle::cancelled)
    }

    /// Runs the callback unless it was cancelled. Panics propagate: the executor catches
    /// them and reports them to the loop's exception handler.
    pub fn run(self) {
        if !self.is_cancelled() {
            match self.f {
                Action::Call(f) => f(),
                Action::Wake(w) => w.wake(),
            }
        }
    }
}
