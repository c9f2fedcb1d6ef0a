//! tulip beside other async ecosystems: nothing to import, only examples and tests.
//!
//! The examples and tests that need tokio (through `async-compat`), smol's async-io,
//! hyper's client or rcgen live here, not in the `tulip` package, so `cargo run
//! --example tour` on a fresh clone compiles tulip's own dependencies and nothing else.
//! This package is not published; its features forward to tulip's under the same
//! names, so the README's test command picks one configuration for both packages.
//!
//! ```sh
//! cargo run -p tulip-ecosystem --example tokio_compat
//! cargo run -p tulip-ecosystem --example smol_share --features async-io
//! cargo run -p tulip-ecosystem --example hyper_hello --features hyper
//! cargo run -p tulip-ecosystem --example tls_echo --features tls
//! ```
#![forbid(unsafe_code)]

/// docs/ecosystem.md's examples, doctested here: they need tokio, async-io, hyper and
/// rcgen, which only this package depends on.
#[cfg(all(doctest, feature = "tls", feature = "hyper", feature = "async-io"))]
#[doc = include_str!("../../../docs/ecosystem.md")]
mod ecosystem_md {}
