//! Server presets: hyper's connection builders with tulip's timer and executor
//! already set, and one-call `serve_*` functions for one accepted connection.
//!
//! The `serve_*` functions are tulip await points: cancelling the task that awaits
//! one closes the connection and ends the task cancelled.

use std::error::Error as StdError;

use futures::io::{AsyncRead, AsyncWrite};
use hyper::body::{Body, Incoming};
use hyper::server::conn::{http1, http2};
use hyper::service::{HttpService, Service};
use hyper::{Request, Response};
use hyper_util::server::conn::auto;

use crate::cancel::Cancellable;
use crate::error::Error;
use crate::executor::{TulipExecutor, TulipLocalExecutor};
use crate::io::TulipIo;
use crate::timer::TulipTimer;

/// hyper's HTTP/1 server builder with [`TulipTimer`] set (so its
/// `header_read_timeout`, 30 s unless changed, is in force).
pub fn http1() -> http1::Builder {
    let mut b = http1::Builder::new();
    b.timer(TulipTimer::new());
    b
}

/// hyper's HTTP/2 server builder with [`TulipExecutor`] and [`TulipTimer`].
pub fn http2() -> http2::Builder<TulipExecutor> {
    let mut b = http2::Builder::new(TulipExecutor::new());
    b.timer(TulipTimer::new());
    b
}

/// hyper's HTTP/2 server builder for services whose futures are not `Send`: streams
/// run as tasks pinned to the thread driving the connection ([`TulipLocalExecutor`]).
pub fn http2_local() -> http2::Builder<TulipLocalExecutor> {
    let mut b = http2::Builder::new(TulipLocalExecutor::new());
    b.timer(TulipTimer::new());
    b
}

/// hyper-util's automatic server builder (HTTP/1, or HTTP/2 when the client opens
/// with the HTTP/2 preface) with [`TulipExecutor`] and [`TulipTimer`] on both sides.
pub fn auto() -> auto::Builder<TulipExecutor> {
    let mut b = auto::Builder::new(TulipExecutor::new());
    b.http1().timer(TulipTimer::new());
    b.http2().timer(TulipTimer::new());
    b
}

/// Serves one HTTP/1 connection on `io` with `service`, upgrades allowed, until the
/// client closes it.
///
/// # Errors
/// hyper's error when the connection fails (a malformed request, the header-read
/// timeout, an I/O error); `Cancelled` when the awaiting task is cancelled.
pub async fn serve_http1<I, S, B>(io: I, service: S) -> Result<(), Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let conn = http1()
        .serve_connection(TulipIo::new(io), service)
        .with_upgrades();
    Cancellable::new(conn).await??;
    Ok(())
}

/// Serves one HTTP/2 connection on `io` with `service`; each stream runs as its own
/// tulip task.
///
/// # Errors
/// As [`serve_http1`].
pub async fn serve_http2<I, S, B>(io: I, service: S) -> Result<(), Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: HttpService<Incoming, ResBody = B> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let conn = http2().serve_connection(TulipIo::new(io), service);
    Cancellable::new(conn).await??;
    Ok(())
}

/// Serves one connection on `io`, HTTP/1 or HTTP/2 as the client speaks, upgrades
/// allowed.
///
/// # Errors
/// As [`serve_http1`] ([`Error::Server`] for protocol errors).
pub async fn serve<I, S, B>(io: I, service: S) -> Result<(), Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let builder = auto();
    let conn = builder.serve_connection_with_upgrades(TulipIo::new(io), service);
    Cancellable::new(conn).await?.map_err(Error::Server)
}
