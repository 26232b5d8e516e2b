//! The JSON API the page's script calls, `POST /api/detect` and `POST /api/login`, and the
//! app's server-to-server `POST /api/exchange`: a router of their own, nested at `/api`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use nativeauth::{EmailAddress, FailureKind};
use serde::Deserialize;
use serde_json::json;

use super::extract::{PageJson, SignInJson};
use super::responses::{busy, json_error, too_many};
use super::sign_in::{LoginFields, clear_state, failure_response, sign_in};
use crate::app::App;
use crate::detect::{self, DetectView};
use crate::guard::ClientIp;
use crate::i18n::{Lang, Msg, t};

/// The API's routes, to nest at `/api`.
pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/detect", post(detect))
        .route("/login", post(login_json))
        .route("/exchange", post(super::exchange::exchange))
}

/// Why a detection was not run.
pub(super) enum DetectRefusal {
    /// This client asked too often; wait this long.
    RateLimited(Duration),
    /// Too many detections are using the network at once.
    Busy,
}

/// Detects `email`, counting a detection that needs the network against the client's budget
/// (catalogue and cached answers are free).
pub(super) async fn detect_email(
    app: &App,
    ip: ClientIp,
    email: &EmailAddress,
    lang: Lang,
) -> Result<DetectView, DetectRefusal> {
    if app.discovery.needs_network(email) {
        app.limits
            .check(&format!("detect:{}", ip.key()), app.config.settings.detections_per_minute)
            .await
            .map_err(DetectRefusal::RateLimited)?;
    }
    let report = app.discovery.discover(email).await;
    if report.failure.as_ref().is_some_and(|f| f.kind == FailureKind::Busy) {
        app.metrics.detection("none", "none", "busy", false);
        tracing::warn!(domain = email.domain(), "detection refused: busy");
        return Err(DetectRefusal::Busy);
    }
    let view = detect::detect_view(app, &report, lang);
    if let Some(failure) = &report.failure {
        // The whole story stays here, for the operator.
        tracing::info!(domain = email.domain(), kind = ?failure.kind, reason = %failure.message, "nothing detected");
    }
    let cached = report.trace.first().is_some_and(|step| step.source == "cache");
    let outcome = if view.detected { "detected" } else { "not-found" };
    app.metrics.detection(
        view.source.unwrap_or("none"),
        view.trust.unwrap_or("none"),
        outcome,
        cached,
    );
    tracing::info!(
        domain = email.domain(),
        source = view.source.unwrap_or("none"),
        trust = view.trust.unwrap_or("none"),
        auth = view.auth,
        "detected"
    );
    Ok(view)
}

#[derive(Debug, Deserialize)]
pub(super) struct DetectBody {
    email: String,
}

/// `POST /api/detect`: `{"email": "…"}` → what to ask the user for.
async fn detect(
    State(app): State<Arc<App>>,
    Extension(ip): Extension<ClientIp>,
    lang: Lang,
    PageJson { body, .. }: PageJson,
) -> Response {
    let Ok(request) = serde_json::from_slice::<DetectBody>(&body) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "the body must be {\"email\": \"…\"}",
        );
    };
    let email = match EmailAddress::parse(request.email.trim()) {
        Ok(email) => email,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "kind": "invalid-email", "message": t(lang, Msg::InvalidEmail), "reason": error.to_string() })),
            )
                .into_response();
        }
    };
    match detect_email(&app, ip, &email, lang).await {
        Ok(view) => Json(view).into_response(),
        Err(DetectRefusal::RateLimited(wait)) => too_many(lang, wait),
        Err(DetectRefusal::Busy) => busy(lang),
    }
}

/// `POST /api/login`: the page's sign-in. Browser requests only, from this server's page (or an
/// allowed origin), with the CSRF token in `X-CSRF-Token`.
async fn login_json(
    State(app): State<Arc<App>>,
    Extension(ip): Extension<ClientIp>,
    lang: Lang,
    SignInJson { headers, body }: SignInJson,
) -> Response {
    let parsed = serde_json::from_slice::<LoginFields>(&body);
    drop(body);
    let Ok(fields) = parsed else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "the body must be a JSON object of the sign-in fields",
        );
    };
    match sign_in(&app, ip, lang, &headers, fields).await {
        Ok(success) => {
            let mut response = Json(success).into_response();
            clear_state(&mut response, &app);
            response
        }
        Err(failure) => failure_response(failure),
    }
}
