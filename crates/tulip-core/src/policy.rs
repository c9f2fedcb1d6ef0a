//! The event-loop policy and the per-thread loop registry (seed 004's rules).
//!
//! - `get_event_loop()`: the running loop if there is one; else the loop set for this
//!   thread; else, on the main thread only and only if `set_event_loop` was never
//!   called there, a new loop that becomes the thread's loop. Elsewhere:
//!   `Err(NoCurrentLoop)`.
//! - The policy is a thin factory: which executor `new_event_loop()` builds is the
//!   default factory that the `tulip` facade installs from its Cargo features.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock, RwLock};

use crate::error::{Error, Result};
use crate::event_loop::EventLoop;
use crate::running::get_running_loop;

/// Builds a new loop of some executor.
pub type LoopFactory = fn() -> Result<EventLoop>;

static DEFAULT_FACTORY: OnceLock<LoopFactory> = OnceLock::new();
static POLICY: RwLock<Option<Arc<dyn EventLoopPolicy>>> = RwLock::new(None);

/// Installs the factory the default policy uses. The first call wins; returns false
/// if a factory was already installed.
pub fn set_default_loop_factory(f: LoopFactory) -> bool {
    DEFAULT_FACTORY.set(f).is_ok()
}

/// asyncio's event-loop policy: how loops are made and found per context.
pub trait EventLoopPolicy: Send + Sync {
    /// The loop for the current context (see the module docs for the default rules).
    ///
    /// # Errors
    /// `NoCurrentLoop` when the context has none and none may be created.
    fn get_event_loop(&self) -> Result<EventLoop>;
    /// Sets (or clears) the loop of the current context.
    fn set_event_loop(&self, lp: Option<EventLoop>);
    /// A new loop; not set anywhere.
    ///
    /// # Errors
    /// The executor could not start (e.g. no poller).
    fn new_event_loop(&self) -> Result<EventLoop>;
}

#[derive(Default)]
struct ThreadSlot {
    lp: Option<EventLoop>,
    set_called: bool,
}

thread_local! {
    static SLOT: RefCell<ThreadSlot> = RefCell::new(ThreadSlot::default());
}

/// The default policy: one loop per thread, created implicitly on the main thread.
#[derive(Debug, Clone, Copy)]
pub struct DefaultPolicy {
    factory: Option<LoopFactory>,
}

impl DefaultPolicy {
    /// A default policy whose loops come from `factory`.
    pub fn with_factory(factory: LoopFactory) -> Self {
        DefaultPolicy {
            factory: Some(factory),
        }
    }
}

fn is_main_thread() -> bool {
    std::thread::current().name() == Some("main")
}

impl EventLoopPolicy for DefaultPolicy {
    fn get_event_loop(&self) -> Result<EventLoop> {
        let existing = SLOT.with(|s| {
            let s = s.borrow();
            (s.lp.clone(), s.set_called)
        });
        match existing {
            (Some(lp), _) => Ok(lp),
            (None, false) if is_main_thread() => {
                let lp = self.new_event_loop()?;
                self.set_event_loop(Some(lp.clone()));
                Ok(lp)
            }
            _ => Err(Error::NoCurrentLoop(
                std::thread::current()
                    .name()
                    .unwrap_or("<unnamed>")
                    .to_string(),
            )),
        }
    }

    fn set_event_loop(&self, lp: Option<EventLoop>) {
        SLOT.with(|s| {
            let mut s = s.borrow_mut();
            s.set_called = true;
            s.lp = lp;
        });
    }

    fn new_event_loop(&self) -> Result<EventLoop> {
        match self.factory.or_else(|| DEFAULT_FACTORY.get().copied()) {
            Some(f) => f(),
            None => Err(Error::InvalidState(
                "no executor installed: enable a tulip executor feature",
            )),
        }
    }
}

/// The process's policy (the default one unless [`set_event_loop_policy`] set another).
pub fn get_event_loop_policy() -> Arc<dyn EventLoopPolicy> {
    if let Some(p) = POLICY.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return p.clone();
    }
    Arc::new(DefaultPolicy { factory: None })
}

/// Replaces the process's policy; `None` restores the default.
pub fn set_event_loop_policy(policy: Option<Arc<dyn EventLoopPolicy>>) {
    *POLICY.write().unwrap_or_else(|e| e.into_inner()) = policy;
}

/// asyncio's `get_event_loop()`: the running loop, else this thread's loop (created
/// on first use on the main thread).
///
/// # Errors
/// `NoCurrentLoop` on a thread other than main with no loop set.
pub fn get_event_loop() -> Result<EventLoop> {
    match get_running_loop() {
        Ok(lp) => Ok(lp),
        Err(_) => get_event_loop_policy().get_event_loop(),
    }
}

/// asyncio's `set_event_loop(loop)`: makes `lp` this thread's loop (`None` clears it).
pub fn set_event_loop(lp: Option<EventLoop>) {
    get_event_loop_policy().set_event_loop(lp)
}

/// asyncio's `new_event_loop()`: a new loop of the selected executor, set nowhere.
///
/// # Errors
/// The executor could not start, or none is installed.
pub fn new_event_loop() -> Result<EventLoop> {
    get_event_loop_policy().new_event_loop()
}
