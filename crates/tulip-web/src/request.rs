//! [`Request`]: what a handler sees (aiohttp's `web.Request`). The head is the `http`
//! crate's; the body is read as it arrives, through [`Request::chunk`] or all of it
//! with [`Request::read`], each piece bounded in size and in waiting time.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::future::{select, Either};
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, Method, Uri, Version};
use http_body_util::BodyExt;

use crate::error::{Error, HttpException};
use crate::match_info::MatchInfo;

/// How much body a request may carry and how long the server waits for each piece.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    pub(crate) max_size: usize,
    pub(crate) read_timeout: Duration,
}

enum Body {
    /// Still arriving from hyper; `received` bytes so far.
    Incoming {
        body: hyper::body::Incoming,
        received: usize,
    },
    /// All of it, read or given.
    Full(Bytes),
    /// Consumed with [`Request::chunk`].
    Drained,
}

/// An HTTP request, as a handler sees it.
///
/// # Examples
/// ```
/// use tulip::web::{Method, Request};
/// let req = Request::new(Method::GET, "/hello/x?a=1&b=two%20words".parse()?);
/// assert_eq!(req.path(), "/hello/x");
/// assert_eq!(req.query()["b"], "two words");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Request {
    /// Boxed: a request moves through every middleware's and handler's future, and
    /// the head is most of its size.
    head: Box<http::request::Parts>,
    body: Body,
    limits: BodyLimits,
    remote: Option<SocketAddr>,
    nodelay: Option<bool>,
    /// The values of the route's `{name}` segments (aiohttp's `request.match_info`).
    pub match_info: MatchInfo,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.head.method)
            .field("uri", &self.head.uri)
            .field("version", &self.head.version)
            .field("headers", &self.head.headers)
            .field("match_info", &self.match_info)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A request with no headers and an empty body, for calling handlers directly
    /// (aiohttp's `make_mocked_request`).
    pub fn new(method: Method, uri: Uri) -> Request {
        let (mut head, ()) = http::Request::new(()).into_parts();
        head.method = method;
        head.uri = uri;
        Request::from_parts(head, Body::Full(Bytes::new()))
    }

    /// Replaces the body (for calling handlers directly).
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Request {
        self.body = Body::Full(body.into());
        self
    }

    /// Mutable access to the headers (for calling handlers directly).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.head.headers
    }

    fn from_parts(head: http::request::Parts, body: Body) -> Request {
        Request {
            head: Box::new(head),
            body,
            limits: BodyLimits {
                max_size: usize::MAX,
                read_timeout: Duration::MAX,
            },
            remote: None,
            nodelay: None,
            match_info: MatchInfo::default(),
        }
    }

    pub(crate) fn from_hyper(
        req: http::Request<hyper::body::Incoming>,
        limits: BodyLimits,
        remote: Option<SocketAddr>,
        nodelay: Option<bool>,
    ) -> Request {
        let (head, body) = req.into_parts();
        let mut r = Request::from_parts(head, Body::Incoming { body, received: 0 });
        r.limits = limits;
        r.remote = remote;
        r.nodelay = nodelay;
        r
    }

    /// `GET`, `POST`, …
    pub fn method(&self) -> &Method {
        &self.head.method
    }

    /// The request target.
    pub fn uri(&self) -> &Uri {
        &self.head.uri
    }

    /// The path, without the query string (`/hello/tulip`), still percent-encoded.
    pub fn path(&self) -> &str {
        self.head.uri.path()
    }

    /// The query string, without `?` (empty if none).
    pub fn query_string(&self) -> &str {
        self.head.uri.query().unwrap_or("")
    }

    /// The query's names and values, percent- and `+`-decoded; the first value of a
    /// name repeated wins (aiohttp's `request.query[name]`).
    pub fn query(&self) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for pair in self.query_string().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(&k.replace('+', " "));
            out.entry(k)
                .or_insert_with(|| percent_decode(&v.replace('+', " ")));
        }
        out
    }

    /// The HTTP version the client spoke.
    pub fn version(&self) -> Version {
        self.head.version
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// The first value of header `name` (case-insensitive), if it is visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The peer's address (aiohttp's `request.remote`), when served over TCP.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// Whether the connection's socket has `TCP_NODELAY` set, as the socket reported
    /// when the connection started (`None` when not served over TCP).
    pub fn tcp_nodelay(&self) -> Option<bool> {
        self.nodelay
    }

    /// The declared `Content-Length`, if any.
    pub fn content_length(&self) -> Option<u64> {
        self.header(CONTENT_LENGTH.as_str())?.parse().ok()
    }

    /// The next piece of the body as it arrives; `None` at its end.
    ///
    /// # Errors
    /// [`HttpException::payload_too_large`] (413) past the application's
    /// `client_max_size`; [`HttpException::request_timeout`] (408) when no piece comes
    /// within `body_read_timeout`; [`Error::Hyper`] (answered 400) for a body hyper
    /// could not decode (a bad chunk size…); `Cancelled`.
    ///
    /// # Cancel safety
    /// Cancel safe: a piece is either returned or still pending in hyper.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let limits = self.limits;
        let declared = self.content_length();
        let Body::Incoming { body, received } = &mut self.body else {
            return Ok(match std::mem::replace(&mut self.body, Body::Drained) {
                Body::Full(b) if !b.is_empty() => Some(b),
                _ => None,
            });
        };
        if declared.is_some_and(|n| n > limits.max_size as u64) {
            return Err(HttpException::payload_too_large(limits.max_size).into());
        }
        loop {
            let frame = match within(limits.read_timeout, body.frame()).await? {
                Some(frame) => frame?,
                None => {
                    self.body = Body::Drained;
                    return Ok(None);
                }
            };
            let Ok(data) = frame.into_data() else {
                continue; // trailers
            };
            *received = received.saturating_add(data.len());
            if *received > limits.max_size {
                return Err(HttpException::payload_too_large(limits.max_size).into());
            }
            if !data.is_empty() {
                return Ok(Some(data));
            }
        }
    }

    /// The whole body (aiohttp's `await request.read()`); may be called again.
    ///
    /// # Errors
    /// As [`chunk`](Self::chunk).
    ///
    /// # Cancel safety
    /// Not cancel safe: pieces read before the cancel are lost.
    pub async fn read(&mut self) -> Result<Bytes, Error> {
        if let Body::Full(b) = &self.body {
            return Ok(b.clone());
        }
        let mut all = BytesMut::new();
        while let Some(piece) = self.chunk().await? {
            all.extend_from_slice(&piece);
        }
        let all = all.freeze();
        self.body = Body::Full(all.clone());
        Ok(all)
    }

    /// The body as text, invalid UTF-8 replaced (aiohttp's `await request.text()`).
    ///
    /// # Errors
    /// As [`read`](Self::read).
    ///
    /// # Cancel safety
    /// As [`read`](Self::read).
    pub async fn text(&mut self) -> Result<String, Error> {
        Ok(String::from_utf8_lossy(&self.read().await?).into_owned())
    }

    /// The body parsed as JSON (aiohttp's `await request.json()`).
    ///
    /// # Errors
    /// As [`read`](Self::read); [`Error::Json`] (answered 400) if it is not the JSON
    /// of a `T`.
    ///
    /// # Cancel safety
    /// As [`read`](Self::read).
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    pub async fn json<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, Error> {
        Ok(serde_json::from_slice(&self.read().await?)?)
    }
}

/// `fut`, or a 408 once `limit` passes first; a tulip await point.
async fn within<T>(limit: Duration, fut: impl Future<Output = T>) -> Result<T, Error> {
    if limit == Duration::MAX {
        return Ok(fut.await);
    }
    let timer = tulip_core::sleep(limit);
    futures::pin_mut!(fut, timer);
    match select(fut, timer).await {
        Either::Left((v, _)) => Ok(v),
        Either::Right((Ok(()), _)) => Err(HttpException::request_timeout().into()),
        Either::Right((Err(e), _)) => Err(e.into()),
    }
}

/// `%41` → `A`; malformed escapes are kept as they are; invalid UTF-8 is replaced.
pub(crate) fn percent_decode(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%2"), "%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%41"), "A");
    }
}
