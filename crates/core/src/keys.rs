//! One root key, and a key per purpose derived from it with HKDF-SHA256 (RFC 5869), so that no
//! key ever serves two purposes: a cookie signature can never be replayed as a fleet answer, and
//! leaking one derived key tells nothing about the others.
//!
//! The root comes from `NATIVEAUTH_KEY`, or from `NATIVEAUTH_COOKIE_KEY`, the name earlier
//! releases read (both may be set when they are equal). It must be at least
//! [`RootKey::MIN_LEN`] bytes; `openssl rand -hex 32` makes a good one.

use std::fmt;

use ring::hkdf;
use secrecy::{ExposeSecret, SecretBox, SecretString};

const ROOT_KEY_VAR: &str = RootKey::ENV_VAR;
const LEGACY_ROOT_KEY_VAR: &str = RootKey::LEGACY_ENV_VAR;

/// What a derived key is for. Each has a fixed label; the labels never change, or every
/// signed value and sealed result of a running fleet would stop verifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyPurpose {
    /// The login page's cookies (CSRF token, the app's `state`).
    Cookie,
    /// Sign-in results waiting for the app's code exchange (sealed with an AEAD).
    Result,
    /// Answers shared through a fleet's store (signed).
    Fleet,
    /// The names of rate-limit counters (so the store holds no address).
    RateLimit,
    /// OAuth sign-ins in flight.
    OAuth,
}

impl KeyPurpose {
    /// Every purpose.
    pub const ALL: [Self; 5] =
        [Self::Cookie, Self::Result, Self::Fleet, Self::RateLimit, Self::OAuth];

    /// The HKDF label (the `info` input).
    pub fn label(self) -> &'static str {
        match self {
            Self::Cookie => "nativeauth/v1/cookie",
            Self::Result => "nativeauth/v1/result",
            Self::Fleet => "nativeauth/v1/fleet",
            Self::RateLimit => "nativeauth/v1/ratelimit",
            Self::OAuth => "nativeauth/v1/oauth",
        }
    }
}

/// Why the root key cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootKeyError {
    /// Shorter than [`RootKey::MIN_LEN`] bytes.
    #[error(
        "the root key ({ROOT_KEY_VAR} or {LEGACY_ROOT_KEY_VAR}) is {len} bytes; it needs at least \
         {min} (for example the output of `openssl rand -hex 32`)",
        min = RootKey::MIN_LEN
    )]
    TooShort {
        /// Its length in bytes.
        len: usize,
    },
    /// Both variables are set, to different values.
    #[error("{ROOT_KEY_VAR} and {LEGACY_ROOT_KEY_VAR} are both set, to different values; keep one")]
    Conflicting,
}

/// The root key every other key is derived from. `Debug` never shows it.
pub struct RootKey(SecretBox<[u8]>);

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey([REDACTED])")
    }
}

impl Clone for RootKey {
    fn clone(&self) -> Self {
        Self(SecretBox::from(Box::from(self.0.expose_secret())))
    }
}

impl RootKey {
    /// The environment variable holding the root key.
    pub const ENV_VAR: &'static str = "NATIVEAUTH_KEY";
    /// The older name of [`RootKey::ENV_VAR`], still read.
    pub const LEGACY_ENV_VAR: &'static str = "NATIVEAUTH_COOKIE_KEY";

    /// The shortest root key accepted, in bytes.
    pub const MIN_LEN: usize = 32;

    /// A root key of `bytes`.
    ///
    /// # Errors
    /// [`RootKeyError::TooShort`] below [`Self::MIN_LEN`] bytes.
    pub fn new(bytes: &[u8]) -> Result<Self, RootKeyError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(RootKeyError::TooShort { len: bytes.len() });
        }
        Ok(Self(SecretBox::from(Box::from(bytes))))
    }

    /// A random root key, for a single process that shares nothing: what it signs does not
    /// survive a restart.
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        // Failure would mean the system has no entropy source at all; an all-zero key would
        // then be worse than none, so the process cannot go on.
        #[allow(clippy::expect_used)]
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .expect("the system random number generator failed");
        Self(SecretBox::from(Box::from(&bytes[..])))
    }

    /// The root key from `NATIVEAUTH_KEY` or `NATIVEAUTH_COOKIE_KEY`; `Ok(None)` when neither
    /// is set (or both are empty).
    ///
    /// # Errors
    /// [`RootKeyError`] when the value is too short or the two variables disagree.
    pub fn from_env() -> Result<Option<Self>, RootKeyError> {
        let read = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Self::from_values(
            read(ROOT_KEY_VAR).map(SecretString::from),
            read(LEGACY_ROOT_KEY_VAR).map(SecretString::from),
        )
    }

    /// The root key from the value of `NATIVEAUTH_KEY` and that of `NATIVEAUTH_COOKIE_KEY`
    /// (for callers that read their environment elsewhere).
    ///
    /// # Errors
    /// As [`Self::from_env`].
    pub fn from_values(
        current: Option<SecretString>,
        legacy: Option<SecretString>,
    ) -> Result<Option<Self>, RootKeyError> {
        let nonempty = |v: Option<SecretString>| v.filter(|v| !v.expose_secret().is_empty());
        match (nonempty(current), nonempty(legacy)) {
            (Some(a), Some(b)) if a.expose_secret() != b.expose_secret() => {
                Err(RootKeyError::Conflicting)
            }
            (Some(key), _) | (None, Some(key)) => {
                Self::new(key.expose_secret().as_bytes()).map(Some)
            }
            (None, None) => Ok(None),
        }
    }

    /// The key for `purpose`.
    pub fn derive(&self, purpose: KeyPurpose) -> DerivedKey {
        DerivedKey(hkdf_sha256(self.0.expose_secret(), purpose.label()))
    }
}

/// A 32-byte key derived for one purpose. `Debug` never shows it.
#[derive(Clone)]
pub struct DerivedKey([u8; 32]);

impl DerivedKey {
    /// A key derived from any secret (not the root key), for a purpose outside
    /// [`KeyPurpose`]: HKDF-SHA256 with an empty salt and `label` as the info, 32 bytes out.
    /// An empty salt is RFC 5869's default (a string of zeros), which any HKDF
    /// implementation reproduces.
    pub fn from_secret(secret: &[u8], label: &str) -> Self {
        Self(hkdf_sha256(secret, label))
    }

    /// The key's bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKey([REDACTED])")
    }
}

/// HKDF-SHA256 of `secret` with an empty salt and `label` as the info, 32 bytes out.
fn hkdf_sha256(secret: &[u8], label: &str) -> [u8; 32] {
    struct Len32;
    impl hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let info = [label.as_bytes()];
    let mut out = [0u8; 32];
    // Expanding to 32 bytes cannot exceed HKDF's limit of 255 blocks, and filling a buffer of
    // the requested length cannot fail.
    if let Ok(okm) = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(secret).expand(&info, Len32) {
        let _ = okm.fill(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hkdf_matches_rfc_5869_with_an_empty_salt() {
        // RFC 5869, test case 3: IKM = 22 × 0x0b, no salt, no info; the first 32 bytes of OKM.
        let ikm = [0x0bu8; 22];
        struct Len32;
        impl hkdf::KeyType for Len32 {
            fn len(&self) -> usize {
                32
            }
        }
        let mut out = [0u8; 32];
        hkdf::Salt::new(hkdf::HKDF_SHA256, &[])
            .extract(&ikm)
            .expand(&[], Len32)
            .unwrap()
            .fill(&mut out)
            .unwrap();
        assert_eq!(hex(&out), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d");
        assert_eq!(hkdf_sha256(&ikm, ""), out);
    }

    #[test]
    fn every_purpose_gets_its_own_key() {
        let root = RootKey::new(&[7u8; 32]).unwrap();
        let keys: Vec<[u8; 32]> =
            KeyPurpose::ALL.iter().map(|p| *root.derive(*p).bytes()).collect();
        for (i, a) in keys.iter().enumerate() {
            assert_ne!(a, &[7u8; 32], "a derived key is not the root");
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let other = RootKey::new(&[8u8; 32]).unwrap();
        assert_ne!(root.derive(KeyPurpose::Fleet).bytes(), other.derive(KeyPurpose::Fleet).bytes());
        assert_eq!(
            root.derive(KeyPurpose::Fleet).bytes(),
            &hkdf_sha256(&[7u8; 32], "nativeauth/v1/fleet")
        );
    }

    #[test]
    fn short_and_conflicting_keys_are_refused_and_never_shown() {
        assert_eq!(RootKey::new(b"short").unwrap_err(), RootKeyError::TooShort { len: 5 });
        let long = "k".repeat(32);
        let s = |v: &str| Some(SecretString::from(v.to_owned()));
        assert!(RootKey::from_values(s(&long), s(&long)).unwrap().is_some());
        assert!(RootKey::from_values(None, s(&long)).unwrap().is_some());
        assert!(RootKey::from_values(s(""), None).unwrap().is_none());
        assert_eq!(
            RootKey::from_values(s(&long), s(&"j".repeat(32))).unwrap_err(),
            RootKeyError::Conflicting
        );
        let key = RootKey::new(long.as_bytes()).unwrap();
        assert!(!format!("{key:?}{:?}", key.derive(KeyPurpose::Cookie)).contains("kkkk"));
    }
}
