//! An OAuth sign-in in flight travels with the browser, not in a server table: the PKCE
//! verifier, the provider, the typed address, what the page's start kept and the expiry are
//! sealed with ChaCha20-Poly1305 under the `oauth` key into the flow cookie. The OAuth `state`
//! sent to the provider is the associated data, so the cookie opens only with the `state` the
//! provider sends back: a cookie swapped from another flow is refused. Any server with the same
//! root key can finish a flow another one started, and a flood of starts fills no table.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nativeauth::EmailAddress;
use nativeauth::secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::cookies::Start;
use crate::oauth_provider::OAuthProvider;
use crate::signing::Sealer;

/// How long a started sign-in may take at the provider.
pub(crate) const FLOW_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// A flow waiting for the provider's redirect.
pub(crate) struct Pending {
    pub(crate) provider: OAuthProvider,
    pub(crate) email: EmailAddress,
    pub(crate) verifier: SecretString,
    pub(crate) start: Start,
    /// The page's language, for the page the callback shows.
    pub(crate) lang: Option<String>,
}

/// What is sealed (short names: it rides in a cookie).
#[derive(Serialize, Deserialize)]
struct Sealed {
    /// `google` or `microsoft`.
    p: String,
    e: String,
    v: String,
    /// The app's `state`, hex: escaped as JSON, 512 bytes of control characters would make
    /// the cookie too large for browsers to keep.
    s: Option<String>,
    pin: Option<String>,
    sig: bool,
    #[serde(default)]
    l: Option<String>,
    /// Expiry, Unix seconds.
    x: u64,
}

const AAD_PREFIX: &[u8] = b"nativeauth/oauth-flow/v1\n";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn aad(state: &str) -> Vec<u8> {
    let mut aad = AAD_PREFIX.to_vec();
    aad.extend_from_slice(state.as_bytes());
    aad
}

/// Seals and opens flows under one key.
pub(crate) struct FlowSeal(Sealer);

impl FlowSeal {
    /// A seal under `key` (the `oauth` key).
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self(Sealer::new(key))
    }

    /// The cookie value of `flow`, bound to the OAuth `state` sent to the provider.
    pub(crate) fn seal(&self, flow: &Pending, state: &str) -> Option<String> {
        self.seal_at(flow, state, now())
    }

    fn seal_at(&self, flow: &Pending, state: &str, now: u64) -> Option<String> {
        let sealed = Sealed {
            p: flow.provider.as_str().to_owned(),
            e: flow.email.as_str().to_owned(),
            v: flow.verifier.expose_secret().to_owned(),
            s: flow.start.state.as_deref().map(|state| crate::signing::hex(state.as_bytes())),
            pin: flow.start.pinned.clone(),
            sig: flow.start.signed,
            l: flow.lang.clone(),
            x: now + FLOW_LIFETIME.as_secs(),
        };
        let sealed = self.0.seal(&aad(state), serde_json::to_vec(&sealed).ok()?)?;
        Some(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// The flow in the cookie value `cookie`, when it was sealed here for `state` and has not
    /// expired.
    pub(crate) fn open(&self, cookie: &str, state: &str) -> Option<Pending> {
        self.open_at(cookie, state, now())
    }

    fn open_at(&self, cookie: &str, state: &str, now: u64) -> Option<Pending> {
        let bytes = URL_SAFE_NO_PAD.decode(cookie).ok()?;
        let plain = self.0.open(&aad(state), &bytes)?;
        let sealed: Sealed = serde_json::from_slice(&plain).ok()?;
        if sealed.x < now {
            return None;
        }
        let state = match sealed.s {
            Some(hex) => Some(String::from_utf8(crate::signing::unhex(&hex)?).ok()?),
            None => None,
        };
        Some(Pending {
            provider: OAuthProvider::from_path(&sealed.p)?,
            email: EmailAddress::parse(&sealed.e).ok()?,
            verifier: SecretString::from(sealed.v),
            start: Start { state, pinned: sealed.pin, signed: sealed.sig, until: None },
            lang: sealed.l,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn flow() -> Pending {
        Pending {
            provider: OAuthProvider::Google,
            email: EmailAddress::parse("ann@gmail.com").unwrap(),
            verifier: SecretString::from("v".repeat(43)),
            start: Start { state: Some("app".into()), pinned: None, signed: false, until: None },
            lang: Some("fr".into()),
        }
    }

    #[test]
    fn a_flow_opens_only_with_its_state_its_key_and_in_time() {
        let seal = FlowSeal::new(&[1u8; 32]);
        let cookie = seal.seal_at(&flow(), "state-1", 1000).unwrap();
        assert!(!cookie.contains("ann") && !cookie.contains("vvvv"), "sealed, not encoded");
        let opened = seal.open_at(&cookie, "state-1", 1000).unwrap();
        assert_eq!(opened.email.as_str(), "ann@gmail.com");
        assert_eq!(opened.start.state.as_deref(), Some("app"));
        assert!(seal.open_at(&cookie, "state-2", 1000).is_none(), "another flow's state");
        assert!(FlowSeal::new(&[2u8; 32]).open_at(&cookie, "state-1", 1000).is_none());
        let late = 1000 + FLOW_LIFETIME.as_secs() + 1;
        assert!(seal.open_at(&cookie, "state-1", late).is_none(), "expired");
        let mut bytes = URL_SAFE_NO_PAD.decode(&cookie).unwrap();
        bytes[20] ^= 1;
        assert!(seal.open_at(&URL_SAFE_NO_PAD.encode(bytes), "state-1", 1000).is_none());
        for garbage in ["", "!!", "AAAA"] {
            assert!(seal.open_at(garbage, "state-1", 1000).is_none());
        }
        // The largest state the page takes, of the characters JSON escapes most, still fits a
        // cookie (browsers keep 4096 bytes, name included).
        let mut worst = flow();
        worst.start.state = Some("\u{1}".repeat(512));
        worst.email = EmailAddress::parse(&format!("{}@gmail.com", "a".repeat(64))).unwrap();
        let cookie = seal.seal_at(&worst, "state-1", 1000).unwrap();
        assert!(cookie.len() < 3_900, "{}", cookie.len());
        assert_eq!(seal.open_at(&cookie, "state-1", 1000).unwrap().start.state, worst.start.state);
    }
}
