//! Peak memory of one discovery against a 50 MiB response, and of a 10 000-address batch
//! (local servers only). Reads the process's peak resident set size (Linux `VmHWM`).
//! Run: `cargo bench --bench memory`.
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)] // a benchmark program

mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use nativeauth::AddressPolicy;
use nativeauth::providers::imap::ImapOptions;
use nativeauth::{Discovery, DiscoveryConfig, EmailAddress, UrlPorts};
use nativeauth_testkit::{BadHttp, DnsServer, Fault, Zone};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut zone = Zone::new().a("autoconfig.huge.test", Ipv4Addr::LOCALHOST);
    for i in 0..10_000 {
        zone = zone.mx(&format!("d{i}.test"), 10, "aspmx.l.google.com");
    }
    let dns = DnsServer::start(zone);
    let huge = BadHttp::start(Fault::Huge);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .provider_options(ImapOptions::default().allow_http(true).ispdb_url(None).guess(false))
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .url_ports(UrlPorts { https: closed, http: huge.addr().port() })
        .http_timeout(Duration::from_secs(5))
        .build();
    let before = common::peak_kib();
    let discovery = Arc::new(Discovery::new(config).unwrap());
    let report = discovery.discover(&EmailAddress::parse("x@huge.test").unwrap()).await;
    let step =
        report.trace.iter().find(|s| s.target.starts_with("http://autoconfig.huge.test")).unwrap();
    let after_huge = common::peak_kib();
    println!("memory (peak RSS of this process, VmHWM)");
    println!("  before: {before} KiB");
    println!("  after one discovery against a 50 MiB body: {after_huge} KiB ({})", step.detail);

    let addresses: Vec<EmailAddress> =
        (0..10_000).map(|i| EmailAddress::parse(&format!("u{i}@d{i}.test")).unwrap()).collect();
    let mut stream = futures_util::stream::iter(addresses)
        .map(|email| {
            let discovery = discovery.clone();
            async move { discovery.discover(&email).await.is_detected() }
        })
        .buffer_unordered(256);
    let mut detected = 0;
    while let Some(found) = stream.next().await {
        detected += usize::from(found);
    }
    println!("  after a 10 000-address batch ({detected} detected): {} KiB", common::peak_kib());
}
