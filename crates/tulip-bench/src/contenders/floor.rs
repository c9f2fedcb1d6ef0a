//! The floor: a hand-written, single-threaded, edge-triggered epoll loop with no
//! runtime. Non-blocking sockets, `send`/`recv` called directly, readiness
//! tracked per socket so that a round trip costs one `send` and one `recv` on
//! each side plus a share of an `epoll_wait`. Each tulip network figure can be
//! read as a share of this.
//!
//! Set-up (bind, connect, accept) uses `std::net` in blocking mode before the
//! clock starts; only the echo traffic runs through the loop.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

use crate::workloads::tcp_echo::{figures, loopback, Outcome, Stop, SERVER_BUF};
use crate::workloads::{Metrics, Params};

pub fn run(p: &Params) -> Result<Metrics, String> {
    let stop = Stop::After(p.tcp_duration);
    let small = echo(p.tcp_connections, p.tcp_small_bytes, stop)
        .map_err(|e| format!("floor small: {e}"))?;
    let large = echo(p.tcp_connections, p.tcp_large_bytes, stop)
        .map_err(|e| format!("floor large: {e}"))?;
    Ok(figures(&small, &large, p.tcp_large_bytes))
}

pub fn run_fixed(p: &Params) -> Result<Metrics, String> {
    let stop = Stop::Count(p.tcp_fixed_round_trips);
    let o = echo(p.tcp_connections, p.tcp_small_bytes, stop)
        .map_err(|e| format!("floor fixed: {e}"))?;
    Ok(vec![(
        "tcp_echo_fixed.round_trips".into(),
        o.round_trips as f64,
    )])
}

/// One socket in the loop and what it knows about its readiness.
struct Conn {
    sock: Option<TcpStream>,
    role: Role,
    readable: bool,
    writable: bool,
}

enum Role {
    /// Sends its message, then waits for all of it to come back into its buffer.
    /// Each client has its own message and buffer, as each client task of the
    /// runtimes does: one shared pair would stay in the CPU's cache and make the
    /// floor's large echoes look faster than the same work is.
    Client {
        msg: Vec<u8>,
        buf: Vec<u8>,
        sent: usize,
        got: usize,
        done: u64,
    },
    /// Echoes whatever arrives: `buf[written..len]` is still to be sent.
    Server {
        buf: Vec<u8>,
        len: usize,
        written: usize,
    },
}

fn echo(conns: usize, size: usize, stop: Stop) -> io::Result<Outcome> {
    let listener = TcpListener::bind(loopback())?;
    let addr = listener.local_addr()?;
    let epoll = Epoll::new()?;
    let mut table = Vec::with_capacity(conns * 2);
    for _ in 0..conns {
        let c = TcpStream::connect(addr)?;
        let (s, _) = listener.accept()?;
        for (sock, role) in [
            (
                c,
                Role::Client {
                    msg: vec![0x5au8; size],
                    buf: vec![0u8; SERVER_BUF],
                    sent: 0,
                    got: 0,
                    done: 0,
                },
            ),
            (
                s,
                Role::Server {
                    buf: vec![0u8; SERVER_BUF],
                    len: 0,
                    written: 0,
                },
            ),
        ] {
            sock.set_nodelay(true)?;
            sock.set_nonblocking(true)?;
            epoll.add(sock.as_raw_fd(), table.len() as u64)?;
            table.push(Conn {
                sock: Some(sock),
                role,
                readable: false,
                writable: true,
            });
        }
    }

    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    let mut active = conns;
    let mut round_trips = 0;
    let start = Instant::now();
    let finished = |done: u64| match stop {
        Stop::After(d) => start.elapsed() >= d,
        Stop::Count(n) => done >= n,
    };
    // Kick off every client's first message.
    for c in table.iter_mut() {
        if matches!(c.role, Role::Client { .. }) {
            let closed = drive(c, &finished, &mut round_trips)?;
            active -= usize::from(closed);
        }
    }
    while active > 0 {
        let n = epoll.wait(&mut events)?;
        for ev in &events[..n] {
            let c = &mut table[ev.u64 as usize];
            if c.sock.is_none() {
                continue;
            }
            let bits = ev.events as i32;
            c.readable |= bits & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) != 0;
            c.writable |= bits & libc::EPOLLOUT != 0;
            let is_client = matches!(c.role, Role::Client { .. });
            let closed = drive(c, &finished, &mut round_trips)?;
            if is_client && closed {
                active -= 1;
            }
        }
    }
    let elapsed = start.elapsed();
    Ok(Outcome {
        round_trips,
        elapsed,
    })
}

/// Moves one socket as far as its known readiness allows. Returns true when it closed.
fn drive(c: &mut Conn, finished: &impl Fn(u64) -> bool, round_trips: &mut u64) -> io::Result<bool> {
    let Some(sock) = &c.sock else {
        return Ok(true);
    };
    let fd = sock.as_raw_fd();
    loop {
        match &mut c.role {
            Role::Client {
                msg,
                buf,
                sent,
                got,
                done,
            } => {
                if *sent < msg.len() {
                    if !c.writable {
                        return Ok(false);
                    }
                    match send(fd, &msg[*sent..])? {
                        Some(n) => {
                            *sent += n;
                            // A short write means the send buffer is full.
                            c.writable = *sent == msg.len();
                        }
                        None => c.writable = false,
                    }
                } else {
                    if !c.readable {
                        return Ok(false);
                    }
                    match recv(fd, buf)? {
                        Some(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                        Some(n) => {
                            *got += n;
                            // The buffer is larger than any echo, so a short read drained the socket.
                            c.readable = n == buf.len();
                        }
                        None => c.readable = false,
                    }
                    if *got >= msg.len() {
                        *done += 1;
                        *round_trips += 1;
                        (*sent, *got) = (0, 0);
                        if finished(*done) {
                            c.sock = None;
                            return Ok(true);
                        }
                    }
                }
            }
            Role::Server { buf, len, written } => {
                if *written < *len {
                    if !c.writable {
                        return Ok(false);
                    }
                    match send(fd, &buf[*written..*len])? {
                        Some(n) => {
                            *written += n;
                            c.writable = *written == *len;
                        }
                        None => c.writable = false,
                    }
                } else {
                    if !c.readable {
                        return Ok(false);
                    }
                    match recv(fd, buf)? {
                        Some(0) => {
                            c.sock = None;
                            return Ok(true);
                        }
                        Some(n) => {
                            (*len, *written) = (n, 0);
                            c.readable = n == buf.len();
                        }
                        None => c.readable = false,
                    }
                }
            }
        }
    }
}

/// `send(2)`; `None` when it would block.
fn send(fd: RawFd, data: &[u8]) -> io::Result<Option<usize>> {
    // SAFETY: `data` is a valid, initialised slice for the whole call and `len`
    // is its length; `fd` is an open socket owned by a live `TcpStream`.
    let r = unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), libc::MSG_NOSIGNAL) };
    would_block(r)
}

/// `recv(2)`; `None` when it would block, `Some(0)` at end of stream.
fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<Option<usize>> {
    // SAFETY: `buf` is a valid, exclusively borrowed slice of `buf.len()` bytes
    // that the kernel may write into; `fd` is an open socket owned by a live `TcpStream`.
    let r = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    would_block(r)
}

fn would_block(r: isize) -> io::Result<Option<usize>> {
    if r >= 0 {
        return Ok(Some(r as usize));
    }
    let e = io::Error::last_os_error();
    if e.kind() == io::ErrorKind::WouldBlock {
        Ok(None)
    } else {
        Err(e)
    }
}

/// An epoll instance in edge-triggered mode.
struct Epoll(OwnedFd);

impl Epoll {
    fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 takes no pointers; a negative result is checked below.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by epoll_create1, is valid and owned by nobody else.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: token,
        };
        // SAFETY: both fds are open; `ev` is a valid epoll_event that lives across the call.
        let r = unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn wait(&self, events: &mut [libc::epoll_event]) -> io::Result<usize> {
        loop {
            // SAFETY: `events` is a valid, exclusively borrowed buffer of `events.len()`
            // entries for the kernel to fill; the epoll fd is open.
            let n = unsafe {
                libc::epoll_wait(
                    self.0.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    -1,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}
