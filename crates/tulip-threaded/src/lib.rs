//! tulip's multi-threaded event loop: asyncio's `EventLoop` API over a pool of
//! work-stealing worker threads that run `Send` tasks in parallel.
//!
//! The thread that calls `run_until_complete` / `run_forever` drives the loop: it runs
//! the main future, every `call_soon` / `call_later` callback (in asyncio's FIFO order)
//! and waits on the loop's reactor. Task steps run on the workers. `create_local_task`
//! pins a `!Send` task to the thread that spawns it (a worker, or the driving thread).
//! `close()` joins every worker. See `threaded_loop.rs` for the design.
//!
//! ```
//! use std::time::Duration;
//! let lp = tulip::executors::threaded::Builder::new().workers(2).build()?;
//! let out = lp.run_until_complete(async {
//!     let a = tulip::create_task(async {
//!         tulip::sleep(Duration::from_millis(10)).await?;
//!         Ok::<_, tulip::Error>(std::thread::current().name().map(String::from))
//!     })?;
//!     a.await
//! })?;
//! assert!(out.unwrap().starts_with("tulip-worker-"));
//! lp.close()?;
//! # Ok::<(), tulip::Error>(())
//! ```
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

mod builder;
mod dispatch;
mod idle;
mod spin;
mod sync;
mod threaded_loop;
mod timers;
mod worker;

pub use builder::Builder;
pub use threaded_loop::{new_event_loop, ThreadedLoop};
pub use worker::current_worker;
