//! The answers several routes give: JSON errors, rate-limit and busy answers, and the page with its cookies.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use serde_json::json;

use crate::app::App;
use crate::cookies::{self, CSRF_COOKIE};
use crate::detect::BUSY_RETRY_AFTER;
use crate::i18n::{Lang, Msg, t};
use crate::page::{PageState, render};

/// How long the CSRF cookie lasts.
pub(super) const CSRF_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

pub(super) fn json_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (status, Json(json!({ "kind": kind, "message": message }))).into_response()
}

pub(super) fn too_many(lang: Lang, wait: Duration) -> Response {
    let mut response =
        json_error(StatusCode::TOO_MANY_REQUESTS, "rate-limited", t(lang, Msg::TooManyAttempts));
    insert_retry_after(&mut response, wait);
    response
}

/// The answer when too many detections use the network at once (shed, not queued).
pub(super) fn busy(lang: Lang) -> Response {
    let mut response = json_error(StatusCode::SERVICE_UNAVAILABLE, "busy", t(lang, Msg::Busy));
    insert_retry_after(&mut response, BUSY_RETRY_AFTER);
    response
}

pub(super) fn insert_retry_after(response: &mut Response, wait: Duration) {
    if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// The page with the cookies it needs: the CSRF cookie, and the state cookie when given.
pub(super) fn page_response(
    app: &App,
    lang: Lang,
    headers: &HeaderMap,
    status: StatusCode,
    state: &PageState<'_>,
    start: Option<&cookies::Start>,
) -> Response {
    let (token, field) = cookies::csrf_token(&app.cookie_key, headers, app.config.settings.https);
    let secure = app.config.settings.https;
    let mut response =
        (status, Html(render(&app.config.settings.brand, lang, &field, state, app.config.sandbox)))
            .into_response();
    let mut set_cookies = vec![cookies::set(CSRF_COOKIE, &token, CSRF_LIFETIME, secure)];
    if let Some(start) = start {
        set_cookies.push(cookies::start_cookie(&app.cookie_key, start, secure));
    }
    for cookie in set_cookies {
        cookies::append(&mut response, &cookie);
    }
    response
}
