//! The one rustls crypto provider nativeauth uses: *ring*.
//!
//! rustls 0.23.48 deprecated `rustls::crypto::ring::default_provider` to steer users towards
//! aws-lc-rs, whose post-quantum key exchange *ring* lacks. We stay on *ring* (it builds with
//! no C toolchain beyond `cc` and is already in the tree for HKDF, HMAC and AEAD), so the
//! provider is put together here from *ring*'s public parts: the same cipher suites, key
//! exchange groups and signature algorithms the deprecated function returns. Building it
//! ourselves keeps every build warning-free against the newest rustls.

use std::sync::Arc;

use rustls::SignatureScheme;
use rustls::crypto::ring::{DEFAULT_CIPHER_SUITES, DEFAULT_KX_GROUPS};
use rustls::crypto::{
    CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use webpki::ring as algs;

/// Signature algorithms for certificate and handshake verification: webpki's *ring* set.
static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        algs::ECDSA_P256_SHA256,
        algs::ECDSA_P256_SHA384,
        algs::ECDSA_P384_SHA256,
        algs::ECDSA_P384_SHA384,
        algs::ED25519,
        algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        algs::RSA_PKCS1_2048_8192_SHA256,
        algs::RSA_PKCS1_2048_8192_SHA384,
        algs::RSA_PKCS1_2048_8192_SHA512,
        algs::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    // TLS 1.2 does not tie an ECDSA scheme to one curve, so each accepts both curves.
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[algs::ECDSA_P384_SHA384, algs::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[algs::ECDSA_P256_SHA256, algs::ECDSA_P384_SHA256],
        ),
        (SignatureScheme::ED25519, &[algs::ED25519]),
        (SignatureScheme::RSA_PSS_SHA512, &[algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA384, &[algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA256, &[algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY]),
        (SignatureScheme::RSA_PKCS1_SHA512, &[algs::RSA_PKCS1_2048_8192_SHA512]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[algs::RSA_PKCS1_2048_8192_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[algs::RSA_PKCS1_2048_8192_SHA256]),
    ],
};

/// Randomness and private-key loading from *ring*.
#[derive(Debug)]
struct Ring;

impl SecureRandom for Ring {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        use ring::rand::SecureRandom as _;
        ring::rand::SystemRandom::new().fill(buf).map_err(|_| GetRandomFailed)
    }
}

impl KeyProvider for Ring {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        // The key's bytes are wiped once the signing key is made, as rustls's own provider does.
        rustls::crypto::ring::sign::any_supported_type(&zeroize::Zeroizing::new(key_der))
    }
}

/// The rustls crypto provider every TLS connection of nativeauth uses (*ring*: TLS 1.2 and 1.3
/// cipher suites, X25519, P-256 and P-384 key exchange).
///
/// An app whose own TLS code wants a process-wide default can install this one:
///
/// ```
/// # use nativeauth_core as nativeauth;
/// let _ = nativeauth::crypto_provider().install_default();
/// ```
pub fn crypto_provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: DEFAULT_CIPHER_SUITES.to_vec(),
        kx_groups: DEFAULT_KX_GROUPS.to_vec(),
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &Ring,
        key_provider: &Ring,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_has_suites_groups_and_randomness() {
        let provider = crypto_provider();
        assert!(!provider.cipher_suites.is_empty() && !provider.kx_groups.is_empty());
        let mut bytes = [0_u8; 32];
        provider.secure_random.fill(&mut bytes).unwrap();
        assert_ne!(bytes, [0_u8; 32]);
    }

    /// The provider equals the one rustls itself builds for *ring*, so leaving the deprecated
    /// function changed nothing a server sees. (A test may call it; the library does not.)
    #[test]
    #[allow(deprecated)]
    fn the_provider_equals_rustls_own_ring_provider() {
        let ours = crypto_provider();
        let theirs = rustls::crypto::ring::default_provider();
        let suites =
            |p: &CryptoProvider| p.cipher_suites.iter().map(|s| s.suite()).collect::<Vec<_>>();
        let groups = |p: &CryptoProvider| p.kx_groups.iter().map(|g| g.name()).collect::<Vec<_>>();
        assert_eq!(suites(&ours), suites(&theirs));
        assert_eq!(groups(&ours), groups(&theirs));
        assert_eq!(
            ours.signature_verification_algorithms.supported_schemes(),
            theirs.signature_verification_algorithms.supported_schemes()
        );
        // Each algorithm (its Debug names its key and signature identifiers), for certificate
        // chains (`all`) and for each handshake scheme (`mapping`).
        assert_eq!(
            format!("{:?}", ours.signature_verification_algorithms.all),
            format!("{:?}", theirs.signature_verification_algorithms.all)
        );
        assert_eq!(
            format!("{:?}", ours.signature_verification_algorithms.mapping),
            format!("{:?}", theirs.signature_verification_algorithms.mapping)
        );
    }
}
