//! [`Response`]: what a handler returns (aiohttp's `web.Response`), and
//! [`IntoResponse`], the conversion the router applies to a handler's output.
//!
//! Every header a response carries is an `http::HeaderValue`, which cannot hold CR,
//! LF or NUL: a value with one is refused when the response is built, so nothing of
//! it reaches the wire.

use std::sync::LazyLock;

use bytes::Bytes;
use http::header::{HeaderName, CONNECTION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::error::{status_text, Error, HttpException};

// Checked when compiled: `HeaderValue::from_static` called at run time checks every
// byte of the value for each response (about 200 instructions for a text response).
const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");
const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
#[cfg(feature = "json")]
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The headers a fresh response starts with: its `Content-Type` alone. Built once
/// per type and cloned into each response, since a clone copies two small buffers
/// where building the map hashes and inserts the header again.
type Prototype = LazyLock<HeaderMap>;

fn content_type_only(value: HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(1);
    headers.insert(CONTENT_TYPE, value);
    headers
}

static OCTET_STREAM_HEADERS: Prototype = LazyLock::new(|| content_type_only(OCTET_STREAM));
static TEXT_HEADERS: Prototype = LazyLock::new(|| content_type_only(TEXT));
static HTML_HEADERS: Prototype = LazyLock::new(|| content_type_only(HTML));
#[cfg(feature = "json")]
static JSON_HEADERS: Prototype = LazyLock::new(|| content_type_only(JSON));

/// An HTTP response (aiohttp's `web.Response`).
///
/// # Examples
/// ```
/// use tulip::web::StatusCode;
/// use tulip::web::Response;
/// let r = Response::new(b"<h1>Index</h1>".to_vec()).content_type("text/html")?;
/// assert_eq!(r.status, StatusCode::OK);
/// assert_eq!(r.headers["content-type"], "text/html");
/// // A header value with CR or LF cannot be built.
/// assert!(Response::text("x").header("Location", "/a\r\nSet-Cookie: s=1").is_err());
/// # Ok::<(), tulip::web::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code (200 unless set).
    pub status: StatusCode,
    /// The headers; `Content-Type` among them.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Default for Response {
    fn default() -> Self {
        Response::new(Bytes::new())
    }
}

impl Response {
    /// A 200 response with a binary body (`application/octet-stream`, as aiohttp's
    /// `web.Response(body=...)`).
    pub fn new(body: impl Into<Bytes>) -> Response {
        Response::typed(body.into(), &OCTET_STREAM_HEADERS)
    }

    /// A 200 `text/plain; charset=utf-8` response (aiohttp's `web.Response(text=...)`).
    pub fn text(text: impl Into<String>) -> Response {
        Response::typed(text.into().into(), &TEXT_HEADERS)
    }

    /// A 200 `text/html; charset=utf-8` response.
    pub fn html(html: impl Into<String>) -> Response {
        Response::typed(html.into().into(), &HTML_HEADERS)
    }

    fn typed(body: Bytes, headers: &Prototype) -> Response {
        Response {
            status: StatusCode::OK,
            headers: HeaderMap::clone(headers),
            body,
        }
    }

    /// Sets the status code.
    pub fn with_status(mut self, status: StatusCode) -> Response {
        self.status = status;
        self
    }

    /// Sets the `Content-Type`.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] if `content_type` has CR, LF, NUL or another byte a
    /// header value cannot hold.
    pub fn content_type(self, content_type: &str) -> Result<Response, Error> {
        self.set(CONTENT_TYPE, content_type)
    }

    /// Adds a header (`Set-Cookie` may appear more than once).
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] if the name is not a header name, or the value has CR,
    /// LF, NUL or another byte a header value cannot hold: nothing reaches the wire.
    pub fn header(mut self, name: &str, value: &str) -> Result<Response, Error> {
        let (name, value) = header_pair(name, value)?;
        self.headers.append(name, value);
        Ok(self)
    }

    fn set(mut self, name: HeaderName, value: &str) -> Result<Response, Error> {
        let v = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid_header(name.as_str(), "control character in value"))?;
        self.headers.insert(name, v);
        Ok(self)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text_body(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Marks the response as the last on its connection (`Connection: close`).
    pub(crate) fn closing(mut self) -> Response {
        self.headers
            .insert(CONNECTION, HeaderValue::from_static("close"));
        self
    }
}

/// A checked header name and value.
pub(crate) fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::invalid_header(name, "not a header name"))?;
    let v = HeaderValue::from_str(value)
        .map_err(|_| Error::invalid_header(name, "control character in value"))?;
    Ok((n, v))
}

/// A JSON response (aiohttp's `web.json_response(data)`), `application/json`.
///
/// # Errors
/// [`Error::Json`] if `data` cannot be serialized.
///
/// # Examples
/// ```
/// let r = tulip::web::json_response(&serde_json::json!({"ok": true}))?;
/// assert_eq!(r.headers["content-type"], "application/json");
/// assert_eq!(r.body, "{\"ok\":true}");
/// # Ok::<(), tulip::web::Error>(())
/// ```
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub fn json_response<T: serde::Serialize + ?Sized>(data: &T) -> Result<Response, Error> {
    let body = serde_json::to_vec(data)?;
    Ok(Response::typed(body.into(), &JSON_HEADERS))
}

/// What a handler may return: a [`Response`], text, an [`HttpException`], or a
/// `Result` of those whose error converts into [`Error`].
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

impl IntoResponse for HttpException {
    fn into_response(self) -> Response {
        let mut r = Response::text(self.body_text()).with_status(self.status());
        for (k, v) in self.headers() {
            r.headers.append(k, v.clone());
        }
        // After a body the server gave up on, the connection cannot carry another
        // request.
        if matches!(
            self.status(),
            StatusCode::BAD_REQUEST | StatusCode::REQUEST_TIMEOUT | StatusCode::PAYLOAD_TOO_LARGE
        ) {
            r = r.closing();
        }
        r
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Http(e) => (*e).into_response(),
            other => {
                let status = other.status();
                if status.is_server_error() {
                    tracing::error!(target: "tulip_web::server", error = %other, "handler failed");
                } else {
                    tracing::debug!(target: "tulip_web::server", error = %other, "bad request body");
                }
                HttpException::new(status)
                    .text(status_text(status))
                    .into_response()
            }
        }
    }
}

/// `Ok` is the response; an error becomes its answer (an [`HttpException`]'s status,
/// 400 for a body that could not be read, otherwise 500 without the error's text,
/// which goes to the `tulip_web::server` tracing target).
impl<R: IntoResponse, E: Into<Error>> IntoResponse for Result<R, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(r) => r.into_response(),
            Err(e) => e.into().into_response(),
        }
    }
}

/// A plain-text error response: `404: Not Found`, as aiohttp words them.
pub(crate) fn error_response(status: StatusCode) -> Response {
    HttpException::new(status).into_response()
}
