//! HTTP plumbing shared by every fetch: TLS configuration (rustls with the *ring* provider,
//! the operating system's trust store plus optional extra roots) and bounded body reading.
//!
//! TLS is always fully verified; there is no switch to turn verification off.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::error::SetupError;

/// The default cap on a response body.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Why a response body could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// The body is larger than allowed.
    #[error("the response body exceeds {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// Reading the body failed.
    #[error("reading the response body failed: {0}")]
    Read(#[source] reqwest::Error),
}

/// Reads every certificate of a PEM file.
///
/// # Errors
/// [`SetupError::Roots`] when the file cannot be read or contains no certificate.
pub fn load_pem_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, SetupError> {
    let roots_error = |reason: String| SetupError::Roots { path: path.to_owned(), reason };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| roots_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| roots_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(roots_error("no PEM certificate in the file".into()));
    }
    Ok(certs)
}

/// A rustls client configuration: the system's roots plus `extra_roots`, full verification,
/// TLS 1.2 and 1.3, ALPN `http/1.1`. The one every HTTPS client of ours uses (hand it to
/// `reqwest::ClientBuilder::tls_backend_preconfigured`).
///
/// # Errors
/// [`SetupError::Tls`] when the verifier or protocol versions cannot be set up.
pub fn tls_config(
    extra_roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, SetupError> {
    let provider = Arc::new(super::crypto::crypto_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
            .map_err(|e| SetupError::Tls(e.to_string()))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::Tls(e.to_string()))?
        .dangerous() // only to plug in the platform verifier, which verifies fully
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Reads a response body, refusing it as soon as it grows past `limit` bytes (checked while
/// streaming, so a huge body is never held in memory).
///
/// # Errors
/// [`BodyError::TooLarge`] past the limit, [`BodyError::Read`] when reading fails.
pub(crate) async fn read_body_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
