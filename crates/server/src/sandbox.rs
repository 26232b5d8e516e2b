//! The local connect sandbox started in-process, and a configuration that signs in against it:
//! for development and tests, never production (it accepts every password but `wrong`, and
//! signs with documented development secrets).

use nativeauth::DiscoveryConfig;
use nativeauth::secrecy::SecretString;
pub use nativeauth_sandbox::RunningSandbox;

use crate::config::{FileConfig, Secrets, ServerConfig};

/// The app secret of the sandbox (documented, for development only).
pub const SANDBOX_APP_SECRET: &str = "sandbox-app-secret";
/// The callback secret of the sandbox (documented, for development only).
pub const SANDBOX_CALLBACK_SECRET: &str = "sandbox-callback-secret";

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[error("the connect sandbox cannot start: {0}")]
pub struct SandboxError(#[source] std::io::Error);

/// Starts the local connect sandbox on a free loopback port and returns `file` set up to sign
/// in against it (its API URL, client id, loopback http) with the sandbox's secrets, in a
/// [`ServerConfig`] marked as the sandbox (its pages say so). Keep the [`RunningSandbox`]: the
/// sandbox stops when it is dropped.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let file = nativeauth_server::FileConfig {
///     success_url: Some("http://127.0.0.1:3000/welcome".into()),
///     ..nativeauth_server::FileConfig::default()
/// };
/// let discovery = nativeauth::DiscoveryConfig::builder().offline(true).build();
/// let (config, _sandbox) = nativeauth_server::sandbox(file, discovery).await?;
/// let login = nativeauth_server::router(config)?;
/// # let _ = login;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`SandboxError`] when no loopback port can be bound.
pub async fn sandbox(
    mut file: FileConfig,
    discovery: DiscoveryConfig,
) -> Result<(ServerConfig, RunningSandbox), SandboxError> {
    let sandbox_config = nativeauth_sandbox::SandboxConfig::default();
    let running = nativeauth_sandbox::serve(([127, 0, 0, 1], 0).into(), sandbox_config.clone())
        .await
        .map_err(SandboxError)?;
    file.api_url = Some(running.url());
    file.allow_loopback_http = true;
    file.client_id = sandbox_config.client_id;
    let secrets = Secrets {
        client_secret: sandbox_config.client_secret,
        api_key: sandbox_config.api_key,
        callback_secret: SecretString::from(SANDBOX_CALLBACK_SECRET),
        app_secret: SecretString::from(SANDBOX_APP_SECRET),
        ..Secrets::default()
    };
    Ok((ServerConfig { file, secrets, discovery, sandbox: true }, running))
}
