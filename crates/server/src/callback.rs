//! The signed callback to the app: a notification of each successful sign-in, never the only
//! channel and never a secret. It is a `POST` of the linked account (v2) or grant (v3), the
//! provider, the detection's source and trust, the app's `state` and the `event_id`, with
//! `Nativeauth-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256 of "<t>.<raw body>">`
//! keyed with `NATIVEAUTH_CALLBACK_SECRET`. A receiver recomputes the HMAC over the raw body and
//! rejects a timestamp older than 5 minutes. Sent in the background (the user's redirect does
//! not wait), up to [`ATTEMPTS`] times.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::app::App;
use crate::result::SignInResult;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Nativeauth-Signature";
/// How many times the callback is tried.
const ATTEMPTS: u32 = 3;
/// The bound of one attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// The pause after a failed attempt, times the attempt's number.
const BACKOFF: Duration = Duration::from_millis(250);

/// Posts `result`'s notification to the callback URL, when one is configured, in the
/// background.
pub(crate) fn notify(app: &Arc<App>, result: &SignInResult) {
    let Some(url) = app.config.settings.callback_url.clone() else { return };
    let body = result.notification().to_string();
    let event_id = result.event_id.clone();
    let linked = result.linked_id().to_owned();
    let app = app.clone();
    tokio::spawn(async move {
        for attempt in 1..=ATTEMPTS {
            match post(&app, &url, &body).await {
                Ok(()) => return,
                Err(reason) => {
                    tracing::info!(%event_id, attempt, %reason, "a callback attempt failed");
                }
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(BACKOFF * attempt).await;
            }
        }
        app.metrics.callback_failed();
        tracing::warn!(
            %event_id,
            %linked,
            "the callback failed {ATTEMPTS} times; the app can still exchange the code"
        );
    });
}

async fn post(app: &App, url: &str, body: &str) -> Result<(), String> {
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let key = app.config.secrets.callback_secret.expose_secret().as_bytes();
    let signature = crate::signing::callback_signature(key, timestamp, body.as_bytes());
    let response = app
        .callbacks
        .post(url)
        .timeout(ATTEMPT_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the app answered {}", response.status()))
    }
}
