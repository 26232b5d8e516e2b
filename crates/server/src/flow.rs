//! What the page and the JSON API do to sign a user in, shared by both: the typed servers'
//! rules, the pre-flight check, the connect API, the one-time code and the callback.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use nativeauth::connect::{
    AuthorizeRequest, ConnectError, Consent, Credentials, CustomAuthRequest, PayloadError,
};
use nativeauth::providers::imap::{LoginCheckError, check_login};
use nativeauth::secrecy::SecretString;
use nativeauth::{
    AuthHint, AuthMethod, Detection, EmailAddress, FailureKind, NylasProvider, Protocol,
    ProviderInfo, Security, Server, Source, Trust, UsernameTemplate,
};
use serde::Serialize;

use crate::app::{ApiClient, App};
use crate::detect::BUSY_RETRY_AFTER;
use crate::i18n::{Lang, Msg, t, t_with};
use crate::result::{Linked, SignInResult};
use crate::urls::is_same_origin_path;

/// Servers the user typed or confirmed on the page.
#[derive(Debug, Clone, Default)]
pub(crate) struct ManualServers {
    pub(crate) imap_host: String,
    pub(crate) imap_port: u16,
    pub(crate) smtp_host: String,
    pub(crate) smtp_port: u16,
}

/// What a sign-in needs.
pub(crate) struct LoginInput {
    pub(crate) email: EmailAddress,
    pub(crate) password: SecretString,
    pub(crate) name: String,
    pub(crate) manual: Option<ManualServers>,
    /// What the page's start kept (the app's `state`, a pinned address).
    pub(crate) start: crate::cookies::Start,
}

/// A failed sign-in, as the page shows it.
#[derive(Debug, Serialize)]
pub(crate) struct LoginFailure {
    #[serde(skip)]
    pub(crate) status: StatusCode,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) help_url: Option<String>,
    /// The step before login the failure concerns (`app-password`, `enable-imap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) step: Option<&'static str>,
    #[serde(skip)]
    pub(crate) retry_after: Option<Duration>,
}

impl LoginFailure {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            help_url: None,
            step: None,
            retry_after: None,
        }
    }
}

/// A successful sign-in, as the browser sees it: where to go next, never the account.
#[derive(Debug, Serialize)]
pub(crate) struct LoginSuccess {
    pub(crate) ok: bool,
    /// `success_url` with `state` and the one-time `code`.
    pub(crate) redirect: Option<String>,
    /// For the server's own log.
    #[serde(skip)]
    pub(crate) provider: String,
}

fn manual_detection(email: &EmailAddress, manual: &ManualServers) -> Detection {
    let server = |protocol, host: &str, port: u16| Server {
        protocol,
        host: host.trim().to_ascii_lowercase(),
        port,
        security: Security::for_typed_port(port),
        username: UsernameTemplate::email_address(),
        auth: vec![AuthMethod::PasswordCleartext],
    };
    let domain = email.domain();
    Detection::new(
        ProviderInfo::new(domain, domain, NylasProvider::Imap),
        Source::Guess,
        Trust::Unverified,
        "servers the user confirmed",
    )
    .with_servers(
        vec![server(Protocol::Imap, &manual.imap_host, manual.imap_port)],
        vec![server(Protocol::Smtp, &manual.smtp_host, manual.smtp_port)],
    )
}

/// Whether `typed` names the same incoming and outgoing servers (host and port) as `found`.
fn same_servers(found: &Detection, typed: &Detection) -> bool {
    let first = |servers: &[Server]| servers.first().map(|s| (s.host.to_ascii_lowercase(), s.port));
    first(&found.incoming) == first(&typed.incoming)
        && first(&found.outgoing) == first(&typed.outgoing)
}

/// Refuses typed servers outside what `typed_servers` allows for `email`.
async fn check_typed_servers(
    app: &App,
    email: &EmailAddress,
    typed: &Detection,
    lang: Lang,
) -> Result<(), LoginFailure> {
    use crate::typed_servers::{Refusal, TypedServers, allowed_domains, check};
    let rule = app.config.settings.typed_servers;
    let allowed = match rule {
        TypedServers::SameDomain => allowed_domains(&app.discovery, email).await,
        TypedServers::Any | TypedServers::None => crate::typed_servers::Allowed::default(),
    };
    for server in typed.incoming.iter().chain(&typed.outgoing) {
        if let Err(refusal) = check(rule, &server.host, email, &allowed) {
            let message = match refusal {
                Refusal::OutsideDomain(domain) => {
                    t_with(lang, Msg::ServerOutsideDomain, &[("domain", &domain)])
                }
                Refusal::NotAHostName => t(lang, Msg::ServerNotAHostName).to_owned(),
                Refusal::TurnedOff => t(lang, Msg::TypedServersOff).to_owned(),
            };
            tracing::info!(domain = email.domain(), "typed servers refused");
            return Err(LoginFailure::new(StatusCode::BAD_REQUEST, "server-not-allowed", message));
        }
    }
    Ok(())
}

/// Signs the user in: detection (cached), the pre-flight check when configured, the API call,
/// then the signed callback. The password is dropped when this returns.
pub(crate) async fn login(
    app: &Arc<App>,
    input: LoginInput,
    lang: Lang,
) -> Result<LoginSuccess, LoginFailure> {
    let email = &input.email;
    let report = app.discovery.discover(email).await;
    if report.failure.as_ref().is_some_and(|f| f.kind == FailureKind::Busy) {
        let mut failure =
            LoginFailure::new(StatusCode::SERVICE_UNAVAILABLE, "busy", t(lang, Msg::Busy));
        failure.retry_after = Some(BUSY_RETRY_AFTER);
        return Err(failure);
    }
    if report.best.as_ref().is_some_and(|best| best.auth_hint == AuthHint::Unsupported) {
        return Err(LoginFailure::new(
            StatusCode::BAD_REQUEST,
            "unsupported-provider",
            t(lang, Msg::Unsupported),
        ));
    }
    // Servers the user confirmed or typed replace an unverified (or missing) answer: those
    // discovery found as they are (the consent flow), others only inside the address's own
    // mail setup.
    let (detection, consent) = match (&report.best, &input.manual) {
        (Some(best), _) if best.trust == Trust::Verified => (best.clone(), Consent::none()),
        (best, Some(manual))
            if !manual.imap_host.trim().is_empty() && !manual.smtp_host.trim().is_empty() =>
        {
            let typed = manual_detection(email, manual);
            if !best.as_ref().is_some_and(|best| same_servers(best, &typed)) {
                check_typed_servers(app, email, &typed, lang).await?;
            }
            (typed, Consent::none().accept_unverified())
        }
        _ => {
            return Err(LoginFailure::new(
                StatusCode::CONFLICT,
                "confirm-servers",
                t(lang, Msg::ConfirmServers),
            ));
        }
    };
    let credentials =
        Credentials::Password { password: input.password, username: None, smtp: None };
    if app.config.settings.preflight {
        let ctx = app.discovery.context();
        match check_login(&ctx, email, &detection, &credentials, consent, Duration::from_secs(15))
            .await
        {
            Ok(check) if check.ok => {}
            Ok(check) => {
                let status = if check.kind.is_refusal() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_GATEWAY
                };
                let mut failure = LoginFailure::new(status, check.kind.as_str(), check.message);
                failure.help_url = check.help_url;
                failure.step = check.step.map(nativeauth::PreLoginStep::as_str);
                return Err(failure);
            }
            Err(LoginCheckError::NotAPassword(_)) => {
                return Err(LoginFailure::new(
                    StatusCode::BAD_REQUEST,
                    "oauth-required",
                    t(lang, Msg::NoPasswordHere),
                ));
            }
            Err(error) => {
                return Err(LoginFailure::new(
                    StatusCode::BAD_REQUEST,
                    "not-checked",
                    error.to_string(),
                ));
            }
        }
    }
    let name =
        if input.name.trim().is_empty() { email.local_part().to_owned() } else { input.name };
    link(app, email, &name, &detection, credentials, consent, &input.start, None, lang).await
}

/// The API call (v2 authorize and token, or a v3 grant) with `credentials`, then the result
/// handed over: to the embedding app's hook, kept under a one-time code for the app's exchange
/// (the browser is sent to the success URL with it), and announced by the callback in the
/// background. Shared by the password and the OAuth flows; the credentials are dropped as soon
/// as the payload holds them.
#[allow(clippy::too_many_arguments)] // one call per flow; a struct would only rename them
pub(crate) async fn link(
    app: &Arc<App>,
    email: &EmailAddress,
    name: &str,
    detection: &Detection,
    credentials: Credentials,
    consent: Consent,
    start: &crate::cookies::Start,
    tenant_id: Option<&str>,
    lang: Lang,
) -> Result<LoginSuccess, LoginFailure> {
    let app_state = start.state.as_deref();
    // Checked before the API call: a linked account must never be left without its code.
    if !app.codes.has_room() {
        let mut failure =
            LoginFailure::new(StatusCode::SERVICE_UNAVAILABLE, "busy", t(lang, Msg::Busy));
        failure.retry_after = Some(BUSY_RETRY_AFTER);
        return Err(failure);
    }
    let file = &app.config.settings;
    let (linked, linked_address) = match &app.api {
        ApiClient::V2(client) => {
            let scopes = file.scopes.parse().map_err(|e: nativeauth::connect::ScopeError| {
                LoginFailure::new(StatusCode::INTERNAL_SERVER_ERROR, "misconfigured", e.to_string())
            })?;
            let request = AuthorizeRequest::with_consent(
                &file.client_id,
                name,
                email,
                detection,
                &credentials,
                scopes,
                consent,
            )
            .map_err(|e| payload_failure(&e, lang))?;
            drop(credentials);
            let code = client.authorize(&request).await.map_err(|e| api_failure(&e, lang))?;
            drop(request);
            let account = client.token(code).await.map_err(|e| api_failure(&e, lang))?;
            let linked = Linked::V2 {
                account_id: account.account_id,
                access_token: account.access_token,
                provider: account.provider,
            };
            (linked, account.email_address)
        }
        ApiClient::V3(client) => {
            let request = CustomAuthRequest::with_consent(email, detection, &credentials, consent)
                .map_err(|e| payload_failure(&e, lang))?;
            drop(credentials);
            let created = client.create_grant(&request).await.map_err(|e| api_failure(&e, lang))?;
            let linked = Linked::V3 { grant_id: created.id, provider: created.provider };
            (linked, created.email.unwrap_or_default())
        }
    };
    let event_id = crate::signing::random_id();
    if !linked_address.is_empty() && !linked_address.eq_ignore_ascii_case(email.as_str()) {
        // The address the user proved is the one reported; the API's differing one is worth a
        // look (the log holds neither).
        tracing::warn!(%event_id, "the connect API reports another address than the one linked");
    }
    let result = SignInResult {
        event_id,
        state: start.state.clone(),
        signed_link: start.signed,
        tenant_id: tenant_id.map(str::to_owned),
        email_address: email.as_str().to_owned(),
        provider: detection.provider.nylas.as_str().to_owned(),
        source: detection.source.as_str().to_owned(),
        trust: detection.trust.as_str().to_owned(),
        linked,
    };
    tracing::info!(event_id = %result.event_id, linked = result.linked_id(), "account linked");
    let provider = result.provider.clone();
    let code = app.codes.issue(result.clone()).await;
    crate::callback::notify(app, &result);
    if let Some(hook) = &app.hook {
        // The app's code must not cost the user a sign-in that is already done.
        let event_id = result.event_id.clone();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(result))).is_err() {
            tracing::error!(%event_id, "the embedding app's hook panicked");
        }
    }
    let redirect = file.success_url.as_ref().map(|url| with_state_and_code(url, app_state, &code));
    Ok(LoginSuccess { ok: true, redirect, provider })
}

/// `url` with `state` (when there is one) and `code` appended as query parameters.
pub(crate) fn with_state_and_code(url: &str, state: Option<&str>, code: &str) -> String {
    if is_same_origin_path(url) {
        // Built on a placeholder origin, given back as a path.
        let absolute = with_state_and_code(&format!("https://origin.invalid{url}"), state, code);
        return absolute.trim_start_matches("https://origin.invalid").to_owned();
    }
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            {
                let mut query = parsed.query_pairs_mut();
                if let Some(state) = state {
                    query.append_pair("state", state);
                }
                query.append_pair("code", code);
            }
            parsed.into()
        }
        // Checked at start-up; never reached.
        Err(_) => url.to_owned(),
    }
}

fn payload_failure(error: &PayloadError, lang: Lang) -> LoginFailure {
    match error {
        PayloadError::Unsupported { .. } => LoginFailure::new(
            StatusCode::BAD_REQUEST,
            "unsupported-provider",
            t(lang, Msg::Unsupported),
        ),
        PayloadError::OAuthRequired { .. } | PayloadError::WrongCredentials { .. } => {
            LoginFailure::new(
                StatusCode::BAD_REQUEST,
                "oauth-required",
                t(lang, Msg::NoPasswordHere),
            )
        }
        other => LoginFailure::new(StatusCode::BAD_REQUEST, "invalid-request", other.to_string()),
    }
}

fn api_failure(error: &ConnectError, lang: Lang) -> LoginFailure {
    match error {
        ConnectError::WrongCredentials { .. } => LoginFailure::new(
            StatusCode::UNAUTHORIZED,
            "wrong-credentials",
            t(lang, Msg::ApiRefused),
        ),
        ConnectError::RateLimited { retry_after, .. } => {
            let mut failure = LoginFailure::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                t(lang, Msg::TooManyAttempts),
            );
            failure.retry_after = *retry_after;
            failure
        }
        other => {
            tracing::warn!(error = %other, "the connect API failed");
            LoginFailure::new(
                StatusCode::BAD_GATEWAY,
                "api-unavailable",
                t(lang, Msg::ApiUnavailable),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_success_path_on_the_pages_own_origin_stays_a_path() {
        assert_eq!(with_state_and_code("/done", Some("s 1"), "c"), "/done?state=s+1&code=c");
        assert_eq!(with_state_and_code("/done?x=1", None, "c"), "/done?x=1&code=c");
        assert!(!is_same_origin_path("//evil.example/done"));
        assert!(!is_same_origin_path("/\\evil.example"));
        assert_eq!(
            with_state_and_code("https://app.example/welcome", Some("s"), "c"),
            "https://app.example/welcome?state=s&code=c"
        );
    }
}
