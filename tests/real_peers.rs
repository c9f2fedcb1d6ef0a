//! tulip against programs nobody here wrote: CPython's asyncio as client and server,
//! and the `wget` example against `python3 -m http.server`. (curl and python3's
//! http.client against tulip-web are in `web_peers.rs`.) Each test skips, saying so,
//! only when `python3` is absent.
#![cfg(feature = "net")]
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{within, Factory};
use tulip::net::{open_connection, start_server};

#[allow(dead_code)]
#[path = "../examples/wget.rs"]
mod wget;

fn have_python() -> bool {
    let ok = Command::new("python3").arg("--version").output().is_ok();
    if !ok {
        println!("skipping: python3 is not installed");
    }
    ok
}

const ASYNCIO_CLIENT: &str = r#"
import asyncio, sys
async def main(port):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    for i in range(100):
        writer.write(b'line %d\n' % i)
    await writer.drain()
    got = [await reader.readline() for _ in range(100)]
    writer.write_eof()
    rest = await reader.read()
    writer.close()
    await writer.wait_closed()
    ok = got == [b'LINE %d\n' % i for i in range(100)] and rest == b'BYE\n'
    print('ok' if ok else 'mismatch %r %r' % (got[:3], rest))
asyncio.run(main(int(sys.argv[1])))
"#;

/// CPython's asyncio client writes 100 lines, half-closes, reads the answers.
fn python_asyncio_client_against_tulip_server(new_loop: Factory) {
    if !have_python() {
        return;
    }
    let lp = new_loop().unwrap();
    within(Duration::from_secs(60), || {
        lp.run_until_complete(async {
            let server = start_server(
                |mut r, w| async move {
                    loop {
                        let line = r.readline().await.unwrap();
                        if line.is_empty() {
                            break;
                        }
                        w.write(&line.to_ascii_uppercase());
                    }
                    w.write(b"BYE\n");
                    w.close();
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let port = server.local_addr().unwrap().port().to_string();
            let out = tulip::core::to_thread(move || {
                Command::new("python3")
                    .args(["-c", ASYNCIO_CLIENT, &port])
                    .output()
            })
            .await
            .unwrap()
            .unwrap();
            assert!(
                out.status.success(),
                "python failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
            server.close();
            server.wait_closed().await
        })
        .unwrap()
    });
    lp.close().unwrap();
}

const ASYNCIO_SERVER: &str = r#"
import asyncio
async def handle(reader, writer):
    data = await reader.readuntil(b'\n')
    writer.write(b'python got ' + data)
    await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"#;

/// Kills the child process on drop (the test started it; only it is touched).
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `python3 args…` and reads the port it prints on its first line (or finds
/// in it, for `http.server`'s banner).
fn spawn_python(args: &[&str]) -> (Reap, u16) {
    let mut child = Command::new("python3")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Reap(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse::<u16>().ok())
        .find(|&p| p > 1023)
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (child, port)
}

/// tulip's client against CPython's asyncio server.
fn tulip_client_against_python_asyncio_server(new_loop: Factory) {
    if !have_python() {
        return;
    }
    let (_python, port) = spawn_python(&["-u", "-c", ASYNCIO_SERVER]);
    let lp = new_loop().unwrap();
    within(Duration::from_secs(30), || {
        lp.run_until_complete(async move {
            let (mut r, w) = open_connection(("127.0.0.1", port)).await.unwrap();
            w.write(b"hello from tulip\n");
            w.drain().await.unwrap();
            assert_eq!(
                r.read_to_end().await.unwrap(),
                b"python got hello from tulip\n"
            );
            w.close();
            Ok::<_, tulip::net::Error>(())
        })
        .unwrap()
    });
    lp.close().unwrap();
}

/// The seed's `wget` example against `python3 -m http.server`.
#[test]
fn wget_example_against_python_http_server() {
    if !have_python() {
        return;
    }
    let (_python, port) = spawn_python(&["-u", "-m", "http.server", "0", "--bind", "127.0.0.1"]);
    let targets = vec![
        format!("127.0.0.1:{port}/"),
        format!("127.0.0.1:{port}/nope"),
    ];
    let headers = within(Duration::from_secs(30), || {
        wget::fetch_all(&targets).unwrap()
    });
    assert_eq!(headers.len(), 2);
    assert!(
        headers[0][0].starts_with("HTTP/1.0 200"),
        "{:?}",
        headers[0]
    );
    assert!(headers[0]
        .iter()
        .any(|h| h.starts_with("Server: SimpleHTTP")));
    assert!(
        headers[1][0].starts_with("HTTP/1.0 404"),
        "{:?}",
        headers[1]
    );
}

per_executor!(
    python_asyncio_client_against_tulip_server,
    tulip_client_against_python_asyncio_server,
);
