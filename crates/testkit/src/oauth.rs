//! A stand-in for Google's and Microsoft's authorization servers: an authorize endpoint that
//! approves (redirecting back with a code) or denies (`error=access_denied`), and a token
//! endpoint that checks the code (single use), the PKCE verifier (S256), the redirect URI and
//! the client secret, then issues tokens or refuses with the OAuth error codes.
//!
//! What it does is chosen by the `login_hint`'s local part: `deny…` denies consent,
//! `norefresh…` gets no refresh token, `expired…` gets a code the token endpoint refuses
//! (`invalid_grant`); anything else is approved.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::{Shutdown, background};

#[derive(Clone)]
struct Issued {
    challenge: String,
    redirect_uri: String,
    client_id: String,
    hint: String,
}

#[derive(Default)]
struct Shared {
    codes: HashMap<String, Issued>,
    /// Every authorize request's query, in order.
    authorize_requests: Vec<HashMap<String, String>>,
    /// Every token request's form fields (secrets included: this is a test server).
    token_requests: Vec<HashMap<String, String>>,
    next: u64,
}

#[derive(Clone)]
struct StandIn {
    shared: Arc<Mutex<Shared>>,
    client_secret: String,
}

pub struct OAuthStandIn {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    _shutdown: Shutdown,
}

impl OAuthStandIn {
    /// Starts a stand-in that accepts `client_secret` for any client id.
    pub fn start(client_secret: &str) -> Self {
        let shared: Arc<Mutex<Shared>> = Arc::default();
        let state = StandIn { shared: shared.clone(), client_secret: client_secret.to_owned() };
        let (addr, shutdown) = background(move |ready| async move {
            let router = axum::Router::new()
                .route("/authorize", get(authorize))
                .route("/token", post(token))
                .with_state(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ready.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
        Self { addr, shared, _shutdown: shutdown }
    }

    /// `http://127.0.0.1:<port>/authorize`.
    pub fn authorize_url(&self) -> String {
        format!("http://{}/authorize", self.addr)
    }

    /// `http://127.0.0.1:<port>/token`.
    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The query of every authorize request so far.
    pub fn authorize_requests(&self) -> Vec<HashMap<String, String>> {
        self.shared.lock().unwrap().authorize_requests.clone()
    }

    /// The form of every token request so far.
    pub fn token_requests(&self) -> Vec<HashMap<String, String>> {
        self.shared.lock().unwrap().token_requests.clone()
    }
}

async fn authorize(
    State(stand_in): State<StandIn>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    let (redirect_uri, state, hint) = (field("redirect_uri"), field("state"), field("login_hint"));
    let mut shared = stand_in.shared.lock().unwrap();
    shared.authorize_requests.push(query.clone());
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    if hint.starts_with("deny") {
        return Redirect::to(&format!(
            "{redirect_uri}{separator}error=access_denied&error_description=The+user+denied&state={state}"
        ))
        .into_response();
    }
    shared.next += 1;
    let code = format!("code-{}", shared.next);
    let issued = Issued {
        challenge: field("code_challenge"),
        redirect_uri: redirect_uri.clone(),
        client_id: field("client_id"),
        hint,
    };
    shared.codes.insert(code.clone(), issued);
    Redirect::to(&format!("{redirect_uri}{separator}code={code}&state={state}")).into_response()
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": error }))).into_response()
}

async fn token(
    State(stand_in): State<StandIn>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let mut shared = stand_in.shared.lock().unwrap();
    shared.token_requests.push(form.clone());
    // The client authenticates with HTTP Basic (RFC 6749 §2.3.1) or in the form.
    let (client_id, secret) = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
    {
        Some(pair) => {
            let (id, secret) = pair.split_once(':').unwrap_or((&pair, ""));
            (decode(id), decode(secret))
        }
        None => (field("client_id"), field("client_secret")),
    };
    if secret != stand_in.client_secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if field("grant_type") != "authorization_code" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    // Single use: a code is gone once presented, whatever the outcome.
    let Some(issued) = shared.codes.remove(&field("code")) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, field("code_verifier").as_bytes()));
    if challenge != issued.challenge
        || field("redirect_uri") != issued.redirect_uri
        || client_id != issued.client_id
        || issued.hint.starts_with("expired")
    {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let mut body = serde_json::json!({
        "access_token": format!("stand-in-access-token-{}", shared.next),
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "granted",
    });
    if !issued.hint.starts_with("norefresh") {
        body["refresh_token"] = format!("stand-in-refresh-token-{}", shared.next).into();
    }
    axum::Json(body).into_response()
}

/// Form-decodes a Basic credential part (`+` and `%XX`).
fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
            {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
