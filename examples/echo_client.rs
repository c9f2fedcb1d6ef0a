//! asyncio's TCP echo client (the docs' `open_connection` example).
//!
//! ```python
//! reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//! writer.write(message.encode()); await writer.drain()
//! data = await reader.read(100)
//! writer.close(); await writer.wait_closed()
//! ```
//!
//! `cargo run --example echo_client [ADDR] [MESSAGE]` (default 127.0.0.1:8888,
//! "Hello World!"); start `echo_server` first.
use tulip::net::open_connection;

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8888".to_string());
    let message = args.next().unwrap_or_else(|| "Hello World!".to_string());
    tulip::run(async move {
        let (mut reader, writer) = open_connection(addr.as_str()).await?;
        println!("Send: {message:?}");
        writer.write(message.as_bytes());
        writer.drain().await?;
        let data = reader.readexactly(message.len()).await?;
        println!("Received: {:?}", String::from_utf8_lossy(&data));
        println!("Close the connection");
        writer.close();
        writer.wait_closed().await?;
        Ok::<_, tulip::net::Error>(())
    })?;
    Ok(())
}
