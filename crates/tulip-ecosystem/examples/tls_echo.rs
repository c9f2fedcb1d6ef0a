//! A TLS echo server and client on tulip's streams (docs/ecosystem.md): asyncio's
//! `start_server(..., ssl=ctx)` and `open_connection(..., ssl=ctx,
//! server_hostname=...)`, with rustls configurations in place of `SSLContext`s. The
//! certificate is made on the spot (rcgen); in real use load yours from PEM files.
//!
//! Run: `cargo run -p tulip-ecosystem --features tls --example tls_echo`
use std::sync::Arc;

use tulip::net::tls::rustls::{self, pki_types};
use tulip::net::{open_connection_with, start_server_with, ConnectOptions, Error, ServerOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A self-signed certificate for "localhost", trusted by the client below.
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let cert_der = cert.cert.der().clone();
    let key_der = pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    // Name the crypto provider: robust even when several are compiled in.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_cfg = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key_der)?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der)?;
    let client_cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();

    tulip::run(async move {
        let server = start_server_with(
            |mut r, w| async move {
                while let Ok(line) = r.readline().await {
                    if line.is_empty() {
                        break;
                    }
                    w.write(&line);
                }
                w.close();
            },
            "127.0.0.1:0",
            ServerOptions {
                ssl: Some(Arc::new(server_cfg)),
                ..Default::default()
            },
        )
        .await?;
        let opts = ConnectOptions {
            ssl: Some(Arc::new(client_cfg)),
            server_hostname: Some("localhost".into()), // what the certificate names
            ..Default::default()
        };
        let (mut r, w) = open_connection_with(server.local_addr().unwrap(), opts).await?;
        w.write(b"hello over TLS\n");
        println!(
            "echoed: {:?}",
            String::from_utf8_lossy(&r.readline().await?)
        );
        w.close();
        w.wait_closed().await?;
        server.close();
        server.wait_closed().await?;
        Ok::<_, Error>(())
    })?;
    Ok(())
}
