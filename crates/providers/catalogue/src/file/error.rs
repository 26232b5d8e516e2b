//! Catalogue errors: every problem names the file, the line and the column, and duplicates
//! also name where the first definition is.

use std::fmt;
use std::path::PathBuf;

use super::pattern::PatternError;
use nativeauth_core::Protocol;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One thing wrong in a catalogue file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub at: Position,
    /// What it is.
    pub kind: ProblemKind,
    /// For duplicates: where the first definition is.
    pub first: Option<Position>,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// Not valid TOML, or not the catalogue schema (unknown key, unknown value such as an
    /// unknown `security`, wrong type, port above 65535). The message comes from the TOML parser.
    #[error("{0}")]
    Syntax(String),
    /// A `popular` domain that no entry lists.
    #[error("popular domain {0:?} is not a domain of any entry")]
    UnknownPopularDomain(String),
    /// A provider id used twice.
    #[error("duplicate provider id {0:?}")]
    DuplicateId(String),
    /// A domain claimed by two entries (or twice by one).
    #[error("duplicate domain {0:?}")]
    DuplicateDomain(String),
    /// An MX pattern listed twice.
    #[error("duplicate MX pattern {0:?}")]
    DuplicateMxPattern(String),
    /// A provider id that is not `[a-z0-9][a-z0-9._-]*`.
    #[error("invalid provider id {0:?}: use lowercase letters, digits, '.', '_' and '-'")]
    InvalidId(String),
    /// A domain that is not a lowercase ASCII domain or `*.` wildcard.
    #[error("invalid domain {domain:?}: {reason}")]
    InvalidDomain {
        /// The domain as written.
        domain: String,
        /// What is wrong.
        reason: PatternError,
    },
    /// An MX pattern that does not parse.
    #[error("invalid MX pattern {pattern:?}: {reason}")]
    InvalidMxPattern {
        /// The pattern as written.
        pattern: String,
        /// What is wrong.
        reason: PatternError,
    },
    /// A server host that is not a host name.
    #[error("invalid host {host:?}: {reason}")]
    InvalidHost {
        /// The host as written.
        host: String,
        /// What is wrong.
        reason: String,
    },
    /// Port 0.
    #[error("port 0 is not a usable port (use 1-65535)")]
    PortZero,
    /// An incoming server with protocol smtp, or an outgoing one with imap/pop3.
    #[error("protocol {protocol} is not allowed here; expected {expected}")]
    WrongProtocol {
        /// The protocol found.
        protocol: Protocol,
        /// What the list allows.
        expected: &'static str,
    },
    /// A `%NAME%` placeholder nativeauth does not know (a typo would be sent verbatim).
    #[error("unknown placeholder {0} (known: %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%)")]
    UnknownPlaceholder(String),
    /// A plaintext server listed before an encrypted one of the same direction: plaintext is
    /// never the preferred answer (it exposes the password on the network), so it must come
    /// last.
    #[error("plaintext server {host:?} is listed before an encrypted one; list it last")]
    PlaintextFirst {
        /// The plaintext server's host.
        host: String,
    },
    /// A provider marked `auth = "unsupported"` without a note saying what its users can do.
    #[error("provider {0:?} is unsupported but has no note saying what its users can do")]
    UnsupportedWithoutNote(String),
    /// A `[[gateway]]` without MX patterns.
    #[error("a gateway needs at least one MX pattern")]
    GatewayWithoutMx,
    /// A provider without any valid incoming or outgoing server.
    #[error("provider {id:?} has no valid {direction} server")]
    NoServers {
        /// The provider id.
        id: String,
        /// `incoming` or `outgoing`.
        direction: &'static str,
    },
}

/// Why a catalogue could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// The file could not be read.
    #[error("cannot read catalogue {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid catalogue; every problem found is listed.
    #[error("{}", ProblemList { origin, problems })]
    Invalid {
        /// The file name used in messages.
        origin: String,
        /// Every problem found, in file order.
        problems: Vec<Problem>,
    },
}

impl CatalogueError {
    pub(super) fn invalid(origin: &str, problems: Vec<Problem>) -> Self {
        Self::Invalid { origin: origin.to_owned(), problems }
    }

    /// The problems found (empty for I/O errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid { problems, .. } => problems,
            Self::Io { .. } => &[],
        }
    }
}

/// Formats problems one per line, compiler-style: `file:line:column: message`.
struct ProblemList<'a> {
    origin: &'a str,
    problems: &'a [Problem],
}

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}:{}: {}", self.origin, problem.at, problem.kind)?;
            if let Some(first) = problem.first {
                write!(f, " (first defined at {}:{first})", self.origin)?;
            }
        }
        Ok(())
    }
}
