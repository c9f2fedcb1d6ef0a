//! Polling a body once, without an event loop.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use crate::Error;

/// A waker that does nothing: bodies are resumed explicitly, never woken.
///
/// (`Waker::noop()` would do, but it needs Rust 1.85 and the workspace MSRV is lower.)
struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
    fn wake_by_ref(self: &Arc<Self>) {}
}

fn noop_waker() -> &'static Waker {
    static WAKER: OnceLock<Waker> = OnceLock::new();
    WAKER.get_or_init(|| Waker::from(Arc::new(Noop)))
}

/// A boxed, single-threaded body.
pub(crate) type Body<T> = Pin<Box<dyn Future<Output = Result<T, Error>>>>;

/// Polls `fut` once with a no-op waker; a panic becomes `Err(Error::Panicked)`.
pub(crate) fn poll_once<T>(fut: &mut Body<T>) -> Result<Poll<Result<T, Error>>, Error> {
    let mut cx = Context::from_waker(noop_waker());
    catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx)))
        .map_err(|payload| Error::Panicked(panic_message(payload.as_ref())))
}

/// Runs a closure that builds a body, turning a panic into `Err(Error::Panicked)`.
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|payload| Error::Panicked(panic_message(payload.as_ref())))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
