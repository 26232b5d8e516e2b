//! Test servers for nativeauth: a real DNS server on loopback ([`DnsServer`]) and a TLS front
//! ([`TlsFront`]) that puts a certificate from a throwaway test CA in front of a plain HTTP
//! mock. Each runs on its own thread with its own runtime, so it serves sync tests, async
//! tests and child processes (the `discover` binary) alike. Nothing here reaches the internet.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::print_stderr, missing_docs)] // test support: panics are test failures

mod bad_http;
mod dns;
mod mail;
mod tls;

pub use bad_http::{BadHttp, Fault};
pub use dns::{DnsServer, Zone};
pub use mail::{MailMode, MailProtocol, MailServer};
pub use tls::{TestCa, TlsFront};
