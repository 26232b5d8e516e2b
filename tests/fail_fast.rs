//! Domains that cannot have mail end at once, with a precise kind, and without any HTTP request
//! or probe; a mistyped popular domain gets a suggestion. Servers run on loopback only: a DNS
//! server (nativeauth-testkit) and a web server that must see nothing.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::{Duration, Instant};

use mockito::{Matcher, Server, ServerGuard};
use nativeauth::providers::imap::ImapOptions;
use nativeauth::{
    AddressPolicy, Discovery, DiscoveryConfig, EmailAddress, FailureKind, Report, Url, UrlPorts,
};
use nativeauth_testkit::{DnsServer, Zone};

/// A discovery against `dns` whose every HTTP request would reach `web` (the ISPDB included);
/// the head start is long, so a test that expects the late providers never to start cannot
/// pass by luck on a slow machine.
fn discovery(dns: &DnsServer, web: &ServerGuard, dns_timeout: Duration) -> Discovery {
    let port = web.socket_address().port();
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(dns_timeout)
        .head_start(Duration::from_secs(2))
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .url_ports(UrlPorts { https: port, http: port })
        .provider_options(
            ImapOptions::default()
                .ispdb_url(Some(Url::parse(&format!("http://127.0.0.1:{port}/v1.1/")).unwrap())),
        )
        .build();
    Discovery::new(config).unwrap()
}

async fn web_that_must_see_nothing() -> (ServerGuard, Vec<mockito::Mock>) {
    let mut web = Server::new_async().await;
    let mut never = Vec::new();
    for method in ["GET", "POST"] {
        never.push(web.mock(method, Matcher::Any).expect(0).create_async().await);
    }
    (web, never)
}

async fn discover(discovery: &Discovery, address: &str) -> Report {
    discovery.discover(&EmailAddress::parse(address).unwrap()).await
}

fn kind(report: &Report) -> Option<FailureKind> {
    report.failure.as_ref().map(|f| f.kind)
}

#[tokio::test]
async fn a_domain_that_does_not_exist_ends_at_once_with_a_suggestion() {
    let dns = DnsServer::start(Zone::new());
    let (web, never) = web_that_must_see_nothing().await;
    let discovery = discovery(&dns, &web, Duration::from_secs(2));
    let report = discover(&discovery, "ann@gmial.com").await;
    assert_eq!(kind(&report), Some(FailureKind::NoSuchDomain), "{report:#?}");
    assert_eq!(report.suggestion.as_ref().map(EmailAddress::as_str), Some("ann@gmail.com"));
    assert!(report.failure.as_ref().unwrap().message.contains("does not exist"));
    let json = serde_json::to_value(report.to_json()).unwrap();
    assert_eq!(json["error"]["kind"], "no-such-domain");
    assert_eq!(json["suggestion"], "ann@gmail.com");
    for mock in never {
        mock.assert_async().await;
    }
    assert_eq!(
        dns.queries().iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(),
        ["gmial.com"],
        "one MX query, nothing else"
    );
    assert!(report.trace.iter().all(|s| s.source != "guess"), "{:#?}", report.trace);
}

#[tokio::test]
async fn common_typos_of_missing_domains_are_suggested() {
    let dns = DnsServer::start(Zone::new());
    let (web, _never) = web_that_must_see_nothing().await;
    let discovery = discovery(&dns, &web, Duration::from_secs(2));
    for (typed, suggested) in [
        ("bo@hotmial.com", "bo@hotmail.com"),
        ("bo@yaho.com", "bo@yahoo.com"),
        ("bo@gmail.con", "bo@gmail.com"),
    ] {
        let report = discover(&discovery, typed).await;
        assert_eq!(kind(&report), Some(FailureKind::NoSuchDomain), "{typed}");
        assert_eq!(report.suggestion.as_ref().map(EmailAddress::as_str), Some(suggested));
    }
}

#[tokio::test]
async fn a_domain_that_exists_and_has_mail_gets_no_suggestion() {
    // gmial.com exists here and has an MX: it is somebody's real domain.
    let dns =
        DnsServer::start(Zone::new().mx("gmial.com", 10, "mx.gmial.com").empty("mx.gmial.com"));
    let mut web = Server::new_async().await;
    web.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .provider_options(ImapOptions::default().ispdb_url(None).guess(false))
        .build();
    let report = discover(&Discovery::new(config).unwrap(), "ann@gmial.com").await;
    assert_eq!(kind(&report), Some(FailureKind::NotFound), "{report:#?}");
    assert_eq!(report.suggestion, None);
}

#[tokio::test]
async fn a_null_mx_ends_at_once() {
    let dns = DnsServer::start(Zone::new().mx("nomail.test", 0, "."));
    let (web, never) = web_that_must_see_nothing().await;
    let report = discover(&discovery(&dns, &web, Duration::from_secs(2)), "x@nomail.test").await;
    assert_eq!(kind(&report), Some(FailureKind::NullMx), "{report:#?}");
    assert!(report.failure.as_ref().unwrap().message.contains("null MX"));
    assert_eq!(report.suggestion, None, "not close to a popular domain");
    for mock in never {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn dns_silence_ends_with_the_resolver_not_the_deadline() {
    let dns = DnsServer::start(Zone::new().silent("quiet.test"));
    let (web, _never) = web_that_must_see_nothing().await;
    let discovery = discovery(&dns, &web, Duration::from_millis(400));
    let started = Instant::now();
    let report = discover(&discovery, "x@quiet.test").await;
    let elapsed = started.elapsed();
    assert_eq!(kind(&report), Some(FailureKind::DnsTimeout), "{report:#?}");
    // The deadline is 10 s; the resolver gives up after 400 ms.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let json = serde_json::to_value(report.to_json()).unwrap();
    assert_eq!(json["error"]["kind"], "dns-timeout");
}

#[tokio::test]
async fn offline_an_unknown_domain_close_to_a_popular_one_gets_a_suggestion() {
    let discovery = Discovery::new(DiscoveryConfig::builder().offline(true).build()).unwrap();
    let report = discover(&discovery, "kim@gmial.com").await;
    assert_eq!(kind(&report), Some(FailureKind::NotFound));
    assert_eq!(report.suggestion.as_ref().map(EmailAddress::as_str), Some("kim@gmail.com"));
    let report = discover(&discovery, "kim@gmx.net").await;
    assert_eq!((report.best.is_some(), report.suggestion), (true, None));
    let report = discover(&discovery, "kim@unknown-company.example").await;
    assert_eq!(report.suggestion, None);
}

#[tokio::test]
async fn an_equal_class_answer_does_not_wait_for_a_dead_server() {
    use nativeauth::{AutoconfigOrigin, Source};
    use nativeauth_testkit::{TestCa, TlsFront};
    let zone = Zone::new()
        .a("split.test", std::net::Ipv4Addr::LOCALHOST)
        .a("autoconfig.split.test", std::net::Ipv4Addr::LOCALHOST);
    let dns = DnsServer::start(zone);
    let mut web = Server::new_async().await;
    web.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    web.mock("POST", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    let well_known = web
        .mock("GET", Matcher::Regex("^/.well-known/autoconfig/mail/config-v1.1.xml".into()))
        .with_body(
            r#"<clientConfig version="1.1"><emailProvider id="split.test"><domain>split.test</domain>
<incomingServer type="imap"><hostname>imap.split.test</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.split.test</hostname><port>465</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>"#,
        )
        .create_async()
        .await;
    let ca = TestCa::new(&["split.test", "autoconfig.split.test"]);
    // autoconfig.split.test accepts the connection and then holds it for a minute.
    let front = TlsFront::start_with_delays(
        &ca,
        web.socket_address(),
        &[("autoconfig.split.test", Duration::from_secs(60))],
    );
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .extra_roots([ca.root()])
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .url_ports(UrlPorts { https: front.addr().port(), http: web.socket_address().port() })
        .provider_options(ImapOptions::default().ispdb_url(None).guess(false))
        .build();
    let started = Instant::now();
    let report = discover(&Discovery::new(config).unwrap(), "kai@split.test").await;
    let best = report.best.as_ref().unwrap_or_else(|| panic!("{report:#?}"));
    assert_eq!(best.source, Source::Autoconfig(AutoconfigOrigin::WellKnown));
    well_known.assert_async().await;
    assert!(front.connections() >= 2, "both were asked");
    // The dead server holds its answer for 60 s; the deadline is 10 s.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}
