//! The autodiscover parsers against every fixture, asserting the documented values.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use nativeauth_core::{Protocol, Security};
use nativeauth_exchange::{AutodiscoverParseError, AutodiscoverSettings, PoxResponse, parse_pox};

fn read(path: &str) -> String {
    std::fs::read_to_string(nativeauth_testkit::data_dir().join("fixtures").join(path)).unwrap()
}

fn pox(path: &str) -> Result<PoxResponse, AutodiscoverParseError> {
    parse_pox(&read(path))
}

fn settings(path: &str) -> AutodiscoverSettings {
    match pox(path).unwrap() {
        PoxResponse::Settings(settings) => settings,
        other => panic!("{path}: {other:?}"),
    }
}

#[test]
fn exchangelib_pox_fixtures() {
    let s = settings("exchangelib/rendered/pox-01-settings.rendered.xml");
    assert_eq!(s.smtp_address.as_deref(), Some("john@example.com"));
    assert_eq!(s.ews_url(), Some("https://expr.example.com/EWS/Exchange.asmx"));
    assert_eq!(s.protocols.len(), 1);
    assert!(
        matches!(pox("exchangelib/rendered/pox-02-redirect-addr.rendered.xml").unwrap(), PoxResponse::RedirectAddr(a) if a.contains('@'))
    );
    assert!(
        matches!(pox("exchangelib/rendered/pox-03-redirect-url.rendered.xml").unwrap(), PoxResponse::RedirectUrl(u) if u.starts_with("https://"))
    );
    assert!(matches!(pox("exchangelib/pox-04-not-xml.txt"), Err(AutodiscoverParseError::Xml(_))));
    assert_eq!(
        pox("exchangelib/pox-05-unknown-root.xml"),
        Err(AutodiscoverParseError::UnexpectedRoot("foo".into()))
    );
    assert_eq!(
        pox("exchangelib/pox-06-redirect-addr.xml").unwrap(),
        PoxResponse::RedirectAddr("foo@example.com".into())
    );
    assert_eq!(
        pox("exchangelib/pox-07-redirect-url.xml").unwrap(),
        PoxResponse::RedirectUrl("https://example.com/foo.asmx".into())
    );
    let s = settings("exchangelib/pox-08-settings-exch-and-expr.xml");
    assert_eq!(
        s.ews_url(),
        Some("https://expr.example.com/EWS/Exchange.asmx"),
        "EXPR is preferred"
    );
    assert_eq!(s.eas_host().as_deref(), Some("expr.example.com"));
    let s = settings("exchangelib/pox-09-settings-exch-only.xml");
    assert_eq!(
        s.ews_url(),
        Some("https://exch.example.com/EWS/Exchange.asmx"),
        "EXCH is the fallback"
    );
    let s = settings("exchangelib/pox-10-settings-unknown-type.xml");
    assert_eq!(s.ews_url(), None, "an unknown Type has no EWS URL, and parsing does not fail");
    assert_eq!(s.protocols[0].kind, "XXX");
}

#[test]
fn exchangelib_soap_fixtures_get_a_clear_error() {
    for file in [
        "exchangelib/rendered/soap-01-settings.rendered.xml",
        "exchangelib/rendered/soap-02-redirect-address.rendered.xml",
        "exchangelib/rendered/soap-03-redirect-url.rendered.xml",
        "exchangelib/soap-04-error-invalid-setting.xml",
        "exchangelib/soap-05-error-internal-server-error.xml",
    ] {
        assert_eq!(pox(file), Err(AutodiscoverParseError::Soap), "{file}");
    }
}

#[test]
fn deltachat_fixtures() {
    // Starts with a newline before the XML declaration: accepted.
    assert_eq!(
        pox("deltachat/outlook-autodiscover-redirect.xml").unwrap(),
        PoxResponse::RedirectUrl("https://mail.example.com/autodiscover/autodiscover.xml".into())
    );
    let s = settings("deltachat/outlook-autodiscover-settings.xml");
    let (incoming, outgoing) = s.mail_servers();
    let imap = &incoming[0];
    assert_eq!(
        (imap.protocol, imap.host.as_str(), imap.port, imap.security),
        (Protocol::Imap, "example.com", 993, Security::Tls)
    );
    let smtp = &outgoing[0];
    assert_eq!(
        (smtp.protocol, smtp.host.as_str(), smtp.port, smtp.security),
        (Protocol::Smtp, "smtp.example.com", 25, Security::Plain)
    );
    assert_eq!(s.ews_url(), None);
}

#[test]
fn thunderbird_exchange_fixture() {
    let s = settings("thunderbird/exchange.test.xml");
    assert_eq!(s.smtp_address.as_deref(), Some("testExchange@exchange.test"));
    assert_eq!(s.display_name.as_deref(), Some("Test Accounts"));
    assert_eq!(s.ews_url(), Some("https://outlook.office365.com/EWS/Exchange.asmx"));
    assert_eq!(s.eas_host().as_deref(), Some("outlook.office365.com"));
    assert_eq!(s.protocol("EXPR").unwrap().ssl, Some(true));
    assert_eq!(s.protocol("expr").unwrap().auth_package.as_deref(), Some("Basic"));
}

#[test]
fn errors_and_variants_real_servers_send() {
    let error = r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
      <Response><Error Time="10:00:00" Id="1"><ErrorCode>500</ErrorCode><Message>The e-mail address cannot be found.</Message><DebugData/></Error></Response></Autodiscover>"#;
    assert_eq!(
        parse_pox(error).unwrap(),
        PoxResponse::Error {
            code: Some("500".into()),
            message: Some("The e-mail address cannot be found.".into())
        }
    );
    let lowercase = "<autodiscover><response><account><action>REDIRECTURL</action><redirecturl>https://x.example/autodiscover/autodiscover.xml</redirecturl></account></response></autodiscover>";
    assert!(matches!(parse_pox(lowercase).unwrap(), PoxResponse::RedirectUrl(_)));
    let prefixed = "<a:Autodiscover xmlns:a=\"urn:x\"><a:Response><a:Account><a:Action>settings</a:Action><a:Protocol><a:Type>EXPR</a:Type><a:EwsUrl>https://mail.example.com/EWS/Exchange.asmx</a:EwsUrl></a:Protocol></a:Account></a:Response></a:Autodiscover>";
    assert!(
        matches!(parse_pox(prefixed).unwrap(), PoxResponse::Settings(s) if s.ews_url().is_some())
    );
    assert_eq!(parse_pox("<Autodiscover/>"), Err(AutodiscoverParseError::NoResponse));
    assert!(matches!(
        parse_pox(
            "<Autodiscover><Response><Account><Action>redirectAddr</Action></Account></Response></Autodiscover>"
        ),
        Err(AutodiscoverParseError::MissingRedirectTarget(_))
    ));
    assert!(
        matches!(parse_pox("<Autodiscover><Response><Account><Action>dance</Action></Account></Response></Autodiscover>"), Err(AutodiscoverParseError::UnknownAction(a)) if a == "dance")
    );
}
