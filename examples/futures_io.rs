//! futures-io combinators on tulip's streams (docs/ecosystem.md): an echo server
//! written with `futures::io::copy`, a client reading lines with `lines()`, a stream
//! forwarded into a queue's `Sink`, and `reunite` handing back buffered bytes.
//!
//! Run: `cargo run --example futures_io`
use futures::io::{AsyncBufReadExt, AsyncWriteExt};
use futures::{SinkExt, StreamExt};
use tulip::net::{open_connection, start_server, Error, UnixStream};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tulip::run(async {
        // A server whose handler is one combinator: copy what it reads back out.
        let server = start_server(
            |r, mut w| async move {
                // StreamReader is AsyncRead, StreamWriter AsyncWrite.
                let _ = futures::io::copy(r, &mut w).await;
                // AsyncWriteExt::close (not the inherent close): close, then wait_closed.
                let _ = AsyncWriteExt::close(&mut w).await;
            },
            "127.0.0.1:0",
        )
        .await?;

        let (r, mut w) = open_connection(server.local_addr().unwrap()).await?;
        w.write_all(b"one\ntwo\nthree\n").await?; // AsyncWrite keeps the water marks
        w.flush().await?; // flush: every byte handed to the socket
        let mut lines = r.lines(); // StreamReader: AsyncBufRead over its own buffer
        let mut got = Vec::new();
        while got.len() < 3 {
            got.push(lines.next().await.unwrap()?);
        }
        println!("echoed lines: {got:?}");

        // A stream forwarded into a bounded queue: the forward waits for the reader.
        let q = tulip::Queue::new(2);
        let consumer = tulip::create_task({
            let q = q.clone();
            async move { Ok::<_, Error>(q.stream().collect::<Vec<u32>>().await) }
        })?;
        let mut sink = q.sink();
        let sent = futures::stream::iter((1..=5).map(Ok))
            .forward(&mut sink)
            .await;
        sent.and(sink.close().await).map_err(tulip::Error::from)?;
        q.shutdown(false);
        println!("through the queue: {:?}", consumer.await?);

        // Leaving asyncio's streams for the raw socket keeps the buffered bytes.
        let (a, mut b) = UnixStream::pair()?;
        let (mut r, w) = a.into_streams();
        b.write_all(b"header\nbody").await?;
        let header = r.readline().await?;
        let (_raw, buffered): (UnixStream, Vec<u8>) = r.reunite(w)?;
        let header = String::from_utf8_lossy(&header);
        println!(
            "{header:?}, then {} byte(s) the reader had buffered",
            buffered.len()
        );

        server.close();
        Ok::<_, Error>(())
    })?;
    Ok(())
}
