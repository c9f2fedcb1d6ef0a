//! `tulip::run` under Ctrl-C, as `asyncio.run` in Python 3.11: the first SIGINT
//! cancels the main task, its clean-up runs (here: closing a server), and `run`
//! returns `Error::KeyboardInterrupt`; a second SIGINT during a slow clean-up kills
//! the process as Ctrl-C always does.
//!
//! ```python
//! async def main(slow):
//!     server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
//!     print("listening on", server.sockets[0].getsockname())
//!     try:
//!         await asyncio.sleep(60)
//!     finally:
//!         print("clean-up: closing the server")
//!         server.close(); await server.wait_closed()
//!         if slow: print("clean-up: slow"); await asyncio.sleep(60)
//!         print("clean-up done")
//! try:
//!     asyncio.run(main(slow))
//! except KeyboardInterrupt:
//!     print("KeyboardInterrupt")
//! ```
//!
//! `cargo run --example run_cleanup [--slow-cleanup]`, then press Ctrl-C (once, or
//! twice with `--slow-cleanup`). tests/signal_exit.rs runs it as a child process.
use std::time::Duration;

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    program(std::env::args().any(|a| a == "--slow-cleanup"))
}

/// The program; `slow` makes the clean-up wait a minute after closing the server.
pub fn program(slow: bool) -> Result<(), Box<dyn std::error::Error>> {
    let out = tulip::run(async move {
        let server = tulip::net::start_server(|_r, _w| async {}, "127.0.0.1:0")
            .await
            .map_err(tulip::Error::exception)?;
        println!(
            "listening on {}",
            server.local_addr().expect("an IP address")
        );
        let slept = tulip::sleep(Duration::from_secs(60)).await;
        println!("clean-up: closing the server");
        server.close();
        server
            .wait_closed()
            .await
            .map_err(tulip::Error::exception)?;
        if slow {
            println!("clean-up: slow");
            tulip::sleep(Duration::from_secs(60)).await?;
        }
        println!("clean-up done");
        slept
    });
    match out {
        Err(tulip::Error::KeyboardInterrupt) => {
            println!("KeyboardInterrupt");
            Ok(())
        }
        other => Ok(other?),
    }
}
