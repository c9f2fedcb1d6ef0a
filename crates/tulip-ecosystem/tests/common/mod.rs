//! The part of the root package's conformance harness (`tests/common/mod.rs`) these
//! tests use, copied: keep the two in step.
//!
//! The conformance harness: every scenario is a plain `fn(Factory)`, and
//! [`per_executor!`] turns a list of scenarios into one `#[test]` per scenario per
//! executor compiled in. A new executor is one more arm in the macro, not a copy of
//! the suite.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Builds a fresh loop of one executor.
pub type Factory = fn() -> tulip::Result<tulip::EventLoop>;

/// Runs each named scenario on every executor the features compiled in.
#[macro_export]
macro_rules! per_executor {
    ($($scenario:ident),* $(,)?) => {
        #[cfg(feature = "local")]
        mod local {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario(tulip::executors::local::new_event_loop);
                }
            )*
        }
        #[cfg(feature = "threaded")]
        mod threaded {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario(tulip::executors::threaded::new_event_loop);
                }
            )*
        }
        #[cfg(all(feature = "local", feature = "async-io"))]
        mod local_async_io {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario($crate::common::local_async_io);
                }
            )*
        }
        #[cfg(all(feature = "threaded", feature = "async-io"))]
        mod threaded_async_io {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario($crate::common::threaded_async_io);
                }
            )*
        }
    };
}

/// The local executor parked in async-io's reactor.
#[cfg(all(feature = "local", feature = "async-io"))]
pub fn local_async_io() -> tulip::Result<tulip::EventLoop> {
    tulip::executors::local::Builder::new()
        .reactor(tulip::ReactorKind::AsyncIo)
        .build()
}

/// The threaded executor parked in async-io's reactor.
#[cfg(all(feature = "threaded", feature = "async-io"))]
pub fn threaded_async_io() -> tulip::Result<tulip::EventLoop> {
    tulip::executors::threaded::Builder::new()
        .reactor(tulip::ReactorKind::AsyncIo)
        .build()
}

/// Runs `f` and fails the test if it takes longer than `limit` (a coarse bound that
/// catches hangs and lost wake-ups, not a timing figure).
pub fn within<R>(limit: Duration, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    assert!(took < limit, "took {took:?}, bound was {limit:?}");
    r
}
