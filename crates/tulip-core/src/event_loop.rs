//! `EventLoop`: the cheap, cloneable, thread-safe handle to a loop, whatever executor
//! stands behind it.
//!
//! The handle checks the loop's state (closed, running, another loop running on this
//! thread) and makes itself the thread's running loop; the executor ([`Backend`]) does
//! the scheduling. Everything here is asyncio's `AbstractEventLoop`, in Rust types.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tulip_reactor::Reactor;

use crate::backend::Backend;
use crate::clock::saturating_after;
use crate::error::{Error, Result};
use crate::handle::{Callback, Handle, TimerHandle};
use crate::loop_common::ExceptionContext;

/// A loop's exception handler: `loop.set_exception_handler(handler)`.
pub type ExceptionHandler = Arc<dyn Fn(&EventLoop, &ExceptionContext) + Send + Sync>;

/// A handle to an event loop. `Clone + Send + Sync`; clones refer to the same loop.
///
/// Dropping the last handle of a loop that is not running closes it, as
/// [`close`](Self::close) does (the handles the loop's own tasks and threads keep do
/// not count; a handle that a parked task's body holds does).
///
/// # Examples
/// ```
/// let lp = tulip::new_event_loop().unwrap();
/// let out = lp.run_until_complete(async { Ok::<_, tulip::Error>(1 + 1) })?;
/// assert_eq!(out, 2);
/// lp.close()?;
/// let again = lp.run_until_complete(async { Ok::<_, tulip::Error>(()) });
/// assert!(matches!(again, Err(tulip::Error::LoopClosed)));
/// # Ok::<(), tulip::Error>(())
/// ```
pub struct EventLoop {
    backend: Arc<dyn Backend>,
    /// Whether this handle counts towards keeping the loop open.
    counted: bool,
}

impl Clone for EventLoop {
    fn clone(&self) -> Self {
        self.backend.common().acquire_handle();
        EventLoop {
            backend: self.backend.clone(),
            counted: true,
        }
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        if self.counted && self.backend.common().release_handle() && !self.is_running() {
            // The last handle: nobody can close the loop any more, so do it now.
            let _ = self.close();
        }
    }
}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("id", &self.id())
            .field("executor", &self.executor())
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl PartialEq for EventLoop {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}
impl Eq for EventLoop {}

/// By id, as equality. (Clippy's `mutable_key_type` flags a `HashSet<EventLoop>` for
/// the executor's state inside; equality and hash never read it, so the lint may be
/// allowed.)
impl std::hash::Hash for EventLoop {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl EventLoop {
    /// Wraps an executor. Executor crates call this from their constructors.
    pub fn from_backend(backend: Arc<dyn Backend>) -> EventLoop {
        backend.common().acquire_handle();
        EventLoop {
            backend,
            counted: true,
        }
    }

    /// A handle that does not keep the loop open: for an executor's own threads
    /// (its clones are ordinary, counted handles).
    pub fn from_backend_uncounted(backend: Arc<dyn Backend>) -> EventLoop {
        EventLoop {
            backend,
            counted: false,
        }
    }

    /// The executor behind this handle.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    pub(crate) fn backend_arc(&self) -> Arc<dyn Backend> {
        self.backend.clone()
    }

    /// The loop's id, unique in the process.
    pub fn id(&self) -> u64 {
        self.backend.common().id()
    }

    /// Which executor runs this loop: `"local"` (one thread, asyncio's loop) or
    /// `"threaded"` (work-stealing workers).
    ///
    /// # Examples
    /// ```
    /// let lp = tulip::executors::local::new_event_loop()?;
    /// assert_eq!(lp.executor(), "local");
    /// # Ok::<(), tulip::Error>(())
    /// ```
    pub fn executor(&self) -> &'static str {
        self.backend.executor()
    }

    /// asyncio's `loop.set_debug(enabled)`. In debug mode every task step and callback
    /// that runs longer than [`slow_callback_duration`](Self::slow_callback_duration)
    /// is reported to the exception handler with the task's name and spawn site, and
    /// tasks record when they were spawned (the dump's age). `TULIP_DEBUG=1` (or
    /// asyncio's `PYTHONASYNCIODEBUG=1`) starts every loop in debug mode. Off, it
    /// costs one load per step.
    ///
    /// # Examples
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// let lp = tulip::executors::local::new_event_loop()?;
    /// lp.set_debug(true);
    /// lp.set_slow_callback_duration(Duration::from_millis(20));
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let log = seen.clone();
    /// lp.set_exception_handler(Some(move |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
    ///     log.lock().unwrap().push(ctx.message.clone());
    /// }));
    /// lp.run_until_complete(async {
    ///     std::thread::sleep(Duration::from_millis(30)); // blocks the loop
    ///     Ok::<_, tulip::Error>(())
    /// })?;
    /// assert!(seen.lock().unwrap()[0].starts_with("Executing task"));
    /// # Ok::<(), tulip::Error>(())
    /// ```
    pub fn set_debug(&self, enabled: bool) {
        self.backend.common().set_debug(enabled);
    }

    /// asyncio's `loop.get_debug()`.
    pub fn get_debug(&self) -> bool {
        self.backend.common().debug()
    }

    /// How long a step may run before debug mode reports it (asyncio's
    /// `loop.slow_callback_duration`; 100 ms unless set).
    pub fn slow_callback_duration(&self) -> Duration {
        self.backend.common().slow_callback_duration()
    }

    /// Sets [`slow_callback_duration`](Self::slow_callback_duration).
    pub fn set_slow_callback_duration(&self, d: Duration) {
        self.backend.common().set_slow_callback_duration(d);
    }

    /// The loop's clock (asyncio's `loop.time()`, as an `Instant`): the real clock,
    /// or the loop's virtual clock if it was built with one (see
    /// [`virtual_clock`](Self::virtual_clock)).
    #[inline]
    pub fn time(&self) -> Instant {
        self.backend.common().clock().now()
    }

    /// The I/O reactor the loop waits on.
    pub fn reactor(&self) -> &Arc<Reactor> {
        self.backend.reactor()
    }

    /// Schedules `f` to run on the loop, after the callbacks already queued (FIFO).
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    pub fn call_soon<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<Handle> {
        let (cb, handle) = Callback::with_handle(Box::new(f));
        self.backend.call_soon(cb)?;
        Ok(handle)
    }

    /// [`call_soon`](Self::call_soon) from another thread: the same call, and it wakes
    /// a loop blocked waiting for I/O or timers.
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    pub fn call_soon_threadsafe<F: FnOnce() + Send + 'static>(&self, f: F) -> Result<Handle> {
        self.call_soon(f)
    }

    /// Schedules `f` to run after `delay` on the loop's clock.
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    pub fn call_later<F: FnOnce() + Send + 'static>(
        &self,
        delay: Duration,
        f: F,
    ) -> Result<TimerHandle> {
        self.call_at(saturating_after(self.time(), delay), f)
    }

    /// Schedules `f` to run at `when`; callbacks due at the same instant run in the
    /// order they were scheduled.
    ///
    /// # Errors
    /// `LoopClosed` if the loop is closed.
    pub fn call_at<F: FnOnce() + Send + 'static>(
        &self,
        when: Instant,
        f: F,
    ) -> Result<TimerHandle> {
        let (cb, handle) = Callback::with_handle(Box::new(f));
        self.backend.call_at(when, cb)?;
        Ok(TimerHandle::new(handle, when))
    }

    /// Asks the loop to stop: `run_forever` returns after running the callbacks that
    /// were already queued for the current iteration.
    pub fn stop(&self) {
        self.backend.stop()
    }

    /// Closes the loop: queued callbacks and task steps are dropped, later calls fail
    /// with `LoopClosed`, and every task still pending is released: its future is
    /// dropped (destructors run, sockets close) and it ends cancelled, so whoever
    /// awaits it hears `Cancelled`. asyncio leaves pending tasks to the garbage
    /// collector; cancel them first (as [`run`](crate::run) does) to let them clean
    /// up asynchronously. Idempotent.
    ///
    /// A `!Send` task is released only when `close` is called on its own thread
    /// (elsewhere its future cannot be dropped soundly, and it is leaked).
    ///
    /// # Errors
    /// `LoopRunning` if the loop is running.
    pub fn close(&self) -> Result<()> {
        if self.is_running() {
            return Err(Error::LoopRunning);
        }
        self.backend.close()?;
        crate::signals::forget_loop(self.id());
        self.backend.common().release_parked();
        // Every finished task leaves now; one that finishes later, seeing the loop
        // closed, leaves by itself (`task_future::finish`). The fence pairs with
        // the one there: either that task sees the loop closed, or this sweep sees
        // the task done.
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        self.backend.common().sweep_tasks(true);
        crate::report::loop_event(self.id(), self.executor(), "closed");
        Ok(())
    }

    /// True while the loop runs.
    pub fn is_running(&self) -> bool {
        self.backend.is_running()
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.backend.is_closed()
    }

    /// Sets (or with `None`, resets) the handler for errors nobody else receives: task
    /// panics, callback panics.
    pub fn set_exception_handler<F>(&self, handler: Option<F>)
    where
        F: Fn(&EventLoop, &ExceptionContext) + Send + Sync + 'static,
    {
        self.backend.common().set_handler(handler.map(|h| {
            Arc::new(Arc::new(h) as ExceptionHandler) as Arc<dyn std::any::Any + Send + Sync>
        }));
    }

    /// The handler set with [`set_exception_handler`](Self::set_exception_handler),
    /// `None` for the default (asyncio's `get_exception_handler()`).
    pub fn get_exception_handler(&self) -> Option<ExceptionHandler> {
        self.backend
            .common()
            .handler()
            .and_then(|h| h.downcast_ref::<ExceptionHandler>().cloned())
    }

    /// Calls the exception handler (or, with none set, the
    /// [default one](Self::default_exception_handler)). A panicking handler falls back
    /// to the default, which is told so.
    pub fn call_exception_handler(&self, ctx: &ExceptionContext) {
        if let Some(h) = self.get_exception_handler() {
            if catch_unwind(AssertUnwindSafe(|| h(self, ctx))).is_ok() {
                return;
            }
            self.default_exception_handler(&ExceptionContext {
                message: "Unhandled error in exception handler".into(),
                error: None,
                task: None,
            });
        }
        self.default_exception_handler(ctx);
    }

    /// asyncio's `loop.default_exception_handler(context)`: with the `tracing`
    /// feature, an event (`error` level when the context has an error, `warn`
    /// otherwise) with the loop id, task name and spawn site as fields; without it,
    /// one line on stderr. Every report tulip makes ends here unless a handler is set.
    pub fn default_exception_handler(&self, ctx: &ExceptionContext) {
        crate::report::default_report(Some(self.id()), ctx);
    }

    /// Runs `callback` on the loop whenever signal `sig` arrives (asyncio's
    /// `loop.add_signal_handler`); replaces the loop's earlier handler for `sig`.
    ///
    /// The callback runs as a loop callback, on a loop thread, never inside the OS
    /// signal handler. Any thread may call this (asyncio: the main thread only).
    /// Closing the loop removes its handlers.
    ///
    /// # Errors
    /// `InvalidArgument` for a number that is not a signal, and for SIGKILL, SIGSTOP
    /// and the fault signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE); `LoopClosed`.
    pub fn add_signal_handler<F: Fn() + Send + Sync + 'static>(
        &self,
        sig: i32,
        callback: F,
    ) -> Result<()> {
        crate::signals::add(&self.backend, sig, Arc::new(callback))
    }

    /// Removes the loop's handler for `sig` (asyncio's `loop.remove_signal_handler`):
    /// true if there was one. When no loop handles `sig` any more, its disposition is
    /// put back to what it was before tulip's first handler (normally the default
    /// action: SIGINT kills the process again).
    ///
    /// # Errors
    /// `InvalidArgument` as for [`add_signal_handler`](Self::add_signal_handler).
    pub fn remove_signal_handler(&self, sig: i32) -> Result<bool> {
        crate::signals::remove(self.id(), sig, None)
    }
}
