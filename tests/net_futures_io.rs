//! tulip's streams and the `futures::io` world, on every executor: asyncio's reader and
//! writer over any byte stream (`streams_from_io`, `from_async_read`,
//! `from_async_write`).
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::time::Duration;

use common::{within, Factory};
use tulip::net::{streams_from_io, Error, StreamReader, StreamWriter, UnixStream};

/// How long any scenario may take (a hang bound, not a timing figure).
const BOUND: Duration = Duration::from_secs(60);

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
fn run<T>(new_loop: Factory, fut: impl Future<Output = Result<T, Error>>) -> T {
    within(BOUND, || {
        let lp = new_loop().unwrap();
        let out = lp.run_until_complete(fut);
        lp.close().unwrap();
        out.unwrap()
    })
}

/// Byte `i` of a test stream: not periodic over any small power of two.
fn pattern(i: usize, seed: u8) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 9) ^ seed as usize) as u8
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| pattern(i, seed)).collect()
}

/// 1 MiB each way through reader/writer pairs made by `streams_from_io` over both
/// ends of a socket pair, in 64 KiB pieces with `drain`; `write_eof` ends each
/// direction; every byte checked.
fn streams_from_io_carry_a_mebibyte_each_way(new_loop: Factory) {
    const TOTAL: usize = 1 << 20;
    run(new_loop, async {
        let (a, b) = UnixStream::pair()?;
        let (ra, wa) = streams_from_io(a);
        let (rb, wb) = streams_from_io(b);
        async fn send(w: StreamWriter, data: Vec<u8>) -> Result<(), Error> {
            for piece in data.chunks(64 * 1024) {
                w.write(piece);
                w.drain().await?;
            }
            w.write_eof();
            Ok(())
        }
        async fn recv(mut r: StreamReader) -> Result<Vec<u8>, Error> {
            r.read_to_end().await
        }
        let sa = tulip::create_task(send(wa.clone(), payload(TOTAL, 1)))?;
        let sb = tulip::create_task(send(wb.clone(), payload(TOTAL, 2)))?;
        let got_b = tulip::create_task(recv(rb))?;
        let got_a = recv(ra).await?;
        sa.await?;
        sb.await?;
        assert!(got_a == payload(TOTAL, 2), "a received other bytes");
        assert!(got_b.await? == payload(TOTAL, 1), "b received other bytes");
        for w in [wa, wb] {
            assert!(w.get_extra_info("peername").is_none());
            w.close();
            w.wait_closed().await?;
        }
        Ok(())
    })
}

/// A writer over an `AsyncWrite`: `write` only buffers (the flusher writes), the
/// buffer above the high-water mark makes `drain` wait until the peer reads, and the
/// water marks bound the buffer as on a socket.
fn async_write_writer_respects_water_marks(new_loop: Factory) {
    const PIECE: usize = 256 * 1024;
    const PIECES: usize = 16;
    run(new_loop, async {
        let (a, b) = UnixStream::pair()?;
        let w = StreamWriter::from_async_write(a);
        let r = StreamReader::from_async_read(b, tulip::net::DEFAULT_LIMIT);
        let (high, low) = w.write_buffer_limits();
        assert_eq!((high, low), (64 * 1024, 16 * 1024));
        let reader = tulip::create_task(async move {
            let mut r = r;
            r.read_to_end().await
        })?;
        let mut max_seen = 0;
        for i in 0..PIECES {
            w.write(&payload(PIECE, i as u8));
            // Nothing is written before the flusher runs: the whole piece is queued.
            max_seen = max_seen.max(w.write_buffer_size());
            w.drain().await?;
            assert!(
                w.write_buffer_size() <= low,
                "drain returned above the low-water mark"
            );
        }
        w.close();
        w.wait_closed().await?;
        let got = reader.await?;
        let want: Vec<u8> = (0..PIECES).flat_map(|i| payload(PIECE, i as u8)).collect();
        assert_eq!(got.len(), want.len());
        assert!(got == want, "bytes differ");
        assert!(max_seen >= PIECE, "write wrote at once: {max_seen}");
        assert!(max_seen <= low + PIECE, "buffer reached {max_seen}");
        Ok(())
    })
}

/// `write_eof` over an `AsyncWrite` is its `poll_close` after the buffer: the peer
/// reads the data then end of stream, and can still answer on the other direction.
fn async_write_write_eof_half_closes(new_loop: Factory) {
    run(new_loop, async {
        let (a, b) = UnixStream::pair()?;
        let (ra, wa) = streams_from_io(a);
        let (mut rb, wb) = streams_from_io(b);
        wa.write(b"question");
        wa.write_eof();
        assert!(wa.can_write_eof());
        assert_eq!(rb.read_to_end().await?, b"question");
        assert!(rb.at_eof());
        wb.write(b"answer");
        wb.close();
        wb.wait_closed().await?;
        let mut ra = ra;
        assert_eq!(ra.read_to_end().await?, b"answer");
        wa.close();
        wa.wait_closed().await?;
        Ok(())
    })
}

/// A write end whose peer is gone: the error surfaces in `wait_closed` and `drain`,
/// and later writes are dropped, as on a socket.
fn async_write_error_surfaces(new_loop: Factory) {
    run(new_loop, async {
        let (a, b) = UnixStream::pair()?;
        drop(b);
        let w = StreamWriter::from_async_write(a);
        w.write(b"nobody reads this");
        w.close();
        let e = w.wait_closed().await.unwrap_err();
        assert_eq!(e.io_kind(), Some(ErrorKind::BrokenPipe), "{e}");
        assert_eq!(
            w.drain().await.unwrap_err().io_kind(),
            Some(ErrorKind::BrokenPipe)
        );
        assert!(w.is_closing());
        w.write(b"dropped");
        assert_eq!(w.write_buffer_size(), 0);
        Ok(())
    })
}

per_executor!(
    streams_from_io_carry_a_mebibyte_each_way,
    async_write_writer_respects_water_marks,
    async_write_write_eof_half_closes,
    async_write_error_surfaces,
);
