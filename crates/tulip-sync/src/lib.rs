//! asyncio's high-level concurrency API for tulip: [`gather`](fn@gather), [`wait`],
//! [`wait_for`], [`timeout`], [`as_completed`], [`shield`], [`TaskGroup`], the locks
//! ([`Lock`], [`Event`], [`Condition`], [`Semaphore`], [`BoundedSemaphore`],
//! [`Barrier`]) and the queues ([`Queue`], [`PriorityQueue`], [`LifoQueue`]).
//!
//! Everything here is executor-agnostic: it uses only tulip-core's task protocol, so
//! every executor gets it unchanged. The primitives are `Clone + Send + Sync` handles.
//! Every waiting future is a tulip await point: a `cancel()` of the waiting task makes
//! it return `Err(Cancelled)`, and a cancelled waiter never loses a wake-up, a lock, a
//! permit or an item.
//!
//! The task-coordinating functions take futures returning `Result<T, E>` with
//! `E: tulip_core::TaskError` (tulip-core's task contract), so they know how each
//! piece of work ended — it returned, it raised, or it was cancelled — and act as
//! asyncio does: [`wait_for`] returns the value of work that swallowed its cancel,
//! [`TaskGroup`] collects only the children that raised, [`gather_all`] lists a
//! cancelled child as a `Cancelled` error, [`ReturnWhen::FirstException`] stops at
//! the first task that raised. A deadline that cancels work reports
//! `tulip_core::Error::TimeoutError`, whose `source()` is the cancellation.
//!
//! ```
//! use std::time::Duration;
//! use tulip_sync::{gather, Queue};
//!
//! let lp = tulip_local::new_event_loop().unwrap();
//! let total = lp.run_until_complete(async {
//!     let q = Queue::new(2);
//!     let producer = q.clone();
//!     let produce = async move {
//!         for n in 1..=5 {
//!             producer.put(n).await?;
//!         }
//!         producer.shutdown(false);
//!         Ok::<_, tulip_sync::Error>(0)
//!     };
//!     let consume = async move {
//!         let mut sum = 0;
//!         while let Ok(n) = q.get().await {
//!             sum += n;
//!             tulip_core::sleep(Duration::from_millis(1)).await?;
//!         }
//!         Ok(sum)
//!     };
//!     let [_, sum] = gather(vec![Box::pin(produce) as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>, Box::pin(consume)])
//!         .await?[..] else { unreachable!() };
//!     Ok::<_, tulip_sync::Error>(sum)
//! })?;
//! assert_eq!(total, 15);
//! # Ok::<(), tulip_sync::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod gather;
mod locks;
mod queues;
mod shield;
mod spawn;
mod task_group;
mod timeouts;
mod wait;
mod waiters;

pub use error::{Error, PutError, TaskGroupError};
pub use gather::{gather, gather_all, gather_local, Gather, GatherAll, GatherHandle};
pub use locks::{
    Acquire, Barrier, BarrierWait, BoundedSemaphore, Condition, Event, EventWait, Lock, LockGuard,
    Semaphore, SemaphoreAcquire, SemaphorePermit,
};
pub use queues::{Get, Join, LifoQueue, PriorityQueue, Put, Queue, QueueSink, QueueStream};
pub use shield::{shield, shield_task, Shield};
pub use task_group::{Run, TaskGroup};
pub use timeouts::{timeout, timeout_at, wait_for, Timeout, TimeoutScope, WaitFor};
pub use wait::{as_completed, wait, AsCompleted, ReturnWhen, Wait};

#[doc(hidden)]
pub use gather::private as __private;

/// `Poll::Pending`, after telling the task dump what the current task now waits on.
#[inline]
pub(crate) fn pending<T>(w: tulip_core::introspect::Waiting) -> std::task::Poll<T> {
    tulip_core::introspect::note_wait(w);
    std::task::Poll::Pending
}

/// The address a primitive is known by in the task dump: its shared state's.
#[inline]
pub(crate) fn addr<T: ?Sized>(shared: &std::sync::Arc<T>) -> usize {
    std::sync::Arc::as_ptr(shared) as *const () as usize
}
