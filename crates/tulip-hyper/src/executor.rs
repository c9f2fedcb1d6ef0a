//! [`TulipExecutor`]: hyper's `rt::Executor` over tulip tasks.
//!
//! hyper hands the executor futures of `()` (an HTTP/2 stream, a client connection's
//! background work); a tulip task body returns a `Result`. Each future is wrapped in
//! [`Cancellable`] and spawned as a task that ends `Ok(())` or *cancelled*, never
//! *raised* (unless the future panics, which the loop reports as for any task), and
//! its handle is dropped at once: the task is detached, and a detached task that
//! ends well produces no "exception was never retrieved" report.

use std::future::Future;

use tulip_core::{EventLoop, ExceptionContext};

use crate::cancel::Cancellable;

/// Spawns hyper's background futures as tulip tasks.
///
/// [`TulipExecutor::new`] spawns on whichever loop runs the calling thread when hyper
/// calls `execute` (hyper does so from inside the connection it drives, so that is
/// the connection's loop); [`TulipExecutor::with_loop`] always spawns on one loop,
/// from any thread.
///
/// A spawn that cannot happen — the loop is closed, or there is no running loop —
/// drops the future (hyper then sees that stream or connection end) and reports it:
/// to the loop's exception handler when there is a loop, else on stderr. It never
/// panics.
#[derive(Clone, Debug, Default)]
pub struct TulipExecutor {
    lp: Option<EventLoop>,
}

impl TulipExecutor {
    /// An executor for the loop running the thread that spawns.
    pub fn new() -> Self {
        TulipExecutor { lp: None }
    }

    /// An executor for `lp`, usable from any thread.
    pub fn with_loop(lp: EventLoop) -> Self {
        TulipExecutor { lp: Some(lp) }
    }

    /// Spawns `fut` detached, or reports why it could not (see the type's docs).
    pub fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let body = async move { Cancellable::new(fut).await };
        let spawned = match &self.lp {
            Some(lp) => lp.create_task(body),
            None => tulip_core::create_task(body),
        };
        if let Err(e) = spawned {
            report_lost_spawn(self.lp.as_ref(), e);
        }
    }
}

impl<F> hyper::rt::Executor<F> for TulipExecutor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, fut: F) {
        self.spawn(fut);
    }
}

/// Tells the loop's exception handler (or stderr, with no loop at hand) that a
/// future hyper wanted run was dropped.
fn report_lost_spawn(lp: Option<&EventLoop>, e: tulip_core::Error) {
    let ctx = ExceptionContext {
        message: "tulip-hyper: could not spawn a hyper task; it was dropped".into(),
        error: Some(e),
        task: None,
    };
    let running = tulip_core::get_running_loop().ok();
    match lp.or(running.as_ref()) {
        Some(lp) => lp.call_exception_handler(&ctx),
        None => tulip_core::report_exception(&ctx),
    }
}

/// Spawns hyper's background futures that are not `Send` (an HTTP/2 server whose
/// service holds `Rc`s, say) as tulip tasks pinned to the calling thread
/// (`tulip_core::spawn_local`).
///
/// hyper calls `execute` from inside the connection it drives, so the tasks land on
/// the thread and loop that drive that connection. Same contract as
/// [`TulipExecutor`] otherwise: detached tasks that end `Ok(())` or cancelled; a
/// spawn that cannot happen (no running loop, a thread that cannot run the loop's
/// local tasks) drops the future, reports it and never panics.
#[derive(Clone, Copy, Debug, Default)]
pub struct TulipLocalExecutor;

impl TulipLocalExecutor {
    /// The executor (it holds nothing: it always uses the thread's running loop).
    pub fn new() -> Self {
        TulipLocalExecutor
    }

    /// Spawns `fut` detached on this thread, or reports why it could not.
    pub fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + 'static,
    {
        let body = async move { Cancellable::new(fut).await };
        if let Err(e) = tulip_core::spawn_local(body) {
            report_lost_spawn(None, e);
        }
    }
}

impl<F> hyper::rt::Executor<F> for TulipLocalExecutor
where
    F: Future<Output = ()> + 'static,
{
    fn execute(&self, fut: F) {
        self.spawn(fut);
    }
}
