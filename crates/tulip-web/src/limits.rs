//! [`Limits`]: what one client may ask of the server, each with a safe default.
//!
//! The head limits and the header-read timeout are hyper's own; the body size, body
//! timeout, keep-alive idle timeout and connection count are enforced by tulip-web
//! around hyper's body stream and the accept loop.

use std::time::Duration;

/// hyper's smallest read buffer: a head limit below it is raised to it.
pub const MIN_HEAD_SIZE: usize = 8 * 1024;

/// hyper's own limit on header fields in a request head.
pub(crate) const HYPER_MAX_HEADERS: usize = 100;

/// The server's limits (all configurable; see each field for its default).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let mut app = tulip::web::Application::new();
/// app.limits.client_max_size = 64 * 1024;
/// app.limits.body_read_timeout = Duration::from_secs(5);
/// assert_eq!(app.limits.max_connections, 10_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request head (request line and headers), in bytes; a larger one is
    /// answered 431. Default and minimum [`MIN_HEAD_SIZE`], 8 KiB (Apache's and
    /// aiohttp's per-line 8190, nginx's 8k header buffers). It is also hyper's read
    /// buffer bound, so it sets what each idle or slow connection pins: with 8 KiB a
    /// thousand stalled uploads hold under 40 MiB in all, with 16 KiB about 55 MiB.
    pub max_head_size: usize,
    /// Most header fields in a request head; more are answered 431. Default 100
    /// (hyper's).
    pub max_headers: usize,
    /// Largest request body, in bytes (aiohttp's `client_max_size`, default 1 MiB);
    /// reading more fails with 413. The body is read as it arrives: a promised length
    /// is checked, never reserved.
    pub client_max_size: usize,
    /// How long a client may take to send a request head, counted from when the
    /// connection starts waiting for it (so it also bounds an idle keep-alive
    /// connection); then the connection is closed. Default 30 s (hyper's).
    pub header_read_timeout: Duration,
    /// How long the server waits for the next piece of a request body a handler is
    /// reading (nginx's `client_body_timeout`); then the read fails with 408 and the
    /// connection is closed. Default 30 s.
    pub body_read_timeout: Duration,
    /// How long a connection with no request in progress is kept open (aiohttp's
    /// `keepalive_timeout`); then it is closed. Default 15 s.
    pub keepalive_timeout: Duration,
    /// Most connections served at once; past it the server stops accepting until one
    /// closes (new clients wait in the listen backlog). Default 10,000.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_size: MIN_HEAD_SIZE,
            max_headers: HYPER_MAX_HEADERS,
            client_max_size: 1024 * 1024,
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(15),
            max_connections: 10_000,
        }
    }
}
