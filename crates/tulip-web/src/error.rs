//! [`Error`], the crate's one error type, and [`HttpException`], an error that is
//! also an HTTP answer (aiohttp's `web.HTTPNotFound()` and friends).

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// What can go wrong in tulip-web: serving, reading a request body, building a
/// response, or fetching with [`client`](crate::client).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket or loop error (bind, connect, cancelled, …).
    #[error(transparent)]
    Net(#[from] tulip_net::Error),
    /// An HTTP answer raised by a handler: it becomes that response.
    #[error(transparent)]
    Http(Box<HttpException>),
    /// hyper refused the peer's HTTP (malformed, closed mid-message, …).
    #[error("http: {0}")]
    Hyper(#[from] hyper::Error),
    /// A header name or value that cannot go on the wire (CR, LF, NUL, …).
    #[error("invalid header {name:?}: {reason}")]
    InvalidHeader {
        /// The header's name as given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A request or URL the client cannot send.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A body that is not the JSON expected.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[error("bad json: {0}")]
    Json(#[from] serde_json::Error),
    /// Any other error a handler returned; it becomes a 500. It stands for that error:
    /// same text, same `source()`.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// The status a server answers this error with: an [`HttpException`]'s own,
    /// 400 for a body hyper could not decode, 500 for anything else.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Http(e) => e.status(),
            Error::Hyper(_) => StatusCode::BAD_REQUEST,
            #[cfg(feature = "json")]
            Error::Json(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn invalid_header(name: &str, reason: &'static str) -> Error {
        Error::InvalidHeader {
            name: name.to_string(),
            reason,
        }
    }
}

impl From<HttpException> for Error {
    fn from(e: HttpException) -> Self {
        Error::Http(Box::new(e))
    }
}

impl From<tulip_core::Error> for Error {
    fn from(e: tulip_core::Error) -> Self {
        Error::Net(tulip_net::Error::from(e))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Net(tulip_net::Error::from(e))
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for Error {
    fn from(e: Box<dyn std::error::Error + Send + Sync>) -> Self {
        Error::Other(e)
    }
}

/// A task body may return `tulip::web::Error`: a cancel taken at a tulip await point
/// and propagated with `?` ends the task cancelled, as with `tulip::net::Error`.
impl tulip_core::TaskError for Error {
    fn as_tulip(&self) -> Option<&tulip_core::Error> {
        match self {
            Error::Net(e) => e.as_tulip(),
            _ => None,
        }
    }

    fn as_cancelled(&self) -> Option<&tulip_core::Cancelled> {
        match self {
            Error::Net(e) => e.as_cancelled(),
            _ => None,
        }
    }

    fn to_shared(&self) -> tulip_core::Error {
        match self {
            Error::Net(e) => e.to_shared(),
            other => tulip_core::Error::described(other),
        }
    }
}

/// An HTTP error a handler returns (`Err(HttpException::not_found())?`) and the
/// server answers with: aiohttp's `raise web.HTTPNotFound()`.
///
/// The body is `"<code>: <reason>"` (`404: Not Found`) unless [`text`](Self::text)
/// sets another, as aiohttp words it.
///
/// # Examples
/// ```
/// use tulip::web::HttpException;
/// let e = HttpException::not_found();
/// assert_eq!(e.status(), tulip::web::StatusCode::NOT_FOUND);
/// assert_eq!(e.to_string(), "404: Not Found");
/// ```
#[derive(Debug, Clone)]
pub struct HttpException {
    status: StatusCode,
    text: Option<String>,
    headers: HeaderMap,
}

impl HttpException {
    /// An error answered with `status`.
    pub fn new(status: StatusCode) -> HttpException {
        HttpException {
            status,
            text: None,
            headers: HeaderMap::new(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request() -> HttpException {
        HttpException::new(StatusCode::BAD_REQUEST)
    }

    /// 403 Forbidden.
    pub fn forbidden() -> HttpException {
        HttpException::new(StatusCode::FORBIDDEN)
    }

    /// 404 Not Found.
    pub fn not_found() -> HttpException {
        HttpException::new(StatusCode::NOT_FOUND)
    }

    /// 405 Method Not Allowed, with the `Allow` header listing `allowed`.
    pub fn method_not_allowed(allowed: &[http::Method]) -> HttpException {
        let list: Vec<&str> = allowed.iter().map(http::Method::as_str).collect();
        let mut e = HttpException::new(StatusCode::METHOD_NOT_ALLOWED);
        if let Ok(v) = HeaderValue::from_str(&list.join(", ")) {
            e.headers.insert(http::header::ALLOW, v);
        }
        e
    }

    /// 408 Request Timeout: the body did not arrive in time.
    pub fn request_timeout() -> HttpException {
        HttpException::new(StatusCode::REQUEST_TIMEOUT)
    }

    /// 413: the body is larger than `max` bytes (aiohttp's
    /// `HTTPRequestEntityTooLarge`).
    pub fn payload_too_large(max: usize) -> HttpException {
        HttpException::new(StatusCode::PAYLOAD_TOO_LARGE).text(format!(
            "413: Payload Too Large\n\nthe body is larger than the {max} bytes this server accepts"
        ))
    }

    /// 500 Internal Server Error.
    pub fn internal_server_error() -> HttpException {
        HttpException::new(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// A redirect (`301`, `302`, `303`, `307`, `308`) to `location`.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] if `location` has a character a header value cannot
    /// hold (CR, LF, NUL, …): nothing of it reaches the wire.
    pub fn redirect(status: StatusCode, location: &str) -> Result<HttpException, Error> {
        HttpException::new(status).header(http::header::LOCATION, location)
    }

    /// Replaces the body text.
    pub fn text(mut self, text: impl Into<String>) -> HttpException {
        self.text = Some(text.into());
        self
    }

    /// Adds a header to the answer.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] for a value with CR, LF, NUL or another byte a header
    /// value cannot hold.
    pub fn header(mut self, name: HeaderName, value: &str) -> Result<HttpException, Error> {
        let v = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid_header(name.as_str(), "control character in value"))?;
        self.headers.append(name, v);
        Ok(self)
    }

    /// The status answered.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers answered.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body text answered.
    pub fn body_text(&self) -> String {
        self.text
            .clone()
            .unwrap_or_else(|| status_text(self.status))
    }
}

/// `404: Not Found`, as aiohttp words an error body.
pub(crate) fn status_text(status: StatusCode) -> String {
    format!(
        "{}: {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Unknown")
    )
}

impl std::fmt::Display for HttpException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.body_text())
    }
}

impl std::error::Error for HttpException {}
