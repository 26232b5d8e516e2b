//! Load test of `POST /api/detect` for catalogue domains against the server on loopback:
//! goal ≥ 5,000 requests/s with p99 ≤ 5 ms on a 2-core machine. Bounded: at most
//! `LOAD_REQUESTS` requests (default 60,000) or 30 seconds, whichever comes first, after a
//! warm-up. The clients run in this process too, so the figure includes their cost.
//!
//! `cargo bench -p nativeauth-server --bench load`

#![allow(clippy::unwrap_used, clippy::print_stdout)] // a bench: failing loudly and printing is its job

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nativeauth::DiscoveryConfig;
use nativeauth_server::{Secrets, ServerConfig};

const DOMAINS: [&str; 8] = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "gmx.de",
    "web.de",
    "aol.com",
    "comcast.net",
];
const CONCURRENCY: usize = 32;
const TIME_LIMIT: Duration = Duration::from_secs(30);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let _ = nativeauth::crypto_provider().install_default();
    let total: usize =
        std::env::var("LOAD_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(60_000);
    let config = ServerConfig::builder()
        .client_id("load")
        .success_url("https://app.example/welcome")
        .edit(|settings| settings.detections_per_minute = u32::MAX)
        .secrets(
            Secrets::builder()
                .client_secret("unused")
                .app_secret("an app secret of at least thirty-two bytes")
                .build(),
        )
        .discovery(DiscoveryConfig::builder().offline(true).build())
        .build();
    let router = nativeauth_server::router(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .unwrap();
    });
    let url = format!("http://{addr}/api/detect");
    let http = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build().unwrap();

    // Warm-up: connections, caches.
    for domain in DOMAINS {
        let response = http
            .post(&url)
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"email":"user@{domain}"}}"#))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{domain}");
    }

    let issued = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..CONCURRENCY {
        let (http, url, issued) = (http.clone(), url.clone(), issued.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= total || started.elapsed() > TIME_LIMIT {
                    break;
                }
                let body =
                    format!(r#"{{"email":"user{worker}.{n}@{}"}}"#, DOMAINS[n % DOMAINS.len()]);
                let sent = Instant::now();
                let ok = match http
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
                    Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
                    Err(_) => false,
                };
                latencies.push(sent.elapsed());
                failures += usize::from(!ok);
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for worker in workers {
        let (mut mine, failed) = worker.await.unwrap();
        latencies.append(&mut mine);
        failures += failed;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    println!(
        "load: {} requests in {:.2} s = {:.0} requests/s at concurrency {CONCURRENCY}; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {failures} failed",
        latencies.len(),
        elapsed.as_secs_f64(),
        rate,
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0,
    );
    println!(
        "goal: ≥ 5000 requests/s and p99 ≤ 5 ms: {}",
        if rate >= 5000.0 && at(0.99) <= Duration::from_millis(5) && failures == 0 {
            "met"
        } else {
            "NOT met"
        }
    );
}
