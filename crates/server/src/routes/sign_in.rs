//! What both sign-in routes do with the typed fields: the limits, the start cookie's checks, the sign-in itself.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use nativeauth::secrecy::SecretString;

use nativeauth::EmailAddress;
use serde::Deserialize;

use super::responses::insert_retry_after;
use crate::app::App;
use crate::cookies::{self, STATE_COOKIE};
use crate::flow::{self, LoginFailure, LoginInput, ManualServers};
use crate::guard::ClientIp;
use crate::i18n::{Lang, Msg, t};

/// Why the page's start does not allow signing in as `email`: the app requires signed links and
/// this page was not opened from one, or a signed link pinned another address.
pub(super) fn start_refusal(
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

/// The sign-in fields, from the JSON API or the form.
#[derive(Deserialize)]
pub(crate) struct LoginFields {
    #[serde(default)]
    pub(super) email: String,
    #[serde(default)]
    pub(super) password: Option<SecretString>,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) imap_host: String,
    #[serde(default, deserialize_with = "port_text")]
    pub(super) imap_port: String,
    #[serde(default)]
    pub(super) smtp_host: String,
    #[serde(default, deserialize_with = "port_text")]
    pub(super) smtp_port: String,
    /// The form's CSRF field (the JSON API sends `X-CSRF-Token` instead).
    #[serde(default)]
    pub(super) csrf: String,
}

/// A port as the form sends it (text) or as a JSON caller may (a number); checked later.
pub(super) fn port_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
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
    /// Whether the user typed servers of their own.
    pub(super) fn names_servers(&self) -> bool {
        !self.imap_host.trim().is_empty() || !self.smtp_host.trim().is_empty()
    }

    /// The servers the user typed, when they typed any.
    fn manual(&self) -> Result<Option<ManualServers>, ()> {
        if !self.names_servers() {
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

    pub(super) fn has_password(&self) -> bool {
        use nativeauth::secrecy::ExposeSecret;
        self.password.as_ref().is_some_and(|p| !p.expose_secret().is_empty())
    }
}

/// The rate limits of a sign-in: per client address and per target address. The address is
/// counted exactly as the sign-in will use it (IDNA-normalised domain without a trailing dot,
/// case folded), so `bob@Yahoo.com.` and a fullwidth or soft-hyphen spelling share one budget;
/// the key is its HMAC, so the table holds no address. `Ok(None)`: not a valid address.
pub(super) async fn check_login_limits(
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

pub(super) fn invalid_port(lang: Lang) -> LoginFailure {
    LoginFailure::new(StatusCode::BAD_REQUEST, "invalid-port", t(lang, Msg::InvalidPort))
}

/// Runs a sign-in for either front end.
pub(super) async fn sign_in(
    app: &Arc<App>,
    ip: ClientIp,
    lang: Lang,
    headers: &HeaderMap,
    fields: LoginFields,
) -> Result<flow::LoginSuccess, LoginFailure> {
    let manual = fields.manual().map_err(|()| invalid_port(lang))?;
    let start = cookies::read_start(&app.cookie_key, headers, app.config.settings.https);
    if let Some(refusal) = start_refusal(app, &start, &fields.email, lang) {
        app.metrics.login(refusal.kind);
        return Err(refusal);
    }
    let email = match check_login_limits(app, ip, &fields.email).await {
        Ok(Some(email)) => email,
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
    };
    let domain = email.domain().to_owned();
    let input = LoginInput {
        email,
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

pub(super) fn clear_state(response: &mut Response, app: &App) {
    cookies::remove(response, STATE_COOKIE, app.config.settings.https);
}

pub(super) fn failure_response(failure: LoginFailure) -> Response {
    let retry_after = failure.retry_after;
    let mut response = (failure.status, Json(&failure)).into_response();
    if let Some(wait) = retry_after {
        insert_retry_after(&mut response, wait);
    }
    response
}
