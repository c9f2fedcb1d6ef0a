//! Which executor the front door builds loops with: chosen in code, never by features.
//!
//! Cargo features only compile executors in. The loop `tulip::new_event_loop()`,
//! `get_event_loop()` and `run()` build comes from one rule, the same in every build:
//!
//! 1. the executor passed to [`set_executor`], if the application called it;
//! 2. else the `TULIP_EXECUTOR` environment variable (`local` or `threaded`, read once);
//! 3. else [`Executor::Local`].
//!
//! A choice whose executor is not compiled in is an error where the loop is built, not
//! a silent fallback to another executor.

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use tulip_core::{Error, EventLoop, Result, TaskError};

/// The executors tulip has. Which are compiled in depends on features (`local`,
/// `threaded`); which one builds the default loops is picked in code with
/// [`set_executor`].
///
/// # Examples
/// ```
/// assert_eq!(tulip::Executor::Local.name(), "local");
/// assert_eq!("threaded".parse::<tulip::Executor>(), Ok(tulip::Executor::Threaded));
/// let e = tulip::executor(); // set_executor's, else TULIP_EXECUTOR's, else Local
/// let lp = e.new_event_loop()?;
/// assert_eq!(lp.executor(), e.name());
/// # Ok::<(), tulip::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Executor {
    /// asyncio's loop: one thread, one FIFO ready queue, `!Send` tasks allowed
    /// (feature `local`, on by default).
    Local,
    /// Work-stealing workers run `Send` tasks in parallel; callbacks stay FIFO on the
    /// thread that runs the loop (feature `threaded`).
    Threaded,
}

impl Executor {
    /// Every executor, compiled in or not.
    pub const ALL: [Executor; 2] = [Executor::Local, Executor::Threaded];

    /// The name [`EventLoop::executor`] reports and `TULIP_EXECUTOR` takes.
    pub fn name(self) -> &'static str {
        match self {
            Executor::Local => "local",
            Executor::Threaded => "threaded",
        }
    }

    /// True if this build has the executor (its feature is on).
    pub fn is_available(self) -> bool {
        match self {
            Executor::Local => cfg!(feature = "local"),
            Executor::Threaded => cfg!(feature = "threaded"),
        }
    }

    /// A new loop of this executor, with its default settings (the executor's
    /// `Builder` in [`executors`](crate::executors) sets more).
    ///
    /// # Errors
    /// `InvalidArgument` if the executor is not compiled in; the OS refused the loop's
    /// poller.
    pub fn new_event_loop(self) -> Result<EventLoop> {
        match self {
            #[cfg(feature = "local")]
            Executor::Local => tulip_local::new_event_loop(),
            #[cfg(feature = "threaded")]
            Executor::Threaded => tulip_threaded::new_event_loop(),
            #[allow(unreachable_patterns)]
            other => Err(other.missing()),
        }
    }

    /// asyncio's `run(main)` on a new loop of this executor (see [`crate::run`]).
    ///
    /// # Errors
    /// As [`crate::run`]; `InvalidArgument` (as `E`) if the executor is not compiled in.
    #[track_caller]
    pub fn run<F, T, E>(self, main: F) -> std::result::Result<T, E>
    where
        F: Future<Output = std::result::Result<T, E>>,
        E: TaskError,
    {
        let lp = self.new_event_loop().map_err(E::from)?;
        tulip_core::run_on(lp, main)
    }

    fn missing(self) -> Error {
        match self {
            Executor::Local => Error::InvalidArgument(
                "the local executor is not compiled in: enable tulip's `local` feature",
            ),
            Executor::Threaded => Error::InvalidArgument(
                "the threaded executor is not compiled in: enable tulip's `threaded` feature",
            ),
        }
    }
}

impl fmt::Display for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an executor name other than `local` or `threaded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownExecutor(pub String);

impl fmt::Display for UnknownExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown executor {:?}: expected \"local\" or \"threaded\"",
            self.0
        )
    }
}

impl std::error::Error for UnknownExecutor {}

impl FromStr for Executor {
    type Err = UnknownExecutor;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Executor::ALL
            .into_iter()
            .find(|e| e.name() == s.trim())
            .ok_or_else(|| UnknownExecutor(s.to_string()))
    }
}

/// 0: nothing chosen in code; otherwise 1 + the index in `Executor::ALL`.
static CHOSEN: AtomicU8 = AtomicU8::new(0);

/// `TULIP_EXECUTOR`, read once.
fn from_env() -> &'static std::result::Result<Option<Executor>, UnknownExecutor> {
    static ENV: OnceLock<std::result::Result<Option<Executor>, UnknownExecutor>> = OnceLock::new();
    ENV.get_or_init(|| match std::env::var("TULIP_EXECUTOR") {
        Ok(v) if !v.trim().is_empty() => v.parse().map(Some),
        _ => Ok(None),
    })
}

/// Picks the executor that `tulip::new_event_loop()`, `get_event_loop()` and `run()`
/// build loops with, for the whole process. Call it once, early in `main`; it wins
/// over `TULIP_EXECUTOR` and over whatever features other crates turn on. Loops
/// already built keep their executor.
///
/// # Errors
/// `InvalidArgument` if `executor` is not compiled in (nothing changes then).
///
/// # Examples
/// ```
/// # #[cfg(feature = "threaded")]
/// # {
/// tulip::set_executor(tulip::Executor::Threaded)?;
/// let lp = tulip::new_event_loop()?;
/// assert_eq!(lp.executor(), "threaded");
/// # lp.close()?;
/// # }
/// # Ok::<(), tulip::Error>(())
/// ```
pub fn set_executor(executor: Executor) -> Result<()> {
    if !executor.is_available() {
        return Err(executor.missing());
    }
    let slot = Executor::ALL
        .iter()
        .position(|e| *e == executor)
        .unwrap_or(0);
    CHOSEN.store(slot as u8 + 1, Ordering::Release);
    Ok(())
}

/// The executor the front door builds loops with now: the one [`set_executor`] chose,
/// else `TULIP_EXECUTOR`'s, else `Local` (an unknown `TULIP_EXECUTOR` counts as unset
/// here; building a loop then fails and says so).
pub fn executor() -> Executor {
    chosen().unwrap_or(Executor::Local)
}

fn chosen() -> std::result::Result<Executor, &'static UnknownExecutor> {
    match CHOSEN.load(Ordering::Acquire) {
        0 => match from_env() {
            Ok(Some(e)) => Ok(*e),
            Ok(None) => Ok(Executor::Local),
            Err(bad) => Err(bad),
        },
        n => Ok(Executor::ALL[usize::from(n - 1)]),
    }
}

/// The factory the core policy calls: builds a loop of the chosen executor.
pub(crate) fn new_chosen_loop() -> Result<EventLoop> {
    match chosen() {
        Ok(e) => e.new_event_loop(),
        Err(_) => Err(Error::InvalidArgument(
            "TULIP_EXECUTOR must be \"local\" or \"threaded\"",
        )),
    }
}
