//! A local stand-in for the connect APIs, so that an app developer can build and test a native
//! login page with no account at all, and our own client tests run against something strict:
//!
//! * Nylas v2: `POST /connect/authorize` (→ a one-time code) and `POST /connect/token`
//!   (→ the account), validating every field as the API does — `missing_fields`, scopes as a
//!   comma-separated string, settings per provider, single-use codes valid 15 minutes, a
//!   reused or expired code answered by a 400 HTML page, the client id and secret checked.
//! * Nylas v3: `POST /v3/connect/custom` with `Authorization: Bearer <API key>` (→ a grant).
//!
//! Its failures are scripted, so that page and client tests reach every branch:
//!
//! | input | v2 | v3 |
//! |---|---|---|
//! | the password `wrong` | 403 `Invalid credentials` | 401 `api.authentication_error` with a `provider_error` |
//! | the local part `ratelimited` | 429 with `X-RateLimit-Limit`, `X-RateLimit-Reset`, `Retry-After` | the same |
//! | the local part `unavailable` | 503 | 503 |
//!
//! With [`SandboxConfig::verify_logins`], IMAP credentials are checked for real before a code or
//! a grant is issued: the sandbox signs in to the IMAP and SMTP servers the request names
//! (the pre-flight check) and refuses as the API would when they say no.
//!
//! It keeps nothing on disk and logs no secret: requests are logged by path and status only.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use nativeauth::connect::Scopes;
use nativeauth::secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

/// How long a v2 code stays valid.
pub const CODE_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The client id, client secret and API key the sandbox accepts.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The v2 client id.
    pub client_id: String,
    /// The v2 client secret.
    pub client_secret: SecretString,
    /// The v3 API key.
    pub api_key: SecretString,
    /// How long a code stays valid. Default: [`CODE_LIFETIME`].
    pub code_lifetime: Duration,
    /// Check IMAP credentials against the servers a request names before issuing a code or
    /// a grant, with this discovery configuration (its resolver, trusted roots and address
    /// policy). Default: `None`, only the scripted failures.
    pub verify_logins: Option<nativeauth::DiscoveryConfig>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            client_id: "sandbox-client".into(),
            client_secret: SecretString::from("sandbox-secret"),
            api_key: SecretString::from("sandbox-api-key"),
            code_lifetime: CODE_LIFETIME,
            verify_logins: None,
        }
    }
}

/// What a code was issued for.
struct Issued {
    at: Instant,
    used: bool,
    email: String,
    name: String,
    provider: String,
    organization_unit: &'static str,
}

struct Shared {
    config: SandboxConfig,
    /// Built once from `config.verify_logins`.
    verifier: Option<nativeauth::Discovery>,
    codes: Mutex<HashMap<String, Issued>>,
    counter: AtomicU64,
    keys: std::collections::hash_map::RandomState,
}

impl Shared {
    /// An unguessable token: a per-process random key hashed with a counter and the time.
    fn token(&self, prefix: &str) -> String {
        let mut hasher = self.keys.build_hasher();
        hasher.write_u64(self.counter.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos(),
        );
        let mut second = self.keys.build_hasher();
        second.write_u64(hasher.finish());
        format!("{prefix}{:016x}{:016x}", hasher.finish(), second.finish())
    }
}

/// The sandbox as an axum router (mount it, or serve it with [`serve`]).
///
/// # Panics
/// Never: a verification configuration that cannot be set up (no usable DNS) turns
/// verification off with a warning.
pub fn router(config: SandboxConfig) -> Router {
    let verifier = config.verify_logins.clone().and_then(|discovery| {
        nativeauth::Discovery::with_providers(discovery, Vec::new())
            .map_err(|error| tracing::warn!(%error, "login verification is off"))
            .ok()
    });
    let shared = Arc::new(Shared {
        verifier,
        config,
        codes: Mutex::new(HashMap::new()),
        counter: AtomicU64::new(0),
        keys: std::collections::hash_map::RandomState::new(),
    });
    Router::new()
        .route("/connect/authorize", post(authorize))
        .route("/connect/token", post(token))
        .route("/v3/connect/custom", post(custom))
        .with_state(shared)
}

/// A running sandbox; dropping it stops the server.
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl RunningSandbox {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Serves the sandbox on `listen` (port 0 for a free one) until the handle is dropped.
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve(listen: SocketAddr, config: SandboxConfig) -> std::io::Result<RunningSandbox> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(config);
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::warn!(%error, "sandbox server stopped");
        }
    });
    Ok(RunningSandbox { addr, _stop: stop })
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn v2_error(status: StatusCode, kind: &str, message: &str) -> Response {
    json_response(status, &json!({ "message": message, "type": kind }))
}

fn rate_limited(headers: &mut HeaderMap) {
    headers.insert("X-RateLimit-Limit", HeaderValue::from_static("100"));
    headers.insert("X-RateLimit-Reset", HeaderValue::from_static("30"));
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
}

/// The scripted failure an address asks for, if any.
fn scripted(email: &str) -> Option<StatusCode> {
    match email.split('@').next().unwrap_or_default() {
        "ratelimited" => Some(StatusCode::TOO_MANY_REQUESTS),
        "unavailable" => Some(StatusCode::SERVICE_UNAVAILABLE),
        _ => None,
    }
}

/// The required settings of a v2 provider, and their JSON types.
fn v2_settings(provider: &str) -> Option<&'static [(&'static str, Kind)]> {
    use Kind::{Bool, Int, Text};
    Some(match provider {
        "imap" => &[
            ("imap_host", Text),
            ("imap_port", Int),
            ("imap_username", Text),
            ("imap_password", Text),
            ("smtp_host", Text),
            ("smtp_port", Int),
            ("smtp_username", Text),
            ("smtp_password", Text),
            ("ssl_required", Bool),
        ],
        "gmail" => &[
            ("google_client_id", Text),
            ("google_client_secret", Text),
            ("google_refresh_token", Text),
        ],
        "office365" => &[
            ("microsoft_client_id", Text),
            ("microsoft_client_secret", Text),
            ("microsoft_refresh_token", Text),
            ("redirect_uri", Text),
        ],
        "exchange" => &[("username", Text), ("password", Text)],
        "yahoo" | "aol" | "icloud" | "hotmail" | "outlook" => &[("password", Text)],
        _ => return None,
    })
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Bool,
}

impl Kind {
    fn matches(self, value: &Value) -> bool {
        match self {
            Self::Text => value.as_str().is_some_and(|s| !s.trim().is_empty()),
            Self::Int => value.as_u64().is_some_and(|n| (1..=65_535).contains(&n)),
            Self::Bool => value.is_boolean(),
        }
    }
}

/// The fields of `object` that are missing or of the wrong type.
fn missing(object: Option<&Map<String, Value>>, required: &[(&str, Kind)]) -> Vec<String> {
    required
        .iter()
        .filter(|(field, kind)| {
            !object.and_then(|o| o.get(*field)).is_some_and(|v| kind.matches(v))
        })
        .map(|(field, _)| (*field).to_owned())
        .collect()
}

/// The password a request carries (v2 or v3 field names), for the scripted failures.
fn password(settings: Option<&Map<String, Value>>) -> Option<&str> {
    let settings = settings?;
    ["password", "imap_password"].iter().find_map(|field| settings.get(*field)?.as_str())
}

/// Signs in to the IMAP and SMTP servers an IMAP request names; `Some(message)` when they
/// refuse (or cannot be reached), `None` when they accept or verification is off.
async fn refused_by_servers(
    shared: &Shared,
    email: &str,
    settings: Option<&Map<String, Value>>,
) -> Option<String> {
    use nativeauth::connect::{Consent, Credentials};
    use nativeauth::providers::imap::check_login;
    use nativeauth::{
        AuthMethod, Detection, EmailAddress, NylasProvider, Protocol, ProviderInfo, Security,
        Server, Source, Trust, UsernameTemplate,
    };
    let verifier = shared.verifier.as_ref()?;
    let settings = settings?;
    let text = |field: &str| settings.get(field).and_then(Value::as_str).unwrap_or_default();
    let port = |field: &str| {
        settings.get(field).and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()).unwrap_or(0)
    };
    let plain_allowed = settings.get("ssl_required").and_then(Value::as_bool) == Some(false);
    let server = |protocol, host: &str, port: u16, username: &str| Server {
        protocol,
        host: host.to_owned(),
        port,
        security: Security::for_typed_port(port),
        username: UsernameTemplate::new(username),
        auth: vec![AuthMethod::PasswordCleartext],
    };
    let imap_user = text("imap_username");
    let smtp_user = settings.get("smtp_username").and_then(Value::as_str).unwrap_or(imap_user);
    let provider = ProviderInfo::new("sandbox", "the mail provider", NylasProvider::Imap);
    let detection = Detection::new(provider, Source::Catalogue, Trust::Verified, "the request")
        .with_servers(
            vec![server(Protocol::Imap, text("imap_host"), port("imap_port"), imap_user)],
            vec![server(Protocol::Smtp, text("smtp_host"), port("smtp_port"), smtp_user)],
        );
    // Verification fails closed: a request it cannot check is refused, not waved through.
    let Ok(email) = EmailAddress::parse(email) else {
        return Some("the sandbox verifies logins by email address, and this is not one".into());
    };
    let mut credentials = Credentials::password(text("imap_password"));
    if let Some(smtp_password) = settings.get("smtp_password").and_then(Value::as_str) {
        // A separate SMTP login is checked with its own password.
        if smtp_password != text("imap_password") {
            credentials = credentials.with_smtp_login(Some(smtp_user.to_owned()), smtp_password);
        }
    }
    let mut consent = Consent::none();
    if plain_allowed {
        consent = consent.allow_plaintext();
    }
    let ctx = verifier.context();
    match check_login(&ctx, &email, &detection, &credentials, consent, Duration::from_secs(10))
        .await
    {
        Ok(check) if check.ok => None,
        Ok(check) => Some(check.message),
        Err(error) => Some(error.to_string()),
    }
}

async fn authorize(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&body) else {
        return v2_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "The body is not a JSON object",
        );
    };
    let text = |field: &str| {
        request.get(field).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    };
    let mut missing_fields: Vec<String> =
        ["client_id", "name", "email_address", "provider", "scopes"]
            .into_iter()
            .filter(|field| text(field).is_none())
            .map(str::to_owned)
            .collect();
    let settings = request.get("settings").and_then(Value::as_object);
    if let Some(provider) = text("provider") {
        match v2_settings(provider) {
            Some(required) => missing_fields.extend(missing(settings, required)),
            None => {
                return v2_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "Unknown provider",
                );
            }
        }
    }
    if !missing_fields.is_empty() {
        tracing::info!(missing = ?missing_fields, "authorize: 400");
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "message": "Please include the missing fields",
                "type": "auth_error",
                "missing_fields": missing_fields,
            }),
        );
    }
    let (Some(client_id), Some(email), Some(name), Some(provider), Some(scopes)) =
        (text("client_id"), text("email_address"), text("name"), text("provider"), text("scopes"))
    else {
        return v2_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Invalid request");
    };
    if client_id != shared.config.client_id {
        return v2_error(StatusCode::UNAUTHORIZED, "api_error", "Unknown client id");
    }
    if let Some(unknown) = scopes.split(',').map(str::trim).find(|s| !Scopes::KNOWN.contains(s)) {
        return v2_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &format!("Invalid scope: {unknown}"),
        );
    }
    match scripted(email) {
        Some(StatusCode::TOO_MANY_REQUESTS) => {
            let mut response =
                v2_error(StatusCode::TOO_MANY_REQUESTS, "rate_limit", "Too many requests");
            rate_limited(response.headers_mut());
            return response;
        }
        Some(status) => return v2_error(status, "api_error", "The service is unavailable"),
        None => {}
    }
    if password(settings) == Some("wrong") {
        tracing::info!(provider, "authorize: 403 (scripted wrong password)");
        return v2_error(StatusCode::FORBIDDEN, "auth_error", "Invalid credentials");
    }
    if provider == "imap" {
        if let Some(message) = refused_by_servers(&shared, email, settings).await {
            tracing::info!("authorize: 403 (the mail servers refused)");
            return v2_error(StatusCode::FORBIDDEN, "auth_error", &message);
        }
    }
    let code = shared.token("code-");
    let organization_unit = if provider == "gmail" { "label" } else { "folder" };
    shared.codes.lock().unwrap_or_else(PoisonError::into_inner).insert(
        code.clone(),
        Issued {
            at: Instant::now(),
            used: false,
            email: email.to_owned(),
            name: name.to_owned(),
            provider: provider.to_owned(),
            organization_unit,
        },
    );
    tracing::info!(provider, "authorize: 200");
    json_response(StatusCode::OK, &json!({ "code": code }))
}

/// The page the service answers a reused or expired code with.
fn html_400() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><title>400 Bad Request</title></head>\
         <body><h1>Bad Request</h1><p>Invalid code</p></body></html>",
    )
        .into_response()
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&body) else {
        return v2_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "The body is not a JSON object",
        );
    };
    let text = |field: &str| request.get(field).and_then(Value::as_str).filter(|s| !s.is_empty());
    let missing_fields: Vec<&str> =
        ["client_id", "client_secret", "code"].into_iter().filter(|f| text(f).is_none()).collect();
    if !missing_fields.is_empty() {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "message": "Please include the missing fields",
                "type": "invalid_request_error",
                "missing_fields": missing_fields,
            }),
        );
    }
    let config = &shared.config;
    let secret_ok = text("client_secret") == Some(config.client_secret.expose_secret());
    if text("client_id") != Some(config.client_id.as_str()) || !secret_ok {
        return v2_error(
            StatusCode::UNAUTHORIZED,
            "api_error",
            "Unknown client id or wrong secret",
        );
    }
    let mut codes = shared.codes.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(issued) = text("code").and_then(|code| codes.get_mut(code)) else {
        return html_400();
    };
    if issued.used || issued.at.elapsed() >= config.code_lifetime {
        tracing::info!("token: 400 (code reused or expired)");
        return html_400();
    }
    issued.used = true;
    let account_id = shared.token("acc-");
    let linked_at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    tracing::info!(provider = %issued.provider, "token: 200");
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": shared.token("tok-"),
            "account_id": account_id,
            "billing_state": "paid",
            "email_address": issued.email,
            "id": account_id,
            "linked_at": linked_at,
            "name": issued.name,
            "object": "account",
            "organization_unit": issued.organization_unit,
            "provider": if issued.provider == "exchange" { "eas" } else { issued.provider.as_str() },
            "sync_state": "running",
        }),
    )
}

fn v3_error(shared: &Shared, status: StatusCode, kind: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({
            "request_id": shared.token("req-"),
            "error": { "type": kind, "message": message },
        }),
    )
}

/// The required settings of a v3 provider.
fn v3_settings(provider: &str) -> Option<&'static [(&'static str, Kind)]> {
    use Kind::{Int, Text};
    Some(match provider {
        "imap" => &[
            ("imap_username", Text),
            ("imap_password", Text),
            ("imap_host", Text),
            ("imap_port", Int),
            ("smtp_host", Text),
            ("smtp_port", Int),
        ],
        "google" | "microsoft" | "yahoo" => &[("refresh_token", Text)],
        "icloud" | "ews" => &[("username", Text), ("password", Text)],
        _ => return None,
    })
}

async fn custom(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(shared.config.api_key.expose_secret()) {
        return v3_error(
            &shared,
            StatusCode::UNAUTHORIZED,
            "api.authentication_error",
            "Invalid API key",
        );
    }
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&body) else {
        return v3_error(
            &shared,
            StatusCode::BAD_REQUEST,
            "api.invalid_request_error",
            "The body is not a JSON object",
        );
    };
    let provider = request.get("provider").and_then(Value::as_str).unwrap_or_default();
    let Some(required) = v3_settings(provider) else {
        return v3_error(
            &shared,
            StatusCode::BAD_REQUEST,
            "grant.provider_required",
            "Unknown or missing provider",
        );
    };
    let settings = request.get("settings").and_then(Value::as_object);
    let missing_fields = missing(settings, required);
    if !missing_fields.is_empty() {
        return v3_error(
            &shared,
            StatusCode::BAD_REQUEST,
            "api.invalid_request_payload",
            &format!("Missing or invalid settings: {}", missing_fields.join(", ")),
        );
    }
    let email = settings
        .and_then(|s| {
            ["imap_username", "username", "email"].iter().find_map(|f| s.get(*f)?.as_str())
        })
        .unwrap_or("user@sandbox.invalid")
        .to_owned();
    match scripted(&email) {
        Some(StatusCode::TOO_MANY_REQUESTS) => {
            let mut response = v3_error(
                &shared,
                StatusCode::TOO_MANY_REQUESTS,
                "api.rate_limit_error",
                "Too many requests",
            );
            rate_limited(response.headers_mut());
            return response;
        }
        Some(status) => {
            return v3_error(&shared, status, "api.internal_error", "The service is unavailable");
        }
        None => {}
    }
    let refusal = if password(settings) == Some("wrong") {
        Some("Could not authenticate with the provider".to_owned())
    } else if provider == "imap" {
        refused_by_servers(&shared, &email, settings).await
    } else {
        None
    };
    if let Some(message) = refusal {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &json!({
                "request_id": shared.token("req-"),
                "error": {
                    "type": "api.authentication_error",
                    "message": message,
                    "provider_error": { "error": "AUTHENTICATIONFAILED Invalid credentials" },
                },
            }),
        );
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    json_response(
        StatusCode::OK,
        &json!({
            "request_id": shared.token("req-"),
            "data": {
                "id": shared.token("grant-"),
                "provider": provider,
                "grant_status": "valid",
                "email": email,
                "scope": [],
                "created_at": now,
                "updated_at": now,
            },
        }),
    )
}
