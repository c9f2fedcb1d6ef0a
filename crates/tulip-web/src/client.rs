//! A minimal HTTP/1.1 client on tulip's streams: one request per connection
//! (`Connection: close`), enough for tests, examples and self-checks.

use tulip_net::{ToAddrs, DEFAULT_LIMIT};

use crate::Error;

/// A response read by [`fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResponse {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// Header names and values, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl ClientResponse {
    /// The first value of header `name` (case-insensitive).
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
}

/// `GET path` from the server at `addr`.
///
/// # Errors
/// As [`fetch`].
///
/// # Cancel safety
/// Cancel safe (the connection is dropped).
pub async fn get(addr: impl ToAddrs, path: &str) -> Result<ClientResponse, Error> {
    fetch(addr, "GET", path, &[]).await
}

/// Sends one request and reads the whole response.
///
/// # Errors
/// [`Error::Net`] if the connection fails; [`Error::BadResponse`] if the reply is not
/// HTTP.
///
/// # Cancel safety
/// Cancel safe (the connection is dropped).
pub async fn fetch(
    addr: impl ToAddrs,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<ClientResponse, Error> {
    let host = addr
        .to_target()
        .map_err(tulip_net::Error::from)?
        .to_string();
    let (mut r, w) = tulip_net::open_connection(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    w.write(head.as_bytes());
    w.write(body);
    w.drain().await?;
    r.set_limit(DEFAULT_LIMIT);
    let head = r.readuntil(b"\r\n\r\n").await?;
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => {
            return Err(Error::BadResponse(
                String::from_utf8_lossy(&head).into_owned(),
            ))
        }
    }
    let mut out = ClientResponse {
        status: resp.code.unwrap_or(0),
        reason: resp.reason.unwrap_or("").to_string(),
        headers: resp
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body: Vec::new(),
    };
    out.body = match out
        .header("content-length")
        .map(|v| v.trim().parse::<usize>())
    {
        Some(Ok(n)) if method != "HEAD" => r.readexactly(n).await?,
        Some(Ok(_)) => Vec::new(),
        Some(Err(_)) => return Err(Error::BadResponse("bad Content-Length".into())),
        None => r.read_to_end().await?,
    };
    w.close();
    Ok(out)
}
