//! No secret and no raw address in the server's logs, at any level: a whole sign-in (page,
//! detection, API call, callback) runs with every log line captured at TRACE.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{CALLBACK_SECRET, start};
use nativeauth_server::Api;
use serde_json::json;

#[tokio::test]
async fn no_secret_and_no_address_reaches_the_logs() {
    let captured = common::capture_logs();

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
        let refused = harness
            .login(&session, json!({ "email": "jane.private@yahoo.com", "password": "wrong" }))
            .await;
        assert_eq!(refused.status(), 401);
        assert_eq!(harness.callbacks.lock().unwrap().len(), 1);
    }

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
        "test-cookie-key",
        "sandbox-secret",
        "sandbox-api-key",
        "c2FuZGJveC1zZWNyZXQ", // base64 of the client secret, as in HTTP Basic
    ] {
        let line = logs.lines().find(|l| l.contains(secret));
        assert!(line.is_none(), "{secret} in the logs: {line:?}");
    }
}
