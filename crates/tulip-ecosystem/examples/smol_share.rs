//! smol-ecosystem I/O inside a tulip loop, on one reactor.
//!
//! With the `async-io` feature a loop can park in async-io's reactor
//! (`ReactorKind::AsyncIo`): `async_io::Async<T>` and `async_io::Timer` (and the
//! crates built on them: async-process, async-fs, async-net...) then run on the
//! loop's own thread beside tulip's sockets, with no second reactor.
//!
//! Run: `cargo run -p tulip-ecosystem --example smol_share --features async-io`

use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use futures::{AsyncReadExt, AsyncWriteExt};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = tulip::executors::local::Builder::new()
        .reactor(tulip::ReactorKind::AsyncIo)
        .build()?;
    let out = lp.run_until_complete(async {
        // async-io's socket type, echoed by a tulip task.
        let (a, b) = UnixStream::pair()?;
        let (mut a, mut b) = (Async::new(a)?, Async::new(b)?);
        let echo = tulip::create_task(async move {
            let mut buf = [0u8; 5];
            b.read_exact(&mut buf).await?;
            b.write_all(&buf).await?;
            Ok::<_, tulip::Error>(())
        })?;
        a.write_all(b"hello").await?;
        let mut back = [0u8; 5];
        a.read_exact(&mut back).await?;
        echo.await?;

        // async-io's timer and tulip's sleep, side by side on the same reactor.
        let start = Instant::now();
        Timer::after(Duration::from_millis(20)).await;
        tulip::sleep(Duration::from_millis(20)).await?;
        Ok::<_, tulip::Error>((back, start.elapsed()))
    })?;
    println!(
        "echoed {:?} over Async<UnixStream>; Timer + sleep took {} ms (>= 40)",
        std::str::from_utf8(&out.0)?,
        out.1.as_millis()
    );
    assert_eq!(&out.0, b"hello");
    assert!(out.1 >= Duration::from_millis(40));
    lp.close()?;
    Ok(())
}
