//! [`ServerConfig`] and its builder.

use std::path::Path;

use nativeauth::DiscoveryConfig;

use super::{Api, Brand, ConfigError, Secrets, Settings};

/// Everything the server needs, from [`ServerConfig::builder`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub(crate) settings: Settings,
    pub(crate) secrets: Secrets,
    pub(crate) discovery: DiscoveryConfig,
    /// Development against the local sandbox: `success_url` may be left out.
    pub(crate) sandbox: bool,
}

impl ServerConfig {
    /// A builder with every setting at its documented default ([`Settings`]), no secrets and
    /// discovery's default configuration.
    ///
    /// ```no_run
    /// # fn build() -> Result<(), Box<dyn std::error::Error>> {
    /// use nativeauth_server::{Secrets, ServerConfig};
    ///
    /// let config = ServerConfig::builder()
    ///     .settings_from_toml_file("login.toml".as_ref())? // optional: a file's settings first
    ///     .success_url("https://app.example.com/mail/connected")
    ///     .public_url("https://login.example.com")
    ///     .secrets(Secrets::from_env())
    ///     .build();
    /// let router = nativeauth_server::router(config)?;
    /// # let _ = router;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder {
            settings: Settings::default(),
            secrets: Secrets::default(),
            discovery: None,
        }
    }

    /// The public settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The discovery configuration, with the settings' `cache_mib` and
    /// `max_network_detections` applied.
    pub fn discovery(&self) -> &DiscoveryConfig {
        &self.discovery
    }

    /// Whether the configuration signs in against the in-process sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.sandbox
    }
}

/// Builds a [`ServerConfig`]. The TOML file maps onto it: [`settings_from_toml_file`] sets
/// every setting the file names (the others keep their defaults), and the setters after it
/// override single ones. Settings without a setter of their own are set with [`edit`].
///
/// [`settings_from_toml_file`]: ServerConfigBuilder::settings_from_toml_file
/// [`edit`]: ServerConfigBuilder::edit
#[derive(Debug, Clone)]
#[must_use]
pub struct ServerConfigBuilder {
    settings: Settings,
    secrets: Secrets,
    discovery: Option<DiscoveryConfig>,
}

impl ServerConfigBuilder {
    /// Replaces every setting.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Replaces every setting with the TOML file's (keys as [`Settings`]' field names; a key
    /// left out keeps its default). Call it before the setters it should not undo.
    ///
    /// # Errors
    /// [`ConfigError`] when the file cannot be read or parsed.
    pub fn settings_from_toml_file(mut self, path: &Path) -> Result<Self, ConfigError> {
        self.settings = Settings::from_toml_file(path)?;
        Ok(self)
    }

    /// Changes any setting: `.edit(|s| s.preflight = true)`.
    pub fn edit(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self
    }

    /// The secrets.
    pub fn secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = secrets;
        self
    }

    /// Discovery's configuration (resolver, trusted roots, address policy, offline). Default:
    /// `DiscoveryConfig::default()`.
    pub fn discovery(mut self, discovery: DiscoveryConfig) -> Self {
        self.discovery = Some(discovery);
        self
    }

    /// Where the browser goes after a sign-in ([`Settings::success_url`]).
    pub fn success_url(mut self, url: impl Into<String>) -> Self {
        self.settings.success_url = Some(url.into());
        self
    }

    /// This server's public origin ([`Settings::public_url`]), and [`Settings::https`] to
    /// whether it is an `https` origin (the file and [`edit`](Self::edit) set both apart).
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.settings.https = url.starts_with("https://");
        self.settings.public_url = Some(url);
        self
    }

    /// Which connect API to call ([`Settings::api`]).
    pub fn api(mut self, api: Api) -> Self {
        self.settings.api = api;
        self
    }

    /// The connect API's base URL ([`Settings::api_url`]).
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.settings.api_url = Some(url.into());
        self
    }

    /// The v2 client id ([`Settings::client_id`]).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.settings.client_id = client_id.into();
        self
    }

    /// Where the signed callback is posted ([`Settings::callback_url`]).
    pub fn callback_url(mut self, url: impl Into<String>) -> Self {
        self.settings.callback_url = Some(url.into());
        self
    }

    /// The page's look ([`Settings::brand`]).
    pub fn brand(mut self, brand: Brand) -> Self {
        self.settings.brand = brand;
        self
    }

    /// A Redis shared by a fleet of servers ([`Settings::redis_url`]).
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.settings.redis_url = Some(url.into());
        self
    }

    /// The configuration. The settings' `cache_mib` and `max_network_detections`, when set,
    /// are applied to the discovery configuration, as the binary does.
    pub fn build(self) -> ServerConfig {
        self.finish(false)
    }

    pub(crate) fn finish(self, sandbox: bool) -> ServerConfig {
        let settings = self.settings;
        let mut discovery = self.discovery.unwrap_or_default().to_builder();
        if let Some(limit) = settings.max_network_detections {
            discovery = discovery.max_network_discoveries(Some(limit));
        }
        if let Some(mib) = settings.cache_mib {
            discovery = discovery.cache_capacity(mib.saturating_mul(1024 * 1024));
        }
        ServerConfig { settings, secrets: self.secrets, discovery: discovery.build(), sandbox }
    }
}
