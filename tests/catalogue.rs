//! The built-in catalogue's data, through the facade.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashSet;

use nativeauth::providers::catalogue::{CatalogueChoice, builtin};
use nativeauth::{
    AuthHint, Discovery, DiscoveryConfig, EmailAddress, NylasProvider, Security, Source, Trust,
};

#[test]
fn has_at_least_60_providers_and_900_domains() {
    let catalogue = builtin();
    assert!(catalogue.entries().len() >= 60, "{} providers", catalogue.entries().len());
    assert!(catalogue.domain_count() >= 900, "{} domains", catalogue.domain_count());
}

#[test]
fn big_providers_map_to_their_nylas_provider() {
    let catalogue = builtin();
    let cases = [
        ("gmail.com", NylasProvider::Gmail, AuthHint::OAuth2),
        ("googlemail.com", NylasProvider::Gmail, AuthHint::OAuth2),
        ("yahoo.com", NylasProvider::Yahoo, AuthHint::AppPassword),
        ("ymail.com", NylasProvider::Yahoo, AuthHint::AppPassword),
        ("aol.com", NylasProvider::Aol, AuthHint::AppPassword),
        ("icloud.com", NylasProvider::Icloud, AuthHint::AppPassword),
        ("me.com", NylasProvider::Icloud, AuthHint::AppPassword),
        ("mac.com", NylasProvider::Icloud, AuthHint::AppPassword),
        ("outlook.com", NylasProvider::Outlook, AuthHint::OAuth2),
        ("live.com", NylasProvider::Outlook, AuthHint::OAuth2),
        ("hotmail.com", NylasProvider::Hotmail, AuthHint::OAuth2),
        ("gmx.net", NylasProvider::Imap, AuthHint::Password),
        ("web.de", NylasProvider::Imap, AuthHint::Password),
        ("t-online.de", NylasProvider::Imap, AuthHint::Password),
    ];
    for (domain, nylas, auth) in cases {
        let entry = catalogue.lookup(domain).unwrap_or_else(|| panic!("{domain} missing")).entry;
        assert_eq!((entry.nylas, entry.auth), (nylas, auth), "{domain}");
    }
}

#[test]
fn facts_from_the_design_notes_hold() {
    let catalogue = builtin();
    // (domain, imap host, imap port, smtp host, smtp port, smtp security)
    let facts = [
        ("gmail.com", "imap.gmail.com", 993, "smtp.gmail.com", 465, Security::Tls),
        ("yahoo.com", "imap.mail.yahoo.com", 993, "smtp.mail.yahoo.com", 465, Security::Tls),
        ("aol.com", "imap.aol.com", 993, "smtp.aol.com", 465, Security::Tls),
        ("icloud.com", "imap.mail.me.com", 993, "smtp.mail.me.com", 587, Security::StartTls),
        (
            "outlook.com",
            "outlook.office365.com",
            993,
            "smtp.office365.com",
            587,
            Security::StartTls,
        ),
        ("gmx.net", "imap.gmx.net", 993, "mail.gmx.net", 465, Security::Tls),
        ("web.de", "imap.web.de", 993, "smtp.web.de", 587, Security::StartTls),
        ("yandex.ru", "imap.yandex.com", 993, "smtp.yandex.com", 465, Security::Tls),
        ("mail.ru", "imap.mail.ru", 993, "smtp.mail.ru", 465, Security::Tls),
        ("fastmail.com", "imap.fastmail.com", 993, "smtp.fastmail.com", 465, Security::Tls),
        ("zoho.com", "imap.zoho.com", 993, "smtp.zoho.com", 465, Security::Tls),
        ("posteo.de", "posteo.de", 993, "posteo.de", 465, Security::Tls),
        ("mailbox.org", "imap.mailbox.org", 993, "smtp.mailbox.org", 465, Security::Tls),
        (
            "t-online.de",
            "secureimap.t-online.de",
            993,
            "securesmtp.t-online.de",
            465,
            Security::Tls,
        ),
        ("qq.com", "imap.qq.com", 993, "smtp.qq.com", 465, Security::Tls),
    ];
    for (domain, imap, imap_port, smtp, smtp_port, smtp_security) in facts {
        let entry = catalogue.lookup(domain).unwrap_or_else(|| panic!("{domain} missing")).entry;
        let first_in = &entry.incoming[0];
        let first_out = &entry.outgoing[0];
        assert_eq!(
            (first_in.host.as_str(), first_in.port, first_in.security),
            (imap, imap_port, Security::Tls),
            "{domain}"
        );
        assert_eq!(
            (first_out.host.as_str(), first_out.port, first_out.security),
            (smtp, smtp_port, smtp_security),
            "{domain}"
        );
    }
}

#[test]
fn plaintext_is_never_preferred_over_an_encrypted_server() {
    let mut plaintext_only = Vec::new();
    for entry in builtin().entries() {
        for servers in [&entry.incoming, &entry.outgoing] {
            let encrypted = servers.iter().any(|s| s.security.is_encrypted());
            if encrypted {
                assert!(
                    servers[0].security.is_encrypted(),
                    "{} prefers plaintext {}",
                    entry.id,
                    servers[0].host
                );
            } else {
                plaintext_only.push(entry.id.as_str());
            }
        }
    }
    // A few small ISPs offer nothing but plaintext; the big providers never do.
    for id in ["gmail", "yahoo", "aol", "icloud", "outlook", "hotmail", "office365"] {
        assert!(!plaintext_only.contains(&id), "{id}");
    }
}

#[test]
fn every_entry_is_reachable_by_its_domains_and_ids_are_unique() {
    let catalogue = builtin();
    let mut ids = HashSet::new();
    for entry in catalogue.entries() {
        assert!(ids.insert(entry.id.as_str()), "duplicate id {}", entry.id);
        assert!(!entry.domains.is_empty() || !entry.mx.is_empty(), "{} can never match", entry.id);
        for domain in entry.domains.iter().filter(|d| !d.starts_with("*.")) {
            assert_eq!(
                catalogue.lookup(domain).map(|m| m.entry.id.as_str()),
                Some(entry.id.as_str())
            );
        }
    }
}

#[test]
fn providers_that_host_custom_domains_have_mx_patterns() {
    let catalogue = builtin();
    for id in [
        "gmail",
        "office365",
        "zoho",
        "fastmail",
        "icloud",
        "yahoo",
        "gmx",
        "webde",
        "yandex",
        "mailru",
    ] {
        let entry = catalogue.entry(id).unwrap_or_else(|| panic!("no entry {id}"));
        assert!(!entry.mx.is_empty(), "{id} has no MX patterns");
    }
}

#[tokio::test]
async fn an_offline_discovery_answers_from_the_catalogue_with_a_trace() {
    let discovery = Discovery::new(
        DiscoveryConfig::builder().offline(true).provider_options(CatalogueChoice::Builtin).build(),
    )
    .unwrap();
    let email = EmailAddress::parse("Alice@GMAIL.com").unwrap();
    let report = discovery.discover(&email).await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.source, best.trust, best.provider.nylas),
        (Source::Catalogue, Trust::Verified, NylasProvider::Gmail)
    );
    assert_eq!(best.incoming[0].username.render(&email), "Alice@gmail.com");
    assert_eq!(report.trace[0].source, "catalogue");
    let json = serde_json::to_value(report.to_json()).unwrap();
    assert_eq!(json["incoming"][0]["host"], "imap.gmail.com");
}
