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

pub use account::{Account, AuthCode, CODE_LIFETIME};
pub use client::{
    API_VERSION, BODY_LIMIT, CANADA_BASE_URL, ConnectClient, ConnectClientBuilder, ConnectError,
    DEFAULT_BASE_URL, DEFAULT_TIMEOUT, IRELAND_BASE_URL, US_BASE_URL,
};
pub use consent::Consent;
pub use credentials::{Credentials, OAuthCredentials, SmtpLogin};
pub use error::PayloadError;
pub use payload::{AuthorizeRequest, CustomAuthRequest, V3Provider, V3Settings};
pub use scope::{KNOWN_SCOPES, ScopeError, Scopes};
pub use settings::{
    ExchangeSettings, GoogleSettings, ImapSettings, MicrosoftSettings, PasswordSettings,
    ProviderSettings,
};
pub use v3::{
    CustomAuthClient, CustomAuthClientBuilder, Grant, GrantResponse, V3_EU_BASE_URL, V3_US_BASE_URL,
};

#[cfg(test)]
mod tests;
