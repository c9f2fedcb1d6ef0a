//! asyncio's high-level streams: [`open_connection`], [`StreamReader`],
//! [`StreamWriter`] (servers are in `server.rs`).
//!
//! Design: the reader *pulls*. It owns its buffer and reads from the socket only when a
//! call needs more bytes, so there is no background task on the read side and
//! backpressure is the kernel's. Every reading method only consumes the buffer once it
//! has its answer, so all of them are cancel safe: bytes read before a cancel stay in
//! the buffer for the next call. The buffer grows with the bytes that arrive (one read
//! is at most the larger of 16 KiB and what is already buffered), never with what a
//! caller asks for, so `readexactly(1 << 40)` costs what the peer actually sends.
//!
//! A reader can also stand alone ([`StreamReader::new`]): bytes come from
//! `feed_data` (or a [`Feeder`] in another task) instead of a socket, with asyncio's
//! `feed_eof` and `set_exception`, so a parser can be tested without a connection.
//! Every read starts at a tulip await point that takes a cancel request and spends
//! one unit of the task's cooperative budget, even when the buffer has the answer.
//!
//! Besides a socket, a reader can pull from any `futures::io::AsyncRead`
//! ([`StreamReader::from_async_read`], [`streams_from_io`]); the socket keeps its own
//! variant so that its path has no box and no lock. The writer is in `writer.rs`.

use std::any::{Any, TypeId};
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{ready, Context, Poll, Waker};

use futures::io::{AsyncBufRead, AsyncRead, AsyncWrite};
use socket2::{Domain, Socket};

use crate::addr::ToAddrs;
use crate::byte_io::{Half, ReadEnd};
use crate::error::{clone_error, Error, Result};
use crate::io::{cancel_point, Io};
use crate::tcp::TcpStream;
use crate::unix::UnixStream;
use crate::writer::{StreamWriter, WIo};

/// asyncio's default buffer limit for a [`StreamReader`]: 64 KiB.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

const READ_CHUNK: usize = 16 * 1024;

/// Opens a TCP connection and returns its reader and writer (asyncio's
/// `open_connection`).
///
/// # Errors
/// As [`TcpStream::connect`]: [`Error::Connect`], [`Error::Resolve`], `Cancelled`.
///
/// # Cancel safety
/// Cancel safe.
///
/// # Examples
/// ```
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let server = tulip::net::start_server(|mut r, w| async move {
///         let line = r.readline().await.unwrap();
///         w.write(&line);
///         w.close();
///     }, "127.0.0.1:0").await?;
///     let (mut r, w) = tulip::net::open_connection(server.local_addr().unwrap()).await?;
///     w.write(b"hello\n");
///     w.drain().await?;
///     assert_eq!(r.readline().await?, b"hello\n");
///     server.close();
///     Ok::<_, tulip::net::Error>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn open_connection(addr: impl ToAddrs) -> Result<(StreamReader, StreamWriter)> {
    let s = TcpStream::connect(addr).await?;
    Ok(streams_from(s.into_io()))
}

/// Opens a Unix socket connection (asyncio's `open_unix_connection`).
///
/// # Errors
/// As [`UnixStream::connect`].
///
/// # Cancel safety
/// Cancel safe.
pub async fn open_unix_connection(path: impl AsRef<Path>) -> Result<(StreamReader, StreamWriter)> {
    let s = UnixStream::connect(path).await?;
    Ok(streams_from(s.into_io()))
}

impl TcpStream {
    /// Splits this connection into asyncio's reader and writer.
    pub fn into_streams(self) -> (StreamReader, StreamWriter) {
        streams_from(self.into_io())
    }
}

impl UnixStream {
    /// Splits this connection into asyncio's reader and writer.
    pub fn into_streams(self) -> (StreamReader, StreamWriter) {
        streams_from(self.into_io())
    }
}

pub(crate) fn streams_from(io: Arc<Io<Socket>>) -> (StreamReader, StreamWriter) {
    let w = StreamWriter::with_io(WIo::Socket(io.clone()));
    (StreamReader::from_io(io), w)
}

/// [`streams_from_io`] with the reader's `limit` and what `get_extra_info` answers.
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub(crate) fn streams_from_io_named<S>(
    io: S,
    limit: usize,
    sockname: Option<crate::addr::Address>,
    peername: Option<crate::addr::Address>,
) -> (StreamReader, StreamWriter)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut r, w) = streams_from_io(io);
    r.set_limit(limit);
    w.set_names(sockname, peername);
    (r, w)
}

/// asyncio's reader and writer over any duplex byte stream (a TLS stream, a
/// `futures` adapter, a socket of another crate): the two halves share `io`, each
/// holding it only for one poll at a time. The writer's buffering, `drain`,
/// `write_eof` (the stream's `poll_close`), `close` and `wait_closed` work as over a
/// socket; `get_extra_info` answers `None`.
///
/// # Examples
/// ```
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let (a, b) = tulip::net::UnixStream::pair()?;
///     let (mut ra, wa) = tulip::net::streams_from_io(a);
///     let (mut rb, wb) = tulip::net::streams_from_io(b);
///     wa.write(b"ping\n");
///     assert_eq!(rb.readline().await?, b"ping\n");
///     wb.write(b"pong\n");
///     assert_eq!(ra.readline().await?, b"pong\n");
///     Ok::<_, tulip::net::Error>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn streams_from_io<S>(io: S) -> (StreamReader, StreamWriter)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (r, w) = Half::pair(io);
    (
        StreamReader::from_async_read(r, DEFAULT_LIMIT),
        StreamWriter::with_io(WIo::End(Box::new(w))),
    )
}

/// Where a reader's bytes come from.
enum Source {
    /// A connection: the reader pulls from the socket when it needs bytes.
    Socket(Arc<Io<Socket>>),
    /// Any other byte source ([`StreamReader::from_async_read`],
    /// [`streams_from_io`]). The mutex is never locked: the reader reaches the end
    /// through `&mut self` (`Mutex::get_mut`); it only makes the reader `Sync` whatever
    /// the end is.
    Stream(Mutex<Box<dyn ReadEnd>>),
    /// Bytes fed by hand ([`StreamReader::new`]), possibly from another task through
    /// a [`Feeder`].
    Fed(Arc<Feed>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Socket(io) => f.debug_tuple("Socket").field(io).finish(),
            Source::Stream(_) => f.write_str("Stream(..)"),
            Source::Fed(feed) => f.debug_tuple("Fed").field(feed).finish(),
        }
    }
}

/// What a [`Feeder`] hands to its reader: bytes, end of stream, an exception, and the
/// waker of a read waiting for them.
#[derive(Debug, Default)]
struct Feed {
    state: Mutex<FeedState>,
}

#[derive(Debug, Default)]
struct FeedState {
    data: Vec<u8>,
    eof: bool,
    exception: Option<Error>,
    waker: Option<Waker>,
}

impl Feed {
    fn lock(&self) -> MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FeedState {
    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// The reading half of a stream connection (asyncio's `StreamReader`), or a reader
/// fed by hand ([`new`](Self::new) with [`feed_data`](Self::feed_data),
/// [`feed_eof`](Self::feed_eof) and [`set_exception`](Self::set_exception)), so a
/// parser can be tested without a socket.
///
/// The buffer grows with the bytes that actually arrive: a read asking for more
/// than has come (`readexactly(1 << 40)`) never reserves that much up front.
#[derive(Debug)]
pub struct StreamReader {
    src: Source,
    buf: Vec<u8>,
    head: usize,
    tail: usize,
    eof: bool,
    limit: usize,
    exception: Option<Error>,
}

impl StreamReader {
    /// A reader with no connection behind it (asyncio's `StreamReader(limit=...)`):
    /// its bytes come from [`feed_data`](Self::feed_data) (or a [`Feeder`] in another
    /// task), its end from [`feed_eof`](Self::feed_eof). A read that needs more than
    /// was fed waits for the next feed.
    ///
    /// # Panics
    /// If `limit` is 0 (asyncio raises `ValueError`).
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let mut r = tulip::net::StreamReader::new(tulip::net::DEFAULT_LIMIT);
    ///     r.feed_data(b"GET / HTTP/1.0\r\n\r\nbody");
    ///     r.feed_eof();
    ///     assert_eq!(r.readuntil(b"\r\n\r\n").await?, b"GET / HTTP/1.0\r\n\r\n");
    ///     assert_eq!(r.read_to_end().await?, b"body");
    ///     assert!(r.at_eof());
    ///     Ok::<_, tulip::net::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(limit: usize) -> StreamReader {
        assert!(limit > 0, "StreamReader: the limit must be positive");
        StreamReader::with_source(Source::Fed(Arc::default()), limit)
    }

    pub(crate) fn from_io(io: Arc<Io<Socket>>) -> StreamReader {
        StreamReader::with_source(Source::Socket(io), DEFAULT_LIMIT)
    }

    /// A reader pulling from any `futures::io::AsyncRead` (a pipe, a TLS stream, an
    /// in-memory cursor), with buffer limit `limit` ([`DEFAULT_LIMIT`] is asyncio's).
    /// It reads from `r` only when a call needs more bytes, as from a socket.
    ///
    /// # Panics
    /// If `limit` is 0 (asyncio raises `ValueError`), as [`new`](Self::new).
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let src = futures::io::Cursor::new(b"one\ntwo\n".to_vec());
    ///     let mut r = tulip::net::StreamReader::from_async_read(src, tulip::net::DEFAULT_LIMIT);
    ///     assert_eq!(r.readline().await?, b"one\n");
    ///     assert_eq!(r.read_to_end().await?, b"two\n");
    ///     Ok::<_, tulip::net::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_async_read<R>(r: R, limit: usize) -> StreamReader
    where
        R: futures::io::AsyncRead + Send + Unpin + 'static,
    {
        assert!(limit > 0, "StreamReader: the limit must be positive");
        StreamReader::with_source(Source::Stream(Mutex::new(Box::new(r))), limit)
    }

    fn with_source(src: Source, limit: usize) -> StreamReader {
        StreamReader {
            src,
            buf: Vec::new(),
            head: 0,
            tail: 0,
            eof: false,
            limit,
            exception: None,
        }
    }

    /// A handle that feeds this reader from elsewhere (another task, another thread)
    /// while a read waits on it; `None` for the reader of a connection.
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let mut r = tulip::net::StreamReader::new(1024);
    ///     let feeder = r.feeder().unwrap();
    ///     tulip::create_task(async move {
    ///         feeder.feed_data(b"hel");
    ///         tulip::yield_now().await?;
    ///         feeder.feed_data(b"lo\n");
    ///         Ok::<_, tulip::Error>(())
    ///     })?;
    ///     assert_eq!(r.readline().await?, b"hello\n"); // waits for the second piece
    ///     Ok::<_, tulip::net::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn feeder(&self) -> Option<Feeder> {
        match &self.src {
            Source::Fed(feed) => Some(Feeder { feed: feed.clone() }),
            Source::Socket(_) | Source::Stream(_) => None,
        }
    }

    /// Adds `data` to the buffer (asyncio's `feed_data`). On the reader of a
    /// connection the bytes come before whatever the socket has not delivered yet.
    ///
    /// # Panics
    /// After [`feed_eof`](Self::feed_eof) or the end of the stream (asyncio's
    /// assertion `feed_data after feed_eof`).
    pub fn feed_data(&mut self, data: &[u8]) {
        self.sync();
        assert!(!self.eof, "feed_data after feed_eof");
        self.append(data);
    }

    /// Ends the stream (asyncio's `feed_eof`): reads return what is buffered, then
    /// end of stream. On the reader of a connection, the socket is not read again.
    pub fn feed_eof(&mut self) {
        self.sync();
        self.eof = true;
        if let Source::Fed(feed) = &self.src {
            feed.lock().eof = true;
        }
    }

    /// Makes every read from now on fail with `exc`, buffered data or not (asyncio's
    /// `set_exception`); each read gets a copy (OS errors keep their code, or their
    /// kind and text).
    pub fn set_exception(&mut self, exc: Error) {
        self.exception = Some(exc);
    }

    /// The exception set by [`set_exception`](Self::set_exception), if any (a copy).
    pub fn exception(&self) -> Option<Error> {
        if let Some(e) = &self.exception {
            return Some(clone_error(e));
        }
        match &self.src {
            Source::Fed(feed) => feed.lock().exception.as_ref().map(clone_error),
            Source::Socket(_) | Source::Stream(_) => None,
        }
    }

    /// The buffer limit: `readline` gives up with [`Error::LineTooLong`] and
    /// `readuntil` with [`Error::LimitOverrun`] past it.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the buffer limit (asyncio's `limit=` argument).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit.max(1);
    }

    /// Bytes received (read from the socket or fed) and not yet returned.
    pub fn buffered(&self) -> usize {
        let fed = match &self.src {
            Source::Fed(feed) => feed.lock().data.len(),
            Source::Socket(_) | Source::Stream(_) => 0,
        };
        self.tail - self.head + fed
    }

    /// True once the stream has ended and the buffer is empty.
    pub fn at_eof(&self) -> bool {
        let eof = self.eof
            || match &self.src {
                Source::Fed(feed) => feed.lock().eof,
                Source::Socket(_) | Source::Stream(_) => false,
            };
        eof && self.buffered() == 0
    }

    /// Moves what a [`Feeder`] handed over into the reader.
    fn sync(&mut self) {
        let Source::Fed(feed) = &self.src else {
            return;
        };
        let feed = feed.clone();
        let mut st = feed.lock();
        if !st.data.is_empty() {
            let data = std::mem::take(&mut st.data);
            self.append(&data);
        }
        if st.eof {
            self.eof = true;
        }
        if let Some(e) = st.exception.take() {
            self.exception = Some(e);
        }
    }

    /// The exception set on this reader, as an error for the caller.
    fn check_exception(&self) -> Result<()> {
        match &self.exception {
            Some(e) => Err(clone_error(e)),
            None => Ok(()),
        }
    }

    /// Where every read starts: the task's cancel request and its budget (a read
    /// served from the buffer is still a fair await point), then asyncio's
    /// "exception first" rule.
    async fn begin(&mut self) -> Result<()> {
        ready_point().await?;
        self.sync();
        self.check_exception()
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.buf[self.head..self.head + n].to_vec();
        self.discard(n);
        out
    }

    fn discard(&mut self, n: usize) {
        self.head += n;
        if self.head == self.tail {
            self.head = 0;
            self.tail = 0;
        }
    }

    fn append(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.reserve_tail(data.len());
        self.buf[self.tail..self.tail + data.len()].copy_from_slice(data);
        self.tail += data.len();
    }

    /// Makes at least `room` bytes of space after the buffered data.
    fn reserve_tail(&mut self, room: usize) {
        if self.head == self.tail {
            self.head = 0;
            self.tail = 0;
        }
        if self.buf.len() - self.tail >= room {
            return;
        }
        if self.head > 0 {
            self.buf.copy_within(self.head..self.tail, 0);
            self.tail -= self.head;
            self.head = 0;
        }
        let need = self.tail + room;
        if self.buf.len() < need {
            self.buf.resize(need.max(self.buf.len() * 2), 0);
        }
    }

    /// Waits for more bytes and appends them to the buffer: one read from the
    /// socket, or what a [`Feeder`] hands over. `Ok(0)` at end of stream.
    ///
    /// `want` (how many bytes the caller still needs) only lets one read be larger
    /// than [`READ_CHUNK`] when that much has already arrived: the buffer grows
    /// with the data, at most doubling per read.
    async fn fill(&mut self, want: usize) -> Result<usize> {
        cancel_point(|cx| self.poll_fill(cx, want)).await
    }

    /// Poll form of [`fill`](Self::fill) (no cancel check, no budget).
    fn poll_fill(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<Result<usize>> {
        if self.eof {
            return Poll::Ready(Ok(0));
        }
        if let Source::Fed(feed) = &self.src {
            {
                let mut st = feed.lock();
                if st.data.is_empty() && !st.eof && st.exception.is_none() {
                    st.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
            let before = self.tail - self.head;
            self.sync();
            self.check_exception()?;
            return Poll::Ready(Ok(self.tail - self.head - before));
        }
        let room = READ_CHUNK.max(want.min(self.tail - self.head));
        self.reserve_tail(room);
        let buf = &mut self.buf[self.tail..];
        let n = match &mut self.src {
            Source::Socket(io) => ready!(io.poll_read(cx, buf))?,
            Source::Stream(end) => {
                let end = end.get_mut().unwrap_or_else(|e| e.into_inner());
                ready!(Pin::new(&mut **end).poll_read(cx, buf))?
            }
            Source::Fed(_) => 0,
        };
        self.tail += n;
        if n == 0 {
            self.eof = true;
        }
        Poll::Ready(Ok(n))
    }

    /// Makes the buffer non-empty, or reports the end of the stream (buffer empty)
    /// or the reader's exception: what the `futures::io` traits serve from.
    fn poll_buffered(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.sync();
        if let Some(e) = &self.exception {
            return Poll::Ready(Err(clone_error(e).into()));
        }
        while self.tail == self.head {
            if ready!(self.poll_fill(cx, READ_CHUNK))? == 0 {
                break;
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Up to `n` bytes: what is buffered, or one read from the socket if nothing is.
    /// An empty result means end of stream.
    ///
    /// # Errors
    /// The exception set with [`set_exception`](Self::set_exception); the OS error
    /// (connection reset…); `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: nothing is lost if the call is cancelled.
    ///
    /// # Examples
    /// ```
    /// # let lp = tulip::new_event_loop().unwrap();
    /// # lp.run_until_complete(async {
    /// let (a, b) = tulip::net::UnixStream::pair()?;
    /// let (mut r, _w) = a.into_streams();
    /// let (_r2, w) = b.into_streams();
    /// w.write(b"abcdef");
    /// assert_eq!(r.read(4).await?, b"abcd");
    /// assert_eq!(r.read(100).await?, b"ef");
    /// # Ok::<_, tulip::net::Error>(()) })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn read(&mut self, n: usize) -> Result<Vec<u8>> {
        self.begin().await?;
        if n == 0 {
            return Ok(Vec::new());
        }
        if self.tail == self.head {
            self.fill(n).await?;
        }
        let k = n.min(self.tail - self.head);
        Ok(self.take(k))
    }

    /// Everything until the end of the stream (asyncio's `read()` / `read(-1)`).
    ///
    /// # Errors
    /// The exception set with [`set_exception`](Self::set_exception); the OS error;
    /// `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: what was read stays buffered.
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>> {
        self.begin().await?;
        while self.fill(READ_CHUNK).await? > 0 {}
        let n = self.tail - self.head;
        Ok(self.take(n))
    }

    /// Exactly `n` bytes. The buffer grows with what arrives, whatever `n` is.
    ///
    /// # Errors
    /// [`Error::IncompleteRead`] with the bytes that came if the stream ends first
    /// (they are consumed); the exception set with
    /// [`set_exception`](Self::set_exception); the OS error; `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: bytes read so far stay in the buffer.
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>> {
        self.begin().await?;
        while self.tail - self.head < n {
            if self.fill(n - (self.tail - self.head)).await? == 0 {
                let k = self.tail - self.head;
                return Err(Error::IncompleteRead {
                    partial: self.take(k),
                    expected: Some(n),
                });
            }
        }
        Ok(self.take(n))
    }

    /// One line, ending with `\n`; at the end of the stream, what is left (possibly
    /// empty, which means end of stream).
    ///
    /// # Errors
    /// [`Error::LineTooLong`] (asyncio's `ValueError`) if the line does not fit in
    /// the limit: as asyncio 3.11, when the newline was found past the limit the
    /// line up to and including it is discarded; when no newline was found within
    /// the limit, everything buffered is discarded (what arrives afterwards is the
    /// next read's). [`readuntil`](Self::readuntil) keeps the data instead. The
    /// exception set with [`set_exception`](Self::set_exception); the OS error;
    /// `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let mut r = tulip::net::StreamReader::new(8);
    ///     r.feed_data(b"far too long a line\nnext\n");
    ///     let e = r.readline().await.unwrap_err();
    ///     assert!(matches!(e, tulip::net::Error::LineTooLong { separator_found: true, .. }));
    ///     assert_eq!(r.readline().await?, b"next\n");
    ///     Ok::<_, tulip::net::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn readline(&mut self) -> Result<Vec<u8>> {
        match self.readuntil(b"\n").await {
            Err(Error::IncompleteRead { partial, .. }) => Ok(partial),
            Err(Error::LimitOverrun { consumed, limit }) => {
                let data = &self.buf[self.head..self.tail];
                let separator_found = data.get(consumed) == Some(&b'\n');
                let discarded = if separator_found {
                    consumed + 1
                } else {
                    data.len()
                };
                self.discard(discarded);
                Err(Error::LineTooLong {
                    separator_found,
                    discarded,
                    limit,
                })
            }
            r => r,
        }
    }

    /// Everything up to and including `sep`.
    ///
    /// # Errors
    /// [`Error::LimitOverrun`] if `sep` is not found within the limit (the data stays
    /// buffered); [`Error::IncompleteRead`] if the stream ends first (the partial data
    /// is consumed and returned in the error); the exception set with
    /// [`set_exception`](Self::set_exception); the OS error; `Cancelled`.
    ///
    /// # Panics
    /// If `sep` is empty.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn readuntil(&mut self, sep: &[u8]) -> Result<Vec<u8>> {
        assert!(
            !sep.is_empty(),
            "readuntil: the separator must not be empty"
        );
        self.begin().await?;
        let mut searched = 0;
        loop {
            let data = &self.buf[self.head..self.tail];
            if let Some(i) = find(&data[searched..], sep).map(|i| i + searched) {
                if i > self.limit {
                    return Err(Error::LimitOverrun {
                        consumed: i,
                        limit: self.limit,
                    });
                }
                return Ok(self.take(i + sep.len()));
            }
            searched = (data.len() + 1).saturating_sub(sep.len());
            if searched > self.limit {
                return Err(Error::LimitOverrun {
                    consumed: searched,
                    limit: self.limit,
                });
            }
            if self.fill(READ_CHUNK).await? == 0 {
                let k = self.tail - self.head;
                return Err(Error::IncompleteRead {
                    partial: self.take(k),
                    expected: None,
                });
            }
        }
    }
}

/// Feeds a [`StreamReader`] made with [`StreamReader::new`] from another task or
/// thread, waking a read that waits (what asyncio's protocol does with
/// `feed_data`). Clones feed the same reader.
#[derive(Debug, Clone)]
pub struct Feeder {
    feed: Arc<Feed>,
}

impl Feeder {
    /// Adds `data` after what was fed before.
    ///
    /// # Panics
    /// After `feed_eof` (asyncio's assertion).
    pub fn feed_data(&self, data: &[u8]) {
        let mut st = self.feed.lock();
        assert!(!st.eof, "feed_data after feed_eof");
        if data.is_empty() {
            return;
        }
        st.data.extend_from_slice(data);
        st.wake();
    }

    /// Ends the stream.
    pub fn feed_eof(&self) {
        let mut st = self.feed.lock();
        st.eof = true;
        st.wake();
    }

    /// Makes every read from now on fail with `exc` (a waiting read wakes with it).
    pub fn set_exception(&self, exc: Error) {
        let mut st = self.feed.lock();
        st.exception = Some(exc);
        st.wake();
    }
}

/// A tulip await point that does no I/O: takes the task's cancel request and spends
/// one unit of its budget (see `io.rs`).
fn ready_point() -> impl std::future::Future<Output = Result<()>> {
    cancel_point(|_cx| Poll::Ready(Ok(())))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return hay.iter().position(|&b| b == needle[0]);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `futures::io::AsyncRead`: serves the buffer first, then reads from the source, as
/// [`StreamReader::read`] does; the reader's exception becomes the error. Each poll
/// spends one unit of the task's cooperative budget; it takes no cancel request (a
/// poll function cannot report one).
impl AsyncRead for StreamReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        ready!(tulip_core::coop::poll_proceed(cx));
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(this.poll_buffered(cx))?;
        let n = buf.len().min(this.tail - this.head);
        buf[..n].copy_from_slice(&this.buf[this.head..this.head + n]);
        this.discard(n);
        Poll::Ready(Ok(n))
    }
}

/// `futures::io::AsyncBufRead` over the reader's own buffer (so `lines()`,
/// `read_until` and `copy_buf` need no second buffer).
impl AsyncBufRead for StreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(tulip_core::coop::poll_proceed(cx));
        let this = self.get_mut();
        ready!(this.poll_buffered(cx))?;
        Poll::Ready(Ok(&this.buf[this.head..this.tail]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        let amt = amt.min(this.tail - this.head);
        this.discard(amt);
    }
}

/// Why [`StreamReader::reunite`] refused, with the reader and writer handed back.
#[derive(Debug)]
pub struct ReuniteError {
    /// The reader, unchanged.
    pub reader: StreamReader,
    /// The writer, unchanged.
    pub writer: StreamWriter,
    reason: &'static str,
}

impl ReuniteError {
    /// Why the two could not be put back together.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl std::fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot reunite the reader and writer: {}", self.reason)
    }
}

impl std::error::Error for ReuniteError {}

/// The reader and writer are dropped; the error keeps the reason (`InvalidInput`).
impl From<ReuniteError> for Error {
    fn from(e: ReuniteError) -> Error {
        Error::Io(io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))
    }
}

impl StreamReader {
    /// Puts a reader and its writer back together into the stream under them, with
    /// the bytes the reader had received and not yet returned: those bytes come
    /// *before* anything read from the stream from now on, and are never dropped.
    ///
    /// `S` is [`TcpStream`] or [`UnixStream`] for the streams of a socket
    /// ([`open_connection`], [`start_server`](crate::start_server),
    /// [`TcpStream::into_streams`]), or the type given to [`streams_from_io`].
    /// The writer must have nothing buffered (await
    /// `futures::io::AsyncWriteExt::flush` first) and not be closing; clones of it
    /// still held elsewhere behave as closed afterwards (their writes are dropped),
    /// without closing the stream.
    ///
    /// # Errors
    /// [`ReuniteError`], handing both back, when they are not the two halves of one
    /// stream, when `S` is not the stream's type, or when the writer is busy or closed.
    ///
    /// # Examples
    /// ```
    /// use tulip::net::{StreamReader, TcpStream, UnixStream};
    /// let lp = tulip::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     let (mut r, w) = a.into_streams();
    ///     b.write_all(b"line\nrest").await?;
    ///     assert_eq!(r.readline().await?, b"line\n"); // "rest" may be buffered now
    ///     let (mut a, buffered): (UnixStream, Vec<u8>) = r.reunite(w).unwrap();
    ///     let mut rest = buffered;
    ///     while rest.len() < 4 {
    ///         let mut buf = [0u8; 16];
    ///         let n = a.read(&mut buf).await?;
    ///         rest.extend_from_slice(&buf[..n]);
    ///     }
    ///     assert_eq!(rest, b"rest");
    ///     Ok::<_, tulip::net::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    // Handing the reader and writer back by value is the point of the error.
    #[allow(clippy::result_large_err)]
    pub fn reunite<S: 'static>(
        self,
        writer: StreamWriter,
    ) -> std::result::Result<(S, Vec<u8>), ReuniteError> {
        #[allow(clippy::result_large_err)]
        let refuse = |reader, writer, reason| {
            Err(ReuniteError {
                reader,
                writer,
                reason,
            })
        };
        let matches = match &self.src {
            Source::Socket(io) => writer.holds_socket(io) && socket_stream_is::<S>(io),
            Source::Stream(end) => {
                let end = end.lock().unwrap_or_else(|e| e.into_inner());
                match ReadEnd::as_any(&**end).downcast_ref::<Half<S>>() {
                    Some(h) => writer.holds_half(h),
                    None => false,
                }
            }
            Source::Fed(_) => false,
        };
        if !matches {
            return refuse(
                self,
                writer,
                "not the two halves of one stream of that type",
            );
        }
        let wio = match writer.detach_if_idle() {
            Ok(wio) => wio,
            Err(reason) => return refuse(self, writer, reason),
        };
        let mut this = self;
        let buffered = this.take(this.tail - this.head);
        let stream: Box<dyn Any> = match (this.src, wio) {
            (Source::Socket(io), _) => socket_stream(io),
            (Source::Stream(end), WIo::End(w)) => {
                let end = end.into_inner().unwrap_or_else(|e| e.into_inner());
                // Both types were checked above, under the writer's lock for `w`.
                let r = end.into_any().downcast::<Half<S>>().expect("checked type");
                let w = w.into_any().downcast::<Half<S>>().expect("checked type");
                Box::new(
                    r.reunite(*w)
                        .expect("checked: the two handles of one stream"),
                )
            }
            _ => unreachable!("checked: the reader and writer match"),
        };
        let stream = stream.downcast::<S>().expect("checked type");
        Ok((*stream, buffered))
    }

    /// The read end of a reader made with [`from_async_read`](Self::from_async_read),
    /// with the bytes received and not yet returned (they come before anything read
    /// from the end afterwards).
    ///
    /// # Errors
    /// The reader itself, unchanged, when it does not read from an `R`.
    #[allow(clippy::result_large_err)] // the reader itself comes back
    pub fn into_inner<R: 'static>(self) -> std::result::Result<(R, Vec<u8>), StreamReader> {
        let is_r = match &self.src {
            Source::Stream(end) => {
                let end = end.lock().unwrap_or_else(|e| e.into_inner());
                ReadEnd::as_any(&**end).is::<R>()
            }
            _ => false,
        };
        if !is_r {
            return Err(self);
        }
        let mut this = self;
        let buffered = this.take(this.tail - this.head);
        let Source::Stream(end) = this.src else {
            unreachable!("checked: a stream source")
        };
        let end = end.into_inner().unwrap_or_else(|e| e.into_inner());
        let r = end.into_any().downcast::<R>().expect("checked type");
        Ok((*r, buffered))
    }
}

/// True when `S` is the stream type of socket `io` (TCP or Unix).
fn socket_stream_is<S: 'static>(io: &Io<Socket>) -> bool {
    let unix = matches!(io.get().domain(), Ok(d) if d == Domain::UNIX);
    let want = TypeId::of::<S>();
    if unix {
        want == TypeId::of::<UnixStream>()
    } else {
        want == TypeId::of::<TcpStream>()
    }
}

/// The TCP or Unix stream of socket `io`, as checked by [`socket_stream_is`].
fn socket_stream(io: Arc<Io<Socket>>) -> Box<dyn Any> {
    if matches!(io.get().domain(), Ok(d) if d == Domain::UNIX) {
        Box::new(UnixStream::from_io(io))
    } else {
        Box::new(TcpStream::from_io(io))
    }
}
