//! The Nylas v3 client for custom ("Bring Your Own") authentication: `POST
//! /v3/connect/custom` with `Authorization: Bearer <API key>` creates a grant from the same
//! detection and credentials as the v2 flow.
//!
//! Facts used, from Nylas's v3 reference: the request `{"provider", "settings"}` and the
//! response `{"request_id", "data": <grant>}` ("Bring Your Own Authentication",
//! developer.nylas.com/docs/v3/auth/bring-your-own-authentication and
//! /docs/reference/api/manage-grants/byo_auth); the grant's `id`, `provider`,
//! `grant_status`, `email`, `scope` (absent for IMAP and iCloud), `created_at` and
//! `updated_at` (Unix seconds); errors `{"request_id", "error": {"type", "message",
//! "provider_error"}}` with types such as `api.invalid_request_error` (400),
//! `api.authentication_error` (401) and `api.rate_limit_error` (429) ("Errors",
//! /docs/api/errors); the regional bases `api.us.nylas.com` and `api.eu.nylas.com` ("Data
//! residency").

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::client::{
    ConnectError, api_client, clean, credentialed_send_error, describe_body, read_body, retry_after,
};
use super::payload::CustomAuthRequest;

/// A grant: the v3 replacement of the v2 account and access token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Grant {
    /// The grant id, used in every later request for this mailbox.
    pub id: String,
    /// The provider (`imap`, `google`, `microsoft`, …).
    pub provider: String,
    /// `valid` or `invalid`.
    #[serde(default)]
    pub grant_status: Option<String>,
    /// The mailbox address.
    #[serde(default)]
    pub email: Option<String>,
    /// The scopes granted (none for IMAP and iCloud).
    #[serde(default)]
    pub scope: Vec<String>,
    /// When the grant was created (Unix seconds).
    #[serde(default)]
    pub created_at: Option<i64>,
    /// When it last changed (Unix seconds).
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// The service's id for the request that created this grant (quote it to support). It
    /// comes from the response's envelope, not from the grant object.
    #[serde(skip)]
    pub request_id: Option<String>,
}

/// Talks to a Nylas-v3-compatible API. Build one per app and share it.
#[derive(Debug, Clone)]
pub struct CustomAuthClient {
    http: reqwest::Client,
    url: reqwest::Url,
    api_key: SecretString,
}

/// Builds a [`CustomAuthClient`].
#[derive(Debug)]
#[must_use]
pub struct CustomAuthClientBuilder {
    base_url: String,
    api_key: SecretString,
    timeout: Duration,
    allow_loopback_http: bool,
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl CustomAuthClientBuilder {
    /// The API base URL. Default: [`CustomAuthClient::US_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Timeout of one request. Default: 30 seconds.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Allow a plain-http base URL when its host is a loopback address (the local sandbox,
    /// tests). Default: `false`.
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
    /// As for [`ConnectClientBuilder::build`](super::ConnectClientBuilder::build).
    pub fn build(self) -> Result<CustomAuthClient, ConnectError> {
        let (http, base) = api_client(
            &self.base_url,
            self.allow_loopback_http,
            self.timeout,
            self.extra_roots,
            HeaderMap::new(),
        )?;
        let url = base
            .join("v3/connect/custom")
            .map_err(|_| ConnectError::InvalidBaseUrl { url: self.base_url.clone() })?;
        Ok(CustomAuthClient { http, url, api_key: self.api_key })
    }
}

#[derive(Deserialize)]
struct Success {
    #[serde(default)]
    request_id: Option<String>,
    data: Grant,
}

#[derive(Deserialize, Default)]
struct ErrorEnvelope {
    #[serde(default)]
    request_id: Option<String>,
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    provider_error: Option<serde_json::Value>,
}

impl CustomAuthClient {
    /// The v3 API in the US region (the default).
    pub const US_BASE_URL: &'static str = "https://api.us.nylas.com";
    /// The v3 API in the EU region.
    pub const EU_BASE_URL: &'static str = "https://api.eu.nylas.com";

    /// A builder for a client with this API key.
    pub fn builder(api_key: impl Into<String>) -> CustomAuthClientBuilder {
        CustomAuthClientBuilder {
            base_url: CustomAuthClient::US_BASE_URL.to_owned(),
            api_key: SecretString::from(api_key.into()),
            timeout: super::client::DEFAULT_TIMEOUT,
            allow_loopback_http: false,
            extra_roots: Vec::new(),
        }
    }

    /// Creates (or re-authenticates) the grant. Never retried: the request carries the user's
    /// credentials.
    ///
    /// # Errors
    /// [`ConnectError::WrongCredentials`] when the provider refused the credentials,
    /// [`ConnectError::Unauthorized`] for a refused API key, [`ConnectError::RateLimited`],
    /// [`ConnectError::OutcomeUnknown`] for a timeout or a 5xx, and the rest as for v2.
    pub async fn create_grant(&self, request: &CustomAuthRequest) -> Result<Grant, ConnectError> {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", self.api_key.expose_secret()))
            .map_err(|_| ConnectError::InvalidRequest {
                status: 0,
                message: "the API key is not a valid header value".into(),
                missing_fields: Vec::new(),
            })?;
        bearer.set_sensitive(true);
        tracing::debug!(provider = ?request.provider(), "POST /v3/connect/custom");
        let sent = self
            .http
            .post(self.url.clone())
            .header(AUTHORIZATION, bearer)
            .json(request)
            .send()
            .await;
        let response = sent.map_err(credentialed_send_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = read_body(response, status, true).await?;
        if status.is_success() {
            let parsed: Success =
                serde_json::from_slice(&body).map_err(|e| ConnectError::UnexpectedResponse {
                    status: status.as_u16(),
                    reason: format!("not a grant (line {} column {})", e.line(), e.column()),
                })?;
            return Ok(Grant { request_id: parsed.request_id, ..parsed.data });
        }
        Err(classify(status, &headers, &body))
    }
}

fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> ConnectError {
    let envelope: ErrorEnvelope = serde_json::from_slice(body).unwrap_or_default();
    let error = envelope.error.unwrap_or_default();
    let kind = error.kind.unwrap_or_default();
    let mut message = error.message.unwrap_or_else(|| describe_body(headers, body));
    if !kind.is_empty() {
        message = format!("{kind}: {message}");
    }
    if let Some(provider) = &error.provider_error {
        message = format!("{message} (provider: {provider})");
    }
    if let Some(request_id) = &envelope.request_id {
        message = format!("{message} [request {request_id}]");
    }
    let message = clean(&message);
    let code = status.as_u16();
    match code {
        // A provider error on 401/403 is the mail provider refusing the credentials.
        401 | 403 if error.provider_error.is_some() => ConnectError::WrongCredentials { message },
        401 | 403 => ConnectError::Unauthorized { message },
        429 => ConnectError::RateLimited {
            retry_after: retry_after(headers, std::time::SystemTime::now()),
            limit: None,
            message,
        },
        500..=599 => ConnectError::OutcomeUnknown { reason: message, status: Some(code) },
        _ => ConnectError::InvalidRequest { status: code, message, missing_fields: Vec::new() },
    }
}
