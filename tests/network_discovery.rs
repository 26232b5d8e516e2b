//! Discovery over the network, against local servers only: a DNS server on loopback
//! (nativeauth-testkit), mockito for HTTP, and a TLS front with a throwaway CA for https. The
//! address guard stays on, allowing only 127.0.0.1, except in the tests about the guard.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;
use mockito::{Matcher, Mock, Server, ServerGuard};
use nativeauth::AddressPolicy;
use nativeauth::Url;
use nativeauth::providers::imap::ImapOptions;
use nativeauth::{
    AutoconfigOrigin, Discovery, DiscoveryConfig, EmailAddress, NylasProvider, Protocol, Report,
    Security, Source, Trust, UrlPorts,
};
use nativeauth::{FailureKind, Outcome};
use nativeauth_testkit::{DnsServer, TestCa, TlsFront, Zone};

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// One HTTP mock server behind a TLS front that holds a certificate for every test host.
struct Web {
    http: ServerGuard,
    tls: TlsFront,
    ca: TestCa,
}

async fn web() -> Web {
    let http = Server::new_async().await;
    let ca = TestCa::new(&[
        "autoconfig.auto.test",
        "wellknown.test",
        "autoconfig.hoster.test",
        "ispdb.test",
        "autoconfig.evil.test",
        "autoconfig.filtered.test",
    ]);
    let tls = TlsFront::start(&ca, http.socket_address());
    Web { http, tls, ca }
}

impl Web {
    /// Serves `body` for GET `path` when the Host header starts with `host`.
    async fn serve(&mut self, host: &str, path: &str, body: &str) -> Mock {
        self.http
            .mock("GET", Matcher::Regex(format!("^{}", regex_escape(path))))
            .match_header("host", Matcher::Regex(format!("^{}(:|$)", regex_escape(host))))
            .with_header("content-type", "text/xml")
            .with_body(body)
            .create_async()
            .await
    }

    /// Everything not served explicitly is a 404 (mockito's own default is 501). Call it
    /// before `serve`: once a mock's expectations are met, mockito prefers the last match.
    async fn not_found_elsewhere(&mut self) {
        self.http
            .mock("GET", Matcher::Any)
            .with_status(404)
            .expect_at_least(0)
            .create_async()
            .await;
    }
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| if "\\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] })
        .collect()
}

fn autoconfig_xml(domain: &str, imap: &str, smtp: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="{domain}"><domain>{domain}</domain>
<displayName>{domain} mail</displayName>
<incomingServer type="imap"><hostname>{imap}</hostname><port>993</port><socketType>SSL</socketType>
<username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication></incomingServer>
<outgoingServer type="smtp"><hostname>{smtp}</hostname><port>587</port><socketType>STARTTLS</socketType>
<username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication></outgoingServer>
</emailProvider></clientConfig>"#
    )
}

fn zone() -> Zone {
    Zone::new()
        // Google Workspace and Microsoft 365 custom domains.
        .mx("corp.test", 10, "aspmx.l.google.com")
        .mx("corp.test", 20, "alt1.aspmx.l.google.com")
        .mx("m365.test", 0, "m365-test.mail.protection.outlook.com")
        // A domain that publishes autoconfig on autoconfig.<d>.
        .a("autoconfig.auto.test", LOCALHOST)
        .empty("auto.test")
        // One that publishes it under /.well-known on the domain itself.
        .a("wellknown.test", LOCALHOST)
        // A domain whose mail is hosted elsewhere, known to the ISPDB by the MX host's domain.
        .mx("hosted.test", 10, "mx1.hoster.test")
        .a("ispdb.test", LOCALHOST)
        // A domain with nothing but SRV records.
        .srv("_imaps._tcp.srvonly.test", 0, 1, 993, "imap.srvonly.test")
        .srv("_imap._tcp.srvonly.test", 0, 0, 0, ".")
        .srv("_submission._tcp.srvonly.test", 0, 1, 587, "smtp.srvonly.test")
        // Domains whose autoconfig host points into special address space.
        .a("autoconfig.evil.test", LOCALHOST)
        .a("autoconfig.metadata.test", Ipv4Addr::new(169, 254, 169, 254))
        // A DNS server that never answers for this one.
        .silent("slow.test")
        // A domain behind a filtering gateway, which publishes its own autoconfig.
        .mx("filtered.test", 10, "mx0a-00123456.pphosted.com")
        .a("autoconfig.filtered.test", LOCALHOST)
        // A domain hosted at a fingerprinted host, and one at Microsoft's DNSSEC MX format.
        .mx("shop.test", 10, "mx1.privateemail.com")
        .mx("dnssec.test", 0, "dnssec-test.o-v1.mx.microsoft")
}

fn config(dns: &DnsServer, web: &Web) -> nativeauth::DiscoveryConfigBuilder {
    DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(Duration::from_millis(700))
        .http_timeout(Duration::from_secs(3))
        .extra_roots([web.ca.root()])
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .url_ports(UrlPorts {
            https: web.tls.addr().port(),
            http: web.http.socket_address().port(),
        })
        .provider_options(ImapOptions::default().ispdb_url(Some(
            Url::parse(&format!("https://ispdb.test:{}/v1.1/", web.tls.addr().port())).unwrap(),
        )))
}

async fn discover(config: DiscoveryConfig, address: &str) -> Report {
    let discovery = Discovery::new(config).unwrap();
    discovery.discover(&EmailAddress::parse(address).unwrap()).await
}

#[tokio::test]
async fn a_workspace_custom_domain_is_gmail_via_mx() {
    let dns = DnsServer::start(zone());
    let web = web().await;
    let report = discover(config(&dns, &web).build(), "ceo@corp.test").await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.provider.nylas, best.source, best.trust),
        (NylasProvider::Gmail, Source::Mx, Trust::Verified),
        "a known provider's own servers: a forged MX can only lead to the real Google"
    );
    assert_eq!(best.incoming[0].host, "imap.gmail.com");
    assert!(best.evidence.contains("aspmx.l.google.com"), "{}", best.evidence);
    // Every provider that needs the MX records shares one query.
    assert_eq!(dns.count("corp.test", RecordType::MX), 1);
    assert!(report.trace.iter().any(|s| s.target == "MX corp.test" && s.outcome == Outcome::Found));
}

#[tokio::test]
async fn a_microsoft_365_custom_domain_is_office365_via_mx() {
    let dns = DnsServer::start(zone());
    let web = web().await;
    let report = discover(config(&dns, &web).build(), "it@m365.test").await;
    let best = report.best.as_ref().unwrap();
    assert_eq!((best.provider.nylas, best.source), (NylasProvider::Office365, Source::Mx));
    assert_eq!(best.provider.id, "office365");
}

#[tokio::test]
async fn autoconfig_on_the_domains_subdomain_over_https_is_verified() {
    let dns = DnsServer::start(zone());
    let mut web = web().await;
    web.not_found_elsewhere().await;
    let served = web
        .serve(
            "autoconfig.auto.test",
            "/mail/config-v1.1.xml?emailaddress=jane%40auto.test",
            &autoconfig_xml("auto.test", "imap.auto.test", "smtp.auto.test"),
        )
        .await;
    let report = discover(config(&dns, &web).build(), "jane@auto.test").await;
    served.assert_async().await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.source, best.trust),
        (Source::Autoconfig(AutoconfigOrigin::Subdomain), Trust::Verified)
    );
    assert_eq!(best.provider.nylas, NylasProvider::Imap);
    let imap = &best.incoming[0];
    assert_eq!(
        (imap.protocol, imap.host.as_str(), imap.port, imap.security),
        (Protocol::Imap, "imap.auto.test", 993, Security::Tls)
    );
    assert_eq!(imap.username.render(&EmailAddress::parse("jane@auto.test").unwrap()), "jane");
    let json = serde_json::to_value(report.to_json()).unwrap();
    assert_eq!(
        (json["source"].as_str(), json["trust"].as_str()),
        (Some("autoconfig"), Some("verified"))
    );
}

#[tokio::test]
async fn autoconfig_under_well_known_is_found_too() {
    let dns = DnsServer::start(zone());
    let mut web = web().await;
    web.not_found_elsewhere().await;
    web.serve(
        "wellknown.test",
        "/.well-known/autoconfig/mail/config-v1.1.xml",
        &autoconfig_xml("wellknown.test", "mail.wellknown.test", "mail.wellknown.test"),
    )
    .await;
    let report = discover(config(&dns, &web).build(), "bob@wellknown.test").await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.source, best.trust),
        (Source::Autoconfig(AutoconfigOrigin::WellKnown), Trust::Verified)
    );
}

#[tokio::test]
async fn a_domain_hosted_elsewhere_is_found_in_the_ispdb_by_its_mx_host() {
    let dns = DnsServer::start(zone());
    let mut web = web().await;
    web.not_found_elsewhere().await;
    let ispdb = web
        .serve(
            "ispdb.test",
            "/v1.1/hoster.test",
            &autoconfig_xml("hoster.test", "imap.hoster.test", "smtp.hoster.test"),
        )
        .await;
    let report = discover(config(&dns, &web).build(), "amy@hosted.test").await;
    ispdb.assert_async().await;
    let best = report.best.as_ref().unwrap();
    assert_eq!((best.source, best.trust), (Source::MxIspdb, Trust::Unverified));
    assert_eq!(best.incoming[0].host, "imap.hoster.test");
    assert!(
        best.notes.iter().any(|n| n.contains("servers outside hosted.test")),
        "{:?}",
        best.notes
    );
}

#[tokio::test]
async fn a_domain_with_only_srv_records_is_found_by_srv() {
    let dns = DnsServer::start(zone());
    let mut web = web().await;
    web.not_found_elsewhere().await;
    let report = discover(config(&dns, &web).build(), "sam@srvonly.test").await;
    let best = report.best.as_ref().unwrap();
    assert_eq!((best.source, best.trust), (Source::Srv, Trust::Unverified));
    let incoming: Vec<_> =
        best.incoming.iter().map(|s| (s.host.as_str(), s.port, s.security)).collect();
    assert_eq!(
        incoming,
        vec![("imap.srvonly.test", 993, Security::Tls)],
        "the '.' target is not offered"
    );
    assert_eq!(
        (best.outgoing[0].host.as_str(), best.outgoing[0].security),
        ("smtp.srvonly.test", Security::StartTls)
    );
}

#[tokio::test]
async fn autoconfig_hosts_in_private_space_are_refused_unless_allowed() {
    let dns = DnsServer::start(zone());
    let mut web = web().await;
    web.not_found_elsewhere().await;
    web.serve(
        "autoconfig.evil.test",
        "/mail/config-v1.1.xml",
        &autoconfig_xml("evil.test", "imap.evil.test", "smtp.evil.test"),
    )
    .await;
    let strict = config(&dns, &web)
        .address_policy(AddressPolicy::strict())
        .provider_options(ImapOptions::default().ispdb_url(None))
        .build();
    let before = web.tls.connections();
    let report = discover(strict.clone(), "x@evil.test").await;
    assert!(report.best.is_none());
    assert!(
        report.trace.iter().any(|s| s.source == "autoconfig" && s.detail.contains("loopback")),
        "{:#?}",
        report.trace
    );
    assert_eq!(web.tls.connections(), before, "no connection reached the server");
    let report = discover(strict, "x@metadata.test").await;
    assert!(
        report.trace.iter().any(|s| s.detail.contains("169.254.169.254")),
        "{:#?}",
        report.trace
    );
    assert_eq!(report.failure.as_ref().map(|f| f.kind), Some(FailureKind::Network));

    let open = config(&dns, &web).address_policy(AddressPolicy::allow_all()).build();
    let report = discover(open, "x@evil.test").await;
    assert_eq!(
        report.best.as_ref().map(|d| d.source),
        Some(Source::Autoconfig(AutoconfigOrigin::Subdomain))
    );
}

#[tokio::test]
async fn plain_http_autoconfig_is_tried_only_when_allowed_and_is_unverified() {
    let dns = DnsServer::start(zone().a("autoconfig.plain.test", LOCALHOST));
    let mut web = web().await;
    web.not_found_elsewhere().await;
    web.serve(
        "autoconfig.plain.test",
        "/mail/config-v1.1.xml",
        &autoconfig_xml("plain.test", "imap.plain.test", "smtp.plain.test"),
    )
    .await;
    // https to autoconfig.plain.test fails (the certificate does not name it); http is not tried.
    let report = discover(config(&dns, &web).build(), "p@plain.test").await;
    assert!(report.best.is_none());
    let report = discover(
        config(&dns, &web).provider_options(ImapOptions::default().allow_http(true)).build(),
        "p@plain.test",
    )
    .await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.source, best.trust),
        (Source::Autoconfig(AutoconfigOrigin::Subdomain), Trust::Unverified)
    );
}

#[tokio::test]
async fn the_deadline_bounds_a_dns_server_that_never_answers() {
    let dns = DnsServer::start(zone());
    let web = web().await;
    let config = config(&dns, &web)
        .dns_timeout(Duration::from_secs(30))
        .deadline(Duration::from_millis(800))
        .build();
    let started = Instant::now();
    let report = discover(config, "x@slow.test").await;
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(report.failure.as_ref().map(|f| f.kind), Some(FailureKind::Timeout));
    assert!(report.trace.iter().any(|s| s.outcome == Outcome::Timeout));
}

#[tokio::test]
async fn nothing_anywhere_is_not_found() {
    let dns = DnsServer::start(zone().empty("nothing.test"));
    let mut web = web().await;
    web.not_found_elsewhere().await;
    let report = discover(config(&dns, &web).build(), "who@nothing.test").await;
    assert!(report.best.is_none());
    assert_eq!(
        report.failure.as_ref().map(|f| f.kind),
        Some(FailureKind::NotFound),
        "{:#?}",
        report.trace
    );
}

#[tokio::test]
async fn a_gateway_mx_is_named_in_the_trace_and_the_domains_own_sources_answer() {
    let dns = DnsServer::start(zone());
    let mut web = web().await;
    web.not_found_elsewhere().await;
    web.serve(
        "autoconfig.filtered.test",
        "/mail/config-v1.1.xml?emailaddress=ann%40filtered.test",
        &autoconfig_xml("filtered.test", "imap.filtered.test", "smtp.filtered.test"),
    )
    .await;
    let report = discover(config(&dns, &web).build(), "ann@filtered.test").await;
    let gateway = report
        .trace
        .iter()
        .find(|s| s.source == "catalogue" && s.target == "MX mx0a-00123456.pphosted.com")
        .unwrap_or_else(|| panic!("no catalogue MX step: {:#?}", report.trace));
    assert_eq!(gateway.outcome, Outcome::Nothing);
    assert!(gateway.detail.contains("filtering gateway (Proofpoint)"), "{}", gateway.detail);
    let best = report.best.as_ref().unwrap_or_else(|| panic!("{:#?}", report.trace));
    assert_eq!(
        (best.source, best.incoming[0].host.as_str()),
        (Source::Autoconfig(AutoconfigOrigin::Subdomain), "imap.filtered.test"),
        "the domain's own autoconfig decides, not the gateway"
    );
}

#[tokio::test]
async fn fingerprinted_hosts_answer_in_one_round_trip() {
    let dns = DnsServer::start(zone());
    let web = web().await;
    let report = discover(config(&dns, &web).build(), "owner@shop.test").await;
    let best = report.best.as_ref().unwrap();
    assert_eq!((best.provider.id.as_str(), best.source), ("privateemail", Source::Mx));
    assert_eq!(best.incoming[0].host, "mail.privateemail.com");
    assert_eq!(dns.count("shop.test", RecordType::MX), 1);

    let report = discover(config(&dns, &web).build(), "it@dnssec.test").await;
    let best = report.best.as_ref().unwrap();
    assert_eq!((best.provider.id.as_str(), best.source), ("office365", Source::Mx));
}

/// The six SRV names of a domain are asked at once: while the first is still unanswered, the
/// last has been asked already.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn srv_names_are_asked_at_once() {
    let zone = Zone::new()
        .srv("_imaps._tcp.overlap.test", 0, 1, 993, "imap.overlap.test")
        .delay("_imaps._tcp.overlap.test", Duration::from_secs(2));
    let dns = DnsServer::start(zone);
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(Duration::from_secs(5))
        .build();
    let discovery = Discovery::new(config).unwrap();
    let ctx = discovery.context();
    let lookup = tokio::spawn(async move {
        nativeauth::providers::imap::srv_servers(&ctx, "overlap.test").await
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let asked: Vec<String> = dns.queries().into_iter().map(|(name, _)| name).collect();
    assert!(!lookup.is_finished(), "the delayed answer is still awaited");
    for service in
        ["_imap._tcp", "_pop3s._tcp", "_pop3._tcp", "_submissions._tcp", "_submission._tcp"]
    {
        let name = format!("{service}.overlap.test");
        assert!(
            asked.iter().any(|q| q.trim_end_matches('.') == name),
            "{name} not asked yet: {asked:?}"
        );
    }
    let found = lookup.await.unwrap().unwrap();
    assert_eq!(found.incoming[0].host, "imap.overlap.test");
}
