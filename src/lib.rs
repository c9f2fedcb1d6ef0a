#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod policy;

pub use policy::{get_event_loop, get_event_loop_policy, new_event_loop, run};
pub use tulip_core::{
    all_done, all_tasks, cancel_all_tasks, check_cancel, create_task, current_task, deadline_after,
    ensure_future, get_running_loop, run_coroutine_threadsafe, set_event_loop,
    set_event_loop_policy, sleep, sleep_until, spawn_local, to_thread, yield_now, CallbackId,
    Cancelled, ConcurrentFuture, DefaultPolicy, Error, EventLoop, EventLoopPolicy,
    ExceptionContext, Handle, Promise, Result, Sleep, Task, TaskError, TaskRef, ThreadPool,
    TimerHandle, YieldNow,
};
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
pub use tulip_net as net;

/// A small aiohttp-style web server (feature `net`).
#[cfg(feature = "net")]
pub use tulip_web as web;

/// hyper 1.x on tulip: `TulipIo`, `TulipExecutor`, `TulipTimer`, server and client
/// presets (feature `hyper`).
#[cfg(feature = "hyper")]
pub use tulip_hyper as hyper;
/// Which reactor a loop parks in (executor builders take it).
pub use tulip_reactor::ReactorKind;

/// A loop on a virtual clock for tests ([`testing::new_virtual_loop`],
/// [`testing::VirtualClock`]).
pub mod testing;

/// The executors compiled in, to pick one explicitly.
pub mod executors {
    #[cfg(feature = "local")]
    pub use tulip_local as local;
    #[cfg(feature = "threaded")]
    pub use tulip_threaded as threaded;
}

/// Executor-agnostic building blocks, for writing an executor or an I/O crate.
pub mod core {
    pub use tulip_core::*;
}
