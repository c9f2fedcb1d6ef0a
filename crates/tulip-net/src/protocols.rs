//! asyncio's low level: [`Protocol`] callbacks driven by a [`Transport`], and the
//! datagram pair [`DatagramProtocol`] / [`DatagramTransport`].
//!
//! Design: each connection has one *driver* task that owns the socket's readiness. It
//! reads whenever reading is on and calls `data_received`, flushes the transport's write
//! buffer when the socket is writable, delivers `pause_writing` / `resume_writing`, and
//! calls `connection_lost` once, when the transport closes, aborts or fails. The
//! protocol lives behind `Arc<Mutex<P>>`: the driver locks it for each callback, the
//! caller gets the same `Arc` back from `create_connection`.
//!
//! `connection_made` is called before `create_connection` returns (or, on a server,
//! before the driver starts), as in asyncio. A transport handle may be held by anyone
//! (the protocol usually keeps one); the socket itself is owned by the transport's
//! state and released when the connection ends, so a protocol holding its transport
//! forever does not keep the descriptor open.
//!
//! Differences from asyncio, forced by the callbacks being `&mut self` under a lock:
//! `pause_writing` is delivered by the driver right after the callback (or the
//! `write` call) that crossed the high-water mark, not from inside `write`.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use socket2::Socket;

use crate::addr::{Address, ToAddrs};
use crate::error::{clone_io, Result};
use crate::server::{bind_all, ConnGuard, Handler, Server};
use crate::tcp::{ListenOptions, TcpStream};
use crate::udp::UdpSocket;
use crate::unix::UnixStream;
use crate::writer::DEFAULT_HIGH_WATER;

const READ_BUF: usize = 64 * 1024;
/// Reads or writes per driver poll before it yields to other tasks.
const BUDGET: usize = 32;

/// Callbacks of a stream connection (asyncio's `asyncio.Protocol`).
///
/// # Examples
/// ```
/// use std::sync::{Arc, Mutex};
/// use tulip::net::{Protocol, Transport};
///
/// struct Echo(Option<Transport>);
/// impl Protocol for Echo {
///     fn connection_made(&mut self, t: Transport) { self.0 = Some(t); }
///     fn data_received(&mut self, data: &[u8]) { self.0.as_ref().unwrap().write(data); }
/// }
///
/// struct Client { got: Vec<u8>, done: tulip::Promise<Vec<u8>> }
/// impl Protocol for Client {
///     fn data_received(&mut self, data: &[u8]) { self.got.extend_from_slice(data); }
///     fn eof_received(&mut self) -> bool { let _ = self.done.set_result(self.got.clone()); false }
/// }
///
/// let lp = tulip::new_event_loop().unwrap();
/// let echoed = lp.run_until_complete(async {
///     let server = tulip::net::create_server(|| Echo(None), "127.0.0.1:0").await?;
///     let done = tulip::Promise::new();
///     let d = done.clone();
///     let (t, _p) = tulip::net::create_connection(
///         move || Client { got: vec![], done: d },
///         server.local_addr().unwrap(),
///     ).await?;
///     t.write(b"ping");
///     t.write_eof();               // the server echoes, sees EOF and closes
///     let echoed = done.await?;
///     server.close();
///     Ok::<_, tulip::net::Error>(echoed)
/// })?;
/// assert_eq!(echoed, b"ping");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Protocol: Send + 'static {
    /// The connection is up; keep `transport` to write.
    fn connection_made(&mut self, transport: Transport) {
        let _ = transport;
    }

    /// Bytes arrived.
    fn data_received(&mut self, data: &[u8]);

    /// The peer half-closed. Return `true` to keep the connection open for writing
    /// (then call `close` yourself); `false` (the default) closes it.
    fn eof_received(&mut self) -> bool {
        false
    }

    /// The connection ended: `None` after a close or EOF, the error after a failure.
    /// Called exactly once, last.
    fn connection_lost(&mut self, exc: Option<io::Error>) {
        let _ = exc;
    }

    /// The transport's write buffer went over the high-water mark: stop writing.
    fn pause_writing(&mut self) {}

    /// The buffer drained to the low-water mark: writing may resume.
    fn resume_writing(&mut self) {}
}

struct TState {
    io: Option<Arc<crate::io::Io<Socket>>>,
    buf: Vec<u8>,
    head: usize,
    high: usize,
    low: usize,
    protocol_paused: bool,
    notify: Option<bool>,
    reading: bool,
    closing: bool,
    aborted: bool,
    eof_pending: bool,
    eof_sent: bool,
    error: Option<io::Error>,
    driver: Option<Waker>,
}

impl TState {
    fn pending(&self) -> usize {
        self.buf.len() - self.head
    }

    fn wake_driver(&mut self) {
        if let Some(w) = self.driver.take() {
            w.wake();
        }
    }

    fn check_high(&mut self) {
        if !self.protocol_paused && self.pending() > self.high {
            self.protocol_paused = true;
            self.notify = Some(true);
        }
    }

    fn check_low(&mut self) {
        if self.protocol_paused && self.pending() <= self.low {
            self.protocol_paused = false;
            self.notify = Some(false);
        }
    }
}

struct TShared {
    state: Mutex<TState>,
}

impl TShared {
    fn lock(&self) -> MutexGuard<'_, TState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A stream connection's transport (asyncio's `Transport`): write, close, flow
/// control. Clones are handles to the same connection.
#[derive(Clone)]
pub struct Transport {
    sh: Arc<TShared>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("buffered", &self.get_write_buffer_size())
            .field("closing", &self.is_closing())
            .finish()
    }
}

impl Transport {
    /// Queues `data`: written at once as far as the socket takes it, the rest
    /// buffered. Ignored once the transport is closing or failed.
    pub fn write(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut st = self.sh.lock();
        if st.closing || st.eof_pending || st.error.is_some() {
            return;
        }
        let Some(io) = st.io.clone() else { return };
        let mut rest = data;
        if st.pending() == 0 {
            match io.try_write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) => {
                    st.error = Some(e);
                    st.wake_driver();
                    return;
                }
            }
            if rest.is_empty() {
                return;
            }
        }
        st.buf.extend_from_slice(rest);
        st.check_high();
        st.wake_driver();
    }

    /// Writes each buffer in turn.
    pub fn writelines<I, B>(&self, lines: I)
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        for l in lines {
            self.write(l.as_ref());
        }
    }

    /// Half-closes once the buffer is flushed.
    pub fn write_eof(&self) {
        let mut st = self.sh.lock();
        st.eof_pending = true;
        st.wake_driver();
    }

    /// True: stream transports can half-close.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// Closes once the buffer is flushed; `connection_lost(None)` follows.
    pub fn close(&self) {
        let mut st = self.sh.lock();
        st.closing = true;
        st.wake_driver();
    }

    /// Closes at once, dropping buffered data and resetting the connection.
    pub fn abort(&self) {
        let mut st = self.sh.lock();
        st.closing = true;
        st.aborted = true;
        if let Some(io) = &st.io {
            let _ = io.get().set_linger(Some(std::time::Duration::ZERO));
        }
        st.wake_driver();
    }

    /// True once closing, aborted or failed.
    pub fn is_closing(&self) -> bool {
        let st = self.sh.lock();
        st.closing || st.error.is_some()
    }

    /// Stops calling `data_received` until [`resume_reading`](Self::resume_reading).
    pub fn pause_reading(&self) {
        self.sh.lock().reading = false;
    }

    /// Resumes reading.
    pub fn resume_reading(&self) {
        let mut st = self.sh.lock();
        st.reading = true;
        st.wake_driver();
    }

    /// True while reading is on.
    pub fn is_reading(&self) -> bool {
        self.sh.lock().reading
    }

    /// Bytes buffered and not yet written.
    pub fn get_write_buffer_size(&self) -> usize {
        self.sh.lock().pending()
    }

    /// Sets the water marks (`low` defaults to `high / 4`).
    ///
    /// # Panics
    /// If `low > high`.
    pub fn set_write_buffer_limits(&self, high: usize, low: Option<usize>) {
        let low = low.unwrap_or(high / 4);
        assert!(low <= high, "low-water mark above the high-water mark");
        let mut st = self.sh.lock();
        st.high = high;
        st.low = low;
        st.check_high();
        st.check_low();
        st.wake_driver();
    }

    /// asyncio's `get_write_buffer_limits()`: the water marks as `(low, high)`, in
    /// asyncio's order (the reverse of [`set_write_buffer_limits`]'s arguments, as in
    /// asyncio).
    ///
    /// [`set_write_buffer_limits`]: Self::set_write_buffer_limits
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        let st = self.sh.lock();
        (st.low, st.high)
    }

    /// `"peername"` or `"sockname"`; `None` for other names or once closed.
    pub fn get_extra_info(&self, name: &str) -> Option<Address> {
        let st = self.sh.lock();
        let s = st.io.as_ref()?.get();
        let a = match name {
            "peername" => s.peer_addr(),
            "sockname" => s.local_addr(),
            _ => return None,
        };
        a.ok().map(|a| Address::from_sock(&a))
    }
}

struct Driver<P> {
    sh: Arc<TShared>,
    io: Option<Arc<crate::io::Io<Socket>>>,
    proto: Arc<Mutex<P>>,
    buf: Vec<u8>,
    eof: bool,
    _guard: Option<ConnGuard>,
}

fn lock_proto<P>(p: &Mutex<P>) -> MutexGuard<'_, P> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

enum Step {
    Progress,
    Idle,
    Done(Option<io::Error>),
}

impl<P: Protocol> Driver<P> {
    fn finish(&mut self, exc: Option<io::Error>) {
        let io = {
            let mut st = self.sh.lock();
            st.closing = true;
            st.buf = Vec::new();
            st.head = 0;
            st.io.take()
        };
        drop(io);
        self.io = None;
        lock_proto(&self.proto).connection_lost(exc);
    }

    fn write_step(&mut self, cx: &mut Context<'_>, io: &crate::io::Io<Socket>) -> Step {
        let mut st = self.sh.lock();
        if let Some(e) = st.error.take() {
            st.error = Some(clone_io(&e));
            return Step::Done(Some(e));
        }
        if st.aborted {
            return Step::Done(None);
        }
        let mut step = Step::Idle;
        if st.pending() > 0 {
            match io.poll_write(cx, &st.buf[st.head..]) {
                Poll::Ready(Ok(n)) => {
                    st.head += n;
                    if st.head == st.buf.len() {
                        st.buf.clear();
                        st.head = 0;
                    }
                    st.check_low();
                    step = Step::Progress;
                }
                Poll::Ready(Err(e)) => {
                    st.error = Some(clone_io(&e));
                    return Step::Done(Some(e));
                }
                Poll::Pending => {}
            }
        }
        if st.pending() == 0 {
            if st.eof_pending && !st.eof_sent {
                st.eof_sent = true;
                let _ = io.get().shutdown(Shutdown::Write);
            }
            if st.closing {
                return Step::Done(None);
            }
        }
        step
    }

    fn read_step(&mut self, cx: &mut Context<'_>, io: &crate::io::Io<Socket>) -> Step {
        {
            let st = self.sh.lock();
            if !st.reading || st.closing || self.eof {
                return Step::Idle;
            }
        }
        match io.poll_read(cx, &mut self.buf) {
            Poll::Ready(Ok(0)) => {
                self.eof = true;
                let keep_open = lock_proto(&self.proto).eof_received();
                if !keep_open {
                    let mut st = self.sh.lock();
                    st.closing = true;
                }
                Step::Progress
            }
            Poll::Ready(Ok(n)) => {
                lock_proto(&self.proto).data_received(&self.buf[..n]);
                Step::Progress
            }
            Poll::Ready(Err(e)) => {
                self.sh.lock().error = Some(clone_io(&e));
                Step::Done(Some(e))
            }
            Poll::Pending => Step::Idle,
        }
    }

    fn deliver_notifications(&mut self, cx: &mut Context<'_>) {
        let notify = {
            let mut st = self.sh.lock();
            match &st.driver {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => st.driver = Some(cx.waker().clone()),
            }
            st.notify.take()
        };
        match notify {
            Some(true) => lock_proto(&self.proto).pause_writing(),
            Some(false) => lock_proto(&self.proto).resume_writing(),
            None => {}
        }
    }
}

impl<P: Protocol> Future for Driver<P> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(io) = this.io.clone() else {
            return Poll::Ready(());
        };
        for _ in 0..BUDGET {
            this.deliver_notifications(cx);
            let w = this.write_step(cx, &io);
            if let Step::Done(exc) = w {
                this.finish(exc);
                return Poll::Ready(());
            }
            let r = this.read_step(cx, &io);
            if let Step::Done(exc) = r {
                this.finish(exc);
                return Poll::Ready(());
            }
            if matches!((w, r), (Step::Idle, Step::Idle)) {
                // A callback may have queued a notification or a close meanwhile.
                let st = this.sh.lock();
                let again = st.notify.is_some()
                    || st.aborted
                    || st.error.is_some()
                    || (st.closing && st.pending() == 0);
                drop(st);
                if !again {
                    return Poll::Pending;
                }
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn start_transport<P: Protocol>(
    io: Arc<crate::io::Io<Socket>>,
    proto: Arc<Mutex<P>>,
    guard: Option<ConnGuard>,
) -> Result<Transport> {
    let sh = Arc::new(TShared {
        state: Mutex::new(TState {
            io: Some(io.clone()),
            buf: Vec::new(),
            head: 0,
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_HIGH_WATER / 4,
            protocol_paused: false,
            notify: None,
            reading: true,
            closing: false,
            aborted: false,
            eof_pending: false,
            eof_sent: false,
            error: None,
            driver: None,
        }),
    });
    let transport = Transport { sh: sh.clone() };
    lock_proto(&proto).connection_made(transport.clone());
    let driver = Driver {
        sh,
        io: Some(io),
        proto,
        buf: vec![0; READ_BUF],
        eof: false,
        _guard: guard,
    };
    tulip_core::create_task(async move {
        driver.await;
        Ok::<(), tulip_core::Error>(())
    })?;
    Ok(transport)
}

/// Connects to `addr` and runs a protocol made by `protocol_factory` on the connection
/// (asyncio's `loop.create_connection`). `connection_made` has been called when this
/// returns.
///
/// # Errors
/// As [`TcpStream::connect`].
///
/// # Cancel safety
/// Cancel safe.
///
/// # Examples
/// See [`Protocol`].
pub async fn create_connection<P, F>(
    protocol_factory: F,
    addr: impl ToAddrs,
) -> Result<(Transport, Arc<Mutex<P>>)>
where
    P: Protocol,
    F: FnOnce() -> P,
{
    let s = TcpStream::connect(addr).await?;
    let proto = Arc::new(Mutex::new(protocol_factory()));
    let t = start_transport(s.into_io(), proto.clone(), None)?;
    Ok((t, proto))
}

/// [`create_connection`] over a Unix socket.
///
/// # Errors
/// As [`UnixStream::connect`].
///
/// # Cancel safety
/// Cancel safe.
pub async fn create_unix_connection<P, F>(
    protocol_factory: F,
    path: impl AsRef<Path>,
) -> Result<(Transport, Arc<Mutex<P>>)>
where
    P: Protocol,
    F: FnOnce() -> P,
{
    let s = UnixStream::connect(path).await?;
    let proto = Arc::new(Mutex::new(protocol_factory()));
    let t = start_transport(s.into_io(), proto.clone(), None)?;
    Ok((t, proto))
}

/// Listens on `addr` and runs a new protocol from `protocol_factory` on each
/// connection (asyncio's `loop.create_server`).
///
/// # Errors
/// As [`start_server`](crate::start_server).
///
/// # Cancel safety
/// Cancel safe.
pub async fn create_server<P, F>(protocol_factory: F, addr: impl ToAddrs) -> Result<Server>
where
    P: Protocol,
    F: Fn() -> P + Send + Sync + 'static,
{
    let listeners = bind_all(addr, ListenOptions::default()).await?;
    let handler: Handler = Arc::new(move |io, guard| {
        let proto = Arc::new(Mutex::new(protocol_factory()));
        let _ = start_transport(io, proto, Some(guard));
    });
    Server::start(listeners, None, handler)
}

/// Callbacks of a datagram endpoint (asyncio's `DatagramProtocol`).
pub trait DatagramProtocol: Send + 'static {
    /// The endpoint is ready; keep `transport` to send.
    fn connection_made(&mut self, transport: DatagramTransport) {
        let _ = transport;
    }

    /// A datagram arrived from `addr`.
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr);

    /// A send or receive failed (an ICMP "port unreachable" shows up here as
    /// `ConnectionRefused`).
    fn error_received(&mut self, exc: io::Error) {
        let _ = exc;
    }

    /// The endpoint was closed. Called exactly once, last.
    fn connection_lost(&mut self, exc: Option<io::Error>) {
        let _ = exc;
    }
}

struct DState {
    sock: Option<Arc<UdpSocket>>,
    queue: VecDeque<(Vec<u8>, Option<SocketAddr>)>,
    queued: usize,
    errors: Vec<io::Error>,
    closing: bool,
    aborted: bool,
    driver: Option<Waker>,
}

struct DShared {
    state: Mutex<DState>,
}

impl DShared {
    fn lock(&self) -> MutexGuard<'_, DState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A datagram endpoint's transport (asyncio's `DatagramTransport`).
#[derive(Clone)]
pub struct DatagramTransport {
    sh: Arc<DShared>,
}

impl std::fmt::Debug for DatagramTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatagramTransport")
            .field("buffered", &self.get_write_buffer_size())
            .finish()
    }
}

impl DatagramTransport {
    /// Sends `data` to `addr` (`None`: to the connected peer). Sent at once when the
    /// socket can take it, queued otherwise; errors go to `error_received`.
    pub fn sendto(&self, data: &[u8], addr: Option<SocketAddr>) {
        let mut st = self.sh.lock();
        if st.closing {
            return;
        }
        let Some(sock) = st.sock.clone() else { return };
        if st.queue.is_empty() {
            match sock.try_send_to(data, addr) {
                Some(Ok(_)) => return,
                Some(Err(e)) => {
                    st.errors.push(e);
                    if let Some(w) = st.driver.take() {
                        w.wake();
                    }
                    return;
                }
                None => {}
            }
        }
        st.queued += data.len();
        st.queue.push_back((data.to_vec(), addr));
        if let Some(w) = st.driver.take() {
            w.wake();
        }
    }

    /// Closes once the queue is sent.
    pub fn close(&self) {
        let mut st = self.sh.lock();
        st.closing = true;
        if let Some(w) = st.driver.take() {
            w.wake();
        }
    }

    /// Closes at once, dropping queued datagrams.
    pub fn abort(&self) {
        let mut st = self.sh.lock();
        st.aborted = true;
        st.closing = true;
        if let Some(w) = st.driver.take() {
            w.wake();
        }
    }

    /// True once closing.
    pub fn is_closing(&self) -> bool {
        self.sh.lock().closing
    }

    /// Bytes queued and not yet sent.
    pub fn get_write_buffer_size(&self) -> usize {
        self.sh.lock().queued
    }

    /// `"sockname"` or `"peername"` (connected endpoints only).
    pub fn get_extra_info(&self, name: &str) -> Option<Address> {
        let st = self.sh.lock();
        let s = st.sock.as_ref()?;
        let a = match name {
            "peername" => s.peer_addr(),
            "sockname" => s.local_addr(),
            _ => return None,
        };
        a.ok().map(Address::Inet)
    }
}

struct DDriver<P> {
    sh: Arc<DShared>,
    sock: Option<Arc<UdpSocket>>,
    proto: Arc<Mutex<P>>,
    buf: Vec<u8>,
}

impl<P: DatagramProtocol> DDriver<P> {
    fn finish(&mut self) {
        let sock = self.sh.lock().sock.take();
        drop(sock);
        self.sock = None;
        lock_proto(&self.proto).connection_lost(None);
    }

    /// Sends queued datagrams; true if any went out.
    fn send_step(&mut self, cx: &mut Context<'_>, sock: &UdpSocket) -> bool {
        let mut st = self.sh.lock();
        let mut sent = false;
        while let Some((data, addr)) = st.queue.front() {
            match sock.poll_send_opt(cx, data, *addr) {
                Poll::Pending => break,
                Poll::Ready(r) => {
                    if let Err(e) = r {
                        st.errors.push(e);
                    }
                    let (data, _) = st.queue.pop_front().expect("front exists");
                    st.queued -= data.len();
                    sent = true;
                }
            }
        }
        sent
    }
}

impl<P: DatagramProtocol> Future for DDriver<P> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let Some(sock) = this.sock.clone() else {
            return Poll::Ready(());
        };
        for _ in 0..BUDGET {
            let (errors, aborted) = {
                let mut st = this.sh.lock();
                st.driver = Some(cx.waker().clone());
                (std::mem::take(&mut st.errors), st.aborted)
            };
            for e in errors {
                lock_proto(&this.proto).error_received(e);
            }
            if aborted {
                this.finish();
                return Poll::Ready(());
            }
            let sent = this.send_step(cx, &sock);
            {
                let st = this.sh.lock();
                if st.closing && st.queue.is_empty() {
                    drop(st);
                    this.finish();
                    return Poll::Ready(());
                }
            }
            let received = match sock.recv_from_now(cx, &mut this.buf) {
                Poll::Ready(Ok((n, from))) => {
                    lock_proto(&this.proto).datagram_received(&this.buf[..n], from);
                    true
                }
                Poll::Ready(Err(e)) => {
                    lock_proto(&this.proto).error_received(e);
                    true
                }
                Poll::Pending => false,
            };
            if !sent && !received {
                let st = this.sh.lock();
                let again = !st.errors.is_empty() || st.closing;
                drop(st);
                if !again {
                    return Poll::Pending;
                }
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Opens a UDP endpoint bound to `local_addr` (any port if `None`) and, if
/// `remote_addr` is given, connected to it; runs a protocol from `protocol_factory` on
/// it (asyncio's `loop.create_datagram_endpoint`).
///
/// # Errors
/// [`Error::Bind`](crate::Error::Bind) / [`Error::Connect`](crate::Error::Connect);
/// `NoRunningLoop`.
///
/// # Cancel safety
/// Cancel safe.
///
/// # Examples
/// ```
/// use std::net::SocketAddr;
/// use tulip::net::{DatagramProtocol, DatagramTransport};
/// struct Echo(Option<DatagramTransport>);
/// impl DatagramProtocol for Echo {
///     fn connection_made(&mut self, t: DatagramTransport) { self.0 = Some(t); }
///     fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
///         self.0.as_ref().unwrap().sendto(data, Some(addr));
///     }
/// }
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
///     let (t, _) = tulip::net::create_datagram_endpoint(|| Echo(None), Some(local), None).await?;
///     let server = t.get_extra_info("sockname").unwrap().as_inet().unwrap();
///     let client = tulip::net::UdpSocket::bind("127.0.0.1:0").await?;
///     client.send_to(b"hi", server).await?;
///     let mut buf = [0u8; 8];
///     let (n, _) = client.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"hi");
///     t.close();
///     Ok::<_, tulip::net::Error>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn create_datagram_endpoint<P, F>(
    protocol_factory: F,
    local_addr: Option<SocketAddr>,
    remote_addr: Option<SocketAddr>,
) -> Result<(DatagramTransport, Arc<Mutex<P>>)>
where
    P: DatagramProtocol,
    F: FnOnce() -> P,
{
    let local = local_addr.unwrap_or_else(|| match remote_addr {
        Some(SocketAddr::V6(_)) => "[::]:0".parse().expect("valid address"),
        _ => SocketAddr::from(([0, 0, 0, 0], 0)),
    });
    let sock = UdpSocket::bind(local).await?;
    if let Some(r) = remote_addr {
        sock.connect(r).await?;
    }
    let sock = Arc::new(sock);
    let sh = Arc::new(DShared {
        state: Mutex::new(DState {
            sock: Some(sock.clone()),
            queue: VecDeque::new(),
            queued: 0,
            errors: Vec::new(),
            closing: false,
            aborted: false,
            driver: None,
        }),
    });
    let transport = DatagramTransport { sh: sh.clone() };
    let proto = Arc::new(Mutex::new(protocol_factory()));
    lock_proto(&proto).connection_made(transport.clone());
    let driver = DDriver {
        sh,
        sock: Some(sock),
        proto: proto.clone(),
        buf: vec![0; READ_BUF],
    };
    tulip_core::create_task(async move {
        driver.await;
        Ok::<(), tulip_core::Error>(())
    })?;
    Ok((transport, proto))
}
