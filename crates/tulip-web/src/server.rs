//! [`Server`]: the listening socket, its accept loop and the connections it started
//! (aiohttp's `AppRunner` + `TCPSite`, asyncio's `Server` shape).
//!
//! State, under one lock: `closed` (set once by [`Server::close`]), `accepting`
//! (true until the accept task ends), `active` (connections being served),
//! `waiters` (tasks in `wait_closed`, and the acceptor when it waits for a free
//! connection slot), the clean-up hooks (taken once). Shutdown order: `close` marks
//! the server closed and fires the shutdown signal; the acceptor stops and its
//! listening socket closes; each connection asks hyper for a graceful shutdown
//! (idle ones close now, a response in progress is finished first); when the last
//! connection ends, `wait_closed` runs the clean-up hooks and returns.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::{poll_fn, select, Either, FutureExt};
use tulip_hyper::Cancellable;
use tulip_net::{TcpListener, ToAddrs};

use crate::app::{Application, Hook};
use crate::conn::{serve_connection, Shared, ShutdownSignal};
use crate::error::Error;

/// How long the acceptor pauses after an accept error (out of descriptors, say)
/// before trying again, as asyncio does.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(100);

#[derive(Default)]
struct State {
    closed: bool,
    accepting: bool,
    active: usize,
    waiters: Vec<Waker>,
    cleanup: Vec<Hook>,
}

impl State {
    fn finished(&self) -> bool {
        self.closed && !self.accepting && self.active == 0
    }

    fn wake(&mut self) {
        self.waiters.drain(..).for_each(Waker::wake);
    }
}

struct Inner {
    addr: SocketAddr,
    max_connections: usize,
    state: Mutex<State>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A serving [`Application`]: what [`Application::serve`] returns.
///
/// Dropping the handle does not stop the server; call [`close`](Self::close).
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.inner.lock();
        f.debug_struct("Server")
            .field("addr", &self.inner.addr)
            .field("closed", &st.closed)
            .field("connections", &st.active)
            .finish()
    }
}

impl Application {
    /// Runs the start-up hooks, then serves on `addr` (aiohttp's
    /// `loop.create_server(app.make_handler(), host, port)`); returns the listening
    /// [`Server`].
    ///
    /// # Errors
    /// A start-up hook's error; [`Error::Net`] if the address is in use, the host
    /// unknown, or no loop is running.
    ///
    /// # Cancel safety
    /// Cancel safe until the socket is bound (hooks that ran are not undone).
    ///
    /// # Examples
    /// ```
    /// use tulip::web::{Application, Request, Response};
    /// let lp = tulip::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let mut app = Application::new();
    ///     app.router.add_get("/", |_req: Request| async { Response::html("<h1>Index</h1>") });
    ///     let srv = app.serve("127.0.0.1:0").await?;
    ///     let resp = tulip::web::client::get(srv.local_addr(), "/").await?;
    ///     assert_eq!((resp.status.as_u16(), resp.text().as_str()), (200, "<h1>Index</h1>"));
    ///     srv.close();
    ///     srv.wait_closed().await
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn serve(self, addr: impl ToAddrs) -> Result<Server, Error> {
        let (limits, nodelay, access_log) = (self.limits, self.tcp_nodelay, self.access_log);
        let (handler, startup, cleanup) = self.into_handler();
        for hook in startup {
            hook().await?;
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(handler, limits, nodelay, access_log));
        let (tx, rx) = oneshot::channel();
        let inner = Arc::new(Inner {
            addr,
            max_connections: limits.max_connections.max(1),
            state: Mutex::new(State {
                accepting: true,
                cleanup,
                ..State::default()
            }),
            shutdown: Mutex::new(Some(tx)),
        });
        let acceptor = accept_loop(listener, shared, inner.clone(), rx.shared());
        tulip_core::create_task(async move {
            acceptor.await;
            Ok::<(), tulip_core::Error>(())
        })?;
        Ok(Server { inner })
    }
}

impl Server {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// True until [`close`](Self::close).
    pub fn is_serving(&self) -> bool {
        !self.inner.lock().closed
    }

    /// How many connections are being served.
    pub fn connections(&self) -> usize {
        self.inner.lock().active
    }

    /// Stops accepting and asks every connection to finish: idle keep-alive
    /// connections close at once, a response in progress is completed first.
    pub fn close(&self) {
        {
            let mut st = self.inner.lock();
            if st.closed {
                return;
            }
            st.closed = true;
            st.wake();
        }
        // Dropping the sender fires every connection's shutdown signal.
        drop(
            self.inner
                .shutdown
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
    }

    /// Waits until the server is closed and every connection has ended, then runs
    /// the application's clean-up hooks (once, in the order added).
    ///
    /// # Errors
    /// `Cancelled`; the first clean-up hook error (the later hooks still run).
    ///
    /// # Cancel safety
    /// Cancel safe while waiting; a cancel during the clean-up hooks stops them.
    pub async fn wait_closed(&self) -> Result<(), Error> {
        self.wait_for(State::finished).await?;
        let hooks = std::mem::take(&mut self.inner.lock().cleanup);
        let mut first_err = None;
        for hook in hooks {
            if let Err(e) = hook().await {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Serves until [`close`](Self::close) (then `Ok`) or the awaiting task is
    /// cancelled (then the server is closed and `Err(Cancelled)` returned), as
    /// asyncio's `serve_forever`.
    ///
    /// # Errors
    /// `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancelling closes the server.
    pub async fn serve_forever(&self) -> Result<(), Error> {
        let r = self.wait_for(|st| st.closed).await;
        if r.is_err() {
            self.close();
        }
        r
    }

    /// Waits, as a tulip await point, until `cond` holds of the state.
    fn wait_for(&self, cond: fn(&State) -> bool) -> impl Future<Output = Result<(), Error>> + '_ {
        poll_fn(move |cx| {
            if let Some(c) = tulip_core::take_cancel() {
                return Poll::Ready(Err(tulip_core::Error::Cancelled(c).into()));
            }
            let mut st = self.inner.lock();
            if cond(&st) {
                return Poll::Ready(Ok(()));
            }
            st.waiters.push(cx.waker().clone());
            Poll::Pending
        })
    }
}

/// Counts one connection; dropping it ends the count and wakes the waiters.
struct ConnGuard(Arc<Inner>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.active -= 1;
        st.wake();
    }
}

/// Marks the acceptor gone when it ends, however it ends.
struct AcceptorGuard(Arc<Inner>);

impl Drop for AcceptorGuard {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.accepting = false;
        st.wake();
    }
}

/// Waits for a free connection slot; `false` once the server is closed.
async fn free_slot(inner: &Inner) -> bool {
    poll_fn(|cx| {
        let mut st = inner.lock();
        if st.closed {
            Poll::Ready(false)
        } else if st.active < inner.max_connections {
            Poll::Ready(true)
        } else {
            st.waiters.push(cx.waker().clone());
            Poll::Pending
        }
    })
    .await
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    inner: Arc<Inner>,
    shutdown: ShutdownSignal,
) {
    let _guard = AcceptorGuard(inner.clone());
    while free_slot(&inner).await {
        let accepted = {
            let accept = pin!(listener.accept());
            match select(accept, shutdown.clone()).await {
                Either::Left((r, _)) => r,
                Either::Right(_) => return,
            }
        };
        match accepted {
            Ok((stream, peer)) => {
                inner.lock().active += 1;
                let guard = ConnGuard(inner.clone());
                let conn = serve_connection(shared.clone(), stream, peer, shutdown.clone());
                let spawned = tulip_core::create_task(async move {
                    let _guard = guard;
                    Cancellable::new(conn).await
                });
                if spawned.is_err() {
                    return; // the loop is closing
                }
            }
            Err(e) if e.is_cancelled() => return,
            Err(tulip_net::Error::Loop(_)) => return,
            Err(e) => {
                tracing::error!(target: "tulip_web::server", error = %e, "accept failed");
                if tulip_core::sleep(ACCEPT_RETRY_PAUSE).await.is_err() {
                    return;
                }
            }
        }
    }
}
