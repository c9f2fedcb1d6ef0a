//! `tcp_echo`: an echo server and its clients in one process on 127.0.0.1.
//!
//! C connections each send a message and wait for the whole echo before sending
//! the next. Timed from the moment every connection is established.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Metrics, Params};
use crate::runtime::NetRuntime;

/// When a client stops sending.
#[derive(Clone, Copy, Debug)]
pub enum Stop {
    After(Duration),
    Count(u64),
}

/// Round trips completed and the time they took.
pub struct Outcome {
    pub round_trips: u64,
    pub elapsed: Duration,
}

/// Server-side read buffer: larger than any message, so a short read means "drained".
pub const SERVER_BUF: usize = 64 * 1024;

pub fn run<R: NetRuntime>(rt: &R, p: &Params) -> Result<Metrics, String> {
    let stop = Stop::After(p.tcp_duration);
    let conns = p.tcp_connections;
    let small = rt
        .block_on(echo::<R>(conns, p.tcp_small_bytes, stop))
        .map_err(|e| format!("tcp_echo small: {e}"))?;
    let large = rt
        .block_on(echo::<R>(conns, p.tcp_large_bytes, stop))
        .map_err(|e| format!("tcp_echo large: {e}"))?;
    Ok(figures(&small, &large, p.tcp_large_bytes))
}

/// Round trips/s for small messages; MB/s (echoed payload, one direction) for large ones.
pub fn figures(small: &Outcome, large: &Outcome, large_bytes: usize) -> Metrics {
    let per_s = |o: &Outcome| o.round_trips as f64 / o.elapsed.as_secs_f64();
    vec![
        ("tcp_echo.small_rt_per_s".into(), per_s(small)),
        (
            "tcp_echo.large_mb_per_s".into(),
            per_s(large) * large_bytes as f64 / 1e6,
        ),
    ]
}

/// A fixed number of small round trips per connection (for the strace run).
pub fn run_fixed<R: NetRuntime>(rt: &R, p: &Params) -> Result<Metrics, String> {
    let o = rt
        .block_on(echo::<R>(
            p.tcp_connections,
            p.tcp_small_bytes,
            Stop::Count(p.tcp_fixed_round_trips),
        ))
        .map_err(|e| format!("tcp_echo_fixed: {e}"))?;
    Ok(vec![(
        "tcp_echo_fixed.round_trips".into(),
        o.round_trips as f64,
    )])
}

pub fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

async fn echo<R: NetRuntime>(conns: usize, size: usize, stop: Stop) -> io::Result<Outcome> {
    let (listener, addr) = R::bind(loopback()).await?;
    let server = R::spawn(async move {
        let mut sessions = Vec::with_capacity(conns);
        for _ in 0..conns {
            let s = R::accept(&listener).await?;
            sessions.push(R::spawn(serve::<R>(s)));
        }
        for s in sessions {
            s.await?;
        }
        io::Result::Ok(())
    });
    let mut streams = Vec::with_capacity(conns);
    for _ in 0..conns {
        streams.push(R::connect(addr).await?);
    }
    let start = Instant::now();
    let clients: Vec<_> = streams
        .into_iter()
        .map(|s| R::spawn(client::<R>(s, size, start, stop)))
        .collect();
    let mut round_trips = 0;
    for c in clients {
        round_trips += c.await?;
    }
    let elapsed = start.elapsed();
    server.await?;
    Ok(Outcome {
        round_trips,
        elapsed,
    })
}

async fn serve<R: NetRuntime>(mut s: R::Stream) -> io::Result<()> {
    let mut buf = vec![0u8; SERVER_BUF];
    loop {
        let n = R::read(&mut s, &mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        R::write_all(&mut s, &buf[..n]).await?;
    }
}

async fn client<R: NetRuntime>(
    mut s: R::Stream,
    size: usize,
    start: Instant,
    stop: Stop,
) -> io::Result<u64> {
    let msg = vec![0x5au8; size];
    // Read into a buffer larger than the echo, as the server does: a short read
    // tells the runtime the socket is drained (the protocol never sends extra).
    let mut buf = vec![0u8; SERVER_BUF];
    let mut done = 0u64;
    loop {
        let finished = match stop {
            Stop::After(d) => start.elapsed() >= d,
            Stop::Count(n) => done >= n,
        };
        if finished {
            return Ok(done);
        }
        R::write_all(&mut s, &msg).await?;
        let mut got = 0;
        while got < size {
            let n = R::read(&mut s, &mut buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            got += n;
        }
        done += 1;
    }
}
