//! [`Application`] and its [`Router`]: routes are a method, a path pattern with
//! `{name}` segments, and an async handler.
//!
//! Matching: the first route whose pattern matches the path and whose method matches
//! wins; a path that matches only under other methods is a 405 (with `Allow`), a path
//! that matches nothing is a 404. `HEAD` is served by `GET` routes without the body.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::http::{IntoResponse, Request, Response};

type BoxFuture = Pin<Box<dyn Future<Output = Response> + Send>>;
pub(crate) type Handler = Arc<dyn Fn(Request) -> BoxFuture + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

#[derive(Clone)]
struct Route {
    method: String,
    pattern: Vec<Segment>,
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

fn match_pattern(pattern: &[Segment], path: &str) -> Option<HashMap<String, String>> {
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    if parts.len() != pattern.len() || !path.starts_with('/') {
        return None;
    }
    let mut info = HashMap::new();
    for (seg, part) in pattern.iter().zip(parts) {
        match seg {
            Segment::Literal(l) if l == part => {}
            Segment::Param(name) if !part.is_empty() => {
                info.insert(name.clone(), percent_decode(part));
            }
            _ => return None,
        }
    }
    Some(info)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

/// What the router decided for a request.
pub(crate) enum Dispatch {
    Found(Handler, HashMap<String, String>),
    MethodNotAllowed(Vec<String>),
    NotFound,
}

impl Router {
    /// Adds a route: `method` (`"GET"`, `"POST"`, … or `"*"` for any), a path pattern
    /// whose `{name}` segments match one path segment each, and an async handler.
    ///
    /// # Examples
    /// ```
    /// use tulip_web::{Application, Request, Response};
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
        let handler: Handler = Arc::new(move |req| {
            let fut = handler(req);
            Box::pin(async move { fut.await.into_response() })
        });
        self.routes.push(Route {
            method: method.to_ascii_uppercase(),
            pattern: parse_pattern(path),
            handler,
        });
        self
    }

    /// `add_route("GET", path, handler)`.
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

    pub(crate) fn dispatch(&self, method: &str, path: &str) -> Dispatch {
        let mut allowed = Vec::new();
        for r in &self.routes {
            let Some(info) = match_pattern(&r.pattern, path) else {
                continue;
            };
            let head_via_get = method == "HEAD" && r.method == "GET";
            if r.method == method || r.method == "*" || head_via_get {
                return Dispatch::Found(r.handler.clone(), info);
            }
            if !allowed.contains(&r.method) {
                allowed.push(r.method.clone());
            }
        }
        if allowed.is_empty() {
            Dispatch::NotFound
        } else {
            Dispatch::MethodNotAllowed(allowed)
        }
    }
}

/// A web application: a router and limits (aiohttp's `web.Application`).
#[derive(Debug, Clone)]
pub struct Application {
    /// The routes.
    pub router: Router,
    /// Largest accepted request body, in bytes (default 1 MiB, aiohttp's
    /// `client_max_size`); larger requests get 413.
    pub client_max_size: usize,
    /// Largest accepted request head (request line and headers), in bytes (default
    /// 16 KiB); larger heads get 431.
    pub max_head_size: usize,
    /// How long an idle keep-alive connection is kept open (default 75 s, aiohttp's).
    pub keepalive_timeout: std::time::Duration,
}

impl Default for Application {
    fn default() -> Self {
        Self::new()
    }
}

impl Application {
    /// An application with no routes and default limits.
    pub fn new() -> Application {
        Application {
            router: Router::default(),
            client_max_size: 1024 * 1024,
            max_head_size: 16 * 1024,
            keepalive_timeout: std::time::Duration::from_secs(75),
        }
    }

    /// Runs the request through the router (404 / 405 when no route takes it).
    pub async fn handle(&self, mut req: Request) -> Response {
        match self.router.dispatch(&req.method, &req.path) {
            Dispatch::Found(h, info) => {
                req.match_info = info;
                h(req).await
            }
            Dispatch::MethodNotAllowed(allowed) => {
                crate::http::error_response(405).header("Allow", allowed.join(", "))
            }
            Dispatch::NotFound => crate::http::error_response(404),
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
}
