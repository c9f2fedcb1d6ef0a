//! Streams over any byte source: the read and write ends a [`StreamReader`] /
//! [`StreamWriter`] can sit on besides a socket.
//!
//! A read end is any `futures::io::AsyncRead`, a write end any `AsyncWrite`, boxed
//! behind [`ReadEnd`] / [`WriteEnd`], which add what `into_inner` / `reunite` need: the
//! box can be turned back into the concrete type. One duplex object (a TLS stream, say)
//! becomes both ends through [`Half`]: two handles on one `Arc<Mutex<S>>`, each
//! holding the lock only for the length of one poll.
//!
//! Careful: a `Box<dyn ReadEnd>` is itself a `ReadEnd` (the blanket impl), so
//! `boxed.as_any()` would name the box; call `ReadEnd::as_any(&**boxed)`.
//!
//! The plain socket does not come through here: streams keep their own socket variant,
//! so the hot path pays no box and no lock.
//!
//! [`StreamReader`]: crate::StreamReader
//! [`StreamWriter`]: crate::StreamWriter

use std::any::Any;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

/// A read end a reader can own: an `AsyncRead` that can be turned back into itself.
pub(crate) trait ReadEnd: AsyncRead + Send + Unpin + 'static {
    /// The box as `Any`, to recover the concrete type.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    /// The end as `Any`, to check its type.
    fn as_any(&self) -> &dyn Any;
}

impl<T: AsyncRead + Send + Unpin + 'static> ReadEnd for T {
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A write end a writer can own: an `AsyncWrite` that can be turned back into itself.
pub(crate) trait WriteEnd: AsyncWrite + Send + Unpin + 'static {
    /// The box as `Any`, to recover the concrete type.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    /// The end as `Any`, to check its type.
    fn as_any(&self) -> &dyn Any;
}

impl<T: AsyncWrite + Send + Unpin + 'static> WriteEnd for T {
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One handle on a duplex stream shared by a reader and a writer.
pub(crate) struct Half<S> {
    inner: Arc<Mutex<S>>,
}

impl<S> Half<S> {
    /// Two handles on `io`.
    pub(crate) fn pair(io: S) -> (Half<S>, Half<S>) {
        let inner = Arc::new(Mutex::new(io));
        (
            Half {
                inner: inner.clone(),
            },
            Half { inner },
        )
    }

    /// True when `self` and `other` are the two handles of one stream.
    pub(crate) fn same(&self, other: &Half<S>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Puts the two handles back together: `None` unless they are the two handles
    /// of one stream (then no other handle exists).
    pub(crate) fn reunite(self, other: Half<S>) -> Option<S> {
        if !self.same(&other) {
            return None;
        }
        drop(other);
        let m = Arc::try_unwrap(self.inner).ok()?;
        Some(m.into_inner().unwrap_or_else(|e| e.into_inner()))
    }

    fn lock(&self) -> MutexGuard<'_, S> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Half<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.lock()).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Half<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.lock()).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.lock()).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_close(cx)
    }
}
