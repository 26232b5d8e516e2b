//! Guessing and probing as the last resort, through the facade (with every provider linked),
//! against loopback IMAP/SMTP servers that speak just enough protocol.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::time::Duration;

use nativeauth::AddressPolicy;
use nativeauth::Security;
use nativeauth::providers::imap::ImapOptions;
use nativeauth::providers::imap::ProbePorts;
use nativeauth::providers::microsoft::MicrosoftOptions;
use nativeauth::{AuthHint, Discovery, DiscoveryConfig, EmailAddress, Source, Trust};
use nativeauth_testkit::{DnsServer, MailMode, MailProtocol, MailServer, TestCa, Zone};

fn zone() -> Zone {
    Zone::new()
        .a("imap.guess.test", Ipv4Addr::LOCALHOST)
        .a("smtp.guess.test", Ipv4Addr::LOCALHOST)
        .a("mail.guess.test", Ipv4Addr::LOCALHOST)
}

fn loopback() -> AddressPolicy {
    AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()])
}

#[tokio::test]
async fn discovery_guesses_and_probes_as_the_last_resort() {
    let ca = TestCa::new(&["imap.guess.test", "smtp.guess.test", "mail.guess.test", "guess.test"]);
    let dns = DnsServer::start(zone());
    let imaps = MailServer::start(MailProtocol::Imap, MailMode::ImplicitTls(&ca));
    let imap = MailServer::start(MailProtocol::Imap, MailMode::Plain { starttls: Some(&ca) });
    let submissions = MailServer::start(MailProtocol::Smtp, MailMode::Silent);
    let submission = MailServer::start(MailProtocol::Smtp, MailMode::Plain { starttls: Some(&ca) });
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .extra_roots([ca.root()])
        .address_policy(loopback())
        .provider_options(
            ImapOptions::default()
                .ispdb_url(None)
                .probe_timeout(Duration::from_millis(500))
                .probe_ports(ProbePorts {
                    imaps: imaps.addr().port(),
                    imap: imap.addr().port(),
                    submissions: submissions.addr().port(),
                    submission: submission.addr().port(),
                }),
        )
        .provider_options(MicrosoftOptions { autodiscover_url: None })
        .build();
    let discovery = Discovery::new(config).unwrap();
    let report = discovery.discover(&EmailAddress::parse("g@guess.test").unwrap()).await;
    let best = report.best.as_ref().unwrap_or_else(|| panic!("{:#?}", report.trace));
    assert_eq!(
        (best.source, best.trust, best.auth_hint),
        (Source::Guess, Trust::Unverified, AuthHint::Password)
    );
    let (i, o) = (&best.incoming[0], &best.outgoing[0]);
    assert_eq!(
        (i.host.as_str(), i.port, i.security),
        ("imap.guess.test", imaps.addr().port(), Security::Tls),
        "implicit TLS first"
    );
    assert_eq!(
        (o.host.as_str(), o.port, o.security),
        ("smtp.guess.test", submission.addr().port(), Security::StartTls),
        "465 never spoke; 587 with STARTTLS did"
    );
    assert!(report.trace.iter().filter(|s| s.source == "guess").count() >= 2);
    for server in [&imaps, &imap, &submission] {
        server.assert_no_credentials();
    }
}

#[tokio::test]
async fn each_name_and_type_is_asked_once_per_run() {
    let ca = TestCa::new(&["imap.guess.test", "smtp.guess.test", "mail.guess.test", "guess.test"]);
    let dns = DnsServer::start(zone());
    let imaps = MailServer::start(MailProtocol::Imap, MailMode::ImplicitTls(&ca));
    let smtps = MailServer::start(MailProtocol::Smtp, MailMode::ImplicitTls(&ca));
    let ports = ProbePorts {
        imaps: imaps.addr().port(),
        imap: imaps.addr().port(),
        submissions: smtps.addr().port(),
        submission: smtps.addr().port(),
    };
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .extra_roots([ca.root()])
        .address_policy(loopback())
        .provider_options(ImapOptions::default().ispdb_url(None).probe_ports(ports))
        .provider_options(MicrosoftOptions { autodiscover_url: None })
        .build();
    let discovery = Discovery::new(config).unwrap();
    let report = discovery.discover(&EmailAddress::parse("g@guess.test").unwrap()).await;
    assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Guess), "{report:#?}");
    let queries = dns.queries();
    let mut seen = std::collections::HashSet::new();
    for query in &queries {
        assert!(seen.insert(query.clone()), "{query:?} asked twice: {queries:?}");
    }
}

#[tokio::test]
async fn a_domain_without_mail_hosts_costs_one_round_of_lookups_and_no_probe() {
    // The domain exists, but none of the guessed names does.
    let dns = DnsServer::start(Zone::new().empty("bare.test"));
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .address_policy(loopback())
        .provider_options(ImapOptions::default().ispdb_url(None))
        .provider_options(MicrosoftOptions { autodiscover_url: None })
        .build();
    let discovery = Discovery::new(config).unwrap();
    let started = std::time::Instant::now();
    let report = discovery.discover(&EmailAddress::parse("g@bare.test").unwrap()).await;
    assert!(report.best.is_none());
    assert!(report.trace.iter().all(|s| s.source != "guess"), "no probe: {:#?}", report.trace);
    // Probes used to start 100 ms apart, for twelve candidates.
    assert!(started.elapsed() < Duration::from_millis(900), "{:?}", started.elapsed());
}
