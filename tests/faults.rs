//! Fault injection, loopback only: DNS and HTTP servers that fail in every way we could think
//! of. For each: `discover` returns by its deadline, never panics, the trace names the source
//! that failed, and another source (SRV records) still wins.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use nativeauth::AddressPolicy;
use nativeauth::Outcome;
use nativeauth::providers::imap::ImapOptions;
use nativeauth::providers::microsoft::MicrosoftOptions;
use nativeauth::{Discovery, DiscoveryConfig, EmailAddress, Report, Source, UrlPorts};
use nativeauth_testkit::{BadHttp, DnsServer, Fault, Zone};

const DEADLINE: Duration = Duration::from_secs(4);

fn zone() -> Zone {
    Zone::new()
        .a("autoconfig.f.test", Ipv4Addr::LOCALHOST)
        .srv("_imaps._tcp.f.test", 0, 1, 993, "imap.f.test")
        .srv("_submission._tcp.f.test", 0, 1, 587, "smtp.f.test")
}

/// A port on which nothing listens (connections are refused at once).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn discover_with(dns: &DnsServer, http_port: u16, address: &str) -> (Report, Duration) {
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(Duration::from_millis(800))
        .http_timeout(Duration::from_millis(1500))
        .deadline(DEADLINE)
        .provider_options(ImapOptions::default().allow_http(true).ispdb_url(None).guess(false))
        .provider_options(MicrosoftOptions { autodiscover_url: None })
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .url_ports(UrlPorts { https: closed_port(), http: http_port })
        .build();
    let discovery = Discovery::new(config).unwrap();
    let started = Instant::now();
    let report = discovery.discover(&EmailAddress::parse(address).unwrap()).await;
    (report, started.elapsed())
}

/// Runs one HTTP fault; returns the autoconfig step's detail for the http URL.
async fn http_fault(fault: Fault) -> String {
    let dns = DnsServer::start(zone());
    let server = BadHttp::start(fault);
    let (report, elapsed) = discover_with(&dns, server.addr().port(), "x@f.test").await;
    assert!(elapsed < DEADLINE + Duration::from_secs(1), "{fault:?}: took {elapsed:?}");
    assert!(server.requests() >= 1, "{fault:?}: the faulty server was asked");
    assert_eq!(
        report.best.as_ref().map(|d| d.source),
        Some(Source::Srv),
        "{fault:?}: SRV still wins\n{:#?}",
        report.trace
    );
    let step = report
        .trace
        .iter()
        .find(|s| s.source == "autoconfig" && s.target.starts_with("http://autoconfig.f.test"))
        .unwrap_or_else(|| panic!("{fault:?}: no autoconfig step\n{:#?}", report.trace));
    assert_ne!(step.outcome, Outcome::Found, "{fault:?}");
    format!("{:?}: {}", step.outcome, step.detail)
}

#[tokio::test]
async fn http_500() {
    let detail = http_fault(Fault::ServerError).await;
    assert!(detail.contains("500"), "{detail}");
}

#[tokio::test]
async fn http_hangs_after_the_headers() {
    let detail = http_fault(Fault::HangAfterHeaders).await;
    assert!(
        detail.contains("Timeout") || detail.contains("timed out") || detail.contains("reading"),
        "{detail}"
    );
}

#[tokio::test]
async fn http_dribbles_one_byte_a_second() {
    let detail = http_fault(Fault::Dribble).await;
    assert!(
        detail.contains("Timeout") || detail.contains("timed out") || detail.contains("reading"),
        "{detail}"
    );
}

#[tokio::test]
async fn http_sends_50_mib() {
    let detail = http_fault(Fault::Huge).await;
    assert!(detail.contains("exceeds 1048576 bytes"), "{detail}");
}

#[tokio::test]
async fn http_sends_a_gzip_bomb() {
    // Bodies are never inflated: the bomb is a few KiB of bytes that are not autoconfig.
    let detail = http_fault(Fault::GzipBomb).await;
    assert!(detail.contains("not a usable autoconfig file"), "{detail}");
}

#[tokio::test]
async fn http_sends_invalid_utf8() {
    let detail = http_fault(Fault::InvalidUtf8).await;
    assert!(detail.contains("not a usable autoconfig file"), "{detail}");
}

#[tokio::test]
async fn http_sends_deeply_nested_xml() {
    let detail = http_fault(Fault::DeepXml).await;
    assert!(detail.contains("nested deeper"), "{detail}");
}

#[tokio::test]
async fn http_redirects_in_a_loop() {
    let detail = http_fault(Fault::RedirectLoop).await;
    assert!(detail.contains("redirect loop"), "{detail}");
}

#[tokio::test]
async fn http_resets_the_connection() {
    let detail = http_fault(Fault::Reset).await;
    assert!(detail.contains("Error"), "{detail}");
}

async fn dns_fault(zone: Zone, address: &str) -> Report {
    let dns = DnsServer::start(zone);
    let (report, elapsed) = discover_with(&dns, closed_port(), address).await;
    assert!(elapsed < DEADLINE + Duration::from_secs(1), "took {elapsed:?}");
    report
}

#[tokio::test]
async fn dns_times_out_for_one_name() {
    let report = dns_fault(zone().silent("autoconfig.f.test").silent("f.test"), "x@f.test").await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Srv));
    assert!(
        report.trace.iter().any(|s| s.outcome == Outcome::Timeout && s.target.contains("f.test")),
        "{:#?}",
        report.trace
    );
}

#[tokio::test]
async fn dns_answers_servfail() {
    let report = dns_fault(zone().servfail("f.test"), "x@f.test").await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Srv));
    assert!(
        report.trace.iter().any(|s| s.target == "MX f.test" && s.outcome == Outcome::Error),
        "{:#?}",
        report.trace
    );
}

#[tokio::test]
async fn dns_cname_loop() {
    let zone = zone()
        .cname("autoconfig.loop.test", "a.loop.test")
        .cname("a.loop.test", "autoconfig.loop.test");
    let report = dns_fault(zone, "x@loop.test").await;
    assert!(report.best.is_none());
    assert!(
        report.trace.iter().any(|s| s.target.contains("autoconfig.loop.test")),
        "{:#?}",
        report.trace
    );
}

#[tokio::test]
async fn dns_truncates_udp_answers() {
    let report = dns_fault(zone().truncate_udp("_imaps._tcp.f.test"), "x@f.test").await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Srv), "answers come over TCP");
}

#[tokio::test]
async fn every_source_failing_ends_by_the_deadline_with_a_typed_outcome() {
    let zone = Zone::new()
        .silent("dead.test")
        .silent("autoconfig.dead.test")
        .silent("_imaps._tcp.dead.test");
    let report = dns_fault(zone, "x@dead.test").await;
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, nativeauth::FailureKind::DnsTimeout, "{failure:?}");
    assert!(failure.message.contains("dead.test"), "{failure:?}");
}
