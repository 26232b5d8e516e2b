//! Slow clients cannot hold the server: a body sent a byte a second ends by the request
//! deadline, headers that never finish by the header deadline, a silent connection by the idle
//! deadline.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use nativeauth::DiscoveryConfig;
use nativeauth_server::{Api, Secrets, ServeOptions, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads what the server sends until it closes the connection (or 20 s pass).
async fn until_closed(stream: &mut tokio::net::TcpStream) -> String {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_body_sent_a_byte_a_second_ends_by_the_request_deadline() {
    let harness = common::start(Api::V2, None, |file| file.request_timeout_secs = 2).await;
    let addr = harness.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/detect HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let dribble = async {
        for _ in 0..60 {
            if stream.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            if started.elapsed() > Duration::from_secs(10) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(4), dribble).await;
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());
}

fn config() -> ServerConfig {
    ServerConfig::builder()
        .success_url("https://app.example/welcome")
        .client_id("client")
        .secrets(Secrets::builder().client_secret("s").app_secret(common::APP_SECRET).build())
        .discovery(DiscoveryConfig::builder().offline(true).build())
        .build()
}

async fn served(options: ServeOptions) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let router = nativeauth_server::router(config()).unwrap();
    tokio::spawn(nativeauth_server::serve(listener, router, options, std::future::pending()));
    addr
}

#[tokio::test]
async fn headers_that_never_finish_and_silent_connections_are_closed() {
    let options = ServeOptions {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        max_connections: 100,
    };
    let addr = served(options).await;

    // Headers that never finish.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    until_closed(&mut stream).await;
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());

    // A request answered, then silence on a kept-alive connection.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let started = Instant::now();
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn past_max_connections_new_ones_wait_their_turn() {
    let options = ServeOptions {
        header_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(30),
        max_connections: 1,
    };
    let addr = served(options).await;
    // The one slot is taken by a connection that says nothing yet.
    let first = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut second = tokio::net::TcpStream::connect(&addr).await.unwrap();
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), second.read(&mut buf)).await;
    assert!(early.is_err(), "served past the limit");
    // Once the first is closed by the header deadline (its headers never came), the second
    // is served.
    let _keep_open = &first;
    let answer = until_closed(&mut second).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
