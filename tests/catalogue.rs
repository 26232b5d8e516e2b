//! The built-in catalogue's data, through the facade.
#![allow(clippy::print_stdout, clippy::unwrap_used)] // a failed unwrap is a failed test; counts are printed

use std::collections::{BTreeSet, HashSet};

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

/// The most used consumer mailbox domains of each region (free-mail services and the large
/// ISPs' own domains).
const REGIONS: &[(&str, &[&str])] = &[
    (
        "North America",
        &[
            "gmail.com",
            "yahoo.com",
            "outlook.com",
            "hotmail.com",
            "aol.com",
            "icloud.com",
            "comcast.net",
            "verizon.net",
            "att.net",
            "sbcglobal.net",
            "cox.net",
            "charter.net",
            "spectrum.net",
            "bellsouth.net",
            "earthlink.net",
            "shaw.ca",
            "rogers.com",
            "videotron.ca",
            "telus.net",
            "sympatico.ca",
            "bell.net",
        ],
    ),
    (
        "UK and Ireland",
        &[
            "btinternet.com",
            "sky.com",
            "talktalk.net",
            "virginmedia.com",
            "ntlworld.com",
            "blueyonder.co.uk",
            "yahoo.co.uk",
            "hotmail.co.uk",
            "eircom.net",
        ],
    ),
    (
        "Australia and New Zealand",
        &[
            "bigpond.com",
            "bigpond.net.au",
            "optusnet.com.au",
            "iinet.net.au",
            "tpg.com.au",
            "internode.on.net",
            "xtra.co.nz",
        ],
    ),
    (
        "Germany, Austria, Switzerland",
        &[
            "gmx.de",
            "gmx.net",
            "web.de",
            "t-online.de",
            "freenet.de",
            "arcor.de",
            "posteo.de",
            "mailbox.org",
            "gmx.at",
            "gmx.ch",
            "bluewin.ch",
            "aon.at",
        ],
    ),
    ("France", &["orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "neuf.fr"]),
    ("Italy", &["libero.it", "virgilio.it", "alice.it", "tiscali.it", "tim.it"]),
    ("Spain", &["telefonica.net", "movistar.es", "terra.es", "yahoo.es"]),
    (
        "Netherlands and Belgium",
        &[
            "ziggo.nl",
            "kpnmail.nl",
            "planet.nl",
            "hetnet.nl",
            "home.nl",
            "xs4all.nl",
            "telenet.be",
            "skynet.be",
            "proximus.be",
        ],
    ),
    (
        "Poland, Czechia, Slovakia, Hungary, Bulgaria",
        &[
            "wp.pl",
            "o2.pl",
            "onet.pl",
            "interia.pl",
            "op.pl",
            "seznam.cz",
            "email.cz",
            "centrum.cz",
            "azet.sk",
            "centrum.sk",
            "freemail.hu",
            "citromail.hu",
            "abv.bg",
            "mail.bg",
        ],
    ),
    (
        "Russia and Ukraine",
        &[
            "yandex.ru",
            "mail.ru",
            "rambler.ru",
            "bk.ru",
            "list.ru",
            "inbox.ru",
            "ukr.net",
            "i.ua",
            "meta.ua",
        ],
    ),
    (
        "China",
        &[
            "qq.com",
            "163.com",
            "126.com",
            "yeah.net",
            "foxmail.com",
            "aliyun.com",
            "sina.com",
            "sohu.com",
            "139.com",
        ],
    ),
    ("Korea", &["naver.com", "daum.net", "hanmail.net", "nate.com"]),
    (
        "Japan",
        &[
            "yahoo.co.jp",
            "i.softbank.jp",
            "softbank.ne.jp",
            "nifty.com",
            "biglobe.ne.jp",
            "ocn.ne.jp",
            "docomo.ne.jp",
            "ezweb.ne.jp",
            "au.com",
            "so-net.ne.jp",
        ],
    ),
    ("India", &["gmail.com", "yahoo.co.in", "rediffmail.com"]),
    (
        "Brazil",
        &["uol.com.br", "bol.com.br", "terra.com.br", "ig.com.br", "globo.com", "globomail.com"],
    ),
];

/// Regional domains the catalogue does not answer for yet, and why: no server facts that a
/// second source or the provider's own page confirms.
const UNCONFIRMED: &[(&str, &str)] = &[
    ("videotron.ca", "hosts only in guess lists"),
    ("telus.net", "TELUS documents POP3 only"),
    ("eircom.net", "nothing found"),
    ("optusnet.com.au", "nothing found"),
    (
        "iinet.net.au",
        "moving to The Messaging Company (paid); its servers only in an unmerged ISPDB change",
    ),
    ("tpg.com.au", "as iinet.net.au; the old mail.tpg.com.au conflicts with it"),
    ("internode.on.net", "nothing found"),
    ("telefonica.net", "the only source names plaintext servers"),
    ("movistar.es", "nothing found"),
    ("terra.es", "nothing found"),
    ("centrum.cz", "IMAP is documented as free, the hosts only in guess lists"),
    ("azet.sk", "only the former K-9 Mail list"),
    ("centrum.sk", "nothing found"),
    ("freemail.hu", "nothing found"),
    ("citromail.hu", "nothing found"),
    ("abv.bg", "only a user's script"),
    ("mail.bg", "nothing found"),
    ("meta.ua", "nothing found"),
    ("sina.com", "only mutt-wizard's list, without security"),
    ("sohu.com", "only mutt-wizard's list, plaintext ports"),
    ("139.com", "POP3 only in the sources found"),
    ("nate.com", "only a 2011 K-9 Mail entry"),
    (
        "hanmail.net",
        "old K-9 Mail and AOSP lists name imap.hanmail.net and the local part, the ISPDB's \
         daum.net entry imap.daum.net and the whole address",
    ),
    ("docomo.ne.jp", "the user name is the d ACCOUNT ID, not derivable from the address"),
    ("ezweb.ne.jp", "the user name is an au ID, not the address; no au page found"),
    ("au.com", "as ezweb.ne.jp"),
    ("so-net.ne.jp", "nothing found"),
    ("terra.com.br", "nothing found"),
    ("ig.com.br", "nothing found"),
    ("globo.com", "nothing found"),
    ("globomail.com", "nothing found"),
];

/// Each region's most used mailbox domains answer offline, but for the few listed as
/// unconfirmed, each with its reason; an unconfirmed domain that the catalogue knows by now
/// must leave that list.
#[test]
fn the_most_used_regional_domains_answer_offline() {
    let catalogue = builtin();
    let unconfirmed = |domain: &str| UNCONFIRMED.iter().any(|(d, _)| *d == domain);
    let mut problems = Vec::new();
    // A domain counted in two regions (gmail.com) counts once in the total.
    let (mut asked, mut known) = (BTreeSet::new(), BTreeSet::new());
    for (region, domains) in REGIONS {
        let answered = domains.iter().filter(|d| catalogue.lookup(d).is_some()).count();
        for domain in *domains {
            match (catalogue.lookup(domain), unconfirmed(domain)) {
                (Some(found), true) => problems.push(format!(
                    "{domain} is known now (entry `{}`): take it off UNCONFIRMED",
                    found.entry.id
                )),
                (None, false) => problems.push(format!("{region}: {domain} is unknown")),
                _ => {}
            }
        }
        println!("{region}: {answered} / {} answer offline", domains.len());
        asked.extend(domains.iter().copied());
        known.extend(domains.iter().copied().filter(|d| catalogue.lookup(d).is_some()));
    }
    for (domain, reason) in UNCONFIRMED {
        if !REGIONS.iter().any(|(_, domains)| domains.contains(domain)) {
            problems.push(format!("unconfirmed {domain} ({reason}) is in no region"));
        }
    }
    println!("all regions: {} / {} answer offline", known.len(), asked.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Microsoft 365 is one provider whichever source finds it: the catalogue's `office365` entry
/// names it as the model does, and its IMAP server is Microsoft 365's host.
#[test]
fn the_catalogues_microsoft_365_is_the_models() {
    let entry = builtin().entry("office365").unwrap();
    let model = nativeauth::ProviderInfo::microsoft_365();
    assert_eq!(
        (entry.id.as_str(), entry.name.as_str(), entry.nylas),
        (model.id.as_str(), model.name.as_str(), model.nylas)
    );
    assert_eq!(entry.incoming[0].host, nativeauth::ProviderInfo::MICROSOFT_365_HOST);
}
