//! The app's side of a sign-in, as a tiny web app beside a running login server:
//!
//! * `GET /connect` keeps a fresh `state` in the user's session (a cookie here) and sends the
//!   user to a signed start link;
//! * `GET /welcome?state=…&code=…` (the login server's `success_url`) checks that `state` is
//!   this session's, then exchanges the code server-to-server and shows what was linked.
//!
//! ```sh
//! cargo run -p nativeauth-server -- --sandbox --offline &        # the login server on :8080
//! NATIVEAUTH_APP_SECRET=sandbox-app-secret \
//!     cargo run -p nativeauth-server --example app_side -- http://127.0.0.1:8080 127.0.0.1:3000
//! ```
//!
//! (Start the login server with `success_url = "http://127.0.0.1:3000/welcome"` and
//! `allow_loopback_http = true` in its configuration file for the redirect to come here.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

struct AppState {
    login_server: String,
    app_secret: String,
    http: reqwest::Client,
}

#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error("this sign-in was not started by this browser's session")]
    NotThisSession,
    #[error("the exchange failed")]
    Exchange(#[from] reqwest::Error),
    #[error("the start link cannot be built")]
    Link(#[from] nativeauth_server::StartLinkError),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::NotThisSession => StatusCode::FORBIDDEN,
            Self::Exchange(_) | Self::Link(_) => StatusCode::BAD_GATEWAY,
        };
        (status, self.to_string()).into_response()
    }
}

#[derive(Deserialize)]
struct Welcome {
    state: String,
    code: String,
}

/// Equal in time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn session_state(headers: &HeaderMap) -> String {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("login_state="))
        .unwrap_or_default()
        .to_owned()
}

async fn connect(State(app): State<Arc<AppState>>) -> Result<Response, AppError> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| AppError::NotThisSession)?;
    let state: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let expires = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() + 600;
    let link = nativeauth_server::signed_start_link(
        &format!("{}/", app.login_server),
        &app.app_secret,
        &state,
        "",
        expires,
    )?;
    let cookie = format!("login_state={state}; Path=/; HttpOnly; SameSite=Lax; Max-Age=1800");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&link)).into_response())
}

async fn welcome(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<Welcome>,
) -> Result<String, AppError> {
    let session_state = session_state(&headers);
    let (http, login_server, app_secret) = (&app.http, &app.login_server, &app.app_secret);
    // The state must be this session's before anything else happens.
    if !constant_time_eq(query.state.as_bytes(), session_state.as_bytes()) {
        return Err(AppError::NotThisSession);
    }
    let answer = http
        .post(format!("{login_server}/api/exchange"))
        .bearer_auth(app_secret)
        .json(&serde_json::json!({ "code": query.code, "state": query.state }))
        .send()
        .await?
        .error_for_status()?;
    let result: nativeauth_server::SignInResult = answer.json().await?;
    // A real app now links `result.linked` to the signed-in user, refusing an account or grant
    // id that is already linked to another user.
    let linked = match &result.linked {
        nativeauth_server::Linked::V2 { account_id, .. } => format!("v2 account {account_id}"),
        nativeauth_server::Linked::V3 { grant_id, .. } => format!("v3 grant {grant_id}"),
        _ => "an account".to_owned(),
    };
    Ok(format!("linked {} as {linked}\n", result.email_address))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = nativeauth::crypto_provider().install_default();
    let mut args = std::env::args().skip(1);
    let login_server = args.next().unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let listen: SocketAddr = args.next().unwrap_or_else(|| "127.0.0.1:3000".into()).parse()?;
    let app_secret = std::env::var("NATIVEAUTH_APP_SECRET")
        .map_err(|_| anyhow::anyhow!("set NATIVEAUTH_APP_SECRET to the login server's"))?;
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(nativeauth::tls_config(std::iter::empty())?)
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let state = Arc::new(AppState {
        login_server: login_server.trim_end_matches('/').to_owned(),
        app_secret,
        http,
    });
    let router = axum::Router::new()
        .route("/connect", get(connect))
        .route("/welcome", get(welcome))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, router).await?;
    Ok(())
}
