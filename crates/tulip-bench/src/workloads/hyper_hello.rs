//! `hyper_hello`: hyper's HTTP/1 hello world served by the contender, driven by
//! blocking keep-alive clients on their own threads; the figure is the *server's*
//! CPU time per request.
//!
//! Server CPU = the process's CPU time (`getrusage(RUSAGE_SELF)`) over the measured
//! phase minus what the client threads and the driver thread spent in it (each reads
//! its own `RUSAGE_THREAD`). What is left is every thread of the runtime: the loop
//! or its workers, and any helper thread it keeps.
//!
//! Each client thread opens one connection, sends `hyper_warmup` requests, waits at
//! a barrier, then sends `hyper_requests / hyper_connections` requests one after the
//! other (keep-alive, no pipelining), reading every answer fully and checking it.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use super::{Metrics, Params};
use crate::runtime::HyperRuntime;

/// The body every contender's service answers with.
pub const HELLO: &[u8] = b"Hello, World!";

/// The request the clients send.
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// How long a client waits for an answer before the run is declared failed.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

pub fn run<R: HyperRuntime>(rt: &R, p: &Params) -> Result<Metrics, String> {
    measure("hyper_hello", p, |bound, conns, _done| {
        rt.block_on(serve::<R>(conns, bound))
            .map_err(|e| format!("hyper_hello server: {e}"))
    })
}

/// Drives `server` with the clients and names the figures `NAME.req_per_s` etc.
/// The server answers `GET /` with [`HELLO`]; it is handed where to send its
/// address, how many connections the clients open, and a message that comes once
/// they all closed theirs (for a server that does not count them itself).
pub fn measure(
    name: &str,
    p: &Params,
    server: impl FnOnce(mpsc::Sender<SocketAddr>, usize, mpsc::Receiver<()>) -> Result<(), String>,
) -> Result<Metrics, String> {
    measure_with(name, p, ServerCpu::ThisProcess, server)
}

/// Whose CPU time is the server's.
#[derive(Clone, Copy, Debug)]
pub enum ServerCpu {
    /// This process's, minus the client threads' and the driver's.
    ThisProcess,
    /// Another process's (a Python peer), read from `/proc/PID/stat`.
    Process(u32),
}

/// [`measure`], with the server's CPU time taken from `whose`.
pub fn measure_with(
    name: &str,
    p: &Params,
    whose: ServerCpu,
    server: impl FnOnce(mpsc::Sender<SocketAddr>, usize, mpsc::Receiver<()>) -> Result<(), String>,
) -> Result<Metrics, String> {
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let (conns, per_conn, warmup) = (
        p.hyper_connections,
        p.hyper_requests / p.hyper_connections as u64,
        p.hyper_warmup,
    );
    let driver = std::thread::spawn(move || {
        let m = drive(rx, conns, per_conn, warmup, whose);
        let _ = done_tx.send(());
        m
    });
    let served = server(tx, conns, done_rx);
    let measured = driver
        .join()
        .map_err(|_| format!("{name}: client driver panicked"))?;
    served?;
    let m = measured.map_err(|e| format!("{name} clients: {e}"))?;
    let requests = per_conn * conns as u64;
    let us_per_req = |d: Duration| d.as_secs_f64() * 1e6 / requests as f64;
    Ok(vec![
        (
            format!("{name}.server_cpu_us_per_req"),
            us_per_req(m.server.total()),
        ),
        (
            format!("{name}.server_sys_us_per_req"),
            us_per_req(m.server.sys),
        ),
        (
            format!("{name}.req_per_s"),
            requests as f64 / m.wall.as_secs_f64(),
        ),
    ])
}

/// Accepts `conns` connections, serves each on its own task, returns when all closed.
async fn serve<R: HyperRuntime>(conns: usize, bound: mpsc::Sender<SocketAddr>) -> io::Result<()> {
    let (listener, addr) = R::bind(super::tcp_echo::loopback()).await?;
    bound
        .send(addr)
        .map_err(|_| io::Error::other("client driver is gone"))?;
    let mut sessions = Vec::with_capacity(conns);
    for _ in 0..conns {
        let s = R::accept(&listener).await?;
        sessions.push(R::spawn(R::serve_hello(s)));
    }
    for s in sessions {
        s.await?;
    }
    Ok(())
}

struct Measured {
    server: Cpu,
    wall: Duration,
}

/// CPU time, split as `getrusage` reports it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    pub user: Duration,
    pub sys: Duration,
}

impl Cpu {
    pub fn total(self) -> Duration {
        self.user + self.sys
    }

    /// `self - other`, each part saturating at zero.
    pub fn minus(self, other: Cpu) -> Cpu {
        Cpu {
            user: self.user.saturating_sub(other.user),
            sys: self.sys.saturating_sub(other.sys),
        }
    }

    fn plus(self, other: Cpu) -> Cpu {
        Cpu {
            user: self.user + other.user,
            sys: self.sys + other.sys,
        }
    }
}

fn drive(
    bound: mpsc::Receiver<SocketAddr>,
    conns: usize,
    per_conn: u64,
    warmup: u64,
    whose: ServerCpu,
) -> io::Result<Measured> {
    let addr = bound
        .recv_timeout(CLIENT_TIMEOUT)
        .map_err(|_| io::Error::other("server never bound"))?;
    let start = Arc::new(Barrier::new(conns + 1));
    let end = Arc::new(Barrier::new(conns + 1));
    let clients: Vec<_> = (0..conns)
        .map(|_| {
            let (start, end) = (start.clone(), end.clone());
            std::thread::spawn(move || client(addr, warmup, per_conn, &start, &end))
        })
        .collect();
    let cpu = || match whose {
        ServerCpu::ThisProcess => Ok(process_cpu()),
        ServerCpu::Process(pid) => other_process_cpu(pid),
    };
    let me0 = thread_cpu();
    start.wait();
    let (cpu0, wall0) = (cpu(), Instant::now());
    end.wait();
    let (cpu1, wall) = (cpu(), wall0.elapsed());
    let mut spent = thread_cpu().minus(me0);
    for c in clients {
        spent = spent.plus(
            c.join()
                .map_err(|_| io::Error::other("client panicked"))??,
        );
    }
    let used = cpu1?.minus(cpu0?);
    Ok(Measured {
        server: match whose {
            ServerCpu::ThisProcess => used.minus(spent),
            ServerCpu::Process(_) => used,
        },
        wall,
    })
}

/// One keep-alive connection; returns the CPU time this thread spent between the
/// barriers. A failure still passes both barriers, so the driver never hangs.
fn client(
    addr: SocketAddr,
    warmup: u64,
    n: u64,
    start: &Barrier,
    end: &Barrier,
) -> io::Result<Cpu> {
    let conn = TcpStream::connect(addr).and_then(|s| {
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(CLIENT_TIMEOUT))?;
        Ok(s)
    });
    let mut buf = vec![0u8; 4096];
    let warmed = conn.and_then(|mut s| {
        for _ in 0..warmup {
            request(&mut s, &mut buf)?;
        }
        Ok(s)
    });
    start.wait();
    let t0 = thread_cpu();
    let measured = warmed.and_then(|mut s| {
        for _ in 0..n {
            request(&mut s, &mut buf)?;
        }
        Ok(s)
    });
    let spent = thread_cpu().minus(t0);
    end.wait();
    drop(measured?);
    Ok(spent)
}

/// Sends one request and reads its whole answer, checking status and body.
fn request(s: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
    s.write_all(REQUEST)?;
    let mut got = 0;
    loop {
        let n = s.read(&mut buf[got..])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        got += n;
        let Some(head_end) = buf[..got].windows(4).position(|w| w == b"\r\n\r\n") else {
            if got == buf.len() {
                return Err(io::Error::other("response head too large"));
            }
            continue;
        };
        let head = &buf[..head_end];
        if !head.starts_with(b"HTTP/1.1 200 OK\r\n") {
            return Err(io::Error::other(format!(
                "unexpected answer: {:?}",
                String::from_utf8_lossy(head)
            )));
        }
        let body_at = head_end + 4;
        if got >= body_at + HELLO.len() {
            if got != body_at + HELLO.len() || &buf[body_at..got] != HELLO {
                return Err(io::Error::other("unexpected body"));
            }
            return Ok(());
        }
    }
}

fn rusage(who: libc::c_int) -> Cpu {
    // SAFETY: `getrusage` writes into the zeroed struct we own; it has no other
    // effect. Zero is a valid bit pattern for `libc::rusage` (plain integers).
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut ru) != 0 {
            return Cpu::default();
        }
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Cpu {
        user: tv(ru.ru_utime),
        sys: tv(ru.ru_stime),
    }
}

/// CPU time (user + system) of process `pid`, from `/proc/PID/stat` (in clock
/// ticks, 10 ms here: the measured phase lasts seconds).
fn other_process_cpu(pid: u32) -> io::Result<Cpu> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces:
    // state is the 3rd field of the line, utime the 14th, stime the 15th.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::other("unreadable /proc stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| -> io::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other("unreadable /proc stat"))
    };
    // SAFETY: `sysconf` reads a configuration value; it has no other effect.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let of = |t: u64| Duration::from_nanos(t * 1_000_000_000 / hz);
    Ok(Cpu {
        user: of(ticks(11)?),
        sys: of(ticks(12)?),
    })
}

/// CPU time (user + system) of the whole process.
pub fn process_cpu() -> Cpu {
    rusage(libc::RUSAGE_SELF)
}

/// CPU time (user + system) of the calling thread.
pub fn thread_cpu() -> Cpu {
    rusage(libc::RUSAGE_THREAD)
}
