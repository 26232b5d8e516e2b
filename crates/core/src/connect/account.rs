//! The one-time code and the account it is traded for.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use secrecy::SecretString;
use serde::Deserialize;

/// The one-time code returned by `/connect/authorize`: secret, valid for 15 minutes, single
/// use. [`ConnectClient::token`](super::ConnectClient::token) takes it by value, so the type
/// system stops a second use.
pub struct AuthCode {
    code: SecretString,
    /// When this value was created (monotonic clock).
    created: Instant,
    /// How old the code already was when this value was created.
    age_at_creation: Duration,
    issued_at: SystemTime,
}

impl AuthCode {
    /// How long a code from `/connect/authorize` stays valid: 15 minutes.
    pub const LIFETIME: Duration = Duration::from_secs(15 * 60);

    /// A code received now.
    pub fn new(code: SecretString) -> Self {
        Self::received_ago(code, Duration::ZERO)
    }

    /// A code received `age` ago (for codes handed between parts of an app).
    pub fn received_ago(code: SecretString, age: Duration) -> Self {
        let issued_at = SystemTime::now().checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
        Self { code, created: Instant::now(), age_at_creation: age, issued_at }
    }

    /// When the code was received (wall clock).
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When it stops being valid (wall clock).
    pub fn expires_at(&self) -> SystemTime {
        self.issued_at + Self::LIFETIME
    }

    /// How long ago it was received.
    pub fn age(&self) -> Duration {
        self.age_at_creation + self.created.elapsed()
    }

    /// Whether the 15 minutes are over.
    pub fn is_expired(&self) -> bool {
        self.age() >= Self::LIFETIME
    }

    pub(crate) fn secret(&self) -> &SecretString {
        &self.code
    }
}

impl fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthCode")
            .field("code", &"[REDACTED]")
            .field("issued_at", &self.issued_at)
            .field("expired", &self.is_expired())
            .finish()
    }
}

/// The account record returned by `/connect/token`. Parsed leniently: once the code is spent,
/// an odd optional field must not cost the access token.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// The access token for the account (secret).
    pub access_token: SecretString,
    /// The account id.
    pub account_id: String,
    /// The account's email address.
    pub email_address: String,
    /// The service's internal provider name, kept as opaque text (`exchange` may come back as
    /// `eas`).
    pub provider: String,
    /// The record id.
    #[serde(default)]
    pub id: Option<String>,
    /// The user's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Billing state.
    #[serde(default)]
    pub billing_state: Option<String>,
    /// When the account was linked (Unix seconds).
    #[serde(default)]
    pub linked_at: Option<i64>,
    /// The object type (`account`).
    #[serde(default)]
    pub object: Option<String>,
    /// `folder` or `label`.
    #[serde(default)]
    pub organization_unit: Option<String>,
    /// Sync state.
    #[serde(default)]
    pub sync_state: Option<String>,
}

impl Account {
    /// Reads the account from a `/connect/token` body: the access token is required; every
    /// other field is taken when it has the expected type and left empty otherwise.
    pub(crate) fn from_json(body: &[u8]) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|e| format!("not JSON (line {} column {})", e.line(), e.column()))?;
        let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let access_token = text("access_token")
            .filter(|token| !token.is_empty())
            .ok_or_else(|| "no access_token in the account".to_owned())?;
        Ok(Self {
            access_token: SecretString::from(access_token),
            account_id: text("account_id").unwrap_or_default(),
            email_address: text("email_address").unwrap_or_default(),
            provider: text("provider").unwrap_or_default(),
            id: text("id"),
            name: text("name"),
            billing_state: text("billing_state"),
            linked_at: value.get("linked_at").and_then(serde_json::Value::as_i64),
            object: text("object"),
            organization_unit: text("organization_unit"),
            sync_state: text("sync_state"),
        })
    }
}
