//! [`Application`]: a [`Router`], middlewares, start-up and clean-up hooks and the
//! server's [`Limits`] (aiohttp's `web.Application`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::answer::Answer;
use crate::error::Error;
use crate::limits::Limits;
use crate::middleware::{route, Middleware, Next};
use crate::request::Request;
use crate::response::Response;
use crate::router::Router;

/// A start-up or clean-up hook.
pub(crate) type Hook =
    Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = Result<(), Error>> + Send>> + Send>;

/// A web application (aiohttp's `web.Application`).
///
/// # Examples
/// ```
/// use tulip::web::{Application, IntoResponse, Request, Response};
/// let mut app = Application::new();
/// app.router.add_get("/", |_req: Request| async { Response::html("<h1>Index</h1>") });
/// app.middleware(|req, next| async move {
///     let resp = next.run(req).await;
///     resp.header("X-Served-By", "tulip").unwrap_or_else(|e| e.into_response())
/// });
/// ```
pub struct Application {
    /// The routes.
    pub router: Router,
    /// The limits each client is held to.
    pub limits: Limits,
    /// Whether accepted connections get `TCP_NODELAY` (default `true`: a response
    /// goes out as soon as it is written).
    pub tcp_nodelay: bool,
    /// Whether each request is logged at `INFO` on the `tulip_web::access` tracing
    /// target (default `false`, as aiohttp's `access_log=None`).
    pub access_log: bool,
    middlewares: Vec<Middleware>,
    pub(crate) on_startup: Vec<Hook>,
    pub(crate) on_cleanup: Vec<Hook>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("router", &self.router)
            .field("limits", &self.limits)
            .field("tcp_nodelay", &self.tcp_nodelay)
            .field("access_log", &self.access_log)
            .field("middlewares", &self.middlewares.len())
            .finish_non_exhaustive()
    }
}

impl Default for Application {
    fn default() -> Self {
        Self::new()
    }
}

impl Application {
    /// An application with no routes and the default [`Limits`].
    pub fn new() -> Application {
        Application {
            router: Router::default(),
            limits: Limits::default(),
            tcp_nodelay: true,
            access_log: false,
            middlewares: Vec::new(),
            on_startup: Vec::new(),
            on_cleanup: Vec::new(),
        }
    }

    /// Adds a middleware: `f(request, next)` runs around the rest of the chain
    /// (`next.run(request).await`) and may answer without calling it. The first
    /// middleware added is the outermost (aiohttp's `middlewares=[...]` order).
    pub fn middleware<F, Fut>(&mut self, f: F) -> &mut Self
    where
        F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        self.middlewares
            .push(Arc::new(move |req, next| Box::pin(f(req, next))));
        self
    }

    /// Adds a hook run when the server starts, before it listens (aiohttp's
    /// `app.on_startup.append`). Hooks run in the order added; an error stops the
    /// start and is returned by [`serve`](Self::serve).
    pub fn on_startup<F, Fut>(&mut self, f: F) -> &mut Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        self.on_startup.push(Box::new(move || Box::pin(f())));
        self
    }

    /// Adds a hook run once the server has closed and every connection has ended
    /// (aiohttp's `app.on_cleanup.append`); [`Server::wait_closed`] runs them, in the
    /// order added, and [`run_app`] calls it.
    ///
    /// [`Server::wait_closed`]: crate::Server::wait_closed
    /// [`run_app`]: crate::run_app
    pub fn on_cleanup<F, Fut>(&mut self, f: F) -> &mut Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        self.on_cleanup.push(Box::new(move || Box::pin(f())));
        self
    }

    /// The request handler the server runs: middlewares, router, and a 500 for a
    /// panicking handler.
    pub(crate) fn into_handler(self) -> (AppHandler, Vec<Hook>, Vec<Hook>) {
        let handler = AppHandler {
            chain: self.middlewares.into(),
            router: Arc::new(self.router),
        };
        (handler, self.on_startup, self.on_cleanup)
    }

    /// Runs `req` through the middlewares and the router, as the server does (404 /
    /// 405 when no route takes it; 500 if a handler panics): for testing handlers
    /// without a socket.
    ///
    /// # Examples
    /// ```
    /// use tulip::web::{Application, Request, Response};
    /// let mut app = Application::new();
    /// app.router.add_get("/x", |_r: Request| async { "x" });
    /// let lp = tulip::new_event_loop()?;
    /// let resp = lp.run_until_complete(async {
    ///     let r = Request::new(tulip::web::Method::GET, "/nope".parse().unwrap());
    ///     Ok::<_, tulip::web::Error>(app.handle(r).await)
    /// })?;
    /// assert_eq!(resp.status, tulip::web::StatusCode::NOT_FOUND);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn handle(&self, req: Request) -> Response {
        let handler = AppHandler {
            chain: self.middlewares.clone().into(),
            router: Arc::new(self.router.clone()),
        };
        handler.start(req).await
    }
}

/// The application as the server runs it: shared by every connection.
#[derive(Clone)]
pub(crate) struct AppHandler {
    chain: Arc<[Middleware]>,
    router: Arc<Router>,
}

impl AppHandler {
    /// Starts answering `req`: the middlewares and the router, or the handler's
    /// future straight away when there is no middleware; a panic anywhere in it is a
    /// 500.
    pub(crate) fn start(&self, req: Request) -> Answer {
        Answer::guard(|| {
            if self.chain.is_empty() {
                route(&self.router, req)
            } else {
                let next = Next::new(self.chain.clone(), self.router.clone());
                Answer::Running(Box::pin(next.run(req)))
            }
        })
    }
}
