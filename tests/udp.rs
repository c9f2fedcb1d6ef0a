//! UDP on every executor: datagrams both ways, connected mode, the datagram
//! endpoint with its protocol.
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Factory;
use tulip::net::{create_datagram_endpoint, DatagramProtocol, DatagramTransport, UdpSocket};

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
fn run<T>(
    new_loop: Factory,
    fut: impl Future<Output = Result<T, tulip::net::Error>>,
) -> Result<T, tulip::net::Error> {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(fut);
    lp.close().unwrap();
    out
}

fn send_to_and_recv_from(new_loop: Factory) {
    run(new_loop, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        for i in 0..50u8 {
            a.send_to(&[i; 100], ba).await.unwrap();
        }
        let mut buf = [0u8; 200];
        for _ in 0..50 {
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((n, from), (100, aa));
        }
        Ok(())
    })
    .unwrap();
}

fn connected_mode_send_recv(new_loop: Factory) {
    run(new_loop, async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        a.send(b"ping").await.unwrap();
        let mut buf = [0u8; 16];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        b.send(b"pong").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"pong");
        Ok(())
    })
    .unwrap();
}

/// A cancelled `recv_from` returns `Cancelled` and the next datagram is still there.
fn cancelled_recv_loses_no_datagram(new_loop: Factory) {
    run(new_loop, async {
        let b = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let b2 = b.clone();
        let t = tulip::create_task(async move {
            let mut buf = [0u8; 8];
            b2.recv_from(&mut buf).await.map(|_| ())
        })
        .unwrap();
        tulip::sleep(Duration::from_millis(10)).await.unwrap();
        let t_ref = t.task_ref();
        t.cancel();
        // recv_from returned the cancel and the body passed it on: the task is cancelled.
        assert!(t.await.unwrap_err().is_cancelled());
        assert!(t_ref.cancelled());
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.send_to(b"later", b.local_addr().unwrap()).await.unwrap();
        let mut buf = [0u8; 8];
        let (n, _) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"later");
        Ok(())
    })
    .unwrap();
}

struct EchoProto {
    t: Option<DatagramTransport>,
    log: Arc<Mutex<Vec<String>>>,
    lost: tulip::Promise<()>,
}

impl DatagramProtocol for EchoProto {
    fn connection_made(&mut self, t: DatagramTransport) {
        self.log.lock().unwrap().push("made".into());
        self.t = Some(t);
    }
    fn datagram_received(&mut self, data: &[u8], addr: SocketAddr) {
        let mut reply = b"echo: ".to_vec();
        reply.extend_from_slice(data);
        self.t.as_ref().unwrap().sendto(&reply, Some(addr));
    }
    fn connection_lost(&mut self, exc: Option<std::io::Error>) {
        self.log
            .lock()
            .unwrap()
            .push(format!("lost {}", exc.is_some()));
        self.lost.set_result(()).unwrap();
    }
}

fn datagram_endpoint_echoes_and_closes(new_loop: Factory) {
    run(new_loop, async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l2 = log.clone();
        let lost = tulip::Promise::new();
        let lost2 = lost.clone();
        let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let (t, _proto) = create_datagram_endpoint(
            move || EchoProto {
                t: None,
                log: l2,
                lost: lost2,
            },
            Some(local),
            None,
        )
        .await
        .unwrap();
        let server = t.get_extra_info("sockname").unwrap().as_inet().unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut buf = [0u8; 64];
        for i in 0..10 {
            let msg = format!("msg {i}");
            client.send_to(msg.as_bytes(), server).await.unwrap();
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, server);
            assert_eq!(&buf[..n], format!("echo: {msg}").as_bytes());
        }
        t.close();
        assert!(t.is_closing());
        lost.await.unwrap();
        assert_eq!(*log.lock().unwrap(), ["made", "lost false"]);
        Ok(())
    })
    .unwrap();
}

per_executor!(
    send_to_and_recv_from,
    connected_mode_send_recv,
    cancelled_recv_loses_no_datagram,
    datagram_endpoint_echoes_and_closes,
);
