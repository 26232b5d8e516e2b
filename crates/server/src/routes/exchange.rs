//! `POST /api/exchange`: the app, server-to-server, trades the one-time code its success URL
//! received for the sign-in's result. The app's secret is checked first, then the code is taken
//! (once, atomically), then the optional `state` compared; every comparison of a secret value
//! is constant-time.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::responses::json_error;
use crate::app::App;
use crate::codes::Refusal;
use crate::guard::{bearer, is_json};
use crate::signing::constant_time_eq;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeBody {
    code: String,
    #[serde(default)]
    state: Option<String>,
}

fn refusal(status: StatusCode, kind: &str, message: &str) -> Response {
    let mut response = json_error(status, kind, message);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// `POST /api/exchange` with `Authorization: Bearer <NATIVEAUTH_APP_SECRET>` and
/// `{"code": "…", "state": "…"}` → the [`crate::SignInResult`].
pub(crate) async fn exchange(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(given) = bearer(&headers) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "app-secret-missing",
            "send Authorization: Bearer <NATIVEAUTH_APP_SECRET>",
        );
    };
    let expected = app.config.secrets.app_secret.expose_secret();
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        tracing::warn!("a code exchange with a wrong app secret was refused");
        return refusal(StatusCode::UNAUTHORIZED, "app-secret-wrong", "the app secret is wrong");
    }
    if !is_json(&headers) {
        return refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send Content-Type: application/json",
        );
    }
    let Ok(request) = serde_json::from_slice::<ExchangeBody>(&body) else {
        return refusal(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "the body must be {\"code\": \"…\", \"state\": \"…\"} (state optional)",
        );
    };
    let result = match app.codes.take(request.code.trim()).await {
        Ok(result) => result,
        Err(refused) => {
            app.metrics.exchange(refused.kind());
            let (status, message) = match refused {
                Refusal::Used => (StatusCode::BAD_REQUEST, "this code was exchanged before"),
                Refusal::Expired => (StatusCode::BAD_REQUEST, "this code has expired"),
                Refusal::Unknown => (StatusCode::BAD_REQUEST, "no such code"),
                Refusal::Unavailable => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the result store cannot answer now; try again",
                ),
            };
            return refusal(status, refused.kind(), message);
        }
    };
    if let Some(state) = &request.state {
        let matches = result
            .state
            .as_deref()
            .is_some_and(|kept| constant_time_eq(kept.as_bytes(), state.as_bytes()));
        if !matches {
            // The code is spent all the same: a code that reached the wrong session must not be
            // tried again.
            app.metrics.exchange("state-mismatch");
            tracing::warn!(event_id = %result.event_id, "a code exchange with another state was refused");
            return refusal(
                StatusCode::BAD_REQUEST,
                "state-mismatch",
                "the state is not the one this sign-in started with",
            );
        }
    }
    app.metrics.exchange("ok");
    tracing::info!(event_id = %result.event_id, "the app exchanged its code");
    Json(result).into_response()
}
