//! How a task ended, and what its body may fail with.
//!
//! A task body returns `Result<T, E>`. The task ends in one of asyncio's three
//! states, decided by what the body returned:
//!
//! - `Ok(v)`: the task has a *result*;
//! - an `Err(e)` in which tulip recognises a [`Cancelled`]: the task is *cancelled*
//!   (a cancel taken at a tulip await point and propagated with `?` lands here, as
//!   does a `Cancelled` the body returns on its own);
//! - any other `Err(e)`, or a panic: the task *raised* `e`.
//!
//! [`TaskError`] is how tulip recognises a cancellation inside a user's error type and
//! how it builds one (for a panic, or a task its loop dropped). It is implemented for
//! [`Error`], for `Box<dyn std::error::Error + Send + Sync>` and, with the `anyhow`
//! feature, for `anyhow::Error`.

use std::fmt;
use std::sync::Arc;

use crate::error::{Cancelled, Error};

/// An error type a task body may return.
///
/// `From<Error>` lets tulip put its own errors (a cancellation, a panic, a closed
/// loop) into it; [`as_tulip`](Self::as_tulip) lets tulip find them again, which is
/// how a propagated cancel ends the task *cancelled* rather than *raised*.
pub trait TaskError: From<Error> + Sized {
    /// tulip's own error inside this one, if it is one.
    fn as_tulip(&self) -> Option<&Error>;

    /// A shared copy of this error, for readers that are not the awaiter: a
    /// task's `exception()`, its done-callbacks, the loop's exception handler.
    /// The default gives tulip's own error when there is one.
    fn to_shared(&self) -> Error;

    /// The cancellation inside this error, if it is one.
    fn as_cancelled(&self) -> Option<&Cancelled> {
        match self.as_tulip() {
            Some(Error::Cancelled(c)) => Some(c),
            _ => None,
        }
    }
}

impl TaskError for Error {
    fn as_tulip(&self) -> Option<&Error> {
        Some(self)
    }

    fn to_shared(&self) -> Error {
        self.clone()
    }
}

/// A user error known only by its text: what `to_shared` gives for error types that
/// cannot be cloned.
#[derive(Debug)]
struct Described(String);

impl fmt::Display for Described {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Described {}

impl Error {
    /// A copy of an error known only by its text, as `Error::Exception`: what
    /// [`TaskError::to_shared`] gives for an error type that cannot be cloned.
    pub fn described(e: &dyn fmt::Display) -> Error {
        Error::Exception(Arc::new(Described(e.to_string())))
    }
}

impl TaskError for Box<dyn std::error::Error + Send + Sync> {
    fn as_tulip(&self) -> Option<&Error> {
        self.downcast_ref::<Error>()
    }

    fn to_shared(&self) -> Error {
        match self.as_tulip() {
            Some(e) => e.clone(),
            None => Error::described(self),
        }
    }
}

#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
impl TaskError for anyhow::Error {
    fn as_tulip(&self) -> Option<&Error> {
        self.downcast_ref::<Error>()
    }

    fn to_shared(&self) -> Error {
        match self.as_tulip() {
            Some(e) => e.clone(),
            None => Error::described(&format!("{self:#}")),
        }
    }
}

/// How a finished task ended, as every reader (not only the awaiter) sees it.
#[derive(Debug, Clone)]
pub(crate) enum Ending {
    /// The body returned `Ok`.
    Returned,
    /// The task was cancelled.
    Cancelled(Cancelled),
    /// The body returned another error, or panicked.
    Raised(Error),
}

impl Ending {
    /// Classifies what a body returned.
    pub(crate) fn of<T, E: TaskError>(out: &Result<T, E>) -> Ending {
        match out {
            Ok(_) => Ending::Returned,
            Err(e) => match e.as_cancelled() {
                Some(c) => Ending::Cancelled(c.clone()),
                None => Ending::Raised(e.to_shared()),
            },
        }
    }
}
