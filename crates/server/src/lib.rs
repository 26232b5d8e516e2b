//! `nativeauth-server`: the branded native login page, as an axum [`Router`] to mount in a Rust
//! app or as the `nativeauth-server` binary to run beside any app.
//!
//! * `GET /` — the page (`?state=<opaque>&email=…&name=…` from the app);
//! * `POST /api/detect` — `{"email": "…"}` → what to ask the user for;
//! * `POST /api/login` — the page's sign-in (JSON), `POST /login` — the same as a form, for
//!   browsers without JavaScript;
//! * `GET /healthz`, and `GET /metrics` in the Prometheus text format.
//!
//! After a successful sign-in the app's callback URL receives the account (v2) or grant (v3),
//! signed with [`SIGNATURE_HEADER`], and the browser goes to the app's success URL.

mod callback;
mod config;
mod cookies;
mod flow;
mod guard;
mod handlers;
mod i18n;
mod limits;
mod metrics;
mod oauth;
mod page;
mod signing;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use callback::SIGNATURE_HEADER;
pub use config::{Api, Brand, ConfigError, FileConfig, OAuthConfig, Secrets, ServerConfig};

/// The largest request body accepted (a sign-in form is far smaller).
const BODY_LIMIT: usize = 16 * 1024;

/// Why the server could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// Discovery could not be set up (no usable DNS configuration).
    #[error("discovery cannot be set up")]
    Discovery(#[from] nativeauth::SetupError),
    /// The connect API client could not be built (a bad or insecure API URL).
    #[error("the connect API client cannot be built")]
    Api(#[from] nativeauth::connect::ConnectError),
    /// A URL in the configuration is not usable.
    #[error("{field} must be an https URL (or http to loopback with allow_loopback_http): {url}")]
    Url {
        /// The configuration field.
        field: &'static str,
        /// Its value.
        url: String,
    },
    /// A required secret is not set.
    #[error("{0} is not set")]
    MissingSecret(&'static str),
    /// TLS for the callback cannot be set up.
    #[error("TLS for the callback cannot be set up")]
    Tls(#[from] nativeauth::HttpError),
    /// The HTTP client for the callback cannot be built.
    #[error("the callback client cannot be built")]
    Callback(#[source] reqwest::Error),
    /// The Redis store cannot be set up (an invalid `redis_url`; the URL is not repeated, as
    /// it may hold a password).
    #[error("the Redis store cannot be set up")]
    Redis(#[from] nativeauth::redis::RedisSetupError),
}

/// The login page and its API, ready to serve.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that rate limits
/// apply per client address (without it every client shares one budget).
///
/// # Errors
/// [`SetupError`] when the configuration cannot work (see its variants).
pub fn router(config: ServerConfig) -> Result<Router, SetupError> {
    build(config, None)
}

/// What an embedding Rust app receives after each successful sign-in: the callback's JSON
/// value (`state`, `linked`, `provider`, `source`, `trust`; never a secret), unsigned, since
/// it never leaves the process. Called before the callback URL (if any) is posted to.
pub type Hook = Arc<dyn Fn(serde_json::Value) + Send + Sync>;

/// [`router`], with `hook` called after each successful sign-in.
///
/// # Errors
/// As [`router`].
pub fn router_with_hook(config: ServerConfig, hook: Hook) -> Result<Router, SetupError> {
    build(config, Some(hook))
}

fn build(config: ServerConfig, hook: Option<Hook>) -> Result<Router, SetupError> {
    let app = Arc::new(flow::App::new(config, hook)?);
    Ok(Router::new()
        .route("/", get(handlers::page))
        .route("/login", post(handlers::login_form))
        .route("/api/detect", post(handlers::detect))
        .route("/api/login", post(handlers::login_json))
        .route("/oauth/{provider}/start", get(handlers::oauth_start))
        .route("/oauth/callback", get(handlers::oauth_callback))
        .route("/static/app.css", get(handlers::app_css))
        .route("/static/app.js", get(handlers::app_js))
        .route("/static/brand.css", get(handlers::brand_css))
        .route("/healthz", get(handlers::healthz))
        .route("/metrics", get(handlers::metrics))
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard::headers_and_access_log))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app))
}
