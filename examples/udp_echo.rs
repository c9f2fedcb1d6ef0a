//! asyncio's UDP echo: a `DatagramProtocol` server and a client, in one program.
//!
//! ```python
//! class EchoServerProtocol:
//!     def connection_made(self, transport): self.transport = transport
//!     def datagram_received(self, data, addr): self.transport.sendto(data, addr)
//! transport, protocol = await loop.create_datagram_endpoint(
//!     EchoServerProtocol, local_addr=('127.0.0.1', 9999))
//! ```
//!
//! `cargo run --example udp_echo [ADDR]` (default 127.0.0.1:0, any free port) starts
//! the server, sends it three datagrams from a client socket and prints the echoes.
use std::net::SocketAddr;

use tulip::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport, UdpSocket};

struct EchoServerProtocol {
    transport: Option<DatagramTransport>,
}

impl DatagramProtocol for EchoServerProtocol {
    fn connection_made(&mut self, transport: DatagramTransport) {
        self.transport = Some(transport);
    }

    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        println!("Received {:?} from {addr}", String::from_utf8_lossy(data));
        if let Some(t) = &self.transport {
            t.sendto(data, Some(addr));
        }
    }
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let local: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string())
        .parse()?;
    tulip::run(async move {
        let (transport, _protocol) =
            create_datagram_endpoint(|| EchoServerProtocol { transport: None }, Some(local), None)
                .await?;
        let server = transport
            .get_extra_info("sockname")
            .and_then(|a| a.as_inet())
            .expect("a UDP endpoint has an address");
        println!("Serving on {server}");
        let client = UdpSocket::bind("127.0.0.1:0").await?;
        client.connect(server).await?;
        let mut buf = [0u8; 1024];
        for message in ["Hello", "World", "!"] {
            client.send(message.as_bytes()).await?;
            let n = client.recv(&mut buf).await?;
            println!("Echoed: {:?}", String::from_utf8_lossy(&buf[..n]));
        }
        transport.close();
        Ok::<_, tulip::net::Error>(())
    })?;
    Ok(())
}
