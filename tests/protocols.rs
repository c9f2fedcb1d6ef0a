//! Transports and protocols on every executor: callback order, flow control
//! (pause/resume writing and reading), close and abort.
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Factory, Log};
use tulip::net::{create_connection, create_server, Protocol, Transport};
use tulip::Promise;

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

/// Echoes what it reads; logs its callbacks.
struct Echo {
    t: Option<Transport>,
    log: Log,
}

impl Protocol for Echo {
    fn connection_made(&mut self, t: Transport) {
        self.log.push("server made");
        self.t = Some(t);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.t.as_ref().unwrap().write(data);
    }
    fn eof_received(&mut self) -> bool {
        self.log.push("server eof");
        false
    }
    fn connection_lost(&mut self, exc: Option<std::io::Error>) {
        self.log.push(format!("server lost {}", exc.is_some()));
    }
}

/// Collects what it reads; resolves `done` when the connection is lost.
struct Collect {
    got: Vec<u8>,
    log: Log,
    done: Promise<Vec<u8>>,
    lost_with_error: Option<bool>,
}

impl Collect {
    fn new(log: Log, done: Promise<Vec<u8>>) -> Collect {
        Collect {
            got: Vec::new(),
            log,
            done,
            lost_with_error: None,
        }
    }
}

impl Protocol for Collect {
    fn connection_made(&mut self, _t: Transport) {
        self.log.push("client made");
    }
    fn data_received(&mut self, data: &[u8]) {
        self.got.extend_from_slice(data);
    }
    fn eof_received(&mut self) -> bool {
        self.log.push("client eof");
        false
    }
    fn connection_lost(&mut self, exc: Option<std::io::Error>) {
        self.log.push(format!("client lost {}", exc.is_some()));
        self.lost_with_error = Some(exc.is_some());
        let _ = self.done.set_result(std::mem::take(&mut self.got));
    }
}

fn echo_protocol_callback_order(new_loop: Factory) {
    run(new_loop, async {
        let log = Log::default();
        let slog = log.clone();
        let server = create_server(
            move || Echo {
                t: None,
                log: slog.clone(),
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let done = Promise::new();
        let (clog, d) = (log.clone(), done.clone());
        let (t, proto) =
            create_connection(move || Collect::new(clog, d), server.local_addr().unwrap())
                .await
                .unwrap();
        // connection_made ran before create_connection returned. (On a parallel
        // executor the server side may already have run its own connection_made.)
        let early = log.take();
        assert!(early.iter().any(|e| e == "client made"), "{early:?}");
        let server_made_early = early.iter().any(|e| e == "server made");
        let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in payload.chunks(1000) {
            t.write(chunk);
        }
        t.write_eof();
        let echoed = done.await.unwrap();
        assert_eq!(echoed.len(), payload.len());
        assert!(echoed == payload, "echoed bytes differ");
        assert_eq!(proto.lock().unwrap().lost_with_error, Some(false));
        server.close();
        server.wait_closed().await.unwrap();
        let mut events = log.take();
        if server_made_early {
            events.push("server made".into());
        }
        events.sort();
        assert_eq!(
            events,
            [
                "client eof",
                "client lost false",
                "server eof",
                "server lost false",
                "server made"
            ]
        );
        Ok(())
    })
    .unwrap();
}

/// Reads nothing until told; records its transport for the test.
struct Stalled {
    t: Arc<Mutex<Option<Transport>>>,
}

impl Protocol for Stalled {
    fn connection_made(&mut self, t: Transport) {
        t.pause_reading();
        *self.t.lock().unwrap() = Some(t);
    }
    fn data_received(&mut self, _data: &[u8]) {}
}

/// Logs flow-control callbacks.
struct Flow {
    log: Log,
    paused: Promise<()>,
    resumed: Promise<()>,
}

impl Protocol for Flow {
    fn data_received(&mut self, _data: &[u8]) {}
    fn pause_writing(&mut self) {
        self.log.push("pause");
        let _ = self.paused.set_result(());
    }
    fn resume_writing(&mut self) {
        self.log.push("resume");
        let _ = self.resumed.set_result(());
    }
}

/// A peer that does not read makes the writer's buffer cross the high-water mark
/// (`pause_writing`); once the peer reads again it drains to the low-water mark
/// (`resume_writing`).
fn pause_and_resume_writing(new_loop: Factory) {
    run(new_loop, async {
        let server_t = Arc::new(Mutex::new(None));
        let st = server_t.clone();
        let server = create_server(move || Stalled { t: st.clone() }, "127.0.0.1:0")
            .await
            .unwrap();
        let log = Log::default();
        let (paused, resumed) = (Promise::new(), Promise::new());
        let (l2, p2, r2) = (log.clone(), paused.clone(), resumed.clone());
        let (t, _p) = create_connection(
            move || Flow {
                log: l2,
                paused: p2,
                resumed: r2,
            },
            server.local_addr().unwrap(),
        )
        .await
        .unwrap();
        t.set_write_buffer_limits(64 * 1024, Some(16 * 1024));
        assert_eq!(t.get_write_buffer_limits(), (16 * 1024, 64 * 1024));
        let chunk = vec![0u8; 64 * 1024];
        // Kernel buffers take a few MiB on loopback; then our buffer fills.
        let mut written = 0;
        while t.get_write_buffer_size() <= 64 * 1024 && written < 256 * 1024 * 1024 {
            t.write(&chunk);
            written += chunk.len();
            tulip::yield_now().await.unwrap();
        }
        assert!(t.get_write_buffer_size() > 64 * 1024);
        paused.await.unwrap();
        assert_eq!(log.take(), ["pause"]);
        // The client can fill the kernel's buffers before the server's accept loop
        // has run (the connection waits in the backlog): wait for its transport.
        let mut srv = None;
        for _ in 0..10_000 {
            srv = server_t.lock().unwrap().clone();
            if srv.is_some() {
                break;
            }
            tulip::sleep(Duration::from_millis(1)).await.unwrap();
        }
        let srv = srv.expect("the server accepted the connection");
        assert!(!srv.is_reading());
        srv.resume_reading();
        resumed.await.unwrap();
        assert_eq!(log.take(), ["resume"]);
        assert!(t.get_write_buffer_size() <= 16 * 1024);
        t.close();
        srv.close();
        server.close();
        server.wait_closed().await.unwrap();
        Ok(())
    })
    .unwrap();
}

/// `abort` resets the connection at once: the peer's protocol sees the connection
/// lost with an error; the aborting side sees it lost without one.
fn abort_resets_the_peer(new_loop: Factory) {
    run(new_loop, async {
        let server_lost: Promise<Vec<u8>> = Promise::new();
        let sl = server_lost.clone();
        let server = create_server(
            move || Collect::new(Log::default(), sl.clone()),
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let done = Promise::new();
        let d = done.clone();
        let (t, proto) = create_connection(
            move || Collect::new(Log::default(), d),
            server.local_addr().unwrap(),
        )
        .await
        .unwrap();
        t.write(b"partial");
        tulip::sleep(Duration::from_millis(10)).await.unwrap();
        t.abort();
        assert!(t.is_closing());
        done.await.unwrap();
        assert_eq!(proto.lock().unwrap().lost_with_error, Some(false));
        // The server saw the bytes, then a reset.
        assert_eq!(server_lost.await.unwrap(), b"partial");
        server.close();
        server.wait_closed().await.unwrap();
        Ok(())
    })
    .unwrap();
}

per_executor!(
    echo_protocol_callback_order,
    pause_and_resume_writing,
    abort_resets_the_peer,
);
