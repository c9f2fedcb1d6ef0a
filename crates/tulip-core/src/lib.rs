//! tulip's shared vocabulary: the [`EventLoop`] handle, [`Task`], [`Promise`],
//! asyncio's cancellation, the loop policy, and the contract ([`Backend`]) that an
//! executor crate implements.
//!
//! Executors live in their own crates (`tulip-local`, `tulip-threaded`); this crate
//! holds everything they share, so every executor gets the same task behaviour.
//!
//! ```
//! use std::time::Duration;
//! let lp = tulip::new_event_loop().unwrap();
//! let answer = lp.run_until_complete(async {
//!     let t = tulip::create_task(async {
//!         tulip::sleep(Duration::from_millis(5)).await?;
//!         Ok::<_, tulip::Error>(42)
//!     })?;
//!     t.await
//! })?;
//! assert_eq!(answer, 42);
//! # Ok::<(), tulip::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

mod backend;
mod blocking;
mod clock;
pub mod coop;
mod current;
mod debug;
mod debug_flag;
mod error;
mod event_loop;
mod first_rest;
mod handle;
mod header;
pub mod introspect;
mod loop_common;
mod main_task;
mod metrics;
mod outcome;
mod policy;
mod promise;
mod report;
mod run_until;
mod runner;
mod running;
mod signals;
mod spawn;
mod stats;
mod task;
mod task_future;
mod task_ref;
mod task_registry;
mod threadsafe;
mod timers;

pub use backend::{drop_step, Armed, Backend, MainFuture, Runnable, Schedule};
pub use blocking::{default_pool, to_thread, Blocking, ThreadPool};
pub use clock::{Activity, LoopClock, OutsideWork, VirtualClock};
pub use current::{check_cancel, current_task, take_cancel};
pub use error::{panic_message, Cancelled, Error, Result};
pub use event_loop::EventLoop;
pub use event_loop::ExceptionHandler;
pub use handle::{Callback, Handle, TimerHandle};
pub use header::TaskRef;
pub use loop_common::{ExceptionContext, LoopCommon};
pub use main_task::MainSlot;
pub use outcome::TaskError;
pub use policy::{
    get_event_loop, get_event_loop_policy, new_event_loop, set_default_loop_factory,
    set_event_loop, set_event_loop_policy, DefaultPolicy, EventLoopPolicy, LoopFactory,
};
pub use promise::{CallbackId, Promise};

pub use runner::{cancel_all_tasks, run, run_on};
pub use running::{enter_running, get_running_loop, report_exception, RunningGuard};
pub use spawn::{all_done, all_tasks, create_task, ensure_future, spawn_local};
pub use stats::{LoopStats, StatCounter, WorkerStats};
pub use task::Task;
pub use threadsafe::{run_coroutine_threadsafe, ConcurrentFuture};
pub use timers::{deadline_after, loop_time, sleep, sleep_until, yield_now, Sleep, YieldNow};
/// Signal numbers (`signal::SIGINT`, ...) and the process-wide signal table under
/// [`EventLoop::add_signal_handler`].
pub use tulip_signal as signal;
