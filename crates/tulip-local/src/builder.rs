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

    /// The loop.
    ///
    /// # Errors
    /// The OS refused to create the poller.
    pub fn build(self) -> Result<EventLoop> {
        Ok(EventLoop::from_backend(Arc::new(LocalLoop::with_reactor(
            self.reactor,
        )?)))
    }
}
