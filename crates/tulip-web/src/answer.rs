//! [`Answer`]: one request's response on its way — ready at once (404, 405, a
//! panicking handler's 500) or a handler's boxed future — with the panic guard.
//!
//! The server polls it straight from hyper's service future: no `async fn` layers
//! between hyper and the handler's own future, each of which moved the request and
//! the response through its state once more (about 1,000 instructions a request on
//! the hello benchmark, `scripts/callgrind_hello.sh`).

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use http::StatusCode;

use crate::response::{error_response, Response};
use crate::router::BoxResponse;

/// A response, ready or coming.
pub(crate) enum Answer {
    /// Taken by the first poll.
    Ready(Option<Response>),
    Running(BoxResponse),
}

impl Answer {
    /// Runs `start` (the synchronous part of answering: routing, calling the
    /// handler's function); a panic in it is a 500.
    pub(crate) fn guard(start: impl FnOnce() -> Answer) -> Answer {
        catch_unwind(AssertUnwindSafe(start))
            .unwrap_or_else(|panic| Answer::Ready(Some(panicked(&*panic))))
    }
}

impl Future for Answer {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.get_mut() {
            // Polled again after it gave its response: a 500 rather than a panic.
            Answer::Ready(r) => Poll::Ready(
                r.take()
                    .unwrap_or_else(|| error_response(StatusCode::INTERNAL_SERVER_ERROR)),
            ),
            Answer::Running(fut) => {
                match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                    Ok(p) => p,
                    Err(panic) => Poll::Ready(panicked(&*panic)),
                }
            }
        }
    }
}

/// A handler panicked: logged, and answered with a 500.
#[cold]
fn panicked(panic: &(dyn std::any::Any + Send)) -> Response {
    tracing::error!(
        target: "tulip_web::server",
        panic = tulip_core::panic_message(panic),
        "handler panicked"
    );
    error_response(StatusCode::INTERNAL_SERVER_ERROR)
}
