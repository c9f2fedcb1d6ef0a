//! A tokio-only crate inside a tulip loop, through `async-compat`.
//!
//! Code written for tokio (`tokio::net`, `tokio::time`, and crates built on them)
//! looks for a tokio runtime in thread-local context and panics without one
//! ("there is no reactor running"). `async_compat::Compat` supplies one while it
//! polls the future it wraps: a small tokio runtime on a thread of its own drives
//! tokio's I/O and timers, and the future runs in the tulip task.
//!
//! The trap: the tokio future must be *built* inside the `Compat` scope.
//! `Compat::new(tokio::time::sleep(d))` calls `sleep` — which needs the runtime —
//! before `Compat` exists, and panics; `Compat::new(async { tokio::time::sleep(d).await })`
//! builds it on its first poll, inside.
//!
//! Run: `cargo run -p tulip-ecosystem --example tokio_compat`

use std::time::Duration;

use async_compat::Compat;

/// Echo over tokio's TCP types, with a tokio timer, all inside one `Compat` scope.
pub async fn tokio_echo() -> std::io::Result<Vec<u8>> {
    Compat::new(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = async move {
            let (mut s, _) = listener.accept().await?;
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await?;
            s.write_all(&buf).await?;
            Ok::<_, std::io::Error>(())
        };
        let client = async move {
            let mut c = tokio::net::TcpStream::connect(addr).await?;
            tokio::time::sleep(Duration::from_millis(5)).await;
            c.write_all(b"tokio").await?;
            let mut back = vec![0u8; 5];
            c.read_exact(&mut back).await?;
            Ok::<_, std::io::Error>(back)
        };
        let (served, back) = futures::join!(server, client);
        served?;
        back
    })
    .await
}

#[allow(dead_code)] // also compiled into tests/tokio_compat.rs
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let back = tulip::run(async {
        // A tulip task and tulip's sleep beside the tokio code.
        let echo = tulip::create_task(async { Ok::<_, tulip::Error>(tokio_echo().await?) })?;
        tulip::sleep(Duration::from_millis(1)).await?;
        echo.await
    })?;
    println!(
        "echoed {:?} over tokio::net inside a tulip loop",
        String::from_utf8(back)?
    );
    Ok(())
}
