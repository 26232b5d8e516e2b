//! The public settings (the TOML file's keys), with their defaults.

use std::path::Path;

use serde::Deserialize;

/// How the page looks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Brand {
    /// The app's name, shown in the title and the heading.
    pub name: String,
    /// A logo URL (https, or a path on this server).
    pub logo_url: Option<String>,
    /// The main colour (CSS hex such as `#0b5fff`).
    pub primary_color: String,
    /// Where users get help.
    pub support_url: Option<String>,
}

impl Default for Brand {
    fn default() -> Self {
        Self {
            name: "Your app".into(),
            logo_url: None,
            primary_color: "#0b5fff".into(),
            support_url: None,
        }
    }
}

/// Which connect API the server calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// Nylas v2: authorize → token.
    V2,
    /// Nylas v3: a grant.
    V3,
}

/// Everything about the server that is not a secret: the TOML file's keys are these fields'
/// names, and [`ServerConfigBuilder`](crate::ServerConfigBuilder) sets them from code. `Default` gives each field the default
/// its doc names; no default belongs to the sandbox (`client_id` is empty until set). `Debug`
/// hides the password a `redis_url` may hold.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The page's look.
    pub brand: Brand,
    /// v2 (default) or v3.
    pub api: Api,
    /// The API base URL (default: the provider's US region).
    pub api_url: Option<String>,
    /// The v2 client id (required with v2; empty by default).
    pub client_id: String,
    /// Comma-separated v2 scopes (default `email.read_only,email.send`).
    pub scopes: String,
    /// Where the account (v2) or grant (v3) is posted, signed; none: not posted.
    pub callback_url: Option<String>,
    /// Where the browser goes after a successful sign-in, with `state` and the one-time `code`
    /// appended; the app exchanges the code at `POST /api/exchange`. Required (outside the
    /// sandbox): without it the result could not reach the app.
    pub success_url: Option<String>,
    /// Refuse start links the app did not sign (`exp` and `sig`, keyed with the app secret).
    pub require_signed_start: bool,
    /// Where "Sign in with Google" sends the user when this server does not run the flow
    /// itself (no `oauth_google`).
    pub google_sign_in_url: Option<String>,
    /// The same for Microsoft.
    pub microsoft_sign_in_url: Option<String>,
    /// Check the password against the mail servers before calling the API (default off).
    pub preflight: bool,
    /// Which servers a user may type (or edit) when discovery has no verified answer:
    /// `"same-domain"` (default), `"any"` (risky: anyone can point any address at their own
    /// servers) or `"none"`.
    pub typed_servers: crate::typed_servers::TypedServers,
    /// Origins (besides this server's own) whose pages may call the JSON API.
    pub allowed_origins: Vec<String>,
    /// The page is served over https (cookies get `Secure` and the `__Host-` prefix, responses
    /// HSTS). Requires `public_url`.
    pub https: bool,
    /// This server's public origin (`https://login.example.com`). Set it in production: the
    /// origin of browser requests is judged against it (not against the request's `Host`,
    /// which a DNS-rebinding page controls), and requests for another host are refused, but
    /// `/healthz`, `/metrics` and `/api/exchange`.
    pub public_url: Option<String>,
    /// Sign-in attempts allowed per client address and per email address, per minute
    /// (default 10).
    pub login_attempts_per_minute: u32,
    /// Detections that need the network, allowed per client address, per minute (default 120).
    pub detections_per_minute: u32,
    /// Allow plain http to loopback APIs (the sandbox, tests).
    pub allow_loopback_http: bool,
    /// The header a trusted reverse proxy puts the client's address in (`X-Forwarded-For`,
    /// `X-Real-IP`, or RFC 7239 `Forwarded`). Honoured only from a peer in `trusted_proxies`,
    /// which it requires. Unset: the TCP peer's address, which behind a proxy is the proxy's,
    /// so all clients would share one rate limit.
    pub client_ip_header: Option<String>,
    /// The reverse proxies whose `client_ip_header` is believed (`["10.0.0.0/8",
    /// "127.0.0.1"]`: CIDR ranges or single addresses). The client is the rightmost address in
    /// the header that is not one of them.
    pub trusted_proxies: Vec<String>,
    /// Detections that may use the network at once; past it, detections and sign-ins that
    /// need the network are answered 503 with `Retry-After` at once instead of queueing.
    /// Unset: the discovery configuration's own bound (by default 512).
    pub max_network_detections: Option<usize>,
    /// The detection cache's size bound, in MiB of answers. Unset: the discovery
    /// configuration's own (by default 64 MiB).
    pub cache_mib: Option<u64>,
    /// Seconds a client may take to send a request's headers (default 10).
    pub header_timeout_secs: u64,
    /// Seconds a whole request may take, body included (default 30): past it, 408.
    pub request_timeout_secs: u64,
    /// Seconds a connection may stay silent before it is closed (default 60; at least the
    /// request timeout).
    pub idle_timeout_secs: u64,
    /// Connections served at once (default 10,000); past it, new ones wait.
    pub max_connections: usize,
    /// Serve `/metrics` on this address only (such as `127.0.0.1:9090`), not on the page's.
    /// Otherwise, with `NATIVEAUTH_METRICS_TOKEN` set, `/metrics` needs that bearer token.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// A Redis (or Valkey) shared by a fleet of servers (`redis://host:6379/0`): detections
    /// found by one server are answered by the others, one server at a time asks about a
    /// domain, and rate limits count across the fleet. Every server of the fleet needs the same
    /// `NATIVEAUTH_COOKIE_KEY`. `NATIVEAUTH_REDIS_URL` in the environment wins (for a URL with
    /// a password). While Redis cannot answer, each server goes on alone.
    pub redis_url: Option<String>,
    /// "Sign in with Google": the OAuth client (`[oauth_google]`); its secret comes from
    /// `GOOGLE_CLIENT_SECRET`. Unset: the button goes to `google_sign_in_url`.
    pub oauth_google: Option<OAuthConfig>,
    /// "Sign in with Microsoft" (`[oauth_microsoft]`); secret from `MICROSOFT_CLIENT_SECRET`.
    pub oauth_microsoft: Option<OAuthConfig>,
}

/// An OAuth client registered with Google or Microsoft.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// The client id the provider issued.
    pub client_id: String,
    /// This server's `/oauth/callback`, exactly as registered with the provider (fixed here,
    /// never taken from a request).
    pub redirect_uri: String,
    /// Microsoft's tenant: `common` (default), `organizations`, `consumers` or a tenant id.
    pub tenant: Option<String>,
    /// The authorization endpoint. Default: the provider's documented one.
    pub authorize_url: Option<String>,
    /// The token endpoint. Default: the provider's documented one.
    pub token_url: Option<String>,
    /// The ID token's issuer (`iss`). Default: Google's `https://accounts.google.com`;
    /// Microsoft's `https://login.microsoftonline.com/{tenantid}/v2.0`, where `{tenantid}`
    /// stands for the token's `tid`.
    pub issuer: Option<String>,
    /// Microsoft Graph's base URL, asked for the user principal name when the ID token does
    /// not vouch for an address. Default: `https://graph.microsoft.com`.
    pub graph_url: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("brand", &self.brand)
            .field("api", &self.api)
            .field("api_url", &self.api_url)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("callback_url", &self.callback_url)
            .field("success_url", &self.success_url)
            .field("require_signed_start", &self.require_signed_start)
            .field("google_sign_in_url", &self.google_sign_in_url)
            .field("microsoft_sign_in_url", &self.microsoft_sign_in_url)
            .field("preflight", &self.preflight)
            .field("typed_servers", &self.typed_servers)
            .field("allowed_origins", &self.allowed_origins)
            .field("https", &self.https)
            .field("public_url", &self.public_url)
            .field("login_attempts_per_minute", &self.login_attempts_per_minute)
            .field("detections_per_minute", &self.detections_per_minute)
            .field("allow_loopback_http", &self.allow_loopback_http)
            .field("client_ip_header", &self.client_ip_header)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("max_network_detections", &self.max_network_detections)
            .field("cache_mib", &self.cache_mib)
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("metrics_listen", &self.metrics_listen)
            .field("redis_url", &self.redis_url.as_deref().map(redact_password))
            .field("oauth_google", &self.oauth_google)
            .field("oauth_microsoft", &self.oauth_microsoft)
            .finish()
    }
}

/// `url` without the password of its user information (`redis://:secret@host` shows as
/// `redis://:[REDACTED]@host`); a URL that does not parse shows as `[REDACTED]`.
fn redact_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("[REDACTED]"));
            }
            parsed.to_string()
        }
        Err(_) => "[REDACTED]".to_owned(),
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            brand: Brand::default(),
            api: Api::V2,
            api_url: None,
            client_id: String::new(),
            scopes: "email.read_only,email.send".into(),
            callback_url: None,
            success_url: None,
            require_signed_start: false,
            google_sign_in_url: None,
            microsoft_sign_in_url: None,
            preflight: false,
            typed_servers: crate::typed_servers::TypedServers::default(),
            allowed_origins: Vec::new(),
            https: false,
            public_url: None,
            login_attempts_per_minute: 10,
            detections_per_minute: 120,
            allow_loopback_http: false,
            client_ip_header: None,
            trusted_proxies: Vec::new(),
            max_network_detections: None,
            cache_mib: None,
            header_timeout_secs: 10,
            request_timeout_secs: 30,
            idle_timeout_secs: 60,
            max_connections: 10_000,
            metrics_listen: None,
            redis_url: None,
            oauth_google: None,
            oauth_microsoft: None,
        }
    }
}

/// Why the configuration file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path} is not a valid configuration")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: toml::de::Error,
    },
}

impl Settings {
    /// Reads a TOML file whose keys are this struct's field names; a key left out keeps its
    /// default, an unknown key is an error.
    ///
    /// # Errors
    /// [`ConfigError`] when it cannot be read or parsed.
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        toml::from_str(&text)
            .map_err(|source| ConfigError::Parse { path: path.display().to_string(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password_of_the_redis_url() {
        let settings = Settings {
            redis_url: Some("redis://:hunter2-secret@redis.internal:6379/0".into()),
            ..Settings::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(shown.contains("redis.internal:6379"), "{shown}");
        let broken =
            Settings { redis_url: Some("not a url hunter2".into()), ..Settings::default() };
        assert!(!format!("{broken:?}").contains("hunter2"));
    }
}
