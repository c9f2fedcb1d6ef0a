//! A small aiohttp-style web server on tulip's streams: an [`Application`] with a
//! [`Router`], async handlers taking a [`Request`] and returning a [`Response`],
//! HTTP/1.1 with keep-alive, parsed with `httparse`.
//!
//! ```
//! use std::time::Duration;
//! use tulip_web::{Application, Request, Response};
//!
//! async fn hello(req: Request) -> Response {
//!     tulip_core::sleep(Duration::from_millis(5)).await.ok();
//!     Response::html(format!("<h1>hello, {}!</h1>", req.match_info["name"]))
//! }
//!
//! let lp = tulip_local::new_event_loop().unwrap();
//! lp.run_until_complete(async {
//!     let mut app = Application::new();
//!     app.router.add_route("GET", "/hello/{name}", hello);
//!     let srv = app.serve("127.0.0.1:0").await?;
//!     let addr = srv.local_addr().unwrap();
//!     let resp = tulip_web::client::get(addr, "/hello/tulip").await?;
//!     assert_eq!(resp.text(), "<h1>hello, tulip!</h1>");
//!     assert_eq!(tulip_web::client::get(addr, "/nope").await?.status, 404);
//!     srv.close();
//!     Ok::<_, tulip_web::Error>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod app;
pub mod client;
mod http;
mod server;

pub use app::{Application, Router};
pub use http::{reason, IntoResponse, Request, Response};

/// Errors of the web client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection failed.
    #[error(transparent)]
    Net(#[from] tulip_net::Error),
    /// The peer's reply was not an HTTP response.
    #[error("bad HTTP response: {0:?}")]
    BadResponse(String),
}

impl From<tulip_core::Error> for Error {
    fn from(e: tulip_core::Error) -> Self {
        Error::Net(tulip_net::Error::from(e))
    }
}

/// A task body may return `tulip_web::Error`: a cancel taken at a tulip await point
/// and propagated with `?` ends the task cancelled, as with `tulip_net::Error`.
impl tulip_core::TaskError for Error {
    fn as_tulip(&self) -> Option<&tulip_core::Error> {
        match self {
            Error::Net(e) => e.as_tulip(),
            Error::BadResponse(_) => None,
        }
    }

    fn as_cancelled(&self) -> Option<&tulip_core::Cancelled> {
        match self {
            Error::Net(e) => e.as_cancelled(),
            Error::BadResponse(_) => None,
        }
    }

    fn to_shared(&self) -> tulip_core::Error {
        match self {
            Error::Net(e) => e.to_shared(),
            other => tulip_core::Error::described(other),
        }
    }
}
