//! The main future of `run_until_complete`, as an executor drives it.
//!
//! The main future is not a spawned task (it may borrow from the caller and need not
//! be `Send`), so the executor keeps it in a [`MainSlot`] and polls it when a marker
//! for it comes up in its ready queue. The slot's waker puts the marker back, at most
//! once until the next poll, through the `requeue` function the executor supplies.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::backend::MainFuture;

struct MainWake {
    queued: AtomicBool,
    requeue: Box<dyn Fn() + Send + Sync>,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            (self.requeue)();
        }
    }
}

/// The main future of a `run_until` (or none, for `run_forever`), with its waker.
pub struct MainSlot<'m, 'f> {
    fut: Option<&'m mut MainFuture<'f>>,
    wake: Arc<MainWake>,
    waker: Waker,
    done: bool,
}

impl std::fmt::Debug for MainSlot<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MainSlot")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<'m, 'f> MainSlot<'m, 'f> {
    /// A slot for `fut`. The caller queues the first poll itself; after that, every
    /// wake-up calls `requeue` (from any thread) to queue the next one.
    pub fn new(
        fut: Option<&'m mut MainFuture<'f>>,
        requeue: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        let wake = Arc::new(MainWake {
            queued: AtomicBool::new(fut.is_some()),
            requeue: Box::new(requeue),
        });
        MainSlot {
            fut,
            waker: Waker::from(wake.clone()),
            wake,
            done: false,
        }
    }

    /// Polls the main future once (its marker came up in the ready queue).
    pub fn poll(&mut self) {
        self.wake.queued.store(false, Ordering::Release);
        if self.done {
            return;
        }
        if let Some(fut) = self.fut.as_mut() {
            let mut cx = Context::from_waker(&self.waker);
            if let Poll::Ready(()) = fut.as_mut().poll(&mut cx) {
                self.done = true;
            }
        }
    }

    /// True once the main future has completed.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// True for a `run_until` slot, false for `run_forever`'s empty one.
    pub fn has_future(&self) -> bool {
        self.fut.is_some()
    }
}
