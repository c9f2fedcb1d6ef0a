//! Addresses: what callers may pass ([`ToAddrs`]), name resolution off the loop
//! thread, and the address of either socket family ([`Address`]).
//!
//! Resolution never blocks the loop: an IP literal is parsed in place, with no thread;
//! a name is looked up by the OS resolver (`getaddrinfo`) on tulip's bounded blocking
//! pool (`tulip::to_thread`, at most `default_pool().max_workers()` threads,
//! asyncio's `run_in_executor(None, getaddrinfo)`), and the loop awaits the answer.
//! However many lookups run at once, they hold no more threads than the pool's
//! maximum; the others wait in the pool's queue.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use crate::error::{Error, Result};

/// The address of a socket: an IP address and port, or a Unix socket path (`None` for
/// an unnamed Unix socket).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// An IPv4 or IPv6 address and port.
    Inet(SocketAddr),
    /// A Unix domain socket path.
    Unix(Option<PathBuf>),
}

impl Address {
    pub(crate) fn from_sock(a: &socket2::SockAddr) -> Address {
        match a.as_socket() {
            Some(sa) => Address::Inet(sa),
            None => Address::Unix(a.as_pathname().map(PathBuf::from)),
        }
    }

    /// The IP address and port, if this is an internet address.
    pub fn as_inet(&self) -> Option<SocketAddr> {
        match self {
            Address::Inet(a) => Some(*a),
            Address::Unix(_) => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Inet(a) => write!(f, "{a}"),
            Address::Unix(Some(p)) => write!(f, "{}", p.display()),
            Address::Unix(None) => f.write_str("<unnamed>"),
        }
    }
}

/// Where to connect or listen, before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Addresses known already.
    Addrs(Vec<SocketAddr>),
    /// A host name (or IP literal) and a port.
    Host(String, u16),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Addrs(a) if a.len() == 1 => write!(f, "{}", a[0]),
            Target::Addrs(a) => write!(f, "{a:?}"),
            Target::Host(h, p) if h.contains(':') => write!(f, "[{h}]:{p}"),
            Target::Host(h, p) => write!(f, "{h}:{p}"),
        }
    }
}

/// Anything that names TCP/UDP addresses: `(host, port)`, `"host:port"`, a
/// `SocketAddr`, `(IpAddr, port)`, `([u8; 4], port)`, a slice of addresses.
///
/// # Examples
/// ```
/// use tulip::net::{ToAddrs, Target};
/// assert_eq!(("example.com", 80).to_target().unwrap(), Target::Host("example.com".into(), 80));
/// assert_eq!("127.0.0.1:8000".to_target().unwrap(), Target::Addrs(vec!["127.0.0.1:8000".parse().unwrap()]));
/// ```
pub trait ToAddrs {
    /// This value as a [`Target`].
    ///
    /// # Errors
    /// `InvalidInput` for a string that is not `host:port`.
    fn to_target(&self) -> io::Result<Target>;
}

impl ToAddrs for Target {
    fn to_target(&self) -> io::Result<Target> {
        Ok(self.clone())
    }
}

impl ToAddrs for SocketAddr {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(vec![*self]))
    }
}

impl ToAddrs for [SocketAddr] {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(self.to_vec()))
    }
}

impl ToAddrs for Vec<SocketAddr> {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(self.clone()))
    }
}

impl ToAddrs for (IpAddr, u16) {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(vec![SocketAddr::new(self.0, self.1)]))
    }
}

impl ToAddrs for (Ipv4Addr, u16) {
    fn to_target(&self) -> io::Result<Target> {
        (IpAddr::V4(self.0), self.1).to_target()
    }
}

impl ToAddrs for (Ipv6Addr, u16) {
    fn to_target(&self) -> io::Result<Target> {
        (IpAddr::V6(self.0), self.1).to_target()
    }
}

impl ToAddrs for ([u8; 4], u16) {
    fn to_target(&self) -> io::Result<Target> {
        (Ipv4Addr::from(self.0), self.1).to_target()
    }
}

impl ToAddrs for (&str, u16) {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Host(self.0.to_string(), self.1))
    }
}

impl ToAddrs for (String, u16) {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Host(self.0.clone(), self.1))
    }
}

impl ToAddrs for str {
    fn to_target(&self) -> io::Result<Target> {
        if let Ok(a) = self.parse::<SocketAddr>() {
            return Ok(Target::Addrs(vec![a]));
        }
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not host:port: {self:?}"),
            )
        };
        let (host, port) = self.rsplit_once(':').ok_or_else(bad)?;
        let port = port.parse::<u16>().map_err(|_| bad())?;
        Ok(Target::Host(host.to_string(), port))
    }
}

impl ToAddrs for String {
    fn to_target(&self) -> io::Result<Target> {
        self.as_str().to_target()
    }
}

impl<T: ToAddrs + ?Sized> ToAddrs for &T {
    fn to_target(&self) -> io::Result<Target> {
        (**self).to_target()
    }
}

/// Resolves `target` to socket addresses without blocking the loop: IP literals (v4,
/// v6, v6 in brackets) are parsed in place and never touch a thread; names are looked
/// up on tulip's bounded blocking pool (`tulip::to_thread`).
///
/// # Errors
/// [`Error::Resolve`] when the name is unknown (or resolves to nothing);
/// `Cancelled` if the task is cancelled while waiting.
///
/// # Cancel safety
/// Cancel safe: the pool's thread finishes the lookup and its answer is dropped.
///
/// # Examples
/// ```
/// let lp = tulip::new_event_loop().unwrap();
/// let addrs = lp.run_until_complete(tulip::net::lookup_host(("127.0.0.1", 80)))?;
/// assert_eq!(addrs, ["127.0.0.1:80".parse().unwrap()]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn lookup_host(addr: impl ToAddrs) -> Result<Vec<SocketAddr>> {
    match addr.to_target()? {
        Target::Addrs(a) => Ok(a),
        Target::Host(host, port) => resolve_host(host, port).await,
    }
}

async fn resolve_host(host: String, port: u16) -> Result<Vec<SocketAddr>> {
    if let Some(ip) = ip_literal(&host) {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let name = host.clone();
    let answer = tulip_core::to_thread(move || {
        (name.as_str(), port)
            .to_socket_addrs()
            .map(|it| it.collect::<Vec<_>>())
    })
    .await?;
    match answer {
        Ok(a) if !a.is_empty() => Ok(a),
        Ok(_) => Err(Error::Resolve {
            host,
            source: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
        }),
        Err(source) => Err(Error::Resolve { host, source }),
    }
}

/// `host` as an IP address when it is one: v4, v6, or v6 in brackets (`[::1]`).
fn ip_literal(host: &str) -> Option<IpAddr> {
    let bare = match host.strip_prefix('[') {
        Some(rest) => rest.strip_suffix(']')?,
        None => host,
    };
    bare.parse().ok()
}
