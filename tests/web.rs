//! tulip-web on every executor: seed 002's routes and match_info, 404 / 405, the
//! protocol details hyper gives (Date, HTTP/1.0, pipelining, 100-continue, HEAD),
//! a panicking handler, header injection refused, middlewares, hooks and run_server.
#![cfg(feature = "web")]
mod common;
mod web_support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{Factory, Log};
use tulip::web::{client, Method, Request, Response, StatusCode};
use web_support::{raw, run, serve_test_app, test_app, Hits};

fn routes_and_match_info(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let addr = srv.local_addr();
        let index = client::get(addr, "/").await.unwrap();
        assert_eq!(index.status, StatusCode::OK);
        assert_eq!(index.text(), "<h1>Index</h1>");
        let hello = client::get(addr, "/hello/tulip").await.unwrap();
        assert_eq!(hello.text(), "<h1>hello, tulip!</h1>");
        assert_eq!(hello.header("content-type"), Some("text/html"));
        let spaced = client::get(addr, "/hello/a%20b").await.unwrap();
        assert_eq!(spaced.text(), "<h1>hello, a b!</h1>");
        let posted = client::fetch(addr, Method::POST, "/echo", "body")
            .await
            .unwrap();
        assert_eq!(posted.text(), "POST body");
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

fn unknown_path_is_404_and_wrong_method_is_405(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let addr = srv.local_addr();
        let missing = client::get(addr, "/nope").await.unwrap();
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.text(), "404: Not Found");
        assert_eq!(client::get(addr, "/hello/").await.unwrap().status, 404);
        let wrong = client::fetch(addr, Method::DELETE, "/hello/x", "")
            .await
            .unwrap();
        assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(wrong.header("allow"), Some("GET"));
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// `Date` on every response, in the IMF-fixdate form; reason phrases from `http`.
fn date_header_and_reason_phrases(new_loop: Factory) {
    run(new_loop, async {
        let mut app = test_app(&Hits::default());
        app.router.add_get("/teapot", |_r: Request| async {
            Response::text("short and stout").with_status(StatusCode::IM_A_TEAPOT)
        });
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        let r = raw(
            srv.local_addr(),
            b"GET /teapot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            r.text.starts_with("HTTP/1.1 418 I'm a teapot\r\n"),
            "{}",
            r.text
        );
        let date = r
            .text
            .lines()
            .find_map(|l| l.strip_prefix("date: "))
            .expect("a Date header");
        // "Sun, 06 Nov 1994 08:49:37 GMT"
        assert_eq!(date.len(), 29, "{date}");
        assert!(date.ends_with(" GMT"), "{date}");
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// An HTTP/1.0 request is answered as HTTP/1.0, and the connection closes.
fn http10_is_answered_as_http10(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let r = raw(srv.local_addr(), b"GET /hello/old HTTP/1.0\r\n\r\n").await;
        assert!(r.text.starts_with("HTTP/1.0 200 OK\r\n"), "{}", r.text);
        assert!(r.text.ends_with("<h1>hello, old!</h1>"), "{}", r.text);
        assert!(r.closed);
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// Three requests in one write, the first slowest: answered in request order.
fn pipelined_requests_are_answered_in_order(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let r = raw(
            srv.local_addr(),
            b"GET /slow/300 HTTP/1.1\r\nHost: x\r\n\r\n\
              POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo\
              GET /slow/0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(r.responses(), 3, "{}", r.text);
        let a = r.text.find("slept 300").expect("first answer");
        let b = r.text.find("POST two").expect("second answer");
        let c = r.text.find("slept 0").expect("third answer");
        assert!(a < b && b < c, "{}", r.text);
        assert!(r.closed);
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// `Expect: 100-continue`: the server says 100 before the client sends the body.
fn expect_100_continue(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let (mut r, w) = tulip::net::open_connection(srv.local_addr()).await.unwrap();
        w.write(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\
              Expect: 100-continue\r\nConnection: close\r\n\r\n",
        );
        w.drain().await.unwrap();
        let interim = r.readuntil(b"\r\n\r\n").await.unwrap();
        assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
        w.write(b"body");
        w.drain().await.unwrap();
        let rest = String::from_utf8(r.read_to_end().await.unwrap()).unwrap();
        assert!(rest.starts_with("HTTP/1.1 200 OK\r\n"), "{rest}");
        assert!(rest.ends_with("POST body"), "{rest}");
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// HEAD on a GET route: the GET's headers (its length), no body.
fn head_has_no_body(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let r = raw(
            srv.local_addr(),
            b"HEAD /hello/h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(r.text.starts_with("HTTP/1.1 200 OK\r\n"), "{}", r.text);
        let len = "<h1>hello, h!</h1>".len();
        assert!(
            r.text.contains(&format!("content-length: {len}\r\n")),
            "{}",
            r.text
        );
        assert!(r.text.ends_with("\r\n\r\n"), "a body followed: {}", r.text);
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// A panicking handler answers 500, whether it panics inside its future or in the
/// function that makes it, and the server goes on serving, on the same connection
/// too.
fn panicking_handler_is_500_and_the_server_keeps_serving(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let r = raw(
            srv.local_addr(),
            b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n\
              GET /panic-early HTTP/1.1\r\nHost: x\r\n\r\n\
              GET /slow/0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            r.text.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{}",
            r.text
        );
        assert_eq!(
            r.text
                .matches("HTTP/1.1 500 Internal Server Error\r\n")
                .count(),
            2,
            "{}",
            r.text
        );
        assert!(r.text.ends_with("slept 0"), "{}", r.text);
        let again = client::get(srv.local_addr(), "/hello/after").await.unwrap();
        assert_eq!(again.text(), "<h1>hello, after!</h1>");
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// A path parameter with `%0d%0a` put in `Location`: the handler's response fails to
/// build, the client gets a 500, and no injected header reaches the wire.
fn header_injection_cannot_reach_the_wire(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let r = raw(
            srv.local_addr(),
            b"GET /go/x%0d%0aSet-Cookie:%20owned=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            r.text.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{}",
            r.text
        );
        assert!(
            !r.text.to_ascii_lowercase().contains("set-cookie"),
            "{}",
            r.text
        );
        let ok = raw(
            srv.local_addr(),
            b"GET /go/elsewhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(ok.text.starts_with("HTTP/1.1 302 Found\r\n"), "{}", ok.text);
        assert!(ok.text.contains("location: elsewhere\r\n"), "{}", ok.text);
        for bad in ["a\rb", "a\nb", "a\0b"] {
            assert!(Response::text("x").header("X-Bad", bad).is_err(), "{bad:?}");
            assert!(Response::text("x").content_type(bad).is_err(), "{bad:?}");
        }
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// Ten requests to handlers that each sleep 0.5 s overlap: well under 10 × 0.5 s.
fn concurrent_requests_overlap(new_loop: Factory) {
    run(new_loop, async {
        let srv = serve_test_app().await;
        let addr = srv.local_addr();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..10 {
            tasks.push(
                tulip::create_task(async move { client::get(addr, &format!("/hello/n{i}")).await })
                    .unwrap(),
            );
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap().text(), format!("<h1>hello, n{i}!</h1>"));
        }
        let took = start.elapsed();
        assert!(took < Duration::from_millis(2500), "took {took:?}");
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// Middlewares run outermost-first around the handler, and may answer instead.
fn middlewares_wrap_the_handler_in_order(new_loop: Factory) {
    run(new_loop, async {
        let log = Log::default();
        let mut app = test_app(&Hits::default());
        for name in ["outer", "inner"] {
            let log = log.clone();
            app.middleware(move |req, next| {
                let log = log.clone();
                async move {
                    log.push(format!("{name} before {}", req.path()));
                    if req.path() == "/blocked" {
                        return Response::text("no").with_status(StatusCode::FORBIDDEN);
                    }
                    let resp = next.run(req).await;
                    log.push(format!("{name} after {}", resp.status.as_u16()));
                    resp.header("X-Mw", name).unwrap()
                }
            });
        }
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        let r = client::get(srv.local_addr(), "/slow/0").await.unwrap();
        assert_eq!(r.text(), "slept 0");
        let marks: Vec<&str> = r
            .headers
            .get_all("x-mw")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(marks, ["inner", "outer"]);
        let blocked = client::get(srv.local_addr(), "/blocked").await.unwrap();
        assert_eq!(blocked.status, StatusCode::FORBIDDEN);
        assert_eq!(
            log.take(),
            [
                "outer before /slow/0",
                "inner before /slow/0",
                "inner after 200",
                "outer after 200",
                "outer before /blocked",
            ]
        );
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

/// on_startup runs before the server listens, on_cleanup after the last connection
/// ended, each once and in order; run_server closes cleanly when cancelled.
fn hooks_and_run_server(new_loop: Factory) {
    run(new_loop, async {
        let log = Log::default();
        let mut app = test_app(&Hits::default());
        for (i, l) in [(1, log.clone()), (2, log.clone())] {
            app.on_startup(move || async move {
                l.push(format!("startup {i}"));
                Ok(())
            });
        }
        let l = log.clone();
        app.on_cleanup(move || async move {
            l.push("cleanup");
            Ok(())
        });
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        assert_eq!(log.take(), ["startup 1", "startup 2"]);
        let serving = srv.clone();
        let runner =
            tulip::create_task(async move { tulip::web::run_server(&serving).await }).unwrap();
        let r = client::get(srv.local_addr(), "/slow/0").await.unwrap();
        assert_eq!(r.text(), "slept 0");
        assert!(log.take().is_empty());
        runner.cancel();
        let ended = runner.await;
        assert!(
            matches!(&ended, Err(e) if tulip::TaskError::as_cancelled(e).is_some()),
            "{ended:?}"
        );
        assert!(!srv.is_serving());
        assert_eq!(srv.connections(), 0);
        assert_eq!(log.take(), ["cleanup"]);
        // The listening socket is gone.
        assert!(tulip::net::open_connection(srv.local_addr()).await.is_err());
    });
}

/// close() lets a request in progress finish, then wait_closed returns.
fn close_finishes_requests_in_progress(new_loop: Factory) {
    run(new_loop, async {
        let hits = Hits::default();
        let srv = test_app(&hits).serve("127.0.0.1:0").await.unwrap();
        let addr = srv.local_addr();
        let req = tulip::create_task(async move { client::get(addr, "/slow/300").await }).unwrap();
        let served = hits.served.clone();
        common::until(move || served.load(Ordering::SeqCst) == 1).await;
        srv.close();
        srv.wait_closed().await.unwrap();
        assert_eq!(req.await.unwrap().text(), "slept 300");
    });
}

/// `request.json()` in, `json_response` out; a body that is not the JSON expected
/// is a 400.
#[cfg(feature = "json")]
fn json_in_and_out(new_loop: Factory) {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use tulip::web::Application;

    run(new_loop, async {
        let mut app = Application::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        app.router.add_post("/sum", move |mut r: Request| {
            c.fetch_add(1, Ordering::SeqCst);
            async move {
                let n: Vec<i64> = r.json().await?;
                tulip::web::json_response(&serde_json::json!({ "sum": n.iter().sum::<i64>() }))
            }
        });
        let srv = app.serve("127.0.0.1:0").await.unwrap();
        let r = client::fetch(srv.local_addr(), Method::POST, "/sum", "[1, 2, 39]")
            .await
            .unwrap();
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.text(), r#"{"sum":42}"#);
        let bad = client::fetch(srv.local_addr(), Method::POST, "/sum", "[1, ")
            .await
            .unwrap();
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

#[cfg(not(feature = "json"))]
fn json_in_and_out(_new_loop: Factory) {
    println!("skipping json_in_and_out: the `json` feature is off");
}

/// tulip-web's client against a server that answers chunked: it gets the body, not
/// the framing.
fn client_decodes_chunked_responses(new_loop: Factory) {
    run(new_loop, async {
        let srv = tulip::net::start_server(
            |mut r, w| async move {
                let head = r.readuntil(b"\r\n\r\n").await.unwrap();
                assert!(head.starts_with(b"GET /chunked HTTP/1.1\r\n"));
                w.write(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                      5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
                );
                w.drain().await.unwrap();
                w.close();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let r = client::get(srv.local_addr().unwrap(), "/chunked")
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text(), "hello, world");
        srv.close();
    });
}

per_executor!(
    client_decodes_chunked_responses,
    routes_and_match_info,
    unknown_path_is_404_and_wrong_method_is_405,
    date_header_and_reason_phrases,
    http10_is_answered_as_http10,
    pipelined_requests_are_answered_in_order,
    expect_100_continue,
    head_has_no_body,
    panicking_handler_is_500_and_the_server_keeps_serving,
    header_injection_cannot_reach_the_wire,
    concurrent_requests_overlap,
    middlewares_wrap_the_handler_in_order,
    hooks_and_run_server,
    close_finishes_requests_in_progress,
    json_in_and_out,
);
