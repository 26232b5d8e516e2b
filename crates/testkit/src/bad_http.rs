//! An HTTP server on loopback that misbehaves in one chosen way, for fault-injection tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the server misbehaves (for every request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `500 Internal Server Error`.
    ServerError,
    /// Sends the headers (promising a body) and then nothing, forever.
    HangAfterHeaders,
    /// Sends the headers, then one byte of body a second.
    Dribble,
    /// A 200 with a 50 MiB chunked body (no Content-Length, so only a streaming cap stops it).
    Huge,
    /// A 200 claiming `Content-Encoding: gzip` with a tiny body that inflates to gigabytes.
    GzipBomb,
    /// A 200 whose body is not UTF-8.
    InvalidUtf8,
    /// A 200 with XML nested 100 000 levels deep.
    DeepXml,
    /// A 302 to itself.
    RedirectLoop,
    /// Accepts the connection and resets it at once.
    Reset,
}

/// A misbehaving HTTP/1.1 server.
pub struct BadHttp {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    _shutdown: crate::Shutdown,
}

impl BadHttp {
    /// Starts the server on a free port of 127.0.0.1.
    pub fn start(fault: Fault) -> Self {
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let (addr, shutdown) = crate::tcp_server(move |mut stream| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if fault == Fault::Reset {
                    let _ = stream.set_zero_linger();
                    return;
                }
                // Read the request head (bodies are ignored).
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65_536 {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let path = String::from_utf8_lossy(&head)
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_owned();
                let _ = respond(&mut stream, fault, &path).await;
            }
        });
        Self { addr, requests, _shutdown: shutdown }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn respond(
    stream: &mut tokio::net::TcpStream,
    fault: Fault,
    path: &str,
) -> std::io::Result<()> {
    match fault {
        Fault::ServerError => {
            stream.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops!").await
        }
        Fault::HangAfterHeaders => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n").await?;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }
        Fault::Dribble => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n").await?;
            loop {
                stream.write_all(b"<").await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Fault::Huge => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n").await?;
            let chunk = vec![b'x'; 64 * 1024];
            let header = format!("{:x}\r\n", chunk.len());
            for _ in 0..(50 * 16) {
                stream.write_all(header.as_bytes()).await?;
                stream.write_all(&chunk).await?;
                stream.write_all(b"\r\n").await?;
            }
            stream.write_all(b"0\r\n\r\n").await
        }
        Fault::GzipBomb => {
            // A gzip member whose deflate stream is runs of zeros: a few KiB that inflate to
            // gigabytes. Decompressing clients would blow up; we never inflate bodies.
            let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
            body.extend(std::iter::repeat_n(0u8, 4096));
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await
        }
        Fault::InvalidUtf8 => {
            let body = [0xff, 0xfe, b'<', 0xc3, 0x28, b'>', 0xa0, 0xa1];
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await
        }
        Fault::DeepXml => {
            let body = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await
        }
        Fault::RedirectLoop => {
            let head = format!("HTTP/1.1 302 Found\r\nLocation: {path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            stream.write_all(head.as_bytes()).await
        }
        Fault::Reset => Ok(()),
    }
}
