//! The front-door functions that build loops without naming an executor.
//!
//! tulip-core's policy builds loops through a factory; these wrappers install the
//! facade's, which builds the executor chosen in code ([`crate::set_executor`]) or by
//! `TULIP_EXECUTOR`, else the local one — never one picked by Cargo features — before
//! delegating, so `tulip::get_event_loop()` works with no set-up, as in asyncio.

use std::future::Future;
use std::sync::Arc;

use tulip_core::{EventLoop, EventLoopPolicy, Result, TaskError};

fn install() {
    tulip_core::set_default_loop_factory(crate::executor::new_chosen_loop);
}

/// asyncio's `get_event_loop()`: the running loop, else this thread's loop — created
/// on first use on the main thread; on other threads `Err(NoCurrentLoop)` until
/// [`set_event_loop`](crate::set_event_loop) is called.
///
/// # Errors
/// `NoCurrentLoop` off the main thread with no loop set.
///
/// # Examples
/// ```
/// let lp = tulip::get_event_loop()?;
/// assert_eq!(lp, tulip::get_event_loop()?); // the same loop each time
/// # Ok::<(), tulip::Error>(())
/// ```
pub fn get_event_loop() -> Result<EventLoop> {
    install();
    tulip_core::get_event_loop()
}

/// asyncio's `new_event_loop()`: a new loop of the executor the features selected.
///
/// # Errors
/// The OS refused to create the loop's poller.
pub fn new_event_loop() -> Result<EventLoop> {
    install();
    tulip_core::new_event_loop()
}

/// The process's event-loop policy.
pub fn get_event_loop_policy() -> Arc<dyn EventLoopPolicy> {
    install();
    tulip_core::get_event_loop_policy()
}

/// asyncio's `asyncio.run(main)`: runs `main` on a new loop, cancels what is left,
/// closes the loop, and returns what `main` returned.
///
/// # Errors
/// `main`'s own error; and, as `E`: `AnotherLoopRunning` inside a running loop,
/// `Cancelled` if `main` was cancelled, `Panicked` if it panicked.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let v = tulip::run(async {
///     tulip::sleep(Duration::from_millis(1)).await?;
///     Ok::<_, tulip::Error>(7)
/// })?;
/// assert_eq!(v, 7);
/// # Ok::<(), tulip::Error>(())
/// ```
#[track_caller]
pub fn run<F, T, E>(main: F) -> std::result::Result<T, E>
where
    F: Future<Output = std::result::Result<T, E>>,
    E: TaskError,
{
    install();
    tulip_core::run(main)
}
