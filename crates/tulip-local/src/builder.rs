//! Choosing how a single-threaded loop is built.

use std::sync::Arc;

use tulip_core::{EventLoop, Result};
use tulip_reactor::ReactorKind;

use crate::local_loop::LocalLoop;

/// Builds a single-threaded loop.
///
/// # Examples
/// ```
/// use tulip::ReactorKind;
/// let lp = tulip::executors::local::Builder::new().reactor(ReactorKind::Polling).build()?;
/// assert_eq!(lp.run_until_complete(async { Ok::<_, tulip::Error>(7) })?, 7);
/// lp.close()?;
/// # Ok::<(), tulip::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    reactor: ReactorKind,
    virtual_clock: bool,
}

impl Builder {
    /// The default loop: tulip's own poller.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Sets which reactor the loop parks in: tulip's own poller (the default) or,
    /// with the `async-io` feature of tulip-reactor, async-io's, shared with the smol
    /// ecosystem.
    pub fn reactor(mut self, kind: ReactorKind) -> Builder {
        self.reactor = kind;
        self
    }

    /// Puts the loop on a virtual clock, for tests: `time()`, sleeps, `call_later`
    /// and timeouts follow it; when nothing is ready and no task waits on I/O or a
    /// blocking job, the loop jumps straight to its next timer, so timer-heavy tests
    /// take no wall time. [`EventLoop::virtual_clock`] gives the handle that moves it
    /// by hand ([`VirtualClock`](tulip_core::VirtualClock) says exactly when it
    /// jumps).
    ///
    /// # Examples
    /// ```
    /// use std::time::{Duration, Instant};
    /// let lp = tulip::executors::local::Builder::new().virtual_clock().build()?;
    /// let (wall, t0) = (Instant::now(), lp.time());
    /// lp.run_until_complete(tulip::sleep(Duration::from_secs(24 * 3600)))?;
    /// assert_eq!(lp.time() - t0, Duration::from_secs(24 * 3600));
    /// assert!(wall.elapsed() < Duration::from_secs(60));
    /// # Ok::<(), tulip::Error>(())
    /// ```
    pub fn virtual_clock(mut self) -> Builder {
        self.virtual_clock = true;
        self
    }

    /// The loop.
    ///
    /// # Errors
    /// The OS refused to create the poller.
    pub fn build(self) -> Result<EventLoop> {
        Ok(EventLoop::from_backend(Arc::new(LocalLoop::build(
            self.reactor,
            self.virtual_clock,
        )?)))
    }
}
