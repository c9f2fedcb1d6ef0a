//! The crate's error: what can go wrong setting up or driving a connection.

use std::error::Error as StdError;

/// Why a connection could not be set up or ended badly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Connecting (or a socket option) failed.
    #[error(transparent)]
    Net(#[from] tulip_net::Error),
    /// hyper reported a protocol or I/O error.
    #[error("hyper: {0}")]
    Hyper(#[from] hyper::Error),
    /// The automatic (HTTP/1 or HTTP/2) server reported an error; its source says
    /// which.
    #[error("http server: {0}")]
    Server(#[source] Box<dyn StdError + Send + Sync>),
    /// The loop refused (closed, no running loop) or the task was cancelled.
    #[error(transparent)]
    Loop(tulip_core::Error),
}

impl Error {
    /// True if the task was cancelled (asyncio's `CancelledError`).
    pub fn is_cancelled(&self) -> bool {
        tulip_core::TaskError::as_cancelled(self).is_some()
    }
}

impl From<tulip_core::Error> for Error {
    fn from(e: tulip_core::Error) -> Self {
        Error::Loop(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Net(e.into())
    }
}

impl tulip_core::TaskError for Error {
    fn as_tulip(&self) -> Option<&tulip_core::Error> {
        match self {
            Error::Loop(e) => Some(e),
            Error::Net(e) => e.as_tulip(),
            _ => None,
        }
    }

    fn as_cancelled(&self) -> Option<&tulip_core::Cancelled> {
        match self {
            Error::Loop(e) => e.as_cancelled(),
            Error::Net(e) => e.as_cancelled(),
            _ => None,
        }
    }

    fn to_shared(&self) -> tulip_core::Error {
        match self {
            Error::Loop(e) => e.clone(),
            Error::Net(e) => e.to_shared(),
            other => tulip_core::Error::described(other),
        }
    }
}
