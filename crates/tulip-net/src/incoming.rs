//! Listeners as `futures::Stream`s of connections: [`Incoming`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

use crate::tcp::{TcpListener, TcpStream};
use crate::unix::{UnixListener, UnixStream};

/// The connections a listener accepts, as a `futures::Stream` (from
/// [`TcpListener::incoming`] or [`UnixListener::incoming`]).
///
/// Each item is one `accept`: a connection, or the OS error of that attempt (out of
/// descriptors, say), after which the stream goes on. It never ends by itself. Each
/// poll spends one unit of the task's cooperative budget; like any `Stream` it takes
/// no cancel request. Dropping it leaves the listener open.
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a, L> {
    listener: &'a L,
}

impl TcpListener {
    /// The connections this listener accepts, as a `futures::Stream` of
    /// `io::Result<TcpStream>`.
    ///
    /// # Examples
    /// ```
    /// use futures::StreamExt;
    /// use tulip::net::{TcpListener, TcpStream};
    /// let lp = tulip::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let l = TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = l.local_addr()?;
    ///     let _a = TcpStream::connect(addr).await?;
    ///     let _b = TcpStream::connect(addr).await?;
    ///     let two: Vec<_> = l.incoming().take(2).collect().await;
    ///     assert!(two.iter().all(|c| c.is_ok()));
    ///     Ok::<_, tulip::net::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn incoming(&self) -> Incoming<'_, TcpListener> {
        Incoming { listener: self }
    }
}

impl UnixListener {
    /// The connections this listener accepts, as a `futures::Stream` of
    /// `io::Result<UnixStream>`.
    pub fn incoming(&self) -> Incoming<'_, UnixListener> {
        Incoming { listener: self }
    }
}

impl Stream for Incoming<'_, TcpListener> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(s, _)| s)))
    }
}

impl Stream for Incoming<'_, UnixListener> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|r| Some(r.map(|(s, _)| s)))
    }
}
