//! Serving an [`Application`]: one task per connection (tulip-net's `start_server`),
//! requests on a connection handled in turn (keep-alive), each parsed with `httparse`.
//!
//! Faults never take the server down: a malformed request gets 400, an oversized head
//! 431, an oversized body 413, and the connection is closed; a panicking handler gets
//! the client a 500; an idle keep-alive connection is closed after
//! `keepalive_timeout`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::future::{select, Either, FutureExt};
use tulip_net::{Server, StreamReader, StreamWriter, ToAddrs};

use crate::app::Application;
use crate::http::{error_response, Request};

const MAX_HEADERS: usize = 64;

impl Application {
    /// Starts serving on `addr` (aiohttp's `loop.create_server(app.make_handler(),
    /// host, port)`); returns the listening [`Server`].
    ///
    /// # Errors
    /// As [`tulip_net::start_server`]: the address is in use, unknown host, no running
    /// loop.
    ///
    /// # Cancel safety
    /// Cancel safe.
    ///
    /// # Examples
    /// ```
    /// use tulip_web::{Application, Request, Response};
    /// let lp = tulip_local::new_event_loop().unwrap();
    /// lp.run_until_complete(async {
    ///     let mut app = Application::new();
    ///     app.router.add_route("GET", "/", |_req: Request| async { Response::html("<h1>Index</h1>") });
    ///     let srv = app.serve("127.0.0.1:0").await?;
    ///     let resp = tulip_web::client::get(srv.local_addr().unwrap(), "/").await?;
    ///     assert_eq!((resp.status, resp.text().as_str()), (200, "<h1>Index</h1>"));
    ///     srv.close();
    ///     Ok::<_, tulip_web::Error>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn serve(self, addr: impl ToAddrs) -> tulip_net::Result<Server> {
        let app = Arc::new(self);
        tulip_net::start_server(move |r, w| serve_connection(app.clone(), r, w), addr).await
    }
}

/// Serves the requests of one connection until it closes.
async fn serve_connection(app: Arc<Application>, mut r: StreamReader, w: StreamWriter) {
    r.set_limit(app.max_head_size);
    loop {
        let req = match read_request(&app, &mut r, &w).await {
            Ok(Some(req)) => req,
            Ok(None) => break,
            Err(status) => {
                w.write(&error_response(status).encode(false, false));
                break;
            }
        };
        let keep_alive = req.keep_alive();
        let head_only = req.method == "HEAD";
        let resp = AssertUnwindSafe(app.handle(req))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| error_response(500));
        w.write(&resp.encode(keep_alive, head_only));
        if w.drain().await.is_err() || !keep_alive {
            break;
        }
    }
    w.close();
    let _ = w.wait_closed().await;
}

/// The next request; `Ok(None)` when the client is gone or idle too long; `Err(status)`
/// for a request that must be refused.
async fn read_request(
    app: &Application,
    r: &mut StreamReader,
    w: &StreamWriter,
) -> Result<Option<Request>, u16> {
    let head = {
        let read = r.readuntil(b"\r\n\r\n");
        let idle = tulip_core::sleep(app.keepalive_timeout);
        futures::pin_mut!(read, idle);
        match select(read, idle).await {
            Either::Left((Ok(head), _)) => head,
            Either::Left((Err(tulip_net::Error::LimitOverrun { .. }), _)) => return Err(431),
            Either::Left((Err(_), _)) | Either::Right(_) => return Ok(None),
        }
    };
    let mut req = parse_head(&head)?;
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let length = match req.header("content-length") {
        Some(v) => Some(v.trim().parse::<usize>().map_err(|_| 400u16)?),
        None => None,
    };
    if chunked && length.is_some() {
        return Err(400);
    }
    let expects = req
        .header("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"));
    if expects && (chunked || length.unwrap_or(0) > 0) {
        if length.unwrap_or(0) > app.client_max_size {
            return Err(413);
        }
        w.write(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    req.body = if chunked {
        read_chunked(r, app.client_max_size).await?
    } else {
        match length {
            Some(n) if n > app.client_max_size => return Err(413),
            Some(n) => r.readexactly(n).await.map_err(|_| 400u16)?,
            None => Vec::new(),
        }
    };
    Ok(Some(req))
}

/// Parses the request line and headers.
fn parse_head(head: &[u8]) -> Result<Request, u16> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => return Err(431),
        _ => return Err(400),
    }
    let (Some(method), Some(target), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(400);
    };
    let target = strip_authority(target);
    if !target.starts_with('/') && target != "*" {
        return Err(400);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        version,
        headers: parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        ..Request::default()
    })
}

/// `http://host/path` → `/path` (absolute-form request targets).
fn strip_authority(target: &str) -> &str {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            return rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    target
}

/// A chunked body, at most `max` bytes.
async fn read_chunked(r: &mut StreamReader, max: usize) -> Result<Vec<u8>, u16> {
    let mut body = Vec::new();
    loop {
        let line = r.readline().await.map_err(|_| 400u16)?;
        let line = std::str::from_utf8(&line).map_err(|_| 400u16)?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| 400u16)?;
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                let t = r.readline().await.map_err(|_| 400u16)?;
                if t == b"\r\n" || t == b"\n" || t.is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > max {
            return Err(413);
        }
        body.extend(r.readexactly(size).await.map_err(|_| 400u16)?);
        if r.readexactly(2).await.map_err(|_| 400u16)? != b"\r\n" {
            return Err(400);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_or_are_refused() {
        let r = parse_head(b"GET /hello/x?a=1 HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("GET", "/hello/x", "a=1")
        );
        assert_eq!(r.header("HOST"), Some("h"));
        assert_eq!(parse_head(b"garbage\r\n\r\n").unwrap_err(), 400);
        assert_eq!(parse_head(b"GET nopath HTTP/1.1\r\n\r\n").unwrap_err(), 400);
        assert_eq!(strip_authority("http://h:1/p?q"), "/p?q");
    }
}
