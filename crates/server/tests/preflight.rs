//! With `preflight = true` the server signs in to the mail servers before it calls the API:
//! real IMAP and SMTP servers (STARTTLS, a throwaway CA) found through a real DNS server.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::start;
use nativeauth::{AddressPolicy, DiscoveryConfig};
use nativeauth_server::Api;
use nativeauth_testkit::{
    DnsServer, MailAccount, MailMode, MailProtocol, MailServer, TestCa, Zone,
};
use serde_json::{Value, json};

#[tokio::test]
async fn the_password_is_checked_against_the_confirmed_servers_first() {
    let hosts = ["imap.verify.test", "smtp.verify.test"];
    let ca = TestCa::new(&hosts);
    let zone = hosts.iter().fold(Zone::new(), |z, h| z.a(h, std::net::Ipv4Addr::LOCALHOST)).mx(
        "nomail.test",
        0,
        ".",
    );
    let dns = DnsServer::start(zone);
    let account = Some(MailAccount {
        username: "jane@verify.test".into(),
        password: "right".into(),
        refusal: "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)".into(),
    });
    let starttls = || MailMode::Plain { starttls: Some(&ca) };
    let imap = MailServer::start_with_account(MailProtocol::Imap, starttls(), account.clone());
    let smtp = MailServer::start_with_account(MailProtocol::Smtp, starttls(), account);
    let discovery = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .extra_roots([ca.root()])
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .build();
    let harness = start(Api::V2, Some(discovery), |file| file.preflight = true).await;

    let (status, nomail) = harness.detect("jane@nomail.test").await;
    assert_eq!(status, 200);
    assert_eq!(nomail["detected"], false, "{nomail}");
    assert!(
        nomail["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "why nothing was found: {nomail}"
    );

    let session = harness.open("").await;
    let fields = |password: &str| {
        json!({
            "email": "jane@verify.test", "password": password,
            "imap_host": "imap.verify.test", "imap_port": imap.addr().port().to_string(),
            "smtp_host": "smtp.verify.test", "smtp_port": smtp.addr().port().to_string(),
        })
    };
    let refused = harness.login(&session, fields("not-the-password")).await;
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["kind"], "wrong-credentials", "{body}");
    assert!(harness.callbacks_settled().await.is_empty(), "a refused check never reaches the API");
    assert!(imap.commands().iter().any(|c| c.contains("STARTTLS")));

    let accepted = harness.login(&session, fields("right")).await;
    assert_eq!(accepted.status(), 200, "{:?}", accepted.text().await);
    assert_eq!(harness.callbacks_after(1).await.len(), 1);

    let metrics = harness.http.get(format!("{}/metrics", harness.base)).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("nativeauth_logins_total{outcome=\"ok\"} 1"), "{text}");
    assert!(text.contains("nativeauth_logins_total{outcome=\"wrong-credentials\"} 1"), "{text}");
    assert!(text.contains("outcome=\"not-found\""), "{text}");
    assert!(
        text.contains("nativeauth_request_duration_seconds_count{route=\"login\"} 2"),
        "{text}"
    );
    assert!(!text.contains("verify.test") && !text.contains("jane"), "no address in the metrics");
}
