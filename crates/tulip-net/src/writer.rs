//! asyncio's `StreamWriter`: a write buffer, a background flusher, water marks.
//!
//! The writer *pushes*, as asyncio's transport does. `write` tries the socket at once;
//! whatever the socket does not take is buffered, and a flusher task (spawned on the
//! running loop only when something is buffered) writes it out as the socket becomes
//! writable. `drain` waits while the buffer is above the high-water mark and wakes once
//! the flusher brings it to the low-water mark, so a slow peer bounds the memory.
//! Only the flusher waits on the socket's write readiness; `drain` and `wait_closed`
//! wait on the writer's own waiter lists.
//!
//! Shared writer state (`WState`) sits behind one mutex; the flusher, the writer
//! handles and `close` all go through it. `closed` is set once, after the buffer is
//! flushed (or the connection failed), and the socket is then shut down both ways; the
//! descriptor itself closes when the reader and every writer handle are dropped.
//!
//! Besides a socket, the writer can sit on any `futures::io::AsyncWrite` (`WIo::End`,
//! see `byte_io.rs`). Such an end has no non-blocking "try now" without a task
//! context, so `write` only buffers and the flusher does every write; once the
//! buffer is empty it also flushes the end (a TLS stream or a buffered pipe keeps
//! bytes until then), and `write_eof` / `close` are the end's `poll_close`, run by
//! the flusher too. The socket path is unchanged: one `match` more per `write`.

use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures::io::AsyncWrite;
use socket2::Socket;

use crate::addr::Address;
use crate::byte_io::{Half, WriteEnd};
use crate::error::{clone_io, Error, Result};
use crate::io::{cancel_point, Io};

/// Default high-water mark of a writer's buffer (64 KiB, asyncio's).
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// Once this much of the buffer's front is written, the buffer is compacted.
const COMPACT_AT: usize = 16 * 1024;

/// What the writer writes to.
pub(crate) enum WIo {
    /// A connected stream socket: the fast path.
    Socket(Arc<Io<Socket>>),
    /// Any `AsyncWrite`.
    End(Box<dyn WriteEnd>),
    /// Nothing any more: the end was closed and dropped, or handed back by `reunite`.
    Detached,
}

pub(crate) struct WState {
    pub(crate) io: WIo,
    /// `get_extra_info`'s ("sockname", "peername") for a writer not on a socket
    /// that knows them (a TLS stream over a socket).
    names: (Option<Address>, Option<Address>),
    buf: Vec<u8>,
    head: usize,
    high: usize,
    low: usize,
    paused: bool,
    flushing: bool,
    /// An `End` took bytes since its last `poll_flush`.
    end_dirty: bool,
    eof_pending: bool,
    eof_sent: bool,
    closing: bool,
    closed: bool,
    error: Option<io::Error>,
    drain_waiters: Vec<Waker>,
    flush_waiters: Vec<Waker>,
    close_waiters: Vec<Waker>,
}

impl WState {
    fn new(io: WIo) -> WState {
        WState {
            io,
            names: (None, None),
            buf: Vec::new(),
            head: 0,
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_HIGH_WATER / 4,
            paused: false,
            flushing: false,
            end_dirty: false,
            eof_pending: false,
            eof_sent: false,
            closing: false,
            closed: false,
            error: None,
            drain_waiters: Vec::new(),
            flush_waiters: Vec::new(),
            close_waiters: Vec::new(),
        }
    }

    pub(crate) fn pending(&self) -> usize {
        self.buf.len() - self.head
    }

    fn wake_drainers(&mut self) {
        self.drain_waiters.drain(..).for_each(Waker::wake);
    }

    /// The flusher stops: everything queued is out (or never will be).
    fn idle(&mut self) {
        self.flushing = false;
        self.flush_waiters.drain(..).for_each(Waker::wake);
    }

    fn unpause(&mut self) {
        if self.paused {
            self.paused = false;
            self.wake_drainers();
        }
    }

    fn set_closed(&mut self) {
        self.closed = true;
        self.closing = true;
        self.paused = false;
        self.wake_drainers();
        self.flush_waiters.drain(..).for_each(Waker::wake);
        self.close_waiters.drain(..).for_each(Waker::wake);
    }

    fn fail(&mut self, e: io::Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.buf = Vec::new();
        self.head = 0;
        match &self.io {
            WIo::Socket(io) => {
                let _ = io.get().shutdown(Shutdown::Both);
            }
            // Dropping the end closes what it owns (a pipe's descriptor); the other
            // handle of a shared duplex stream keeps it open for the reader.
            WIo::End(_) => self.io = WIo::Detached,
            WIo::Detached => {}
        }
        self.set_closed();
    }

    /// The buffer of a socket writer is empty: carry out a pending `write_eof` or
    /// `close` (an `End` does this in the flusher, see `poll_end_idle`).
    fn finish_pending(&mut self) {
        self.buf.clear();
        self.head = 0;
        self.unpause();
        let sock = match &self.io {
            WIo::Socket(io) => Some(io.get()),
            _ => None,
        };
        if self.eof_pending && !self.eof_sent {
            self.eof_sent = true;
            if let Some(s) = sock {
                let _ = s.shutdown(Shutdown::Write);
            }
        }
        if self.closing && !self.closed {
            if let Some(s) = sock {
                let _ = s.shutdown(Shutdown::Both);
            }
            self.set_closed();
        }
    }

    /// True when a `write_eof` or `close` waits for the end's `poll_close`.
    fn end_close_due(&self) -> bool {
        (self.eof_pending && !self.eof_sent) || (self.closing && !self.closed)
    }

    /// Writes what a socket takes now and buffers the rest; true when the caller
    /// must start the flusher (it was idle and something is buffered).
    fn queue(&mut self, data: &[u8]) -> bool {
        let mut rest = data;
        if self.pending() == 0 {
            if let WIo::Socket(io) = &self.io {
                match io.try_write(rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(e) => {
                        self.fail(e);
                        return false;
                    }
                }
                if rest.is_empty() {
                    return false;
                }
            }
        }
        self.buf.extend_from_slice(rest);
        if self.pending() > self.high {
            self.paused = true;
        }
        if self.flushing {
            return false;
        }
        self.flushing = true;
        true
    }

    /// What `poll_write` answers before queueing: an error, `Pending` above the
    /// high-water mark, or `Ready(Ok)` to go on.
    fn poll_writable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = &self.error {
            return Poll::Ready(Err(clone_io(e)));
        }
        if self.closing || self.eof_pending || self.eof_sent {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                Error::Closed,
            )));
        }
        if self.paused {
            push_waker(&mut self.drain_waiters, cx.waker());
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    /// An `End` writer with an empty buffer: flush the end, then close it if asked.
    fn poll_end_idle(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.end_dirty {
            if let WIo::End(end) = &mut self.io {
                if let Err(e) = std::task::ready!(Pin::new(&mut **end).poll_flush(cx)) {
                    self.fail(e);
                    return Poll::Ready(());
                }
            }
            self.end_dirty = false;
        }
        self.buf.clear();
        self.head = 0;
        self.unpause();
        if self.end_close_due() && !self.eof_sent {
            if let WIo::End(end) = &mut self.io {
                let r = std::task::ready!(Pin::new(&mut **end).poll_close(cx));
                if let Err(e) = r {
                    self.eof_sent = true;
                    self.fail(e);
                    return Poll::Ready(());
                }
            }
            self.eof_sent = true;
        }
        if self.closing && !self.closed {
            self.io = WIo::Detached;
            self.set_closed();
        }
        Poll::Ready(())
    }
}

pub(crate) fn push_waker(list: &mut Vec<Waker>, w: &Waker) {
    if !list.iter().any(|x| x.will_wake(w)) {
        list.push(w.clone());
    }
}

pub(crate) struct WriterShared {
    state: Mutex<WState>,
}

impl WriterShared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, WState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The flusher's body: writes the buffer out as the socket allows.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut guard = self.lock();
        let st = &mut *guard;
        loop {
            if st.error.is_some() || st.closed {
                st.idle();
                return Poll::Ready(());
            }
            if st.pending() == 0 {
                if matches!(st.io, WIo::End(_)) {
                    std::task::ready!(st.poll_end_idle(cx));
                } else {
                    st.finish_pending();
                }
                st.idle();
                return Poll::Ready(());
            }
            let data = &st.buf[st.head..];
            let r = match &mut st.io {
                WIo::Socket(io) => std::task::ready!(io.poll_write(cx, data)),
                WIo::End(end) => {
                    let r = std::task::ready!(Pin::new(&mut **end).poll_write(cx, data));
                    st.end_dirty = true;
                    match r {
                        Ok(0) => Err(io::ErrorKind::WriteZero.into()),
                        r => r,
                    }
                }
                WIo::Detached => Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "the writer was detached from its stream",
                )),
            };
            match r {
                Ok(n) => {
                    st.head += n;
                    if st.paused && st.pending() <= st.low {
                        st.unpause();
                    }
                    if st.head >= COMPACT_AT && st.head * 2 >= st.buf.len() {
                        let head = st.head;
                        st.buf.drain(..head);
                        st.head = 0;
                    }
                }
                Err(e) => st.fail(e),
            }
        }
    }
}

/// The writing half of a stream connection (asyncio's `StreamWriter`). Clones share
/// the same connection and buffer.
///
/// It writes to a socket ([`open_connection`](crate::open_connection),
/// [`start_server`](crate::start_server)) or to any `futures::io::AsyncWrite`
/// ([`from_async_write`](Self::from_async_write),
/// [`streams_from_io`](crate::streams_from_io)); buffering, water marks, `drain`,
/// `write_eof`, `close` and `wait_closed` behave the same over both.
#[derive(Clone)]
pub struct StreamWriter {
    pub(crate) shared: Arc<WriterShared>,
}

impl std::fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("StreamWriter")
            .field("buffered", &st.pending())
            .field("closing", &st.closing)
            .finish()
    }
}

impl StreamWriter {
    pub(crate) fn with_io(io: WIo) -> StreamWriter {
        StreamWriter {
            shared: Arc::new(WriterShared {
                state: Mutex::new(WState::new(io)),
            }),
        }
    }

    /// A writer over any `futures::io::AsyncWrite` (a pipe, a TLS stream, a file):
    /// `write` buffers and a background task on the running loop writes the buffer
    /// out, then flushes `w`; `write_eof` and `close` close `w` (its `poll_close`)
    /// once the buffer is out, and `close` then drops it. Water marks, `drain` and
    /// `wait_closed` work as over a socket; [`get_extra_info`](Self::get_extra_info)
    /// answers `None`.
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let (a, b) = tulip::net::UnixStream::pair()?;
    ///     let w = tulip::net::StreamWriter::from_async_write(a);
    ///     let mut r = tulip::net::StreamReader::from_async_read(b, 1024);
    ///     w.write(b"hello\n");
    ///     w.close();
    ///     w.wait_closed().await?;
    ///     assert_eq!(r.read_to_end().await?, b"hello\n");
    ///     Ok::<_, tulip::net::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_async_write<W>(w: W) -> StreamWriter
    where
        W: AsyncWrite + Send + Unpin + 'static,
    {
        StreamWriter::with_io(WIo::End(Box::new(w)))
    }

    /// Queues `data`: written at once as far as the socket takes it, the rest
    /// buffered and written in the background. Never waits; pair it with
    /// [`drain`](Self::drain). After `close`, `write_eof` or a connection error the data
    /// is dropped (and `drain` reports the error).
    pub fn write(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut st = self.shared.lock();
        if st.closing || st.eof_pending || st.eof_sent || st.error.is_some() {
            return;
        }
        if st.queue(data) {
            drop(st);
            self.spawn_flusher();
        }
    }

    fn spawn_flusher(&self) {
        let sh = self.shared.clone();
        let flusher = async move {
            std::future::poll_fn(|cx| sh.poll_flush(cx)).await;
            Ok::<(), tulip_core::Error>(())
        };
        if let Err(e) = tulip_core::create_task(flusher) {
            let mut st = self.shared.lock();
            st.fail(io::Error::other(e.to_string()));
            st.idle();
        }
    }

    /// Runs a pending `write_eof` / `close` now that the caller changed the state:
    /// at once on a socket, through the flusher on any other end.
    fn finish_or_flush(&self, mut st: MutexGuard<'_, WState>) {
        if st.flushing {
            return;
        }
        if matches!(st.io, WIo::End(_)) {
            st.flushing = true;
            drop(st);
            self.spawn_flusher();
        } else {
            st.finish_pending();
        }
    }

    /// Sets what `get_extra_info` answers for a writer not on a socket.
    pub(crate) fn set_names(&self, sockname: Option<Address>, peername: Option<Address>) {
        self.shared.lock().names = (sockname, peername);
    }

    /// True when this writer writes to socket `io`.
    pub(crate) fn holds_socket(&self, io: &Arc<Io<Socket>>) -> bool {
        matches!(&self.shared.lock().io, WIo::Socket(w) if Arc::ptr_eq(w, io))
    }

    /// True when this writer writes to the other handle of `half`'s stream.
    pub(crate) fn holds_half<S: 'static>(&self, half: &Half<S>) -> bool {
        let st = self.shared.lock();
        let WIo::End(end) = &st.io else {
            return false;
        };
        matches!(WriteEnd::as_any(&**end).downcast_ref::<Half<S>>(), Some(h) if h.same(half))
    }

    /// Takes the writer's end away, for `reunite` / `into_inner`: only when nothing is
    /// buffered and it is not closing. The writer (and its clones) then behave as
    /// closed, without shutting the end down.
    pub(crate) fn detach_if_idle(&self) -> std::result::Result<WIo, &'static str> {
        let mut st = self.shared.lock();
        if st.error.is_some() || st.closing || st.closed {
            return Err("the writer is closed");
        }
        if st.flushing || st.pending() > 0 {
            return Err("the writer still has buffered bytes: flush it first");
        }
        if matches!(st.io, WIo::Detached) {
            return Err("the writer has no stream");
        }
        let io = std::mem::replace(&mut st.io, WIo::Detached);
        st.set_closed();
        Ok(io)
    }

    /// The write end of a writer made with [`from_async_write`](Self::from_async_write),
    /// once nothing is buffered (await `futures::io::AsyncWriteExt::flush` first).
    /// Clones of the writer behave as closed afterwards.
    ///
    /// # Errors
    /// The writer itself, unchanged, when it does not write to a `W`, still has
    /// bytes buffered, or is closing.
    pub fn into_inner<W: 'static>(self) -> std::result::Result<W, StreamWriter> {
        let is_w =
            matches!(&self.shared.lock().io, WIo::End(end) if WriteEnd::as_any(&**end).is::<W>());
        if !is_w {
            return Err(self);
        }
        match self.detach_if_idle() {
            Ok(WIo::End(end)) => match end.into_any().downcast::<W>() {
                Ok(w) => Ok(*w),
                Err(_) => unreachable!("checked type"),
            },
            Ok(_) => unreachable!("checked: an End writer"),
            Err(_) => Err(self),
        }
    }

    /// Writes each buffer in turn, as [`write`](Self::write).
    pub fn writelines<I, B>(&self, lines: I)
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        for l in lines {
            self.write(l.as_ref());
        }
    }

    /// Waits until the buffer is small enough to write more: returns at once below the
    /// high-water mark; otherwise waits until the background writes bring it down to
    /// the low-water mark.
    ///
    /// # Errors
    /// The connection's error (reset, broken pipe) once it failed; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: the data stays queued.
    pub async fn drain(&self) -> Result<()> {
        cancel_point(|cx| {
            let mut st = self.shared.lock();
            if let Some(e) = &st.error {
                return Poll::Ready(Err(Error::Io(clone_io(e))));
            }
            if st.paused {
                push_waker(&mut st.drain_waiters, cx.waker());
                return Poll::Pending;
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// Half-closes: the peer reads end-of-stream once the buffer is flushed; this side
    /// can still read. Over an `AsyncWrite` end this is its `poll_close`.
    pub fn write_eof(&self) {
        let mut st = self.shared.lock();
        if st.closing || st.eof_pending || st.eof_sent {
            return;
        }
        st.eof_pending = true;
        self.finish_or_flush(st);
    }

    /// True: stream sockets can half-close (and any other end is closed).
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Closes the connection once the buffer is flushed (at once if it is empty).
    pub fn close(&self) {
        let mut st = self.shared.lock();
        if st.closing {
            return;
        }
        st.closing = true;
        self.finish_or_flush(st);
    }

    /// True after [`close`](Self::close) or once the connection failed.
    pub fn is_closing(&self) -> bool {
        let st = self.shared.lock();
        st.closing || st.error.is_some()
    }

    /// Waits until the connection is closed (after [`close`](Self::close) the buffer
    /// is flushed first).
    ///
    /// # Errors
    /// The error that closed the connection, if it failed; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn wait_closed(&self) -> Result<()> {
        cancel_point(|cx| self.poll_closed(cx)).await
    }

    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut st = self.shared.lock();
        if !st.closed {
            push_waker(&mut st.close_waiters, cx.waker());
            return Poll::Pending;
        }
        Poll::Ready(match &st.error {
            Some(e) => Err(Error::Io(clone_io(e))),
            None => Ok(()),
        })
    }

    /// Bytes queued and not yet written to the socket. Rust's name for asyncio's
    /// [`get_write_buffer_size`](Self::get_write_buffer_size), which it returns.
    pub fn write_buffer_size(&self) -> usize {
        self.shared.lock().pending()
    }

    /// asyncio's `transport.get_write_buffer_size()`: bytes queued and not yet written.
    /// [`write_buffer_size`](Self::write_buffer_size) is the same number under Rust's
    /// name.
    pub fn get_write_buffer_size(&self) -> usize {
        self.write_buffer_size()
    }

    /// Sets the high- and low-water marks (`low` defaults to `high / 4`, asyncio's
    /// rule).
    ///
    /// # Panics
    /// If `low > high`.
    pub fn set_write_buffer_limits(&self, high: usize, low: Option<usize>) {
        let low = low.unwrap_or(high / 4);
        assert!(low <= high, "low-water mark above the high-water mark");
        let mut st = self.shared.lock();
        st.high = high;
        st.low = low;
        if st.pending() > high {
            st.paused = true;
        } else if st.paused && st.pending() <= low {
            st.unpause();
        }
    }

    /// asyncio's `transport.get_write_buffer_limits()`: the water marks as
    /// `(low, high)`, in asyncio's order (the reverse of
    /// [`set_write_buffer_limits`]'s arguments, as in asyncio).
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::new_event_loop()?;
    /// lp.run_until_complete(async {
    ///     let (a, _b) = tulip::net::UnixStream::pair()?;
    ///     let w = tulip::net::StreamWriter::from_async_write(a);
    ///     w.set_write_buffer_limits(1024, None);
    ///     assert_eq!(w.get_write_buffer_limits(), (256, 1024));
    ///     Ok::<_, tulip::net::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`set_write_buffer_limits`]: Self::set_write_buffer_limits
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        let st = self.shared.lock();
        (st.low, st.high)
    }

    /// asyncio's `get_extra_info`: `"peername"` or `"sockname"`; `None` for other names,
    /// when the OS cannot tell (after a reset, say), or when the writer is not on a
    /// socket ([`from_async_write`](Self::from_async_write)) — except a TLS stream
    /// over a socket, which answers with the socket's addresses.
    pub fn get_extra_info(&self, name: &str) -> Option<Address> {
        let st = self.shared.lock();
        let WIo::Socket(io) = &st.io else {
            return match name {
                "sockname" => st.names.0.clone(),
                "peername" => st.names.1.clone(),
                _ => None,
            };
        };
        let s = io.get();
        let a = match name {
            "peername" => s.peer_addr(),
            "sockname" => s.local_addr(),
            _ => return None,
        };
        a.ok().map(|a| Address::from_sock(&a))
    }
}

/// `futures::io::AsyncWrite` with the writer's own rules: `poll_write` queues as
/// [`write`](StreamWriter::write) does (all of `buf`), but returns `Pending` while the
/// buffer is above the high-water mark, until the background writes bring it to the
/// low-water mark; `poll_flush` waits until the buffer is written out (and, over an
/// `AsyncWrite` end, flushed); `poll_close` is [`close`](StreamWriter::close) then
/// [`wait_closed`](StreamWriter::wait_closed). Writes after `close` or `write_eof`
/// fail with `BrokenPipe`. Each poll spends one unit of the task's budget.
impl AsyncWrite for StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        let mut st = self.shared.lock();
        std::task::ready!(st.poll_writable(cx))?;
        let mut total = 0;
        let mut start = false;
        for b in bufs.iter().filter(|b| !b.is_empty()) {
            start |= st.queue(b);
            if st.error.is_some() {
                break;
            }
            total += b.len();
        }
        if let Some(e) = &st.error {
            return Poll::Ready(Err(clone_io(e)));
        }
        drop(st);
        if start {
            self.spawn_flusher();
        }
        Poll::Ready(Ok(total))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        let mut st = self.shared.lock();
        if let Some(e) = &st.error {
            return Poll::Ready(Err(clone_io(e)));
        }
        if st.flushing {
            push_waker(&mut st.flush_waiters, cx.waker());
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(tulip_core::coop::poll_proceed(cx));
        self.close();
        self.poll_closed(cx).map_err(io::Error::from)
    }
}
