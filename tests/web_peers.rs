//! Real clients nobody here wrote, against tulip-web on every executor: curl (GET,
//! POST with a body, chunked upload, HTTP/2 with prior knowledge) and python3's
//! `http.client` (keep-alive, chunked upload, HEAD). Each test skips, saying so,
//! only when its client is not installed.
#![cfg(feature = "web")]
mod common;
mod web_support;

use std::process::{Command, Output};

use common::Factory;
use web_support::{run, serve_test_app};

fn installed(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

/// Runs `program args` on a helper thread (the loop keeps serving meanwhile).
async fn spawn(program: &'static str, args: Vec<String>) -> Output {
    let out = tulip::to_thread(move || Command::new(program).args(&args).output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `curl -sS --max-time 10 <extra> <url>`: stdout as text.
async fn curl(url: String, extra: &[&str]) -> String {
    let mut args: Vec<String> = ["-sS", "--max-time", "10"].map(String::from).to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(url);
    String::from_utf8(spawn("curl", args).await.stdout).unwrap()
}

fn curl_against_the_server(new_loop: Factory) {
    if !installed("curl") {
        println!("skipping curl_against_the_server: curl is not installed");
        return;
    }
    run(new_loop, async {
        let srv = serve_test_app().await;
        let base = format!("http://{}", srv.local_addr());
        let got = curl(format!("{base}/hello/curl"), &["-i"]).await;
        assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
        assert!(got.ends_with("\r\n\r\n<h1>hello, curl!</h1>"), "{got}");
        let posted = curl(format!("{base}/echo"), &["--data-binary", "posted by curl"]).await;
        assert_eq!(posted, "POST posted by curl");
        let chunked = curl(
            format!("{base}/echo"),
            &[
                "-H",
                "Transfer-Encoding: chunked",
                "--data-binary",
                "chunked by curl",
            ],
        )
        .await;
        assert_eq!(chunked, "POST chunked by curl");
        let h2 = curl(
            format!("{base}/hello/h2"),
            &[
                "--http2-prior-knowledge",
                "-w",
                "\n%{http_version} %{http_code}",
            ],
        )
        .await;
        assert_eq!(h2, "<h1>hello, h2!</h1>\n2 200");
        let h2_post = curl(
            format!("{base}/echo"),
            &["--http2-prior-knowledge", "--data-binary", "h2 body"],
        )
        .await;
        assert_eq!(h2_post, "POST h2 body");
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

fn python_http_client_against_the_server(new_loop: Factory) {
    if !installed("python3") {
        println!("skipping python_http_client_against_the_server: python3 is not installed");
        return;
    }
    run(new_loop, async {
        let srv = serve_test_app().await;
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/asyncio_ref/web_http_client.py"
        );
        let addr = srv.local_addr();
        let out = spawn(
            "python3",
            vec![
                script.into(),
                addr.ip().to_string(),
                addr.port().to_string(),
            ],
        )
        .await;
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "200 OK 1.1 <h1>hello, python!</h1>",
                "200 OK 1.1 POST from python",
                "200 OK 1.1 POST chunked from python",
                "200 OK 1.1 length=23 body=b''",
            ]
        );
        srv.close();
        srv.wait_closed().await.unwrap();
    });
}

per_executor!(
    curl_against_the_server,
    python_http_client_against_the_server
);
