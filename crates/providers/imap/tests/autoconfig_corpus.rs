//! The autoconfig parser against every ISPDB file and every fixture (the testkit's copy of the
//! shared reference data), and against malformed input.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::PathBuf;

use nativeauth_core::{AuthMethod, EmailAddress, Protocol, Security};
use nativeauth_imap::autoconfig::{AutoconfigError, parse_autoconfig};

fn data(path: &str) -> PathBuf {
    nativeauth_testkit::data_dir().join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(data(path)).unwrap()
}

/// The ISPDB goal: at least 99 % of its domains yield usable settings (an incoming server and
/// an SMTP server), and every domain whose file offers IMAP yields an IMAP server (POP3-only
/// providers stay POP3-only: that is the data, not the parser).
#[test]
fn ispdb_domains_yield_usable_settings() {
    let (mut files, mut domains, mut usable, mut imap_offered, mut imap_found) = (0, 0, 0, 0, 0);
    let mut pop3_only = Vec::new();
    for entry in std::fs::read_dir(data("ispdb")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = parse_autoconfig(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!doc.domains.is_empty(), "{} lists no domain", path.display());
        let n = doc.domains.len();
        domains += n;
        if !doc.incoming.is_empty() && !doc.outgoing.is_empty() {
            usable += n;
        }
        if text.contains("incomingServer type=\"imap\"") {
            imap_offered += n;
            if doc.has_imap_and_smtp() {
                imap_found += n;
            }
        } else {
            pop3_only.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    println!(
        "ISPDB: {files} files, {domains} domains; usable incoming+SMTP: {usable} ({:.1} %); \
         IMAP+SMTP: {imap_found} of the {imap_offered} domains whose file offers IMAP; \
         {} POP3-only files",
        usable as f64 * 100.0 / domains as f64,
        pop3_only.len()
    );
    assert_eq!(files, 163);
    assert!(usable as f64 >= 0.99 * domains as f64, "{usable}/{domains}");
    assert_eq!(imap_found, imap_offered, "every IMAP-offering domain yields IMAP+SMTP");
}

#[test]
fn gmail_from_the_ispdb() {
    let doc = parse_autoconfig(&read("ispdb/googlemail.com.xml")).unwrap();
    assert!(doc.lists_domain("gmail.com") && doc.lists_domain("googlemail.com"));
    let imap = &doc.incoming[0];
    assert_eq!(
        (imap.protocol, imap.host.as_str(), imap.port, imap.security),
        (Protocol::Imap, "imap.gmail.com", 993, Security::Tls)
    );
    assert!(imap.auth.contains(&AuthMethod::OAuth2));
    let smtp = &doc.outgoing[0];
    assert_eq!(
        (smtp.host.as_str(), smtp.port, smtp.security),
        ("smtp.gmail.com", 465, Security::Tls)
    );
}

#[test]
fn deltachat_outlook_fixture_with_trailing_text() {
    let doc =
        parse_autoconfig(&read("fixtures/deltachat/mozilla-autoconfig-outlook.com.xml")).unwrap();
    let email = EmailAddress::parse("example@outlook.com").unwrap();
    let imap = doc.incoming.iter().find(|s| s.protocol == Protocol::Imap).unwrap();
    assert_eq!(
        (imap.host.as_str(), imap.port, imap.security),
        ("outlook.office365.com", 993, Security::Tls)
    );
    assert_eq!(imap.username.render(&email), "example@outlook.com");
    let smtp = &doc.outgoing[0];
    assert_eq!(
        (smtp.host.as_str(), smtp.port, smtp.security),
        ("smtp.office365.com", 587, Security::StartTls)
    );
    assert_eq!(doc.outgoing.len(), 1);
    assert!(
        doc.skipped.iter().any(|s| s.kind == "exchange"),
        "the exchange entry is skipped: {:?}",
        doc.skipped
    );
}

#[test]
fn deltachat_lakenet_fixture_keeps_the_providers_order() {
    let doc =
        parse_autoconfig(&read("fixtures/deltachat/mozilla-autoconfig-lakenet.ch.xml")).unwrap();
    let email = EmailAddress::parse("example@lakenet.ch").unwrap();
    let got: Vec<_> = doc
        .incoming
        .iter()
        .map(|s| (s.protocol, s.host.as_str(), s.port, s.security, s.username.render(&email)))
        .collect();
    let user = "example@lakenet.ch".to_owned();
    assert_eq!(
        got,
        vec![
            (Protocol::Imap, "mail.lakenet.ch", 993, Security::Tls, user.clone()),
            (Protocol::Imap, "mail.lakenet.ch", 143, Security::StartTls, user.clone()),
            (Protocol::Pop3, "mail.lakenet.ch", 995, Security::Tls, user.clone()),
            (Protocol::Pop3, "mail.lakenet.ch", 110, Security::StartTls, user.clone()),
        ]
    );
    assert_eq!(doc.outgoing.len(), 1);
    assert_eq!((doc.outgoing[0].port, doc.outgoing[0].security), (587, Security::StartTls));
}

#[test]
fn every_fixture_autoconfig_file_parses() {
    let files = [
        "fixtures/thunderbird/basic.imap.test.xml",
        "fixtures/thunderbird/example.com.xml",
        "fixtures/thunderbird/imap.test.test.xml",
        "fixtures/thunderbird/pop.test.test.xml",
        "fixtures/thunderbird-android/2022-11-19-googlemail.com.xml",
        "fixtures/thunderbird-android/minimalConfig.from-RealAutoconfigParserTest.xml",
    ];
    for file in files {
        let doc = parse_autoconfig(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!doc.incoming.is_empty() || !doc.outgoing.is_empty(), "{file}");
    }
    // Thunderbird's exchange.test.xml is an Exchange autodiscover response, not autoconfig.
    let exchange = parse_autoconfig(&read("fixtures/thunderbird/exchange.test.xml"));
    assert!(
        matches!(&exchange, Err(AutoconfigError::UnexpectedRoot(root)) if root == "Autodiscover"),
        "{exchange:?}"
    );
}

#[test]
fn the_minimal_android_config_has_the_documented_values() {
    let doc = parse_autoconfig(&read(
        "fixtures/thunderbird-android/minimalConfig.from-RealAutoconfigParserTest.xml",
    ))
    .unwrap();
    assert_eq!(doc.incoming.len(), 1);
    assert_eq!(doc.outgoing.len(), 1);
}

#[test]
fn malformed_input_gives_typed_errors() {
    type Check = fn(&AutoconfigError) -> bool;
    let cases: [(&str, Check); 6] = [
        ("", |e| matches!(e, AutoconfigError::Xml(_))),
        ("not xml at all", |e| matches!(e, AutoconfigError::Xml(_))),
        ("<clientConfig><emailProvider>", |e| matches!(e, AutoconfigError::Xml(_))),
        (
            "<html><body>404</body></html>",
            |e| matches!(e, AutoconfigError::UnexpectedRoot(r) if r == "html"),
        ),
        ("<clientConfig version=\"1.1\"/>", |e| matches!(e, AutoconfigError::NoProvider)),
        (
            "<clientConfig><emailProvider id=\"x\"><incomingServer type=\"imap\"><hostname>h.example</hostname><port>99999</port></incomingServer></emailProvider></clientConfig>",
            |e| matches!(e, AutoconfigError::NoServers { skipped } if skipped[0].reason.contains("99999")),
        ),
    ];
    for (input, check) in cases {
        let error = parse_autoconfig(input).unwrap_err();
        assert!(check(&error), "{input:?} gave {error:?}");
    }
}

#[test]
fn invalid_entries_are_skipped_and_plaintext_goes_last() {
    let doc = parse_autoconfig(
        r#"<clientConfig><emailProvider id="x">
        <incomingServer type="imap"><hostname>plain.example.net</hostname><port>143</port><socketType>plain</socketType></incomingServer>
        <incomingServer type="pop3"><hostname>pop.example.net</hostname><port>995</port><socketType>SSL</socketType></incomingServer>
        <incomingServer type="imap"><hostname>imap.example.net</hostname><port>993</port><socketType>tls</socketType>
            <authentication>plain</authentication><authentication>OAuth2</authentication><authentication>password-cleartext</authentication></incomingServer>
        <incomingServer type="imap"><hostname>bad host</hostname><port>993</port></incomingServer>
        <incomingServer type="imap"><hostname>%EMAILLOCALPART%.example.net</hostname><port>993</port></incomingServer>
        <incomingServer type="imap"><hostname>x.example.net</hostname><port>993</port><socketType>ssl3</socketType></incomingServer>
        <INCOMINGSERVER TYPE="IMAP"><HOSTNAME>MAIL.%EMAILDOMAIN%</HOSTNAME><PORT>993</PORT><SOCKETTYPE>SSL</SOCKETTYPE><USERNAME>%EMAILADDRESS</USERNAME></INCOMINGSERVER>
        <outgoingServer type="smtp"><hostname>smtp.example.net</hostname><port>465</port><socketType>SSL</socketType></outgoingServer>
        </emailProvider></clientConfig>"#,
    )
    .unwrap();
    let hosts: Vec<_> = doc.incoming.iter().map(|s| (s.host.as_str(), s.port)).collect();
    assert_eq!(
        hosts,
        vec![
            ("imap.example.net", 993),
            ("mail.%EMAILDOMAIN%", 993),
            ("pop.example.net", 995),
            ("plain.example.net", 143)
        ]
    );
    assert_eq!(doc.incoming[0].auth, vec![AuthMethod::PasswordCleartext, AuthMethod::OAuth2]);
    assert_eq!(doc.incoming[1].username.as_str(), "%EMAILADDRESS%", "the known typo is repaired");
    let email = EmailAddress::parse("a@Customer.Example").unwrap();
    assert_eq!(doc.incoming[1].to_server(&email).host, "mail.customer.example");
    assert_eq!(doc.skipped.len(), 3, "{:?}", doc.skipped);
}
