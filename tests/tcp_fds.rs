//! No descriptor leaks: 1,000 stream connections opened and closed (client and server
//! side) leave the process with no more open descriptors than before.
#![cfg(feature = "net")]
mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::{within, Factory};
use tulip::net::{open_connection, start_server, TcpListener, TcpStream};

/// Scenarios in this binary count the process's descriptors: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn thousand_connections_leak_no_descriptors(new_loop: Factory) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lp = new_loop().unwrap();
    within(Duration::from_secs(60), || {
        lp.run_until_complete(async {
            // Warm up anything lazily created (resolver, pools) before counting.
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            drop(TcpStream::connect(l.local_addr().unwrap()).await.unwrap());
            drop(l);
            let before = common::open_fds();
            let server = start_server(
                |mut r, w| async move {
                    let line = r.readline().await.unwrap_or_default();
                    w.write(&line);
                    w.close();
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let addr = server.local_addr().unwrap();
            for i in 0..1000 {
                let (mut r, w) = open_connection(addr).await.unwrap();
                w.write(format!("{i}\n").as_bytes());
                assert_eq!(r.readline().await.unwrap(), format!("{i}\n").as_bytes());
                w.close();
                w.wait_closed().await.unwrap();
            }
            server.close();
            server.wait_closed().await.unwrap();
            // On the threaded loop the server's last handler may still be closing
            // its socket on a worker: wait for the count to come back (bounded).
            let start = std::time::Instant::now();
            while common::open_fds() > before && start.elapsed() < Duration::from_secs(10) {
                tulip::sleep(Duration::from_millis(1)).await?;
            }
            let after = common::open_fds();
            assert!(
                after <= before,
                "descriptors: {before} before, {after} after"
            );
            Ok::<_, tulip::net::Error>(())
        })
        .unwrap()
    });
    lp.close().unwrap();
}

per_executor!(thousand_connections_leak_no_descriptors);
