//! An aiohttp-style web server and client for tulip, on hyper and the `http` crate:
//! an [`Application`] with a [`Router`], async handlers taking a [`Request`] and
//! returning a [`Response`], middlewares, start-up / clean-up hooks, and [`Limits`]
//! with safe defaults. hyper parses and frames every message (HTTP/1.1, and HTTP/2
//! for clients that open with it); nothing here reads HTTP by hand.
//!
//! ```
//! use std::time::Duration;
//! use tulip::web::{Application, Request, Response};
//!
//! async fn hello(req: Request) -> tulip::web::Result<Response> {
//!     tulip::sleep(Duration::from_millis(5)).await?;
//!     Ok(Response::html(format!("<h1>hello, {}!</h1>", req.match_info["name"])))
//! }
//!
//! let lp = tulip::new_event_loop().unwrap();
//! lp.run_until_complete(async {
//!     let mut app = Application::new();
//!     app.router.add_route("GET", "/hello/{name}", hello);
//!     let srv = app.serve("127.0.0.1:0").await?;
//!     let addr = srv.local_addr();
//!     let resp = tulip::web::client::get(addr, "/hello/tulip").await?;
//!     assert_eq!(resp.text(), "<h1>hello, tulip!</h1>");
//!     assert_eq!(tulip::web::client::get(addr, "/nope").await?.status, 404);
//!     srv.close();
//!     srv.wait_closed().await
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Logging goes through `tracing`: handler errors and panics on the
//! `tulip_web::server` target, each request on `tulip_web::access` when
//! [`Application::access_log`] is on (off by default, as aiohttp's `access_log=None`).
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

mod answer;
mod app;
pub mod client;
mod conn;
mod error;
mod limits;
mod match_info;
mod middleware;
mod request;
mod response;
mod router;
mod run;
mod server;

pub use app::Application;
pub use error::{Error, HttpException};
pub use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};
pub use limits::{Limits, MIN_HEAD_SIZE};
pub use match_info::MatchInfo;
pub use middleware::Next;
pub use request::Request;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use response::json_response;
pub use response::{IntoResponse, Response};
pub use router::{BoxResponse, Router};
pub use run::{run_app, run_server};
pub use server::Server;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
