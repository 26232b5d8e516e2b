//! The login page, rendered on the server: it works without JavaScript (the form posts to
//! `/login` and the server answers with the next step), and `/static/app.js` makes it detect
//! as the user leaves the email field.
//!
//! The HTML is written with maud's `html!`: checked when the crate compiles, and every value
//! put into it is escaped unless it is wrapped in `PreEscaped` (nothing here is).

use maud::{DOCTYPE, Markup, html};

use crate::config::Brand;
use crate::detect::{DetectView, StepView};
use crate::i18n::{Lang, Msg, t};

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
    let base = crate::base_path::base_path();
    let heading = t(lang, Msg::SignInTitle);
    let page = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (brand.name) " — " (heading) }
                link rel="stylesheet" href={ (base) "/static/app.css" };
                link rel="stylesheet" href={ (base) "/static/brand.css" };
            }
            body {
                main {
                    @if sandbox {
                        p class="sandbox-banner" role="note" { (t(lang, Msg::SandboxBanner)) }
                    }
                    @if let Some(url) = &brand.logo_url {
                        img class="logo" src=(url) alt="";
                    }
                    h1 { (heading) }
                    @if state.success {
                        p class="success" role="status" { (t(lang, Msg::Success)) }
                    } @else if state.closed {
                        p #error class="error" role="alert" {
                            (state.error.map_or("", |(message, _)| message))
                        }
                    } @else {
                        (form(lang, csrf, state, &base))
                    }
                    @if let Some(url) = &brand.support_url {
                        p class="support" { a href=(url) { (t(lang, Msg::Help)) } }
                    }
                }
                script src={ (base) "/static/app.js" } defer {}
            }
        }
    };
    page.into_string()
}

/// One step before the password, with its link; `failed` marks the step a sign-in failed on.
fn step(lang: Lang, step: &StepView, failed: bool) -> Markup {
    html! {
        li data-step=(step.step) class=[failed.then_some("failed")]
            aria-current=[failed.then_some("step")] {
            (step.text)
            @if let Some(url) = &step.url {
                " " a href=(url) rel="noopener" { (t(lang, Msg::HowTo)) }
            }
        }
    }
}

fn form(lang: Lang, csrf: &str, state: &PageState<'_>, base: &str) -> Markup {
    let detection = state.detection;
    let auth = detection.map_or("", |d| d.auth);
    let show_password = matches!(auth, "password" | "app-password" | "manual");
    let password_label =
        if auth == "app-password" { t(lang, Msg::AppPassword) } else { t(lang, Msg::Password) };
    let provider = detection.and_then(|d| d.provider.as_deref());
    let help_url = detection.and_then(|d| d.help_url.as_deref()).filter(|_| auth == "app-password");
    let steps = detection.map_or(&[][..], |d| d.requires.as_slice());
    let oauth = detection.filter(|d| d.auth == "oauth2");
    let oauth_label = match oauth {
        Some(d) if d.nylas == Some("gmail") => t(lang, Msg::SignInWithGoogle),
        _ => t(lang, Msg::SignInWithMicrosoft),
    };
    let suggestion = detection.and_then(|d| d.suggestion.as_deref());
    let reason = detection.and_then(|d| d.reason.as_deref());
    let manual = auth == "manual";
    // Hidden fields are still posted: prefilled only when they are shown, so that a verified
    // answer is never replaced by servers the user did not see.
    let incoming = detection.filter(|_| manual).and_then(|d| d.incoming.as_ref());
    let outgoing = detection.filter(|_| manual).and_then(|d| d.outgoing.as_ref());
    let legend = if detection.is_some_and(|d| !d.detected) {
        t(lang, Msg::EnterServers)
    } else {
        t(lang, Msg::ConfirmServers)
    };
    html! {
        p #done class="success" role="status" hidden {}
        form #login method="post" action={ (base) "/login?lang=" (lang.code()) } novalidate
            data-base=(base) data-show=(t(lang, Msg::ShowPassword))
            data-hide=(t(lang, Msg::HidePassword)) data-how=(t(lang, Msg::HowTo))
            data-password=(t(lang, Msg::Password)) data-app-password=(t(lang, Msg::AppPassword))
            data-google=(t(lang, Msg::SignInWithGoogle))
            data-microsoft=(t(lang, Msg::SignInWithMicrosoft))
            data-sign-in=(t(lang, Msg::SignIn)) data-success=(t(lang, Msg::Success))
            data-help=(t(lang, Msg::Help)) data-unavailable=(t(lang, Msg::ApiUnavailable))
            data-confirm=(t(lang, Msg::ConfirmServers)) data-enter=(t(lang, Msg::EnterServers)) {
            input type="hidden" name="csrf" value=(csrf);
            label for="email" { (t(lang, Msg::Email)) }
            input #email name="email" type="email" inputmode="email" autocapitalize="off"
                spellcheck="false" autocomplete="email" required value=(state.email);
            div aria-live="polite" {
                p #suggestion hidden[suggestion.is_none()] {
                    (t(lang, Msg::DidYouMean)) " "
                    button type="button" class="link" data-email=(suggestion.unwrap_or_default()) {
                        (suggestion.unwrap_or_default())
                    }
                    "?"
                }
                p #reason class="notice" hidden[reason.is_none()] { (reason.unwrap_or_default()) }
                p #provider class="provider" hidden[provider.is_none()] {
                    (provider.unwrap_or_default())
                }
                div #steps-block hidden[steps.is_empty()] {
                    p #steps-title { (t(lang, Msg::StepsTitle)) }
                    ol #steps {
                        @for required in steps {
                            (step(lang, required, state.failed_step == Some(required.step)))
                        }
                    }
                }
            }
            label for="name" { (t(lang, Msg::Name)) }
            input #name name="name" autocomplete="name" value=(state.name);
            fieldset #manual hidden[!manual] {
                legend #manual-legend { (legend) }
                label for="imap_host" { (t(lang, Msg::IncomingServer)) }
                input #imap_host name="imap_host" value=[incoming.map(|s| &s.host)];
                label for="imap_port" { (t(lang, Msg::Port)) }
                input #imap_port name="imap_port" inputmode="numeric"
                    value=[incoming.map(|s| s.port)];
                label for="smtp_host" { (t(lang, Msg::OutgoingServer)) }
                input #smtp_host name="smtp_host" value=[outgoing.map(|s| &s.host)];
                label for="smtp_port" { (t(lang, Msg::Port)) }
                input #smtp_port name="smtp_port" inputmode="numeric"
                    value=[outgoing.map(|s| s.port)];
            }
            div #password-field hidden[!show_password] {
                label #password-label for="password" { (password_label) }
                input #password name="password" type="password" autocomplete="current-password";
                a #help href=[help_url] rel="noopener" hidden[help_url.is_none()] {
                    (t(lang, Msg::Help))
                }
            }
            a #oauth class="button" href=[oauth.map(|d| d.sign_in_url.as_deref().unwrap_or("#"))]
                hidden[oauth.is_none()] {
                @if oauth.is_some() { (oauth_label) }
            }
            @match state.error {
                Some((message, help)) => {
                    p #error class="error" role="alert" {
                        (message)
                        @if let Some(url) = help {
                            " " a href=(url) rel="noopener" { (t(lang, Msg::Help)) }
                        }
                    }
                }
                None => { p #error class="error" role="alert" hidden {} }
            }
            // A provider without mail access for other apps: its note is all there is to show.
            button #submit type="submit" hidden[auth == "unsupported"] {
                @if detection.is_some() { (t(lang, Msg::SignIn)) } @else { (t(lang, Msg::Continue)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{DetectView, StepView};

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

    /// Every value that reaches the page from a request, the configuration or a detection is
    /// escaped, in text and in attributes alike, in every state that shows it.
    #[test]
    fn every_value_is_escaped() {
        let hostile = r#""><script>alert(1)</script>"#;
        let brand = Brand {
            name: hostile.into(),
            logo_url: Some(hostile.into()),
            support_url: Some(hostile.into()),
            ..Brand::default()
        };
        // `manual` shows the typed servers, `app-password` the help link, `oauth2` the
        // provider's sign-in link.
        for auth in ["manual", "app-password", "oauth2"] {
            let view = DetectView {
                email: hostile.into(),
                detected: auth != "manual",
                provider: Some(hostile.into()),
                nylas: Some("gmail"),
                auth,
                trust: None,
                source: None,
                sign_in_url: Some(hostile.into()),
                help_url: Some(hostile.into()),
                notes: Vec::new(),
                requires: vec![StepView {
                    step: "enable-imap",
                    url: Some(hostile.into()),
                    text: "x",
                }],
                incoming: Some(crate::detect::ServerView {
                    host: hostile.into(),
                    port: 993,
                    security: "tls",
                }),
                outgoing: None,
                suggestion: Some(hostile.into()),
                reason: Some(hostile.into()),
            };
            for closed in [false, true] {
                let state = PageState {
                    email: hostile,
                    name: hostile,
                    detection: Some(&view),
                    error: Some((hostile, Some(hostile))),
                    closed,
                    ..PageState::default()
                };
                let html = render(&brand, Lang::En, hostile, &state, false);
                assert!(!html.contains("<script>alert"), "{auth} closed={closed}: {html}");
                let escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;";
                // Title, logo, support link and the error; on the form also the CSRF token,
                // email, suggestion (twice), reason, provider, step link, name and error link.
                let expected = if closed { 4 } else { 13 };
                let count = html.matches(escaped).count();
                assert!(count >= expected, "{auth} closed={closed}: {count} escaped: {html}");
                let link = format!(r#"href="{escaped}""#);
                if !closed && auth == "app-password" {
                    assert!(html.contains(&format!(r#"<a id="help" {link}"#)), "{html}");
                }
                if !closed && auth == "oauth2" {
                    assert!(html.contains(&format!(r#"class="button" {link}"#)), "{html}");
                }
            }
        }
    }
}
