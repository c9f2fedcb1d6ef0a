//! The one error type of the crate.

/// Everything that can go wrong while driving a [`Generator`](crate::Generator)
/// or switching between [`Greenlet`](crate::Greenlet)s.
///
/// The variants map onto the exceptions Python raises in the same situation;
/// each variant's documentation names its Python counterpart.
///
/// # Examples
///
/// ```
/// use tulip::coro::{Error, Generator};
///
/// let mut g: Generator<u8> = Generator::new(|co| async move {
///     co.yield_(1).await?;
///     Ok(())
/// });
/// assert_eq!(g.next(), Ok(tulip::coro::GeneratorState::Yielded(1)));
/// assert_eq!(g.next(), Ok(tulip::coro::GeneratorState::Complete(())));
/// // Python: StopIteration on a finished generator.
/// assert_eq!(g.next(), Err(Error::Exhausted));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The generator was asked to finish with [`Generator::close`](crate::Generator::close):
    /// a pending [`Co::yield_`](crate::Co::yield_) returns this so the body can
    /// clean up and return. Propagating it with `?` is the normal way to finish.
    /// (Python: `GeneratorExit`.)
    #[error("GeneratorExit: the generator was closed")]
    GeneratorExit,

    /// The body yielded again after [`Generator::close`](crate::Generator::close)
    /// delivered [`Error::GeneratorExit`]. (Python: `RuntimeError: generator ignored GeneratorExit`.)
    #[error("generator ignored GeneratorExit")]
    IgnoredExit,

    /// The generator already finished (returned, failed, panicked or was closed)
    /// and cannot be resumed. (Python: `StopIteration` on a finished generator.)
    #[error("generator already finished")]
    Exhausted,

    /// A value was sent to a generator that has not reached its first yield yet;
    /// call [`Generator::start`](crate::Generator::start) first. The value is dropped.
    /// (Python: `TypeError: can't send non-None value to a just-started generator`.)
    #[error("can't send a value to a just-started generator; call start() first")]
    NotStarted,

    /// [`Generator::start`](crate::Generator::start) was called twice, or
    /// [`Co::yield_from`](crate::Co::yield_from) was given a generator that
    /// already started.
    #[error("generator already started")]
    AlreadyStarted,

    /// The body awaited something that is neither a yield nor a switch, and it
    /// was not ready. Nothing (no event loop) would ever wake it, so the body
    /// is abandoned instead of hanging.
    #[error("the body awaited a future that is not a yield/switch and it was not ready; no event loop drives it")]
    ForeignAwait,

    /// The body panicked; the payload's message is kept.
    #[error("the body panicked: {0}")]
    Panicked(String),

    /// Switched to a greenlet whose body has already finished.
    /// (The greenlet library would silently go to its parent; tulip reports it.)
    #[error("cannot switch to a dead greenlet")]
    DeadGreenlet,

    /// Switched to a greenlet made with [`Greenlet::empty`](crate::Greenlet::empty)
    /// that never got a body with [`Greenlet::set_run`](crate::Greenlet::set_run).
    /// (Python: `AttributeError: run`.)
    #[error("the greenlet has no body to run")]
    NoRun,

    /// [`Greenlet::set_run`](crate::Greenlet::set_run) on a greenlet that
    /// already started (or on the main greenlet).
    #[error("the greenlet already started; its body can no longer be replaced")]
    AlreadyRunning,

    /// `switch(..).await` was polled outside a running greenlet of the same value type.
    #[error(
        "switch().await used outside a running greenlet; use switch_from_main() in plain code"
    )]
    NotInGreenlet,

    /// [`Greenlet::switch_from_main`](crate::Greenlet::switch_from_main) was
    /// called from inside a running greenlet.
    #[error("switch_from_main() called inside a running greenlet; use switch(..).await there")]
    NotMain,
}
