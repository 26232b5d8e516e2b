//! Keyed signatures: the callback's `Nativeauth-Signature` header, and the signed cookies
//! (CSRF token, the app's `state`); and sealing, for values kept by others (the OAuth flow's
//! cookie, a fleet's results in Redis).

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// ChaCha20-Poly1305 under one key, a random nonce per value, sealed as `nonce ‖ ciphertext ‖
/// tag`: what is sealed can be neither read nor altered, nor moved to a place whose associated
/// data differs.
pub(crate) struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl Sealer {
    /// A sealer under `key`.
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        let key = UnboundKey::new(&CHACHA20_POLY1305, key)
            .map(LessSafeKey::new)
            .unwrap_or_else(|_| unreachable!("a 32-byte key is a valid ChaCha20-Poly1305 key"));
        Self { key, random: SystemRandom::new() }
    }

    /// `plain` sealed and bound to `aad`; `None` when the system has no randomness for a nonce.
    pub(crate) fn seal(&self, aad: &[u8], mut plain: Vec<u8>) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).ok()?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut plain,
            )
            .ok()?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&plain);
        Some(sealed)
    }

    /// What `sealed` holds, when it was sealed under this key for `aad` and not altered.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain_len = self.key.open_in_place(nonce, Aad::from(aad), &mut body).ok()?.len();
        body.truncate(plain_len);
        Some(body)
    }
}

/// HMAC-SHA256 of `message` under `key`, lowercase hex.
pub(crate) fn hmac_hex(key: &[u8], message: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hex(hmac::sign(&key, message).as_ref())
}

/// Whether `tag` (lowercase hex) is the HMAC-SHA256 of `message`, compared in constant time.
pub(crate) fn verify_hex(key: &[u8], message: &[u8], tag: &str) -> bool {
    let Some(tag) = unhex(tag) else { return false };
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), message, &tag).is_ok()
}

/// The callback signature header value: `t=<unix seconds>,v1=<hex HMAC of "<t>.<body>">`.
pub(crate) fn callback_signature(key: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!("t={timestamp},v1={}", hmac_hex(key, &signed))
}

/// 32 random bytes, hex.
///
/// # Panics
/// When the system's random number generator fails: a predictable token would be worse than
/// none, so the request is abandoned.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    #[allow(clippy::expect_used)] // no entropy at all: nothing safe can be issued
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .expect("the system random number generator failed");
    hex(&bytes)
}

/// 128 random bits, hex: an id that cannot be guessed or collide (an event id).
pub(crate) fn random_id() -> String {
    let mut token = random_token();
    token.truncate(32);
    token
}

/// Whether `a` equals `b`, in time independent of where they differ: both are MACed under a
/// fresh random key, and the tags compared by `ring`'s constant-time verification.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut key = [0u8; 32];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key).is_err() {
        return false;
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    hmac::verify(&key, b, hmac::sign(&key, a).as_ref()).is_ok()
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lowercase or uppercase hex.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_does_not() {
        let tag = hmac_hex(b"key", b"message");
        assert!(verify_hex(b"key", b"message", &tag));
        assert!(!verify_hex(b"key", b"messagE", &tag));
        assert!(!verify_hex(b"other", b"message", &tag));
        assert!(!verify_hex(b"key", b"message", "zz"));
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"samE"));
        assert!(!constant_time_eq(b"same", b"same-longer"));
        assert_eq!(random_id().len(), 32);
        assert_ne!(random_id(), random_id());
        assert_eq!(
            callback_signature(b"Jefe", 1, b"x"),
            format!("t=1,v1={}", hmac_hex(b"Jefe", b"1.x"))
        );
    }
}
