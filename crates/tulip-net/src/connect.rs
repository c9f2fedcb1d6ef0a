//! [`open_connection_with`] and its [`ConnectOptions`]: asyncio's `open_connection`
//! keyword arguments (`limit`, and with the `tls` feature `ssl`, `server_hostname`,
//! `ssl_handshake_timeout`).

#[cfg(feature = "tls")]
use std::sync::Arc;
#[cfg(feature = "tls")]
use std::time::Duration;

use crate::addr::ToAddrs;
#[cfg(feature = "tls")]
use crate::addr::{Address, Target};
use crate::error::Result;
use crate::streams::{StreamReader, DEFAULT_LIMIT};
use crate::tcp::TcpStream;
use crate::writer::StreamWriter;

/// asyncio's keyword arguments of `open_connection`. Build it with struct update
/// syntax: `ConnectOptions { limit: 1 << 20, ..Default::default() }`.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The reader's buffer limit (asyncio's `limit`, default [`DEFAULT_LIMIT`]).
    pub limit: usize,
    /// Speak TLS with this client configuration (asyncio's `ssl=`); `None`: plain
    /// TCP.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub ssl: Option<Arc<crate::tls::rustls::ClientConfig>>,
    /// The name the server's certificate must carry (asyncio's `server_hostname`);
    /// `None`: the host connected to (a name, or an IP address the certificate must
    /// list). Only with `ssl`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub server_hostname: Option<String>,
    /// How long the TLS handshake may take (asyncio's `ssl_handshake_timeout`);
    /// `None`: [`DEFAULT_SSL_HANDSHAKE_TIMEOUT`](crate::tls::DEFAULT_SSL_HANDSHAKE_TIMEOUT),
    /// 60 s. Only with `ssl`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub ssl_handshake_timeout: Option<Duration>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            limit: DEFAULT_LIMIT,
            #[cfg(feature = "tls")]
            ssl: None,
            #[cfg(feature = "tls")]
            server_hostname: None,
            #[cfg(feature = "tls")]
            ssl_handshake_timeout: None,
        }
    }
}

/// [`open_connection`](crate::open_connection) with asyncio's keyword arguments:
/// the reader's `limit`, and with the `tls` feature `ssl`, `server_hostname` and
/// `ssl_handshake_timeout`: the TLS handshake runs before the reader and writer are
/// returned.
///
/// # Errors
/// As [`TcpStream::connect`]; `Error::Io` (`InvalidInput`) for a zero `limit`, or
/// `server_hostname` / `ssl_handshake_timeout` without `ssl` (asyncio's
/// `ValueError`s); [`Error::Ssl`](crate::Error::Ssl) when the handshake fails or times
/// out (see `tls::start_tls`, feature `tls`).
///
/// # Cancel safety
/// Cancel safe: a connection not yet returned is closed.
///
/// # Examples
/// ```
/// use tulip::net::{open_connection_with, start_server, ConnectOptions};
/// let lp = tulip::new_event_loop().unwrap();
/// lp.run_until_complete(async {
///     let server = start_server(|_r, w| async move {
///         w.write(b"0123456789\n");
///     }, "127.0.0.1:0").await?;
///     let opts = ConnectOptions { limit: 4, ..Default::default() };
///     let (mut r, _w) = open_connection_with(server.local_addr().unwrap(), opts).await?;
///     assert!(r.readline().await.is_err()); // the line does not fit in 4 bytes
///     server.close();
///     Ok::<_, tulip::net::Error>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn open_connection_with(
    addr: impl ToAddrs,
    opts: ConnectOptions,
) -> Result<(StreamReader, StreamWriter)> {
    if opts.limit == 0 {
        return Err(invalid("limit must be positive"));
    }
    #[cfg(feature = "tls")]
    if opts.ssl.is_none() {
        if opts.server_hostname.is_some() {
            return Err(invalid("server_hostname is only meaningful with ssl"));
        }
        if opts.ssl_handshake_timeout.is_some() {
            return Err(invalid("ssl_handshake_timeout is only meaningful with ssl"));
        }
    }
    let target = addr.to_target()?;
    let s = TcpStream::connect(&target).await?;
    #[cfg(feature = "tls")]
    if let Some(cfg) = opts.ssl {
        let host = match (opts.server_hostname, &target) {
            (Some(h), _) => h,
            (None, Target::Host(h, _)) => {
                h.trim_start_matches('[').trim_end_matches(']').to_string()
            }
            (None, Target::Addrs(_)) => s.peer_addr()?.ip().to_string(),
        };
        let (sock, peer) = (s.local_addr().ok(), s.peer_addr().ok());
        let tls = crate::tls::start_tls(s, cfg, Some(&host), opts.ssl_handshake_timeout).await?;
        return Ok(crate::streams::streams_from_io_named(
            tls,
            opts.limit,
            sock.map(Address::Inet),
            peer.map(Address::Inet),
        ));
    }
    let (mut r, w) = s.into_streams();
    r.set_limit(opts.limit);
    Ok((r, w))
}

fn invalid(msg: &'static str) -> crate::Error {
    crate::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidInput, msg))
}
