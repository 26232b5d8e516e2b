//! The local connect sandbox started in-process, and a configuration that signs in against it:
//! for development and tests, never production (it accepts every password but `wrong`, and
//! signs with documented development secrets).

use nativeauth::DiscoveryConfig;
pub use nativeauth_sandbox::RunningSandbox;

use crate::config::{Secrets, ServerConfig, ServerConfigBuilder, Settings};

/// The app secret of the sandbox (documented, for development only).
pub const SANDBOX_APP_SECRET: &str = "sandbox-app-secret";
/// The callback secret of the sandbox (documented, for development only).
pub const SANDBOX_CALLBACK_SECRET: &str = "sandbox-callback-secret";

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// No loopback port could be bound.
    #[error("the connect sandbox cannot start: {0}")]
    Bind(#[source] std::io::Error),
    /// The settings are a production server's: the sandbox accepts every password but
    /// `wrong` and signs with development secrets, so it runs only without them. The sentence
    /// names each setting to remove.
    #[error(
        "the sandbox accepts every password but `wrong` and signs with development secrets, so \
         it runs only without production settings: {0}"
    )]
    ProductionSettings(String),
}

/// Starts the local connect sandbox in-process and returns `settings` set up to sign in
/// against it: the same as [`ServerConfig::builder`]`().settings(settings).discovery(discovery)`
/// `.build_sandbox()`. Keep the
/// [`RunningSandbox`]: the sandbox stops when it is dropped.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let settings = nativeauth_server::Settings {
///     success_url: Some("http://127.0.0.1:3000/welcome".into()),
///     ..nativeauth_server::Settings::default()
/// };
/// let discovery = nativeauth::DiscoveryConfig::builder().offline(true).build();
/// let (config, _sandbox) = nativeauth_server::sandbox(settings, discovery).await?;
/// let login = nativeauth_server::router(config)?;
/// # let _ = login;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// As [`ServerConfigBuilder::build_sandbox`].
pub async fn sandbox(
    settings: Settings,
    discovery: DiscoveryConfig,
) -> Result<(ServerConfig, RunningSandbox), SandboxError> {
    ServerConfig::builder().settings(settings).discovery(discovery).build_sandbox().await
}

impl ServerConfigBuilder {
    /// Starts the local connect sandbox on a free loopback port and returns the configuration
    /// set up to sign in against it (its API URL, client id and secrets, loopback http), marked
    /// as the sandbox (its pages say so; `success_url` may be left out). For development and
    /// tests only: it accepts every password but `wrong`. Keep the [`RunningSandbox`]: the
    /// sandbox stops when it is dropped.
    ///
    /// # Errors
    /// [`SandboxError::Bind`] when no loopback port can be bound;
    /// [`SandboxError::ProductionSettings`] when `https`, `redis_url` or a `metrics_listen`
    /// that is not a loopback address is set.
    pub async fn build_sandbox(self) -> Result<(ServerConfig, RunningSandbox), SandboxError> {
        let config = self.finish(true);
        let refusals = production_settings(&config.settings);
        if !refusals.is_empty() {
            return Err(SandboxError::ProductionSettings(refusals.join("; ")));
        }
        start(config).await
    }
}

/// The settings a sandbox must not run with, each as what to remove.
fn production_settings(settings: &Settings) -> Vec<&'static str> {
    let mut refusals = Vec::new();
    if settings.https {
        refusals.push("remove `https = true` from the configuration");
    }
    if settings.redis_url.is_some() {
        refusals.push("remove `redis_url` from the configuration");
    }
    if settings.metrics_listen.is_some_and(|address| !address.ip().is_loopback()) {
        refusals.push("`metrics_listen` is not a loopback address");
    }
    refusals
}

/// Starts the sandbox and points `config` (marked as the sandbox) at it, with its secrets.
async fn start(mut config: ServerConfig) -> Result<(ServerConfig, RunningSandbox), SandboxError> {
    let sandbox_config = nativeauth_sandbox::SandboxConfig::default();
    let running = nativeauth_sandbox::serve(([127, 0, 0, 1], 0).into(), sandbox_config.clone())
        .await
        .map_err(SandboxError::Bind)?;
    let settings = &mut config.settings;
    settings.api_url = Some(running.url());
    settings.allow_loopback_http = true;
    settings.client_id = sandbox_config.client_id;
    config.secrets = Secrets::builder()
        .client_secret(sandbox_config.client_secret)
        .api_key(sandbox_config.api_key)
        .callback_secret(SANDBOX_CALLBACK_SECRET)
        .app_secret(SANDBOX_APP_SECRET)
        .build();
    config.sandbox = true;
    Ok((config, running))
}
