//! [`Cancellable`]: makes a plain future (hyper's connections and streams know
//! nothing of tulip) end when its tulip task is asked to cancel.
//!
//! tulip delivers `task.cancel()` at the task's next await point; hyper's futures
//! have none of their own (the `futures::io` traits and hyper's timer do not take
//! cancel requests), so without this wrapper a cancelled connection task would stay
//! parked until its peer spoke. Each poll first takes the task's pending cancel
//! request; on one, the inner future is dropped (the socket closes) and the wrapper
//! ends with `Err(Cancelled)`, so the task ends *cancelled*, as asyncio's does.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

pin_project! {
    /// A future that also ends, with `Err(Cancelled)`, when its task is cancelled.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct Cancellable<F> {
        #[pin]
        inner: Option<F>,
    }
}

impl<F> Cancellable<F> {
    /// Wraps `inner`.
    pub fn new(inner: F) -> Self {
        Cancellable { inner: Some(inner) }
    }
}

impl<F: Future> Future for Cancellable<F> {
    type Output = Result<F::Output, tulip_core::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.project().inner;
        if let Some(c) = tulip_core::take_cancel() {
            // Drop the inner future now: its socket closes at once, not when the
            // task's storage goes.
            inner.set(None);
            return Poll::Ready(Err(tulip_core::Error::Cancelled(c)));
        }
        match inner.as_mut().as_pin_mut() {
            Some(f) => match f.poll(cx) {
                Poll::Ready(out) => {
                    inner.set(None);
                    Poll::Ready(Ok(out))
                }
                Poll::Pending => Poll::Pending,
            },
            None => Poll::Ready(Err(tulip_core::Error::InvalidState(
                "Cancellable polled after it finished",
            ))),
        }
    }
}
