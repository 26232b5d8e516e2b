//! The server's configuration: one TOML file for everything public, environment variables for
//! every secret (`NYLAS_CLIENT_SECRET`, `NYLAS_API_KEY`, `NATIVEAUTH_CALLBACK_SECRET`,
//! `NATIVEAUTH_APP_SECRET`, and the root key `NATIVEAUTH_KEY` or `NATIVEAUTH_COOKIE_KEY`).

use std::path::Path;

use nativeauth::secrecy::SecretString;
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

/// The public part of the configuration (the TOML file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    /// The page's look.
    pub brand: Brand,
    /// v2 or v3.
    pub api: Api,
    /// The API base URL (default: the provider's US region).
    pub api_url: Option<String>,
    /// The v2 client id.
    pub client_id: String,
    /// Comma-separated v2 scopes.
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
    /// Check the password against the mail servers before calling the API.
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
    /// Sign-in attempts allowed per client address and per email address, per minute.
    pub login_attempts_per_minute: u32,
    /// Detections that need the network, allowed per client address, per minute.
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
    pub max_network_detections: usize,
    /// The detection cache's size bound, in MiB of answers.
    pub cache_mib: u64,
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

impl Default for FileConfig {
    fn default() -> Self {
        Self {
            brand: Brand::default(),
            api: Api::V2,
            api_url: None,
            client_id: "sandbox-client".into(),
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
            max_network_detections: nativeauth::DEFAULT_MAX_NETWORK_DISCOVERIES,
            cache_mib: nativeauth::DEFAULT_CACHE_CAPACITY / (1024 * 1024),
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

/// Why the configuration could not be read.
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

impl FileConfig {
    /// Reads the TOML file.
    ///
    /// # Errors
    /// [`ConfigError`] when it cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        toml::from_str(&text)
            .map_err(|source| ConfigError::Parse { path: path.display().to_string(), source })
    }
}

/// The secrets, from the environment only. `Debug` shows none of them. `Default`: every one
/// empty (each is refused where it is needed).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// The v2 client secret (`NYLAS_CLIENT_SECRET`).
    pub client_secret: SecretString,
    /// The v3 API key (`NYLAS_API_KEY`).
    pub api_key: SecretString,
    /// The key the callback is signed with (`NATIVEAUTH_CALLBACK_SECRET`).
    pub callback_secret: SecretString,
    /// The root key every other key is derived from (`NATIVEAUTH_KEY`, or the older name
    /// `NATIVEAUTH_COOKIE_KEY`; at least 32 bytes). Unset: random per process, so cookies and
    /// codes do not survive a restart; a fleet (`redis_url`) refuses to start without it.
    pub root_key: Option<SecretString>,
    /// The app's secret (`NATIVEAUTH_APP_SECRET`): the bearer token of `POST /api/exchange`,
    /// and the key of signed start links.
    pub app_secret: SecretString,
    /// Google's OAuth client secret (`GOOGLE_CLIENT_SECRET`).
    pub google_client_secret: SecretString,
    /// Microsoft's OAuth client secret (`MICROSOFT_CLIENT_SECRET`).
    pub microsoft_client_secret: SecretString,
    /// The bearer token `/metrics` asks for (`NATIVEAUTH_METRICS_TOKEN`); empty: none.
    pub metrics_token: SecretString,
}

impl Secrets {
    /// Reads the variables; the missing ones are empty (and refused where needed).
    pub fn from_env() -> Self {
        let var = |name: &str| SecretString::from(std::env::var(name).unwrap_or_default());
        let nonempty = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            root_key: nonempty(nativeauth::keys::ROOT_KEY_VAR)
                .or_else(|| nonempty(nativeauth::keys::LEGACY_ROOT_KEY_VAR))
                .map(SecretString::from),
            app_secret: var("NATIVEAUTH_APP_SECRET"),
            client_secret: var("NYLAS_CLIENT_SECRET"),
            api_key: var("NYLAS_API_KEY"),
            callback_secret: var("NATIVEAUTH_CALLBACK_SECRET"),
            google_client_secret: var("GOOGLE_CLIENT_SECRET"),
            microsoft_client_secret: var("MICROSOFT_CLIENT_SECRET"),
            metrics_token: var("NATIVEAUTH_METRICS_TOKEN"),
        }
    }
}

/// Everything the server needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The public configuration.
    pub file: FileConfig,
    /// The secrets.
    pub secrets: Secrets,
    /// The discovery configuration (resolver, trusted roots, address policy).
    pub discovery: nativeauth::DiscoveryConfig,
    /// Development against the local sandbox: `success_url` may be left out.
    pub sandbox: bool,
}
