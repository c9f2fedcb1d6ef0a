//! Test helpers: a loop on a virtual clock, so timer-heavy tests are exact and take
//! no wall time.
//!
//! A virtual clock starts at the instant the loop is built and moves only when told:
//! when nothing is ready to run and nothing waits on the outside world, the loop
//! jumps straight to its next timer;
//! [`VirtualClock::advance`](crate::testing::VirtualClock::advance) moves it by hand.
//! `EventLoop::time()`, `sleep`, `call_later` / `call_at`, `wait_for`, `timeout` and
//! `wait(..).timeout(..)` all follow it.
//!
//! When the loop does wait on the outside world — a task waits on a socket, a
//! `to_thread` / `run_in_executor` job of the loop runs — it does not jump: it waits
//! for real, up to the (virtual) time left before its next timer, and the clock
//! follows real time meanwhile, so a reply that would beat a timeout on the real
//! clock beats it here too. Threads the loop cannot see (a plain `std::thread` that
//! calls `call_soon_threadsafe` later) do not hold the jump back: turn
//! auto-advance off
//! ([`VirtualClock::set_auto_advance`](crate::testing::VirtualClock::set_auto_advance))
//! and advance by hand.
//!
//! Every executor has the option: `tulip::executors::local::Builder::new()
//! .virtual_clock()` and `tulip::executors::threaded::Builder::new().virtual_clock()`
//! (on the threaded executor the loop jumps only when every worker is parked).
//!
//! # Examples
//! ```
//! use std::time::{Duration, Instant};
//! let lp = tulip::testing::new_virtual_loop()?;
//! let clock = lp.virtual_clock().expect("a virtual loop");
//! let (wall, t0) = (Instant::now(), lp.time());
//! let woke = lp.run_until_complete(async {
//!     // A day of timeouts and sleeps, in no wall time.
//!     let slow = tulip::wait_for(tulip::sleep(Duration::from_secs(86_400)), Duration::from_secs(60));
//!     assert!(slow.await.unwrap_err().is_timeout());
//!     tulip::sleep(Duration::from_secs(3600)).await?;
//!     Ok::<_, tulip::Error>(tulip::get_running_loop()?.time())
//! })?;
//! assert_eq!(woke - t0, Duration::from_secs(60 + 3600));
//! assert!(wall.elapsed() < Duration::from_secs(30));
//! clock.advance(Duration::from_secs(5)); // by hand, from any thread
//! assert_eq!(lp.time() - t0, Duration::from_secs(3665));
//! # Ok::<(), tulip::Error>(())
//! ```

pub use tulip_core::VirtualClock;

/// A new loop of the executor the features selected (as [`new_event_loop`]), on a
/// virtual clock with auto-advance on; [`EventLoop::virtual_clock`] gives its handle.
///
/// [`new_event_loop`]: crate::new_event_loop
/// [`EventLoop::virtual_clock`]: crate::EventLoop::virtual_clock
///
/// # Errors
/// The OS refused to create the loop's poller.
pub fn new_virtual_loop() -> crate::Result<crate::EventLoop> {
    #[cfg(feature = "local")]
    return tulip_local::Builder::new().virtual_clock().build();
    #[cfg(all(feature = "threaded", not(feature = "local")))]
    return tulip_threaded::Builder::new().virtual_clock().build();
    #[cfg(not(any(feature = "local", feature = "threaded")))]
    return Err(crate::Error::InvalidState("no executor compiled in"));
}
