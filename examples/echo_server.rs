//! asyncio's TCP echo server (the docs' `start_server` example).
//!
//! ```python
//! async def handle_echo(reader, writer):
//!     data = await reader.read(100)
//!     writer.write(data); await writer.drain()
//!     writer.close(); await writer.wait_closed()
//! server = await asyncio.start_server(handle_echo, '127.0.0.1', 8888)
//! async with server: await server.serve_forever()
//! ```
//!
//! `cargo run --example echo_server [ADDR]` (default 127.0.0.1:8888) echoes every
//! connection until the client closes it; try it with `echo_client` or `nc`.
use tulip::net::{start_server, StreamReader, StreamWriter};

async fn handle_echo(mut reader: StreamReader, writer: StreamWriter) {
    let peer = writer
        .get_extra_info("peername")
        .map_or_else(|| "?".into(), |a| a.to_string());
    println!("{peer} connected");
    loop {
        match reader.read(64 * 1024).await {
            Ok(data) if data.is_empty() => break,
            Ok(data) => {
                writer.write(&data);
                if writer.drain().await.is_err() {
                    break;
                }
            }
            Err(e) => {
                println!("{peer}: {e}");
                break;
            }
        }
    }
    println!("{peer} closed");
    writer.close();
    let _ = writer.wait_closed().await;
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8888".to_string());
    tulip::run(async move {
        let server = start_server(handle_echo, addr.as_str()).await?;
        for a in server.sockets() {
            println!("Serving on {a}");
        }
        server.serve_forever().await?;
        Ok::<_, tulip::net::Error>(())
    })?;
    Ok(())
}
