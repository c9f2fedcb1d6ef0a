//! The predecessors of asyncio, in Rust: **generators** with `send`, `close`
//! and `yield from`, and **greenlets** that `switch` to each other.
//!
//! Python tutorials explain `async`/`await` through these two; tulip keeps
//! them so that each step of such a tutorial has a Rust counterpart. Both are
//! written as `async` bodies and driven by hand — no threads, no event loop,
//! no `unsafe`, on stable Rust:
//!
//! * [`Generator`]: the body yields through a [`Co`] handle;
//!   [`start`](Generator::start), [`send`](Generator::send),
//!   [`next`](Generator::next), [`close`](Generator::close),
//!   [`Co::yield_from`], and an [`Iterator`] impl.
//! * [`Greenlet`]: symmetric coroutines; a body calls
//!   `other.switch(value).await`, plain code calls
//!   [`switch_from_main`](Greenlet::switch_from_main).
//!
//! Everything that can go wrong is an [`Error`].
//!
//! # Examples
//!
//! The producer/consumer from Python tutorials, where `consumer` is a
//! generator the producer drives with `send`:
//!
//! ```
//! use tulip::coro::{Error, Generator, GeneratorState};
//!
//! fn consumer(log: std::rc::Rc<std::cell::RefCell<Vec<String>>>) -> Generator<&'static str, i32> {
//!     Generator::new(move |co| async move {
//!         let mut r = "";
//!         loop {
//!             let n = co.yield_(r).await?; // n = yield r
//!             if n == 0 {
//!                 return Ok(());
//!             }
//!             log.borrow_mut().push(format!("consuming {n}"));
//!             r = "200 OK";
//!         }
//!     })
//! }
//!
//! let log = Default::default();
//! let mut c = consumer(std::rc::Rc::clone(&log));
//! c.start()?; // Python: c.send(None)
//! for n in 1..=2 {
//!     assert_eq!(c.send(n)?, GeneratorState::Yielded("200 OK"));
//! }
//! c.close()?;
//! assert_eq!(*log.borrow(), ["consuming 1", "consuming 2"]);
//! # Ok::<(), Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

mod drive;
mod error;
pub mod generator;
pub mod gevent;
pub mod greenlet;

pub use error::Error;
pub use generator::{Co, Generator, GeneratorState, Yield};
pub use greenlet::{Greenlet, Switch};
