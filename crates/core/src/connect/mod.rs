//! Native authentication: the validated `/connect/authorize` payload, the token exchange, and
//! the v3 custom-auth body.
//!
//! A [`Detection`](crate::Detection) says who hosts the mailbox; the login page collects
//! [`Credentials`]; [`AuthorizeRequest::new`] checks everything before any request and builds
//! the provider's `settings` object (its shape depends on the Nylas provider value). An
//! unverified detection or a plaintext server is refused unless the caller gives its
//! [`Consent`] (after the user confirmed the servers).
//!
//! Secrets are [`secrecy::SecretString`] throughout: `Debug` shows `[REDACTED]`, errors and
//! traces never contain them. Only serialising a request body exposes them, for the wire.

mod account;
mod client;
mod consent;
mod credentials;
mod error;
mod payload;
mod scope;
mod settings;
mod v3;

pub use account::{Account, AuthCode};
pub use client::{ConnectClient, ConnectClientBuilder, ConnectError};
pub use consent::Consent;
pub use credentials::{Credentials, OAuthCredentials, SmtpLogin};
pub use error::PayloadError;
pub use payload::{AuthorizeRequest, CustomAuthRequest, V3Provider};
pub use scope::{ScopeError, Scopes};
pub use v3::{CustomAuthClient, CustomAuthClientBuilder, Grant};

#[cfg(test)]
mod tests;
