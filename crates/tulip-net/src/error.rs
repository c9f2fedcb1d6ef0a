//! The net crate's error: OS errors with the place they happened, asyncio's stream
//! errors (`IncompleteRead`, `LimitOverrun`, readline's `ValueError` as
//! `LineTooLong`), and the loop's own errors (a cancelled
//! task, no running loop).

use std::io;
use std::sync::Arc;

use tulip_core::Cancelled;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in a network operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The OS refused an operation on a socket that was already set up (a reset peer,
    /// a broken pipe, …).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Every address of `target` refused or failed the connection; `source` is the
    /// last address's error.
    #[error("cannot connect to {target}: {source}")]
    Connect {
        /// What the caller asked to connect to.
        target: String,
        /// The OS error of the last address tried.
        #[source]
        source: io::Error,
    },
    /// Binding or listening on `target` failed.
    #[error("cannot listen on {target}: {source}")]
    Bind {
        /// The address asked for.
        target: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The host name could not be resolved to an address.
    #[error("cannot resolve host {host:?}: {source}")]
    Resolve {
        /// The name looked up.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// asyncio.IncompleteReadError: the stream ended before the expected bytes came.
    /// `partial` holds what was read (and is no longer in the reader's buffer).
    #[error("stream ended after {} bytes, {}", partial.len(), expected_text(*expected))]
    IncompleteRead {
        /// The bytes read before the end of the stream.
        partial: Vec<u8>,
        /// How many bytes were asked for (`None`: until a separator).
        expected: Option<usize>,
    },
    /// asyncio.LimitOverrunError: no separator within the reader's limit. The data is
    /// still in the buffer; `consumed` says how much of it to read to skip it.
    #[error("separator not found within the {limit}-byte limit (buffered: {consumed})")]
    LimitOverrun {
        /// Bytes to consume to get past the data that overran.
        consumed: usize,
        /// The reader's limit.
        limit: usize,
    },
    /// asyncio's `ValueError` from [`StreamReader::readline`](crate::StreamReader::readline):
    /// the line does not fit in the reader's limit. Unlike [`Error::LimitOverrun`]
    /// (what `readuntil` raises, leaving the data buffered), the data is gone: when
    /// the newline was found past the limit, the line up to and including it was
    /// discarded (`separator_found`); when no newline was found within the limit,
    /// everything buffered was discarded (bytes that arrive later, the rest of the
    /// long line, are what the next read returns) — asyncio 3.11's rules.
    #[error("{}", if *separator_found {
        "Separator is found, but chunk is longer than limit"
    } else {
        "Separator is not found, and chunk exceed the limit"
    })]
    LineTooLong {
        /// True when the newline was found (past the limit).
        separator_found: bool,
        /// Bytes discarded, the newline included.
        discarded: usize,
        /// The reader's limit.
        limit: usize,
    },
    /// TLS failed (asyncio's `ssl.SSLError` / `SSLCertVerificationError`): the
    /// handshake was refused — a certificate that does not verify, a name it does not
    /// carry, no protocol in common — with rustls's reason; or it took longer than
    /// `ssl_handshake_timeout` (then `source` has asyncio's `ConnectionAborted` kind).
    #[error("SSL error: {reason}")]
    Ssl {
        /// Why, in rustls's words (or the timeout's).
        reason: String,
        /// The error as the I/O layer saw it.
        #[source]
        source: io::Error,
    },
    /// The writer or transport is closed: nothing more can be written.
    #[error("the connection is closed")]
    Closed,
    /// The task was cancelled while waiting (asyncio's `CancelledError`).
    #[error("{0}")]
    Cancelled(Cancelled),
    /// An error of the event loop (no running loop, loop closed, …).
    #[error(transparent)]
    Loop(tulip_core::Error),
}

fn expected_text(expected: Option<usize>) -> String {
    match expected {
        Some(n) => format!("{n} expected"),
        None => "separator expected".to_string(),
    }
}

impl Error {
    /// True for [`Error::Cancelled`].
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled(_))
    }

    /// The kind of the underlying OS error, if this error came from one.
    ///
    /// # Examples
    /// ```
    /// let e = tulip::net::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
    /// assert_eq!(e.io_kind(), Some(std::io::ErrorKind::ConnectionReset));
    /// ```
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            Error::Io(e)
            | Error::Connect { source: e, .. }
            | Error::Bind { source: e, .. }
            | Error::Resolve { source: e, .. }
            | Error::Ssl { source: e, .. } => Some(e.kind()),
            _ => None,
        }
    }
}

impl From<tulip_core::Error> for Error {
    fn from(e: tulip_core::Error) -> Self {
        match e {
            tulip_core::Error::Cancelled(c) => Error::Cancelled(c),
            other => Error::Loop(other),
        }
    }
}

impl From<Cancelled> for Error {
    fn from(c: Cancelled) -> Self {
        Error::Cancelled(c)
    }
}

impl From<Error> for tulip_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Cancelled(c) => tulip_core::Error::Cancelled(c),
            Error::Loop(e) => e,
            Error::Io(e) => tulip_core::Error::Io(Arc::new(e)),
            other => tulip_core::Error::Exception(Arc::new(other)),
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            Error::Cancelled(_) => io::Error::new(io::ErrorKind::Interrupted, e),
            other => {
                let kind = other.io_kind().unwrap_or(io::ErrorKind::Other);
                io::Error::new(kind, other)
            }
        }
    }
}

impl tulip_core::TaskError for Error {
    fn as_tulip(&self) -> Option<&tulip_core::Error> {
        match self {
            Error::Loop(e) => Some(e),
            _ => None,
        }
    }

    fn as_cancelled(&self) -> Option<&Cancelled> {
        match self {
            Error::Cancelled(c) => Some(c),
            Error::Loop(tulip_core::Error::Cancelled(c)) => Some(c),
            _ => None,
        }
    }

    fn to_shared(&self) -> tulip_core::Error {
        match self {
            Error::Cancelled(c) => tulip_core::Error::Cancelled(c.clone()),
            Error::Loop(e) => e.clone(),
            Error::Io(e) => tulip_core::Error::Io(Arc::new(clone_io(e))),
            other => tulip_core::Error::described(other),
        }
    }
}

/// A copy of `e`, for an error that is handed out more than once (a stream reader's
/// `set_exception`). OS errors keep their code, or their kind and text.
pub(crate) fn clone_error(e: &Error) -> Error {
    match e {
        Error::Io(e) => Error::Io(clone_io(e)),
        Error::Connect { target, source } => Error::Connect {
            target: target.clone(),
            source: clone_io(source),
        },
        Error::Bind { target, source } => Error::Bind {
            target: target.clone(),
            source: clone_io(source),
        },
        Error::Resolve { host, source } => Error::Resolve {
            host: host.clone(),
            source: clone_io(source),
        },
        Error::IncompleteRead { partial, expected } => Error::IncompleteRead {
            partial: partial.clone(),
            expected: *expected,
        },
        Error::LimitOverrun { consumed, limit } => Error::LimitOverrun {
            consumed: *consumed,
            limit: *limit,
        },
        Error::LineTooLong {
            separator_found,
            discarded,
            limit,
        } => Error::LineTooLong {
            separator_found: *separator_found,
            discarded: *discarded,
            limit: *limit,
        },
        Error::Ssl { reason, source } => Error::Ssl {
            reason: reason.clone(),
            source: clone_io(source),
        },
        Error::Closed => Error::Closed,
        Error::Cancelled(c) => Error::Cancelled(c.clone()),
        Error::Loop(e) => Error::Loop(e.clone()),
    }
}

/// A copy of an OS error that can be handed to several waiters.
pub(crate) fn clone_io(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}
