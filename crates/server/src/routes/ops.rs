//! `/healthz` and `/metrics`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use serde_json::json;

use crate::app::App;

/// Marks a request that came in on `metrics_listen`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OnMetricsListener;

/// `GET /metrics`: the Prometheus text format. With `metrics_listen`, only there; otherwise,
/// with a metrics token, only for its bearer.
pub(crate) async fn metrics(
    State(app): State<Arc<App>>,
    on_metrics_listener: Option<Extension<OnMetricsListener>>,
    headers: HeaderMap,
) -> Response {
    if app.config.settings.metrics_listen.is_some() {
        if on_metrics_listener.is_none() {
            return StatusCode::NOT_FOUND.into_response();
        }
    } else {
        let token = app.config.secrets.metrics_token.expose_secret();
        let given = crate::guard::bearer(&headers).unwrap_or_default();
        if !token.is_empty()
            && !crate::signing::constant_time_eq(given.as_bytes(), token.as_bytes())
        {
            let mut response =
                (StatusCode::UNAUTHORIZED, "send the metrics bearer token").into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    let mut text = app.metrics.render();
    // The fleet's Redis: calls that failed or timed out, so the server went on alone.
    text.push_str("# HELP nativeauth_shared_store_errors_total Shared-store (Redis) calls that failed, by user.\n");
    text.push_str("# TYPE nativeauth_shared_store_errors_total counter\n");
    text.push_str(&format!(
        "nativeauth_shared_store_errors_total{{user=\"discovery\"}} {}\nnativeauth_shared_store_errors_total{{user=\"rate-limits\"}} {}\n",
        app.discovery.shared_cache_errors(),
        app.limits.shared_errors()
    ));
    text.push_str("# HELP nativeauth_shared_store_rejected_total Shared values refused (not this fleet's, moved from another key, past their signed expiry, another format), by reason.\n");
    text.push_str("# TYPE nativeauth_shared_store_rejected_total counter\n");
    for (reason, count) in app.discovery.shared_cache_rejections() {
        text.push_str(&format!(
            "nativeauth_shared_store_rejected_total{{reason=\"{reason}\"}} {count}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// `GET /healthz`.
pub(crate) async fn healthz() -> Response {
    Json(json!({ "ok": true })).into_response()
}
