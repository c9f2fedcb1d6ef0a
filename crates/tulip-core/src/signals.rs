//! Signal handlers of a loop: `add_signal_handler` / `remove_signal_handler`.
//!
//! A loop with at least one handler owns a `tulip_signal::Subscriber` (a slot in the
//! process's signal table and a self-pipe). The pipe's read end is registered with the
//! loop's reactor; when a signal arrives, the signal handler writes a byte, the
//! reactor raises the source, and its waker (ours, not a task's) queues a loop
//! callback that drains the pipe and queues each handler with `call_soon`. So
//! handlers run on a loop thread, as ordinary callbacks, and nothing appears in
//! `all_tasks()`.
//!
//! The state lives in a process-wide table keyed by loop id, so this module needs
//! nothing from the `EventLoop` handle (which calls in here, and calls
//! [`forget_loop`] when it closes).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Wake, Waker};

use tulip_reactor::{Direction, Registered};
use tulip_signal::{SignalError, Subscriber};

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::handle::Callback;

/// A signal handler as the loop keeps it.
pub(crate) type SignalHandler = Arc<dyn Fn() + Send + Sync>;

struct LoopSignals {
    backend: Arc<dyn Backend>,
    reg: Registered<Subscriber>,
    handlers: HashMap<i32, SignalHandler>,
}

type Table = HashMap<u64, LoopSignals>;

static LOOPS: Mutex<Option<Table>> = Mutex::new(None);

fn table() -> MutexGuard<'static, Option<Table>> {
    LOOPS.lock().unwrap_or_else(|e| e.into_inner())
}

fn to_error(e: SignalError) -> Error {
    match e {
        SignalError::Invalid(_) => Error::InvalidArgument("invalid signal number"),
        SignalError::Uncatchable(_) => {
            Error::InvalidArgument("signal cannot be caught (SIGKILL, SIGSTOP, or a fault signal)")
        }
        SignalError::Io(e) => Error::from(e),
        _ => Error::InvalidArgument("too many loops with signal handlers in this process"),
    }
}

/// The waker the pipe's source holds: it queues [`drain`] on the loop. It holds the
/// loop weakly and takes no lock (the reactor calls it with its own locks held).
struct PipeWake {
    loop_id: u64,
    backend: Weak<dyn Backend>,
}

impl Wake for PipeWake {
    fn wake(self: Arc<Self>) {
        let id = self.loop_id;
        if let Some(b) = self.backend.upgrade() {
            let weak = self.backend.clone();
            let _ = b.call_soon(Callback::internal(move || drain(id, weak)));
        }
    }
}

/// Empties the pipe, queues the handler of each signal that arrived, and waits for
/// the next byte. Runs as a loop callback.
fn drain(loop_id: u64, backend: Weak<dyn Backend>) {
    let waker = Waker::from(Arc::new(PipeWake { loop_id, backend }));
    let mut cx = Context::from_waker(&waker);
    let guard = table();
    let Some(state) = guard.as_ref().and_then(|t| t.get(&loop_id)) else {
        return;
    };
    let source = state.reg.source();
    let mut arrived = Vec::new();
    while let Poll::Ready(tick) = source.poll_ready(Direction::Read, &mut cx) {
        arrived.extend(state.reg.get_ref().take_pending());
        source.clear_ready(Direction::Read, tick);
    }
    for sig in arrived {
        if let Some(h) = state.handlers.get(&sig) {
            let h = h.clone();
            let _ = state.backend.call_soon(Callback::internal(move || h()));
        }
    }
}

/// Adds (or replaces) the handler of `sig` on the loop behind `backend`.
pub(crate) fn add(backend: &Arc<dyn Backend>, sig: i32, handler: SignalHandler) -> Result<()> {
    tulip_signal::check(sig).map_err(to_error)?;
    if backend.is_closed() {
        return Err(Error::LoopClosed);
    }
    let id = backend.common().id();
    // Make and register the pipe without the table's lock: the reactor's locks are
    // never taken under it.
    let known = table().as_ref().is_some_and(|t| t.contains_key(&id));
    let mut spare = None;
    if !known {
        let sub = Subscriber::new().map_err(to_error)?;
        let reg = backend.reactor().register(sub)?;
        spare = Some(LoopSignals {
            backend: backend.clone(),
            reg,
            handlers: HashMap::new(),
        });
    }
    let mut guard = table();
    let t = guard.get_or_insert_with(HashMap::new);
    let mut fresh = false;
    if let Some(s) = spare.take() {
        match t.entry(id) {
            Entry::Occupied(_) => spare = Some(s),
            Entry::Vacant(v) => {
                v.insert(s);
                fresh = true;
            }
        }
    }
    let state = t.get_mut(&id).expect("present: inserted above or before");
    let added = state.reg.get_ref().add(sig);
    let mut gone = None;
    match &added {
        Ok(()) => {
            state.handlers.insert(sig, handler);
        }
        Err(_) if fresh => gone = t.remove(&id),
        Err(_) => {}
    }
    drop(guard);
    drop(gone);
    drop(spare);
    added.map_err(to_error)?;
    if fresh {
        // Arm the waker (and handle a byte that is already there).
        let weak = Arc::downgrade(backend);
        let _ = backend.call_soon(Callback::internal(move || drain(id, weak)));
    }
    Ok(())
}

/// Removes the handler of `sig` (only if it is `only`, when given); true if there was
/// one. The loop's last handler takes the loop out of the signal table.
pub(crate) fn remove(loop_id: u64, sig: i32, only: Option<&SignalHandler>) -> Result<bool> {
    tulip_signal::check(sig).map_err(to_error)?;
    let mut guard = table();
    let Some(t) = guard.as_mut() else {
        return Ok(false);
    };
    let Some(state) = t.get_mut(&loop_id) else {
        return Ok(false);
    };
    match (state.handlers.get(&sig), only) {
        (None, _) => return Ok(false),
        (Some(h), Some(o)) if !Arc::ptr_eq(h, o) => return Ok(false),
        _ => {}
    }
    state.handlers.remove(&sig);
    state.reg.get_ref().remove(sig);
    if state.handlers.is_empty() {
        let gone = t.remove(&loop_id);
        drop(guard);
        drop(gone);
    }
    Ok(true)
}

/// Drops every handler of a loop that is closing.
pub(crate) fn forget_loop(loop_id: u64) {
    let gone = table().as_mut().and_then(|t| t.remove(&loop_id));
    drop(gone);
}
