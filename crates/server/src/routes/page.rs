//! `GET /`: the page, with the app's `state` kept in a signed cookie.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use serde::Deserialize;

use super::responses::page_response;
use super::sign_in::clear_state;
use crate::app::App;
use crate::cookies::{self, STATE_COOKIE, STATE_LIMIT};
use crate::i18n::{Lang, Msg, t};
use crate::page::PageState;
use crate::start_link::{self, LinkCheck};

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

/// `GET /`: the page. `state` (and the address a signed link pins) is kept in a signed cookie;
/// `email` and `name` prefill the form. A signed link (`exp`, `sig`) is checked; an invalid one,
/// or an unsigned one when `require_signed_start` is set, gets a page that sends the user back.
pub(crate) async fn page(
    State(app): State<Arc<App>>,
    lang: Lang,
    headers: HeaderMap,
    Query(query): Query<PageQuery>,
) -> Response {
    if query.state.as_ref().is_some_and(|s| s.len() > STATE_LIMIT) {
        return (StatusCode::BAD_REQUEST, format!("state is longer than {STATE_LIMIT} bytes"))
            .into_response();
    }
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
            let mut response =
                page_response(&app, lang, &headers, StatusCode::FORBIDDEN, &state, None);
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
        let mut response = page_response(&app, lang, &headers, StatusCode::OK, &state, None);
        if cookies::read(&headers, STATE_COOKIE, app.config.settings.https).is_some() {
            clear_state(&mut response, &app);
        }
        return response;
    }
    page_response(&app, lang, &headers, StatusCode::OK, &state, Some(&start))
}
