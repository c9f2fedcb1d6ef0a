//! Client presets: connect (or take a connected stream), handshake, and spawn the
//! connection's driver as a detached tulip task, so the caller holds only hyper's
//! `SendRequest`.
//!
//! The driver task ends when the `SendRequest` (and every clone) is dropped, when
//! the server closes the connection, or when the task is cancelled.

use std::error::Error as StdError;

use futures::io::{AsyncRead, AsyncWrite};
use hyper::body::Body;
use hyper::client::conn::{http1, http2};
use tulip_net::{TcpStream, ToAddrs};

use crate::cancel::Cancellable;
use crate::error::Error;
use crate::executor::TulipExecutor;
use crate::io::TulipIo;
use crate::timer::TulipTimer;

/// Connects to `addr` over TCP (`TCP_NODELAY` on) and hands back an HTTP/1 sender.
///
/// # Errors
/// The connect error, or hyper's handshake error.
pub async fn connect<B>(addr: impl ToAddrs) -> Result<http1::SendRequest<B>, Error>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    handshake(tcp(addr).await?).await
}

/// Connects to `addr` over TCP (`TCP_NODELAY` on) and hands back an HTTP/2 sender
/// (prior knowledge: no upgrade from HTTP/1).
///
/// # Errors
/// As [`connect`].
pub async fn connect_http2<B>(addr: impl ToAddrs) -> Result<http2::SendRequest<B>, Error>
where
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    handshake_http2(tcp(addr).await?).await
}

async fn tcp(addr: impl ToAddrs) -> Result<TcpStream, Error> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// HTTP/1 handshake over a connected stream; spawns the connection's driver
/// (upgrades allowed: after a `101`, `hyper::upgrade::on(response)` hands over the
/// connection, which [`TulipIo`] turns into a `futures::io` stream).
///
/// # Errors
/// hyper's handshake error; the loop's error if the driver cannot be spawned.
pub async fn handshake<T, B>(io: T) -> Result<http1::SendRequest<B>, Error>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (sender, conn) = http1::handshake(TulipIo::new(io)).await?;
    // Upgrades allowed: `hyper::upgrade::on(response)` then gets the connection.
    drive(conn.with_upgrades())?;
    Ok(sender)
}

/// HTTP/2 handshake over a connected stream; spawns the connection's driver (and
/// hyper's per-stream tasks) on the running loop.
///
/// # Errors
/// As [`handshake`].
pub async fn handshake_http2<T, B>(io: T) -> Result<http2::SendRequest<B>, Error>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    B: Body + Unpin + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let (sender, conn) = http2::Builder::new(TulipExecutor::new())
        .timer(TulipTimer::new())
        .handshake(TulipIo::new(io))
        .await?;
    drive(conn)?;
    Ok(sender)
}

/// Spawns a connection driver as a detached task that never ends *raised*: hyper's
/// error also reaches the `SendRequest`'s next request, which is where the caller
/// hears it.
fn drive<C, E>(conn: C) -> Result<(), Error>
where
    C: std::future::Future<Output = Result<(), E>> + Send + 'static,
{
    tulip_core::create_task(async move { Cancellable::new(conn).await.map(drop) })?;
    Ok(())
}
