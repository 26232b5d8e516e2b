//! Probing guessed servers against loopback IMAP/SMTP servers that speak just enough protocol.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use nativeauth_core::plugin::DiscoveryContext;
use nativeauth_core::{AddressPolicy, Discovery, DiscoveryConfig, Protocol, Security};
use nativeauth_imap::probe::{ProbeTarget, Prober, SessionError};
use nativeauth_testkit::{DnsServer, MailMode, MailProtocol, MailServer, TestCa, Zone};

fn zone() -> Zone {
    Zone::new()
        .a("imap.guess.test", Ipv4Addr::LOCALHOST)
        .a("smtp.guess.test", Ipv4Addr::LOCALHOST)
        .a("mail.guess.test", Ipv4Addr::LOCALHOST)
}

/// A run's context with our resolver, the test CA (when given) and `policy`.
fn context(dns: &DnsServer, ca: Option<&TestCa>, policy: AddressPolicy) -> DiscoveryContext {
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(Duration::from_secs(1))
        .extra_roots(ca.map(|c| vec![c.root()]).unwrap_or_default())
        .address_policy(policy)
        .build();
    Discovery::with_providers(config, Vec::new()).unwrap().context()
}

fn prober(ctx: &DiscoveryContext) -> Prober<'_> {
    Prober::new(ctx, Duration::from_millis(800)).unwrap()
}

fn loopback() -> AddressPolicy {
    AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()])
}

fn target(host: &str, server: &MailServer, protocol: Protocol, security: Security) -> ProbeTarget {
    ProbeTarget { host: host.into(), port: server.addr().port(), protocol, security }
}

#[tokio::test]
async fn imap_with_implicit_tls_and_with_advertised_starttls() {
    let ca = TestCa::new(&["imap.guess.test"]);
    let dns = DnsServer::start(zone());
    let tls = MailServer::start(MailProtocol::Imap, MailMode::ImplicitTls(&ca));
    let starttls = MailServer::start(MailProtocol::Imap, MailMode::Plain { starttls: Some(&ca) });
    let ctx = context(&dns, Some(&ca), loopback());
    let prober = prober(&ctx);
    let report = prober
        .probe(&target("imap.guess.test", &tls, Protocol::Imap, Security::Tls))
        .await
        .unwrap();
    assert!(report.capabilities.contains(&"IMAP4REV1".to_owned()), "{:?}", report.capabilities);
    let report = prober
        .probe(&target("imap.guess.test", &starttls, Protocol::Imap, Security::StartTls))
        .await
        .unwrap();
    assert!(
        !report.capabilities.contains(&"STARTTLS".to_owned()),
        "capabilities after the upgrade: {:?}",
        report.capabilities
    );
    assert!(starttls.commands().iter().any(|c| c.ends_with("STARTTLS")));
    tls.assert_no_credentials();
    starttls.assert_no_credentials();
}

#[tokio::test]
async fn starttls_counts_only_when_advertised() {
    let ca = TestCa::new(&["imap.guess.test", "smtp.guess.test"]);
    let dns = DnsServer::start(zone());
    let imap = MailServer::start(MailProtocol::Imap, MailMode::Plain { starttls: None });
    let smtp = MailServer::start(MailProtocol::Smtp, MailMode::Plain { starttls: None });
    let ctx = context(&dns, Some(&ca), loopback());
    let prober = prober(&ctx);
    let error = prober
        .probe(&target("imap.guess.test", &imap, Protocol::Imap, Security::StartTls))
        .await
        .unwrap_err();
    assert_eq!(error, SessionError::NoStartTls);
    let error = prober
        .probe(&target("smtp.guess.test", &smtp, Protocol::Smtp, Security::StartTls))
        .await
        .unwrap_err();
    assert_eq!(error, SessionError::NoStartTls);
    assert!(
        !imap.commands().iter().any(|c| c.to_ascii_uppercase().contains("STARTTLS")),
        "{:?}",
        imap.commands()
    );
    let plain = ProbeTarget {
        security: Security::Plain,
        ..target("imap.guess.test", &imap, Protocol::Imap, Security::Plain)
    };
    assert_eq!(prober.probe(&plain).await.unwrap_err(), SessionError::Plaintext);
}

#[tokio::test]
async fn smtp_with_implicit_tls_and_with_starttls() {
    let ca = TestCa::new(&["smtp.guess.test"]);
    let dns = DnsServer::start(zone());
    let tls = MailServer::start(MailProtocol::Smtp, MailMode::ImplicitTls(&ca));
    let starttls = MailServer::start(MailProtocol::Smtp, MailMode::Plain { starttls: Some(&ca) });
    let ctx = context(&dns, Some(&ca), loopback());
    let prober = prober(&ctx);
    let report = prober
        .probe(&target("smtp.guess.test", &tls, Protocol::Smtp, Security::Tls))
        .await
        .unwrap();
    assert!(report.capabilities.contains(&"PIPELINING".to_owned()), "{:?}", report.capabilities);
    prober
        .probe(&target("smtp.guess.test", &starttls, Protocol::Smtp, Security::StartTls))
        .await
        .unwrap();
    assert!(tls.commands().iter().any(|c| c.starts_with("EHLO")));
    tls.assert_no_credentials();
    starttls.assert_no_credentials();
}

#[tokio::test]
async fn certificates_are_verified() {
    let ca = TestCa::new(&["imap.guess.test"]);
    let dns = DnsServer::start(zone());
    let tls = MailServer::start(MailProtocol::Imap, MailMode::ImplicitTls(&ca));
    let untrusting_ctx = context(&dns, None, loopback());
    let untrusting = prober(&untrusting_ctx);
    let error = untrusting
        .probe(&target("imap.guess.test", &tls, Protocol::Imap, Security::Tls))
        .await
        .unwrap_err();
    assert!(matches!(error, SessionError::Tls(_)), "{error:?}");
    // A name the certificate does not cover.
    let trusting_ctx = context(&dns, Some(&ca), loopback());
    let trusting = prober(&trusting_ctx);
    let error = trusting
        .probe(&target("mail.guess.test", &tls, Protocol::Imap, Security::Tls))
        .await
        .unwrap_err();
    assert!(matches!(error, SessionError::Tls(_)), "{error:?}");
}

#[tokio::test]
async fn a_server_that_never_speaks_times_out() {
    let dns = DnsServer::start(zone());
    let silent = MailServer::start(MailProtocol::Imap, MailMode::Silent);
    let started = Instant::now();
    let ctx = context(&dns, None, loopback());
    let error = prober(&ctx)
        .probe(&target("imap.guess.test", &silent, Protocol::Imap, Security::StartTls))
        .await
        .unwrap_err();
    assert_eq!(error, SessionError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(silent.connections(), 1);
}

#[tokio::test]
async fn the_guard_refuses_before_connecting() {
    let ca = TestCa::new(&["imap.guess.test"]);
    let dns = DnsServer::start(zone());
    let tls = MailServer::start(MailProtocol::Imap, MailMode::ImplicitTls(&ca));
    let ctx = context(&dns, Some(&ca), AddressPolicy::strict());
    let error = prober(&ctx)
        .probe(&target("imap.guess.test", &tls, Protocol::Imap, Security::Tls))
        .await
        .unwrap_err();
    assert!(matches!(error, SessionError::Guard(_)), "{error:?}");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(tls.connections(), 0);
}

/// A guessed submission port that is really SSH: its banner (`SSH-2.0-…`, a `-` where an SMTP
/// continuation has one) is not an SMTP reply, and the probe says so at once instead of waiting
/// for a next line the server never sends.
#[tokio::test]
async fn an_ssh_banner_is_no_smtp_greeting() {
    use tokio::io::AsyncWriteExt;
    let dns = DnsServer::start(zone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").await.unwrap();
        // An SSH server now waits for the client.
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let ctx = context(&dns, None, loopback());
    let ssh = ProbeTarget {
        host: "smtp.guess.test".into(),
        port,
        protocol: Protocol::Smtp,
        security: Security::StartTls,
    };
    let error = prober(&ctx).probe(&ssh).await.unwrap_err();
    assert!(
        matches!(&error, SessionError::Protocol(reply) if reply.contains("SSH-2.0")),
        "{error:?}"
    );
}
