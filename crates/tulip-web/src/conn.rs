//! One accepted connection: hyper serves it (HTTP/1, or HTTP/2 when the client opens
//! with the HTTP/2 preface); tulip-web adds what hyper leaves to the server around
//! it.
//!
//! - The service turns hyper's request into a [`Request`], runs the application, and
//!   turns the [`Response`] back. hyper already refuses the framings a smuggler
//!   uses (two different `Content-Length`s, a `Transfer-Encoding` that does not end
//!   in `chunked`, bad lengths and chunk sizes). Before any handler runs, tulip-web
//!   also refuses (400, connection closed) a `Transfer-Encoding` other than one
//!   plain `chunked` (tulip-web decodes no other transfer coding; `gzip, chunked`
//!   would reach the handler still compressed) and `Transfer-Encoding` together
//!   with `Content-Length` should hyper ever pass both (RFC 9112 §6.1). When
//!   `Content-Length` comes with `Transfer-Encoding: chunked`, hyper frames by the
//!   chunks, drops the length and closes after the response, as §6.1 also allows.
//! - [`Activity`] counts the requests in progress (from the service call until hyper
//!   drops the response body, that is, has written it) and when the count last
//!   changed. The connection's watcher asks hyper for a graceful shutdown once the
//!   connection has been idle for `keepalive_timeout`, or when the server closes;
//!   hyper then finishes any response in progress and closes.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::channel::oneshot;
use futures::future::{poll_fn, select, Either};
use futures::task::AtomicWaker;
use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::StatusCode;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use hyper_util::server::conn::auto;
use tulip_hyper::{TulipExecutor, TulipIo};
use tulip_net::TcpStream;

use crate::answer::Answer;
use crate::app::AppHandler;
use crate::limits::{Limits, HYPER_MAX_HEADERS, MIN_HEAD_SIZE};
use crate::request::{BodyLimits, Request};
use crate::response::{error_response, Response};

/// Completes when the server closes.
pub(crate) type ShutdownSignal = futures::future::Shared<oneshot::Receiver<()>>;

/// What every connection of one server shares.
pub(crate) struct Shared {
    pub(crate) handler: AppHandler,
    pub(crate) limits: Limits,
    pub(crate) tcp_nodelay: bool,
    pub(crate) access_log: bool,
    builder: auto::Builder<TulipExecutor>,
}

impl Shared {
    pub(crate) fn new(
        handler: AppHandler,
        limits: Limits,
        tcp_nodelay: bool,
        access_log: bool,
    ) -> Shared {
        let mut builder = tulip_hyper::server::auto();
        let head = limits.max_head_size.max(MIN_HEAD_SIZE);
        builder
            .http1()
            .max_buf_size(head)
            .header_read_timeout(limits.header_read_timeout);
        // Set only when it differs from hyper's default: with a count set, hyper
        // builds its header tables on the heap for every request instead of on the
        // stack (about 3% of the hello benchmark's CPU).
        if limits.max_headers != HYPER_MAX_HEADERS {
            builder.http1().max_headers(limits.max_headers);
        }
        builder
            .http2()
            .max_header_list_size(u32::try_from(head).unwrap_or(u32::MAX));
        Shared {
            handler,
            limits,
            tcp_nodelay,
            access_log,
            builder,
        }
    }

    fn body_limits(&self) -> BodyLimits {
        BodyLimits {
            max_size: self.limits.client_max_size,
            read_timeout: self.limits.body_read_timeout,
        }
    }
}

/// Requests in progress on one connection, and when that count last changed (on the
/// loop's clock, which the keep-alive sleep follows: virtual on a test loop).
struct Activity {
    busy: AtomicUsize,
    since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            busy: AtomicUsize::new(0),
            since: Mutex::new(tulip_core::loop_time()),
        }
    }

    fn touch(&self) {
        *self.since.lock().unwrap_or_else(|e| e.into_inner()) = tulip_core::loop_time();
    }

    /// When the connection became idle; `None` while a request is in progress.
    fn idle_since(&self) -> Option<Instant> {
        let since = *self.since.lock().unwrap_or_else(|e| e.into_inner());
        (self.busy.load(Ordering::Acquire) == 0).then_some(since)
    }
}

/// One request in progress; dropping it (with the response body) ends it.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: &Arc<Activity>) -> Busy {
        activity.busy.fetch_add(1, Ordering::AcqRel);
        Busy(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        // Only the last request out marks when the connection went idle.
        if self.0.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.touch();
        }
    }
}

/// A response body that keeps its request counted as in progress until hyper has
/// written it and let it go.
pub(crate) struct ResponseBody {
    inner: Full<Bytes>,
    _busy: Option<Busy>,
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Serves one connection until it closes, the client idles past the keep-alive
/// timeout, or the server closes.
pub(crate) async fn serve_connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    shutdown: ShutdownSignal,
) {
    if shared.tcp_nodelay {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(target: "tulip_web::server", %peer, error = %e, "TCP_NODELAY refused");
        }
    }
    let nodelay = stream.nodelay().ok();
    let activity = Arc::new(Activity::new());
    let service = {
        let (shared, activity) = (shared.clone(), activity.clone());
        hyper::service::service_fn(move |req| {
            let busy = Busy::start(&activity);
            respond(&shared, req, (peer, nodelay), busy)
        })
    };
    let conn = shared
        .builder
        .serve_connection(TulipIo::new(stream), service);
    let mut conn = pin!(conn);
    let watcher = pin!(idle_or_closing(
        activity,
        shared.limits.keepalive_timeout,
        shutdown
    ));
    let outcome = match first_of(conn.as_mut(), watcher).await {
        Either::Left(outcome) => outcome,
        Either::Right(()) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = outcome {
        tracing::debug!(target: "tulip_web::server", %peer, error = %e, "connection ended");
    }
}

/// A waker that records that it fired, then wakes the task.
struct Flag {
    fired: AtomicBool,
    task: AtomicWaker,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// `main` or `side`, whichever finishes first, with `side` polled only when its own
/// waker fired: the connection is woken for every read and write, its watcher once
/// per timer, and polling the watcher each time cost about 2% of a request.
async fn first_of<A: Future + Unpin, B: Future + Unpin>(
    mut main: A,
    mut side: B,
) -> Either<A::Output, B::Output> {
    let flag = Arc::new(Flag {
        fired: AtomicBool::new(true),
        task: AtomicWaker::new(),
    });
    let side_waker = Waker::from(flag.clone());
    poll_fn(move |cx| {
        if let Poll::Ready(out) = Pin::new(&mut main).poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        // Register before taking the flag: a wake-up in between is not lost.
        flag.task.register(cx.waker());
        if flag.fired.swap(false, Ordering::AcqRel) {
            if let Poll::Ready(out) =
                Pin::new(&mut side).poll(&mut Context::from_waker(&side_waker))
            {
                return Poll::Ready(Either::Right(out));
            }
        }
        Poll::Pending
    })
    .await
}

/// Completes when the connection has been idle for `keepalive`, or the server closes.
async fn idle_or_closing(activity: Arc<Activity>, keepalive: Duration, shutdown: ShutdownSignal) {
    let idle = pin!(async move {
        loop {
            let wait = match activity.idle_since() {
                None => keepalive,
                Some(t) => match keepalive
                    .checked_sub(tulip_core::loop_time().saturating_duration_since(t))
                {
                    Some(left) if !left.is_zero() => left,
                    _ => return,
                },
            };
            if tulip_core::sleep(wait).await.is_err() {
                return;
            }
        }
    });
    select(idle, shutdown).await;
}

/// The answer to one request: what hyper's service returns.
fn respond(
    shared: &Shared,
    req: http::Request<hyper::body::Incoming>,
    (peer, nodelay): (SocketAddr, Option<bool>),
    busy: Busy,
) -> Responding {
    let logged = shared.access_log.then(|| {
        Box::new(Logged {
            peer,
            started: Instant::now(),
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
        })
    });
    let answer = if unsupported_framing(&req) {
        Answer::Ready(Some(error_response(StatusCode::BAD_REQUEST)))
    } else {
        let request = Request::from_hyper(req, shared.body_limits(), Some(peer), nodelay);
        shared.handler.start(request)
    };
    Responding {
        answer,
        busy: Some(busy),
        logged,
    }
}

/// What the access log says of a request, taken before the handler consumes it.
struct Logged {
    peer: SocketAddr,
    started: Instant,
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
}

/// One request's response on its way, as hyper's service future: the application's
/// [`Answer`], then the access log line and the conversion to hyper's response.
pub(crate) struct Responding {
    answer: Answer,
    busy: Option<Busy>,
    logged: Option<Box<Logged>>,
}

impl Future for Responding {
    type Output = Result<http::Response<ResponseBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let resp = std::task::ready!(Pin::new(&mut this.answer).poll(cx));
        if let Some(l) = this.logged.take() {
            tracing::info!(
                target: "tulip_web::access",
                peer = %l.peer,
                method = %l.method,
                uri = %l.uri,
                version = ?l.version,
                status = resp.status.as_u16(),
                bytes = resp.body.len(),
                elapsed_us = u64::try_from(l.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            );
        }
        Poll::Ready(Ok(into_hyper(resp, this.busy.take())))
    }
}

/// A transfer coding other than one plain `chunked`, or two framings at once.
fn unsupported_framing(req: &http::Request<hyper::body::Incoming>) -> bool {
    // A body of known length (or none) was framed by Content-Length: hyper saw no
    // Transfer-Encoding, so there is nothing to look up.
    if req.body().size_hint().exact().is_some() {
        return false;
    }
    let h = req.headers();
    let mut te = h.get_all(TRANSFER_ENCODING).iter();
    match (te.next(), te.next()) {
        (None, _) => false,
        (Some(v), None) => {
            !v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"chunked")
                || h.contains_key(CONTENT_LENGTH)
        }
        (Some(_), Some(_)) => true,
    }
}

fn into_hyper(resp: Response, busy: Option<Busy>) -> http::Response<ResponseBody> {
    let Response {
        status,
        mut headers,
        body,
    } = resp;
    // hyper frames the body from its known length; a stale length set by hand
    // must not override it.
    if headers.keys().any(|k| *k == CONTENT_LENGTH) {
        headers.remove(CONTENT_LENGTH);
    }
    let mut out = http::Response::new(ResponseBody {
        inner: Full::new(body),
        _busy: busy,
    });
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}
