//! No secret and no raw address in the server's logs, at any level: a whole sign-in (page,
//! detection, API call, callback) runs with every log line captured at TRACE.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{APP_SECRET, CALLBACK_SECRET, ROOT_KEY, start};
use nativeauth_server::Api;
use serde_json::{Value, json};

#[tokio::test]
async fn no_secret_and_no_address_reaches_the_logs() {
    let captured = common::capture_logs();
    // The one-time codes and the v2 access token: secrets the sign-in itself produced.
    let mut produced = Vec::new();

    for api in [Api::V2, Api::V3] {
        let harness = start(api, None, |_| {}).await;
        let session = harness.open("?state=opaque-state-77").await;
        let (status, _) = harness.detect("jane.private@yahoo.com").await;
        assert_eq!(status, 200);
        let ok = harness
            .login(
                &session,
                json!({ "email": "jane.private@yahoo.com", "password": "pw-Secret-1" }),
            )
            .await;
        assert_eq!(ok.status(), 200);
        let redirect: Value = ok.json().await.unwrap();
        let redirect = redirect["redirect"].as_str().unwrap();
        produced.push(common::query_param(redirect, "code").unwrap());
        let result = harness.app_receives("opaque-state-77", redirect).await.unwrap();
        if let Some(token) = result["linked"]["access_token"].as_str() {
            produced.push(token.to_owned());
        }
        let refused = harness
            .login(&session, json!({ "email": "jane.private@yahoo.com", "password": "wrong" }))
            .await;
        assert_eq!(refused.status(), 401);
        assert_eq!(harness.callbacks_after(1).await.len(), 1);
    }

    assert_eq!(produced.len(), 3, "two codes and one token: {produced:?}");
    let logs = captured.text();
    assert!(
        logs.contains("TRACE") && logs.contains("signed in") && logs.contains("yahoo.com"),
        "logs were captured"
    );
    for secret in [
        "pw-Secret-1",
        "jane.private",
        "opaque-state-77",
        CALLBACK_SECRET,
        ROOT_KEY,
        APP_SECRET,
        "sandbox-secret",
        "sandbox-api-key",
        "c2FuZGJveC1zZWNyZXQ", // base64 of the client secret, as in HTTP Basic
    ]
    .into_iter()
    .chain(produced.iter().map(String::as_str))
    {
        let line = logs.lines().find(|l| l.contains(secret));
        assert!(line.is_none(), "{secret} in the logs: {line:?}");
    }
}
