//! Errors of the network sources, as providers report them.

/// Why a provider or source could not find out (as opposed to finding nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The lookup did not finish in time.
    #[error("{target}: timed out")]
    Timeout {
        /// What was being looked up (a DNS name or URL).
        target: String,
    },
    /// The lookup failed on the network.
    #[error("{target}: {reason}")]
    Network {
        /// What was being looked up.
        target: String,
        /// What went wrong, in a few words (never a secret).
        reason: String,
    },
    /// The address guard or a credential rule refused the target (security.md §1, §5).
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
}

impl SourceError {
    /// Whether this is a timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }
}

impl From<crate::sources::dns::DnsError> for SourceError {
    fn from(error: crate::sources::dns::DnsError) -> Self {
        use crate::sources::dns::DnsError;
        match error {
            DnsError::Timeout { name, record } => {
                Self::Timeout { target: format!("DNS {record} {name}") }
            }
            other => Self::Network { target: "DNS".into(), reason: other.to_string() },
        }
    }
}

impl From<crate::sources::fetch::FetchError> for SourceError {
    fn from(error: crate::sources::fetch::FetchError) -> Self {
        use crate::sources::fetch::FetchError;
        match error {
            FetchError::Timeout { url } => Self::Timeout { target: url },
            other => Self::Network { target: "HTTP".into(), reason: other.to_string() },
        }
    }
}
