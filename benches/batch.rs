//! Batch throughput: 100 000 addresses over 10 000 domains against local servers, through one
//! shared `Discovery` (its per-domain cache and in-flight de-duplication). 9 000 domains are
//! Google Workspace custom domains (found by MX), 1 000 publish autoconfig over https.
//!
//! Reports the DNS queries and HTTP requests the servers saw (goal: one per domain and record
//! type / URL) and the addresses per second, cold (empty cache) and warm.
//! Run: `cargo bench --bench batch`; `-- fleet` for two instances sharing a real
//! `redis-server`, each given every other address (the same DNS and HTTP figures are the goal),
//! plus the warm rate of fresh instances served by Redis and the latency of one Redis hit.
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)] // a benchmark program

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mockito::{Matcher, Server};
use nativeauth::AddressPolicy;
use nativeauth::providers::imap::ImapOptions;
use nativeauth::redis::RedisStore;
use nativeauth::{Discovery, DiscoveryConfig, EmailAddress, Source, UrlPorts};
use nativeauth_testkit::{DnsServer, TestCa, TlsFront, Zone};

const DOMAINS: usize = 10_000;
const AUTOCONFIG_DOMAINS: usize = 1_000;
const PER_DOMAIN: usize = 10;
const CONCURRENCY: usize = 512;
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);

const CONFIG: &str = r#"<clientConfig version="1.1"><emailProvider id="x"><domain>x</domain>
<incomingServer type="imap"><hostname>imap.%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.%EMAILDOMAIN%</hostname><port>465</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>"#;

fn domain(i: usize) -> String {
    if i < AUTOCONFIG_DOMAINS { format!("a{i}.test") } else { format!("d{i}.test") }
}

async fn pass(
    discovery: &Arc<Discovery>,
    addresses: &[EmailAddress],
) -> (Duration, HashMap<&'static str, usize>) {
    pass_with(discovery, addresses, CONCURRENCY).await
}

async fn pass_with(
    discovery: &Arc<Discovery>,
    addresses: &[EmailAddress],
    concurrency: usize,
) -> (Duration, HashMap<&'static str, usize>) {
    let started = Instant::now();
    let mut sources: HashMap<&'static str, usize> = HashMap::new();
    let mut results = futures_util::stream::iter(addresses.iter().cloned())
        .map(|email| {
            let discovery = discovery.clone();
            async move { discovery.discover(&email).await }
        })
        .buffer_unordered(concurrency);
    while let Some(report) = results.next().await {
        *sources.entry(report.best.as_ref().map_or("none", |d| d.source.as_str())).or_default() +=
            1;
    }
    (started.elapsed(), sources)
}

/// Both instances at once, each with every other address and half the concurrency; the
/// sources of both merged.
async fn fleet_pass(
    a: &Arc<Discovery>,
    b: &Arc<Discovery>,
    addresses: &[EmailAddress],
) -> (Duration, HashMap<&'static str, usize>) {
    let started = Instant::now();
    let half = |parity: usize| -> Vec<EmailAddress> {
        addresses
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == parity)
            .map(|(_, e)| e.clone())
            .collect()
    };
    let (left, right) = (half(0), half(1));
    let ((_, mut sources), (_, others)) =
        tokio::join!(pass_with(a, &left, CONCURRENCY / 2), pass_with(b, &right, CONCURRENCY / 2));
    for (source, n) in others {
        *sources.entry(source).or_default() += n;
    }
    (started.elapsed(), sources)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut zone = Zone::new();
    for i in 0..DOMAINS {
        let d = domain(i);
        zone = if i < AUTOCONFIG_DOMAINS {
            zone.a(&format!("autoconfig.{d}"), Ipv4Addr::LOCALHOST).empty(&d)
        } else {
            zone.mx(&d, 10, "aspmx.l.google.com")
        };
    }
    let dns = DnsServer::start(zone);

    let requests: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let mut http = Server::new_async().await;
    http.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    let seen = requests.clone();
    http.mock("GET", Matcher::Regex("^/mail/config-v1.1.xml".into()))
        .with_body_from_request(move |request| {
            let host = request
                .header("host")
                .first()
                .map(|h| h.to_str().unwrap_or_default().to_owned())
                .unwrap_or_default();
            let host = host.split(':').next().unwrap_or_default().to_owned();
            *seen.lock().unwrap().entry(format!("{host}{}", request.path())).or_default() += 1;
            CONFIG.as_bytes().to_vec()
        })
        .expect_at_least(0)
        .create_async()
        .await;
    let names: Vec<String> =
        (0..AUTOCONFIG_DOMAINS).map(|i| format!("autoconfig.{}", domain(i))).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let ca = TestCa::new(&name_refs);
    let front = TlsFront::start(&ca, http.socket_address());

    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(30))
        .extra_roots([ca.root()])
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .url_ports(UrlPorts { https: front.addr().port(), http: http.socket_address().port() })
        .provider_options(ImapOptions::default().ispdb_url(None).guess(false))
        .build();

    // Ten addresses per domain, interleaved so that concurrent lookups of a domain meet.
    let addresses: Vec<EmailAddress> = (0..PER_DOMAIN)
        .flat_map(|n| (0..DOMAINS).map(move |i| (n, i)))
        .map(|(n, i)| EmailAddress::parse(&format!("user{n}@{}", domain(i))).unwrap())
        .collect();

    // `-- fleet`: two instances sharing a real redis-server, each given every other address.
    let fleet = std::env::args().any(|a| a == "fleet");
    let redis = fleet.then(nativeauth_testkit::RedisServer::start);
    let instance = || {
        let config = match &redis {
            Some(redis) => {
                let store = RedisStore::connect(&redis.url(), "bench", SHARED_TIMEOUT).unwrap();
                config
                    .to_builder()
                    .shared_cache(Arc::new(store), b"bench key", SHARED_TIMEOUT)
                    .build()
            }
            None => config.clone(),
        };
        Arc::new(Discovery::new(config).unwrap())
    };
    let (cold, cold_sources, warm, warm_sources) = if fleet {
        let (a, b) = (instance(), instance());
        let (cold, cold_sources) = fleet_pass(&a, &b, &addresses).await;
        println!(
            "fleet: shared-cache calls that failed or timed out during the cold pass: {}",
            a.shared_cache_errors() + b.shared_cache_errors()
        );
        // Fresh instances: each domain's first address is a Redis hit, the rest local hits.
        let (c, d) = (instance(), instance());
        let (warm, warm_sources) = fleet_pass(&c, &d, &addresses).await;
        // One Redis hit per call: a fresh instance, one address per domain, one at a time.
        let e = instance();
        let mut latencies: Vec<Duration> = Vec::with_capacity(DOMAINS);
        for email in &addresses[..DOMAINS] {
            let started = Instant::now();
            let report = e.discover(email).await;
            latencies.push(started.elapsed());
            assert!(report.trace.iter().any(|s| s.source == "shared-cache"));
        }
        latencies.sort_unstable();
        println!(
            "fleet: a Redis cache hit (fresh instance, 10 000 domains one at a time): p50 {:.3} ms, p99 {:.3} ms",
            latencies[latencies.len() / 2].as_secs_f64() * 1000.0,
            latencies[latencies.len() * 99 / 100].as_secs_f64() * 1000.0
        );
        (cold, cold_sources, warm, warm_sources)
    } else {
        let discovery = instance();
        let (cold, cold_sources) = pass(&discovery, &addresses).await;
        let (warm, warm_sources) = pass(&discovery, &addresses).await;
        (cold, cold_sources, warm, warm_sources)
    };

    let queries = dns.queries();
    let mut per_pair: HashMap<(String, String), usize> = HashMap::new();
    for (name, rtype) in &queries {
        *per_pair.entry((name.clone(), rtype.to_string())).or_default() += 1;
    }
    let repeated = per_pair.values().filter(|&&n| n > 1).count();
    let http = requests.lock().unwrap();
    let http_total: usize = http.values().sum();
    let http_repeated = http.values().filter(|&&n| n > 1).count();

    let n = addresses.len() as f64;
    println!(
        "batch{}: {} addresses over {DOMAINS} domains, concurrency {CONCURRENCY}",
        if fleet { " (two instances sharing Redis)" } else { "" },
        addresses.len()
    );
    println!(
        "  cold: {:>8.2} s  {:>10.0} addresses/s  answers {:?}",
        cold.as_secs_f64(),
        n / cold.as_secs_f64(),
        cold_sources
    );
    println!(
        "  warm: {:>8.3} s  {:>10.0} addresses/s  answers {:?}",
        warm.as_secs_f64(),
        n / warm.as_secs_f64(),
        warm_sources
    );
    if fleet {
        println!(
            "  per instance: cold {:.0} addresses/s, warm from Redis (fresh instances) {:.0} addresses/s",
            n / 2.0 / cold.as_secs_f64(),
            n / 2.0 / warm.as_secs_f64()
        );
    }
    println!(
        "  DNS: {} queries, {} distinct (name, type) pairs, {repeated} pairs asked more than once ({:.2} queries per domain)",
        queries.len(),
        per_pair.len(),
        queries.len() as f64 / DOMAINS as f64
    );
    println!(
        "  HTTP: {http_total} autoconfig requests for {} distinct URLs, {http_repeated} URLs fetched more than once",
        http.len()
    );
    assert_eq!(
        cold_sources.get(Source::Mx.as_str()),
        Some(&((DOMAINS - AUTOCONFIG_DOMAINS) * PER_DOMAIN))
    );
}
