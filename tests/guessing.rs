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
