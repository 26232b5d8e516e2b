//! HTTP plumbing shared by every fetch: TLS configuration (rustls with the *ring* provider,
//! the operating system's trust store plus optional extra roots) and bounded body reading.
//!
//! TLS is always fully verified; there is no switch to turn verification off.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The default cap on a response body.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Why an HTTP client could not be set up or a body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// A `--ca-file` / `SSL_CERT_FILE` could not be read or holds no certificate.
    #[error("cannot load trust roots from {}: {reason}", path.display())]
    Roots {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The TLS configuration could not be built.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The body is larger than allowed.
    #[error("the response body exceeds {limit} bytes")]
    BodyTooLarge {
        /// The cap.
        limit: usize,
    },
    /// Reading the body failed.
    #[error("reading the response body failed: {0}")]
    Body(#[source] reqwest::Error),
}

/// Reads every certificate of a PEM file.
///
/// # Errors
/// [`HttpError::Roots`] when the file cannot be read or contains no certificate.
pub fn load_pem_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, HttpError> {
    let roots_error = |reason: String| HttpError::Roots { path: path.to_owned(), reason };
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
/// [`HttpError::Tls`] when the verifier or protocol versions cannot be set up.
pub fn tls_config(
    extra_roots: impl IntoIterator<Item = CertificateDer<'static>>,
) -> Result<rustls::ClientConfig, HttpError> {
    let provider = Arc::new(super::crypto::crypto_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
            .map_err(|e| HttpError::Tls(e.to_string()))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Tls(e.to_string()))?
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
/// [`HttpError::BodyTooLarge`] past the limit, [`HttpError::Body`] when reading fails.
pub(crate) async fn read_body_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, HttpError> {
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(HttpError::BodyTooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(HttpError::Body)? {
        if body.len() + chunk.len() > limit {
            return Err(HttpError::BodyTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
