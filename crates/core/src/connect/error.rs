//! Why a payload could not be built. Messages never contain a secret.

use super::ScopeError;
use crate::model::{NylasProvider, Protocol, Source};

/// Why an authorize (or v3 custom-auth) payload was refused before any request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// A required value is empty.
    #[error("the {field} is empty")]
    Empty {
        /// Which value.
        field: &'static str,
    },
    /// The credentials do not fit the provider (a password for Gmail, say).
    #[error("provider {provider} needs {needed}, but {given} was given")]
    WrongCredentials {
        /// The provider.
        provider: NylasProvider,
        /// What it needs.
        needed: &'static str,
        /// What was given.
        given: &'static str,
    },
    /// The provider gives other apps no IMAP/SMTP access (`AuthHint::Unsupported`): no
    /// credentials can connect it; the detection's notes say what the user can do.
    #[error("{provider} gives other apps no mail access, so it cannot be connected")]
    Unsupported {
        /// The provider's name.
        provider: String,
    },
    /// Microsoft 365 needs the redirect URI registered with Microsoft.
    #[error("provider {provider} needs the OAuth redirect URI")]
    MissingRedirectUri {
        /// The provider.
        provider: NylasProvider,
    },
    /// The detection has no server of a protocol the provider needs.
    #[error("the detection has no {protocol} server, which provider {provider} needs")]
    NoServer {
        /// The missing protocol.
        protocol: Protocol,
        /// The provider.
        provider: NylasProvider,
    },
    /// A server port outside 1–65535.
    #[error("port {port} of {host} is outside 1-65535")]
    PortOutOfRange {
        /// The server.
        host: String,
        /// The port.
        port: u16,
    },
    /// The detection is unverified: show its servers to the user, and build again with
    /// [`Consent::accept_unverified`](super::Consent::accept_unverified) once they confirm.
    #[error(
        "the detection is unverified (found by {found_by}: {evidence}): confirm the servers \
         with the user before sending a password"
    )]
    Unverified {
        /// Where the answer came from.
        found_by: Source,
        /// Why it was chosen.
        evidence: String,
    },
    /// The chosen server offers only plaintext; allowed only with
    /// [`Consent::allow_plaintext`](super::Consent::allow_plaintext).
    #[error(
        "{server} offers only plaintext {protocol}: the password would cross the network unencrypted"
    )]
    Plaintext {
        /// `host:port`.
        server: String,
        /// IMAP, POP3 or SMTP.
        protocol: Protocol,
    },
    /// The provider accepts no password at all.
    #[error("{provider} does not accept passwords: sign in with Microsoft (OAuth) instead")]
    OAuthRequired {
        /// The provider.
        provider: NylasProvider,
    },
    /// The scopes are not valid.
    #[error(transparent)]
    Scope(#[from] ScopeError),
}
