//! Seeds 001/002: fetch several sites' headers concurrently, from one thread.
//!
//! ```python
//! async def wget(host):
//!     print('wget %s...' % host)
//!     reader, writer = await asyncio.open_connection(host, 80)
//!     header = 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' % host
//!     writer.write(header.encode('utf-8'))
//!     await writer.drain()
//!     while True:
//!         line = await reader.readline()
//!         if line == b'\r\n':
//!             break
//!         print('%s header > %s' % (host, line.decode('utf-8').rstrip()))
//!     # Ignore the body, close the socket
//!     writer.close()
//! loop = asyncio.get_event_loop()
//! tasks = [wget(host) for host in ['www.sina.com.cn', 'www.sohu.com', 'www.163.com']]
//! loop.run_until_complete(asyncio.wait(tasks))
//! loop.close()
//! ```
//!
//! `cargo run --example wget -- www.example.com example.org:80/index.html` fetches
//! real sites. With no arguments it starts a small HTTP server on 127.0.0.1 (an
//! ephemeral port) and fetches three paths from it, so it runs without a network.
use tulip::net::open_connection;
use tulip::ReturnWhen;

async fn wget(host: String, port: u16, path: String) -> Result<Vec<String>, tulip::net::Error> {
    println!("wget {host}...");
    let mut headers = Vec::new();
    let (mut reader, writer) = open_connection((host.as_str(), port)).await?;
    let header = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
    writer.write(header.as_bytes());
    writer.drain().await?;
    loop {
        let line = reader.readline().await?;
        if line == b"\r\n" || line.is_empty() {
            break;
        }
        let line = String::from_utf8_lossy(&line).trim_end().to_string();
        println!("{host} header > {line}");
        headers.push(line);
    }
    // Ignore the body, close the socket
    writer.close();
    Ok(headers)
}

/// `HOST[:PORT][/PATH]` → (host, port, path).
fn parse_target(arg: &str) -> (String, u16, String) {
    let arg = arg.strip_prefix("http://").unwrap_or(arg);
    let (hostport, path) = match arg.find('/') {
        Some(i) => (&arg[..i], arg[i..].to_string()),
        None => (arg, "/".to_string()),
    };
    match hostport.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h.to_string(), p.parse().unwrap(), path),
        _ => (hostport.to_string(), 80, path),
    }
}

/// A tiny HTTP server for the offline run: answers every GET with a few headers.
async fn embedded_server() -> Result<tulip::net::Server, tulip::net::Error> {
    tulip::net::start_server(
        |mut reader, writer| async move {
            let Ok(request) = reader.readline().await else {
                return;
            };
            let path = String::from_utf8_lossy(&request)
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_string();
            while let Ok(line) = reader.readline().await {
                if line == b"\r\n" || line.is_empty() {
                    break;
                }
            }
            let body = format!("<h1>{path}</h1>\n");
            let response = format!(
                "HTTP/1.0 200 OK\r\nServer: tulip-embedded\r\nContent-Type: text/html\r\n\
                 Content-Length: {}\r\nX-Path: {path}\r\n\r\n{body}",
                body.len()
            );
            writer.write(response.as_bytes());
            writer.close();
        },
        ("127.0.0.1", 0),
    )
    .await
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    fetch_all(&args)?;
    Ok(())
}

/// Fetches every `HOST[:PORT][/PATH]` concurrently (the embedded server's three paths
/// when `args` is empty); returns each target's header lines, in argument order.
///
/// # Errors
/// The loop could not be created, or a fetch failed (after all of them ran).
pub fn fetch_all(args: &[String]) -> Result<Vec<Vec<String>>, Box<dyn std::error::Error>> {
    let lp = tulip::new_event_loop()?;
    tulip::set_event_loop(Some(lp.clone()));
    let server = if args.is_empty() {
        Some(lp.run_until_complete(embedded_server())?)
    } else {
        None
    };
    let targets: Vec<(String, u16, String)> = match &server {
        Some(s) => {
            let port = s.local_addr().expect("listening on 127.0.0.1").port();
            ["/", "/index.html", "/about"]
                .iter()
                .map(|p| ("127.0.0.1".to_string(), port, p.to_string()))
                .collect()
        }
        None => args.iter().map(|a| parse_target(a)).collect(),
    };
    let results = lp.run_until_complete(async {
        let mut tasks = Vec::new();
        for (host, port, path) in targets {
            tasks.push(tulip::create_task(wget(host, port, path))?);
        }
        let ids: Vec<u64> = tasks.iter().map(|t| t.id()).collect();
        let (mut done, _pending) = tulip::wait(tasks, ReturnWhen::AllCompleted).await?;
        done.sort_by_key(|t| ids.iter().position(|&id| id == t.id()));
        let mut results = Vec::new();
        for mut t in done {
            results.push(t.take_result().map_err(|e| e.to_string()));
        }
        if let Some(s) = &server {
            s.close();
            s.wait_closed().await?;
        }
        Ok::<_, tulip::net::Error>(results)
    })?;
    lp.close()?;
    tulip::set_event_loop(None);
    let mut headers = Vec::new();
    let mut failures = 0;
    for r in results {
        match r {
            Ok(h) => headers.push(h),
            Err(e) => {
                eprintln!("wget: {e}");
                failures += 1;
            }
        }
    }
    if failures == 0 {
        Ok(headers)
    } else {
        Err(format!("{failures} of the fetches failed").into())
    }
}
