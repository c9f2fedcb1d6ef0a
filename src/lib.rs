#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

mod executor;
mod policy;

pub use executor::{executor, set_executor, Executor, UnknownExecutor};

pub use policy::{get_event_loop, get_event_loop_policy, new_event_loop, run};
pub use tulip_core::{
    all_done, all_tasks, cancel_all_tasks, check_cancel, create_task, current_task, deadline_after,
    ensure_future, get_running_loop, loop_time, run_coroutine_threadsafe, set_event_loop,
    set_event_loop_policy, sleep, sleep_until, spawn_local, to_thread, yield_now, CallbackId,
    Cancelled, ConcurrentFuture, DefaultPolicy, Error, EventLoop, EventLoopPolicy,
    ExceptionContext, Handle, LoopStats, Promise, Result, Sleep, Task, TaskError, TaskRef,
    ThreadPool, TimerHandle, WorkerStats, YieldNow,
};

/// Looking into a loop: task snapshots ([`EventLoop::tasks`]), the tree of who awaits
/// whom ([`EventLoop::dump_tasks`]), and [`note_wait`](introspect::note_wait) for
/// await points of your own.
pub use tulip_core::introspect;
/// The sending side of a [`Queue`] as a `futures::Sink` ([`Queue::sink`]).
pub use tulip_sync::QueueSink;
pub use tulip_sync::{
    as_completed, gather, gather_all, gather_local, shield, shield_task, timeout, timeout_at, wait,
    wait_for, Barrier, BoundedSemaphore, Condition, Error as SyncError, Event, LifoQueue, Lock,
    LockGuard, PriorityQueue, PutError, Queue, QueueStream, ReturnWhen, Semaphore, SemaphorePermit,
    TaskGroup, TaskGroupError, Timeout,
};

/// The cooperative budget: how a task whose await points keep being ready hands the
/// loop back (for writing await points of your own).
pub use tulip_core::coop;

/// Signal numbers (`tulip::signal::SIGTERM`, ...) for
/// [`EventLoop::add_signal_handler`], and the process-wide table behind it.
pub use tulip_core::signal;

/// gather / wait / timeouts / TaskGroup, locks and queues, with their future types.
pub use tulip_sync as sync;

/// Generators with `send`/`yield_from` and greenlet-style switching: the tutorials'
/// predecessors of asyncio.
pub use tulip_coro as coro;

/// Sockets, asyncio streams, transports and protocols (feature `net`, on by default).
#[cfg(feature = "net")]
#[cfg_attr(docsrs, doc(cfg(feature = "net")))]
pub use tulip_net as net;

/// An aiohttp-style web server and client, on hyper (feature `web`, on by default).
#[cfg(feature = "web")]
#[cfg_attr(docsrs, doc(cfg(feature = "web")))]
pub use tulip_web as web;

/// hyper 1.x on tulip: `TulipIo`, `TulipExecutor`, `TulipTimer`, server and client
/// presets (feature `hyper`).
#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub use tulip_hyper as hyper;
/// Which reactor a loop parks in (executor builders take it).
pub use tulip_reactor::ReactorKind;

/// I/O readiness and the timer heap a loop parks in, for writing an executor or an I/O
/// crate (most programs need only [`ReactorKind`]).
pub use tulip_reactor as reactor;
/// A loop on a virtual clock for tests ([`testing::new_virtual_loop`],
/// [`testing::VirtualClock`]).
pub mod testing;

/// The executors compiled in, to pick one explicitly.
pub mod executors {
    #[cfg(feature = "local")]
    #[cfg_attr(docsrs, doc(cfg(feature = "local")))]
    pub use tulip_local as local;
    #[cfg(feature = "threaded")]
    #[cfg_attr(docsrs, doc(cfg(feature = "threaded")))]
    pub use tulip_threaded as threaded;
}

/// Executor-agnostic building blocks, for writing an executor or an I/O crate.
pub mod core {
    pub use tulip_core::*;
}

/// The pages under `docs/`, run as doctests of this crate (`cargo test --doc`), so the
/// code a user copies from them compiles against `tulip` alone. A page whose examples
/// need a feature is tested when that feature is on.
#[cfg(doctest)]
mod docs {
    #[doc = include_str!("../docs/architecture.md")]
    mod architecture {}
    #[cfg(feature = "net")]
    #[doc = include_str!("../docs/asyncio-to-tulip.md")]
    mod asyncio_to_tulip {}
    #[doc = include_str!("../docs/benchmarks.md")]
    mod benchmarks {}
    #[doc = include_str!("../docs/debugging.md")]
    mod debugging {}
    #[doc = include_str!("../docs/executors.md")]
    mod executors {}
    #[doc = include_str!("../docs/reliability.md")]
    mod reliability {}
    #[doc = include_str!("../docs/web.md")]
    mod web {}
}
