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
