//! The server's configuration, built in code with [`ServerConfig::builder`]: the public
//! [`Settings`] (set one by one, or read from a TOML file, whose keys are the field names), the
//! [`Secrets`] (from the environment, `NYLAS_CLIENT_SECRET`, `NYLAS_API_KEY`,
//! `NATIVEAUTH_CALLBACK_SECRET`, `NATIVEAUTH_APP_SECRET` and the root key `NATIVEAUTH_KEY` or
//! `NATIVEAUTH_COOKIE_KEY`, or set in code), and discovery's own configuration.

mod builder;
mod secrets;
mod settings;

pub use builder::{ServerConfig, ServerConfigBuilder};
pub(crate) use secrets::Secret;
pub use secrets::{Secrets, SecretsBuilder};
pub use settings::{Api, Brand, ConfigError, OAuthConfig, Settings};
