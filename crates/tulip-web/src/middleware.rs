//! Middlewares (aiohttp's `@web.middleware`): functions of the request and the rest
//! of the chain ([`Next`]) that may act before and after the handler, or answer
//! instead of it. The first added runs outermost.

use std::future::Future;
use std::sync::Arc;

use crate::answer::Answer;
use crate::error::HttpException;
use crate::request::Request;
use crate::response::IntoResponse;
use crate::response::Response;
use crate::router::{BoxResponse, Dispatch, Router};

/// A middleware, type-erased.
pub(crate) type Middleware = Arc<dyn Fn(Request, Next) -> BoxResponse + Send + Sync>;

/// The rest of the chain after a middleware: the later middlewares, then the router.
#[derive(Clone)]
pub struct Next {
    chain: Arc<[Middleware]>,
    at: usize,
    router: Arc<Router>,
}

impl std::fmt::Debug for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Next")
            .field("remaining", &(self.chain.len() - self.at))
            .finish()
    }
}

impl Next {
    pub(crate) fn new(chain: Arc<[Middleware]>, router: Arc<Router>) -> Next {
        Next {
            chain,
            at: 0,
            router,
        }
    }

    /// Runs the rest of the chain on `req` (aiohttp's `await handler(request)`).
    pub fn run(self, req: Request) -> impl Future<Output = Response> + Send + 'static {
        let Next { chain, at, router } = self;
        async move {
            match chain.get(at).cloned() {
                Some(mw) => {
                    let next = Next {
                        chain,
                        at: at + 1,
                        router,
                    };
                    mw(req, next).await
                }
                None => route(&router, req).await,
            }
        }
    }
}

/// Runs the router on `req`: its handler's future, or 404 / 405 at once.
pub(crate) fn route(router: &Router, mut req: Request) -> Answer {
    match router.dispatch(req.method(), req.path()) {
        Dispatch::Found(h, info) => {
            req.match_info = info;
            Answer::Running(h(req))
        }
        Dispatch::MethodNotAllowed(allowed) => Answer::Ready(Some(
            HttpException::method_not_allowed(&allowed).into_response(),
        )),
        Dispatch::NotFound => Answer::Ready(Some(HttpException::not_found().into_response())),
    }
}
