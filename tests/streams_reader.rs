//! asyncio's StreamReader on every executor: readline, readuntil, readexactly, read,
//! limits, EOF, cancellation.
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::time::Duration;

use common::{Factory, Log};
use tulip::net::{open_connection, start_server, Error, StreamReader, StreamWriter};

// The model of asyncio's StreamReader rules, shared with the fuzz target; it names
// the crate `crate::tulip_net`.
use tulip::net as tulip_net;
#[path = "../fuzz/src/model.rs"]
mod model;

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
fn run<T>(new_loop: Factory, fut: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(fut);
    lp.close().unwrap();
    out
}

/// A server that sends `payload`, then closes; the client's reader.
async fn reader_of(payload: &'static [u8]) -> (StreamReader, StreamWriter, tulip::net::Server) {
    let server = start_server(
        move |_r, w| async move {
            w.write(payload);
            w.close();
            w.wait_closed().await.unwrap();
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let (r, w) = open_connection(server.local_addr().unwrap()).await.unwrap();
    (r, w, server)
}

fn readline_splits_lines_and_ends_with_empty(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"HTTP/1.0 200 OK\r\nA: b\r\n\r\ntail").await;
        assert_eq!(r.readline().await.unwrap(), b"HTTP/1.0 200 OK\r\n");
        assert_eq!(r.readline().await.unwrap(), b"A: b\r\n");
        assert_eq!(r.readline().await.unwrap(), b"\r\n");
        assert!(!r.at_eof());
        assert_eq!(r.readline().await.unwrap(), b"tail");
        assert!(r.at_eof());
        assert_eq!(r.readline().await.unwrap(), b"");
        Ok(())
    })
    .unwrap();
}

/// asyncio 3.11: readline past the limit raises ValueError (`LineTooLong`) and
/// discards the line, newline included; the next line is intact
/// (tests/asyncio_ref/streams_reader_fed.py, case A, over a socket).
fn readline_past_limit_discards_the_line(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"0123456789abcdefghij\nnext\n").await;
        r.set_limit(8);
        match r.readline().await {
            Err(Error::LineTooLong {
                separator_found,
                discarded,
                limit,
            }) => {
                assert!(separator_found);
                assert_eq!((discarded, limit), (21, 8));
            }
            other => panic!("expected LineTooLong, got {other:?}"),
        }
        assert_eq!(r.readline().await?, b"next\n");
        Ok(())
    })
    .unwrap();
}

/// readuntil past the limit is LimitOverrun and keeps the data: it can still be
/// read in pieces.
fn readuntil_past_limit_is_limit_overrun_and_data_stays(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"0123456789abcdefghij\nnext\n").await;
        r.set_limit(8);
        match r.readuntil(b"\n").await {
            Err(Error::LimitOverrun { consumed, limit }) => {
                assert_eq!((consumed, limit), (20, 8));
            }
            other => panic!("expected LimitOverrun, got {other:?}"),
        }
        assert_eq!(r.readexactly(10).await?, b"0123456789");
        r.set_limit(64);
        assert_eq!(r.readline().await?, b"abcdefghij\n");
        assert_eq!(r.readline().await?, b"next\n");
        Ok(())
    })
    .unwrap();
}

fn readexactly_at_eof_is_incomplete_read_with_partial(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"abc").await;
        match r.readexactly(5).await {
            Err(Error::IncompleteRead { partial, expected }) => {
                assert_eq!(partial, b"abc");
                assert_eq!(expected, Some(5));
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        assert!(r.at_eof());
        Ok(())
    })
    .unwrap();
}

fn readuntil_separator_and_incomplete(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"one||two||three").await;
        assert_eq!(r.readuntil(b"||").await.unwrap(), b"one||");
        assert_eq!(r.readuntil(b"||").await.unwrap(), b"two||");
        match r.readuntil(b"||").await {
            Err(Error::IncompleteRead {
                partial,
                expected: None,
            }) => {
                assert_eq!(partial, b"three")
            }
            other => panic!("expected IncompleteRead, got {other:?}"),
        }
        Ok(())
    })
    .unwrap();
}

fn read_n_and_read_to_end(new_loop: Factory) {
    run(new_loop, async {
        let (mut r, _w, _s) = reader_of(b"0123456789").await;
        assert_eq!(r.read(3).await.unwrap(), b"012");
        assert_eq!(r.read_to_end().await.unwrap(), b"3456789");
        assert_eq!(r.read(10).await.unwrap(), b"");
        assert!(r.at_eof());
        Ok(())
    })
    .unwrap();
}

/// A readline cancelled while waiting for the end of the line keeps what it had
/// buffered: the next readline returns the whole line.
fn cancelled_readline_loses_nothing(new_loop: Factory) {
    run(new_loop, async {
        let (tx, rx) = futures::channel::oneshot::channel::<StreamWriter>();
        let tx = std::sync::Mutex::new(Some(tx));
        let server = start_server(
            move |_r, w| {
                let tx = tx.lock().unwrap().take();
                async move {
                    w.write(b"first half, ");
                    let _ = tx.unwrap().send(w);
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (r, _w) = open_connection(server.local_addr().unwrap()).await.unwrap();
        let server_w = rx.await.unwrap();
        let t = tulip::create_task(async move {
            let mut r = r;
            let res = r.readline().await;
            Ok::<_, Error>((res.map_err(|e| e.is_cancelled()), r))
        })
        .unwrap();
        tulip::sleep(Duration::from_millis(20)).await.unwrap();
        t.cancel();
        let (res, mut r) = t.await?;
        assert_eq!(res, Err(true));
        server_w.write(b"second half\n");
        assert_eq!(r.readline().await?, b"first half, second half\n");
        server.close();
        Ok(())
    })
    .unwrap();
}

per_executor!(
    readline_splits_lines_and_ends_with_empty,
    readline_past_limit_discards_the_line,
    readuntil_past_limit_is_limit_overrun_and_data_stays,
    readexactly_at_eof_is_incomplete_read_with_partial,
    readuntil_separator_and_incomplete,
    read_n_and_read_to_end,
    cancelled_readline_loses_nothing,
    fed_reader_trace_matches_asyncio,
    readexactly_huge_n_over_a_socket_is_incomplete_read,
    readexactly_huge_n_on_a_fed_reader_is_incomplete_read,
);

// Behaviour that depends on the order in which two tasks run: on the threaded
// executor the feeding task may hand over several pieces before the reader looks,
// and then asyncio's answer differs too (it depends on what is buffered when the
// reader looks), so these run on the local executor only.
#[cfg(feature = "local")]
mod local_only {
    #[test]
    fn fed_pieces_interleaved_with_a_waiting_readline() {
        super::fed_pieces_interleaved_with_a_waiting_readline(
            tulip::executors::local::new_event_loop,
        );
    }
}

/// Python's `repr` of a bytes object (printable ASCII, `\n`, `\r`, `\t`, `\xNN`).
fn py(b: &[u8]) -> String {
    let mut s = String::from("b'");
    for &c in b {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'\'' => s.push_str("\\'"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('\'');
    s
}

/// asyncio's exception name and text for an error of a read, as the .py prints it.
fn py_err(e: &Error) -> String {
    match e {
        Error::LineTooLong { .. } => format!("ValueError {e}"),
        Error::LimitOverrun { consumed, .. } => format!("LimitOverrunError {consumed}"),
        Error::IncompleteRead { partial, expected } => format!(
            "IncompleteReadError {} {}",
            py(partial),
            expected.map_or("None".to_string(), |n| n.to_string())
        ),
        Error::Io(io) if io.kind() == ErrorKind::ConnectionReset => {
            format!("ConnectionResetError {io}")
        }
        other => format!("{other:?}"),
    }
}

/// What `python3 tests/asyncio_ref/streams_reader_fed.py` printed (CPython 3.11.7),
/// without case D (see `fed_pieces_interleaved_with_a_waiting_readline`).
const FED_TRACE: &str = r"A readline ValueError Separator is found, but chunk is longer than limit
A buffered 5
A readline b'next\n'
A2 readline b'01234567\n'
A2 readline ValueError Separator is found, but chunk is longer than limit
A2 readline b'z\n'
B readline ValueError Separator is not found, and chunk exceed the limit
B buffered 0
B readline b'tail\n'
B readline b'next\n'
C readuntil LimitOverrunError 10
C buffered 11
C readexactly b'0123456789\n'
E readline b'abc'
E readline b''
E at_eof True
E readexactly IncompleteReadError b'' 1
F read ConnectionResetError reset by test
F readline ConnectionResetError reset by test
F readexactly ConnectionResetError reset by test
F readuntil ConnectionResetError reset by test
F buffered 5
G set_exception
G readexactly ConnectionResetError reset by test";

fn reset_by_test() -> Error {
    Error::Io(std::io::Error::new(
        ErrorKind::ConnectionReset,
        "reset by test",
    ))
}

/// A reader built on its own and fed by hand: readline over the limit (separator
/// found past it / not found), readuntil over the limit, feed_eof, set_exception
/// (synchronously and waking a waiting read through a `Feeder`) — the exact trace
/// CPython 3.11 prints for tests/asyncio_ref/streams_reader_fed.py.
fn fed_reader_trace_matches_asyncio(new_loop: Factory) {
    let trace = run(new_loop, async {
        let log = Log::default();
        let line = |tag: &str, r: Result<Vec<u8>, Error>| match r {
            Ok(v) => format!("{tag} {}", py(&v)),
            Err(e) => format!("{tag} {}", py_err(&e)),
        };
        // A
        let mut r = StreamReader::new(8);
        r.feed_data(b"0123456789abcdefghij\nnext\n");
        log.push(line("A readline", r.readline().await));
        log.push(format!("A buffered {}", r.buffered()));
        log.push(line("A readline", r.readline().await));
        // A2
        let mut r = StreamReader::new(8);
        r.feed_data(b"01234567\n012345678\nz\n");
        for _ in 0..3 {
            log.push(line("A2 readline", r.readline().await));
        }
        // B
        let mut r = StreamReader::new(8);
        r.feed_data(b"0123456789abcdefghij");
        log.push(line("B readline", r.readline().await));
        log.push(format!("B buffered {}", r.buffered()));
        r.feed_data(b"tail\nnext\n");
        log.push(line("B readline", r.readline().await));
        log.push(line("B readline", r.readline().await));
        // C
        let mut r = StreamReader::new(8);
        r.feed_data(b"0123456789\n");
        log.push(line("C readuntil", r.readuntil(b"\n").await));
        log.push(format!("C buffered {}", r.buffered()));
        log.push(line("C readexactly", r.readexactly(11).await));
        // E
        let mut r = StreamReader::new(8);
        r.feed_data(b"abc");
        r.feed_eof();
        log.push(line("E readline", r.readline().await));
        log.push(line("E readline", r.readline().await));
        log.push(format!(
            "E at_eof {}",
            if r.at_eof() { "True" } else { "False" }
        ));
        log.push(line("E readexactly", r.readexactly(1).await));
        // F
        let mut r = StreamReader::new(8);
        r.feed_data(b"data\n");
        r.set_exception(reset_by_test());
        log.push(line("F read", r.read(2).await));
        log.push(line("F readline", r.readline().await));
        log.push(line("F readexactly", r.readexactly(1).await));
        log.push(line("F readuntil", r.readuntil(b"\n").await));
        log.push(format!("F buffered {}", r.buffered()));
        // G: the read waits in another task; a Feeder feeds it and sets the exception.
        let mut r = StreamReader::new(8);
        let feeder = r.feeder().unwrap();
        let log2 = log.clone();
        let t = tulip::create_task(async move {
            let res = r.readexactly(4).await;
            log2.push(line("G readexactly", res));
            Ok::<_, Error>(())
        })?;
        tulip::yield_now().await?;
        feeder.feed_data(b"ab");
        tulip::yield_now().await?;
        log.push("G set_exception");
        feeder.set_exception(reset_by_test());
        t.await?;
        Ok(log.take())
    })
    .unwrap();
    let expected: Vec<&str> = FED_TRACE.lines().collect();
    assert_eq!(trace, expected);
}

/// Case D of tests/asyncio_ref/streams_reader_fed.py: a readline waits while
/// another task feeds the line in pieces, yielding between them. The overrun is
/// seen once 9 bytes (more than the limit of 8) are buffered; everything buffered
/// then is discarded, and what is fed afterwards is the next line.
#[cfg(feature = "local")]
fn fed_pieces_interleaved_with_a_waiting_readline(new_loop: Factory) {
    let trace = run(new_loop, async {
        let log = Log::default();
        let mut r = StreamReader::new(8);
        let feeder = r.feeder().unwrap();
        let log2 = log.clone();
        let t = tulip::create_task(async move {
            match r.readline().await {
                Ok(l) => log2.push(format!("D readline {}", py(&l))),
                Err(e) => log2.push(format!("D readline {}", py_err(&e))),
            }
            let l = r.readline().await?;
            log2.push(format!("D readline {}", py(&l)));
            Ok::<_, Error>(())
        })?;
        for piece in [&b"0123"[..], b"4567", b"89ab", b"cd\nxy\n"] {
            tulip::yield_now().await?;
            log.push(format!("D feed {}", py(piece)));
            feeder.feed_data(piece);
        }
        t.await?;
        Ok(log.take())
    })
    .unwrap();
    assert_eq!(
        trace,
        [
            "D feed b'0123'",
            "D feed b'4567'",
            "D feed b'89ab'",
            "D readline ValueError Separator is not found, and chunk exceed the limit",
            "D feed b'cd\\nxy\\n'",
            "D readline b'cd\\n'",
        ]
    );
}

/// The process's resident set size, in KiB.
fn vm_rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// RSS may grow by this much at most while a huge readexactly runs (other tests of
/// this binary run meanwhile; reserving n up front would be a terabyte, or abort).
const RSS_SLACK_KIB: usize = 16 * 1024;

fn payload_20k() -> Vec<u8> {
    (0..20 * 1024).map(|i| (i % 251) as u8).collect()
}

/// Issue 15 #2 (tests/asyncio_ref/streams_readexactly_huge.py): readexactly(2^40)
/// and readexactly(usize::MAX) with 20 KB sent then EOF give IncompleteRead with the
/// 20 KB as partial — no panic, no abort — and the process's RSS grows by less than
/// 16 MB.
fn readexactly_huge_n_over_a_socket_is_incomplete_read(new_loop: Factory) {
    run(new_loop, async {
        let payload = payload_20k();
        let p2 = payload.clone();
        let server = start_server(
            move |_r, w| {
                let p = p2.clone();
                async move {
                    w.write(&p);
                    w.close();
                }
            },
            "127.0.0.1:0",
        )
        .await?;
        let before = vm_rss_kib();
        for n in [1usize << 40, usize::MAX] {
            let (mut r, _w) = open_connection(server.local_addr().unwrap()).await?;
            match r.readexactly(n).await {
                Err(Error::IncompleteRead { partial, expected }) => {
                    assert_eq!(partial.len(), payload.len());
                    assert!(partial == payload);
                    assert_eq!(expected, Some(n));
                }
                other => panic!("expected IncompleteRead, got {:?}", other.map(|v| v.len())),
            }
            assert!(r.at_eof());
        }
        let after = vm_rss_kib();
        assert!(
            after < before + RSS_SLACK_KIB,
            "RSS grew from {before} KiB to {after} KiB"
        );
        server.close();
        Ok(())
    })
    .unwrap();
}

/// The same on a reader fed by hand.
fn readexactly_huge_n_on_a_fed_reader_is_incomplete_read(new_loop: Factory) {
    run(new_loop, async {
        let payload = payload_20k();
        let before = vm_rss_kib();
        for n in [1usize << 40, usize::MAX] {
            let mut r = StreamReader::new(1 << 16);
            r.feed_data(&payload);
            r.feed_eof();
            match r.readexactly(n).await {
                Err(Error::IncompleteRead { partial, expected }) => {
                    assert!(partial == payload);
                    assert_eq!(expected, Some(n));
                }
                other => panic!("expected IncompleteRead, got {:?}", other.map(|v| v.len())),
            }
        }
        let after = vm_rss_kib();
        assert!(
            after < before + RSS_SLACK_KIB,
            "RSS grew from {before} KiB to {after} KiB"
        );
        Ok(())
    })
    .unwrap();
}

/// A small deterministic generator (xorshift64*), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

fn random_ops(rng: &mut Rng, len: usize) -> Vec<model::Op> {
    use model::Op;
    (0..len)
        .map(|_| match rng.below(100) {
            0..=34 => {
                let n = rng.below(24);
                Op::Feed((0..n).map(|_| b"ab\n|"[rng.below(4)]).collect())
            }
            35..=36 => Op::FeedEof,
            37 => Op::SetException,
            38..=47 => Op::Read(rng.below(30)),
            48..=50 => Op::ReadToEnd,
            51..=62 => Op::ReadExactly(rng.below(30)),
            63..=84 => Op::ReadLine,
            _ => Op::ReadUntil(if rng.below(2) == 0 {
                b"|".to_vec()
            } else {
                b"a|".to_vec()
            }),
        })
        .collect()
}

/// 500 seeded random runs of 200 operations (feed, feed_eof, set_exception, read,
/// read_to_end, readexactly, readline, readuntil) on a fed reader with limits 1–16,
/// each step checked against the model of asyncio 3.11's rules (answer, buffered
/// count, at_eof; fuzz/src/model.rs). No loop is needed: every call is polled once,
/// and a call the model says would wait must be pending. The fuzz target
/// (fuzz/fuzz_targets/stream_reader.rs) explores the same space without bounds.
#[test]
fn fed_reader_matches_the_model_on_random_operations() {
    for seed in 1..=500u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let limit = rng.below(16) + 1;
        let ops = random_ops(&mut rng, 200);
        if let Err(e) = model::check(limit, &ops) {
            panic!("seed {seed}, limit {limit}: {e}");
        }
    }
}
