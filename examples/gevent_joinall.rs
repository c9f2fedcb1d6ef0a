//! Seed 003 §5.2: gevent's `spawn`/`joinall` with blocking calls made harmless.
//!
//! ```python
//! from gevent import monkey; monkey.patch_all()
//! def func(url, i):
//!     print(" Synergetic process %d Open it! " % i)
//!     res = requests.get(url=url, headers=headers)
//!     html = res.text
//!     print(" Synergetic process %d At the end of execution, the obtained response body size is: %d" % (i, len(html)))
//! start = time.time()
//! g_list = [gevent.spawn(func, urls[i], i) for i in range(len(urls))]
//! gevent.joinall(g_list)
//! print(time.time() - start)
//! ```
//!
//! `monkey.patch_all()` made `requests.get` cooperative by swapping the socket module.
//! tulip's answer is explicit: the blocking fetch runs through `to_thread`, so the loop
//! stays free while it waits. `gevent_joinall URL...` fetches plain-HTTP URLs; with no
//! arguments it serves five pages from a local server (each answer takes 300 ms), so
//! it runs with no network: the five fetches overlap, and the total is about 0.3 s,
//! not 1.5 s.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use tulip::coro::gevent;

/// `requests.get(url).text`, blocking, plain HTTP/1.0 only.
fn blocking_get(url: &str) -> std::io::Result<String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("only http:// URLs: {url}"),
        )
    })?;
    let (hostport, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let addr = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    };
    let host = hostport.split(':').next().unwrap_or(hostport);
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: tulip-gevent-example\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    Ok(text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, body)| body.to_string()))
}

async fn func(url: String, i: usize) -> tulip::Result<usize> {
    println!(" Synergetic process {i} Open it! ");
    let html = tulip::to_thread(move || blocking_get(&url)).await?;
    let size = match html {
        Ok(body) => body.len(),
        Err(e) => {
            println!(" Synergetic process {i} failed: {e}");
            return Ok(0);
        }
    };
    println!(" Synergetic process {i} At the end of execution, the obtained response body size is: {size}");
    Ok(size)
}

/// A local server: each connection gets a page of a different size after 300 ms.
fn local_server() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                // Read the whole request head before answering (closing with unread
                // bytes would reset the connection).
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                std::thread::sleep(Duration::from_millis(300));
                let body = format!("<html>{}</html>", "tulip ".repeat(100 * (n + 1)));
                let _ = write!(
                    conn,
                    "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    Ok(format!("http://{addr}"))
}

pub fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut urls: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a.starts_with("http"))
        .collect();
    if urls.is_empty() {
        let base = local_server()?;
        urls = ["/baidu", "/qq", "/sina", "/ifeng", "/163"]
            .iter()
            .map(|p| format!("{base}{p}"))
            .collect();
    }
    let start = Instant::now();
    let joined = tulip::run(async move {
        let mut g_list = Vec::new();
        for (i, url) in urls.into_iter().enumerate() {
            g_list.push(gevent::spawn(func(url, i))?);
        }
        gevent::joinall(g_list, None).await
    })?;
    let end = start.elapsed();
    assert!(joined.unfinished.is_empty());
    println!("{}", end.as_secs_f64());
    Ok(())
}
