//! The whole native-auth flow through the facade — discover → authorize → token — against a
//! local mock of the API, with every log line at TRACE level and every Debug/Display/error
//! string of the flow checked for secrets.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::fmt::Write as _;
use std::io;
use std::sync::{Arc, Mutex};

use mockito::{Matcher, Server};
use nativeauth::connect::{AuthorizeRequest, ConnectClient, Credentials, CustomAuthRequest};
use nativeauth::{Discovery, DiscoveryConfig, EmailAddress};
use serde_json::json;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

const CLIENT_ID: &str = "flow-client-id";
const CLIENT_SECRET: &str = "flow-client-SECRET-7f3a";
const PASSWORD: &str = "flow-PASSWORD-91c2";
const CODE: &str = "flow-CODE-55e1";
const ACCESS_TOKEN: &str = "flow-ACCESS-TOKEN-0b9d";
const OAUTH_SECRET: &str = "flow-OAUTH-SECRET-a1";
const REFRESH_TOKEN: &str = "flow-REFRESH-TOKEN-c3";
const SECRETS: [&str; 6] =
    [CLIENT_SECRET, PASSWORD, CODE, ACCESS_TOKEN, OAUTH_SECRET, REFRESH_TOKEN];

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn capture_all_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    // Everything at TRACE, from our crates and from reqwest, hyper and rustls (through the
    // `log` bridge) — but not the mock server's own logs, which naturally show what it received.
    let filter =
        Targets::new().with_default(LevelFilter::TRACE).with_target("mockito", LevelFilter::OFF);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .with_filter(filter),
        )
        .init();
    tracing_log::LogTracer::init().ok();
    captured
}

fn account_json(email: &str, provider: &str) -> String {
    json!({
        "access_token": ACCESS_TOKEN, "account_id": "acc-9", "billing_state": "paid", "email_address": email,
        "id": "acc-9", "linked_at": 1_700_000_000, "name": "Jane", "object": "account",
        "organization_unit": "folder", "provider": provider, "sync_state": "running"
    })
    .to_string()
}

#[tokio::test]
async fn the_whole_flow_works_and_no_secret_reaches_logs_or_messages() {
    let logs = capture_all_logs();
    let mut seen = String::new();
    let mut server = Server::new_async().await;
    let client = ConnectClient::builder(CLIENT_ID, CLIENT_SECRET)
        .base_url(server.url())
        .allow_loopback_http(true)
        .build()
        .unwrap();
    let discovery = Discovery::new(DiscoveryConfig::builder().offline(true).build()).unwrap();

    // 1. A generic IMAP provider from the catalogue, with a password.
    let email = EmailAddress::parse("Jane@Comcast.net").unwrap();
    let report = discovery.discover(&email).await;
    let detection = report.best.clone().unwrap();
    let creds = Credentials::password(PASSWORD);
    let request = AuthorizeRequest::new(
        CLIENT_ID,
        "Jane",
        &email,
        &detection,
        &creds,
        "email.read_only".parse().unwrap(),
    )
    .unwrap();
    let authorize = server
        .mock("POST", "/connect/authorize")
        .match_body(Matcher::PartialJson(json!({
            "client_id": CLIENT_ID, "email_address": "Jane@comcast.net", "provider": "imap",
            "settings": {"imap_host": "imap.comcast.net", "imap_password": PASSWORD, "smtp_password": PASSWORD}
        })))
        .with_header("content-type", "application/json")
        .with_body(json!({"code": CODE}).to_string())
        .expect(1)
        .create_async()
        .await;
    let token = server
        .mock("POST", "/connect/token")
        .match_body(Matcher::Json(
            json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": CODE}),
        ))
        .with_header("content-type", "application/json")
        .with_body(account_json("Jane@comcast.net", "imap"))
        .expect(1)
        .create_async()
        .await;
    let code = client.authorize(&request).await.unwrap();
    write!(seen, "{report:?} {detection:?} {creds:?} {request:?} {code:?} {client:?}").unwrap();
    let account = client.token(code).await.unwrap();
    write!(seen, "{account:?}").unwrap();
    authorize.assert_async().await;
    token.assert_async().await;
    assert_eq!(account.email_address, "Jane@comcast.net");
    server.reset();

    // 2. Gmail with OAuth material, and the v3 body from the same inputs.
    let email = EmailAddress::parse("jane@gmail.com").unwrap();
    let detection = discovery.discover(&email).await.best.unwrap();
    let oauth = Credentials::oauth("google-client", OAUTH_SECRET, REFRESH_TOKEN, None);
    let request = AuthorizeRequest::new(
        CLIENT_ID,
        "Jane",
        &email,
        &detection,
        &oauth,
        "email".parse().unwrap(),
    )
    .unwrap();
    let v3 = CustomAuthRequest::new(&email, &detection, &oauth).unwrap();
    write!(seen, "{oauth:?} {request:?} {v3:?}").unwrap();
    let authorize = server
        .mock("POST", "/connect/authorize")
        .match_body(Matcher::PartialJson(json!({"provider": "gmail", "settings": {"google_refresh_token": REFRESH_TOKEN, "google_client_secret": OAUTH_SECRET}})))
        .with_header("content-type", "application/json")
        .with_body(json!({"code": CODE}).to_string())
        .create_async()
        .await;
    let code = client.authorize(&request).await.unwrap();
    authorize.assert_async().await;

    // 3. Error paths: the code refused as an HTML page, the password refused with 403.
    let token = server
        .mock("POST", "/connect/token")
        .with_status(400)
        .with_header("content-type", "text/html")
        .with_body(format!(
            "<html><head><title>Bad code</title></head><body>{CODE} was already used</body></html>"
        ))
        .create_async()
        .await;
    let error = client.token(code).await.unwrap_err();
    token.assert_async().await;
    write!(seen, "{error} {error:?}").unwrap();
    server.reset();
    server
        .mock("POST", "/connect/authorize")
        .with_status(403)
        .with_header("content-type", "application/json")
        .with_body(r#"{"message":"Invalid credentials","type":"auth_error"}"#)
        .create_async()
        .await;
    let error = client.authorize(&request).await.unwrap_err();
    write!(seen, "{error} {error:?}").unwrap();

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("POST /connect/authorize"), "the capture works: {logs}");
    assert!(logs.contains("TRACE"), "TRACE-level events were captured");
    assert!(
        logs.contains("reqwest") && logs.contains("hyper_util"),
        "HTTP-stack logs were captured"
    );
    for secret in SECRETS {
        assert!(!logs.contains(secret), "{secret} appeared in the logs");
        assert!(!seen.contains(secret), "{secret} appeared in a Debug/Display/error string");
    }
}
