//! [`TulipIo`]: any `futures::io` byte stream as hyper's `rt::Read` + `rt::Write`.
//!
//! hyper reads into memory it has not initialised (`ReadBufCursor`), while
//! `futures::io::AsyncRead` takes an initialised `&mut [u8]` that the reader may
//! look at. Handing uninitialised bytes to an unknown reader is unsound, and zeroing
//! hyper's whole spare capacity (8 KiB and up) before every read costs more than the
//! read of a small request. So the adapter keeps a scratch buffer that is zeroed
//! once, when it is allocated: each read goes into the scratch and only the bytes
//! actually read are copied into hyper's buffer (safe code, `put_slice`). The scratch
//! starts at [`SCRATCH_START`] and doubles, up to [`SCRATCH_MAX`], whenever a read
//! fills it while hyper had room for more, so large bodies are not read in small
//! pieces.
//!
//! The other way round, `TulipIo` over a hyper I/O object (hyper's `Upgraded`, after
//! an HTTP/1 upgrade or an HTTP/2 CONNECT) is a `futures::io` stream, for
//! `futures::io::copy`, codecs, TLS crates.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};
use hyper::rt::{ReadBuf, ReadBufCursor};

/// The scratch read buffer's first size: hyper's own first read buffer size.
pub const SCRATCH_START: usize = 8 * 1024;

/// The largest the scratch read buffer grows to.
pub const SCRATCH_MAX: usize = 64 * 1024;

/// A `futures::io` stream (`AsyncRead + AsyncWrite + Unpin`) seen as a hyper I/O
/// object (`hyper::rt::Read + hyper::rt::Write`), or a hyper I/O object seen as a
/// `futures::io` stream.
///
/// Writes are forwarded as they are, vectored writes included.
/// `futures::io::AsyncWrite` cannot say whether its `poll_write_vectored` really
/// gathers; hyper asks through `is_write_vectored` to choose between queueing
/// buffers (vectored) and copying them into one (not vectored). The adapter says
/// "not vectored" unless told otherwise with [`set_write_vectored`](Self::set_write_vectored).
///
/// # Examples
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let lp = tulip::new_event_loop()?;
/// lp.run_until_complete(async {
///     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let stream = tulip::net::TcpStream::connect(addr).await?;
///     let io = tulip::hyper::TulipIo::new(stream);
///     assert!(!hyper::rt::Write::is_write_vectored(&io));
///     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
/// }).map_err(|e| e.to_string())?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TulipIo<T> {
    inner: T,
    scratch: Vec<u8>,
    vectored: bool,
}

impl<T> TulipIo<T> {
    /// Wraps `inner`; its vectored writes are assumed to write the first buffer only.
    pub fn new(inner: T) -> Self {
        TulipIo {
            inner,
            scratch: Vec::new(),
            vectored: false,
        }
    }

    /// Tells hyper (through `is_write_vectored`) whether `inner`'s
    /// `poll_write_vectored` writes several buffers in one call (e.g. with `writev`).
    pub fn set_write_vectored(&mut self, vectored: bool) {
        self.vectored = vectored;
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably. Reading from it directly skips nothing: the
    /// adapter holds no buffered bytes (its scratch is empty between calls).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for TulipIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let room = buf.remaining();
        if room == 0 {
            return Poll::Ready(Ok(()));
        }
        if this.scratch.is_empty() {
            this.scratch = vec![0; SCRATCH_START];
        }
        let want = room.min(this.scratch.len());
        let n = ready!(Pin::new(&mut this.inner).poll_read(cx, &mut this.scratch[..want]))?;
        // A reader claiming more than it was given is a bug in the reader; do not
        // let it index out of bounds here.
        let n = n.min(want);
        buf.put_slice(&this.scratch[..n]);
        if n == this.scratch.len() && room > n && this.scratch.len() < SCRATCH_MAX {
            let grown = (this.scratch.len() * 2).min(SCRATCH_MAX);
            this.scratch.resize(grown, 0);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for TulipIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// hyper I/O (e.g. `hyper::upgrade::Upgraded`) as a `futures::io` reader.
impl<T: hyper::rt::Read + Unpin> AsyncRead for TulipIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut rb = ReadBuf::new(buf);
        ready!(hyper::rt::Read::poll_read(
            Pin::new(&mut self.get_mut().inner),
            cx,
            rb.unfilled()
        ))?;
        Poll::Ready(Ok(rb.filled().len()))
    }
}

/// hyper I/O (e.g. `hyper::upgrade::Upgraded`) as a `futures::io` writer;
/// `poll_close` is hyper's `poll_shutdown`.
impl<T: hyper::rt::Write + Unpin> AsyncWrite for TulipIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write(Pin::new(&mut self.get_mut().inner), cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        hyper::rt::Write::poll_write_vectored(Pin::new(&mut self.get_mut().inner), cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_flush(Pin::new(&mut self.get_mut().inner), cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        hyper::rt::Write::poll_shutdown(Pin::new(&mut self.get_mut().inner), cx)
    }
}
