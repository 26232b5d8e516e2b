//! Why a provider could not find out (as opposed to finding nothing).

use std::path::PathBuf;
use std::sync::Arc;

use crate::net::dns::DnsError;
use crate::net::http::FetchError;
use crate::net::tcp::TcpConnectError;

/// Why a provider or one of its sources could not find out. The underlying error is kept as
/// the [`source`](std::error::Error::source), so a caller can tell a guard refusal from a
/// timeout without parsing text.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// A DNS lookup failed or timed out.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// An HTTP request failed, timed out, or was refused by the address guard before any
    /// connection ([`FetchError::Guard`]).
    #[error(transparent)]
    Http(#[from] FetchError),
    /// A guarded TCP connection was not made.
    #[error("{target}: {source}")]
    Connect {
        /// Host and port.
        target: String,
        /// Why.
        #[source]
        source: Arc<TcpConnectError>,
    },
    /// A server answered with a status that means failure.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// A credential rule refused the target: credentials would have left the allowed hosts.
    #[error("{target}: refused: {reason}")]
    Refused {
        /// The refused target.
        target: String,
        /// Why.
        reason: String,
    },
    /// The answer could not be understood.
    #[error("{target}: unusable answer: {reason}")]
    Invalid {
        /// Where the answer came from.
        target: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A provider's own protocol failed (for example an autodiscover chain that loops).
    #[error("{source}")]
    Protocol {
        /// What was being asked.
        target: String,
        /// The provider's error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// A step did not finish in time.
    #[error("{target}: timed out")]
    Timeout {
        /// What was being looked up (a DNS name or URL).
        target: String,
    },
    /// The run is offline: no network lookups.
    #[error("{target}: offline: no network lookups")]
    Offline {
        /// What was about to be asked.
        target: String,
    },
    /// TLS could not be set up, so nothing over TLS can be asked.
    #[error("{target}: cannot set up TLS")]
    Setup {
        /// What was about to be asked.
        target: String,
        /// Why.
        #[source]
        source: Arc<SetupError>,
    },
}

impl SourceError {
    /// A provider's own protocol error, kept as the cause.
    pub fn protocol(
        target: impl Into<String>,
        error: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Protocol { target: target.into(), source: Arc::new(error) }
    }

    /// Whether this is a timeout, at any layer.
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::Dns(error) => error.is_timeout(),
            Self::Http(error) => error.is_timeout(),
            Self::Connect { source, .. } => {
                matches!(&**source, TcpConnectError::Dns(error) if error.is_timeout())
            }
            _ => false,
        }
    }

    /// Whether the target was refused by a rule of ours (the address guard or a credential
    /// rule) rather than failing on the network: a report must show these.
    pub fn is_refused(&self) -> bool {
        match self {
            Self::Refused { .. } | Self::Http(FetchError::Guard(_)) => true,
            Self::Connect { source, .. } => matches!(&**source, TcpConnectError::Guard(_)),
            _ => false,
        }
    }
}

/// Why a discovery could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// DNS could not be set up.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// A trust-roots file (`--ca-file`, `SSL_CERT_FILE`) could not be read or holds no
    /// certificate.
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
    HttpClient(#[source] reqwest::Error),
    /// No provider is registered, so every discovery would find nothing. Provider crates
    /// register themselves at link time; a program that depends on `nativeauth-core` alone,
    /// or never refers to the `nativeauth` facade, links none.
    #[error(
        "no providers are registered: depend on the `nativeauth` facade and refer to it (for \
         example `nativeauth::Discovery::new`), so that its provider crates are linked"
    )]
    NoProviders,
}
