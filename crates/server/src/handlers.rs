//! The HTTP handlers: they check the request (CSRF, origin, rate limits), call [`crate::flow`],
//! and answer as HTML (the page, `POST /login`) or JSON (`/api/*`).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use nativeauth::secrecy::SecretString;
use std::collections::HashMap;

use nativeauth::connect::V3Provider;
use nativeauth::{EmailAddress, FailureKind};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::cookies::{self, CSRF_COOKIE, STATE_COOKIE, STATE_LIMIT};
use crate::flow::{self, BUSY_RETRY_AFTER, DetectView, LoginFailure, LoginInput, ManualServers};
use crate::guard::{Caller, ClientIp, caller, is_json};
use crate::i18n::{Lang, Msg, t};
use crate::oauth::{FLOW_COOKIE, Finished, OAuthError};
use crate::oauth_flow::FLOW_LIFETIME;
use crate::oauth_provider::OAuthProvider;
use crate::page::{PageState, render};
use crate::start_link::{self, LinkCheck};

/// How long the CSRF cookie lasts.
const CSRF_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// What the app may pass to the page.
#[derive(Debug, Deserialize)]
pub(crate) struct PageQuery {
    state: Option<String>,
    email: Option<String>,
    name: Option<String>,
    /// A signed link's expiry (Unix seconds).
    exp: Option<String>,
    /// A signed link's signature.
    sig: Option<String>,
}

fn json_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (status, Json(json!({ "kind": kind, "message": message }))).into_response()
}

fn too_many(lang: Lang, wait: Duration) -> Response {
    let mut response =
        json_error(StatusCode::TOO_MANY_REQUESTS, "rate-limited", t(lang, Msg::TooManyAttempts));
    insert_retry_after(&mut response, wait);
    response
}

/// The answer when too many detections use the network at once (shed, not queued).
fn busy(lang: Lang) -> Response {
    let mut response = json_error(StatusCode::SERVICE_UNAVAILABLE, "busy", t(lang, Msg::Busy));
    insert_retry_after(&mut response, BUSY_RETRY_AFTER);
    response
}

fn insert_retry_after(response: &mut Response, wait: Duration) {
    if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// The page with the cookies it needs: the CSRF cookie, and the state cookie when given.
fn page_response(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    state: &PageState<'_>,
    start: Option<&cookies::Start>,
) -> Response {
    let lang = Lang::from_headers(headers);
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
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// `GET /`: the page. `state` (and the address a signed link pins) is kept in a signed cookie;
/// `email` and `name` prefill the form. A signed link (`exp`, `sig`) is checked; an invalid one,
/// or an unsigned one when `require_signed_start` is set, gets a page that sends the user back.
pub(crate) async fn page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    if query.state.as_ref().is_some_and(|s| s.len() > STATE_LIMIT) {
        return (StatusCode::BAD_REQUEST, format!("state is longer than {STATE_LIMIT} bytes"))
            .into_response();
    }
    let lang = Lang::from_headers(&headers);
    let email = query.email.as_deref().unwrap_or_default();
    let check = start_link::check(
        app.config.secrets.app_secret.expose_secret().as_bytes(),
        query.state.as_deref().unwrap_or_default(),
        email,
        query.exp.as_deref(),
        query.sig.as_deref(),
    );
    let signed = match check {
        LinkCheck::Signed => true,
        LinkCheck::Unsigned if !app.config.settings.require_signed_start => false,
        LinkCheck::Unsigned | LinkCheck::Invalid => {
            tracing::info!(signed = check == LinkCheck::Invalid, "a start link was refused");
            let state = PageState {
                error: Some((t(lang, Msg::LinkInvalid), None)),
                closed: true,
                ..PageState::default()
            };
            let mut response = page_response(&app, &headers, StatusCode::FORBIDDEN, &state, None);
            clear_state(&mut response, &app);
            return response;
        }
    };
    let pinned = (signed && !email.trim().is_empty()).then(|| email.trim().to_owned());
    let state = PageState {
        email,
        name: query.name.as_deref().unwrap_or_default(),
        ..PageState::default()
    };
    let until = query.exp.as_deref().and_then(|exp| exp.parse().ok()).filter(|_| signed);
    let start = cookies::Start { state: query.state.clone(), pinned, signed, until };
    if start == cookies::Start::default() {
        // A sign-in started without `state` must not inherit an earlier one.
        let mut response = page_response(&app, &headers, StatusCode::OK, &state, None);
        if cookies::read(&headers, STATE_COOKIE, app.config.settings.https).is_some() {
            clear_state(&mut response, &app);
        }
        return response;
    }
    page_response(&app, &headers, StatusCode::OK, &state, Some(&start))
}

/// Why the page's start does not allow signing in as `email`: the app requires signed links and
/// this page was not opened from one, or a signed link pinned another address.
fn start_refusal(
    app: &App,
    start: &cookies::Start,
    email: &str,
    lang: Lang,
) -> Option<LoginFailure> {
    if app.config.settings.require_signed_start && !start.signed {
        return Some(LoginFailure::new(
            StatusCode::FORBIDDEN,
            "link-invalid",
            t(lang, Msg::LinkInvalid),
        ));
    }
    let pinned = start.pinned.as_deref()?;
    let same = match (EmailAddress::parse(pinned.trim()), EmailAddress::parse(email.trim())) {
        (Ok(pinned), Ok(typed)) => pinned.as_str().eq_ignore_ascii_case(typed.as_str()),
        _ => false,
    };
    (!same).then(|| {
        LoginFailure::new(StatusCode::FORBIDDEN, "address-pinned", t(lang, Msg::AddressPinned))
    })
}

/// Why a detection was not run.
enum DetectRefusal {
    /// This client asked too often; wait this long.
    RateLimited(Duration),
    /// Too many detections are using the network at once.
    Busy,
}

/// Detects `email`, counting a detection that needs the network against the client's budget
/// (catalogue and cached answers are free).
async fn detect_email(
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
    let view = flow::detect_view(app, &report, lang);
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
struct DetectBody {
    email: String,
}

/// The refusal of a body that is not JSON: a form or text body is what a cross-site page can
/// post without asking, so the JSON endpoints take JSON only.
fn refuse_unless_json(headers: &HeaderMap) -> Option<Response> {
    (!is_json(headers)).then(|| {
        json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send Content-Type: application/json",
        )
    })
}

/// `POST /api/detect`: `{"email": "…"}` → what to ask the user for.
pub(crate) async fn detect(
    State(app): State<Arc<App>>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::from_headers(&headers);
    if let Some(refused) = refuse_unless_json(&headers) {
        return refused;
    }
    if caller(&app, &headers) == Caller::CrossSite {
        return json_error(StatusCode::FORBIDDEN, "cross-site", "cross-site requests are refused");
    }
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

/// The sign-in fields, from the JSON API or the form.
#[derive(Deserialize)]
pub(crate) struct LoginFields {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: Option<SecretString>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    imap_host: String,
    #[serde(default, deserialize_with = "port_text")]
    imap_port: String,
    #[serde(default)]
    smtp_host: String,
    #[serde(default, deserialize_with = "port_text")]
    smtp_port: String,
    /// The form's CSRF field (the JSON API sends `X-CSRF-Token` instead).
    #[serde(default)]
    csrf: String,
}

/// A port as the form sends it (text) or as a JSON caller may (a number); checked later.
fn port_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Port {
        Number(u64),
        Text(String),
    }
    Ok(match Option::<Port>::deserialize(deserializer)? {
        Some(Port::Number(n)) => n.to_string(),
        Some(Port::Text(text)) => text,
        None => String::new(),
    })
}

impl LoginFields {
    /// The servers the user typed, when they typed any.
    fn manual(&self) -> Result<Option<ManualServers>, ()> {
        if self.imap_host.trim().is_empty() && self.smtp_host.trim().is_empty() {
            return Ok(None);
        }
        let port = |text: &str, default: u16| match text.trim() {
            "" => Ok(default),
            text => text.parse::<u16>().ok().filter(|p| *p != 0).ok_or(()),
        };
        Ok(Some(ManualServers {
            imap_host: self.imap_host.trim().to_owned(),
            imap_port: port(&self.imap_port, 993)?,
            smtp_host: self.smtp_host.trim().to_owned(),
            smtp_port: port(&self.smtp_port, 465)?,
        }))
    }

    fn has_password(&self) -> bool {
        use nativeauth::secrecy::ExposeSecret;
        self.password.as_ref().is_some_and(|p| !p.expose_secret().is_empty())
    }
}

/// The rate limits of a sign-in: per client address and per target address. The address is
/// counted exactly as the sign-in will use it (IDNA-normalised domain without a trailing dot,
/// case folded), so `bob@Yahoo.com.` and a fullwidth or soft-hyphen spelling share one budget;
/// the key is its HMAC, so the table holds no address. `Ok(None)`: not a valid address.
async fn check_login_limits(
    app: &App,
    ip: ClientIp,
    email: &str,
) -> Result<Option<EmailAddress>, Duration> {
    let limit = app.config.settings.login_attempts_per_minute;
    app.limits.check(&format!("login-ip:{}", ip.key()), limit).await?;
    let Ok(parsed) = EmailAddress::parse(email) else { return Ok(None) };
    let counted = format!("{}@{}", parsed.local_part().to_lowercase(), parsed.domain());
    let address = crate::signing::hmac_hex(&app.ratelimit_key, counted.as_bytes());
    app.limits.check(&format!("login-address:{address}"), limit).await?;
    Ok(Some(parsed))
}

fn invalid_port(lang: Lang) -> LoginFailure {
    LoginFailure::new(StatusCode::BAD_REQUEST, "invalid-port", t(lang, Msg::InvalidPort))
}

/// Runs a sign-in for either front end.
async fn sign_in(
    app: &Arc<App>,
    ip: ClientIp,
    headers: &HeaderMap,
    fields: LoginFields,
) -> Result<flow::LoginSuccess, LoginFailure> {
    let lang = Lang::from_headers(headers);
    let manual = fields.manual().map_err(|()| invalid_port(lang))?;
    let start = cookies::read_start(&app.cookie_key, headers, app.config.settings.https);
    if let Some(refusal) = start_refusal(app, &start, &fields.email, lang) {
        app.metrics.login(refusal.kind);
        return Err(refusal);
    }
    match check_login_limits(app, ip, &fields.email).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            app.metrics.login("invalid-email");
            return Err(LoginFailure::new(
                StatusCode::BAD_REQUEST,
                "invalid-email",
                t(lang, Msg::InvalidEmail),
            ));
        }
        Err(wait) => {
            app.metrics.login("rate-limited");
            let mut failure = LoginFailure::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                t(lang, Msg::TooManyAttempts),
            );
            failure.retry_after = Some(wait);
            return Err(failure);
        }
    }
    let domain =
        fields.email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    let input = LoginInput {
        email: fields.email,
        password: fields.password.unwrap_or_else(|| SecretString::from(String::new())),
        name: fields.name,
        manual,
        start,
    };
    let result = flow::login(app, input, lang).await;
    match &result {
        Ok(success) => {
            app.metrics.login("ok");
            tracing::info!(%domain, provider = %success.provider, "signed in");
        }
        Err(failure) => {
            app.metrics.login(failure.kind);
            tracing::info!(%domain, kind = failure.kind, "sign-in refused");
        }
    }
    result
}

fn clear_state(response: &mut Response, app: &App) {
    if let Ok(value) = HeaderValue::from_str(&cookies::set(
        STATE_COOKIE,
        "",
        Duration::ZERO,
        app.config.settings.https,
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// `POST /api/login`: the page's sign-in. Browser requests only, from this server's page (or an
/// allowed origin), with the CSRF token in `X-CSRF-Token`.
pub(crate) async fn login_json(
    State(app): State<Arc<App>>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::from_headers(&headers);
    if let Some(refused) = refuse_unless_json(&headers) {
        return refused;
    }
    if caller(&app, &headers) != Caller::SameOrigin {
        return json_error(
            StatusCode::FORBIDDEN,
            "cross-site",
            "sign-in requests come from the login page only",
        );
    }
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !cookies::csrf_valid(&app.cookie_key, &headers, token, app.config.settings.https) {
        return json_error(StatusCode::FORBIDDEN, "session-expired", t(lang, Msg::SessionExpired));
    }
    let parsed = serde_json::from_slice::<LoginFields>(&body);
    drop(body);
    let Ok(fields) = parsed else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "the body must be a JSON object of the sign-in fields",
        );
    };
    match sign_in(&app, ip, &headers, fields).await {
        Ok(success) => {
            let mut response = Json(success).into_response();
            clear_state(&mut response, &app);
            response
        }
        Err(failure) => failure_response(failure),
    }
}

fn failure_response(failure: LoginFailure) -> Response {
    let retry_after = failure.retry_after;
    let mut response = (failure.status, Json(&failure)).into_response();
    if let Some(wait) = retry_after {
        insert_retry_after(&mut response, wait);
    }
    response
}

/// `POST /login`: the form, for browsers without JavaScript. Without a password it answers
/// with the next step (what to ask for); with one it signs in.
pub(crate) async fn login_form(
    State(app): State<Arc<App>>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    Form(fields): Form<LoginFields>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let kept = Kept::from(&fields);
    // As the JSON API: another site's page may not post here. A browser without these headers
    // (a text browser) is let through; the CSRF token covers it.
    if caller(&app, &headers) == Caller::CrossSite
        || !cookies::csrf_valid(&app.cookie_key, &headers, &fields.csrf, app.config.settings.https)
    {
        let state = PageState {
            email: &kept.email,
            name: &kept.name,
            error: Some((t(lang, Msg::SessionExpired), None)),
            ..PageState::default()
        };
        return page_response(&app, &headers, StatusCode::FORBIDDEN, &state, None);
    }
    let email = match EmailAddress::parse(fields.email.trim()) {
        Ok(email) => email,
        Err(_) => {
            let state = PageState {
                email: &kept.email,
                name: &kept.name,
                error: Some((t(lang, Msg::InvalidEmail), None)),
                ..PageState::default()
            };
            return page_response(&app, &headers, StatusCode::BAD_REQUEST, &state, None);
        }
    };
    let mut view = match detect_email(&app, ip, &email, lang).await {
        Ok(view) => view,
        Err(refusal) => {
            let (status, msg, wait) = match refusal {
                DetectRefusal::RateLimited(wait) => {
                    (StatusCode::TOO_MANY_REQUESTS, Msg::TooManyAttempts, wait)
                }
                DetectRefusal::Busy => {
                    (StatusCode::SERVICE_UNAVAILABLE, Msg::Busy, BUSY_RETRY_AFTER)
                }
            };
            let state = PageState {
                email: &kept.email,
                name: &kept.name,
                error: Some((t(lang, msg), None)),
                ..PageState::default()
            };
            let mut response = page_response(&app, &headers, status, &state, None);
            insert_retry_after(&mut response, wait);
            return response;
        }
    };
    if kept.manual && view.auth == "manual" {
        // Keep what the user typed over what was detected.
        view.auth = "manual";
        view.incoming = Some(flow::ServerView {
            host: kept.imap_host.clone(),
            port: kept.imap_port.parse().unwrap_or(0),
            security: "",
        });
        view.outgoing = Some(flow::ServerView {
            host: kept.smtp_host.clone(),
            port: kept.smtp_port.parse().unwrap_or(0),
            security: "",
        });
    }
    if !fields.has_password() || view.auth == "oauth2" {
        let state = PageState {
            email: &kept.email,
            name: &kept.name,
            detection: Some(&view),
            ..PageState::default()
        };
        return page_response(&app, &headers, StatusCode::OK, &state, None);
    }
    match sign_in(&app, ip, &headers, fields).await {
        Ok(success) => {
            let mut response = match &success.redirect {
                Some(url) => Redirect::to(url).into_response(),
                None => {
                    let state = PageState { success: true, ..PageState::default() };
                    page_response(&app, &headers, StatusCode::OK, &state, None)
                }
            };
            clear_state(&mut response, &app);
            response
        }
        Err(failure) => {
            if failure.kind == "confirm-servers" {
                view.auth = "manual";
            }
            let state = PageState {
                email: &kept.email,
                name: &kept.name,
                detection: Some(&view),
                error: Some((&failure.message, failure.help_url.as_deref())),
                failed_step: failure.step,
                ..PageState::default()
            };
            let mut response = page_response(&app, &headers, failure.status, &state, None);
            if let Some(wait) = failure.retry_after {
                insert_retry_after(&mut response, wait);
            }
            response
        }
    }
}

/// What the form shows again after a failure: everything but the password.
struct Kept {
    email: String,
    name: String,
    manual: bool,
    imap_host: String,
    imap_port: String,
    smtp_host: String,
    smtp_port: String,
}

impl From<&LoginFields> for Kept {
    fn from(fields: &LoginFields) -> Self {
        Self {
            email: fields.email.clone(),
            name: fields.name.clone(),
            manual: !fields.imap_host.trim().is_empty() || !fields.smtp_host.trim().is_empty(),
            imap_host: fields.imap_host.clone(),
            imap_port: fields.imap_port.clone(),
            smtp_host: fields.smtp_host.clone(),
            smtp_port: fields.smtp_port.clone(),
        }
    }
}

fn asset(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=300")], body)
        .into_response()
}

/// `GET /static/app.css`.
pub(crate) async fn app_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("../assets/app.css").to_owned())
}

/// `GET /static/app.js`.
pub(crate) async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("../assets/app.js").to_owned())
}

/// `GET /static/brand.css`: the configured colour.
pub(crate) async fn brand_css(State(app): State<Arc<App>>) -> Response {
    asset("text/css; charset=utf-8", crate::page::brand_css(&app.config.settings.brand))
}

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

/// The page showing an OAuth failure, with the address kept.
fn oauth_failure(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    message: &str,
) -> Response {
    let state = PageState { email, error: Some((message, None)), ..PageState::default() };
    page_response(app, headers, status, &state, None)
}

/// The page saying "too many attempts" when this client went past the sign-in budget of the
/// OAuth route `route`; `None` while it is within it.
async fn oauth_rate_limited(
    app: &App,
    headers: &HeaderMap,
    route: &str,
    ip: ClientIp,
    email: &str,
    lang: Lang,
) -> Option<Response> {
    let limit = app.config.settings.login_attempts_per_minute;
    let wait = app.limits.check(&format!("{route}:{}", ip.key()), limit).await.err()?;
    let mut response = oauth_failure(
        app,
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        email,
        t(lang, Msg::TooManyAttempts),
    );
    insert_retry_after(&mut response, wait);
    Some(response)
}

/// `GET /oauth/{google|microsoft}/start?email=…`: to the provider's sign-in, with PKCE, `state`
/// and the hints; the flow's id goes into a signed cookie.
pub(crate) async fn oauth_start(
    State(app): State<Arc<App>>,
    Extension(ip): Extension<ClientIp>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    let typed = query.get("email").map(String::as_str).unwrap_or_default();
    let Some(provider) =
        OAuthProvider::from_path(&provider).filter(|p| app.oauth.is_configured(*p))
    else {
        return (StatusCode::NOT_FOUND, "no such sign-in").into_response();
    };
    let Ok(email) = EmailAddress::parse(typed.trim()) else {
        return oauth_failure(
            &app,
            &headers,
            StatusCode::BAD_REQUEST,
            typed,
            t(lang, Msg::InvalidEmail),
        );
    };
    if let Some(refused) = oauth_rate_limited(&app, &headers, "oauth", ip, typed, lang).await {
        return refused;
    }
    // An organisation's own domain is a hint for the provider's account chooser.
    let consumer = matches!(
        email.domain(),
        "gmail.com" | "googlemail.com" | "outlook.com" | "hotmail.com" | "live.com" | "msn.com"
    );
    let domain_hint = (!consumer).then(|| email.domain().to_owned());
    let start = cookies::read_start(&app.cookie_key, &headers, app.config.settings.https);
    if let Some(refusal) = start_refusal(&app, &start, email.as_str(), lang) {
        app.metrics.login(refusal.kind);
        return oauth_failure(&app, &headers, refusal.status, typed, &refusal.message);
    }
    match app.oauth.start(
        provider,
        &email,
        &app.config.settings.scopes,
        domain_hint.as_deref(),
        start,
        lang.code(),
    ) {
        Ok((location, sealed)) => {
            let mut response = Redirect::to(&location).into_response();
            // Lax: the provider's redirect back is a cross-site top-level navigation.
            let cookie =
                cookies::set(FLOW_COOKIE, &sealed, FLOW_LIFETIME, app.config.settings.https)
                    .replace("SameSite=Strict", "SameSite=Lax");
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            tracing::info!(
                domain = email.domain(),
                provider = provider.as_str(),
                "oauth sign-in started"
            );
            response
        }
        Err(error) => {
            tracing::warn!(%error, "oauth sign-in not started");
            oauth_failure(
                &app,
                &headers,
                StatusCode::SERVICE_UNAVAILABLE,
                typed,
                t(lang, Msg::Busy),
            )
        }
    }
}

/// `GET /oauth/callback`: the provider's redirect. Checks the flow and `state`, exchanges the
/// code, then links the account like a password sign-in (API call, callback, redirect).
pub(crate) async fn oauth_callback(
    State(app): State<Arc<App>>,
    Extension(ip): Extension<ClientIp>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::from_headers(&headers);
    // Each callback costs a token request with our client secret: a replayed flow cookie with
    // made-up codes must not get the client throttled at the provider.
    if let Some(refused) = oauth_rate_limited(&app, &headers, "oauth-callback", ip, "", lang).await
    {
        return refused;
    }
    let flow = cookies::read(&headers, FLOW_COOKIE, app.config.settings.https);
    let finished = app.oauth.finish(flow, &query, &app.callbacks).await;
    let mut response = match finished {
        Err((error, email)) => {
            tracing::info!(%error, "oauth sign-in failed");
            let (status, kind, msg) = match error {
                OAuthError::Denied => (StatusCode::UNAUTHORIZED, "oauth-denied", Msg::OAuthDenied),
                OAuthError::NoFlow | OAuthError::StateMismatch | OAuthError::InvalidGrant => {
                    (StatusCode::BAD_REQUEST, "oauth-restart", Msg::OAuthRestart)
                }
                OAuthError::NoRefreshToken => {
                    (StatusCode::BAD_GATEWAY, "oauth-no-refresh-token", Msg::OAuthNoRefreshToken)
                }
                OAuthError::Seal => (StatusCode::SERVICE_UNAVAILABLE, "busy", Msg::Busy),
                OAuthError::Identity(_) => {
                    (StatusCode::FORBIDDEN, "oauth-identity", Msg::OAuthIdentity)
                }
                OAuthError::NotConfigured | OAuthError::Provider(_) | OAuthError::Exchange(_) => {
                    (StatusCode::BAD_GATEWAY, "oauth-failed", Msg::OAuthFailed)
                }
            };
            app.metrics.login(kind);
            let email = email.as_ref().map_or("", EmailAddress::as_str);
            oauth_failure(&app, &headers, status, email, t(lang, msg))
        }
        Ok(finished) => {
            // The page's language when the flow started: the provider's redirect carries none.
            let lang = finished.lang.as_deref().and_then(Lang::from_tag).unwrap_or(lang);
            Lang::scope(Some(lang), oauth_link(&app, headers.clone(), finished, lang)).await
        }
    };
    // The flow is used up: its cookie goes too.
    if let Ok(value) = HeaderValue::from_str(&cookies::set(
        FLOW_COOKIE,
        "",
        Duration::ZERO,
        app.config.settings.https,
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The account behind a finished OAuth flow, linked through the API like a password sign-in.
/// The linked address is the one that signed in: when it differs from the typed one, a pinned
/// address refuses it, and otherwise it is detected and linked in its place.
async fn oauth_link(
    app: &Arc<App>,
    headers: HeaderMap,
    finished: Finished,
    lang: Lang,
) -> Response {
    let headers = &headers;
    let email = finished.identity.email.clone();
    let typed = &finished.typed;
    if !email.as_str().eq_ignore_ascii_case(typed.as_str()) {
        if let Some(pinned) = &finished.start.pinned {
            app.metrics.login("oauth-other-account");
            tracing::info!(domain = email.domain(), "oauth sign-in as another account refused");
            let message = crate::i18n::t_with(
                lang,
                Msg::OAuthOtherAccount,
                &[("signed_in", email.as_str()), ("expected", pinned)],
            );
            return oauth_failure(app, headers, StatusCode::FORBIDDEN, typed.as_str(), &message);
        }
        tracing::info!(domain = email.domain(), "oauth: another account than typed signed in");
    }
    let report = app.discovery.discover(&email).await;
    // The mailbox must be one this OAuth flow's grant opens: the provider v3 would connect.
    let grant_opens = match finished.provider {
        OAuthProvider::Google => V3Provider::Google,
        OAuthProvider::Microsoft => V3Provider::Microsoft,
    };
    let Some(detection) =
        report.best.filter(|d| V3Provider::from_nylas(d.provider.nylas) == grant_opens)
    else {
        app.metrics.login("oauth-wrong-account");
        return oauth_failure(
            app,
            headers,
            StatusCode::BAD_REQUEST,
            email.as_str(),
            t(lang, Msg::OAuthWrongAccount),
        );
    };
    let result = flow::link(
        app,
        &email,
        email.local_part(),
        &detection,
        finished.credentials,
        nativeauth::connect::Consent::none(),
        &finished.start,
        finished.identity.tenant.as_deref(),
        lang,
    )
    .await;
    match result {
        Ok(success) => {
            app.metrics.login("ok");
            tracing::info!(domain = email.domain(), "oauth sign-in linked");
            let mut response = match success.redirect {
                Some(url) => Redirect::to(&url).into_response(),
                None => {
                    let state =
                        PageState { email: email.as_str(), success: true, ..PageState::default() };
                    page_response(app, headers, StatusCode::OK, &state, None)
                }
            };
            clear_state(&mut response, app);
            response
        }
        Err(failure) => {
            app.metrics.login(failure.kind);
            oauth_failure(app, headers, failure.status, email.as_str(), &failure.message)
        }
    }
}
