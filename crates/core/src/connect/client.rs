//! The HTTP client for `/connect/authorize` and `/connect/token`.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{StatusCode, Url};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::account::{Account, AuthCode};
use super::payload::AuthorizeRequest;
use crate::net::error::SetupError;
use crate::net::tls::{self, BodyError};

/// The longest server message kept in an error.
const MESSAGE_LEN: usize = 300;
/// The `Nylas-API-Version` header sent with every request, pinned so the response shapes
/// this client parses cannot change under it.
const API_VERSION: &str = "2.7";
/// The default timeout of one request, shared with the v3 client.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response body accepted, shared with the v3 client.
pub(super) const BODY_LIMIT: usize = 256 * 1024;

/// Why a connect call failed. No variant carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// 400 from `/connect/authorize` (or another 4xx not listed here): the request was refused.
    #[error("the request was refused ({status}): {message}{}", missing_suffix(missing_fields))]
    InvalidRequest {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
        /// Fields the server says are missing.
        missing_fields: Vec<String>,
    },
    /// 401: the client id is not accepted.
    #[error("unauthorized: {message}")]
    Unauthorized {
        /// The server's message.
        message: String,
    },
    /// 403 from `/connect/authorize`: the mail provider refused the credentials (wrong
    /// password, app password needed).
    #[error("the mail provider refused the credentials: {message}")]
    WrongCredentials {
        /// The server's message.
        message: String,
    },
    /// 402 or 422: the mail provider failed or refused the account.
    #[error("the mail provider failed ({status}): {message}")]
    ProviderFailure {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// 429: too many requests.
    #[error("rate limited{}: {message}", retry_suffix(*retry_after))]
    RateLimited {
        /// How long to wait before trying again: from `Retry-After` (seconds or an HTTP
        /// date), else from `X-RateLimit-Reset` (read as seconds from now when below
        /// 1 000 000 000, as a Unix time above), if either was sent.
        retry_after: Option<Duration>,
        /// `X-RateLimit-Limit`, if sent.
        limit: Option<u64>,
        /// The server's message.
        message: String,
    },
    /// `/connect/authorize` failed in a way that leaves its outcome unknown (a timeout, a
    /// dropped connection after the request was sent, a 5xx): the mail provider may have seen
    /// the password. Do not retry automatically; ask the user.
    #[error("the authorize outcome is unknown ({reason}): do not retry automatically")]
    OutcomeUnknown {
        /// What happened (no request data).
        reason: String,
        /// The HTTP status, when there was one.
        status: Option<u16>,
    },
    /// 5xx.
    #[error("server error ({status}): {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// `/connect/token` refused the code: invalid, expired or already used. Start again at
    /// authorize.
    #[error("the code was refused as invalid, expired or already used ({status}): {message}")]
    InvalidCode {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The code is older than 15 minutes; refused locally, without a request.
    #[error("the code expired {} s ago; start again at authorize", age.as_secs().saturating_sub(AuthCode::LIFETIME.as_secs()))]
    CodeExpired {
        /// The code's age.
        age: Duration,
    },
    /// A success status with a body that is not the expected JSON.
    #[error("unexpected response ({status}): {reason}")]
    UnexpectedResponse {
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        reason: String,
    },
    /// The request could not be sent or the response not received.
    #[error("transport failure: {reason}")]
    Transport {
        /// What went wrong (no URL query, no body).
        reason: String,
        /// Whether it failed before any byte of the request was sent (connect failure).
        before_sending: bool,
        /// Whether it was a timeout.
        timeout: bool,
    },
    /// The request was built for another client id.
    #[error("the request was built for client id {request:?}, this client uses {client:?}")]
    ClientIdMismatch {
        /// The request's client id.
        request: String,
        /// The client's.
        client: String,
    },
    /// The base URL is not https (plain http is allowed only to loopback, and only when
    /// enabled for tests).
    #[error("refusing to send credentials to {url}: https is required")]
    InsecureBaseUrl {
        /// The URL.
        url: String,
    },
    /// The base URL does not parse.
    #[error("invalid base URL {url:?}")]
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
    },
    /// The client could not be set up (TLS, the HTTP client).
    #[error(transparent)]
    Setup(#[from] SetupError),
}

fn missing_suffix(fields: &[String]) -> String {
    if fields.is_empty() { String::new() } else { format!(" (missing: {})", fields.join(", ")) }
}

fn retry_suffix(retry_after: Option<Duration>) -> String {
    retry_after.map_or_else(String::new, |wait| format!("; try again in {} s", wait.as_secs()))
}

impl ConnectError {
    /// Whether retrying the same call could help without user action (rate limit, 5xx,
    /// transport). Authorize failures whose outcome is unknown are not: that call carries
    /// credentials and repeating it may lock the account.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Server { .. } | Self::Transport { .. })
    }
}

/// Talks to a Nylas-v2-compatible API: `authorize` (credentials → one-time code) and `token`
/// (code → account). Build one per app and share it.
///
/// ```no_run
/// # use nativeauth_core as nativeauth;
/// # async fn demo(request: nativeauth::connect::AuthorizeRequest) -> Result<(), nativeauth::connect::ConnectError> {
/// use nativeauth::connect::ConnectClient;
///
/// let client = ConnectClient::builder("my-client-id", "my-client-secret").build()?;
/// let code = client.authorize(&request).await?;
/// let account = client.token(code).await?;
/// println!("linked {} ({})", account.email_address, account.provider);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ConnectClient {
    http: reqwest::Client,
    timeout: Duration,
    authorize_url: Url,
    token_url: Url,
    client_id: String,
    client_secret: SecretString,
}

/// Builds a [`ConnectClient`].
#[derive(Debug)]
#[must_use]
pub struct ConnectClientBuilder {
    base_url: String,
    client_id: String,
    client_secret: SecretString,
    timeout: Duration,
    allow_loopback_http: bool,
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl ConnectClientBuilder {
    /// The API base URL. Default: [`ConnectClient::US_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Timeout of one request. Default: 30 seconds.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Allow a plain-http base URL when its host is a loopback address (local mocks and tests).
    /// Default: `false`; other hosts always need https.
    pub fn allow_loopback_http(mut self, allow: bool) -> Self {
        self.allow_loopback_http = allow;
        self
    }

    /// Trust these root certificates in addition to the system's. Default: none.
    pub fn extra_roots(
        mut self,
        roots: impl IntoIterator<Item = rustls::pki_types::CertificateDer<'static>>,
    ) -> Self {
        self.extra_roots.extend(roots);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`ConnectError::InvalidBaseUrl`], [`ConnectError::InsecureBaseUrl`] for a non-https URL
    /// (unless loopback http is allowed), [`ConnectError::Setup`] when TLS cannot be set up.
    pub fn build(self) -> Result<ConnectClient, ConnectError> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("Nylas-API-Version", HeaderValue::from_static(API_VERSION));
        let (http, base) = api_client(
            &self.base_url,
            self.allow_loopback_http,
            self.timeout,
            self.extra_roots,
            headers,
        )?;
        let invalid = || ConnectError::InvalidBaseUrl { url: self.base_url.clone() };
        Ok(ConnectClient {
            http,
            timeout: self.timeout,
            authorize_url: base.join("connect/authorize").map_err(|_| invalid())?,
            token_url: base.join("connect/token").map_err(|_| invalid())?,
            client_id: self.client_id,
            client_secret: self.client_secret,
        })
    }
}

/// The HTTP client for a credential-carrying API, and its base URL (ending in `/`): https
/// only (plain http only to loopback, and only when allowed), no redirects followed, no
/// proxy from the environment, bounded in time.
pub(crate) fn api_client(
    base_url: &str,
    allow_loopback_http: bool,
    timeout: Duration,
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    headers: reqwest::header::HeaderMap,
) -> Result<(reqwest::Client, Url), ConnectError> {
    let invalid = || ConnectError::InvalidBaseUrl { url: base_url.to_owned() };
    let mut base = Url::parse(base_url).map_err(|_| invalid())?;
    let secure = match base.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err(invalid()),
    };
    if !(secure || allow_loopback_http && is_loopback(&base)) {
        return Err(ConnectError::InsecureBaseUrl { url: base.to_string() });
    }
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    let http = reqwest::Client::builder()
        .tls_backend_preconfigured(tls::tls_config(extra_roots)?)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        // Credentials are never re-sent to wherever a redirect points.
        .redirect(reqwest::redirect::Policy::none())
        // The API host is the app's choice; proxies from the environment must not see
        // (or reroute) credential-carrying requests.
        .no_proxy()
        .https_only(secure)
        .default_headers(headers)
        .user_agent(concat!("nativeauth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(SetupError::HttpClient)?;
    Ok((http, base))
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[derive(Serialize)]
struct TokenRequest<'a> {
    client_id: &'a str,
    #[serde(serialize_with = "super::settings::expose")]
    client_secret: &'a SecretString,
    #[serde(serialize_with = "super::settings::expose")]
    code: &'a SecretString,
}

#[derive(Deserialize)]
struct CodeResponse {
    code: SecretString,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    missing_fields: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Authorize,
    Token,
}

impl ConnectClient {
    /// The v2 API in the US region (the default).
    pub const US_BASE_URL: &'static str = "https://api.nylas.com";
    /// The v2 API in the Canada region.
    pub const CANADA_BASE_URL: &'static str = "https://canada.api.nylas.com";
    /// The v2 API in the Ireland (EU) region.
    pub const IRELAND_BASE_URL: &'static str = "https://ireland.api.nylas.com";

    /// A builder for a client with this Nylas client id and secret.
    pub fn builder(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> ConnectClientBuilder {
        ConnectClientBuilder {
            base_url: ConnectClient::US_BASE_URL.to_owned(),
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            timeout: DEFAULT_TIMEOUT,
            allow_loopback_http: false,
            extra_roots: Vec::new(),
        }
    }

    /// Sends the authorize request and returns the one-time code. Never retried: the request
    /// carries the user's credentials, and repeated attempts may lock the account.
    ///
    /// # Errors
    /// [`ConnectError`] for each failure; [`ConnectError::WrongCredentials`] when the mail
    /// provider refused the password.
    pub async fn authorize(&self, request: &AuthorizeRequest) -> Result<AuthCode, ConnectError> {
        if request.client_id() != self.client_id {
            return Err(ConnectError::ClientIdMismatch {
                request: request.client_id().to_owned(),
                client: self.client_id.clone(),
            });
        }
        tracing::debug!(provider = %request.provider(), "POST /connect/authorize");
        let response = self
            .http
            .post(self.authorize_url.clone())
            .json(request)
            .send()
            .await
            .map_err(credentialed_send_error)?;
        let body = match self.success_body(response, Endpoint::Authorize).await {
            Ok(body) => body,
            Err(ConnectError::Server { status, message }) => {
                return Err(ConnectError::OutcomeUnknown {
                    reason: format!("server error: {message}"),
                    status: Some(status),
                });
            }
            Err(other) => return Err(other),
        };
        let parsed: CodeResponse = parse_json(&body, 200)?;
        tracing::debug!("authorize returned a code");
        Ok(AuthCode::new(parsed.code))
    }

    /// Trades a code for the account. The code is consumed: whatever the outcome, it cannot
    /// be used again. Refused locally when older than 15 minutes. Retried once only when the
    /// connection could not be opened (the request was never sent).
    ///
    /// # Errors
    /// [`ConnectError::CodeExpired`] without any request; [`ConnectError::InvalidCode`] when
    /// the server refuses the code; other variants as for [`authorize`](Self::authorize).
    pub async fn token(&self, code: AuthCode) -> Result<Account, ConnectError> {
        // The code must still be valid when the request arrives, however long it takes.
        if code.age() + self.timeout >= AuthCode::LIFETIME {
            return Err(ConnectError::CodeExpired { age: code.age() });
        }
        let body = TokenRequest {
            client_id: &self.client_id,
            client_secret: &self.client_secret,
            code: code.secret(),
        };
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            tracing::debug!(attempt, "POST /connect/token");
            match self.http.post(self.token_url.clone()).json(&body).send().await {
                Ok(response) => break response,
                Err(error) if error.is_connect() && attempt < 2 => {
                    tracing::debug!("connection failed before sending; retrying once");
                }
                Err(error) => return Err(transport_error(error)),
            }
        };
        let body = self.success_body(response, Endpoint::Token).await?;
        Account::from_json(&body)
            .map_err(|reason| ConnectError::UnexpectedResponse { status: 200, reason })
    }

    /// The body of a 200 response, or the error the status and body describe.
    async fn success_body(
        &self,
        response: reqwest::Response,
        endpoint: Endpoint,
    ) -> Result<Vec<u8>, ConnectError> {
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_body(response, status, endpoint == Endpoint::Authorize).await?;
        if status == StatusCode::OK {
            return Ok(body);
        }
        tracing::debug!(status = status.as_u16(), "connect call failed");
        Err(classify(status, &headers, &body, endpoint))
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], status: u16) -> Result<T, ConnectError> {
    serde_json::from_slice(body).map_err(|e| ConnectError::UnexpectedResponse {
        status,
        // serde_json's message names the line and column and what was expected, never the
        // value, so it cannot echo a secret.
        reason: format!("not the expected JSON: {}", json_problem(&e)),
    })
}

/// What is wrong with a JSON body, without quoting any of it.
fn json_problem(error: &serde_json::Error) -> String {
    match error.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("syntax error at line {} column {}", error.line(), error.column())
        }
        serde_json::error::Category::Data => "a field is missing or of the wrong type".into(),
        serde_json::error::Category::Io => "read error".into(),
    }
}

fn classify(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
    endpoint: Endpoint,
) -> ConnectError {
    let is_json =
        headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"))
            || body.trim_ascii_start().starts_with(b"{");
    let parsed: ErrorBody = if is_json {
        serde_json::from_slice(body).unwrap_or_default()
    } else {
        ErrorBody::default()
    };
    let message = clean(&parsed.message.unwrap_or_else(|| describe_body(headers, body)));
    let code = status.as_u16();
    match code {
        400 if endpoint == Endpoint::Token && parsed.missing_fields.is_empty() => {
            ConnectError::InvalidCode { status: code, message }
        }
        401 => ConnectError::Unauthorized { message },
        // On /connect/token a 403 is about the client, not the mail provider.
        403 if endpoint == Endpoint::Token => ConnectError::Unauthorized { message },
        403 => ConnectError::WrongCredentials { message },
        402 | 422 => ConnectError::ProviderFailure { status: code, message },
        429 => ConnectError::RateLimited {
            retry_after: retry_after(headers, std::time::SystemTime::now()),
            limit: header_number(headers, "X-RateLimit-Limit"),
            message,
        },
        500..=599 => ConnectError::Server { status: code, message },
        _ => ConnectError::InvalidRequest {
            status: code,
            message,
            missing_fields: parsed.missing_fields,
        },
    }
}

/// A short description of a body that carries no JSON message: its type and, for HTML, the
/// page title.
pub(crate) fn describe_body(headers: &reqwest::header::HeaderMap, body: &[u8]) -> String {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let title = lower.find("<title>").and_then(|start| {
        let rest = &text[start + 7..];
        rest.to_ascii_lowercase().find("</title>").map(|end| rest[..end].trim().to_owned())
    });
    match title {
        Some(title) if !title.is_empty() => {
            let title: String = title.chars().take(120).collect();
            format!("{content_type} page \"{title}\" ({} bytes)", body.len())
        }
        _ => format!("non-JSON body ({content_type}, {} bytes)", body.len()),
    }
}

/// A server message fit for an error: control characters dropped, at most
/// [`MESSAGE_LEN`] characters.
pub(crate) fn clean(message: &str) -> String {
    let mut cleaned: String =
        message.chars().filter(|c| !c.is_control()).take(MESSAGE_LEN + 1).collect();
    if cleaned.chars().count() > MESSAGE_LEN {
        cleaned = cleaned.chars().take(MESSAGE_LEN).collect::<String>() + "…";
    }
    cleaned
}

/// Below this, `X-RateLimit-Reset` is a number of seconds from now; above, a Unix time.
const UNIX_TIME_THRESHOLD: u64 = 1_000_000_000;

/// How long to wait after a 429: `Retry-After` (seconds or an HTTP date) first, then
/// `X-RateLimit-Reset` (seconds from now when small, a Unix time when large).
pub(crate) fn retry_after(
    headers: &reqwest::header::HeaderMap,
    now: std::time::SystemTime,
) -> Option<Duration> {
    let unix_now = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    if let Some(value) = headers.get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()) {
        if let Ok(seconds) = value.trim().parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(date) = httpdate_seconds(value.trim()) {
            return Some(Duration::from_secs(date.saturating_sub(unix_now)));
        }
    }
    let reset = header_number(headers, "X-RateLimit-Reset")?;
    Some(Duration::from_secs(if reset < UNIX_TIME_THRESHOLD {
        reset
    } else {
        reset.saturating_sub(unix_now)
    }))
}

/// The Unix time of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110
/// requires of `Retry-After` dates.
fn httpdate_seconds(text: &str) -> Result<u64, ()> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, zone] = parts[..] else { return Err(()) };
    if zone != "GMT" {
        return Err(());
    }
    let months =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = months.iter().position(|m| *m == month).ok_or(())? as u64 + 1;
    let (day, year): (u64, u64) = (day.parse().map_err(|_| ())?, year.parse().map_err(|_| ())?);
    let hms: Vec<u64> =
        time.split(':').map(|p| p.parse().map_err(|_| ())).collect::<Result<_, _>>()?;
    let [h, m, s] = hms[..] else { return Err(()) };
    // A server's date is input: out-of-range fields are refused, and 1970 and later keep the
    // arithmetic below from going negative.
    if !(1970..=9999).contains(&year) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return Err(());
    }
    // Days since the epoch (Howard Hinnant's days_from_civil).
    let (y, mo) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + h * 3600 + m * 60 + s)
}

fn header_number(headers: &reqwest::header::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// The error of a request that carries credentials and failed on the way: refused before any
/// byte was sent, the credentials went nowhere (a transport error, safe to retry); anything
/// else may have reached the API, so its outcome is unknown and it must not be repeated.
pub(crate) fn credentialed_send_error(error: reqwest::Error) -> ConnectError {
    if error.is_connect() && !error.is_timeout() {
        return transport_error(error);
    }
    ConnectError::OutcomeUnknown { reason: error.without_url().to_string(), status: None }
}

/// A response's body, capped. When it cannot be read (too large, or the connection dropped):
/// after a failure status the status alone still answers, so the body is taken as empty and
/// the caller classifies the status (a 403 stays a refusal, a 429 keeps its `Retry-After`).
/// After a success status the answer is lost: for a call that carried credentials (authorize,
/// a v3 grant) the provider may have accepted them, so the outcome is unknown.
pub(crate) async fn read_body(
    response: reqwest::Response,
    status: StatusCode,
    credentialed: bool,
) -> Result<Vec<u8>, ConnectError> {
    let error = match tls::read_body_capped(response, BODY_LIMIT).await {
        Ok(body) => return Ok(body),
        Err(error) => error,
    };
    tracing::debug!(status = status.as_u16(), %error, "response body not read");
    if !status.is_success() {
        return Ok(Vec::new());
    }
    Err(match error {
        _ if credentialed => ConnectError::OutcomeUnknown {
            reason: match error {
                BodyError::Read(cause) => cause.without_url().to_string(),
                too_large => too_large.to_string(),
            },
            status: Some(status.as_u16()),
        },
        BodyError::TooLarge { .. } => {
            ConnectError::UnexpectedResponse { status: status.as_u16(), reason: error.to_string() }
        }
        BodyError::Read(cause) => transport_error(cause),
    })
}

pub(crate) fn transport_error(error: reqwest::Error) -> ConnectError {
    ConnectError::Transport {
        before_sending: error.is_connect(),
        timeout: error.is_timeout(),
        // Without the URL: the base URL is the app's, but keep errors free of request data.
        reason: error.without_url().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use reqwest::header::{HeaderMap, HeaderValue};

    use super::{httpdate_seconds, retry_after};

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")));
        }
        map
    }

    #[test]
    fn http_dates_are_read() {
        assert_eq!(httpdate_seconds("Sun, 06 Nov 1994 08:49:37 GMT"), Ok(784_111_777));
        assert_eq!(httpdate_seconds("Thu, 01 Jan 1970 00:00:00 GMT"), Ok(0));
        assert!(httpdate_seconds("yesterday").is_err());
        for malformed in [
            "Mon, 00 Jan 2024 00:00:00 GMT",
            "Mon, 01 Jan 0 00:00:00 GMT",
            "Mon, 01 Jan 1900 00:00:00 GMT",
            "Mon, 01 Jan 2024 99:00:00 GMT",
            "Mon, 01 Jan 2024 00:00:99999999999999999 GMT",
            "Mon, 99999999999999 Jan 2024 00:00:00 GMT",
        ] {
            assert!(httpdate_seconds(malformed).is_err(), "{malformed}");
        }
    }

    #[test]
    fn reset_values_are_seconds_when_small_and_unix_time_when_large() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let wait = |pairs: &[(&'static str, String)]| retry_after(&headers(pairs), now);
        assert_eq!(wait(&[("x-ratelimit-reset", "30".into())]), Some(Duration::from_secs(30)));
        assert_eq!(
            wait(&[("x-ratelimit-reset", "1800000045".into())]),
            Some(Duration::from_secs(45))
        );
        assert_eq!(wait(&[("retry-after", "7".into())]), Some(Duration::from_secs(7)));
        let in_a_minute = "Fri, 15 Jan 2027 08:01:00 GMT";
        let at = UNIX_EPOCH + Duration::from_secs(httpdate_seconds(in_a_minute).unwrap() - 60);
        assert_eq!(
            retry_after(&headers(&[("retry-after", in_a_minute.into())]), at),
            Some(Duration::from_secs(60))
        );
        assert_eq!(wait(&[]), None);
    }
}
