//! The conformance harness: every scenario is a plain `fn(Factory)`, and
//! [`per_executor!`] turns a list of scenarios into one `#[test]` per scenario per
//! executor compiled in. A new executor is one more arm in the macro, not a copy of
//! the suite.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Builds a fresh loop of one executor.
pub type Factory = fn() -> tulip::Result<tulip::EventLoop>;

/// Runs each named scenario on every executor the features compiled in.
///
/// `per_executor!(virtual: a, b)` runs them on the same executors built with a
/// virtual clock (`Builder::virtual_clock()`), in modules `virtual_local`,
/// `virtual_threaded`, ...: for timer tests that should be exact instead of slow.
#[macro_export]
macro_rules! per_executor {
    (virtual: $($scenario:ident),* $(,)?) => {
        #[cfg(feature = "local")]
        mod virtual_local {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario($crate::common::local_virtual);
                }
            )*
        }
        #[cfg(feature = "threaded")]
        mod virtual_threaded {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario($crate::common::threaded_virtual);
                }
            )*
        }
        #[cfg(all(feature = "local", feature = "async-io"))]
        mod virtual_local_async_io {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario($crate::common::local_async_io_virtual);
                }
            )*
        }
        #[cfg(all(feature = "threaded", feature = "async-io"))]
        mod virtual_threaded_async_io {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario($crate::common::threaded_async_io_virtual);
                }
            )*
        }
    };
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
        // The driver runs every step its reactor wait wakes, as on one CPU. In the
        // threaded-only configuration, which has the fewest arms.
        #[cfg(all(feature = "threaded", not(feature = "async-io")))]
        mod threaded_no_hand_off {
            $(
                #[test]
                fn $scenario() {
                    super::$scenario($crate::common::threaded_no_hand_off);
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

/// The threaded executor as it is built on one CPU: its driver runs every step its
/// reactor wait wakes, and no worker spins before it parks.
#[cfg(feature = "threaded")]
pub fn threaded_no_hand_off() -> tulip::Result<tulip::EventLoop> {
    tulip::executors::threaded::Builder::new()
        .hand_off(false)
        .spin(false)
        .build()
}

/// The local executor on a virtual clock.
#[cfg(feature = "local")]
pub fn local_virtual() -> tulip::Result<tulip::EventLoop> {
    tulip::executors::local::Builder::new()
        .virtual_clock()
        .build()
}

/// The threaded executor on a virtual clock.
#[cfg(feature = "threaded")]
pub fn threaded_virtual() -> tulip::Result<tulip::EventLoop> {
    tulip::executors::threaded::Builder::new()
        .virtual_clock()
        .build()
}

/// The local executor on a virtual clock, parked in async-io's reactor.
#[cfg(all(feature = "local", feature = "async-io"))]
pub fn local_async_io_virtual() -> tulip::Result<tulip::EventLoop> {
    tulip::executors::local::Builder::new()
        .reactor(tulip::ReactorKind::AsyncIo)
        .virtual_clock()
        .build()
}

/// The threaded executor on a virtual clock, parked in async-io's reactor.
#[cfg(all(feature = "threaded", feature = "async-io"))]
pub fn threaded_async_io_virtual() -> tulip::Result<tulip::EventLoop> {
    tulip::executors::threaded::Builder::new()
        .reactor(tulip::ReactorKind::AsyncIo)
        .virtual_clock()
        .build()
}

/// The descriptors the process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The descriptor count once it is `want`, or after 10 s whatever it is: a socket
/// closed a moment ago on another thread (a loop's worker, async-io's) may still be
/// on its way out; one that stays open still fails the caller's check.
pub fn fds_settled(want: usize) -> usize {
    let start = Instant::now();
    while open_fds() != want && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    open_fds()
}

/// Whether a thread name (`/proc/.../comm`) is one of this harness's test threads:
/// libtest names each test's thread after the test, cut to 15 bytes, and
/// [`per_executor!`] puts every scenario in a module named after its arm
/// (`local::…`, `local_async_io:`).
pub fn is_test_thread(comm: &str) -> bool {
    let comm = comm.trim_end();
    [
        "local::",
        "threaded::",
        "local_async_io:",
        "threaded_async_",
        "threaded_no_han",
        "virtual_",
    ]
    .iter()
    .any(|p| comm.starts_with(p))
}

/// Makes what a process makes once, on first use, before a test counts descriptors
/// or threads: with the `async-io` feature, async-io's reactor (its poller's
/// descriptors and its fallback `async-io` thread) is process-wide and lazily built.
pub fn warm_up_process_globals() {
    #[cfg(feature = "async-io")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let r = std::sync::Arc::new(
                tulip::reactor::Reactor::with_kind(tulip::ReactorKind::AsyncIo)
                    .expect("async-io reactor"),
            );
            let (a, _b) = std::os::unix::net::UnixStream::pair().expect("socketpair");
            let reg = r.register(a).expect("register");
            r.wait(Some(Duration::from_millis(1))).expect("park");
            drop(reg);
            // The thread names itself once it runs: wait for that (bounded), or a
            // count taken now would list it under its parent's name.
            let named = || {
                std::fs::read_dir("/proc/self/task").is_ok_and(|d| {
                    d.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                        .any(|c| c.trim_end() == "async-io")
                })
            };
            let start = std::time::Instant::now();
            while !named() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
    }
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

/// A shared, thread-safe event log for asserting orders.
#[derive(Clone, Default)]
pub struct Log(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Log {
    /// Sets `lp`'s exception handler to push each report here, as
    /// `"{prefix}{message}: {error}"` (an empty error when the report has none).
    pub fn reports_of(&self, lp: &tulip::EventLoop, prefix: &'static str) {
        let log = self.clone();
        lp.set_exception_handler(Some(
            move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
                let err = ctx
                    .error
                    .as_ref()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                log.push(format!("{prefix}{}: {err}", ctx.message));
            },
        ));
    }

    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    /// How many entries so far satisfy `f` (without taking them).
    pub fn count(&self, f: impl Fn(&str) -> bool) -> usize {
        self.0.lock().unwrap().iter().filter(|e| f(e)).count()
    }
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Waits (on the running loop) until `cond` holds, checking every millisecond; fails
/// the test after 10 s. For tests that must not act before another task has reached
/// a point: wait for the event, not for a guessed number of milliseconds.
pub async fn until(cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "condition never held"
        );
        tulip::sleep(Duration::from_millis(1)).await.unwrap();
    }
}

/// True on the single-threaded executor, where asyncio's step order holds exactly;
/// with tasks running in parallel, only the set of events is asyncio's.
pub fn in_order(new_loop: Factory) -> bool {
    #[cfg(feature = "local")]
    if std::ptr::eq(
        new_loop as *const (),
        tulip::executors::local::new_event_loop as *const (),
    ) || std::ptr::eq(new_loop as *const (), local_virtual as *const ())
    {
        return true;
    }
    let _ = new_loop;
    false
}
