//! A task spawned when the API is called, or at the first poll when no loop is
//! running yet (so that `lp.run_until_complete(wait_for(fut, d))` works, as asyncio's
//! `loop.run_until_complete(asyncio.wait_for(..))` does).

use std::future::Future;

use tulip_core::{get_running_loop, Error, Task};

type Deferred<T> = Box<dyn FnOnce() -> tulip_core::Result<Task<T>> + Send>;

pub(crate) enum Spawn<T> {
    Task(Task<T>),
    Deferred(Deferred<T>),
    Failed(Error),
    Gone,
}

impl<T> std::fmt::Debug for Spawn<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Spawn::Task(t) => t.fmt(f),
            Spawn::Deferred(_) => f.write_str("Deferred"),
            Spawn::Failed(e) => write!(f, "Failed({e})"),
            Spawn::Gone => f.write_str("Gone"),
        }
    }
}

impl<T: Send + 'static> Spawn<T> {
    pub(crate) fn new<F>(fut: F) -> Spawn<T>
    where
        F: Future<Output = T> + Send + 'static,
    {
        if get_running_loop().is_err() {
            return Spawn::Deferred(Box::new(move || tulip_core::create_task(fut)));
        }
        Spawn::from_result(tulip_core::create_task(fut))
    }
}

impl<T> Spawn<T> {
    fn from_result(r: tulip_core::Result<Task<T>>) -> Spawn<T> {
        match r {
            Ok(t) => Spawn::Task(t),
            Err(e) => Spawn::Failed(e),
        }
    }

    /// The task, spawning it now if it was deferred.
    pub(crate) fn get(&mut self) -> tulip_core::Result<&mut Task<T>> {
        if let Spawn::Deferred(_) = self {
            let Spawn::Deferred(spawn) = std::mem::replace(self, Spawn::Gone) else {
                unreachable!()
            };
            *self = Spawn::from_result(spawn());
        }
        match std::mem::replace(self, Spawn::Gone) {
            Spawn::Failed(e) => Err(e),
            Spawn::Gone => Err(Error::InvalidState("future polled after completion")),
            Spawn::Task(t) => {
                *self = Spawn::Task(t);
                let Spawn::Task(t) = self else { unreachable!() };
                Ok(t)
            }
            Spawn::Deferred(_) => unreachable!(),
        }
    }

    /// The task if it exists.
    pub(crate) fn task(&self) -> Option<&Task<T>> {
        match self {
            Spawn::Task(t) => Some(t),
            _ => None,
        }
    }
}
