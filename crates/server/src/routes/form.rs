//! `POST /login`: the sign-in for browsers without JavaScript, answered with the page's next state.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use nativeauth::EmailAddress;

use super::api::{DetectRefusal, detect_email};
use super::extract::SignInForm;
use super::responses::{insert_retry_after, page_response};
use super::sign_in::{LoginFields, clear_state, sign_in};
use crate::app::App;
use crate::detect::{self, BUSY_RETRY_AFTER};
use crate::guard::ClientIp;
use crate::i18n::{Lang, Msg, t};
use crate::page::PageState;

/// `POST /login`: the form, for browsers without JavaScript. Without a password it answers
/// with the next step (what to ask for); with one it signs in.
pub(crate) async fn login_form(
    State(app): State<Arc<App>>,
    Extension(ip): Extension<ClientIp>,
    lang: Lang,
    SignInForm { headers, fields }: SignInForm,
) -> Response {
    let kept = Kept::from(&fields);
    let email = match EmailAddress::parse(fields.email.trim()) {
        Ok(email) => email,
        Err(_) => {
            let state = PageState {
                email: &kept.email,
                name: &kept.name,
                error: Some((t(lang, Msg::InvalidEmail), None)),
                ..PageState::default()
            };
            return page_response(&app, lang, &headers, StatusCode::BAD_REQUEST, &state, None);
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
            let mut response = page_response(&app, lang, &headers, status, &state, None);
            insert_retry_after(&mut response, wait);
            return response;
        }
    };
    if fields.names_servers() && view.auth == "manual" {
        // Keep what the user typed over what was detected.
        view.incoming = Some(detect::ServerView {
            host: fields.imap_host.clone(),
            port: fields.imap_port.parse().unwrap_or(0),
            security: "",
        });
        view.outgoing = Some(detect::ServerView {
            host: fields.smtp_host.clone(),
            port: fields.smtp_port.parse().unwrap_or(0),
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
        return page_response(&app, lang, &headers, StatusCode::OK, &state, None);
    }
    match sign_in(&app, ip, lang, &headers, fields).await {
        Ok(success) => {
            let mut response = match &success.redirect {
                Some(url) => Redirect::to(url).into_response(),
                None => {
                    let state = PageState { success: true, ..PageState::default() };
                    page_response(&app, lang, &headers, StatusCode::OK, &state, None)
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
            let mut response = page_response(&app, lang, &headers, failure.status, &state, None);
            if let Some(wait) = failure.retry_after {
                insert_retry_after(&mut response, wait);
            }
            response
        }
    }
}

/// What the form shows again after the fields went to the sign-in: the address and the name
/// (the servers typed are kept in the detection shown).
struct Kept {
    email: String,
    name: String,
}

impl From<&LoginFields> for Kept {
    fn from(fields: &LoginFields) -> Self {
        Self { email: fields.email.clone(), name: fields.name.clone() }
    }
}
