//! hyper 1.x on tulip, with no glue to write.
//!
//! - [`TulipIo`]: any `futures::io` stream (tulip's `TcpStream`, `UnixStream`, …)
//!   as hyper's `rt::Read` + `rt::Write`;
//! - [`TulipExecutor`]: hyper's `rt::Executor`, spawning detached tulip tasks
//!   ([`TulipLocalExecutor`] for futures that are not `Send`);
//! - [`TulipTimer`] / [`TulipSleep`]: hyper's `rt::Timer` on the loop's timers;
//! - [`server`]: builders with those set, and `serve_*` for one connection;
//! - [`client`]: `connect` / `handshake` returning hyper's `SendRequest` with the
//!   connection already driven by a tulip task.
//!
//! Every future this crate spawns or serves ends when its tulip task is cancelled
//! (see [`Cancellable`]), so `tulip::run` and task groups can shut hyper down.
//!
//! # Examples
//! A server and a client on one loop:
//! ```
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use hyper::{Request, Response};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let lp = tulip::new_event_loop()?;
//! let body = lp.run_until_complete(async {
//!     let listener = tulip::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = tulip::create_task(async move {
//!         let (stream, _) = listener.accept().await?;
//!         let hello = hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
//!             let text = format!("hello {}", req.uri().path());
//!             Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(text))))
//!         });
//!         tulip::hyper::server::serve_http1(stream, hello).await
//!     })?;
//!     let mut sender = tulip::hyper::client::connect(addr).await?;
//!     let req = Request::get("/tulip").body(Full::new(Bytes::new()))?;
//!     let resp = sender.send_request(req).await?;
//!     let body = resp.into_body().collect().await?.to_bytes();
//!     drop(sender); // the client closes; the server's connection ends
//!     server.await?;
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(body)
//! }).map_err(|e| e.to_string())?;
//! assert_eq!(body, "hello /tulip");
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]
#![forbid(unsafe_code)]

mod cancel;
pub mod client;
mod error;
mod executor;
mod io;
pub mod server;
mod timer;

pub use cancel::Cancellable;
pub use error::Error;
pub use executor::{TulipExecutor, TulipLocalExecutor};
pub use io::{TulipIo, SCRATCH_MAX, SCRATCH_START};
pub use timer::{TulipSleep, TulipTimer};
