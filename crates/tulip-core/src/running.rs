//! The loop running on this thread.
//!
//! `RUNNING` is set only for the span of `run_until_complete` / `run_forever` (or a
//! worker thread's life in a multi-threaded executor), through [`enter_running`].

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::event_loop::EventLoop;
use crate::handle::Callback;
use crate::loop_common::ExceptionContext;

thread_local! {
    static RUNNING: RefCell<Option<EventLoop>> = const { RefCell::new(None) };
    /// The address of the running loop's executor (null: none), beside `RUNNING` so
    /// that a task's schedule function asks "is that loop running here?" with one
    /// load ([`runs_here`]). It never names a freed executor: it changes after the
    /// handle it will name is stored, and before the handle it named is dropped.
    static RUNNING_AT: Cell<*const ()> = const { Cell::new(ptr::null()) };
}

fn address(lp: Option<&EventLoop>) -> *const () {
    lp.map_or(ptr::null(), |lp| {
        (lp.backend() as *const dyn Backend).cast::<()>()
    })
}

/// Restores the previous running loop of this thread on drop.
#[derive(Debug)]
#[must_use = "the loop stops being the running loop when the guard drops"]
pub struct RunningGuard {
    prev: Option<EventLoop>,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        RUNNING_AT.with(|a| a.set(address(prev.as_ref())));
        // The handle put back is dropped after the borrow ends (its drop may run
        // code that asks for the running loop).
        let ours = RUNNING.with(|r| std::mem::replace(&mut *r.borrow_mut(), prev));
        drop(ours);
    }
}

/// Makes `lp` this thread's running loop until the guard drops. Executors call this
/// on their worker threads; `EventLoop::run_*` call it for the driving thread.
pub fn enter_running(lp: EventLoop) -> RunningGuard {
    let at = address(Some(&lp));
    let prev = RUNNING.with(|r| r.borrow_mut().replace(lp));
    RUNNING_AT.with(|a| a.set(at));
    RunningGuard { prev }
}

/// The loop running on this thread.
///
/// # Errors
/// `NoRunningLoop` outside a running loop (asyncio's RuntimeError).
///
/// # Examples
/// ```
/// assert!(tulip::get_running_loop().is_err());
/// ```
pub fn get_running_loop() -> Result<EventLoop> {
    RUNNING
        .with(|r| r.borrow().clone())
        .ok_or(Error::NoRunningLoop)
}

/// Runs `f` with this thread's running loop, without cloning the handle.
pub(crate) fn with_running_loop<R>(f: impl FnOnce(&EventLoop) -> R) -> Option<R> {
    RUNNING.with(|r| r.borrow().as_ref().map(f))
}

/// True if the loop whose executor lives at `backend` (its address) is this
/// thread's running loop right now: then the running-loop slot holds a handle of it.
/// False during the thread's teardown.
#[inline]
pub(crate) fn runs_here(backend: *const ()) -> bool {
    RUNNING_AT
        .try_with(|a| ptr::eq(a.get(), backend))
        .unwrap_or(false)
}

/// True if a loop is running on this thread.
pub(crate) fn has_running_loop() -> bool {
    RUNNING.with(|r| r.borrow().is_some())
}

impl Callback {
    /// Runs the callback; a panic is caught and reported to the running loop's
    /// exception handler ("Exception in callback"), so the loop goes on.
    pub fn run_reporting(self) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.run())) {
            let ctx = ExceptionContext {
                message: "Exception in callback".into(),
                error: Some(crate::Error::Panicked(
                    crate::error::panic_message(payload.as_ref()).into(),
                )),
                task: None,
            };
            match get_running_loop() {
                Ok(lp) => lp.call_exception_handler(&ctx),
                Err(_) => crate::report::default_report(None, &ctx),
            }
        }
    }
}

/// Sends `ctx` to the running loop's exception handler, or — outside a loop — to the
/// default report (stderr, or `tracing` with the `tracing` feature). For executors and
/// I/O crates that hit a problem no caller can be told about.
pub fn report_exception(ctx: &ExceptionContext) {
    match get_running_loop() {
        Ok(lp) => lp.call_exception_handler(ctx),
        Err(_) => crate::report::default_report(None, ctx),
    }
}
