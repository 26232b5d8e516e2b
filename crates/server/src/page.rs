//! The login page, rendered on the server: it works without JavaScript (the form posts to
//! `/login` and the server answers with the next step), and `/static/app.js` makes it detect
//! as the user leaves the email field.

use crate::config::Brand;
use crate::flow::DetectView;
use crate::i18n::{Lang, Msg, t};

/// Escapes text for HTML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What the page shows besides the empty form.
#[derive(Default)]
pub(crate) struct PageState<'a> {
    pub(crate) email: &'a str,
    pub(crate) name: &'a str,
    pub(crate) detection: Option<&'a DetectView>,
    pub(crate) error: Option<(&'a str, Option<&'a str>)>,
    pub(crate) success: bool,
    /// The step before login a failed sign-in concerns (`app-password`, `enable-imap`).
    pub(crate) failed_step: Option<&'a str>,
    /// Only the error, no form: the page cannot be used from here (an invalid start link).
    pub(crate) closed: bool,
}

/// The whole page; `sandbox` shows a banner saying it is for development only.
pub(crate) fn render(
    brand: &Brand,
    lang: Lang,
    csrf: &str,
    state: &PageState<'_>,
    sandbox: bool,
) -> String {
    let banner = if sandbox {
        format!(r#"<p class="sandbox-banner" role="note">{}</p>"#, t(lang, Msg::SandboxBanner))
    } else {
        String::new()
    };
    let title = escape(&brand.name);
    let logo = brand
        .logo_url
        .as_deref()
        .map(|url| format!(r#"<img class="logo" src="{}" alt="">"#, escape(url)))
        .unwrap_or_default();
    let support = brand
        .support_url
        .as_deref()
        .map(|url| {
            format!(
                r#"<p class="support"><a href="{}">{}</a></p>"#,
                escape(url),
                t(lang, Msg::Help)
            )
        })
        .unwrap_or_default();
    let body = if state.success {
        format!(r#"<p class="success" role="status">{}</p>"#, t(lang, Msg::Success))
    } else if state.closed {
        let message = state.error.map_or("", |(message, _)| message);
        format!(r#"<p id="error" class="error" role="alert">{}</p>"#, escape(message))
    } else {
        form(lang, csrf, state)
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang_code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {heading}</title>
<link rel="stylesheet" href="{base}/static/app.css">
<link rel="stylesheet" href="{base}/static/brand.css">
</head>
<body>
<main>
{banner}
{logo}
<h1>{heading}</h1>
{body}
{support}
</main>
<script src="{base}/static/app.js" defer></script>
</body>
</html>
"#,
        lang_code = lang.code(),
        heading = t(lang, Msg::SignInTitle),
        base = escape(&crate::guard::base_path()),
    )
}

fn form(lang: Lang, csrf: &str, state: &PageState<'_>) -> String {
    let detection = state.detection;
    let auth = detection.map_or("", |d| d.auth);
    let hidden = |visible: bool| if visible { "" } else { " hidden" };
    let show_password = matches!(auth, "password" | "app-password" | "manual");
    let password_label =
        if auth == "app-password" { t(lang, Msg::AppPassword) } else { t(lang, Msg::Password) };
    let provider = detection
        .and_then(|d| d.provider.as_deref())
        .map(|name| format!(r#"<p id="provider" class="provider">{}</p>"#, escape(name)))
        .unwrap_or_else(|| r#"<p id="provider" class="provider" hidden></p>"#.to_owned());
    let help = detection
        .and_then(|d| d.help_url.as_deref())
        .filter(|_| auth == "app-password")
        .map(|url| {
            format!(
                r#"<a id="help" href="{}" rel="noopener">{}</a>"#,
                escape(url),
                t(lang, Msg::Help)
            )
        })
        .unwrap_or_else(|| {
            format!(r#"<a id="help" rel="noopener" hidden>{}</a>"#, t(lang, Msg::Help))
        });
    // The steps before the password, numbered; the one a sign-in failed on is marked.
    let steps: String = detection
        .map(|d| {
            d.requires
                .iter()
                .map(|r| {
                    let failed = state.failed_step == Some(r.step);
                    let link = r
                        .url
                        .as_deref()
                        .map(|url| {
                            format!(
                                r#" <a href="{}" rel="noopener">{}</a>"#,
                                escape(url),
                                t(lang, Msg::HowTo)
                            )
                        })
                        .unwrap_or_default();
                    format!(
                        r#"<li data-step="{}"{}>{}{link}</li>"#,
                        r.step,
                        if failed { r#" class="failed" aria-current="step""# } else { "" },
                        escape(r.text)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let oauth = detection
        .filter(|d| d.auth == "oauth2")
        .map(|d| {
            let label = if d.nylas == Some("gmail") {
                t(lang, Msg::SignInWithGoogle)
            } else {
                t(lang, Msg::SignInWithMicrosoft)
            };
            format!(
                r#"<a id="oauth" class="button" href="{}">{label}</a>"#,
                escape(d.sign_in_url.as_deref().unwrap_or("#"))
            )
        })
        .unwrap_or_else(|| r#"<a id="oauth" class="button" hidden></a>"#.to_owned());
    let suggested = detection.and_then(|d| d.suggestion.as_deref()).map(escape);
    let suggestion = format!(
        r#"<p id="suggestion"{}>{} <button type="button" class="link" data-email="{email}">{email}</button>?</p>"#,
        hidden(suggested.is_some()),
        t(lang, Msg::DidYouMean),
        email = suggested.unwrap_or_default(),
    );
    let reason = detection
        .and_then(|d| d.reason.as_deref())
        .map(|r| format!(r#"<p id="reason" class="notice">{}</p>"#, escape(r)))
        .unwrap_or_else(|| r#"<p id="reason" class="notice" hidden></p>"#.to_owned());
    let error = state
        .error
        .map(|(message, help)| {
            let link = help
                .map(|url| {
                    format!(
                        r#" <a href="{}" rel="noopener">{}</a>"#,
                        escape(url),
                        t(lang, Msg::Help)
                    )
                })
                .unwrap_or_default();
            format!(r#"<p id="error" class="error" role="alert">{}{link}</p>"#, escape(message))
        })
        .unwrap_or_else(|| r#"<p id="error" class="error" role="alert" hidden></p>"#.to_owned());
    let manual = auth == "manual";
    // Hidden fields are still posted: prefilled only when they are shown, so that a verified
    // answer is never replaced by servers the user did not see.
    let incoming = detection.filter(|_| manual).and_then(|d| d.incoming.as_ref());
    let outgoing = detection.filter(|_| manual).and_then(|d| d.outgoing.as_ref());
    let value = |text: Option<String>| text.map(|v| escape(&v)).unwrap_or_default();
    format!(
        r#"<p id="done" class="success" role="status" hidden></p>
<form id="login" method="post" action="{base}/login?lang={lang_code}" novalidate data-base="{base}" data-show="{show_password_text}" data-hide="{hide_password_text}" data-how="{how}" data-password="{password_text}" data-app-password="{app_password_text}" data-google="{google}" data-microsoft="{microsoft}" data-sign-in="{submit_sign_in}" data-success="{success}" data-help="{help_text}" data-unavailable="{unavailable}" data-confirm="{confirm}" data-enter="{enter}">
<input type="hidden" name="csrf" value="{csrf}">
<label for="email">{email_label}</label>
<input id="email" name="email" type="email" inputmode="email" autocapitalize="off" spellcheck="false" autocomplete="email" required value="{email}">
<div aria-live="polite">
{suggestion}
{reason}
{provider}
<div id="steps-block"{steps_hidden}>
<p id="steps-title">{steps_title}</p>
<ol id="steps">{steps}</ol>
</div>
</div>
<label for="name">{name_label}</label>
<input id="name" name="name" autocomplete="name" value="{name}">
<fieldset id="manual"{manual_hidden}>
<legend id="manual-legend">{legend}</legend>
<label for="imap_host">{incoming_label}</label>
<input id="imap_host" name="imap_host" value="{imap_host}">
<label for="imap_port">{port}</label>
<input id="imap_port" name="imap_port" inputmode="numeric" value="{imap_port}">
<label for="smtp_host">{outgoing_label}</label>
<input id="smtp_host" name="smtp_host" value="{smtp_host}">
<label for="smtp_port">{port}</label>
<input id="smtp_port" name="smtp_port" inputmode="numeric" value="{smtp_port}">
</fieldset>
<div id="password-field"{password_hidden}>
<label id="password-label" for="password">{password_label}</label>
<input id="password" name="password" type="password" autocomplete="current-password">
{help}
</div>
{oauth}
{error}
<button id="submit" type="submit"{submit_hidden}>{submit}</button>
</form>"#,
        csrf = escape(csrf),
        base = escape(&crate::guard::base_path()),
        lang_code = lang.code(),
        show_password_text = t(lang, Msg::ShowPassword),
        hide_password_text = t(lang, Msg::HidePassword),
        how = t(lang, Msg::HowTo),
        steps_hidden = hidden(!steps.is_empty()),
        steps_title = t(lang, Msg::StepsTitle),
        password_text = t(lang, Msg::Password),
        app_password_text = t(lang, Msg::AppPassword),
        google = t(lang, Msg::SignInWithGoogle),
        microsoft = t(lang, Msg::SignInWithMicrosoft),
        submit_sign_in = t(lang, Msg::SignIn),
        success = t(lang, Msg::Success),
        help_text = t(lang, Msg::Help),
        unavailable = t(lang, Msg::ApiUnavailable),
        email_label = t(lang, Msg::Email),
        email = escape(state.email),
        name_label = t(lang, Msg::Name),
        name = escape(state.name),
        manual_hidden = hidden(manual),
        legend = if detection.is_some_and(|d| !d.detected) {
            t(lang, Msg::EnterServers)
        } else {
            t(lang, Msg::ConfirmServers)
        },
        confirm = t(lang, Msg::ConfirmServers),
        enter = t(lang, Msg::EnterServers),
        incoming_label = t(lang, Msg::IncomingServer),
        outgoing_label = t(lang, Msg::OutgoingServer),
        port = t(lang, Msg::Port),
        imap_host = value(incoming.map(|s| s.host.clone())),
        imap_port = value(incoming.map(|s| s.port.to_string())),
        smtp_host = value(outgoing.map(|s| s.host.clone())),
        smtp_port = value(outgoing.map(|s| s.port.to_string())),
        password_hidden = hidden(show_password),
        // A provider without mail access for other apps: its note is all there is to show.
        submit_hidden = hidden(auth != "unsupported"),
        submit = if detection.is_some() { t(lang, Msg::SignIn) } else { t(lang, Msg::Continue) },
    )
}

/// `:root { --brand: … }` from the configuration (only a CSS colour is let through).
pub(crate) fn brand_css(brand: &Brand) -> String {
    // A hex colour is adjusted for contrast in both colour schemes; anything else that is not
    // a hex colour falls back to the default blue, which passes.
    let (light, dark) = crate::colour::palette(brand.primary_color.trim())
        .or_else(|| crate::colour::palette("#0b5fff"))
        .unwrap_or_else(|| ("#0b5fff".to_owned(), "#8fb3ff".to_owned()));
    format!(
        ":root {{ --brand: {light}; --brand-text: {light}; }}\n\
         @media (prefers-color-scheme: dark) {{ :root {{ --brand-text: {dark}; }} }}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{DetectView, StepView};

    #[test]
    fn the_step_a_sign_in_failed_on_is_marked() {
        let view = DetectView {
            email: "ann@qq.com".into(),
            detected: true,
            provider: Some("QQ Mail".into()),
            nylas: Some("imap"),
            auth: "app-password",
            trust: Some("verified"),
            source: Some("catalogue"),
            sign_in_url: None,
            help_url: None,
            notes: vec!["a developer's note".into()],
            requires: vec![
                StepView { step: "enable-imap", url: None, text: "Turn on IMAP." },
                StepView {
                    step: "app-password",
                    url: Some("https://qq.example/app".into()),
                    text: "Make an app password.",
                },
            ],
            incoming: None,
            outgoing: None,
            suggestion: None,
            reason: None,
        };
        let state = PageState {
            email: "ann@qq.com",
            detection: Some(&view),
            error: Some(("needs an app password", None)),
            failed_step: Some("app-password"),
            ..PageState::default()
        };
        let html = render(&Brand::default(), Lang::En, "csrf", &state, false);
        assert!(html.contains(r#"<li data-step="enable-imap">Turn on IMAP.</li>"#), "{html}");
        assert!(html.contains(
            r#"<li data-step="app-password" class="failed" aria-current="step">Make an app password."#
        ));
        assert!(!html.contains("a developer's note"), "notes stay in the JSON");
    }
}
