//! The local connect sandbox started in-process, and a configuration that signs in against it:
//! for development and tests, never production (it accepts every password but `wrong`, and
//! signs with documented development secrets).

use nativeauth::DiscoveryConfig;
pub use nativeauth_sandbox::RunningSandbox;

use crate::config::{Secrets, ServerConfig, Settings};

/// The app secret of the sandbox (documented, for development only).
pub const SANDBOX_APP_SECRET: &str = "sandbox-app-secret";
/// The callback secret of the sandbox (documented, for development only).
pub const SANDBOX_CALLBACK_SECRET: &str = "sandbox-callback-secret";

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[error("the connect sandbox cannot start: {0}")]
pub struct SandboxError(#[source] std::io::Error);

/// Starts the local connect sandbox in-process and returns `settings` set up to sign in
/// against it: the same as [`ServerConfig::builder`]`().settings(settings).discovery(discovery)`
/// [`.build_sandbox()`](crate::ServerConfigBuilder::build_sandbox). Keep the
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
/// [`SandboxError`] when no loopback port can be bound.
pub async fn sandbox(
    settings: Settings,
    discovery: DiscoveryConfig,
) -> Result<(ServerConfig, RunningSandbox), SandboxError> {
    ServerConfig::builder().settings(settings).discovery(discovery).build_sandbox().await
}

/// Starts the sandbox and points `config` (marked as the sandbox) at it, with its secrets.
pub(crate) async fn start(
    mut config: ServerConfig,
) -> Result<(ServerConfig, RunningSandbox), SandboxError> {
    let sandbox_config = nativeauth_sandbox::SandboxConfig::default();
    let running = nativeauth_sandbox::serve(([127, 0, 0, 1], 0).into(), sandbox_config.clone())
        .await
        .map_err(SandboxError)?;
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
