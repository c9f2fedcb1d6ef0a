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

use std::io;
use std::net::Shutdown;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use socket2::Socket;

use crate::addr::{Address, ToAddrs};
use crate::error::{clone_error, clone_io, Error, Result};
use crate::io::{cancel_point, Io};
use crate::tcp::TcpStream;
use crate::unix::UnixStream;

/// asyncio's default buffer limit for a [`StreamReader`]: 64 KiB.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// Default high-water mark of a writer's buffer (64 KiB, asyncio's).
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

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
/// let lp = tulip_local::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let server = tulip_net::start_server(|mut r, w| async move {
///         let line = r.readline().await.unwrap();
///         w.write(&line);
///         w.close();
///     }, "127.0.0.1:0").await?;
///     let (mut r, w) = tulip_net::open_connection(server.local_addr().unwrap()).await?;
///     w.write(b"hello\n");
///     w.drain().await?;
///     assert_eq!(r.readline().await?, b"hello\n");
///     server.close();
///     Ok::<_, tulip_net::Error>(())
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
    let w = StreamWriter {
        shared: Arc::new(WriterShared {
            io: io.clone(),
            state: Mutex::new(WState::new()),
        }),
    };
    (StreamReader::from_io(io), w)
}

/// Where a reader's bytes come from.
#[derive(Debug)]
enum Source {
    /// A connection: the reader pulls from the socket when it needs bytes.
    Socket(Arc<Io<Socket>>),
    /// Bytes fed by hand ([`StreamReader::new`]), possibly from another task through
    /// a [`Feeder`].
    Fed(Arc<Feed>),
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
    /// let lp = tulip_local::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let mut r = tulip_net::StreamReader::new(tulip_net::DEFAULT_LIMIT);
    ///     r.feed_data(b"GET / HTTP/1.0\r\n\r\nbody");
    ///     r.feed_eof();
    ///     assert_eq!(r.readuntil(b"\r\n\r\n").await?, b"GET / HTTP/1.0\r\n\r\n");
    ///     assert_eq!(r.read_to_end().await?, b"body");
    ///     assert!(r.at_eof());
    ///     Ok::<_, tulip_net::Error>(())
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
    /// let lp = tulip_local::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let mut r = tulip_net::StreamReader::new(1024);
    ///     let feeder = r.feeder().unwrap();
    ///     tulip_core::create_task(async move {
    ///         feeder.feed_data(b"hel");
    ///         tulip_core::yield_now().await?;
    ///         feeder.feed_data(b"lo\n");
    ///         Ok::<_, tulip_core::Error>(())
    ///     })?;
    ///     assert_eq!(r.readline().await?, b"hello\n"); // waits for the second piece
    ///     Ok::<_, tulip_net::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn feeder(&self) -> Option<Feeder> {
        match &self.src {
            Source::Fed(feed) => Some(Feeder { feed: feed.clone() }),
            Source::Socket(_) => None,
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
            Source::Socket(_) => None,
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
            Source::Socket(_) => 0,
        };
        self.tail - self.head + fed
    }

    /// True once the stream has ended and the buffer is empty.
    pub fn at_eof(&self) -> bool {
        let eof = self.eof
            || match &self.src {
                Source::Fed(feed) => feed.lock().eof,
                Source::Socket(_) => false,
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
        if self.eof {
            return Ok(0);
        }
        match &self.src {
            Source::Socket(io) => {
                let io = io.clone();
                let room = READ_CHUNK.max(want.min(self.tail - self.head));
                self.reserve_tail(room);
                let n = io.read(&mut self.buf[self.tail..]).await?;
                self.tail += n;
                if n == 0 {
                    self.eof = true;
                }
                Ok(n)
            }
            Source::Fed(feed) => {
                let feed = feed.clone();
                cancel_point(|cx| {
                    let mut st = feed.lock();
                    if st.data.is_empty() && !st.eof && st.exception.is_none() {
                        st.waker = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok(()))
                })
                .await?;
                let before = self.tail - self.head;
                self.sync();
                self.check_exception()?;
                Ok(self.tail - self.head - before)
            }
        }
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
    /// # let lp = tulip_local::new_event_loop().unwrap();
    /// # lp.run_until_complete(async {
    /// let (a, b) = tulip_net::UnixStream::pair()?;
    /// let (mut r, _w) = a.into_streams();
    /// let (_r2, w) = b.into_streams();
    /// w.write(b"abcdef");
    /// assert_eq!(r.read(4).await?, b"abcd");
    /// assert_eq!(r.read(100).await?, b"ef");
    /// # Ok::<_, tulip_net::Error>(()) })?;
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
    /// let lp = tulip_local::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let mut r = tulip_net::StreamReader::new(8);
    ///     r.feed_data(b"far too long a line\nnext\n");
    ///     let e = r.readline().await.unwrap_err();
    ///     assert!(matches!(e, tulip_net::Error::LineTooLong { separator_found: true, .. }));
    ///     assert_eq!(r.readline().await?, b"next\n");
    ///     Ok::<_, tulip_net::Error>(())
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

struct WState {
    buf: Vec<u8>,
    head: usize,
    high: usize,
    low: usize,
    paused: bool,
    flushing: bool,
    eof_pending: bool,
    eof_sent: bool,
    closing: bool,
    closed: bool,
    error: Option<io::Error>,
    drain_waiters: Vec<Waker>,
    close_waiters: Vec<Waker>,
}

impl WState {
    fn new() -> WState {
        WState {
            buf: Vec::new(),
            head: 0,
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_HIGH_WATER / 4,
            paused: false,
            flushing: false,
            eof_pending: false,
            eof_sent: false,
            closing: false,
            closed: false,
            error: None,
            drain_waiters: Vec::new(),
            close_waiters: Vec::new(),
        }
    }

    fn pending(&self) -> usize {
        self.buf.len() - self.head
    }

    fn wake_drainers(&mut self) {
        self.drain_waiters.drain(..).for_each(Waker::wake);
    }

    fn set_closed(&mut self) {
        self.closed = true;
        self.closing = true;
        self.paused = false;
        self.wake_drainers();
        self.close_waiters.drain(..).for_each(Waker::wake);
    }

    fn fail(&mut self, io: &Socket, e: io::Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.buf = Vec::new();
        self.head = 0;
        let _ = io.shutdown(Shutdown::Both);
        self.set_closed();
    }

    /// The buffer is empty: carry out a pending `write_eof` or `close`.
    fn finish_pending(&mut self, io: &Socket) {
        self.buf.clear();
        self.head = 0;
        if self.paused {
            self.paused = false;
            self.wake_drainers();
        }
        if self.eof_pending && !self.eof_sent {
            self.eof_sent = true;
            let _ = io.shutdown(Shutdown::Write);
        }
        if self.closing && !self.closed {
            let _ = io.shutdown(Shutdown::Both);
            self.set_closed();
        }
    }
}

fn push_waker(list: &mut Vec<Waker>, w: &Waker) {
    if !list.iter().any(|x| x.will_wake(w)) {
        list.push(w.clone());
    }
}

struct WriterShared {
    io: Arc<Io<Socket>>,
    state: Mutex<WState>,
}

impl WriterShared {
    fn lock(&self) -> MutexGuard<'_, WState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The flusher's body: writes the buffer out as the socket allows.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        loop {
            if st.error.is_some() || st.closed {
                st.flushing = false;
                return Poll::Ready(());
            }
            if st.pending() == 0 {
                st.flushing = false;
                st.finish_pending(self.io.get());
                return Poll::Ready(());
            }
            let r = std::task::ready!(self.io.poll_write(cx, &st.buf[st.head..]));
            match r {
                Ok(n) => {
                    st.head += n;
                    if st.paused && st.pending() <= st.low {
                        st.paused = false;
                        st.wake_drainers();
                    }
                    if st.head >= READ_CHUNK && st.head * 2 >= st.buf.len() {
                        let head = st.head;
                        st.buf.drain(..head);
                        st.head = 0;
                    }
                }
                Err(e) => st.fail(self.io.get(), e),
            }
        }
    }
}

/// The writing half of a stream connection (asyncio's `StreamWriter`). Clones share
/// the same connection and buffer.
#[derive(Clone)]
pub struct StreamWriter {
    shared: Arc<WriterShared>,
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
    /// Queues `data`: written at once as far as the socket takes it, the rest
    /// buffered and written in the background. Never waits; pair it with
    /// [`drain`](Self::drain). After `close`, `write_eof` or a connection error the data
    /// is dropped (and `drain` reports the error).
    pub fn write(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let sh = &*self.shared;
        let mut st = sh.lock();
        if st.closing || st.eof_pending || st.eof_sent || st.error.is_some() {
            return;
        }
        let mut rest = data;
        if st.pending() == 0 {
            match sh.io.try_write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) => return st.fail(sh.io.get(), e),
            }
            if rest.is_empty() {
                return;
            }
        }
        st.buf.extend_from_slice(rest);
        if st.pending() > st.high {
            st.paused = true;
        }
        if !st.flushing {
            st.flushing = true;
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
            let sh = &*self.shared;
            sh.lock().fail(sh.io.get(), io::Error::other(e.to_string()));
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
    /// can still read.
    pub fn write_eof(&self) {
        let sh = &*self.shared;
        let mut st = sh.lock();
        if st.closing || st.eof_pending || st.eof_sent {
            return;
        }
        st.eof_pending = true;
        if !st.flushing {
            st.finish_pending(sh.io.get());
        }
    }

    /// True: stream sockets can half-close.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Closes the connection once the buffer is flushed (at once if it is empty).
    pub fn close(&self) {
        let sh = &*self.shared;
        let mut st = sh.lock();
        if st.closing {
            return;
        }
        st.closing = true;
        if !st.flushing {
            st.finish_pending(sh.io.get());
        }
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
        cancel_point(|cx| {
            let mut st = self.shared.lock();
            if !st.closed {
                push_waker(&mut st.close_waiters, cx.waker());
                return Poll::Pending;
            }
            Poll::Ready(match &st.error {
                Some(e) => Err(Error::Io(clone_io(e))),
                None => Ok(()),
            })
        })
        .await
    }

    /// Bytes queued and not yet written to the socket.
    pub fn write_buffer_size(&self) -> usize {
        self.shared.lock().pending()
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
            st.paused = false;
            st.wake_drainers();
        }
    }

    /// The (high, low) water marks.
    pub fn write_buffer_limits(&self) -> (usize, usize) {
        let st = self.shared.lock();
        (st.high, st.low)
    }

    /// asyncio's `get_extra_info`: `"peername"` or `"sockname"`; `None` for other names
    /// or when the OS cannot tell (after a reset, say).
    pub fn get_extra_info(&self, name: &str) -> Option<Address> {
        let s = self.shared.io.get();
        let a = match name {
            "peername" => s.peer_addr(),
            "sockname" => s.local_addr(),
            _ => return None,
        };
        a.ok().map(|a| Address::from_sock(&a))
    }
}
