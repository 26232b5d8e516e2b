//! The signed callback to the app: `POST` of the linked account (v2) or grant (v3), the
//! provider, the detection's source and trust, and the app's `state` — never a secret — with
//! `Nativeauth-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256 of "<t>.<raw body>">`
//! keyed with `NATIVEAUTH_CALLBACK_SECRET`. A receiver recomputes the HMAC over the raw body and
//! rejects a timestamp older than 5 minutes.

use std::time::{SystemTime, UNIX_EPOCH};

use nativeauth::Detection;
use nativeauth::secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::flow::App;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Nativeauth-Signature";

/// Hands the value to the embedding app's hook, and posts it, signed, to the callback URL;
/// each only when configured.
pub(crate) async fn send(
    app: &App,
    linked: &Value,
    detection: &Detection,
    state: Option<&str>,
) -> Result<(), String> {
    let value = json!({
        "state": state,
        "linked": linked,
        "provider": detection.provider.nylas.as_str(),
        "source": detection.source.as_str(),
        "trust": detection.trust.as_str(),
    });
    if let Some(hook) = &app.hook {
        hook(value.clone());
    }
    let Some(url) = &app.config.file.callback_url else { return Ok(()) };
    let body = value.to_string();
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let key = app.config.secrets.callback_secret.expose_secret().as_bytes();
    let signature = crate::signing::callback_signature(key, timestamp, body.as_bytes());
    let response = app
        .callbacks
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the app answered {}", response.status()))
    }
}
