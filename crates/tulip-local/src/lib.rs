//! tulip's single-threaded event loop: asyncio's semantics, callback for callback.
//!
//! One FIFO ready queue holds callbacks and task steps alike, so `call_soon` order and
//! the interleaving of tasks are asyncio's. Timers sit in a heap; the loop sleeps in
//! the reactor's poller until the next deadline, I/O readiness, or a wake-up from
//! another thread. Local (`!Send`) tasks are allowed.
//!
//! ```
//! let lp = tulip::executors::local::new_event_loop()?;
//! let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
//! for i in 0..3 {
//!     let order = order.clone();
//!     lp.call_soon(move || order.lock().unwrap().push(i))?;
//! }
//! let o2 = order.clone();
//! let lp2 = lp.clone();
//! lp.call_soon(move || { o2.lock().unwrap().push(99); lp2.stop(); })?;
//! lp.run_forever()?;
//! assert_eq!(*order.lock().unwrap(), [0, 1, 2, 99]);
//! # Ok::<(), tulip::Error>(())
//! ```
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

mod builder;
mod local_loop;

pub use builder::Builder;
pub use local_loop::{new_event_loop, LocalLoop};
