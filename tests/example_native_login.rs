//! The `native_login` example, run end to end against a local mock of the API: discover →
//! password on standard input → authorize → token. `cargo test` builds examples next to the
//! test binaries (`target/<profile>/examples/`).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::process::{Command, Stdio};

use mockito::{Matcher, Server};
use serde_json::json;

fn example() -> std::path::PathBuf {
    // target/<profile>/deps/<this test> → target/<profile>/examples/native_login
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let path = deps
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("native_login{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

#[test]
fn the_example_runs_the_whole_flow_against_a_local_mock() {
    let mut server = Server::new();
    let authorize = server
        .mock("POST", "/connect/authorize")
        .match_header("nylas-api-version", "2.7")
        .match_body(Matcher::PartialJson(json!({
            "client_id": "demo-client", "name": "Jane", "email_address": "jane@comcast.net", "provider": "imap",
            "settings": {"imap_host": "imap.comcast.net", "imap_password": "pw-demo", "ssl_required": true},
            "scopes": "email.read_only,email.send"
        })))
        .with_body(r#"{"code":"code-123"}"#)
        .create();
    let token = server
        .mock("POST", "/connect/token")
        .match_body(Matcher::Json(json!({"client_id": "demo-client", "client_secret": "sec-demo", "code": "code-123"})))
        .with_body(r#"{"access_token":"tok-xyz","account_id":"acc-1","email_address":"jane@comcast.net","provider":"imap"}"#)
        .create();
    let mut child = Command::new(example())
        .args([
            "--api-url",
            &server.url(),
            "--client-id",
            "demo-client",
            "--name",
            "Jane",
            "--offline",
            "jane@comcast.net",
        ])
        .env("NYLAS_CLIENT_SECRET", "sec-demo")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"pw-demo\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("linked account acc-1"), "{stdout}");
    for secret in ["pw-demo", "sec-demo", "code-123", "tok-xyz"] {
        assert!(!stdout.contains(secret), "{secret} printed");
    }
    authorize.assert();
    token.assert();
}
