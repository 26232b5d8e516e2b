//! Servers a user types stay inside the address's own mail setup (`typed_servers`), in the JSON
//! API and in the no-JavaScript form alike: a host of the address's registrable domain, or a
//! server of the known mail host its MX points to; never an IP literal or `localhost`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{Harness, start};
use nativeauth::{AddressPolicy, DiscoveryConfig};
use nativeauth_server::{Api, TypedServers};
use nativeauth_testkit::{DnsServer, Zone};
use serde_json::{Value, json};

/// The outcome of signing in as `email` with typed servers through both front ends: (status,
/// kind) from the JSON API and (status, page text) from the form.
async fn both(
    harness: &Harness,
    email: &str,
    imap: &str,
    smtp: &str,
) -> ((u16, String), (u16, String)) {
    let session = harness.open("").await;
    let response = harness
        .login(
            &session,
            json!({ "email": email, "password": "pw", "imap_host": imap, "imap_port": 993,
                    "smtp_host": smtp, "smtp_port": 465 }),
        )
        .await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let kind = body["kind"].as_str().unwrap_or("ok").to_owned();
    let message = body["message"].as_str().unwrap_or_default().to_owned();
    let form = harness
        .post_form(
            "/login",
            &session.cookies,
            &[
                ("csrf", session.csrf.as_str()),
                ("email", email),
                ("password", "pw"),
                ("imap_host", imap),
                ("imap_port", "993"),
                ("smtp_host", smtp),
                ("smtp_port", "465"),
            ],
        )
        .await;
    let form_status = form.status().as_u16();
    let html = form.text().await.unwrap();
    let json_side = (status, if status == 200 { kind } else { format!("{kind}: {message}") });
    (json_side, (form_status, html))
}

fn refused(outcome: &((u16, String), (u16, String)), naming: &str) {
    let ((status, kind), (form_status, html)) = outcome;
    assert_eq!(*status, 400, "{kind}");
    assert!(kind.starts_with("server-not-allowed") && kind.contains(naming), "{kind}");
    assert_eq!(*form_status, 400);
    assert!(html.contains(naming) && html.contains(r#"id="error""#), "{html}");
}

fn accepted(outcome: &((u16, String), (u16, String))) {
    let ((status, kind), (form_status, _)) = outcome;
    assert_eq!((*status, kind.as_str()), (200, "ok"));
    assert_eq!(*form_status, 303, "the form signs in and redirects");
}

#[tokio::test]
async fn offline_only_the_address_domain_is_accepted() {
    let harness = start(Api::V3, None, |file| file.login_attempts_per_minute = 1000).await;
    let email = "cfo@northbeam-corp.com";
    refused(
        &both(&harness, email, "imap.attacker-mail.net", "smtp.northbeam-corp.com").await,
        "northbeam-corp.com",
    );
    refused(
        &both(&harness, email, "imap.northbeam-corp.com", "smtp.attacker-mail.net").await,
        "northbeam-corp.com",
    );
    refused(
        &both(&harness, email, "northbeam-corp.com.attacker-mail.net", "smtp.northbeam-corp.com")
            .await,
        "northbeam-corp.com",
    );
    for literal in ["127.0.0.1", "localhost", "[::1]", "2130706433"] {
        let outcome = both(&harness, email, literal, "smtp.northbeam-corp.com").await;
        let ((status, kind), (form_status, html)) = &outcome;
        assert_eq!((*status, *form_status), (400, 400), "{literal}: {kind}");
        assert!(kind.starts_with("server-not-allowed"), "{literal}: {kind}");
        assert!(html.contains("not a number or localhost"), "{literal}");
    }
    assert!(harness.callbacks_settled().await.is_empty(), "nothing refused reached the API");
    accepted(&both(&harness, email, "imap.northbeam-corp.com", "mail.northbeam-corp.com").await);
}

#[tokio::test]
async fn a_hosting_suffix_is_each_customers_own_domain() {
    let harness = start(Api::V3, None, |file| file.login_attempts_per_minute = 1000).await;
    let email = "ann@shop.github.io";
    refused(
        &both(&harness, email, "imap.attacker.github.io", "smtp.attacker.github.io").await,
        "shop.github.io",
    );
    refused(&both(&harness, email, "github.io", "github.io").await, "shop.github.io");
    accepted(&both(&harness, email, "mail.shop.github.io", "mail.shop.github.io").await);
}

#[tokio::test]
async fn a_known_mail_host_behind_the_mx_is_accepted_and_an_unknown_one_is_not() {
    // The primary MX is a host no catalogue pattern knows, the second one is iCloud's.
    let zone = Zone::new().mx("brightwave.test", 10, "filter.unknown-gateway.test").mx(
        "brightwave.test",
        20,
        "mx01.mail.icloud.com",
    );
    let dns = DnsServer::start(zone);
    let discovery = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .address_policy(AddressPolicy::strict())
        .deadline(std::time::Duration::from_secs(3))
        .build();
    let harness =
        start(Api::V3, Some(discovery), |file| file.login_attempts_per_minute = 1000).await;
    let email = "dana@brightwave.test";
    let (status, detected) = harness.detect(email).await;
    assert_eq!((status, detected["detected"].as_bool()), (200, Some(false)), "{detected}");
    // iCloud's own servers, as the catalogue lists them.
    accepted(&both(&harness, email, "imap.mail.me.com", "smtp.mail.me.com").await);
    // Not any host under iCloud's domains: at a hosting company those name its customers too.
    refused(
        &both(&harness, email, "imap.mail.icloud.com", "smtp.mail.me.com").await,
        "brightwave.test",
    );
    refused(&both(&harness, email, "evil.me.com", "smtp.mail.me.com").await, "brightwave.test");
    refused(
        &both(&harness, email, "imap.unknown-gateway.test", "smtp.unknown-gateway.test").await,
        "brightwave.test",
    );
    refused(
        &both(&harness, email, "imap.attacker-mail.net", "smtp.brightwave.test").await,
        "brightwave.test",
    );
    accepted(&both(&harness, email, "imap.brightwave.test", "smtp.brightwave.test").await);
}

#[tokio::test]
async fn any_and_none_are_explicit_choices() {
    let any = start(Api::V3, None, |file| file.typed_servers = TypedServers::Any).await;
    accepted(
        &both(&any, "cfo@northbeam-corp.com", "imap.elsewhere.net", "smtp.elsewhere.net").await,
    );
    let ((status, kind), _) =
        both(&any, "cfo@northbeam-corp.com", "127.0.0.1", "smtp.elsewhere.net").await;
    assert_eq!(status, 400, "{kind}");

    let none = start(Api::V3, None, |file| file.typed_servers = TypedServers::None).await;
    let outcome =
        both(&none, "cfo@northbeam-corp.com", "imap.northbeam-corp.com", "smtp.northbeam-corp.com")
            .await;
    let ((status, kind), (form_status, html)) = &outcome;
    assert_eq!((*status, *form_status), (400, 400), "{kind}");
    assert!(html.contains("cannot connect servers you enter yourself"), "{html}");
}
