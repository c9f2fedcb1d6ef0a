//! tulip-web on every executor: routes and match_info, 404 / 405, bad requests,
//! limits, keep-alive, concurrency, and curl as a real client.
#![cfg(feature = "net")]
mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use common::Factory;
use tulip::net::{open_connection, Server};
use tulip::web::{client, Application, Request, Response};

/// Runs `fut` on a fresh loop of `new_loop`'s executor and closes the loop.
fn run<T>(
    new_loop: Factory,
    fut: impl Future<Output = Result<T, tulip::web::Error>>,
) -> Result<T, tulip::web::Error> {
    let lp = new_loop().unwrap();
    let out = lp.run_until_complete(fut);
    lp.close().unwrap();
    out
}

/// Seed 002's application, with a POST echo and a panicking route added.
async fn seed_app() -> Server {
    let mut app = Application::new();
    app.client_max_size = 1024;
    app.router
        .add_route("GET", "/", |_r: Request| async {
            tulip::sleep(Duration::from_millis(500)).await?;
            Ok::<_, tulip::Error>(Response::new(b"<h1>Index</h1>".to_vec()))
        })
        .add_route("GET", "/hello/{name}", |r: Request| async move {
            tulip::sleep(Duration::from_millis(500)).await?;
            let text = format!("<h1>hello, {}!</h1>", r.match_info["name"]);
            Ok::<_, tulip::Error>(Response::html(text))
        })
        .add_route("POST", "/echo", |r: Request| async move {
            Response::text(format!("{} {}", r.method, r.text()))
        })
        .add_route("GET", "/panic", |_r: Request| async {
            if true {
                panic!("handler bug");
            }
            Response::text("unreachable")
        });
    app.serve("127.0.0.1:0").await.unwrap()
}

/// Sends raw bytes, returns the raw reply until the server closes.
async fn raw_exchange(srv: &Server, request: &[u8]) -> String {
    let (mut r, w) = open_connection(srv.local_addr().unwrap()).await.unwrap();
    w.write(request);
    w.drain().await.unwrap();
    String::from_utf8_lossy(&r.read_to_end().await.unwrap()).into_owned()
}

fn routes_and_match_info(new_loop: Factory) {
    run(new_loop, async {
        let srv = seed_app().await;
        let addr = srv.local_addr().unwrap();
        let index = client::get(addr, "/").await.unwrap();
        assert_eq!(
            (index.status, index.text().as_str()),
            (200, "<h1>Index</h1>")
        );
        let hello = client::get(addr, "/hello/tulip").await.unwrap();
        assert_eq!(hello.status, 200);
        assert_eq!(hello.text(), "<h1>hello, tulip!</h1>");
        assert_eq!(
            hello.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let spaced = client::get(addr, "/hello/a%20b").await.unwrap();
        assert_eq!(spaced.text(), "<h1>hello, a b!</h1>");
        let posted = client::fetch(addr, "POST", "/echo", b"body").await.unwrap();
        assert_eq!(posted.text(), "POST body");
        srv.close();
        Ok(())
    })
    .unwrap();
}

fn unknown_path_is_404_and_wrong_method_is_405(new_loop: Factory) {
    run(new_loop, async {
        let srv = seed_app().await;
        let addr = srv.local_addr().unwrap();
        let missing = client::get(addr, "/nope").await.unwrap();
        assert_eq!(missing.status, 404);
        assert_eq!(client::get(addr, "/hello/").await.unwrap().status, 404);
        let wrong = client::fetch(addr, "DELETE", "/hello/x", b"")
            .await
            .unwrap();
        assert_eq!(wrong.status, 405);
        assert_eq!(wrong.header("allow"), Some("GET"));
        srv.close();
        Ok(())
    })
    .unwrap();
}

/// Garbage gets a 400 and a closed connection; the server keeps serving.
fn malformed_request_is_400_not_a_crash(new_loop: Factory) {
    run(new_loop, async {
        let srv = seed_app().await;
        let reply = raw_exchange(&srv, b"THIS IS NOT HTTP\r\n\r\n").await;
        assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{reply}");
        let reply = raw_exchange(&srv, b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n").await;
        assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
        let reply =
            raw_exchange(&srv, b"POST /echo HTTP/1.1\r\nContent-Length: nope\r\n\r\n").await;
        assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
        let ok = client::fetch(srv.local_addr().unwrap(), "POST", "/echo", b"still up")
            .await
            .unwrap();
        assert_eq!(ok.text(), "POST still up");
        srv.close();
        Ok(())
    })
    .unwrap();
}

fn size_limits_give_413_and_431(new_loop: Factory) {
    run(new_loop, async {
        let srv = seed_app().await;
        let addr = srv.local_addr().unwrap();
        let big = client::fetch(addr, "POST", "/echo", &[b'x'; 4096])
            .await
            .unwrap();
        assert_eq!(big.status, 413);
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..2000 {
            head.extend_from_slice(format!("X-Filler-{i}: yes\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        let reply = raw_exchange(&srv, &head).await;
        assert!(reply.starts_with("HTTP/1.1 431 "), "{reply}");
        srv.close();
        Ok(())
    })
    .unwrap();
}

/// Two requests on one HTTP/1.1 connection, the second with `Connection: close`.
fn keep_alive_serves_several_requests_per_connection(new_loop: Factory) {
    run(new_loop, async {
        let srv = seed_app().await;
        let reply = raw_exchange(
            &srv,
            b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\none\
              POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              3\r\ntwo\r\n0\r\n\r\n",
        )
        .await;
        assert_eq!(reply.matches("HTTP/1.1 200 OK").count(), 2, "{reply}");
        assert!(reply.contains("Connection: keep-alive"));
        assert!(reply.contains("POST one"));
        assert!(reply.ends_with("POST two"), "{reply}");
        srv.close();
        Ok(())
    })
    .unwrap();
}

fn panicking_handler_is_500(new_loop: Factory) {
    run(new_loop, async {
        let srv = seed_app().await;
        let r = client::get(srv.local_addr().unwrap(), "/panic")
            .await
            .unwrap();
        assert_eq!(r.status, 500);
        srv.close();
        Ok(())
    })
    .unwrap();
}

/// Ten requests to handlers that each sleep 0.5 s run concurrently: < 1.5 s in all.
fn concurrent_requests_overlap(new_loop: Factory) {
    run(new_loop, async {
        let srv = seed_app().await;
        let addr = srv.local_addr().unwrap();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..10 {
            tasks.push(
                tulip::create_task(async move { client::get(addr, &format!("/hello/n{i}")).await })
                    .unwrap(),
            );
        }
        for (i, t) in tasks.into_iter().enumerate() {
            let r = t.await.unwrap();
            assert_eq!(r.text(), format!("<h1>hello, n{i}!</h1>"));
        }
        let took = start.elapsed();
        assert!(took < Duration::from_millis(1500), "took {took:?}");
        srv.close();
        Ok(())
    })
    .unwrap();
}

/// curl, a client nobody here wrote, against the seed's server.
fn curl_fetches_from_the_server(new_loop: Factory) {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("skipping curl_fetches_from_the_server: curl is not installed");
        return;
    }
    run(new_loop, async {
        let srv = seed_app().await;
        let url = format!("http://{}/hello/curl", srv.local_addr().unwrap());
        let out = tulip::core::to_thread(move || {
            std::process::Command::new("curl")
                .args(["-sS", "-i", "--max-time", "10", &url])
                .output()
        })
        .await
        .unwrap()
        .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "curl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
        assert!(text.ends_with("<h1>hello, curl!</h1>"), "{text}");
        srv.close();
        Ok(())
    })
    .unwrap();
}

per_executor!(
    routes_and_match_info,
    unknown_path_is_404_and_wrong_method_is_405,
    malformed_request_is_400_not_a_crash,
    size_limits_give_413_and_431,
    keep_alive_serves_several_requests_per_connection,
    panicking_handler_is_500,
    concurrent_requests_overlap,
    curl_fetches_from_the_server,
);
