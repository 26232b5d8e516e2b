//! The imap provider's options, set with
//! `DiscoveryConfig::builder().provider_options(ImapOptions { .. })`.

use std::time::Duration;

use nativeauth_core::Url;

/// The public Thunderbird ISPDB; the domain is appended.
pub const DEFAULT_ISPDB_URL: &str = "https://autoconfig.thunderbird.net/v1.1/";

/// The ports probed when guessing (IMAP with TLS, IMAP with STARTTLS, SMTP submission with
/// TLS, with STARTTLS). Only test setups change these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbePorts {
    /// Default 993.
    pub imaps: u16,
    /// Default 143.
    pub imap: u16,
    /// Default 465.
    pub submissions: u16,
    /// Default 587.
    pub submission: u16,
}

impl Default for ProbePorts {
    fn default() -> Self {
        Self { imaps: 993, imap: 143, submissions: 465, submission: 587 }
    }
}

/// How the imap provider looks for settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImapOptions {
    /// The ISPDB base URL (the domain is appended), or `None` to skip the ISPDB.
    /// Default: [`DEFAULT_ISPDB_URL`].
    pub ispdb_url: Option<Url>,
    /// Also try the domain's autoconfig over plain http; answers found that way are
    /// unverified. Default: `false`.
    pub allow_http: bool,
    /// Guess host names and probe them when no other source answers (no credentials are ever
    /// sent). Default: `true`.
    pub guess: bool,
    /// The ports probed when guessing. Default: 993, 143, 465, 587.
    pub probe_ports: ProbePorts,
    /// Timeout of one probe. Default: 3 seconds.
    pub probe_timeout: Duration,
}

impl Default for ImapOptions {
    fn default() -> Self {
        Self {
            ispdb_url: Url::parse(DEFAULT_ISPDB_URL).ok(),
            allow_http: false,
            guess: true,
            probe_ports: ProbePorts::default(),
            probe_timeout: Duration::from_secs(3),
        }
    }
}

impl ImapOptions {
    /// The ISPDB base URL, or `None` to skip the ISPDB. A base without a trailing slash gets
    /// one, so that the domain is appended rather than replacing the last path segment.
    #[must_use]
    pub fn ispdb_url(mut self, url: Option<Url>) -> Self {
        self.ispdb_url = url.map(|mut url| {
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            url
        });
        self
    }

    /// Whether plain-http autoconfig is tried (answers are then unverified).
    #[must_use]
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Whether guessing and probing is the last resort.
    #[must_use]
    pub fn guess(mut self, guess: bool) -> Self {
        self.guess = guess;
        self
    }

    /// The ports probed when guessing.
    #[must_use]
    pub fn probe_ports(mut self, ports: ProbePorts) -> Self {
        self.probe_ports = ports;
        self
    }

    /// Timeout of one probe.
    #[must_use]
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }
}
