//! Every user-facing string, from Fluent message files (`crates/server/i18n/<language>.ftl`,
//! compiled in) in nine languages. The page's language is `?lang=` when it names one we
//! speak, else the first of `Accept-Language` (by q-value) we speak, else English.
//!
//! To add a language: copy `i18n/en.ftl` to `i18n/<tag>.ftl`, translate every message (the
//! ids and `{ $variables }` stay as they are), and add the language to [`Lang`]; the
//! completeness test fails while a message is missing.

use std::sync::LazyLock;

use axum::http::HeaderMap;
use fluent_bundle::{FluentBundle, FluentResource};

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    De,
    Fr,
    Es,
    It,
    PtBr,
    Nl,
    Pl,
    Ja,
}

impl Lang {
    /// Every language, English first (the fallback).
    pub(crate) const ALL: [Self; 9] = [
        Self::En,
        Self::De,
        Self::Fr,
        Self::Es,
        Self::It,
        Self::PtBr,
        Self::Nl,
        Self::Pl,
        Self::Ja,
    ];

    /// The BCP 47 tag (`<html lang>`, `?lang=`).
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Fr => "fr",
            Self::Es => "es",
            Self::It => "it",
            Self::PtBr => "pt-BR",
            Self::Nl => "nl",
            Self::Pl => "pl",
            Self::Ja => "ja",
        }
    }

    fn messages(self) -> &'static str {
        match self {
            Self::En => include_str!("../i18n/en.ftl"),
            Self::De => include_str!("../i18n/de.ftl"),
            Self::Fr => include_str!("../i18n/fr.ftl"),
            Self::Es => include_str!("../i18n/es.ftl"),
            Self::It => include_str!("../i18n/it.ftl"),
            Self::PtBr => include_str!("../i18n/pt-BR.ftl"),
            Self::Nl => include_str!("../i18n/nl.ftl"),
            Self::Pl => include_str!("../i18n/pl.ftl"),
            Self::Ja => include_str!("../i18n/ja.ftl"),
        }
    }

    /// The language a tag names, by its primary subtag (`de-AT` → German, `pt` → Brazilian
    /// Portuguese, the one Portuguese we speak).
    pub(crate) fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|lang| lang.code().split('-').next() == Some(primary.as_str()))
    }

    /// A request's language: `?lang=`, else `Accept-Language` by q-value, else English.
    pub(crate) fn of_request(uri: &axum::http::Uri, headers: &HeaderMap) -> Self {
        from_query(uri.query()).unwrap_or_else(|| Self::from_headers(headers))
    }

    /// The language `Accept-Language` prefers, by q-value, else English.
    fn from_headers(headers: &HeaderMap) -> Self {
        let accepted = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let mut ranges: Vec<(f32, Self)> = accepted
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let lang = Self::from_tag(parts.next()?)?;
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // Stable: equal weights keep the user's order.
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranges.first().map_or(Self::En, |(_, lang)| *lang)
    }
}

/// Each route reads the request's language once, as an extractor: `?lang=`, else
/// `Accept-Language` by q-value, else English.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of_request(&parts.uri, &parts.headers))
    }
}

/// The `lang` query parameter of a request, when it names a language we speak.
fn from_query(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "lang")
        .and_then(|(_, value)| Lang::from_tag(value))
}

/// A message of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Msg {
    SignInTitle,
    Email,
    Password,
    AppPassword,
    Name,
    Continue,
    SignIn,
    SignInWithGoogle,
    SignInWithMicrosoft,
    DidYouMean,
    ConfirmServers,
    IncomingServer,
    OutgoingServer,
    Port,
    InvalidEmail,
    Success,
    Help,
    TooManyAttempts,
    Busy,
    SessionExpired,
    ApiRefused,
    ApiUnavailable,
    NoPasswordHere,
    Unsupported,
    OAuthDenied,
    OAuthRestart,
    OAuthNoRefreshToken,
    OAuthFailed,
    OAuthWrongAccount,
    InvalidPort,
    EnterServers,
    LinkInvalid,
    AddressPinned,
    ServerOutsideDomain,
    ServerNotAHostName,
    TypedServersOff,
    OAuthIdentity,
    OAuthOtherAccount,
    ReasonNotFound,
    ReasonOffline,
    ReasonNoSuchDomain,
    ReasonNoMail,
    ReasonNoAnswer,
    SandboxBanner,
    StepsTitle,
    StepEnableImap,
    StepAppPassword,
    StepTwoFactor,
    StepSeparateMailPassword,
    StepPaidPlan,
    StepBridge,
    HowTo,
    ShowPassword,
    HidePassword,
    HostedExchange,
}

impl Msg {
    /// Every message.
    pub(crate) const ALL: [Self; 55] = [
        Self::SignInTitle,
        Self::Email,
        Self::Password,
        Self::AppPassword,
        Self::Name,
        Self::Continue,
        Self::SignIn,
        Self::SignInWithGoogle,
        Self::SignInWithMicrosoft,
        Self::DidYouMean,
        Self::ConfirmServers,
        Self::IncomingServer,
        Self::OutgoingServer,
        Self::Port,
        Self::InvalidEmail,
        Self::Success,
        Self::Help,
        Self::TooManyAttempts,
        Self::Busy,
        Self::SessionExpired,
        Self::ApiRefused,
        Self::ApiUnavailable,
        Self::NoPasswordHere,
        Self::Unsupported,
        Self::OAuthDenied,
        Self::OAuthRestart,
        Self::OAuthNoRefreshToken,
        Self::OAuthFailed,
        Self::OAuthWrongAccount,
        Self::InvalidPort,
        Self::EnterServers,
        Self::LinkInvalid,
        Self::AddressPinned,
        Self::ServerOutsideDomain,
        Self::ServerNotAHostName,
        Self::TypedServersOff,
        Self::OAuthIdentity,
        Self::OAuthOtherAccount,
        Self::ReasonNotFound,
        Self::ReasonOffline,
        Self::ReasonNoSuchDomain,
        Self::ReasonNoMail,
        Self::ReasonNoAnswer,
        Self::SandboxBanner,
        Self::StepsTitle,
        Self::StepEnableImap,
        Self::StepAppPassword,
        Self::StepTwoFactor,
        Self::StepSeparateMailPassword,
        Self::StepPaidPlan,
        Self::StepBridge,
        Self::HowTo,
        Self::ShowPassword,
        Self::HidePassword,
        Self::HostedExchange,
    ];

    /// The message's id in the `.ftl` files.
    fn id(self) -> &'static str {
        match self {
            Self::SignInTitle => "sign-in-title",
            Self::Email => "email",
            Self::Password => "password",
            Self::AppPassword => "app-password",
            Self::Name => "name",
            Self::Continue => "continue",
            Self::SignIn => "sign-in",
            Self::SignInWithGoogle => "sign-in-with-google",
            Self::SignInWithMicrosoft => "sign-in-with-microsoft",
            Self::DidYouMean => "did-you-mean",
            Self::ConfirmServers => "confirm-servers",
            Self::IncomingServer => "incoming-server",
            Self::OutgoingServer => "outgoing-server",
            Self::Port => "port",
            Self::InvalidEmail => "invalid-email",
            Self::Success => "success",
            Self::Help => "help",
            Self::TooManyAttempts => "too-many-attempts",
            Self::Busy => "busy",
            Self::SessionExpired => "session-expired",
            Self::ApiRefused => "api-refused",
            Self::ApiUnavailable => "api-unavailable",
            Self::NoPasswordHere => "no-password-here",
            Self::Unsupported => "unsupported",
            Self::OAuthDenied => "oauth-denied",
            Self::OAuthRestart => "oauth-restart",
            Self::OAuthNoRefreshToken => "oauth-no-refresh-token",
            Self::OAuthFailed => "oauth-failed",
            Self::OAuthWrongAccount => "oauth-wrong-account",
            Self::InvalidPort => "invalid-port",
            Self::EnterServers => "enter-servers",
            Self::LinkInvalid => "link-invalid",
            Self::AddressPinned => "address-pinned",
            Self::ServerOutsideDomain => "server-outside-domain",
            Self::ServerNotAHostName => "server-not-a-host-name",
            Self::TypedServersOff => "typed-servers-off",
            Self::OAuthIdentity => "oauth-identity",
            Self::OAuthOtherAccount => "oauth-other-account",
            Self::ReasonNotFound => "reason-not-found",
            Self::ReasonOffline => "reason-offline",
            Self::ReasonNoSuchDomain => "reason-no-such-domain",
            Self::ReasonNoMail => "reason-no-mail",
            Self::ReasonNoAnswer => "reason-no-answer",
            Self::SandboxBanner => "sandbox-banner",
            Self::StepsTitle => "steps-title",
            Self::StepEnableImap => "step-enable-imap",
            Self::StepAppPassword => "step-app-password",
            Self::StepTwoFactor => "step-two-factor",
            Self::StepSeparateMailPassword => "step-separate-mail-password",
            Self::StepPaidPlan => "step-paid-plan",
            Self::StepBridge => "step-bridge",
            Self::HowTo => "how-to",
            Self::ShowPassword => "show-password",
            Self::HidePassword => "hide-password",
            Self::HostedExchange => "hosted-exchange",
        }
    }
}

/// Every message in every language, formatted once. A message a language lacks is English's.
static CATALOGUE: LazyLock<Vec<Vec<&'static str>>> = LazyLock::new(|| {
    let english = formatted(Lang::En);
    Lang::ALL
        .iter()
        .map(|lang| {
            let own = formatted(*lang);
            own.into_iter()
                .zip(&english)
                .map(|(text, fallback)| {
                    // Formatted once per process for a fixed set: leaked to live as long as it.
                    let text = text.unwrap_or_else(|| fallback.clone().unwrap_or_default());
                    &*Box::leak(text.into_boxed_str())
                })
                .collect()
        })
        .collect()
});

/// Each message of `lang`'s file, formatted without arguments (a `{ $variable }` stays as
/// `{$variable}` for [`t_with`] to fill); `None` where the file lacks it.
fn formatted(lang: Lang) -> Vec<Option<String>> {
    let resource = match FluentResource::try_new(lang.messages().to_owned()) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            tracing::error!(lang = lang.code(), ?errors, "a message file has errors");
            resource
        }
    };
    let id = lang.code().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new(vec![id]);
    // No Unicode isolation marks: the values go into HTML and JSON as they are.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(lang = lang.code(), ?errors, "a message file repeats an id");
    }
    Msg::ALL
        .iter()
        .map(|msg| {
            let pattern = bundle.get_message(msg.id())?.value()?;
            let mut errors = Vec::new();
            Some(bundle.format_pattern(pattern, None, &mut errors).into_owned())
        })
        .collect()
}

/// The text of `msg` in `lang`.
pub(crate) fn t(lang: Lang, msg: Msg) -> &'static str {
    CATALOGUE[lang as usize][msg as usize]
}

/// The text of `msg` in `lang` with its variables (`("domain", "example.org")`) filled in.
pub(crate) fn t_with(lang: Lang, msg: Msg, values: &[(&str, &str)]) -> String {
    values.iter().fold(t(lang, msg).to_owned(), |text, (name, value)| {
        text.replace(&format!("{{${name}}}"), value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_message_of_english() {
        for lang in Lang::ALL {
            let own = formatted(lang);
            let missing: Vec<&str> = Msg::ALL
                .iter()
                .zip(&own)
                .filter(|(_, text)| text.as_deref().is_none_or(str::is_empty))
                .map(|(msg, _)| msg.id())
                .collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.code());
        }
    }

    #[test]
    fn variables_are_filled_and_languages_chosen_by_q_value() {
        let text = t_with(Lang::De, Msg::ServerOutsideDomain, &[("domain", "firma.de")]);
        assert!(text.contains("firma.de") && !text.contains('$'), "{text}");
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            axum::http::HeaderValue::from_static("xx, fr;q=0.5, ja;q=0.9, de;q=0"),
        );
        assert_eq!(Lang::from_headers(&headers), Lang::Ja);
        assert_eq!(Lang::from_tag("pt"), Some(Lang::PtBr));
        assert_eq!(Lang::from_tag("de-AT"), Some(Lang::De));
        assert_eq!(from_query(Some("state=x&lang=pl")), Some(Lang::Pl));
        assert_eq!(from_query(Some("lang=xx")), None);
    }
}
