//! What every handler shares ([`App`]), built once from the configuration: the checks that
//! refuse a configuration that cannot work, the keys, the connect API client, the fleet's
//! shared store, and the HTTP client of the callback.

use std::time::Duration;

use nativeauth::Discovery;
use nativeauth::connect::{ConnectClient, ConnectError, CustomAuthClient};
use nativeauth::keys::{KeyPurpose, RootKey};

use crate::ServerSetupError;
use crate::config::{Api, ServerConfig};
use crate::urls::{is_same_origin_path, usable_url};

/// The shortest app secret accepted outside the sandbox, in bytes.
const MIN_APP_SECRET_LEN: usize = 32;

/// The bound of one call to the fleet's Redis.
#[cfg(feature = "redis")]
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// The connect API client the server was configured with.
pub(crate) enum ApiClient {
    V2(ConnectClient),
    V3(CustomAuthClient),
}

/// What the handlers share.
pub(crate) struct App {
    pub(crate) config: ServerConfig,
    pub(crate) discovery: Discovery,
    pub(crate) api: ApiClient,
    /// The key of the page's cookies.
    pub(crate) cookie_key: Vec<u8>,
    /// The key naming rate-limit counters (so that no counter holds an address).
    pub(crate) ratelimit_key: Vec<u8>,
    /// Results waiting for the app's code exchange.
    pub(crate) codes: crate::codes::Codes,
    pub(crate) limits: crate::limits::Limits,
    pub(crate) metrics: crate::metrics::Metrics,
    pub(crate) callbacks: reqwest::Client,
    /// "Sign in with Google / Microsoft", when configured.
    pub(crate) oauth: crate::oauth::OAuth,
    /// The proxies whose client-address header is believed.
    pub(crate) trusted_proxies: Vec<nativeauth::IpRange>,
    /// `public_url`'s origin (`https://login.example.com`), when set.
    pub(crate) public_origin: Option<String>,
    /// The `Content-Security-Policy` of every response.
    pub(crate) content_security_policy: Option<axum::http::HeaderValue>,
    /// `/static/brand.css`: the configured colour, rendered once.
    pub(crate) brand_css: axum::body::Bytes,
    /// The embedding app's hook: the exchange's value.
    pub(crate) hook: Option<crate::Hook>,
}

impl App {
    /// Checks the configuration and builds what the handlers share.
    pub(crate) fn new(
        config: ServerConfig,
        hook: Option<crate::Hook>,
    ) -> Result<Self, ServerSetupError> {
        let file = &config.settings;
        let allow_http = file.allow_loopback_http;
        let mut form_targets = vec!["'self'".to_owned()];
        for (field, url) in
            [("callback_url", &file.callback_url), ("success_url", &file.success_url)]
        {
            let Some(url) = url else { continue };
            // A success URL may be a path of the page's own origin (`/done`): 'self' covers it.
            if field == "success_url" && is_same_origin_path(url) {
                continue;
            }
            let origin = usable_url(url, allow_http)
                .ok_or_else(|| ServerSetupError::Url { field, url: url.clone() })?;
            if field == "success_url" {
                // A form post ending in a redirect to the app is checked against form-action.
                form_targets.push(origin);
            }
        }
        let public_origin =
            match &file.public_url {
                Some(url) => Some(usable_url(url, allow_http).ok_or_else(|| {
                    ServerSetupError::Url { field: "public_url", url: url.clone() }
                })?),
                None if file.https => return Err(ServerSetupError::MissingPublicUrl),
                None => None,
            };
        let trusted_proxies = file
            .trusted_proxies
            .iter()
            .map(|range| {
                range
                    .parse::<nativeauth::IpRange>()
                    .map_err(|_| ServerSetupError::TrustedProxy(range.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if file.client_ip_header.is_some() && trusted_proxies.is_empty() {
            return Err(ServerSetupError::UntrustedClientIpHeader);
        }
        let secrets = &config.secrets;
        if file.callback_url.is_some() && secrets.callback_secret.is_empty() {
            return Err(ServerSetupError::MissingSecret(
                secrets.callback_secret.why_empty("NATIVEAUTH_CALLBACK_SECRET", "callback_secret"),
            ));
        }
        if file.success_url.is_none() && !config.sandbox {
            return Err(ServerSetupError::MissingSuccessUrl);
        }
        if secrets.app_secret.is_empty() {
            return Err(ServerSetupError::MissingSecret(
                secrets.app_secret.why_empty("NATIVEAUTH_APP_SECRET", "app_secret"),
            ));
        }
        // It is the bearer of every result and the key of start links, which every user holds
        // (a known message and its tag): it must not fall to a dictionary.
        if secrets.app_secret.expose_secret().len() < MIN_APP_SECRET_LEN && !config.sandbox {
            return Err(ServerSetupError::WeakAppSecret);
        }
        match file.api {
            Api::V2 if file.client_id.is_empty() => {
                return Err(ServerSetupError::MissingSetting("client_id (the v2 client id)"));
            }
            Api::V2 if secrets.client_secret.is_empty() => {
                return Err(ServerSetupError::MissingSecret(
                    secrets.client_secret.why_empty("NYLAS_CLIENT_SECRET", "client_secret"),
                ));
            }
            Api::V3 if secrets.api_key.is_empty() => {
                return Err(ServerSetupError::MissingSecret(
                    secrets.api_key.why_empty("NYLAS_API_KEY", "api_key"),
                ));
            }
            _ => {}
        }
        let root = match &secrets.root_key {
            Some(key) if !key.is_empty() => RootKey::new(key.expose_secret().as_bytes())?,
            // A fleet's servers must agree on every key; a random one would split them. (Built
            // without Redis there is no fleet: `fleet` below refuses `redis_url` instead.)
            _ if file.redis_url.is_some() && cfg!(feature = "redis") => {
                return Err(ServerSetupError::RootKeyRequired);
            }
            _ => RootKey::random(),
        };
        let derive = |purpose| root.derive(purpose).bytes().to_vec();
        let cookie_key = derive(KeyPurpose::Cookie);
        // Built once: the origins in it are serialised URLs, so it is always a valid header.
        let content_security_policy = axum::http::HeaderValue::from_str(&format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; \
             connect-src 'self'; form-action {}; frame-ancestors 'none'; base-uri 'none'",
            form_targets.join(" ")
        ))
        .ok();
        let callbacks = reqwest::Client::builder()
            .tls_backend_preconfigured(
                nativeauth::tls_config(std::iter::empty()).map_err(ServerSetupError::Tls)?,
            )
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .https_only(!allow_http)
            .user_agent(concat!("nativeauth-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ServerSetupError::Callback)?;
        // A fleet's shared store: the second cache layer behind discovery's own, and the
        // rate limits. Bounded calls: a Redis that does not answer costs 250 ms at most.
        let (discovery_config, limits, codes) = match &config.settings.redis_url {
            Some(url) => fleet(url, &config.discovery, &root)?,
            None => (
                config.discovery.clone(),
                crate::limits::Limits::default(),
                crate::codes::Codes::local(),
            ),
        };
        let oauth = crate::oauth::OAuth::new(
            &config.settings,
            &config.secrets,
            root.derive(KeyPurpose::OAuth).bytes(),
        )?;
        Ok(Self {
            oauth,
            discovery: Discovery::new(discovery_config)?,
            api: api_client(&config)?,
            cookie_key,
            ratelimit_key: derive(KeyPurpose::RateLimit),
            codes,
            limits,
            metrics: crate::metrics::Metrics::default(),
            callbacks,
            brand_css: crate::colour::brand_css(&config.settings.brand.primary_color).into(),
            content_security_policy,
            public_origin,
            trusted_proxies,
            hook,
            config,
        })
    }
}

/// A fleet's shared store on Redis: the second cache layer behind discovery's own, the rate
/// limits and the one-time codes. Bounded calls: a Redis that does not answer costs 250 ms at
/// most.
#[cfg(feature = "redis")]
fn fleet(
    url: &str,
    discovery: &nativeauth::DiscoveryConfig,
    root: &RootKey,
) -> Result<
    (nativeauth::DiscoveryConfig, crate::limits::Limits, crate::codes::Codes),
    ServerSetupError,
> {
    let store = nativeauth::redis::RedisStore::connect(url, "nativeauth", REDIS_TIMEOUT)?;
    let mut builder = discovery.to_builder().shared_cache(
        std::sync::Arc::new(store.clone()),
        root.derive(KeyPurpose::Fleet).bytes(),
        REDIS_TIMEOUT,
    );
    let changes = discovery.trust_changes();
    if !changes.is_empty() {
        // Its answers rest on settings the rest of the fleet may not share.
        tracing::warn!(
            settings = %changes.join(", "),
            "the discovery settings change what may be trusted: reading the fleet's answers \
             without publishing this server's"
        );
        builder = builder.shared_cache_read_only();
    }
    let codes = crate::codes::Codes::shared(crate::codes::SharedCodes::new(
        store.clone(),
        root.derive(KeyPurpose::Result).bytes(),
    ));
    Ok((builder.build(), crate::limits::Limits::shared(store), codes))
}

/// Built without the `redis` feature, a server cannot join a fleet.
#[cfg(not(feature = "redis"))]
fn fleet(
    _: &str,
    _: &nativeauth::DiscoveryConfig,
    _: &RootKey,
) -> Result<
    (nativeauth::DiscoveryConfig, crate::limits::Limits, crate::codes::Codes),
    ServerSetupError,
> {
    Err(ServerSetupError::NoRedis)
}

/// Builds the API client the configuration asks for.
fn api_client(config: &ServerConfig) -> Result<ApiClient, ConnectError> {
    let file = &config.settings;
    Ok(match file.api {
        Api::V2 => {
            let mut builder = ConnectClient::builder(
                &file.client_id,
                config.secrets.client_secret.expose_secret(),
            )
            .allow_loopback_http(file.allow_loopback_http);
            if let Some(url) = &file.api_url {
                builder = builder.base_url(url);
            }
            ApiClient::V2(builder.build()?)
        }
        Api::V3 => {
            let mut builder = CustomAuthClient::builder(config.secrets.api_key.expose_secret())
                .allow_loopback_http(file.allow_loopback_http);
            if let Some(url) = &file.api_url {
                builder = builder.base_url(url);
            }
            ApiClient::V3(builder.build()?)
        }
    })
}
