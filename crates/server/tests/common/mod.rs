//! A login server on loopback, signing in against the local connect sandbox and calling back a
//! small receiver that records what it got.

#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use nativeauth::DiscoveryConfig;
use nativeauth::secrecy::SecretString;
use nativeauth_sandbox::{RunningSandbox, SandboxConfig};
use nativeauth_server::{Api, Secrets, ServerConfig, Settings};

/// The OAuth client secret the stand-in accepts.
pub(crate) const OAUTH_SECRET: &str = "oauth-client-secret";

pub(crate) const CALLBACK_SECRET: &str = "test-callback-secret";

/// The app's secret, for `POST /api/exchange` and signed start links.
pub(crate) const APP_SECRET: &str = "test-app-secret-0123456789abcdef-0123";

/// The root key of every test server (so that two servers make a fleet).
pub(crate) const ROOT_KEY: &str = "test-root-key-0123456789abcdef-0123456789";

/// What the app's callback endpoint received.
pub(crate) type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

pub(crate) struct Harness {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) callbacks: Received,
    pub(crate) callback_url: String,
    _sandbox: RunningSandbox,
    _own_sandbox: Option<RunningSandbox>,
}

/// Serves `router` on a free loopback port.
pub(crate) async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on(listener, router)
}

/// Serves `router` on `listener`.
fn serve_on(listener: tokio::net::TcpListener, router: axum::Router) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .unwrap();
    });
    addr
}

/// Starts the sandbox, a callback receiver and the login server (offline discovery unless
/// `discovery` is given), with `tweak` applied to the configuration.
pub(crate) async fn start(
    api: Api,
    discovery: Option<DiscoveryConfig>,
    tweak: impl FnOnce(&mut Settings),
) -> Harness {
    start_with_hook(api, discovery, None, tweak).await
}

/// [`start`], with the embedding app's hook.
pub(crate) async fn start_with_hook(
    api: Api,
    discovery: Option<DiscoveryConfig>,
    hook: Option<nativeauth_server::Hook>,
    tweak: impl FnOnce(&mut Settings),
) -> Harness {
    start_at(api, discovery, hook, false, |file, _| tweak(file)).await
}

/// [`start`] with `tweak` applied to the secrets.
#[allow(dead_code)] // not every test binary changes secrets
pub(crate) async fn start_with_metrics_token(token: &str) -> Harness {
    start_at_with(Api::V2, None, None, false, Some(SecretString::from(token)), None, |_, _| {})
        .await
}

/// [`start`] as `--sandbox` does: without a success URL, with the sandbox's banner.
#[allow(dead_code)] // not every test binary runs a sandboxed server
pub(crate) async fn start_sandboxed() -> Harness {
    start_at(Api::V2, None, None, true, |file, _| file.success_url = None).await
}

/// [`start`], the router mounted at `at` (the harness's `base` stays the origin).
#[allow(dead_code)] // not every test binary mounts the router
pub(crate) async fn start_mounted(
    api: Api,
    at: &str,
    tweak: impl FnOnce(&mut Settings),
) -> Harness {
    start_at_with(api, None, None, false, None, Some(at), |file, _| tweak(file)).await
}

/// [`start`], with `tweak` given the server's own base URL (for a redirect URI).
#[allow(dead_code)] // not every test binary needs its base URL up front
pub(crate) async fn start_knowing_base(
    api: Api,
    tweak: impl FnOnce(&mut Settings, &str),
) -> Harness {
    start_at(api, None, None, false, tweak).await
}

async fn start_at(
    api: Api,
    discovery: Option<DiscoveryConfig>,
    hook: Option<nativeauth_server::Hook>,
    sandboxed: bool,
    tweak: impl FnOnce(&mut Settings, &str),
) -> Harness {
    start_at_with(api, discovery, hook, sandboxed, None, None, tweak).await
}

async fn start_at_with(
    api: Api,
    discovery: Option<DiscoveryConfig>,
    hook: Option<nativeauth_server::Hook>,
    sandboxed: bool,
    metrics_token: Option<SecretString>,
    mount_at: Option<&str>,
    tweak: impl FnOnce(&mut Settings, &str),
) -> Harness {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let _ = nativeauth::crypto_provider().install_default();
    let sandbox_config = SandboxConfig::default();
    let sandbox = nativeauth_sandbox::serve(([127, 0, 0, 1], 0).into(), sandbox_config.clone())
        .await
        .unwrap();
    let callbacks: Received = Arc::default();
    let recorded = callbacks.clone();
    let receiver = axum::Router::new().route(
        "/callback",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let recorded = recorded.clone();
            async move {
                recorded
                    .lock()
                    .unwrap()
                    .push((headers, String::from_utf8_lossy(&body).into_owned()));
                "ok"
            }
        }),
    );
    let callback_url = format!("http://{}/callback", serve(receiver).await);
    let mut file = Settings {
        api,
        api_url: Some(sandbox.url()),
        allow_loopback_http: true,
        client_id: sandbox_config.client_id.clone(),
        callback_url: Some(callback_url.clone()),
        success_url: Some("http://127.0.0.1:9/welcome".into()),
        google_sign_in_url: Some("https://app.example/oauth/google".into()),
        microsoft_sign_in_url: Some("https://app.example/oauth/microsoft".into()),
        ..Settings::default()
    };
    tweak(&mut file, &base);
    let mut secrets = Secrets::builder()
        .client_secret(sandbox_config.client_secret.clone())
        .api_key(sandbox_config.api_key.clone())
        .callback_secret(CALLBACK_SECRET)
        .root_key(ROOT_KEY)
        .app_secret(APP_SECRET)
        .google_client_secret(OAUTH_SECRET)
        .microsoft_client_secret(OAUTH_SECRET);
    if let Some(token) = metrics_token {
        secrets = secrets.metrics_token(token);
    }
    let discovery = discovery.unwrap_or_else(|| DiscoveryConfig::builder().offline(true).build());
    let builder =
        ServerConfig::builder().settings(file).secrets(secrets.build()).discovery(discovery);
    // As `--sandbox` builds it: against a sandbox of its own, with the sandbox's secrets.
    let (config, own_sandbox) = if sandboxed {
        let (config, running) = builder.build_sandbox().await.unwrap();
        (config, Some(running))
    } else {
        (builder.build(), None)
    };
    let router = match hook {
        Some(hook) => nativeauth_server::router_with_hook(config, hook).unwrap(),
        None => nativeauth_server::router(config).unwrap(),
    };
    let router = match mount_at {
        Some(at) => nativeauth_server::mount(at, router),
        None => router,
    };
    serve_on(listener, router);
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Harness { base, http, callbacks, callback_url, _sandbox: sandbox, _own_sandbox: own_sandbox }
}

/// The `name=value` pairs of a response's `Set-Cookie` headers, as a `Cookie` header.
pub(crate) fn cookies_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter(|pair| !pair.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A response's `Set-Cookie` headers as sent, deletions included.
pub(crate) fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// The page's CSRF field value.
pub(crate) fn csrf_field(html: &str) -> String {
    let start = html.find(r#"name="csrf" value=""#).expect("the form has a CSRF field")
        + r#"name="csrf" value=""#.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// A browser session: the page's cookies and CSRF token.
pub(crate) struct Session {
    pub(crate) cookies: String,
    pub(crate) csrf: String,
}

impl Harness {
    /// Opens the page (with `query`) the way a browser would.
    pub(crate) async fn open(&self, query: &str) -> Session {
        let response = self.http.get(format!("{}/{query}", self.base)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let cookies = cookies_of(&response);
        let html = response.text().await.unwrap();
        Session { cookies, csrf: csrf_field(&html) }
    }

    /// `POST /api/detect` as the page does.
    pub(crate) async fn detect(&self, email: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}/api/detect", self.base))
            .header("Origin", &self.base)
            .json(&serde_json::json!({ "email": email }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// `POST /api/login` as the page does.
    pub(crate) async fn login(
        &self,
        session: &Session,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/api/login", self.base))
            .header("Origin", &self.base)
            .header("Cookie", &session.cookies)
            .header("X-CSRF-Token", &session.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

impl Harness {
    /// The callbacks received once at least `n` arrived (they are sent in the background), or
    /// after 5 seconds.
    pub(crate) async fn callbacks_after(&self, n: usize) -> Vec<(HeaderMap, String)> {
        let started = std::time::Instant::now();
        loop {
            let received = self.callbacks.lock().unwrap().clone();
            if received.len() >= n || started.elapsed() > std::time::Duration::from_secs(5) {
                return received;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Harness {
    /// The callbacks received by now, after giving a late one half a second to arrive (they
    /// are sent in the background): for checks that none came.
    pub(crate) async fn callbacks_settled(&self) -> Vec<(HeaderMap, String)> {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        self.callbacks.lock().unwrap().clone()
    }
}

impl Harness {
    /// The body of `GET path` on this server.
    pub(crate) async fn get_text(&self, path: &str) -> String {
        self.http.get(format!("{}{path}", self.base)).send().await.unwrap().text().await.unwrap()
    }
}

/// The value of cookie `name` in a request's headers.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(reqwest::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The value of query parameter `name` in `url`.
pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

impl Harness {
    /// `POST /api/exchange` as the app does (`secret` as the bearer token), with `body`.
    pub(crate) async fn exchange_with(
        &self,
        secret: Option<&str>,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut request = self.http.post(format!("{}/api/exchange", self.base)).json(&body);
        if let Some(secret) = secret {
            request = request.bearer_auth(secret);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// The app's side of a sign-in that ended at `redirect`: the state the redirect carries
    /// must be the one in the app's own session before the code is exchanged (the README's
    /// rule); then the code is exchanged with that state. `Err` with the reason when the app
    /// refuses.
    pub(crate) async fn app_receives(
        &self,
        session_state: &str,
        redirect: &str,
    ) -> Result<serde_json::Value, String> {
        let state = query_param(redirect, "state").unwrap_or_default();
        if state != session_state {
            return Err(format!("state {state:?} is not this session's {session_state:?}"));
        }
        let code = query_param(redirect, "code").ok_or("no code")?;
        let body = if state.is_empty() {
            serde_json::json!({ "code": code })
        } else {
            serde_json::json!({ "code": code, "state": state })
        };
        let (status, body) = self.exchange_with(Some(APP_SECRET), body).await;
        if status == 200 { Ok(body) } else { Err(format!("{status} {body}")) }
    }
}

/// An `application/x-www-form-urlencoded` body.
pub(crate) fn form_body(fields: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://form.invalid/").unwrap();
    url.query_pairs_mut().extend_pairs(fields);
    url.query().unwrap_or_default().to_owned()
}

impl Harness {
    /// Posts `fields` as a form to `path` with the browser's `cookies`.
    pub(crate) async fn post_form(
        &self,
        path: &str,
        cookies: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("Cookie", cookies)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form_body(fields))
            .send()
            .await
            .unwrap()
    }
}

/// Captures every log line of this test binary at TRACE (global, with the `log` bridge:
/// reqwest, hyper and rustls log there too). Call once per binary.
#[allow(dead_code)] // not every test binary captures logs
pub(crate) fn capture_logs() -> nativeauth_testkit::CapturedLogs {
    use tracing_subscriber::prelude::*;
    let captured = nativeauth_testkit::CapturedLogs::default();
    let writer = captured.clone();
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .with_filter(tracing_subscriber::filter::LevelFilter::TRACE),
        )
        .init();
    captured
}
