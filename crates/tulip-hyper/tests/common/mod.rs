//! Shared by the tulip-hyper tests: one `#[test]` per scenario per executor, and
//! small helpers (payloads, an event log, a bounded wait).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Builds a fresh loop of one executor.
pub type Factory = fn() -> tulip_core::Result<tulip_core::EventLoop>;

/// Test bodies' error type.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs each named scenario on tulip-local and on tulip-threaded.
#[macro_export]
macro_rules! per_executor {
    ($($scenario:ident),* $(,)?) => {
        mod local {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario(tulip_local::new_event_loop);
                }
            )*
        }
        mod threaded {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario(tulip_threaded::new_event_loop);
                }
            )*
        }
    };
}

/// A deterministic payload of `len` bytes (xorshift64 from `seed`).
pub fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// What the echo services answer for `body`: every byte xor 0x5a, so an answer
/// that merely repeats the request does not pass.
pub fn transformed(body: &[u8]) -> Vec<u8> {
    body.iter().map(|b| b ^ 0x5a).collect()
}

/// A thread-safe log of events.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// Installs an exception handler on `lp` that records every report's message and
/// error, so a test can assert that nothing was reported.
pub fn record_reports(lp: &tulip_core::EventLoop) -> Log {
    let log = Log::default();
    let l = log.clone();
    lp.set_exception_handler(Some(
        move |_: &tulip_core::EventLoop, ctx: &tulip_core::ExceptionContext| {
            l.push(format!("{}: {:?}", ctx.message, ctx.error));
        },
    ));
    log
}

/// Runs `body` on a fresh loop of `new_loop`'s executor, failing the test if it
/// errs or takes longer than `limit`, then checks that the loop's exception
/// handler heard nothing (no task failed unseen).
pub fn run_unreported(
    new_loop: Factory,
    limit: Duration,
    body: impl std::future::Future<Output = Result<(), BoxError>>,
) {
    let lp = new_loop().unwrap();
    let reports = record_reports(&lp);
    within(limit, || lp.run_until_complete(body).unwrap());
    assert_eq!(reports.take(), Vec::<String>::new());
}

/// Runs `f` and fails the test if it takes longer than `limit` (catches hangs, not
/// a timing figure).
pub fn within<R>(limit: Duration, f: impl FnOnce() -> R) -> R {
    let start = Instant::now();
    let r = f();
    let took = start.elapsed();
    assert!(took < limit, "took {took:?}, bound was {limit:?}");
    r
}
