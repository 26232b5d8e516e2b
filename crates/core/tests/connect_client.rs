//! `ConnectClient` against real HTTP servers on loopback (mockito): request shapes and every
//! error case.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use mockito::{Matcher, Server};
use nativeauth_core::connect::{
    AuthCode, AuthorizeRequest, ConnectClient, ConnectError, Credentials,
};
use nativeauth_core::{
    AuthHint, AuthMethod, Detection, EmailAddress, NylasProvider, Protocol, ProviderInfo, Security,
    Server as MailServer, Source, Trust, UsernameTemplate,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

const CLIENT_ID: &str = "test-client";
const CLIENT_SECRET: &str = "test-client-secret";

fn mail_server(protocol: Protocol, host: &str, port: u16) -> MailServer {
    MailServer {
        protocol,
        host: host.into(),
        port,
        security: Security::Tls,
        username: UsernameTemplate::email_address(),
        auth: vec![AuthMethod::PasswordCleartext],
    }
}

fn request() -> AuthorizeRequest {
    let detection = Detection {
        provider: ProviderInfo::new("example", "Example", NylasProvider::Imap),
        incoming: vec![mail_server(Protocol::Imap, "imap.example.net", 993)],
        outgoing: vec![mail_server(Protocol::Smtp, "smtp.example.net", 465)],
        exchange: None,
        auth_hint: AuthHint::Password,
        source: Source::Catalogue,
        trust: Trust::Verified,
        evidence: String::new(),
        notes: vec![],
        requires: vec![],
    };
    let email = EmailAddress::parse("user@example.net").unwrap();
    AuthorizeRequest::new(
        CLIENT_ID,
        "User",
        &email,
        &detection,
        &Credentials::password("pw"),
        "email.send".parse().unwrap(),
    )
    .unwrap()
}

fn client(server: &Server) -> ConnectClient {
    ConnectClient::builder(CLIENT_ID, CLIENT_SECRET)
        .base_url(server.url())
        .allow_loopback_http(true)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn code(value: &str) -> AuthCode {
    AuthCode::new(SecretString::from(value))
}

#[tokio::test]
async fn authorize_posts_the_exact_body_with_the_pinned_version_header() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("POST", "/connect/authorize")
        .match_header("nylas-api-version", "2.7")
        .match_header("content-type", "application/json")
        .match_header("authorization", Matcher::Missing)
        .match_body(Matcher::Json(json!({
            "client_id": CLIENT_ID, "name": "User", "email_address": "user@example.net", "provider": "imap",
            "settings": {
                "imap_host": "imap.example.net", "imap_port": 993, "imap_username": "user@example.net", "imap_password": "pw",
                "smtp_host": "smtp.example.net", "smtp_port": 465, "smtp_username": "user@example.net", "smtp_password": "pw",
                "ssl_required": true
            },
            "scopes": "email.send"
        })))
        .with_header("content-type", "application/json")
        .with_body(r#"{"code": "one-time-code"}"#)
        .create_async()
        .await;
    let code = client(&server).authorize(&request()).await.unwrap();
    mock.assert_async().await;
    assert!(!code.is_expired());
    assert!(!format!("{code:?}").contains("one-time-code"));
}

#[tokio::test]
async fn token_trades_the_code_for_the_account() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("POST", "/connect/token")
        .match_header("nylas-api-version", "2.7")
        .match_body(Matcher::Json(
            json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": "c0de"}),
        ))
        .with_header("content-type", "application/json")
        .with_body(
            json!({
                "access_token": "access-123", "account_id": "acc-1", "billing_state": "paid",
                "email_address": "user@example.net", "id": "acc-1", "linked_at": 1_700_000_000,
                "name": "User", "object": "account", "organization_unit": "folder",
                "provider": "eas", "sync_state": "running"
            })
            .to_string(),
        )
        .create_async()
        .await;
    let account = client(&server).token(code("c0de")).await.unwrap();
    mock.assert_async().await;
    assert_eq!(account.access_token.expose_secret(), "access-123");
    assert_eq!((account.account_id.as_str(), account.provider.as_str()), ("acc-1", "eas"));
    assert_eq!(account.linked_at, Some(1_700_000_000));
    assert!(!format!("{account:?}").contains("access-123"));
}

async fn authorize_error(status: usize, headers: &[(&str, &str)], body: &str) -> ConnectError {
    let mut server = Server::new_async().await;
    let mut mock = server.mock("POST", "/connect/authorize").with_status(status).with_body(body);
    for (name, value) in headers {
        mock = mock.with_header(*name, value);
    }
    let mock = mock.expect(1).create_async().await;
    let error = client(&server).authorize(&request()).await.unwrap_err();
    mock.assert_async().await; // exactly one request: authorize is never retried
    error
}

#[tokio::test]
async fn authorize_errors_are_typed() {
    let json = [("content-type", "application/json")];
    let error = authorize_error(
        400,
        &json,
        r#"{"message":"Please include the missing fields","type":"auth_error","missing_fields":["provider"]}"#,
    )
    .await;
    assert!(
        matches!(&error, ConnectError::InvalidRequest { status: 400, missing_fields, .. } if missing_fields == &["provider"])
    );
    assert!(error.to_string().contains("missing: provider"));

    let error =
        authorize_error(403, &json, r#"{"message":"Invalid credentials","type":"auth_error"}"#)
            .await;
    assert!(
        matches!(&error, ConnectError::WrongCredentials { message } if message == "Invalid credentials")
    );
    let error =
        authorize_error(401, &json, r#"{"message":"Unknown client","type":"api_error"}"#).await;
    assert!(matches!(error, ConnectError::Unauthorized { .. }));
    for status in [402, 422] {
        let error = authorize_error(
            status,
            &json,
            r#"{"message":"IMAP server said no","type":"api_error"}"#,
        )
        .await;
        assert!(
            matches!(error, ConnectError::ProviderFailure { status: s, .. } if s as usize == status)
        );
    }
    let error = authorize_error(
        429,
        &[
            ("content-type", "application/json"),
            ("X-RateLimit-Limit", "100"),
            ("X-RateLimit-Reset", "30"),
        ],
        r#"{"message":"Too many requests","type":"rate_limit"}"#,
    )
    .await;
    assert!(
        matches!(
            error,
            ConnectError::RateLimited { retry_after: Some(wait), limit: Some(100), .. }
                if wait == Duration::from_secs(30)
        ),
        "a small reset is seconds from now: {error:?}"
    );
    assert!(error.to_string().contains("try again in 30 s"), "{error}");
    assert!(error.is_transient());
    let error =
        authorize_error(429, &[("Retry-After", "120"), ("X-RateLimit-Reset", "5")], "slow down")
            .await;
    assert!(
        matches!(error, ConnectError::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(120)),
        "Retry-After wins: {error:?}"
    );
    for status in [500, 502, 503, 504] {
        let error = authorize_error(status, &[], "Bad Gateway").await;
        assert!(
            matches!(error, ConnectError::OutcomeUnknown { status: Some(s), .. } if s as usize == status),
            "{error:?}"
        );
        assert!(!error.is_transient(), "an authorize with credentials is never retried blindly");
    }
    let error = authorize_error(
        404,
        &[("content-type", "text/html")],
        "<html><head><title>Not Found</title></head></html>",
    )
    .await;
    assert!(
        matches!(&error, ConnectError::InvalidRequest { status: 404, message, .. } if message.contains("Not Found"))
    );
}

#[tokio::test]
async fn a_success_status_with_a_non_json_body_is_an_unexpected_response() {
    let error = authorize_error(200, &[("content-type", "text/html")], "<html>oops</html>").await;
    assert!(matches!(error, ConnectError::UnexpectedResponse { status: 200, .. }), "{error:?}");
    let error = authorize_error(200, &json_header(), r#"{"no_code": 1}"#).await;
    assert!(matches!(error, ConnectError::UnexpectedResponse { .. }), "{error:?}");
}

fn json_header() -> [(&'static str, &'static str); 1] {
    [("content-type", "application/json")]
}

#[tokio::test]
async fn a_refused_code_is_reported_even_as_an_html_page() {
    let mut server = Server::new_async().await;
    let mock = server
        .mock("POST", "/connect/token")
        .with_status(400)
        .with_header("content-type", "text/html; charset=utf-8")
        .with_body("<!DOCTYPE html><html><head><title>400 Bad Request</title></head><body>Invalid code</body></html>")
        .create_async()
        .await;
    let error = client(&server).token(code("used-code")).await.unwrap_err();
    mock.assert_async().await;
    match &error {
        ConnectError::InvalidCode { status: 400, message } => {
            assert!(message.contains("400 Bad Request"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!error.to_string().contains("used-code"));
}

#[tokio::test]
async fn an_expired_code_is_refused_without_any_request() {
    let mut server = Server::new_async().await;
    let mock = server.mock("POST", Matcher::Any).expect(0).create_async().await;
    let old =
        AuthCode::received_ago(SecretString::from("old-code"), Duration::from_secs(15 * 60 + 1));
    assert!(old.is_expired());
    let error = client(&server).token(old).await.unwrap_err();
    assert!(matches!(error, ConnectError::CodeExpired { .. }), "{error:?}");
    mock.assert_async().await;
    let fresh = AuthCode::received_ago(SecretString::from("c"), Duration::from_secs(14 * 60));
    assert!(!fresh.is_expired());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let mut server = Server::new_async().await;
    let elsewhere = server.mock("POST", "/elsewhere").expect(0).create_async().await;
    let redirect = server
        .mock("POST", "/connect/authorize")
        .with_status(307)
        .with_header("location", &format!("{}/elsewhere", server.url()))
        .create_async()
        .await;
    let error = client(&server).authorize(&request()).await.unwrap_err();
    assert!(matches!(error, ConnectError::InvalidRequest { status: 307, .. }), "{error:?}");
    redirect.assert_async().await;
    elsewhere.assert_async().await;
}

/// Larger than the client's 256 KiB cap on a response body.
const BODY_OVER_LIMIT: usize = 300 * 1024;

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let big = format!("{{\"code\": \"{}\"}}", "x".repeat(BODY_OVER_LIMIT));
    // A success whose code cannot be read: the provider may have taken the password.
    let error = authorize_error(200, &json_header(), &big).await;
    assert!(matches!(error, ConnectError::OutcomeUnknown { status: Some(200), .. }), "{error:?}");
    assert!(error.to_string().contains("exceeds"));
    // After a failure status the status still answers, whatever the body.
    let big_page = "x".repeat(BODY_OVER_LIMIT);
    let error = authorize_error(403, &[], &big_page).await;
    assert!(matches!(error, ConnectError::WrongCredentials { .. }), "{error:?}");
    let error = authorize_error(429, &[("retry-after", "7")], &big_page).await;
    assert!(
        matches!(error, ConnectError::RateLimited { retry_after: Some(wait), .. } if wait == Duration::from_secs(7)),
        "{error:?}"
    );
}

/// A loopback HTTP server that answers one request with `status`, announces a body of 1000
/// bytes, sends 10 and closes the connection.
async fn dropping_server(status: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0u8; 64 * 1024];
        let _ = socket.read(&mut request).await;
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"code\": \""
        );
        let _ = socket.write_all(head.as_bytes()).await;
        // Dropping the socket closes the connection mid-body.
    });
    url
}

#[tokio::test]
async fn a_body_cut_short_after_authorize_leaves_the_outcome_unknown() {
    let client = |url: String| {
        ConnectClient::builder(CLIENT_ID, CLIENT_SECRET)
            .base_url(url)
            .allow_loopback_http(true)
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
    };
    let error = client(dropping_server(200).await).authorize(&request()).await.unwrap_err();
    assert!(matches!(error, ConnectError::OutcomeUnknown { status: Some(200), .. }), "{error:?}");
    // The code exchange carries no password: a cut body is a transport failure.
    let error = client(dropping_server(200).await).token(code("c")).await.unwrap_err();
    assert!(matches!(error, ConnectError::Transport { before_sending: false, .. }), "{error:?}");
    // A refusal cut short is still a refusal.
    let error = client(dropping_server(403).await).authorize(&request()).await.unwrap_err();
    assert!(matches!(error, ConnectError::WrongCredentials { .. }), "{error:?}");
}

#[tokio::test]
async fn transport_failures_are_typed() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = ConnectClient::builder(CLIENT_ID, CLIENT_SECRET)
        .base_url(format!("http://127.0.0.1:{port}"))
        .allow_loopback_http(true)
        .build()
        .unwrap();
    let error = client.token(code("c")).await.unwrap_err();
    assert!(matches!(error, ConnectError::Transport { before_sending: true, .. }), "{error:?}");
    let error = client.authorize(&request()).await.unwrap_err();
    assert!(matches!(error, ConnectError::Transport { .. }), "{error:?}");
}

#[test]
fn credentials_only_go_over_https() {
    let build = |url: &str, allow: bool| {
        ConnectClient::builder(CLIENT_ID, CLIENT_SECRET)
            .base_url(url)
            .allow_loopback_http(allow)
            .build()
    };
    assert!(build("https://api.nylas.com", false).is_ok());
    assert!(matches!(
        build("http://api.nylas.com", false),
        Err(ConnectError::InsecureBaseUrl { .. })
    ));
    assert!(matches!(
        build("http://api.nylas.com", true),
        Err(ConnectError::InsecureBaseUrl { .. })
    ));
    assert!(matches!(
        build("http://127.0.0.1:8080", false),
        Err(ConnectError::InsecureBaseUrl { .. })
    ));
    assert!(build("http://127.0.0.1:8080", true).is_ok());
    assert!(matches!(
        build("ftp://api.nylas.com", false),
        Err(ConnectError::InvalidBaseUrl { .. })
    ));
    assert!(matches!(build("not a url", false), Err(ConnectError::InvalidBaseUrl { .. })));
}

#[tokio::test]
async fn a_request_for_another_client_id_is_refused_locally() {
    let mut server = Server::new_async().await;
    let mock = server.mock("POST", Matcher::Any).expect(0).create_async().await;
    let other = ConnectClient::builder("other-client", "s")
        .base_url(server.url())
        .allow_loopback_http(true)
        .build()
        .unwrap();
    let error = other.authorize(&request()).await.unwrap_err();
    assert!(matches!(error, ConnectError::ClientIdMismatch { .. }));
    mock.assert_async().await;
}

#[tokio::test]
async fn server_messages_are_cleaned_and_shortened() {
    let long = format!("bad\u{1b}[31m {}", "x".repeat(1000));
    let body = serde_json::json!({ "message": long, "type": "auth_error" }).to_string();
    let error = authorize_error(403, &json_header(), &body).await;
    let ConnectError::WrongCredentials { message } = &error else { panic!("{error:?}") };
    assert!(message.chars().count() <= 301, "{}", message.len());
    assert!(!message.chars().any(char::is_control), "{message:?}");
}

async fn token_error(status: usize, body: &str) -> ConnectError {
    let mut server = Server::new_async().await;
    server
        .mock("POST", "/connect/token")
        .with_status(status)
        .with_header("content-type", "application/json")
        .with_body(body)
        .create_async()
        .await;
    client(&server).token(code("c")).await.unwrap_err()
}

#[tokio::test]
async fn token_errors_keep_missing_fields_and_blame_the_client_for_a_403() {
    let error =
        token_error(400, r#"{"message":"Missing","missing_fields":["client_secret"]}"#).await;
    assert!(
        matches!(&error, ConnectError::InvalidRequest { missing_fields, .. } if missing_fields == &["client_secret"]),
        "{error:?}"
    );
    let error = token_error(400, r#"{"message":"Invalid code"}"#).await;
    assert!(matches!(error, ConnectError::InvalidCode { .. }), "{error:?}");
    let error = token_error(403, r#"{"message":"Forbidden"}"#).await;
    assert!(matches!(error, ConnectError::Unauthorized { .. }), "{error:?}");
}

#[tokio::test]
async fn an_odd_account_still_yields_the_access_token() {
    let mut server = Server::new_async().await;
    server
        .mock("POST", "/connect/token")
        .with_header("content-type", "application/json")
        .with_body(r#"{"access_token":"tok-9","account_id":"acc-9","email_address":"jane@example.com","provider":"imap","linked_at":"yesterday","sync_state":42,"name":null}"#)
        .create_async()
        .await;
    let account = client(&server).token(code("c")).await.unwrap();
    assert_eq!(account.access_token.expose_secret(), "tok-9");
    assert_eq!(
        (account.account_id.as_str(), account.linked_at, account.sync_state),
        ("acc-9", None, None)
    );
}

#[tokio::test]
async fn a_code_too_old_to_arrive_in_time_is_refused_locally() {
    let mut server = Server::new_async().await;
    let mock = server.mock("POST", Matcher::Any).expect(0).create_async().await;
    // 14 min 45 s old, and the request may take 30 s: it would arrive expired.
    let late = AuthCode::received_ago(SecretString::from("c"), Duration::from_secs(14 * 60 + 45));
    let client = ConnectClient::builder(CLIENT_ID, CLIENT_SECRET)
        .base_url(server.url())
        .allow_loopback_http(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    assert!(matches!(client.token(late).await, Err(ConnectError::CodeExpired { .. })));
    mock.assert_async().await;
}

#[tokio::test]
async fn a_stalled_authorize_is_an_unknown_outcome_not_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(stream); // read nothing, answer nothing
        }
    });
    let client = ConnectClient::builder(CLIENT_ID, CLIENT_SECRET)
        .base_url(format!("http://127.0.0.1:{port}"))
        .allow_loopback_http(true)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = client.authorize(&request()).await.unwrap_err();
    assert!(matches!(error, ConnectError::OutcomeUnknown { status: None, .. }), "{error:?}");
    assert!(error.to_string().contains("do not retry"));
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1, "sent once");
}
