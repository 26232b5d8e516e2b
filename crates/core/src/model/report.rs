//! The report of one discovery: the best answer, the runners-up, and every step tried.

use std::time::Duration;

use serde::Serialize;

use super::{Detection, EmailAddress, EmailError};

/// What one step of a discovery ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Outcome {
    /// It produced a detection.
    Found,
    /// It answered, and the answer was "nothing here".
    Nothing,
    /// It was not run (offline, disabled, or not applicable).
    Skipped,
    /// It failed; the detail says why.
    Error,
    /// It did not finish before the deadline.
    Timeout,
    /// A better answer was in hand, so it was stopped.
    Cancelled,
}

impl Outcome {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Found => "found",
            Self::Nothing => "nothing",
            Self::Skipped => "skipped",
            Self::Error => "error",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One thing tried during a discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Which source or provider acted (`catalogue`, `mx`, `autoconfig`, …).
    pub source: String,
    /// What it looked at: a domain, a DNS name, a URL.
    pub target: String,
    /// When it started, from the start of the discovery.
    pub start: Duration,
    /// How long it took.
    pub duration: Duration,
    /// How it ended.
    pub outcome: Outcome,
    /// Why, in a few words.
    pub detail: String,
}

/// The kind of failure when a discovery found nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FailureKind {
    /// The input was not a valid address.
    InvalidEmail,
    /// Every source answered and none knew the domain.
    NotFound,
    /// Sources failed on the network, so the answer is unknown rather than "nothing".
    Network,
    /// The deadline passed before any source answered.
    Timeout,
    /// The domain does not exist (its DNS answered NXDOMAIN): no mailbox can be there.
    NoSuchDomain,
    /// The domain publishes a null MX (RFC 7505): it accepts no mail.
    NullMx,
    /// The domain's DNS servers did not answer before the resolver gave up.
    DnsTimeout,
    /// Too many discoveries were using the network (`max_network_discoveries`): this one was
    /// refused at once, without asking anything. Try again shortly.
    Busy,
}

impl FailureKind {
    /// Whether the answer is known to be "no mailbox here" (as opposed to "could not find
    /// out"): nothing found, no such domain, a null MX.
    pub const fn is_definite(self) -> bool {
        matches!(self, Self::NotFound | Self::NoSuchDomain | Self::NullMx)
    }
}

/// Why a report has no answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The kind of failure.
    pub kind: FailureKind,
    /// A sentence for a person.
    pub message: String,
}

/// Everything one discovery found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The address asked about.
    pub email: EmailAddress,
    /// The best answer, if any.
    pub best: Option<Detection>,
    /// Other answers, best first.
    pub alternatives: Vec<Detection>,
    /// Every step, in the order they started.
    pub trace: Vec<Step>,
    /// Wall time of the whole discovery.
    pub elapsed: Duration,
    /// Why there is no answer (`None` when `best` is set).
    pub failure: Option<Failure>,
    /// A likely correction of a mistyped address (`gmial.com` → `gmail.com`), offered when the
    /// domain does not exist, accepts no mail, or (offline) is unknown and close to a popular
    /// one. Never set for a domain that exists and has mail.
    pub suggestion: Option<EmailAddress>,
}

impl Report {
    /// Whether a provider was found.
    pub fn is_detected(&self) -> bool {
        self.best.is_some()
    }
}

impl Failure {
    /// The failure for an address that did not parse.
    pub fn invalid_email(error: &EmailError) -> Self {
        Self { kind: FailureKind::InvalidEmail, message: error.to_string() }
    }
}
