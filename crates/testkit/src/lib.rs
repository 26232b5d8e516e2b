//! Test servers for nativeauth: a real DNS server on loopback ([`DnsServer`]) and a TLS front
//! ([`TlsFront`]) that puts a certificate from a throwaway test CA in front of a plain HTTP
//! mock. Each runs on its own thread with its own runtime, so it serves sync tests, async
//! tests and child processes (the `discover` binary) alike; [`RedisServer`] runs Debian's real
//! `redis-server`. Nothing here reaches the internet.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::print_stderr, missing_docs)] // test support: panics are test failures

mod bad_http;
mod dns;
mod mail;
mod oauth;
mod redis;
mod tls;

pub use bad_http::{BadHttp, Fault};
pub use dns::{DnsServer, Zone};
pub use mail::{MailAccount, MailMode, MailProtocol, MailServer};
pub use oauth::OAuthStandIn;
pub use redis::RedisServer;
pub use tls::{TestCa, TlsFront};

use std::future::Future;
use std::net::SocketAddr;

/// Stops a background server when dropped.
pub(crate) type Shutdown = tokio::sync::oneshot::Sender<()>;

/// Runs `serve` on a thread with its own runtime until the returned [`Shutdown`] is dropped;
/// `serve` reports the address it bound through the sender.
pub(crate) fn background<F, Fut>(serve: F) -> (SocketAddr, Shutdown)
where
    F: FnOnce(std::sync::mpsc::Sender<SocketAddr>) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            tokio::select! {
                () = serve(ready_tx) => {}
                _ = shutdown_rx => {}
            }
        });
    });
    (ready_rx.recv().unwrap(), shutdown_tx)
}

/// A TCP server on a free port of 127.0.0.1 that hands every connection to `handle`.
pub(crate) fn tcp_server<H, Fut>(handle: H) -> (SocketAddr, Shutdown)
where
    H: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    background(move |ready| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        ready.send(listener.local_addr().unwrap()).unwrap();
        loop {
            if let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handle(stream));
            }
        }
    })
}

/// The shared reference data (the Thunderbird ISPDB files and protocol fixtures, with their
/// licences), kept here so that every crate's tests read one copy.
pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// The path of example `name`, built by `cargo test` next to the test binaries
/// (`target/<profile>/deps/<test>` → `target/<profile>/examples/<name>`). Call it from a test.
pub fn built_example(name: &str) -> std::path::PathBuf {
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let path = deps
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A log writer that keeps every line in memory, for tests that scan the logs (give a clone to
/// the subscriber's `with_writer`).
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// What was written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
