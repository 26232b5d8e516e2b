//! What the page and `POST /api/detect` show for a detection: the provider, what to ask for,
//! the steps before the password, the servers to confirm, or one plain sentence when nothing
//! was found.

use std::time::Duration;

use nativeauth::{
    AuthHint, Detection, EmailAddress, FailureKind, NylasProvider, Protocol, Report, Server, Trust,
};
use serde::Serialize;

use crate::app::App;
use crate::i18n::{Lang, Msg, t, t_with};

/// How long a caller refused as busy is asked to wait: discoveries take a few seconds at most.
pub(crate) const BUSY_RETRY_AFTER: Duration = Duration::from_secs(2);

/// A server as the page shows it, for prefilling manual fields.
#[derive(Debug, Serialize)]
pub(crate) struct ServerView {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) security: &'static str,
}

/// The answer of `POST /api/detect`.
#[derive(Debug, Serialize)]
pub(crate) struct DetectView {
    pub(crate) email: String,
    pub(crate) detected: bool,
    pub(crate) provider: Option<String>,
    pub(crate) nylas: Option<&'static str>,
    /// `password`, `app-password`, `oauth2`, or `manual` (servers to confirm or type).
    pub(crate) auth: &'static str,
    pub(crate) trust: Option<&'static str>,
    pub(crate) source: Option<&'static str>,
    pub(crate) sign_in_url: Option<String>,
    pub(crate) help_url: Option<String>,
    pub(crate) notes: Vec<String>,
    /// What the user must do at the provider first: `[{"step": "enable-imap", "url": …,
    /// "text": …}]`, the text in the page's language.
    pub(crate) requires: Vec<StepView>,
    pub(crate) incoming: Option<ServerView>,
    pub(crate) outgoing: Option<ServerView>,
    pub(crate) suggestion: Option<String>,
    pub(crate) reason: Option<String>,
}

fn server_view(servers: &[Server], protocol: Protocol) -> Option<ServerView> {
    servers.iter().find(|s| s.protocol == protocol).map(|s| ServerView {
        host: s.host.clone(),
        port: s.port,
        security: s.security.as_str(),
    })
}

/// A step before login as the page shows it.
#[derive(Debug, Serialize)]
pub(crate) struct StepView {
    pub(crate) step: &'static str,
    pub(crate) url: Option<String>,
    pub(crate) text: &'static str,
}

/// The sentence for a step, in `lang`.
fn step_text(step: nativeauth::PreLoginStep, lang: Lang) -> &'static str {
    use nativeauth::PreLoginStep as S;
    t(
        lang,
        match step {
            S::EnableImap => Msg::StepEnableImap,
            S::AppPassword => Msg::StepAppPassword,
            S::TwoFactor => Msg::StepTwoFactor,
            S::SeparateMailPassword => Msg::StepSeparateMailPassword,
            S::PaidPlan => Msg::StepPaidPlan,
            S::Bridge => Msg::StepBridge,
            // A step added later, before its words are: its page says it.
            _ => Msg::HowTo,
        },
    )
}

/// What the page should ask for, given a report.
pub(crate) fn detect_view(app: &App, report: &Report, lang: Lang) -> DetectView {
    let Some(best) = &report.best else {
        return DetectView {
            email: report.email.as_str().to_owned(),
            detected: false,
            provider: None,
            nylas: None,
            auth: "manual",
            trust: None,
            source: None,
            sign_in_url: None,
            help_url: None,
            notes: Vec::new(),
            requires: Vec::new(),
            incoming: None,
            outgoing: None,
            suggestion: report.suggestion.as_ref().map(|s| s.as_str().to_owned()),
            // One fixed sentence per outcome: the failure's own message (resolver errors,
            // refused private addresses, trace wording) stays in the logs and `discover`.
            reason: report.failure.as_ref().map(|f| {
                public_reason(f.kind, app.discovery.config().is_offline(), lang).to_owned()
            }),
        };
    };
    let file = &app.config.settings;
    // A password could not link a provider the connect API opens only with OAuth.
    let oauth = best.auth_hint == AuthHint::OAuth2 || best.provider.nylas.requires_oauth();
    let (auth, sign_in_url) = if best.auth_hint == AuthHint::Unsupported {
        ("unsupported", None)
    } else if oauth {
        let provider = match best.provider.nylas {
            NylasProvider::Gmail => crate::oauth_provider::OAuthProvider::Google,
            _ => crate::oauth_provider::OAuthProvider::Microsoft,
        };
        // This server's own flow when configured, else the app's URL.
        let url = if app.oauth.is_configured(provider) {
            Some(format!(
                "{}/oauth/{}/start?lang={}&email={}",
                crate::base_path::base_path(),
                provider.as_str(),
                lang.code(),
                oauth2::url::form_urlencoded::byte_serialize(report.email.as_str().as_bytes())
                    .collect::<String>()
            ))
        } else {
            match provider {
                crate::oauth_provider::OAuthProvider::Google => file.google_sign_in_url.clone(),
                crate::oauth_provider::OAuthProvider::Microsoft => {
                    file.microsoft_sign_in_url.clone()
                }
            }
        };
        ("oauth2", url)
    } else if best.trust == Trust::Unverified {
        ("manual", None)
    } else if best.auth_hint == AuthHint::AppPassword {
        ("app-password", None)
    } else {
        ("password", None)
    };
    DetectView {
        email: report.email.as_str().to_owned(),
        detected: true,
        provider: Some(best.provider.name.clone()),
        nylas: Some(best.provider.nylas.as_str()),
        auth,
        trust: Some(best.trust.as_str()),
        source: Some(best.source.as_str()),
        sign_in_url,
        help_url: best
            .provider
            .app_password_url
            .clone()
            .filter(|_| auth == "app-password")
            .or_else(|| best.provider.documentation.clone()),
        notes: best.notes.clone(),
        requires: best
            .requires
            .iter()
            .map(|r| StepView {
                step: r.step.as_str(),
                url: r.url.clone(),
                text: step_text(r.step, lang),
            })
            .collect(),
        incoming: server_view(&best.incoming, Protocol::Imap),
        outgoing: server_view(&best.outgoing, Protocol::Smtp),
        suggestion: None,
        reason: if auth == "unsupported" {
            // A provider without mail access for other apps: a sentence saying so, not its note.
            Some(t(lang, Msg::Unsupported).to_owned())
        } else {
            hosted_elsewhere(best, &report.email)
                .map(|host| t_with(lang, Msg::HostedExchange, &[("host", &host)]))
        },
    }
}

/// The host an unverified Exchange answer points to outside the address's domain (Exchange
/// run by a hosting company, found by the domain's plain-http redirect): the user is asked
/// about it before any password goes there.
fn hosted_elsewhere(best: &Detection, email: &EmailAddress) -> Option<String> {
    use nativeauth::plugin::registrable_domain;
    let host = best.exchange.as_ref()?.eas_host.as_deref()?;
    (best.trust == Trust::Unverified
        && registrable_domain(host) != registrable_domain(email.domain()))
    .then(|| host.to_owned())
}

/// What the public is told when nothing was found: a sentence for a person, never an address,
/// a resolver or TLS error, or a trace line.
pub(crate) fn public_reason(kind: FailureKind, offline: bool, lang: Lang) -> &'static str {
    match kind {
        FailureKind::NotFound if offline => t(lang, Msg::ReasonOffline),
        FailureKind::NotFound => t(lang, Msg::ReasonNotFound),
        FailureKind::NoSuchDomain => t(lang, Msg::ReasonNoSuchDomain),
        FailureKind::NullMx => t(lang, Msg::ReasonNoMail),
        FailureKind::Busy => t(lang, Msg::Busy),
        FailureKind::InvalidEmail => t(lang, Msg::InvalidEmail),
        // Network, timeouts, and any kind added later: the servers did not give an answer.
        _ => t(lang, Msg::ReasonNoAnswer),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use nativeauth::{ExchangeEndpoints, ProviderInfo, Source};

    use super::*;

    #[test]
    fn exchange_hosted_elsewhere_is_named_for_the_user() {
        let email = EmailAddress::parse("ann@hosted-co.test").unwrap();
        let exchange = |host: &str, trust| {
            Detection::new(
                ProviderInfo::new("exchange:x", "Exchange", NylasProvider::Exchange),
                Source::Autodiscover,
                trust,
                "",
            )
            .with_exchange(ExchangeEndpoints {
                ews_url: None,
                eas_host: Some(host.into()),
                login: None,
            })
        };
        let hosted = exchange("autodiscover.hoster.test", Trust::Unverified);
        assert_eq!(hosted_elsewhere(&hosted, &email).as_deref(), Some("autodiscover.hoster.test"));
        assert_eq!(
            hosted_elsewhere(&exchange("mail.hosted-co.test", Trust::Unverified), &email),
            None
        );
        assert_eq!(
            hosted_elsewhere(&exchange("outlook.office365.com", Trust::Verified), &email),
            None
        );
    }
}
