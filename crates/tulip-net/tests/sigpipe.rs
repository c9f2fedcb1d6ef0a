//! Issue 15 #1: writing to a peer that has gone is an `Err(BrokenPipe)`, never a
//! SIGPIPE, whatever the process's SIGPIPE disposition.
//!
//! Rust programs start with SIGPIPE ignored, which hides the problem; programs that
//! embed tulip (or a C host) may have it at its default, which kills the process.
//! Each scenario re-runs this test binary as a child with `TULIP_SIGPIPE_CHILD` set;
//! the child restores SIGPIPE to `SIG_DFL`, writes to a connection whose peer has
//! closed until a write fails, prints `child: <error kind>` and exits normally. The
//! parent asserts that the child was not killed by signal 13 and saw `BrokenPipe`.
//!
//! Scenarios: TCP and Unix sockets, through the raw stream (`write_all`), the
//! `StreamWriter` (`write` + `drain`) and a protocol's `Transport`
//! (`connection_lost`), on both executors. The TCP peer closes after this side has
//! read its FIN: the first write then makes the peer answer with a reset, which in
//! `CLOSE_WAIT` the kernel reports as `EPIPE` on the next write (the Unix peer gives
//! `EPIPE` at once).
use std::io::ErrorKind;
use std::net::Shutdown;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tulip_core::EventLoop;
use tulip_net::{
    open_connection, open_unix_connection, start_server, start_unix_server, Error, Protocol,
    StreamReader, StreamWriter, TcpListener, TcpStream, Transport, UnixStream,
};

const CHILD_ENV: &str = "TULIP_SIGPIPE_CHILD";

type Factory = fn() -> tulip_core::Result<EventLoop>;

/// Evaluates the write `$write` (an `async` expression giving `Result<_, Error>`)
/// until it fails (at most 10 s, a pause between tries so the peer's reset can
/// arrive); gives the error.
macro_rules! write_until_error {
    ($write:expr) => {{
        let start = Instant::now();
        loop {
            if let Err(e) = $write {
                break e;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no write failed");
            tulip_core::sleep(Duration::from_millis(1)).await.unwrap();
        }
    }};
}

/// Reads until end of stream: the peer's FIN has arrived.
async fn read_eof(r: &mut StreamReader) {
    assert_eq!(r.read_to_end().await.unwrap(), b"");
}

async fn tcp_stream() -> Error {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
    let (peer, _) = l.accept().await.unwrap();
    drop(peer);
    let mut buf = [0u8; 8];
    assert_eq!(c.read(&mut buf).await.unwrap(), 0);
    write_until_error!(c.write_all(b"x").await)
}

async fn writer_until_error(w: &StreamWriter) -> Error {
    write_until_error!({
        w.write(b"x");
        w.drain().await
    })
}

async fn tcp_stream_writer() -> Error {
    let server = start_server(|_r, w| async move { w.close() }, "127.0.0.1:0")
        .await
        .unwrap();
    let (mut r, w) = open_connection(server.local_addr().unwrap()).await.unwrap();
    read_eof(&mut r).await;
    server.close();
    writer_until_error(&w).await
}

async fn unix_stream() -> Error {
    let (mut a, b) = UnixStream::pair().unwrap();
    drop(b);
    write_until_error!(a.write_all(b"x").await)
}

async fn unix_stream_writer() -> Error {
    let dir = std::env::temp_dir().join(format!("tulip-sigpipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sock");
    let _ = std::fs::remove_file(&path);
    let server = start_unix_server(|_r, w| async move { w.close() }, &path)
        .await
        .unwrap();
    let (mut r, w) = open_unix_connection(&path).await.unwrap();
    read_eof(&mut r).await;
    server.close();
    let e = writer_until_error(&w).await;
    let _ = std::fs::remove_dir_all(&dir);
    e
}

/// A protocol that keeps its transport and records `connection_lost`.
struct Keep {
    transport: Option<Transport>,
    eof: Arc<Mutex<bool>>,
    lost: Arc<Mutex<Option<Option<std::io::Error>>>>,
}

impl Protocol for Keep {
    fn connection_made(&mut self, t: Transport) {
        self.transport = Some(t);
    }
    fn data_received(&mut self, _data: &[u8]) {}
    fn eof_received(&mut self) -> bool {
        *self.eof.lock().unwrap() = true;
        true // keep the connection open for writing
    }
    fn connection_lost(&mut self, exc: Option<std::io::Error>) {
        *self.lost.lock().unwrap() = Some(exc);
    }
}

async fn tcp_transport() -> Error {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let eof = Arc::new(Mutex::new(false));
    let lost = Arc::new(Mutex::new(None));
    let (e2, l2) = (eof.clone(), lost.clone());
    let (t, _p) = tulip_net::create_connection(
        move || Keep {
            transport: None,
            eof: e2,
            lost: l2,
        },
        addr,
    )
    .await
    .unwrap();
    let (peer, _) = l.accept().await.unwrap();
    peer.shutdown(Shutdown::Both).unwrap();
    drop(peer);
    while !*eof.lock().unwrap() {
        tulip_core::sleep(Duration::from_millis(1)).await.unwrap();
    }
    write_until_error!({
        t.write(b"x");
        // Give the driver a turn to deliver connection_lost.
        tulip_core::sleep(Duration::from_millis(1)).await.unwrap();
        let lost = lost.lock().unwrap().take();
        match lost {
            Some(Some(e)) => Err(Error::Io(e)),
            Some(None) => panic!("connection_lost(None): the write error was lost"),
            None => Ok(()),
        }
    })
}

/// The child's side: SIGPIPE at its default action, then the scenario.
fn child(scenario: &str, new_loop: Factory) {
    // SAFETY: `signal` with `SIG_DFL` installs no handler code; this child process is
    // single-purpose and no other thread depends on SIGPIPE's disposition.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let lp = new_loop().unwrap();
    let err = lp
        .run_until_complete(async {
            let e = match scenario {
                "tcp_stream" => tcp_stream().await,
                "tcp_stream_writer" => tcp_stream_writer().await,
                "unix_stream" => unix_stream().await,
                "unix_stream_writer" => unix_stream_writer().await,
                "tcp_transport" => tcp_transport().await,
                other => panic!("unknown scenario {other}"),
            };
            Ok::<_, tulip_core::Error>(e)
        })
        .unwrap();
    lp.close().unwrap();
    println!("child: {:?} ({err})", err.io_kind());
}

/// The parent's side: runs `test` (this very test) in a child process.
fn parent(test: &str) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("child status: {:?}\n{stdout}", out.status);
    assert_eq!(
        out.status.signal(),
        None,
        "the child was killed by signal {:?} (13 is SIGPIPE)\nstdout: {stdout}\nstderr: {stderr}",
        out.status.signal()
    );
    assert!(
        out.status.success(),
        "child failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let expected = format!("child: {:?}", Some(ErrorKind::BrokenPipe));
    assert!(
        stdout.contains(&expected),
        "expected {expected:?}\nstdout: {stdout}"
    );
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[test]
                fn $name() {
                    if std::env::var_os(super::CHILD_ENV).is_some() {
                        super::child(stringify!($name), tulip_local::new_event_loop);
                    } else {
                        super::parent(concat!("local::", stringify!($name)));
                    }
                }
            )*
        }
        mod threaded {
            $(
                #[test]
                fn $name() {
                    if std::env::var_os(super::CHILD_ENV).is_some() {
                        super::child(stringify!($name), tulip_threaded::new_event_loop);
                    } else {
                        super::parent(concat!("threaded::", stringify!($name)));
                    }
                }
            )*
        }
    };
}

scenarios!(
    tcp_stream,
    tcp_stream_writer,
    unix_stream,
    unix_stream_writer,
    tcp_transport,
);
