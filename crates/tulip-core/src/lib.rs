//! tulip's shared vocabulary: the [`EventLoop`] handle, [`Task`], [`Promise`],
//! asyncio's cancellation, the loop policy, and the contract ([`Backend`]) that an
//! executor crate implements.
//!
//! Executors live in their own crates (`tulip-local`, `tulip-threaded`); this crate
//! holds everything they share, so every executor gets the same task behaviour.
//!
//! ```
//! use std::time::Duration;
//! let lp = tulip_local::new_event_loop().unwrap();
//! let answer = lp.run_until_complete(async {
//!     let t = tulip_core::create_task(async {
//!         tulip_core::sleep(Duration::from_millis(5)).await?;
//!         Ok::<_, tulip_core::Error>(42)
//!     })?;
//!     t.await?
//! })?;
//! assert_eq!(answer?, 42);
//! # Ok::<(), tulip_core::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod blocking;
mod error;
mod event_loop;
mod handle;
mod main_task;
mod policy;
mod promise;
mod registry;
mod runner;
mod tasks;
mod threadsafe;
mod timers;

pub use backend::{Backend, MainFuture, Runnable};
pub use blocking::{default_pool, to_thread, Blocking, ThreadPool};
pub use error::{panic_message, Cancelled, Error, Result};
pub use event_loop::EventLoop;
pub use handle::{Callback, Handle, TimerHandle};
pub use main_task::MainSlot;
pub use policy::{
    get_event_loop, get_event_loop_policy, new_event_loop, set_default_loop_factory,
    set_event_loop, set_event_loop_policy, DefaultPolicy, EventLoopPolicy, LoopFactory,
};
pub use promise::{CallbackId, Promise};
pub use registry::{
    enter_running, get_running_loop, ExceptionContext, ExceptionHandler, LoopCommon, RunningGuard,
};
pub use runner::{cancel_all_tasks, run};
pub use tasks::{
    all_done, all_tasks, check_cancel, create_task, current_task, ensure_future, spawn_local,
    take_cancel, Task, TaskRef,
};
pub use threadsafe::{run_coroutine_threadsafe, ConcurrentFuture};
pub use timers::{sleep, sleep_until, yield_now, Sleep, YieldNow};
