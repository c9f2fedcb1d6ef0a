//! The core error type, with asyncio's names.

use std::fmt;
use std::sync::Arc;

/// Result alias used across tulip's core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a cancelled piece of work stopped: the message given to `cancel(msg)`, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cancelled {
    /// The message passed to `Task::cancel` / `Promise::cancel`.
    pub msg: Option<String>,
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.msg {
            Some(m) => write!(f, "cancelled: {m}"),
            None => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for Cancelled {}

/// Errors of the event loop, tasks and promises (asyncio's exception names).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// asyncio.CancelledError: the awaited work was cancelled.
    Cancelled(Cancelled),
    /// asyncio.TimeoutError: a deadline passed. When the deadline cancelled the work
    /// it bounded (`wait_for`, a `timeout` scope), the cancellation is the cause
    /// (asyncio: `raise TimeoutError from exc`) and `source()` gives it; a timeout
    /// with nothing cancelled (`ConcurrentFuture::result`) has none.
    TimeoutError(Option<Cancelled>),
    /// asyncio's ValueError for an argument a function cannot accept (`wait([])`).
    InvalidArgument(&'static str),
    /// asyncio.InvalidStateError: e.g. `result()` of a promise that is not done.
    InvalidState(&'static str),
    /// The loop was closed: it accepts no more work.
    LoopClosed,
    /// `run_until_complete`/`run_forever`/`close` on a loop that is running.
    LoopRunning,
    /// Starting a loop while another loop runs on this thread (or inside `run`).
    AnotherLoopRunning,
    /// `run_forever`/`run_until_complete` returned because `stop()` was called before
    /// the future completed.
    StoppedBeforeComplete,
    /// `get_running_loop()` outside a running loop.
    NoRunningLoop,
    /// `get_event_loop()` on a thread that has no loop set.
    NoCurrentLoop(String),
    /// A loop method that must run on the loop's own thread was called elsewhere.
    WrongThread,
    /// The task or callback panicked; the payload's message.
    Panicked(Arc<str>),
    /// A user error set on a promise with `set_exception`, or another crate's error
    /// converted into this one (`tulip::net::Error`, `tulip::sync::Error`). It stands
    /// for that error: its text is the error's text, and `source()` is the error's own
    /// `source()`, so a chain walked from here reaches the same causes (an OS error
    /// under a failed connect, say).
    Exception(Arc<dyn std::error::Error + Send + Sync>),
    /// asyncio's KeyboardInterrupt: [`run`](crate::run) stopped because of Ctrl-C
    /// (SIGINT), after cancelling the main task and letting it clean up.
    KeyboardInterrupt,
    /// An OS error (creating the poller, say). `source()` is the [`std::io::Error`].
    Io(Arc<std::io::Error>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Cancelled(c) => c.fmt(f),
            Error::TimeoutError(_) => f.write_str("timed out"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::InvalidState(what) => write!(f, "invalid state: {what}"),
            Error::LoopClosed => f.write_str("event loop is closed"),
            Error::LoopRunning => f.write_str("this event loop is already running"),
            Error::AnotherLoopRunning => {
                f.write_str("cannot run the event loop while another loop is running")
            }
            Error::StoppedBeforeComplete => {
                f.write_str("event loop stopped before the future completed")
            }
            Error::NoRunningLoop => f.write_str("no running event loop"),
            Error::NoCurrentLoop(thread) => {
                write!(f, "there is no current event loop in thread '{thread}'")
            }
            Error::WrongThread => {
                f.write_str("this operation must be called from the loop's own thread")
            }
            Error::Panicked(msg) => write!(f, "task panicked: {msg}"),
            Error::Exception(e) => e.fmt(f),
            Error::KeyboardInterrupt => f.write_str("interrupted (SIGINT)"),
            Error::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

// By hand rather than derived: the causes are behind `Arc`s, and `source()` must hand
// out the error inside (an `io::Error` a caller can downcast to), not the `Arc`.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::TimeoutError(Some(c)) => Some(c),
            Error::Exception(e) => e.source(),
            Error::Io(e) => Some(&**e),
            _ => None,
        }
    }
}

impl Error {
    /// `Error::Cancelled` with no message.
    pub fn cancelled() -> Error {
        Error::Cancelled(Cancelled::default())
    }

    /// True for `Error::Cancelled`.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled(_))
    }

    /// True for `Error::TimeoutError`, with or without a cause.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::TimeoutError(_))
    }

    /// Wraps any error as `Error::Exception` (asyncio: `set_exception(exc)`).
    pub fn exception<E: std::error::Error + Send + Sync + 'static>(e: E) -> Error {
        Error::Exception(Arc::new(e))
    }

    pub(crate) fn from_panic(payload: &(dyn std::any::Any + Send)) -> Error {
        Error::Panicked(panic_message(payload).into())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(Arc::new(e))
    }
}

impl From<Cancelled> for Error {
    fn from(c: Cancelled) -> Self {
        Error::Cancelled(c)
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
