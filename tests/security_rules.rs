//! Our security rules, one test each, each asserting on what the test servers *received* —
//! connections, request URLs, `Authorization` headers — not only on what discovery returned:
//!
//! 1. user-derived hosts resolving to special-purpose addresses are never contacted, also
//!    after DNS rebinding or a redirect;
//! 2. only the special ranges the application names are allowed;
//! 3. credentials never go over plain http;
//! 4. never a parent domain, nor autodiscover of a public suffix;
//! 5. credentials stop before a host outside the user's domain and the allowlist;
//! 6. TLS is verified, with no fallback;
//! 7. answers resting on servers outside the user's domain are trusted less;
//! 8. plaintext servers are listed last;
//! 9. secrets never reach logs, errors or `Debug` (in `tests/connect_flow.rs`);
//! 10. every step is bounded in time and size.
//!
//! Rule 2's proxy variables are tested in `crates/cli/tests/cli_network.rs`, which can set a
//! child process's environment.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::{Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hickory_proto::rr::RecordType;
use mockito::{Matcher, Server};
use nativeauth::AddressPolicy;
use nativeauth::Url;
use nativeauth::connect::{ConnectClient, ConnectError};
use nativeauth::plugin::{FetchError, FetchRequest, GuardedHttp};
use nativeauth::providers::exchange::{
    AutodiscoverCredentials, AutodiscoverOutcome, CredentialRules, autodiscover_with_credentials,
};
use nativeauth::providers::imap::ImapOptions;
use nativeauth::providers::microsoft::MicrosoftOptions;
use nativeauth::secrecy::SecretString;
use nativeauth::{Discovery, DiscoveryConfig, EmailAddress, Security, Source, Trust, UrlPorts};
use nativeauth_testkit::{DnsServer, TestCa, TlsFront, Zone};

/// A listener that counts the connections it accepts.
fn listener(ip: &str) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, count)
}

fn settle() {
    std::thread::sleep(Duration::from_millis(50));
}

fn http(dns: &DnsServer, policy: AddressPolicy) -> GuardedHttp {
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(Duration::from_secs(1))
        .http_timeout(Duration::from_secs(2))
        .address_policy(policy)
        .build();
    let discovery = Discovery::with_providers(config, Vec::new()).unwrap();
    discovery.context().http("test").unwrap().clone()
}

fn get(url: &str) -> FetchRequest {
    FetchRequest::get(Url::parse(url).unwrap()).allow_http(true)
}

#[tokio::test]
async fn rule_1_special_addresses_are_refused_before_connecting_also_after_dns_rebinding() {
    let (port, connections) = listener("127.0.0.1");
    let (private_port, private_connections) = listener("127.0.0.2");
    let dns = DnsServer::start(
        Zone::new()
            .a("metadata.test", Ipv4Addr::new(169, 254, 169, 254))
            // First answer "public" (the one range this test allows), then private.
            .rebinding("rebind.test", &[Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2)]),
    );
    let strict = http(&dns, AddressPolicy::strict());
    for url in [
        format!("http://127.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://metadata.test:{port}/"),
    ] {
        assert!(matches!(strict.fetch(&get(&url)).await, Err(FetchError::Guard(_))), "{url}");
    }
    // A redirect from an allowed server into private space.
    let mut redirecting = Server::new_async().await;
    redirecting
        .mock("GET", "/")
        .with_status(302)
        .with_header("location", &format!("http://127.0.0.2:{private_port}/"))
        .create_async()
        .await;
    let allow_loopback_one =
        http(&dns, AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]));
    let redirected = allow_loopback_one
        .fetch(&get(&format!("http://127.0.0.1:{}/", redirecting.socket_address().port())))
        .await;
    assert!(matches!(redirected, Err(FetchError::Guard(_))), "{redirected:?}");
    settle();
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    assert_eq!(private_connections.load(Ordering::SeqCst), 0);

    // Rebinding: the first lookup is checked and connected to; the second answer is refused.
    let allow_one = http(&dns, AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]));
    let first = allow_one.fetch(&get(&format!("http://rebind.test:{port}/"))).await;
    assert!(!matches!(first, Err(FetchError::Guard(_))), "{first:?}");
    let second = allow_one.fetch(&get(&format!("http://rebind.test:{private_port}/"))).await;
    assert!(matches!(second, Err(FetchError::Guard(_))), "{second:?}");
    settle();
    assert_eq!(connections.load(Ordering::SeqCst), 1, "the checked address, once");
    assert_eq!(private_connections.load(Ordering::SeqCst), 0, "never the rebound address");
    assert_eq!(
        dns.count("rebind.test", RecordType::A),
        2,
        "one lookup per connection, no second lookup"
    );
}

#[tokio::test]
async fn rule_2_only_named_ranges_are_allowed() {
    let (port, connections) = listener("127.0.0.1");
    let (other_port, other_connections) = listener("127.0.0.3");
    let dns = DnsServer::start(
        Zone::new().a("one.test", Ipv4Addr::LOCALHOST).a("three.test", Ipv4Addr::new(127, 0, 0, 3)),
    );
    let named = http(&dns, AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]));
    let _ = named.fetch(&get(&format!("http://one.test:{port}/"))).await;
    assert!(matches!(
        named.fetch(&get(&format!("http://three.test:{other_port}/"))).await,
        Err(FetchError::Guard(_))
    ));
    settle();
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    assert_eq!(other_connections.load(Ordering::SeqCst), 0);
}

const BASIC: &str = "Basic amFuZUBjb3JwLnRlc3Q6czNjcmV0LXB3";

struct Lab {
    dns: DnsServer,
    http: mockito::ServerGuard,
    tls: TlsFront,
    ca: TestCa,
}

async fn lab(hosts: &[&str], zone: Zone) -> Lab {
    let mut zone = zone;
    for host in hosts {
        zone = zone.a(host, Ipv4Addr::LOCALHOST);
    }
    let dns = DnsServer::start(zone);
    let mut http = Server::new_async().await;
    http.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    http.mock("POST", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    let ca = TestCa::new(hosts);
    let tls = TlsFront::start(&ca, http.socket_address());
    Lab { dns, http, tls, ca }
}

impl Lab {
    fn config(&self) -> DiscoveryConfig {
        DiscoveryConfig::builder()
            .nameservers([self.dns.addr()])
            .dns_timeout(Duration::from_millis(700))
            .extra_roots([self.ca.root()])
            .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
            .url_ports(UrlPorts {
                https: self.tls.addr().port(),
                http: self.http.socket_address().port(),
            })
            .provider_options(ImapOptions::default().ispdb_url(None).guess(false))
            .provider_options(MicrosoftOptions { autodiscover_url: None })
            .build()
    }

    async fn with_credentials(&self, address: &str) -> AutodiscoverOutcome {
        let discovery = Discovery::new(self.config()).unwrap();
        let creds = AutodiscoverCredentials {
            username: "jane@corp.test".into(),
            password: SecretString::from("s3cret-pw"),
        };
        let email = EmailAddress::parse(address).unwrap();
        autodiscover_with_credentials(&discovery, &email, &creds, &CredentialRules::default())
            .await
            .result
            .unwrap()
    }
}

#[tokio::test]
async fn rule_3_credentials_never_go_over_plain_http() {
    let mut lab = lab(&["corp.test", "autodiscover.corp.test"], Zone::new()).await;
    let over_http = lab
        .http
        .mock("GET", Matcher::Any)
        .match_header("authorization", Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let over_https = lab
        .http
        .mock("POST", Matcher::Any)
        .match_header("authorization", BASIC)
        .expect_at_least(2)
        .with_status(404)
        .create_async()
        .await;
    assert!(matches!(lab.with_credentials("jane@corp.test").await, AutodiscoverOutcome::NotFound));
    over_http.assert_async().await;
    over_https.assert_async().await;
    // The connect client refuses a plain-http API outside loopback test setups.
    let client = ConnectClient::builder("id", "secret").base_url("http://api.example.com").build();
    assert!(matches!(client, Err(ConnectError::InsecureBaseUrl { .. })));
}

#[tokio::test]
async fn rule_4_never_a_parent_domain_nor_autodiscover_of_a_public_suffix() {
    let mut lab = lab(
        &[
            "mail.corp.test",
            "autodiscover.mail.corp.test",
            "corp.test",
            "autodiscover.corp.test",
            "autodiscover.co.uk",
            "co.uk",
            "example.co.uk",
            "autodiscover.example.co.uk",
        ],
        Zone::new(),
    )
    .await;
    let mut forbidden = Vec::new();
    for host in ["corp\\.test", "autodiscover\\.corp\\.test", "co\\.uk", "autodiscover\\.co\\.uk"] {
        for method in ["GET", "POST"] {
            forbidden.push(
                lab.http
                    .mock(method, Matcher::Any)
                    .match_header("host", Matcher::Regex(format!("^{host}(:\\d+)?$")))
                    .expect(0)
                    .create_async()
                    .await,
            );
        }
    }
    let discovery = Discovery::new(lab.config()).unwrap();
    for address in ["jane@mail.corp.test", "jane@example.co.uk"] {
        discovery.discover(&EmailAddress::parse(address).unwrap()).await;
    }
    for mock in forbidden {
        mock.assert_async().await;
    }
    let asked: Vec<String> = lab.dns.queries().into_iter().map(|(name, _)| name).collect();
    for name in ["corp.test", "autodiscover.corp.test", "co.uk", "autodiscover.co.uk"] {
        assert!(!asked.iter().any(|n| n == name), "{name} was looked up: {asked:?}");
    }
}

#[tokio::test]
async fn rule_5_credentials_stop_before_a_host_outside_the_domain() {
    let mut lab = lab(&["corp.test", "autodiscover.corp.test", "evil.test"], Zone::new()).await;
    let target =
        format!("https://evil.test:{}/autodiscover/autodiscover.xml", lab.tls.addr().port());
    let body = format!(
        r#"<Autodiscover><Response><Account><Action>redirectUrl</Action><RedirectUrl>{target}</RedirectUrl></Account></Response></Autodiscover>"#
    );
    lab.http
        .mock("POST", "/autodiscover/autodiscover.xml")
        .match_header("host", Matcher::Regex("^corp\\.test".into()))
        .match_header("authorization", BASIC)
        .with_body(body)
        .create_async()
        .await;
    let evil = lab
        .http
        .mock("POST", Matcher::Any)
        .match_header("host", Matcher::Regex("^evil\\.test".into()))
        .expect(0)
        .create_async()
        .await;
    match lab.with_credentials("jane@corp.test").await {
        AutodiscoverOutcome::NeedsConfirmation { target: reported, .. } => {
            assert_eq!(reported.as_str(), target)
        }
        other => panic!("{other:?}"),
    }
    evil.assert_async().await;
}

#[tokio::test]
async fn rule_6_tls_is_verified_with_no_fallback() {
    let mut lab =
        lab(&["autoconfig.other.test"], Zone::new().a("autoconfig.tls.test", Ipv4Addr::LOCALHOST))
            .await;
    // The certificate does not name autoconfig.tls.test: the https fetch fails, and nothing is
    // retried over http (plain http is off by default).
    let plain = lab
        .http
        .mock("GET", Matcher::Any)
        .match_header("host", Matcher::Regex("^autoconfig\\.tls\\.test".into()))
        .expect(0)
        .create_async()
        .await;
    let report = Discovery::new(lab.config())
        .unwrap()
        .discover(&EmailAddress::parse("x@tls.test").unwrap())
        .await;
    assert!(report.best.is_none());
    assert!(
        report.trace.iter().any(|s| s.target.starts_with("https://autoconfig.tls.test")
            && s.outcome.as_str() == "error"),
        "{:#?}",
        report.trace
    );
    plain.assert_async().await;
}

const CONFIG: &str = r#"<clientConfig><emailProvider id="x"><domain>x</domain>
<incomingServer type="imap"><hostname>imap.elsewhere.test</hostname><port>143</port><socketType>plain</socketType></incomingServer>
<incomingServer type="imap"><hostname>imap.elsewhere.test</hostname><port>993</port><socketType>SSL</socketType></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.elsewhere.test</hostname><port>465</port><socketType>SSL</socketType></outgoingServer>
</emailProvider></clientConfig>"#;

#[tokio::test]
async fn rule_7_only_https_end_to_end_is_verified() {
    let mut lab =
        lab(&["autoconfig.own.test"], Zone::new().a("autoconfig.plain.test", Ipv4Addr::LOCALHOST))
            .await;
    let served = lab
        .http
        .mock("GET", Matcher::Regex("^/mail/config-v1.1.xml".into()))
        .with_body(CONFIG)
        .expect(2)
        .create_async()
        .await;
    let https = Discovery::new(lab.config())
        .unwrap()
        .discover(&EmailAddress::parse("a@own.test").unwrap())
        .await;
    assert_eq!(
        https.best.as_ref().map(|d| (d.source.as_str(), d.trust)),
        Some(("autoconfig", Trust::Verified))
    );
    let config = DiscoveryConfig::builder()
        .nameservers([lab.dns.addr()])
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .url_ports(UrlPorts {
            https: lab.tls.addr().port(),
            http: lab.http.socket_address().port(),
        })
        .provider_options(ImapOptions::default().ispdb_url(None).guess(false).allow_http(true))
        .build();
    let http = Discovery::new(config)
        .unwrap()
        .discover(&EmailAddress::parse("a@plain.test").unwrap())
        .await;
    let best = http.best.unwrap();
    assert_eq!(
        (best.source, best.trust),
        (Source::Autoconfig(nativeauth::AutoconfigOrigin::Subdomain), Trust::Unverified)
    );
    served.assert_async().await;
}

#[tokio::test]
async fn rule_8_foreign_servers_are_flagged_and_plaintext_is_never_preferred() {
    let mut lab = lab(&["autoconfig.own.test"], Zone::new()).await;
    let served = lab
        .http
        .mock("GET", Matcher::Regex("^/mail/config-v1.1.xml".into()))
        .with_body(CONFIG)
        .expect(1)
        .create_async()
        .await;
    let report = Discovery::new(lab.config())
        .unwrap()
        .discover(&EmailAddress::parse("a@own.test").unwrap())
        .await;
    let best = report.best.unwrap();
    assert_eq!(
        best.incoming[0].security,
        Security::Tls,
        "the plaintext server listed first comes last"
    );
    assert_eq!(best.incoming.last().map(|s| s.security), Some(Security::Plain));
    assert!(best.notes.iter().any(|n| n.contains("servers outside own.test")), "{:?}", best.notes);
    served.assert_async().await;
}

#[tokio::test]
async fn rule_9_secrets_never_reach_logs_at_trace_level() {
    let captured = nativeauth_testkit::CapturedLogs::default();
    let writer = captured.clone();
    // A global subscriber (a thread-local one races with the other tests of this binary over
    // tracing's per-callsite interest cache); the `log` bridge brings reqwest, hyper and
    // rustls in too. The other tests' logs land here as well: none may hold a secret either.
    // The mock server's own logs are left out: they show what it received, by design.
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_target("mockito", tracing_subscriber::filter::LevelFilter::OFF);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .with_filter(filter),
        )
        .init();
    // Autodiscover with credentials sends HTTP Basic: neither the password nor its base64 form
    // may show up in any log line.
    let mut lab = lab(&["corp.test", "autodiscover.corp.test"], Zone::new()).await;
    let received = lab
        .http
        .mock("POST", Matcher::Any)
        .match_header("authorization", BASIC)
        .with_status(404)
        .expect_at_least(1)
        .create_async()
        .await;
    let _ = lab.with_credentials("jane@corp.test").await;
    received.assert_async().await;
    let logs = captured.text();
    assert!(logs.contains("TRACE") && logs.contains("fetch"), "logs were captured");
    for secret in ["s3cret-pw", "amFuZUBjb3JwLnRlc3Q6czNjcmV0LXB3"] {
        let line = logs.lines().find(|l| l.contains(secret));
        assert!(line.is_none(), "{secret} in the logs: {line:?}");
    }
    let creds =
        AutodiscoverCredentials { username: "u".into(), password: SecretString::from("s3cret-pw") };
    assert!(!format!("{creds:?}").contains("s3cret-pw"));
}

#[tokio::test]
async fn rule_10_every_step_is_bounded() {
    // A DNS server that never answers and a deadline: discovery ends on time and says so.
    let dns = DnsServer::start(Zone::new().silent("slow.test"));
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(Duration::from_secs(60))
        .deadline(Duration::from_millis(700))
        .provider_options(ImapOptions::default().guess(false))
        .build();
    let started = std::time::Instant::now();
    let report = Discovery::new(config)
        .unwrap()
        .discover(&EmailAddress::parse("x@slow.test").unwrap())
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(report.failure.is_some());
    // XML entity expansion is never done.
    let bomb =
        "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]><clientConfig>&b;</clientConfig>";
    assert!(nativeauth::providers::imap::autoconfig::parse_autoconfig(bomb).is_err());
}
