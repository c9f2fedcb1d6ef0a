//! I/O readiness and timers for tulip's event loops.
//!
//! A [`Reactor`] owns one poller: an epoll set of its own on Linux, a
//! [`polling::Poller`] elsewhere (or on request), or a park in async-io's reactor
//! (feature `async-io`). Sockets register with it and get a
//! [`Source`], which stores one read waker and one write waker. The loop that owns the
//! reactor calls [`Reactor::wait`] with the timeout of its next timer whenever it has
//! nothing ready to run; another thread wakes it early with [`Reactor::notify`].
//!
//! [`TimerQueue`] is the loop's timer queue: deadline order, ties broken by insertion.
//!
//! The reactor knows nothing about tasks or executors: the contract that `tulip-net`
//! relies on is `register`, `Source::poll_readable`, `Source::poll_writable` and
//! `deregister`, so another backend can stand behind it later.
//!
//! ```
//! use std::time::Duration;
//! let reactor = tulip::reactor::Reactor::new()?;
//! reactor.notify()?;                                    // as if from another thread
//! reactor.wait(Some(Duration::from_secs(5)))?;          // returns at once
//! # Ok::<(), std::io::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

#[cfg(feature = "async-io")]
mod aio;
mod buckets;
#[cfg(target_os = "linux")]
mod epoll;
mod reactor;
mod source;
mod timers;

pub use buckets::DeadlineBuckets;
pub use reactor::{Reactor, ReactorKind, Registered};
pub use source::{Direction, Source};
pub use timers::{TimerId, TimerQueue};
