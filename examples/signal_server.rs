//! A `run_forever` server that stops cleanly on SIGINT or SIGTERM: the signal
//! handler (a loop callback, not code in the OS signal handler) closes the server and
//! stops the loop; the program then cancels the handlers of connections still open,
//! waits for the server to close, closes the loop and exits 0.
//!
//! ```python
//! async def echo(r, w):
//!     while line := await r.readline():
//!         w.write(line)
//! loop = asyncio.new_event_loop()
//! server = loop.run_until_complete(asyncio.start_server(echo, "127.0.0.1", 0))
//! print("listening on", server.sockets[0].getsockname())
//! for sig in (signal.SIGINT, signal.SIGTERM):
//!     loop.add_signal_handler(sig, lambda: (server.close(), loop.stop()))
//! loop.run_forever()
//! for t in asyncio.all_tasks(loop): t.cancel()   # open connections' handlers
//! loop.run_until_complete(server.wait_closed())
//! loop.close()
//! print("server closed")
//! ```
//!
//! `cargo run --example signal_server [ADDR]` (default 127.0.0.1:0), then Ctrl-C or
//! `kill PID`. tests/signal_exit.rs runs it as a child process.
use std::sync::Arc;

use tulip::signal::{SIGINT, SIGTERM};

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    serve(tulip::new_event_loop, &addr)
}

/// Serves an echo server on a loop from `new_loop` until SIGINT or SIGTERM.
pub fn serve(
    new_loop: fn() -> tulip::Result<tulip::EventLoop>,
    addr: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    serve_with(new_loop, addr, false)
}

/// What the tour runs: serve, echo one line as a client, then send this process
/// SIGTERM and shut down through the handler.
#[allow(dead_code)]
pub fn self_test() -> Result<(), Box<dyn std::error::Error>> {
    serve_with(tulip::new_event_loop, "127.0.0.1:0", true)
}

fn serve_with(
    new_loop: fn() -> tulip::Result<tulip::EventLoop>,
    addr: &str,
    self_test: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let lp = new_loop()?;
    let server = lp.run_until_complete(tulip::net::start_server(
        |mut r, w| async move {
            while let Ok(line) = r.readline().await {
                if line.is_empty() {
                    break;
                }
                w.write(&line);
            }
        },
        addr,
    ))?;
    let server = Arc::new(server);
    println!(
        "listening on {}",
        server.local_addr().expect("an IP address")
    );
    for sig in [SIGINT, SIGTERM] {
        let (srv, handle) = (server.clone(), lp.clone());
        lp.add_signal_handler(sig, move || {
            println!("signal {sig}: closing the server");
            srv.close();
            handle.stop();
        })?;
    }
    if self_test {
        let at = server.local_addr().expect("an IP address");
        lp.create_task(async move {
            let (mut r, w) = tulip::net::open_connection(at).await?;
            w.write(b"ping\n");
            println!("echoed {:?}", String::from_utf8_lossy(&r.readline().await?));
            tulip::signal::raise(SIGTERM).map_err(std::io::Error::other)?;
            Ok::<_, tulip::net::Error>(())
        })?;
    }
    lp.run_forever()?;
    // Connections still open: cancel their handlers (as `asyncio.run` cancels what is
    // left), so that `wait_closed`, which waits for them, returns.
    tulip::cancel_all_tasks(&lp);
    lp.run_until_complete(server.wait_closed())?;
    // Closing the loop removes its signal handlers (and their handles on the loop).
    lp.close()?;
    println!("server closed");
    Ok(())
}
