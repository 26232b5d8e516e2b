//! "Sign in with Google / Microsoft": `GET /oauth/{provider}/start` and `GET /oauth/callback`.

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;

use nativeauth::EmailAddress;
use nativeauth::connect::V3Provider;

use super::responses::{insert_retry_after, page_response};
use super::sign_in::{clear_state, start_refusal};
use crate::app::App;
use crate::cookies::{self};
use crate::flow::{self};
use crate::guard::ClientIp;
use crate::i18n::{Lang, Msg, t};
use crate::oauth::{FLOW_COOKIE, Finished, OAuthError};
use crate::oauth_flow::FLOW_LIFETIME;
use crate::oauth_provider::OAuthProvider;
use crate::page::PageState;

/// The page showing an OAuth failure, with the address kept.
pub(super) fn oauth_failure(
    app: &App,
    lang: Lang,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    message: &str,
) -> Response {
    let state = PageState { email, error: Some((message, None)), ..PageState::default() };
    page_response(app, lang, headers, status, &state, None)
}

/// The page saying "too many attempts" when this client went past the sign-in budget of the
/// OAuth route `route`; `None` while it is within it.
pub(super) async fn oauth_rate_limited(
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
        lang,
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
    lang: Lang,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let typed = query.get("email").map(String::as_str).unwrap_or_default();
    let Some(provider) =
        OAuthProvider::from_path(&provider).filter(|p| app.oauth.is_configured(*p))
    else {
        return (StatusCode::NOT_FOUND, "no such sign-in").into_response();
    };
    let Ok(email) = EmailAddress::parse(typed.trim()) else {
        return oauth_failure(
            &app,
            lang,
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
        return oauth_failure(&app, lang, &headers, refusal.status, typed, &refusal.message);
    }
    match app.oauth.start(provider, &email, domain_hint.as_deref(), start, lang.code()) {
        Ok((location, sealed)) => {
            let mut response = Redirect::to(&location).into_response();
            // Lax: the provider's redirect back is a cross-site top-level navigation.
            let https = app.config.settings.https;
            let cookie = cookies::set_with(
                FLOW_COOKIE,
                &sealed,
                FLOW_LIFETIME,
                https,
                cookies::SameSite::Lax,
            );
            cookies::append(&mut response, &cookie);
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
                lang,
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
    lang: Lang,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
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
            oauth_failure(&app, lang, &headers, status, email, t(lang, msg))
        }
        Ok(finished) => {
            // The page's language when the flow started: the provider's redirect carries none.
            let lang = finished.lang.as_deref().and_then(Lang::from_tag).unwrap_or(lang);
            oauth_link(&app, &headers, finished, lang).await
        }
    };
    // The flow is used up: its cookie goes too.
    cookies::remove(&mut response, FLOW_COOKIE, app.config.settings.https);
    response
}

/// The account behind a finished OAuth flow, linked through the API like a password sign-in.
/// The linked address is the one that signed in: when it differs from the typed one, a pinned
/// address refuses it, and otherwise it is detected and linked in its place.
pub(super) async fn oauth_link(
    app: &Arc<App>,
    headers: &HeaderMap,
    finished: Finished,
    lang: Lang,
) -> Response {
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
            return oauth_failure(
                app,
                lang,
                headers,
                StatusCode::FORBIDDEN,
                typed.as_str(),
                &message,
            );
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
            lang,
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
                    page_response(app, lang, headers, StatusCode::OK, &state, None)
                }
            };
            clear_state(&mut response, app);
            response
        }
        Err(failure) => {
            app.metrics.login(failure.kind);
            oauth_failure(app, lang, headers, failure.status, email.as_str(), &failure.message)
        }
    }
}
