//! [`Router`]: routes are a method, a path pattern with `{name}` segments, and an
//! async handler (aiohttp's `app.router`).
//!
//! Matching: the first route whose pattern matches the path and whose method matches
//! wins; a path that matches only under other methods is a 405 (with `Allow`), a path
//! that matches nothing is a 404. `HEAD` is served by `GET` routes (hyper sends no
//! body for it). Path segments are matched after percent-decoding each one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::Method;

use crate::match_info::MatchInfo;
use crate::request::{percent_decode, Request};
use crate::response::{IntoResponse, Response};

/// A boxed, sendable future of a response.
pub type BoxResponse = Pin<Box<dyn Future<Output = Response> + Send>>;

/// A route's handler, type-erased.
pub(crate) type Handler = Arc<dyn Fn(Request) -> BoxResponse + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Clone)]
struct Route {
    /// `None` matches every method (`"*"`).
    method: Option<Method>,
    pattern: Vec<Segment>,
    /// The whole path when every segment is a literal. A request path without `%`
    /// decodes to itself, so it matches exactly when it equals this: no splitting.
    literal: Option<Box<str>>,
    handler: Handler,
}

fn parse_pattern(path: &str) -> Vec<Segment> {
    path.split('/')
        .skip(1)
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Literal(s.to_string()),
            },
        )
        .collect()
}

impl Route {
    fn new(method: Option<Method>, path: &str, handler: Handler) -> Route {
        let pattern = parse_pattern(path);
        Route {
            method,
            literal: literal_path(&pattern),
            pattern,
            handler,
        }
    }
}

/// `pattern` as one path, when it has segments and all of them are literals.
fn literal_path(pattern: &[Segment]) -> Option<Box<str>> {
    let mut path = String::new();
    for seg in pattern {
        let Segment::Literal(l) = seg else {
            return None;
        };
        path.push('/');
        path.push_str(l);
    }
    (!path.is_empty()).then(|| path.into_boxed_str())
}

fn match_pattern(pattern: &[Segment], path: &str) -> Option<MatchInfo> {
    let rest = path.strip_prefix('/')?;
    let mut parts = rest.split('/');
    let mut info = MatchInfo::default();
    for seg in pattern {
        let part = parts.next()?;
        let decoded;
        let part = if part.contains('%') {
            decoded = percent_decode(part);
            decoded.as_str()
        } else {
            part
        };
        match seg {
            Segment::Literal(l) if l == part => {}
            Segment::Param(name) if !part.is_empty() => {
                info.insert(name.as_str(), part);
            }
            _ => return None,
        }
    }
    parts.next().is_none().then_some(info)
}

/// The routing table (aiohttp's `app.router`).
#[derive(Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.routes.iter().map(|r| (&r.method, &r.pattern)))
            .finish()
    }
}

/// What the router decided for a request. The handler is lent, not cloned: its
/// `Arc` count is shared by every connection, and on the threaded executor a clone
/// and a drop per request moved that count's cache line between the workers.
pub(crate) enum Dispatch<'r> {
    Found(&'r Handler, MatchInfo),
    MethodNotAllowed(Vec<Method>),
    NotFound,
}

impl Router {
    /// Adds a route: `method` (`"GET"`, `"POST"`, … or `"*"` for any), a path pattern
    /// whose `{name}` segments match one path segment each, and an async handler
    /// returning anything [`IntoResponse`].
    ///
    /// # Panics
    /// If `method` is neither `"*"` nor an HTTP method token (`"GE T"`): a
    /// programming error, caught at start-up.
    ///
    /// # Examples
    /// ```
    /// use tulip::web::{Application, Request, Response};
    /// let mut app = Application::new();
    /// app.router.add_route("GET", "/hello/{name}", |req: Request| async move {
    ///     Response::html(format!("<h1>hello, {}!</h1>", req.match_info["name"]))
    /// });
    /// ```
    pub fn add_route<F, Fut, R>(&mut self, method: &str, path: &str, handler: F) -> &mut Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        let method = match method {
            "*" => None,
            m => Some(
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .unwrap_or_else(|_| panic!("{m:?} is not an HTTP method")),
            ),
        };
        let handler: Handler = Arc::new(move |req| {
            let fut = handler(req);
            Box::pin(async move { fut.await.into_response() })
        });
        self.routes.push(Route::new(method, path, handler));
        self
    }

    /// `add_route("GET", path, handler)`; also serves `HEAD`.
    pub fn add_get<F, Fut, R>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.add_route("GET", path, handler)
    }

    /// `add_route("POST", path, handler)`.
    pub fn add_post<F, Fut, R>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.add_route("POST", path, handler)
    }

    /// `add_route("PUT", path, handler)`.
    pub fn add_put<F, Fut, R>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.add_route("PUT", path, handler)
    }

    /// `add_route("PATCH", path, handler)`.
    pub fn add_patch<F, Fut, R>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.add_route("PATCH", path, handler)
    }

    /// `add_route("DELETE", path, handler)`.
    pub fn add_delete<F, Fut, R>(&mut self, path: &str, handler: F) -> &mut Self
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.add_route("DELETE", path, handler)
    }

    pub(crate) fn dispatch(&self, method: &Method, path: &str) -> Dispatch<'_> {
        let mut allowed = Vec::new();
        let plain = !path.contains('%');
        for r in &self.routes {
            let info = match &r.literal {
                Some(lit) if plain => {
                    if **lit != *path {
                        continue;
                    }
                    MatchInfo::default()
                }
                _ => match match_pattern(&r.pattern, path) {
                    Some(info) => info,
                    None => continue,
                },
            };
            let Some(route_method) = &r.method else {
                return Dispatch::Found(&r.handler, info);
            };
            let head_via_get = *method == Method::HEAD && *route_method == Method::GET;
            if route_method == method || head_via_get {
                return Dispatch::Found(&r.handler, info);
            }
            if !allowed.contains(route_method) {
                allowed.push(route_method.clone());
            }
        }
        if allowed.is_empty() {
            Dispatch::NotFound
        } else {
            Dispatch::MethodNotAllowed(allowed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_segments() {
        let p = parse_pattern("/hello/{name}");
        assert_eq!(match_pattern(&p, "/hello/bob").unwrap()["name"], "bob");
        assert!(match_pattern(&p, "/hello/").is_none());
        assert!(match_pattern(&p, "/hello/bob/x").is_none());
        assert!(match_pattern(&p, "/hellox/bob").is_none());
        assert_eq!(match_pattern(&p, "/hello/a%20b").unwrap()["name"], "a b");
        let root = parse_pattern("/");
        assert!(match_pattern(&root, "/").is_some());
        assert!(match_pattern(&root, "/x").is_none());
    }

    /// A route of literals only is matched by comparing whole paths when the path
    /// has no `%`; the answer is the segment-by-segment one in every case.
    #[test]
    fn literal_routes_match_as_their_segments_do() {
        let patterns = [
            "/", "/hello", "/a/b", "/a/", "//x", "/a%20b", "/{p}", "/a/{p}",
        ];
        let paths = [
            "/", "/hello", "/hello/", "/h%65llo", "/a/b", "/a/b/", "/a/", "/a", "//x", "/x",
            "/a%20b", "/a%2520b", "/a b", "", "hello",
        ];
        let noop: Handler = Arc::new(|_req| Box::pin(async { Response::default() }));
        for pattern in patterns {
            let mut router = Router::default();
            router
                .routes
                .push(Route::new(Some(Method::GET), pattern, noop.clone()));
            let segments = parse_pattern(pattern);
            for path in paths {
                let by_segments = match_pattern(&segments, path).is_some();
                let routed = matches!(router.dispatch(&Method::GET, path), Dispatch::Found(..));
                assert_eq!(routed, by_segments, "pattern {pattern:?}, path {path:?}");
            }
        }
        assert_eq!(
            literal_path(&parse_pattern("/a/b")).as_deref(),
            Some("/a/b")
        );
        assert_eq!(literal_path(&parse_pattern("/a/{b}")), None);
        assert!(matches!(
            Router::default().dispatch(&Method::GET, "/"),
            Dispatch::NotFound
        ));
    }
}
