//! What the sign-in routes take from a request, checked before the route runs: same-origin
//! JSON for the API, the CSRF token for a sign-in by script or by form.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Form, FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::responses::{json_error, page_response};
use super::sign_in::LoginFields;
use crate::app::App;
use crate::cookies;
use crate::guard::{Caller, caller, is_json};
use crate::i18n::{Lang, Msg, t};
use crate::page::PageState;

/// A call of the JSON API from a page: `Content-Type: application/json` (else 415: a form or
/// text body is what another site's page can post without asking), and not from another
/// site's page (else 403 `cross-site`). The body stays bytes: each route parses its own shape
/// after its own checks.
pub(crate) struct PageJson {
    /// The request's headers.
    pub(crate) headers: HeaderMap,
    /// The body, unparsed.
    pub(crate) body: Bytes,
    /// Who sent it: this server's page (or an allowed origin), or no browser at all.
    pub(crate) caller: Caller,
}

impl FromRequest<Arc<App>> for PageJson {
    type Rejection = Response;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, Response> {
        let headers = request.headers().clone();
        if !is_json(&headers) {
            return Err(json_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send Content-Type: application/json",
            ));
        }
        let caller = caller(app, &headers);
        if caller == Caller::CrossSite {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                "cross-site",
                "cross-site requests are refused",
            ));
        }
        let body = Bytes::from_request(request, app).await.map_err(IntoResponse::into_response)?;
        Ok(Self { headers, body, caller })
    }
}

/// A sign-in call of the JSON API: a [`PageJson`] from this server's page only (a script
/// without a browser has no page session either), carrying the page session's CSRF token in
/// `X-CSRF-Token` (else 403 `session-expired`).
pub(crate) struct SignInJson {
    /// The request's headers.
    pub(crate) headers: HeaderMap,
    /// The body, unparsed.
    pub(crate) body: Bytes,
}

impl FromRequest<Arc<App>> for SignInJson {
    type Rejection = Response;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, Response> {
        let lang = Lang::of_request(request.uri(), request.headers());
        let PageJson { headers, body, caller } = PageJson::from_request(request, app).await?;
        if caller != Caller::SameOrigin {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                "cross-site",
                "sign-in requests come from the login page only",
            ));
        }
        let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !cookies::csrf_valid(&app.cookie_key, &headers, token, app.config.settings.https) {
            return Err(json_error(
                StatusCode::FORBIDDEN,
                "session-expired",
                t(lang, Msg::SessionExpired),
            ));
        }
        Ok(Self { headers, body })
    }
}

/// The no-JavaScript sign-in form: not posted by another site's page, and carrying the page
/// session's CSRF token. A browser that sends no `Origin` or `Sec-Fetch-Site` (a text
/// browser) is let through: the token covers it. Otherwise the page comes back (403) with
/// "session expired" and the address and name the user typed.
pub(crate) struct SignInForm {
    /// The request's headers.
    pub(crate) headers: HeaderMap,
    /// The fields.
    pub(crate) fields: LoginFields,
}

impl FromRequest<Arc<App>> for SignInForm {
    type Rejection = Response;

    async fn from_request(request: Request, app: &Arc<App>) -> Result<Self, Response> {
        let lang = Lang::of_request(request.uri(), request.headers());
        let headers = request.headers().clone();
        let Form(fields) = Form::<LoginFields>::from_request(request, app)
            .await
            .map_err(IntoResponse::into_response)?;
        if caller(app, &headers) == Caller::CrossSite
            || !cookies::csrf_valid(
                &app.cookie_key,
                &headers,
                &fields.csrf,
                app.config.settings.https,
            )
        {
            let state = PageState {
                email: &fields.email,
                name: &fields.name,
                error: Some((t(lang, Msg::SessionExpired), None)),
                ..PageState::default()
            };
            return Err(page_response(app, lang, &headers, StatusCode::FORBIDDEN, &state, None));
        }
        Ok(Self { headers, fields })
    }
}
