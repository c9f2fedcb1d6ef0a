//! [`Request`] and [`Response`]: what handlers see and return, and how a response is
//! put on the wire.

use std::collections::HashMap;
use std::fmt::Write as _;

/// An HTTP request, as a handler sees it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query string (`/hello/tulip`).
    pub path: String,
    /// The query string, without `?` (empty if none).
    pub query: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// Header names and values in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body (empty if none).
    pub body: Vec<u8>,
    /// The values of the route's `{name}` segments (aiohttp's `request.match_info`).
    pub match_info: HashMap<String, String>,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    ///
    /// # Examples
    /// ```
    /// let mut r = tulip_web::Request::default();
    /// r.headers.push(("Host".into(), "example.com".into()));
    /// assert_eq!(r.header("host"), Some("example.com"));
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the connection stays open after this request (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").map(str::to_ascii_lowercase);
        match conn.as_deref() {
            Some(c) if c.contains("close") => false,
            Some(c) if c.contains("keep-alive") => true,
            _ => self.version >= 1,
        }
    }
}

/// An HTTP response (aiohttp's `web.Response`).
///
/// # Examples
/// ```
/// let r = tulip_web::Response::new(b"<h1>Index</h1>".to_vec()).content_type("text/html");
/// assert_eq!(r.status, 200);
/// let r = tulip_web::Response::text("nope").with_status(404);
/// assert_eq!(r.reason(), "Not Found");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code (200 unless set).
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The `Content-Type` header.
    pub content_type: String,
    /// More headers.
    pub headers: Vec<(String, String)>,
}

impl Default for Response {
    fn default() -> Self {
        Response::new(Vec::new())
    }
}

impl Response {
    /// A 200 response with a binary body (`application/octet-stream`, as aiohttp's
    /// `web.Response(body=...)`).
    pub fn new(body: impl Into<Vec<u8>>) -> Response {
        Response {
            status: 200,
            body: body.into(),
            content_type: "application/octet-stream".into(),
            headers: Vec::new(),
        }
    }

    /// A 200 `text/plain; charset=utf-8` response.
    pub fn text(text: impl Into<String>) -> Response {
        Response::new(text.into()).content_type("text/plain; charset=utf-8")
    }

    /// A 200 `text/html; charset=utf-8` response.
    pub fn html(html: impl Into<String>) -> Response {
        Response::new(html.into()).content_type("text/html; charset=utf-8")
    }

    /// Sets the status code.
    pub fn with_status(mut self, status: u16) -> Response {
        self.status = status;
        self
    }

    /// Sets the content type.
    pub fn content_type(mut self, ct: impl Into<String>) -> Response {
        self.content_type = ct.into();
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The reason phrase of the status code.
    pub fn reason(&self) -> &'static str {
        reason(self.status)
    }

    /// The status line, headers and (unless `head_only`) body, as bytes.
    pub(crate) fn encode(&self, keep_alive: bool, head_only: bool) -> Vec<u8> {
        let mut head = String::with_capacity(160);
        let _ = write!(
            head,
            "HTTP/1.1 {} {}\r\nServer: tulip-web\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
            self.status,
            self.reason(),
            self.content_type,
            self.body.len(),
            if keep_alive { "keep-alive" } else { "close" },
        );
        for (k, v) in &self.headers {
            let _ = write!(head, "{k}: {v}\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        if !head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// What a handler may return.
pub trait IntoResponse {
    /// The response.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        Response::text(self)
    }
}

/// An error becomes a 500 with its message.
impl<R: IntoResponse, E: std::fmt::Display> IntoResponse for Result<R, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(r) => r.into_response(),
            Err(e) => Response::text(format!("500 Internal Server Error\n\n{e}")).with_status(500),
        }
    }
}

/// The reason phrase of `status`.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// A plain-text error response: `404: Not Found`, as aiohttp words them.
pub(crate) fn error_response(status: u16) -> Response {
    Response::text(format!("{status}: {}", reason(status))).with_status(status)
}
