//! TLS as asyncio has it, on every executor, against real peers: python3's asyncio
//! with its `ssl` module as the client of a tulip TLS server and as the server of a
//! tulip TLS client (1 MiB each way, every byte checked, tests/asyncio_ref/tls_peer.py);
//! certificates that do not verify; handshake timeouts on both sides; STARTTLS with
//! `StreamWriter::start_tls`; `tls::start_tls` over any byte stream. Certificates are
//! generated here (rcgen); nothing leaves 127.0.0.1.
#![cfg(feature = "tls")]
#[path = "../../../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, ErrorKind};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{within, Factory};
use futures::io::{AsyncReadExt, AsyncWriteExt};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tulip::net::tls::rustls::{self, pki_types};
use tulip::net::tls::{start_tls, SslContext};
use tulip::net::{
    open_connection, open_connection_with, start_server, start_server_with, ConnectOptions, Error,
    ServerOptions, StreamReader, StreamWriter, TcpListener, TcpStream, UnixStream,
};

/// Bytes each way in the exchanges with python.
const MIB: usize = 1 << 20;
/// A hang bound per scenario (not a timing figure).
const BOUND: Duration = Duration::from_secs(120);
/// The short handshake timeout of the timeout scenarios.
const SHORT: Duration = Duration::from_millis(300);

/// Byte `i` of the exchange; tls_peer.py computes the same.
fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| ((i.wrapping_mul(31)) ^ (i >> 9) ^ seed as usize) as u8)
        .collect()
}

/// A CA and a certificate it signed for `localhost` and 127.0.0.1, in DER for rustls
/// and as PEM files for python.
struct Pki {
    dir: PathBuf,
    ca: pki_types::CertificateDer<'static>,
    leaf: pki_types::CertificateDer<'static>,
    key: Vec<u8>,
}

static DIRS: AtomicUsize = AtomicUsize::new(0);

impl Pki {
    fn new() -> Pki {
        let n = DIRS.fetch_add(1, Ordering::SeqCst);
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("tulip test CA {n}"));
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        let dir = std::env::temp_dir().join(format!("tulip-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem()).unwrap();
        Pki {
            dir,
            ca: ca_cert.der().clone(),
            leaf: leaf.der().clone(),
            key: leaf_key.serialize_der(),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// A client that trusts this CA.
    fn client(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.clone()).unwrap();
        Arc::new(
            rustls::ClientConfig::builder_with_provider(Self::provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }

    /// A server presenting the leaf certificate.
    fn server(&self) -> Arc<rustls::ServerConfig> {
        let key = pki_types::PrivateKeyDer::Pkcs8(self.key.clone().into());
        Arc::new(
            rustls::ServerConfig::builder_with_provider(Self::provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![self.leaf.clone(), self.ca.clone()], key)
                .unwrap(),
        )
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The python peer, or why it cannot run (then the scenario is skipped, saying so).
fn python_peer() -> Option<Command> {
    let ok = Command::new("python3")
        .args(["-c", "import ssl, asyncio"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        println!("SKIPPED: python3 with its ssl module is not available");
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/asyncio_ref/tls_peer.py");
    let mut c = Command::new("python3");
    c.arg(script);
    Some(c)
}

fn run<T>(new_loop: Factory, fut: impl std::future::Future<Output = Result<T, Error>>) -> T {
    within(BOUND, || {
        let lp = new_loop().unwrap();
        let out = lp.run_until_complete(fut);
        lp.close().unwrap();
        out.unwrap()
    })
}

fn tls_server_opts(cfg: Arc<rustls::ServerConfig>) -> ServerOptions {
    ServerOptions {
        ssl: Some(cfg),
        ..Default::default()
    }
}

/// The server's side of the exchange: length, the client's bytes (checked), then
/// ours. Returns whether the client's bytes were right.
async fn serve_exchange(mut r: StreamReader, w: StreamWriter) -> Result<bool, Error> {
    let n = u64::from_be_bytes(r.readexactly(8).await?.try_into().unwrap()) as usize;
    let got = r.readexactly(n).await?;
    let ok = got == pattern(n, 1);
    if ok {
        w.write(&pattern(n, 2));
        w.drain().await?;
    }
    w.close();
    w.wait_closed().await?;
    Ok(ok)
}

/// python3 (asyncio + ssl, verifying our certificate against the CA) is the client
/// of a tulip TLS server: 1 MiB each way, both sides check every byte.
fn python_client_of_a_tulip_server(new_loop: Factory) {
    let Some(mut peer) = python_peer() else {
        return;
    };
    let pki = Pki::new();
    run(new_loop, async move {
        let results = tulip::Queue::new(0);
        let q = results.clone();
        let server = start_server_with(
            move |r, w| {
                let q = q.clone();
                async move {
                    let _ = q.put_nowait(serve_exchange(r, w).await.map_err(|e| e.to_string()));
                }
            },
            "127.0.0.1:0",
            tls_server_opts(pki.server()),
        )
        .await?;
        let port = server.local_addr().unwrap().port();
        peer.args([
            "client",
            &pki.path("ca.pem"),
            &port.to_string(),
            "localhost",
        ]);
        let out = tulip::to_thread(move || peer.output()).await??;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "python client: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout.trim(), format!("OK {MIB}"));
        assert_eq!(
            results.get().await.unwrap(),
            Ok(true),
            "python's bytes differ"
        );
        server.close();
        server.wait_closed().await?;
        Ok(())
    })
}

/// A tulip TLS client of python3's asyncio TLS server, verifying python's
/// certificate by name: 1 MiB each way, both sides check every byte; python's
/// `close_notify` reads as end of stream.
fn tulip_client_of_a_python_server(new_loop: Factory) {
    let Some(mut peer) = python_peer() else {
        return;
    };
    let pki = Pki::new();
    let mut child = peer
        .args(["server", &pki.path("cert.pem"), &pki.path("key.pem")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port: u16 = first.strip_prefix("PORT ").unwrap().parse().unwrap();
    let client = pki.client();
    run(new_loop, async move {
        let opts = ConnectOptions {
            ssl: Some(client),
            server_hostname: Some("localhost".into()),
            ..Default::default()
        };
        let (mut r, w) = open_connection_with(("127.0.0.1", port), opts).await?;
        assert_eq!(
            w.get_extra_info("peername").and_then(|a| a.as_inet()),
            Some(([127, 0, 0, 1], port).into())
        );
        w.write(&(MIB as u64).to_be_bytes());
        w.write(&pattern(MIB, 1));
        w.drain().await?;
        let got = r.readexactly(MIB).await?;
        assert!(got == pattern(MIB, 2), "python's bytes differ");
        assert_eq!(r.read_to_end().await?, b"", "close_notify is end of stream");
        w.close();
        w.wait_closed().await?;
        Ok(())
    });
    let status = child.wait().unwrap();
    let rest: Vec<String> = lines.map_while(|l| l.ok()).collect();
    assert!(status.success(), "python server: {rest:?}");
    assert_eq!(rest, [format!("OK {MIB}")]);
}

/// A certificate that does not verify is a clean `Error::Ssl` naming rustls's
/// reason: a CA the client does not trust (`UnknownIssuer`), a name the certificate
/// does not carry ("not valid for name"). The server never calls its callback for those
/// connections, and still serves a client that verifies.
fn unverifiable_certificates_are_named_errors(new_loop: Factory) {
    let pki = Pki::new();
    let stranger = Pki::new();
    run(new_loop, async move {
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        let server = start_server_with(
            move |mut r, w| {
                count.fetch_add(1, Ordering::SeqCst);
                async move {
                    if let Ok(line) = r.readline().await {
                        w.write(&line);
                        let _ = w.drain().await;
                    }
                }
            },
            "127.0.0.1:0",
            tls_server_opts(pki.server()),
        )
        .await?;
        let addr = server.local_addr().unwrap();
        let cases = [
            (stranger.client(), "localhost", "UnknownIssuer"),
            (
                pki.client(),
                "example.org",
                "not valid for name \"example.org\"",
            ),
        ];
        for (client, name, reason) in cases {
            let opts = ConnectOptions {
                ssl: Some(client),
                server_hostname: Some(name.into()),
                ..Default::default()
            };
            match open_connection_with(addr, opts).await {
                Err(Error::Ssl { reason: got, .. }) => {
                    assert!(got.contains(reason), "{got:?} does not name {reason}");
                }
                other => panic!("expected Error::Ssl naming {reason}, got {other:?}"),
            }
        }
        // Without server_hostname the host connected to (127.0.0.1) is checked: the
        // certificate lists it.
        let opts = ConnectOptions {
            ssl: Some(pki.client()),
            ..Default::default()
        };
        let (mut r, w) = open_connection_with(addr, opts).await?;
        w.write(b"still serving\n");
        assert_eq!(r.readline().await?, b"still serving\n");
        assert_eq!(
            served.load(Ordering::SeqCst),
            1,
            "callback for a failed handshake"
        );
        w.close();
        server.close();
        server.wait_closed().await?;
        Ok(())
    })
}

/// A server that accepts and never answers: the client's handshake gives up after
/// `ssl_handshake_timeout` with asyncio's message and `ConnectionAborted`. A client
/// that connects to a TLS server and never says hello is dropped by the server after
/// its timeout (it reads end of stream), and the callback never runs. (asyncio 3.11:
/// `ConnectionAbortedError: SSL handshake is taking longer than 0.3 seconds: aborting
/// the connection`, tests/asyncio_ref/tls_handshake_timeout.py.)
fn handshake_timeouts(new_loop: Factory) {
    let pki = Pki::new();
    run(new_loop, async move {
        let silent = TcpListener::bind("127.0.0.1:0").await?;
        let opts = ConnectOptions {
            ssl: Some(pki.client()),
            server_hostname: Some("localhost".into()),
            ssl_handshake_timeout: Some(SHORT),
            ..Default::default()
        };
        let connecting = tulip::create_task(open_connection_with(silent.local_addr()?, opts))?;
        let (_held, _) = silent.accept().await?;
        match connecting.await {
            Err(e @ Error::Ssl { .. }) => {
                assert_eq!(e.io_kind(), Some(ErrorKind::ConnectionAborted));
                assert!(
                    e.to_string()
                        .contains("SSL handshake is taking longer than 0.3 seconds"),
                    "{e}"
                );
            }
            other => panic!("expected a handshake timeout, got {other:?}"),
        }

        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        let server = start_server_with(
            move |_r, _w| {
                count.fetch_add(1, Ordering::SeqCst);
                async {}
            },
            "127.0.0.1:0",
            ServerOptions {
                ssl: Some(pki.server()),
                ssl_handshake_timeout: Some(SHORT),
                ..Default::default()
            },
        )
        .await?;
        let mut mute = TcpStream::connect(server.local_addr().unwrap()).await?;
        let mut buf = [0u8; 16];
        assert_eq!(
            mute.read(&mut buf).await?,
            0,
            "the server should drop a mute client"
        );
        assert_eq!(served.load(Ordering::SeqCst), 0);
        server.close();
        server.wait_closed().await?;
        Ok(())
    })
}

/// The server side of STARTTLS: "STARTTLS\n" in plain text, "GO\n", then the
/// reader and writer are upgraded with `StreamWriter::start_tls` and one line is
/// answered over TLS.
fn starttls_server(
    cfg: Arc<rustls::ServerConfig>,
) -> impl Fn(
    StreamReader,
    StreamWriter,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
       + Send
       + Sync
       + 'static {
    move |mut r, w| {
        let cfg = cfg.clone();
        Box::pin(async move {
            assert_eq!(r.readline().await.unwrap(), b"STARTTLS\n");
            w.write(b"GO\n");
            let (mut r, w) = w.start_tls(r, cfg, None, None).await.unwrap();
            let line = r.readline().await.unwrap();
            w.write(&[b"tls: ", &line[..]].concat());
            w.drain().await.unwrap();
            w.close();
            let _ = w.wait_closed().await;
        })
    }
}

/// STARTTLS: a plain-text exchange, then both sides upgrade their reader and writer
/// with `StreamWriter::start_tls` and talk TLS on the same connection; then the same
/// tulip server with python3's asyncio `writer.start_tls` as the client.
fn starttls_upgrades_plain_streams(new_loop: Factory) {
    let pki = Pki::new();
    let peer = python_peer();
    run(new_loop, async move {
        let server = start_server(starttls_server(pki.server()), "127.0.0.1:0").await?;
        let (mut r, w) = open_connection(server.local_addr().unwrap()).await?;
        w.write(b"STARTTLS\n");
        assert_eq!(r.readline().await?, b"GO\n");
        let (mut r, w) = w
            .start_tls(r, SslContext::Client(pki.client()), Some("localhost"), None)
            .await?;
        w.write(b"secret\n");
        assert_eq!(r.readline().await?, b"tls: secret\n");
        assert_eq!(r.read_to_end().await?, b"");
        if let Some(mut peer) = peer {
            let port = server.local_addr().unwrap().port().to_string();
            peer.args(["starttls", &pki.path("ca.pem"), &port, "localhost"]);
            let out = tulip::to_thread(move || peer.output()).await??;
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "python STARTTLS client: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(stdout.trim(), "OK 1");
        }
        server.close();
        server.wait_closed().await?;
        Ok(())
    })
}

/// `tls::start_tls` upgrades any byte stream (here a Unix socket pair): 1 MiB each
/// way through the `futures::io` traits of the TLS streams, every byte checked; a
/// client without `server_hostname` is refused before any I/O.
fn start_tls_over_any_stream(new_loop: Factory) {
    let pki = Pki::new();
    run(new_loop, async move {
        let (a, b) = UnixStream::pair()?;
        let e = start_tls(a, pki.client(), None, None).await.unwrap_err();
        assert_eq!(e.io_kind(), Some(ErrorKind::InvalidInput));
        let (a, b2) = UnixStream::pair()?;
        drop(b);
        let server_cfg = pki.server();
        let server = tulip::create_task(async move {
            let mut tls = start_tls(b2, server_cfg, None, None).await?;
            let mut got = vec![0u8; MIB];
            tls.read_exact(&mut got).await?;
            tls.write_all(&pattern(MIB, 2)).await?;
            tls.close().await?;
            Ok::<_, Error>(got == pattern(MIB, 1))
        })?;
        let tls = start_tls(a, pki.client(), Some("localhost"), None).await?;
        let (mut rd, mut wr) = tls.split();
        let (sent, got) = futures::join!(
            async {
                wr.write_all(&pattern(MIB, 1)).await?;
                wr.flush().await
            },
            async {
                let mut got = Vec::new();
                rd.read_to_end(&mut got).await?;
                Ok::<_, std::io::Error>(got)
            }
        );
        sent?;
        assert!(got? == pattern(MIB, 2), "server's bytes differ");
        assert!(server.await?, "client's bytes differ");
        Ok(())
    })
}

/// asyncio's `ValueError`s: `server_hostname` or `ssl_handshake_timeout` without
/// `ssl` (tests/asyncio_ref/tls_handshake_timeout.py prints asyncio's messages).
fn tls_arguments_without_ssl_are_refused(new_loop: Factory) {
    run(new_loop, async {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        let addr = l.local_addr()?;
        for opts in [
            ConnectOptions {
                server_hostname: Some("localhost".into()),
                ..Default::default()
            },
            ConnectOptions {
                ssl_handshake_timeout: Some(SHORT),
                ..Default::default()
            },
        ] {
            let e = open_connection_with(addr, opts).await.unwrap_err();
            assert_eq!(e.io_kind(), Some(ErrorKind::InvalidInput), "{e}");
            assert!(e.to_string().contains("only meaningful with ssl"), "{e}");
        }
        let e = start_server_with(
            |_r, _w| async {},
            "127.0.0.1:0",
            ServerOptions {
                ssl_handshake_timeout: Some(SHORT),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("only meaningful with ssl"), "{e}");
        Ok(())
    })
}

per_executor!(
    python_client_of_a_tulip_server,
    tulip_client_of_a_python_server,
    unverifiable_certificates_are_named_errors,
    handshake_timeouts,
    starttls_upgrades_plain_streams,
    start_tls_over_any_stream,
    tls_arguments_without_ssl_are_refused,
);
