//! tulip's networking: asyncio's streams, transports and protocols, and the sockets
//! under them, on any tulip executor.
//!
//! ```
//! let lp = tulip::new_event_loop().unwrap();
//! lp.run_until_complete(async {
//!     let server = tulip::net::start_server(|mut r, w| async move {
//!         while let Ok(line) = r.readline().await {
//!             if line.is_empty() { break; }
//!             w.write(&line);                       // echo each line back
//!         }
//!     }, ("127.0.0.1", 0)).await?;
//!     let (mut r, w) = tulip::net::open_connection(server.local_addr().unwrap()).await?;
//!     w.write(b"hello\n");
//!     w.drain().await?;
//!     assert_eq!(r.readline().await?, b"hello\n");
//!     server.close();
//!     Ok::<_, tulip::net::Error>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Layers, bottom up:
//! - sockets: [`TcpListener`], [`TcpStream`], [`UdpSocket`], [`UnixListener`],
//!   [`UnixStream`] — non-blocking sockets registered with the running loop's reactor
//!   (`tulip::get_running_loop()?.reactor()`), whatever executor runs it;
//! - streams: [`open_connection`], [`start_server`], [`StreamReader`],
//!   [`StreamWriter`], [`Server`];
//! - transports and protocols: [`create_connection`], [`create_server`],
//!   [`create_datagram_endpoint`], [`Protocol`], [`Transport`], [`DatagramProtocol`],
//!   [`DatagramTransport`];
//! - child processes: [`process`] (`create_subprocess_exec`, `create_subprocess_shell`,
//!   `Process`, whose pipes are the streams above).
//!
//! Beside asyncio's API, every byte holder speaks the `futures::io` traits (sockets,
//! [`StreamReader`], [`StreamWriter`]), listeners have [`TcpListener::incoming`],
//! sockets are `AsFd`; asyncio's reader and writer also sit on any byte stream
//! ([`streams_from_io`]). With the `tls` feature, `tls` adds rustls: `ssl` in
//! [`ConnectOptions`] / [`ServerOptions`], `StreamWriter::start_tls`, `tls::start_tls`.
//!
//! Every `async` method here is a tulip await point: a cancelled task gets
//! `Err(Error::Cancelled)` from it and can clean up. Host names are resolved on the
//! bounded blocking pool (`tulip::to_thread`), never on the loop's thread; IP
//! literals need no thread at all.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(clippy::undocumented_unsafe_blocks)]
// One `unsafe` block, allowed where it is: the task dump borrows a raw descriptor to
// name a socket's addresses (introspect.rs).
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]

mod addr;
mod byte_io;
mod connect;
mod error;
mod incoming;
mod introspect;
mod io;
pub mod process;
mod protocols;
mod server;
mod streams;
mod sys;
mod tcp;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
mod udp;
mod unix;
mod writer;

pub use addr::{lookup_host, Address, Target, ToAddrs};
pub use connect::{open_connection_with, ConnectOptions};
pub use error::{Error, Result};
pub use incoming::Incoming;
pub use protocols::{
    create_connection, create_datagram_endpoint, create_server, create_unix_connection,
    DatagramProtocol, DatagramTransport, Protocol, Transport,
};
pub use server::{start_server, start_server_with, start_unix_server, Server, ServerOptions};
pub use streams::{
    open_connection, open_unix_connection, streams_from_io, Feeder, ReuniteError, StreamReader,
    DEFAULT_LIMIT,
};
pub use tcp::{ListenOptions, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};
pub use writer::{StreamWriter, DEFAULT_HIGH_WATER};
