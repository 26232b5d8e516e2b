//! The sandbox holds to the API's rules (a conformance suite over raw HTTP), and our own v2 and
//! v3 clients complete their flows against it and see every scripted failure, typed.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use nativeauth::connect::{
    AuthorizeRequest, ConnectClient, ConnectError, Credentials, CustomAuthClient, CustomAuthRequest,
};
use nativeauth::{Detection, Discovery, DiscoveryConfig, EmailAddress};
use nativeauth_sandbox::{RunningSandbox, SandboxConfig, serve};
use serde_json::{Value, json};

async fn sandbox(config: SandboxConfig) -> RunningSandbox {
    serve("127.0.0.1:0".parse().unwrap(), config).await.unwrap()
}

/// The catalogue's answer for an address (offline).
async fn detection(address: &str) -> (EmailAddress, Detection) {
    let discovery = Discovery::new(DiscoveryConfig::builder().offline(true).build()).unwrap();
    let email = EmailAddress::parse(address).unwrap();
    let report = discovery.discover(&email).await;
    (email, report.best.unwrap())
}

fn v2_client(sandbox: &RunningSandbox) -> ConnectClient {
    ConnectClient::builder("sandbox-client", "sandbox-secret")
        .base_url(sandbox.url())
        .allow_loopback_http(true)
        .build()
        .unwrap()
}

async fn authorize_request(address: &str, password: &str) -> AuthorizeRequest {
    let (email, detection) = detection(address).await;
    AuthorizeRequest::new(
        "sandbox-client",
        "Jane",
        &email,
        &detection,
        &Credentials::password(password),
        "email.read_only,email.send".parse().unwrap(),
    )
    .unwrap()
}

/// A plain HTTP client for raw requests (the sandbox speaks http on loopback).
fn raw_client() -> reqwest::Client {
    // reqwest is built without a default TLS provider here; the raw requests need none, but
    // the builder asks for one.
    let _ = nativeauth::crypto_provider().install_default();
    reqwest::Client::new()
}

async fn post(url: &str, body: &Value) -> (u16, reqwest::header::HeaderMap, String) {
    let response = raw_client().post(url).json(body).send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn the_v2_flow_completes_with_our_client() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let client = v2_client(&sandbox);
    let code = client.authorize(&authorize_request("jane@comcast.net", "pw").await).await.unwrap();
    let account = client.token(code).await.unwrap();
    assert_eq!(
        (account.email_address.as_str(), account.provider.as_str()),
        ("jane@comcast.net", "imap")
    );
    assert!(!account.account_id.is_empty());
}

#[tokio::test]
async fn v2_scripted_failures_reach_every_branch_of_the_client() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let client = v2_client(&sandbox);
    let wrong = client.authorize(&authorize_request("jane@comcast.net", "wrong").await).await;
    assert!(matches!(wrong, Err(ConnectError::WrongCredentials { .. })), "{wrong:?}");
    let limited = client.authorize(&authorize_request("ratelimited@comcast.net", "pw").await).await;
    assert!(
        matches!(limited, Err(ConnectError::RateLimited { retry_after: Some(wait), limit: Some(100), .. }) if wait == Duration::from_secs(30)),
        "{limited:?}"
    );
    let down = client.authorize(&authorize_request("unavailable@comcast.net", "pw").await).await;
    assert!(
        matches!(down, Err(ConnectError::OutcomeUnknown { status: Some(503), .. })),
        "{down:?}"
    );
    let other_client = ConnectClient::builder("sandbox-client", "not-the-secret")
        .base_url(sandbox.url())
        .allow_loopback_http(true)
        .build()
        .unwrap();
    let code =
        other_client.authorize(&authorize_request("jane@comcast.net", "pw").await).await.unwrap();
    assert!(matches!(other_client.token(code).await, Err(ConnectError::Unauthorized { .. })));
}

#[tokio::test]
async fn v2_conformance_missing_fields_scopes_client_id_single_use_codes() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let authorize = format!("{}/connect/authorize", sandbox.url());
    let token = format!("{}/connect/token", sandbox.url());
    let valid = json!({
        "client_id": "sandbox-client", "name": "Jane", "email_address": "jane@example.com",
        "provider": "imap", "scopes": "email.read_only",
        "settings": {"imap_host": "imap.example.com", "imap_port": 993, "imap_username": "jane",
            "imap_password": "pw", "smtp_host": "smtp.example.com", "smtp_port": 465,
            "smtp_username": "jane", "smtp_password": "pw", "ssl_required": true},
    });
    // Every IMAP setting is required, with its type.
    let mut partial = valid.clone();
    partial["settings"].as_object_mut().unwrap().remove("smtp_password");
    partial["settings"]["imap_port"] = json!("993");
    let (status, _, body) = post(&authorize, &partial).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 400);
    assert_eq!(body["missing_fields"], json!(["imap_port", "smtp_password"]));
    // Scopes are a comma-separated string, from the known list.
    let mut array_scopes = valid.clone();
    array_scopes["scopes"] = json!(["email.read_only"]);
    let (status, _, body) = post(&authorize, &array_scopes).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("scopes"));
    let mut unknown_scope = valid.clone();
    unknown_scope["scopes"] = json!("email.read_only,email.everything");
    assert_eq!(post(&authorize, &unknown_scope).await.0, 400);
    // The client id is checked.
    let mut stranger = valid.clone();
    stranger["client_id"] = json!("someone-else");
    assert_eq!(post(&authorize, &stranger).await.0, 401);
    // A code is good once; a second use is a 400 HTML page.
    let (status, _, body) = post(&authorize, &valid).await;
    assert_eq!(status, 200);
    let code = serde_json::from_str::<Value>(&body).unwrap()["code"].as_str().unwrap().to_owned();
    let exchange =
        json!({"client_id": "sandbox-client", "client_secret": "sandbox-secret", "code": code});
    let (status, _, body) = post(&token, &exchange).await;
    assert_eq!(status, 200, "{body}");
    let account: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (account["object"].as_str(), account["email_address"].as_str()),
        (Some("account"), Some("jane@example.com"))
    );
    let (status, headers, body) = post(&token, &exchange).await;
    assert_eq!(status, 400);
    assert!(headers[reqwest::header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert!(body.contains("<title>400 Bad Request</title>"));
}

#[tokio::test]
async fn an_expired_code_is_refused_as_invalid() {
    let config =
        SandboxConfig { code_lifetime: Duration::from_millis(50), ..SandboxConfig::default() };
    let sandbox = sandbox(config).await;
    let client = v2_client(&sandbox);
    let code = client.authorize(&authorize_request("jane@comcast.net", "pw").await).await.unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;
    let error = client.token(code).await.unwrap_err();
    assert!(matches!(error, ConnectError::InvalidCode { status: 400, .. }), "{error:?}");
}

fn v3_client(sandbox: &RunningSandbox, key: &str) -> CustomAuthClient {
    CustomAuthClient::builder(key)
        .base_url(sandbox.url())
        .allow_loopback_http(true)
        .build()
        .unwrap()
}

async fn custom_request(address: &str, password: &str) -> CustomAuthRequest {
    let (email, detection) = detection(address).await;
    CustomAuthRequest::new(&email, &detection, &Credentials::password(password)).unwrap()
}

#[tokio::test]
async fn the_v3_flow_creates_a_grant_and_fails_in_typed_ways() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let client = v3_client(&sandbox, "sandbox-api-key");
    let created =
        client.create_grant(&custom_request("jane@comcast.net", "pw").await).await.unwrap();
    assert_eq!(created.provider, "imap");
    assert_eq!(created.grant_status.as_deref(), Some("valid"));
    assert!(created.id.starts_with("grant-") && created.request_id.is_some());

    let wrong = client.create_grant(&custom_request("jane@comcast.net", "wrong").await).await;
    assert!(
        matches!(&wrong, Err(ConnectError::WrongCredentials { message }) if message.contains("request")),
        "{wrong:?}"
    );
    let limited = client.create_grant(&custom_request("ratelimited@comcast.net", "pw").await).await;
    assert!(
        matches!(limited, Err(ConnectError::RateLimited { retry_after: Some(_), .. })),
        "{limited:?}"
    );
    let stranger = v3_client(&sandbox, "not-the-key");
    let refused = stranger.create_grant(&custom_request("jane@comcast.net", "pw").await).await;
    assert!(matches!(refused, Err(ConnectError::Unauthorized { .. })), "{refused:?}");
}

#[tokio::test]
async fn v3_conformance_settings_per_provider() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let url = format!("{}/v3/connect/custom", sandbox.url());
    let send = |body: Value, key: &'static str| {
        let url = url.clone();
        async move {
            let response = reqwest::Client::new()
                .post(&url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) =
        send(json!({"provider": "google", "settings": {}}), "sandbox-api-key").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "api.invalid_request_payload");
    assert!(body["request_id"].is_string());
    let (status, _) =
        send(json!({"provider": "google", "settings": {"refresh_token": "rt"}}), "sandbox-api-key")
            .await;
    assert_eq!(status, 200);
    let (status, body) =
        send(json!({"provider": "pigeon", "settings": {}}), "sandbox-api-key").await;
    assert_eq!((status, body["error"]["type"].as_str()), (400, Some("grant.provider_required")));
    let (status, body) =
        send(json!({"provider": "google", "settings": {"refresh_token": "rt"}}), "wrong").await;
    assert_eq!((status, body["error"]["type"].as_str()), (401, Some("api.authentication_error")));
}

#[tokio::test]
async fn with_verification_the_sandbox_asks_the_real_servers_first() {
    use nativeauth::AddressPolicy;
    use nativeauth_testkit::{
        DnsServer, MailAccount, MailMode, MailProtocol, MailServer, TestCa, Zone,
    };
    let hosts = ["imap.verify.test", "smtp.verify.test"];
    let ca = TestCa::new(&hosts);
    let dns = DnsServer::start(
        hosts.iter().fold(Zone::new(), |z, h| z.a(h, std::net::Ipv4Addr::LOCALHOST)),
    );
    let account = Some(MailAccount {
        username: "jane@verify.test".into(),
        password: "right".into(),
        refusal: "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)".into(),
    });
    // Ports other than 993 and 465 mean STARTTLS to the sandbox, as to the API.
    let starttls = || MailMode::Plain { starttls: Some(&ca) };
    let imap = MailServer::start_with_account(MailProtocol::Imap, starttls(), account.clone());
    let smtp = MailServer::start_with_account(MailProtocol::Smtp, starttls(), account);
    let verify = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .extra_roots([ca.root()])
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .build();
    let sandbox =
        sandbox(SandboxConfig { verify_logins: Some(verify), ..SandboxConfig::default() }).await;
    let url = format!("{}/connect/authorize", sandbox.url());
    let request = |password: &str| {
        json!({
            "client_id": "sandbox-client", "name": "Jane", "email_address": "jane@verify.test",
            "provider": "imap", "scopes": "email.read_only",
            "settings": {"imap_host": "imap.verify.test", "imap_port": imap.addr().port(),
                "imap_username": "jane@verify.test", "imap_password": password,
                "smtp_host": "smtp.verify.test", "smtp_port": smtp.addr().port(),
                "smtp_username": "jane@verify.test", "smtp_password": password, "ssl_required": true},
        })
    };
    let (status, _, body) = post(&url, &request("right")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = post(&url, &request("not-the-password")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not right"), "the check's words: {body}");
    assert!(imap.commands().iter().any(|c| c.contains("STARTTLS")));

    // A separate SMTP login is checked with its own password.
    let smtp_only = MailServer::start_with_account(
        MailProtocol::Smtp,
        starttls(),
        Some(MailAccount {
            username: "jane@verify.test".into(),
            password: "smtp-password".into(),
            refusal: "535 5.7.8 Authentication credentials invalid".into(),
        }),
    );
    let mut separate = request("right");
    separate["settings"]["smtp_port"] = json!(smtp_only.addr().port());
    separate["settings"]["smtp_password"] = json!("smtp-password");
    let (status, _, body) = post(&url, &separate).await;
    assert_eq!(status, 200, "{body}");

    // Verification fails closed: a login it cannot check is refused.
    let v3 = reqwest::Client::new()
        .post(format!("{}/v3/connect/custom", sandbox.url()))
        .bearer_auth("sandbox-api-key")
        .json(&json!({"provider": "imap", "settings": {
            "imap_username": "jane-not-an-address", "imap_password": "anything",
            "imap_host": "imap.verify.test", "imap_port": imap.addr().port(),
            "smtp_host": "smtp.verify.test", "smtp_port": smtp.addr().port()}}))
        .send()
        .await
        .unwrap();
    assert_eq!(v3.status(), 401, "{:?}", v3.text().await);
}
