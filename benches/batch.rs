//! Batch throughput: 100 000 addresses over 10 000 domains against local servers, through one
//! shared `Discovery` (its per-domain cache and in-flight de-duplication). 9 000 domains are
//! Google Workspace custom domains (found by MX), 1 000 publish autoconfig over https.
//!
//! Reports the DNS queries and HTTP requests the servers saw (goal: one per domain and record
//! type / URL) and the addresses per second, cold (empty cache) and warm.
//! Run: `cargo bench --bench batch`.
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)] // a benchmark program

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mockito::{Matcher, Server};
use nativeauth::AddressPolicy;
use nativeauth::providers::imap::ImapOptions;
use nativeauth::{Discovery, DiscoveryConfig, EmailAddress, Source, UrlPorts};
use nativeauth_testkit::{DnsServer, TestCa, TlsFront, Zone};

const DOMAINS: usize = 10_000;
const AUTOCONFIG_DOMAINS: usize = 1_000;
const PER_DOMAIN: usize = 10;
const CONCURRENCY: usize = 512;

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
    let started = Instant::now();
    let mut sources: HashMap<&'static str, usize> = HashMap::new();
    let mut results = futures_util::stream::iter(addresses.iter().cloned())
        .map(|email| {
            let discovery = discovery.clone();
            async move { discovery.discover(&email).await }
        })
        .buffer_unordered(CONCURRENCY);
    while let Some(report) = results.next().await {
        *sources.entry(report.best.as_ref().map_or("none", |d| d.source.as_str())).or_default() +=
            1;
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
    let discovery = Arc::new(Discovery::new(config).unwrap());

    // Ten addresses per domain, interleaved so that concurrent lookups of a domain meet.
    let addresses: Vec<EmailAddress> = (0..PER_DOMAIN)
        .flat_map(|n| (0..DOMAINS).map(move |i| (n, i)))
        .map(|(n, i)| EmailAddress::parse(&format!("user{n}@{}", domain(i))).unwrap())
        .collect();

    let (cold, cold_sources) = pass(&discovery, &addresses).await;
    let (warm, warm_sources) = pass(&discovery, &addresses).await;

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
        "batch: {} addresses over {DOMAINS} domains, concurrency {CONCURRENCY}",
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
