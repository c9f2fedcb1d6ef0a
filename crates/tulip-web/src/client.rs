//! A small HTTP client on hyper's: one request per connection, the whole response
//! read (chunked or sized, hyper decodes it). Enough for tests, examples and
//! self-checks; a pooled client would keep connections.

use bytes::Bytes;
use http::header::HOST;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use tulip_net::ToAddrs;

use crate::error::Error;

/// A response read by [`fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResponse {
    /// The status code.
    pub status: StatusCode,
    /// The HTTP version the server answered with.
    pub version: Version,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, decoded from its transfer framing.
    pub body: Bytes,
}

impl ClientResponse {
    /// The first value of header `name` (case-insensitive), if it is visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET path` from the server at `addr`.
///
/// # Errors
/// As [`fetch`].
///
/// # Cancel safety
/// Cancel safe (the connection is dropped).
pub async fn get(addr: impl ToAddrs, path: &str) -> Result<ClientResponse, Error> {
    fetch(addr, Method::GET, path, Bytes::new()).await
}

/// Sends one request over HTTP/1.1 and reads the whole response.
///
/// # Errors
/// [`Error::Net`] if the connection fails; [`Error::InvalidRequest`] for a path
/// that is not a request target; [`Error::Hyper`] if the reply is not HTTP.
///
/// # Cancel safety
/// Cancel safe (the connection is dropped).
pub async fn fetch(
    addr: impl ToAddrs,
    method: Method,
    path: &str,
    body: impl Into<Bytes>,
) -> Result<ClientResponse, Error> {
    let host = addr
        .to_target()
        .map_err(tulip_net::Error::from)?
        .to_string();
    let host = HeaderValue::from_str(&host).map_err(|_| Error::InvalidRequest(host))?;
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(HOST, host)
        .body(Full::new(body.into()))
        .map_err(|e| Error::InvalidRequest(format!("{path:?}: {e}")))?;
    let mut sender = tulip_hyper::client::connect(addr)
        .await
        .map_err(hyper_glue)?;
    let resp = sender.send_request(req).await?;
    let (head, body) = resp.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(ClientResponse {
        status: head.status,
        version: head.version,
        headers: head.headers,
        body,
    })
}

fn hyper_glue(e: tulip_hyper::Error) -> Error {
    match e {
        tulip_hyper::Error::Hyper(h) => Error::Hyper(h),
        tulip_hyper::Error::Net(n) => Error::Net(n),
        tulip_hyper::Error::Loop(l) => l.into(),
        other => Error::Other(Box::new(other)),
    }
}
