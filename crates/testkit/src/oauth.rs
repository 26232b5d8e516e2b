//! A stand-in for Google's and Microsoft's authorization servers: an authorize endpoint that
//! approves (redirecting back with a code) or denies (`error=access_denied`), and a token
//! endpoint that checks the code (single use), the PKCE verifier (S256), the redirect URI and
//! the client secret, then issues tokens or refuses with the OAuth error codes.
//!
//! The token endpoint also returns an OpenID Connect ID token (`iss` is
//! `http://127.0.0.1:<port>/stand-in-tenant/v2.0`, `aud` the client id, `tid`, `email`,
//! `email_verified`, Microsoft's `xms_edov` and `preferred_username`; the signature is a
//! placeholder: a client reads it from the token endpoint over TLS, as OpenID Connect allows),
//! and `/v1.0/me` answers Microsoft Graph's `userPrincipalName` for an access token it issued.
//!
//! What it does is chosen by the `login_hint`'s local part: `deny…` denies consent,
//! `norefresh…` gets no refresh token, `expired…` gets a code the token endpoint refuses
//! (`invalid_grant`); for the ID token, `other…` signs in as another account (`bob@` the same
//! domain), `unverified…` has an unverified address (`email_verified` and `xms_edov` false),
//! `pun…` has only `preferred_username` (Graph's user principal name is `kim@` the domain),
//! `wrongaud…` is for another client, `stale…` expired an hour ago, `noid…` has none,
//! `consumer…` has no Workspace domain (`hd`, otherwise set outside gmail.com); anything else is
//! approved as the hinted address.

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
    /// The hint each access token was issued for (for Graph's `/me`).
    access_tokens: HashMap<String, String>,
    next: u64,
}

#[derive(Clone)]
struct StandIn {
    shared: Arc<Mutex<Shared>>,
    client_secret: String,
    issuer: Arc<Mutex<String>>,
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
        let issuer: Arc<Mutex<String>> = Arc::default();
        let state = StandIn {
            shared: shared.clone(),
            client_secret: client_secret.to_owned(),
            issuer: issuer.clone(),
        };
        let (addr, shutdown) = background(move |ready| async move {
            let router = axum::Router::new()
                .route("/authorize", get(authorize))
                .route("/token", post(token))
                .route("/v1.0/me", get(me))
                .with_state(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            *issuer.lock().unwrap() = format!("http://{addr}/{TENANT}/v2.0");
            ready.send(addr).unwrap();
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

    /// The ID tokens' issuer, `http://127.0.0.1:<port>/stand-in-tenant/v2.0`.
    pub fn issuer(&self) -> String {
        format!("http://{}/{TENANT}/v2.0", self.addr)
    }

    /// The issuer as a template with Microsoft's `{tenantid}` placeholder.
    pub fn issuer_template(&self) -> String {
        format!("http://{}/{{tenantid}}/v2.0", self.addr)
    }

    /// The stand-in for Microsoft Graph, `http://127.0.0.1:<port>` (`/v1.0/me` below it).
    pub fn graph_url(&self) -> String {
        format!("http://{}", self.addr)
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
    let access_token = format!("stand-in-access-token-{}", shared.next);
    shared.access_tokens.insert(access_token.clone(), issued.hint.clone());
    let mut body = serde_json::json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "granted",
    });
    if !issued.hint.starts_with("norefresh") {
        body["refresh_token"] = format!("stand-in-refresh-token-{}", shared.next).into();
    }
    if !issued.hint.starts_with("noid") {
        let issuer = stand_in.issuer.lock().unwrap().clone();
        body["id_token"] = id_token(&issuer, &issued.client_id, &issued.hint).into();
    }
    axum::Json(body).into_response()
}

const TENANT: &str = "stand-in-tenant";

/// The ID token for a sign-in hinted `hint`, as the module's documentation describes.
fn id_token(issuer: &str, client_id: &str, hint: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let domain = hint.rsplit_once('@').map_or("", |(_, d)| d);
    let mut claims = serde_json::json!({
        "iss": issuer,
        "aud": if hint.starts_with("wrongaud") { "another-client" } else { client_id },
        "sub": format!("sub-{hint}"),
        "iat": now,
        "exp": if hint.starts_with("stale") { now - 3600 } else { now + 3600 },
        "tid": TENANT,
        "email": if hint.starts_with("other") { format!("bob@{domain}") } else { hint.to_owned() },
        "email_verified": !hint.starts_with("unverified"),
        "xms_edov": !hint.starts_with("unverified"),
        "preferred_username": hint,
    });
    // Google's Workspace domain, for an address outside Gmail (a `consumer…` hint has none: a
    // consumer account registered on a company address).
    if domain != "gmail.com" && !hint.starts_with("consumer") {
        claims["hd"] = domain.into();
    }
    if hint.starts_with("pun") {
        let object = claims.as_object_mut().unwrap();
        object.remove("email");
        object.remove("email_verified");
        object.remove("xms_edov");
    }
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"stand-in","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.c3RhbmQtaW4tc2lnbmF0dXJl")
}

/// Microsoft Graph's `/v1.0/me`: the user principal name of the access token's user.
async fn me(State(stand_in): State<StandIn>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Some(hint) = stand_in.shared.lock().unwrap().access_tokens.get(token).cloned() else {
        return oauth_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken");
    };
    let upn = match hint.split_once('@') {
        Some((local, domain)) if local.starts_with("pun") => format!("kim@{domain}"),
        _ => hint,
    };
    axum::Json(serde_json::json!({ "userPrincipalName": upn, "mail": null })).into_response()
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
