//! `nativeauth-server`: the branded native login page, as an axum [`Router`] to mount in a Rust
//! app or as the `nativeauth-server` binary to run beside any app.
//!
//! * `GET /` — the page (`?state=<opaque>&email=…&name=…` from the app);
//! * `POST /api/detect` — `{"email": "…"}` → what to ask the user for;
//! * `POST /api/login` — the page's sign-in (JSON), `POST /login` — the same as a form, for
//!   browsers without JavaScript;
//! * `POST /api/exchange` — the app, server-to-server, exchanges a one-time code for the
//!   sign-in's [`SignInResult`];
//! * `GET /healthz`, and `GET /metrics` in the Prometheus text format.
//!
//! After a successful sign-in the browser goes to the app's success URL with `state` and a
//! one-time `code`. The app compares `state` with the one in its own session, then exchanges
//! the code for the result (the v2 access token included). The callback URL, if any, is only
//! notified (signed with [`SIGNATURE_HEADER`], no secret).
//!
//! Features (both on by default): `binary` (the binary's command line and log output; an app
//! embedding the router turns it off with `default-features = false`) and `redis` (a fleet
//! sharing a Redis, `redis_url`; passed through to `nativeauth`). Every discovery provider is
//! always in.

mod app;
mod base_path;
mod callback;
mod codes;
mod colour;
mod config;
mod cookies;
mod detect;
mod flow;
mod guard;
mod i18n;
mod identity;
mod limits;
mod metrics;
mod oauth;
mod oauth_flow;
mod oauth_provider;
mod page;
mod result;
mod routes;
mod sandbox;
mod serve;
mod signing;
mod start_link;
mod typed_servers;
mod urls;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use callback::SIGNATURE_HEADER;
pub use config::{
    Api, Brand, ConfigError, OAuthConfig, Secrets, SecretsBuilder, ServerConfig,
    ServerConfigBuilder, Settings,
};
#[doc(hidden)] // the benchmark's door to the limiter
pub use limits::Limits;
pub use result::{Linked, SignInResult};
pub use sandbox::{
    RunningSandbox, SANDBOX_APP_SECRET, SANDBOX_CALLBACK_SECRET, SandboxError, sandbox,
};
pub use serve::{ServeOptions, serve};
pub use start_link::{
    MAX_START_LINK_LIFETIME, START_LINK_LABEL, StartLinkError, signed_start_link,
};
pub use typed_servers::TypedServers;

/// The largest request body accepted (a sign-in form is far smaller).
const BODY_LIMIT: usize = 16 * 1024;

/// Why the server could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerSetupError {
    /// Discovery could not be set up (no usable DNS configuration).
    #[error("discovery cannot be set up: {0}")]
    Discovery(#[from] nativeauth::SetupError),
    /// The connect API client could not be built (a bad or insecure API URL).
    #[error("the connect API client cannot be built: {0}")]
    Api(#[from] nativeauth::connect::ConnectError),
    /// A URL in the configuration is not usable.
    #[error("{field} must be an https URL (or http to loopback with allow_loopback_http): {url}")]
    Url {
        /// The configuration field.
        field: &'static str,
        /// Its value.
        url: String,
    },
    /// A required secret is missing or empty: the sentence names the environment variable, or
    /// the builder's setter when the secrets were set in code.
    #[error("{0}")]
    MissingSecret(String),
    /// A required setting is empty (`client_id` with v2).
    #[error("{0} is required and empty")]
    MissingSetting(&'static str),
    /// `NATIVEAUTH_APP_SECRET` is shorter than 32 bytes (outside the sandbox).
    #[error(
        "NATIVEAUTH_APP_SECRET must be at least 32 bytes (such as the output of `openssl rand \
         -hex 32`): it is the bearer of every sign-in's result"
    )]
    WeakAppSecret,
    /// An entry of `trusted_proxies` is not an address or a CIDR range.
    #[error("trusted_proxies: {0:?} is not an address or a CIDR range")]
    TrustedProxy(String),
    /// `client_ip_header` without `trusted_proxies`.
    #[error(
        "client_ip_header needs trusted_proxies: without them any client could name any address \
         and take another's rate limit"
    )]
    UntrustedClientIpHeader,
    /// `https = true` without `public_url`.
    #[error(
        "https = true needs public_url, this server's public origin (https://login.example.com)"
    )]
    MissingPublicUrl,
    /// `success_url` is not set (outside the sandbox).
    #[error(
        "success_url is required: the browser brings the sign-in's one-time code there, and \
         without it the result could not reach the app"
    )]
    MissingSuccessUrl,
    /// The root key is not usable.
    #[error("the root key cannot be used: {0}")]
    RootKey(#[from] nativeauth::keys::RootKeyError),
    /// A fleet (`redis_url`) without a root key.
    #[error(
        "a fleet (redis_url) needs the same root key on every server: set NATIVEAUTH_KEY to at \
         least 32 random bytes, such as the output of `openssl rand -hex 32`"
    )]
    RootKeyRequired,
    /// TLS for the callback cannot be set up.
    #[error("TLS for the callback cannot be set up: {0}")]
    Tls(#[source] nativeauth::SetupError),
    /// The HTTP client for the callback cannot be built.
    #[error("the callback client cannot be built: {0}")]
    Callback(#[source] reqwest::Error),
    /// The Redis store cannot be set up (an invalid `redis_url`; the URL is not repeated, as
    /// it may hold a password).
    #[cfg(feature = "redis")]
    #[error("the Redis store cannot be set up: {0}")]
    Redis(#[from] nativeauth::redis::RedisSetupError),
    /// `redis_url` is set, but this build of the server has no Redis client (the `redis`
    /// feature is off).
    #[cfg(not(feature = "redis"))]
    #[error("redis_url is set, but nativeauth-server was built without its `redis` feature")]
    NoRedis,
}

/// The login page and its API, ready to serve.
///
/// Serve it with [`serve`] (or `into_make_service_with_connect_info::<SocketAddr>()`) so that
/// rate limits apply per client address (without it every client shares one budget).
///
/// ```no_run
/// use nativeauth_server::{Secrets, ServeOptions, ServerConfig};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ServerConfig::builder()
///     .success_url("https://app.example.com/mail/connected")
///     .public_url("https://login.example.com")
///     .client_id("the v2 client id")
///     .secrets(Secrets::from_env())
///     .build();
/// let options = ServeOptions::from(config.settings());
/// let router = nativeauth_server::router(config)?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// nativeauth_server::serve(listener, router, options, std::future::pending()).await?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`ServerSetupError`] when the configuration cannot work (see its variants).
pub fn router(config: ServerConfig) -> Result<Router, ServerSetupError> {
    build(config, None)
}

/// What an embedding Rust app receives after each successful sign-in, once its code is kept:
/// the same [`SignInResult`] as the code exchange gives (the v2 access token inside a
/// [`SecretString`](nativeauth::secrecy::SecretString)). It never leaves the process. Like the
/// callback it cannot tell which browser finished the sign-in: link a mailbox to a user only
/// after that user's browser brought the code to the success URL with its session's `state`,
/// and the exchange answered. A panicking hook is logged and does not fail the sign-in.
pub type Hook = Arc<dyn Fn(SignInResult) + Send + Sync>;

/// [`router`], with `hook` called after each successful sign-in.
///
/// ```no_run
/// # fn build(config: nativeauth_server::ServerConfig) -> Result<(), nativeauth_server::ServerSetupError> {
/// let hook: nativeauth_server::Hook = std::sync::Arc::new(|result| {
///     // Keep it by event id; link it to a user only once that user's browser has brought the
///     // code back with the state of its own session.
///     tracing::info!(event_id = %result.event_id, "a mailbox was linked");
/// });
/// let router = nativeauth_server::router_with_hook(config, hook)?;
/// # let _ = router;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// As [`router`].
pub fn router_with_hook(config: ServerConfig, hook: Hook) -> Result<Router, ServerSetupError> {
    build(config, Some(hook))
}

/// `login` (the router [`router`] builds) mounted at `at`, such as `/connect`, in a router to
/// merge into the app's own: the page, its script, styles, forms and cookies all live under
/// `at`, and both `/connect` and `/connect/` serve the page (the second by a redirect that keeps
/// the query).
///
/// ```no_run
/// # fn app(login: axum::Router) -> axum::Router {
/// axum::Router::new()
///     .route("/", axum::routing::get(|| async { "the app's own page" }))
///     .merge(nativeauth_server::mount("/connect", login))
/// # }
/// ```
pub fn mount(at: &str, login: Router) -> Router {
    // At the root there is nothing to nest (axum refuses to): the router is the app's.
    if at.trim_matches('/').is_empty() {
        return login;
    }
    let at = format!("/{}", at.trim_matches('/'));
    let target = at.clone();
    let with_slash = move |uri: axum::http::Uri| {
        let location = match uri.query() {
            Some(query) => format!("{target}?{query}"),
            None => target.clone(),
        };
        async move { axum::response::Redirect::permanent(&location) }
    };
    Router::new().nest(&at, login).route(&format!("{at}/"), get(with_slash))
}

/// `router` as served on `metrics_listen`: `/metrics` only, every other path 404.
pub fn metrics_only(router: Router) -> Router {
    router
        .layer(axum::middleware::from_fn(only_metrics))
        .layer(axum::Extension(routes::ops::OnMetricsListener))
}

async fn only_metrics(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.uri().path() == "/metrics" {
        next.run(request).await
    } else {
        axum::http::StatusCode::NOT_FOUND.into_response()
    }
}

fn build(config: ServerConfig, hook: Option<Hook>) -> Result<Router, ServerSetupError> {
    let app = Arc::new(app::App::new(config, hook)?);
    tracing::info!(providers = ?app.discovery.provider_ids(), "discovery's providers");
    Ok(Router::new()
        .route("/", get(routes::page::page))
        .route("/login", post(routes::form::login_form))
        .nest("/api", routes::api::router())
        .route("/oauth/{provider}/start", get(routes::oauth::oauth_start))
        .route("/oauth/callback", get(routes::oauth::oauth_callback))
        .route("/static/app.css", get(routes::assets::app_css))
        .route("/static/app.js", get(routes::assets::app_js))
        .route("/static/brand.css", get(routes::assets::brand_css))
        .route("/healthz", get(routes::ops::healthz))
        .route("/metrics", get(routes::ops::metrics))
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard::headers_and_access_log))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app))
}
