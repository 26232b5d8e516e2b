//! What the caller has agreed to before a password leaves for the detected servers.
//!
//! An unverified answer (plain http, DNS without DNSSEC, MX-derived, a guess, the website's
//! autodiscover) could have been forged on the network, and a plaintext server exposes the
//! password to anyone on the path. The payload builders refuse both with a typed error until
//! the caller says, explicitly, that the user confirmed the servers or that plaintext is
//! acceptable (a LAN, a test setup).

/// The caller's explicit consent to build a payload from a weaker answer. The default
/// consents to nothing.
///
/// ```
/// # use nativeauth_core as nativeauth;
/// use nativeauth::connect::Consent;
///
/// let consent = Consent::none().accept_unverified();
/// assert!(consent.accepts_unverified());
/// assert!(!consent.allows_plaintext());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consent {
    unverified: bool,
    plaintext: bool,
}

impl Consent {
    /// Consent to nothing: only verified answers and encrypted servers.
    pub const fn none() -> Self {
        Self { unverified: false, plaintext: false }
    }

    /// The user has seen and confirmed the servers of an unverified answer.
    #[must_use]
    pub const fn accept_unverified(mut self) -> Self {
        self.unverified = true;
        self
    }

    /// A server that offers only plaintext may receive the password (`ssl_required` false).
    #[must_use]
    pub const fn allow_plaintext(mut self) -> Self {
        self.plaintext = true;
        self
    }

    /// Whether unverified answers are accepted.
    pub const fn accepts_unverified(self) -> bool {
        self.unverified
    }

    /// Whether plaintext servers are allowed.
    pub const fn allows_plaintext(self) -> bool {
        self.plaintext
    }
}
