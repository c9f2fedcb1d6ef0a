//! [`Server`]: listening sockets, one accept task per socket, and the connections they
//! started (asyncio's `Server`, from `start_server` / `create_server`).
//!
//! Each listening socket has one acceptor task; for every connection it calls the
//! server's handler, which spawns the connection's own task (the user's
//! `client_connected_cb` or a transport's driver) holding a [`ConnGuard`]. `close`
//! cancels the acceptors (their listening sockets close as they end); `wait_closed`
//! returns once the server is closed, every acceptor has ended and every connection
//! task has finished (asyncio 3.12's rule).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Duration;

use socket2::Socket;
use tulip_core::Task;

use crate::addr::{lookup_host, Address, ToAddrs};
use crate::error::{Error, Result};
use crate::io::{cancel_point, Io};
use crate::streams::{streams_from, StreamReader};
use crate::tcp::{ListenOptions, TcpListener};
use crate::unix::UnixListener;
use crate::writer::StreamWriter;

/// What a server does with each accepted connection.
pub(crate) type Handler = Arc<dyn Fn(Arc<Io<Socket>>, ConnGuard) + Send + Sync>;

pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    async fn accept(&self) -> Result<Arc<Io<Socket>>> {
        match self {
            Listener::Tcp(l) => Ok(l.accept().await?.0.into_io()),
            Listener::Unix(l) => Ok(l.accept().await?.0.into_io()),
        }
    }

    fn address(&self) -> Option<Address> {
        match self {
            Listener::Tcp(l) => l.local_addr().ok().map(Address::Inet),
            Listener::Unix(l) => l.local_addr().ok(),
        }
    }
}

#[derive(Default)]
struct SState {
    closed: bool,
    acceptors: usize,
    active: usize,
    waiters: Vec<Waker>,
    tasks: Vec<Task<()>>,
}

impl SState {
    fn finished(&self) -> bool {
        self.closed && self.acceptors == 0 && self.active == 0
    }

    fn wake(&mut self) {
        self.waiters.drain(..).for_each(Waker::wake);
    }
}

struct ServerInner {
    addrs: Vec<Address>,
    unix_path: Option<PathBuf>,
    state: Mutex<SState>,
}

impl ServerInner {
    fn lock(&self) -> MutexGuard<'_, SState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Counts one live connection of a server; dropping it ends the count.
pub(crate) struct ConnGuard {
    inner: Arc<ServerInner>,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut st = self.inner.lock();
        st.active -= 1;
        if st.finished() {
            st.wake();
        }
    }
}

struct AcceptorGuard {
    inner: Arc<ServerInner>,
}

impl Drop for AcceptorGuard {
    fn drop(&mut self) {
        let mut st = self.inner.lock();
        st.acceptors -= 1;
        if st.acceptors == 0 {
            st.wake();
        }
    }
}

/// A listening server (asyncio's `Server`).
///
/// Dropping the handle does not stop the server (asyncio keeps a server alive while it
/// listens); call [`close`](Self::close).
#[derive(Clone)]
pub struct Server {
    inner: Arc<ServerInner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("sockets", &self.inner.addrs)
            .field("serving", &self.is_serving())
            .finish()
    }
}

impl Server {
    pub(crate) fn start(
        listeners: Vec<Listener>,
        unix_path: Option<PathBuf>,
        handler: Handler,
    ) -> Result<Server> {
        let lp = tulip_core::get_running_loop()?;
        let inner = Arc::new(ServerInner {
            addrs: listeners.iter().filter_map(Listener::address).collect(),
            unix_path,
            state: Mutex::new(SState::default()),
        });
        let mut tasks = Vec::new();
        for l in listeners {
            inner.lock().acceptors += 1;
            let guard = AcceptorGuard {
                inner: inner.clone(),
            };
            let acceptor = accept_loop(l, handler.clone(), guard);
            tasks.push(lp.create_task(async move {
                acceptor.await;
                Ok::<(), tulip_core::Error>(())
            })?);
        }
        inner.lock().tasks = tasks;
        Ok(Server { inner })
    }

    /// The addresses the server listens on (asyncio's `sockets`).
    pub fn sockets(&self) -> Vec<Address> {
        self.inner.addrs.clone()
    }

    /// The first internet address the server listens on.
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.inner.addrs.iter().find_map(Address::as_inet)
    }

    /// True until [`close`](Self::close).
    pub fn is_serving(&self) -> bool {
        !self.inner.lock().closed
    }

    /// Stops listening: no new connections are accepted; the listening sockets close
    /// as their accept tasks end. Connections already made carry on.
    pub fn close(&self) {
        let tasks = {
            let mut st = self.inner.lock();
            if st.closed {
                return;
            }
            st.closed = true;
            if st.finished() {
                st.wake();
            }
            std::mem::take(&mut st.tasks)
        };
        for t in &tasks {
            t.cancel();
        }
        if let Some(p) = &self.inner.unix_path {
            let _ = std::fs::remove_file(p);
        }
    }

    /// Waits until the server is closed and every connection it accepted has
    /// finished.
    ///
    /// # Errors
    /// `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe.
    pub async fn wait_closed(&self) -> Result<()> {
        cancel_point(|cx| {
            let mut st = self.inner.lock();
            if st.finished() {
                return Poll::Ready(Ok(()));
            }
            st.waiters.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Serves until the server is closed (then `Ok`) or the task is cancelled (then the
    /// server is closed and `Err(Cancelled)` returned), as asyncio's `serve_forever`.
    ///
    /// # Errors
    /// `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancelling closes the server.
    pub async fn serve_forever(&self) -> Result<()> {
        let r = cancel_point(|cx| {
            let mut st = self.inner.lock();
            if st.closed {
                return Poll::Ready(Ok(()));
            }
            st.waiters.push(cx.waker().clone());
            Poll::Pending
        })
        .await;
        if r.is_err() {
            self.close();
        }
        r
    }
}

fn conn_guard(inner: &Arc<ServerInner>) -> ConnGuard {
    inner.lock().active += 1;
    ConnGuard {
        inner: inner.clone(),
    }
}

async fn accept_loop(l: Listener, handler: Handler, guard: AcceptorGuard) {
    loop {
        match l.accept().await {
            Ok(io) => handler(io, conn_guard(&guard.inner)),
            Err(e) if e.is_cancelled() => return,
            Err(Error::Loop(_)) => return,
            Err(e) => {
                // Out of descriptors, say: asyncio logs and retries after a pause.
                if let Ok(lp) = tulip_core::get_running_loop() {
                    lp.call_exception_handler(&tulip_core::ExceptionContext {
                        message: "error accepting a connection".into(),
                        error: Some(tulip_core::Error::from(e)),
                        task: None,
                    });
                }
                if tulip_core::sleep(Duration::from_millis(100)).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Binds every address of `addr`, with `opts`.
pub(crate) async fn bind_all(addr: impl ToAddrs, opts: ListenOptions) -> Result<Vec<Listener>> {
    let target = addr.to_target()?;
    let mut out = Vec::new();
    for a in lookup_host(&target).await? {
        let l = TcpListener::bind_addr(a, opts).map_err(|e| match e {
            Error::Io(source) => Error::Bind {
                target: a.to_string(),
                source,
            },
            e => e,
        })?;
        out.push(Listener::Tcp(l));
    }
    Ok(out)
}

fn stream_handler<F, Fut>(cb: F, limit: usize) -> Handler
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |io, guard| {
        let (mut r, w) = streams_from(io);
        r.set_limit(limit);
        let fut = cb(r, w);
        let _ = tulip_core::create_task(async move {
            let _guard = guard;
            fut.await;
            Ok::<(), tulip_core::Error>(())
        });
    })
}

/// A handler that runs the TLS handshake in the connection's task, then calls `cb`
/// with the TLS stream's reader and writer. A failed or timed-out handshake closes
/// the connection without calling `cb` (asyncio only logs it in debug mode).
#[cfg(feature = "tls")]
fn tls_stream_handler<F, Fut>(
    cb: F,
    cfg: Arc<crate::tls::rustls::ServerConfig>,
    timeout: Option<Duration>,
    limit: usize,
) -> Handler
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let cb = Arc::new(cb);
    Arc::new(move |io, guard| {
        let (cb, cfg) = (cb.clone(), cfg.clone());
        let _ = tulip_core::create_task(async move {
            let _guard = guard;
            let s = crate::tcp::TcpStream::from_io(io);
            let (sock, peer) = (s.local_addr().ok(), s.peer_addr().ok());
            if let Ok(tls) = crate::tls::start_tls(s, cfg, None, timeout).await {
                let (r, w) = crate::streams::streams_from_io_named(
                    tls,
                    limit,
                    sock.map(Address::Inet),
                    peer.map(Address::Inet),
                );
                cb(r, w).await;
            }
            Ok::<(), tulip_core::Error>(())
        });
    })
}

/// asyncio's keyword arguments of `start_server`: the listening socket's options,
/// the readers' `limit`, and with the `tls` feature `ssl` and
/// `ssl_handshake_timeout`. A [`ListenOptions`] converts into it, so
/// [`start_server_with`] takes either.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// `SO_REUSEADDR`, `SO_REUSEPORT`, backlog.
    pub listen: ListenOptions,
    /// Each connection's reader buffer limit (asyncio's `limit`, default
    /// [`DEFAULT_LIMIT`](crate::DEFAULT_LIMIT)).
    pub limit: usize,
    /// Serve TLS with this configuration (asyncio's `ssl=`); `None`: plain TCP.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub ssl: Option<Arc<crate::tls::rustls::ServerConfig>>,
    /// How long each connection's TLS handshake may take before it is dropped
    /// (asyncio's `ssl_handshake_timeout`); `None`: 60 s. Only with `ssl`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub ssl_handshake_timeout: Option<Duration>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ListenOptions::default().into()
    }
}

impl From<ListenOptions> for ServerOptions {
    fn from(listen: ListenOptions) -> Self {
        ServerOptions {
            listen,
            limit: crate::streams::DEFAULT_LIMIT,
            #[cfg(feature = "tls")]
            ssl: None,
            #[cfg(feature = "tls")]
            ssl_handshake_timeout: None,
        }
    }
}

impl ServerOptions {
    /// The connection handler these options ask for, or asyncio's `ValueError`s.
    fn handler<F, Fut>(self, cb: F) -> Result<Handler>
    where
        F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let invalid = |msg| Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, msg));
        if self.limit == 0 {
            return Err(invalid("limit must be positive"));
        }
        #[cfg(feature = "tls")]
        match self.ssl {
            Some(cfg) => {
                if self.ssl_handshake_timeout.is_some_and(|t| t.is_zero()) {
                    return Err(invalid("ssl_handshake_timeout should be a positive number"));
                }
                return Ok(tls_stream_handler(
                    cb,
                    cfg,
                    self.ssl_handshake_timeout,
                    self.limit,
                ));
            }
            None if self.ssl_handshake_timeout.is_some() => {
                return Err(invalid("ssl_handshake_timeout is only meaningful with ssl"));
            }
            None => {}
        }
        Ok(stream_handler(cb, self.limit))
    }
}

/// Starts a TCP server that calls `client_connected_cb(reader, writer)` in a new task
/// for each connection (asyncio's `start_server`). Listens on every address `addr`
/// resolves to (port 0 picks a free port).
///
/// # Errors
/// [`Error::Bind`] (address in use…); [`Error::Resolve`]; `NoRunningLoop`.
///
/// # Cancel safety
/// Cancel safe (only name resolution waits).
///
/// # Examples
/// See [`open_connection`](crate::open_connection).
pub async fn start_server<F, Fut>(client_connected_cb: F, addr: impl ToAddrs) -> Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    start_server_with(client_connected_cb, addr, ListenOptions::default()).await
}

/// [`start_server`] with asyncio's keyword arguments: [`ServerOptions`] (or just
/// [`ListenOptions`]: reuse_port, backlog…), including `ssl` with the `tls` feature.
///
/// # Errors
/// As [`start_server`]; `Error::Io` (`InvalidInput`) for a zero `limit` or
/// `ssl_handshake_timeout` without `ssl`.
///
/// # Cancel safety
/// Cancel safe.
pub async fn start_server_with<F, Fut>(
    client_connected_cb: F,
    addr: impl ToAddrs,
    opts: impl Into<ServerOptions>,
) -> Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let opts = opts.into();
    let listen = opts.listen;
    let handler = opts.handler(client_connected_cb)?;
    let listeners = bind_all(addr, listen).await?;
    Server::start(listeners, None, handler)
}

/// Starts a Unix socket server at `path` (asyncio's `start_unix_server`). The socket
/// file is removed when the server is closed.
///
/// # Errors
/// [`Error::Bind`] (the path exists…); `NoRunningLoop`.
///
/// # Cancel safety
/// Cancel safe (nothing waits).
pub async fn start_unix_server<F, Fut>(
    client_connected_cb: F,
    path: impl AsRef<Path>,
) -> Result<Server>
where
    F: Fn(StreamReader, StreamWriter) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let path = path.as_ref();
    let l = UnixListener::bind(path)?;
    Server::start(
        vec![Listener::Unix(l)],
        Some(path.to_path_buf()),
        stream_handler(client_connected_cb, crate::streams::DEFAULT_LIMIT),
    )
}
