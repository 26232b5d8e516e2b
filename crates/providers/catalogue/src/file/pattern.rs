//! Domain and MX-host patterns, matched on label boundaries.
//!
//! Matching works on labels, never on raw suffixes, so `notaol.com` cannot match `aol.com` and
//! `gmail.com.evil.example` cannot match anything of Google's.

use std::fmt;

/// An MX host pattern from the catalogue.
///
/// * A leading `*.` label stands for one or more labels: `*.google.com` matches
///   `aspmx.l.google.com` but not `google.com`.
/// * A `*` inside any other label stands for any run of characters within that label:
///   `mx*.zoho.com` matches `mx.zoho.com` and `mx2.zoho.com`, not `mx.eu.zoho.com`.
///
/// ```
/// # mod nativeauth { pub use nativeauth_core::*; pub use nativeauth_catalogue as catalogue; }
/// use nativeauth::catalogue::MxPattern;
///
/// let google = MxPattern::parse("*.google.com")?;
/// assert!(google.matches("aspmx.l.google.com."));
/// assert!(!google.matches("google.com"));
/// assert!(!google.matches("google.com.evil.example"));
/// let zoho = MxPattern::parse("mx*.zoho.com")?;
/// assert!(zoho.matches("MX2.zoho.com"));
/// # Ok::<(), nativeauth::catalogue::PatternError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct MxPattern {
    text: String,
    /// Whether the pattern starts with `*.` (one or more labels of any value).
    any_prefix: bool,
    /// The remaining labels, left to right.
    labels: Vec<String>,
}

/// Why a domain or MX pattern is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// Upper-case letters: patterns are written in lowercase.
    #[error("must be lowercase")]
    NotLowercase,
    /// Non-ASCII characters: use the punycode form.
    #[error("must be ASCII; write internationalised names in punycode ({suggestion})")]
    NotAscii {
        /// The punycode form, when one exists.
        suggestion: String,
    },
    /// An empty label (`a..b`, a leading or trailing dot).
    #[error("has an empty label")]
    EmptyLabel,
    /// Fewer than two labels after any `*.` prefix.
    #[error("needs at least two labels after any '*.' (such as example.com)")]
    TooFewLabels,
    /// A character that cannot appear in a host name (or a `*` where none may be).
    #[error("contains {0:?}, which is not allowed here")]
    ForbiddenCharacter(char),
    /// A label of more than 63 characters.
    #[error("has a label longer than 63 characters")]
    LabelTooLong,
}

impl MxPattern {
    /// Parses a pattern (see the type's documentation for the syntax).
    ///
    /// # Errors
    /// [`PatternError`] when the pattern is not lowercase ASCII, has an empty label, fewer than
    /// two fixed labels, or a character other than `a-z 0-9 - *`.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let (any_prefix, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let labels = check_labels(rest, true)?;
        Ok(Self { text: text.to_owned(), any_prefix, labels })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `host` (any case, trailing dot allowed) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host);
        let lowered;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered = host.to_ascii_lowercase();
            lowered.as_str()
        } else {
            host
        };
        // Compare from the right: the fixed labels first, then whatever is left over.
        let mut labels = host.rsplit('.');
        for pattern in self.labels.iter().rev() {
            match labels.next() {
                Some(label) if label_matches(pattern, label) => {}
                _ => return false,
            }
        }
        if self.any_prefix {
            let mut extra = labels.peekable();
            extra.peek().is_some() && extra.all(|label| !label.is_empty())
        } else {
            labels.next().is_none()
        }
    }
}

impl fmt::Debug for MxPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MxPattern({:?})", self.text)
    }
}

impl fmt::Display for MxPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Whether one lowercase host label matches one pattern label, where `*` is any run of
/// characters.
fn label_matches(pattern: &str, label: &str) -> bool {
    if label.is_empty() {
        return false;
    }
    let Some((first, stars)) = pattern.split_once('*') else {
        return pattern == label;
    };
    let Some(mut rest) = label.strip_prefix(first) else {
        return false;
    };
    let mut pieces = stars.split('*').peekable();
    while let Some(piece) = pieces.next() {
        if pieces.peek().is_none() {
            // The last piece is anchored at the end of the label.
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Validates a dot-separated name whose labels are `a-z 0-9 -` (and `*` if `allow_star`),
/// returning the labels.
fn check_labels(name: &str, allow_star: bool) -> Result<Vec<String>, PatternError> {
    if !name.is_ascii() {
        let suggestion = idna::domain_to_ascii(name).unwrap_or_default();
        return Err(PatternError::NotAscii { suggestion });
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(PatternError::NotLowercase);
    }
    let labels: Vec<String> = name.split('.').map(str::to_owned).collect();
    for label in &labels {
        if label.is_empty() {
            return Err(PatternError::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(PatternError::LabelTooLong);
        }
        let allowed = |c: char| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == '-'
                || c == '_'
                || (allow_star && c == '*')
        };
        if let Some(bad) = label.chars().find(|&c| !allowed(c)) {
            return Err(PatternError::ForbiddenCharacter(bad));
        }
    }
    if labels.len() < 2 {
        return Err(PatternError::TooFewLabels);
    }
    Ok(labels)
}

/// Validates a catalogue domain: `example.com` or `*.example.com`, lowercase ASCII.
///
/// # Errors
/// [`PatternError`] as for [`MxPattern::parse`], and `*` anywhere but a leading `*.`.
pub fn check_domain(domain: &str) -> Result<(), PatternError> {
    let rest = domain.strip_prefix("*.").unwrap_or(domain);
    check_labels(rest, false).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, host: &str) -> bool {
        MxPattern::parse(pattern).unwrap().matches(host)
    }

    #[test]
    fn exact_patterns_match_the_whole_host_only() {
        assert!(m("aspmx.l.google.com", "aspmx.l.google.com"));
        assert!(m("aspmx.l.google.com", "ASPMX.L.GOOGLE.COM."));
        assert!(!m("aspmx.l.google.com", "alt1.aspmx.l.google.com"));
        assert!(!m("aspmx.l.google.com", "aspmx.l.google.com.evil.example"));
        assert!(!m("aspmx.l.google.com", "xaspmx.l.google.com"));
    }

    #[test]
    fn leading_star_label_needs_at_least_one_label() {
        assert!(m("*.google.com", "alt1.aspmx.l.google.com"));
        assert!(m("*.google.com", "smtp.google.com"));
        assert!(!m("*.google.com", "google.com"));
        assert!(!m("*.google.com", "notgoogle.com"));
        assert!(!m("*.google.com", "evilgoogle.com"));
        assert!(!m("*.google.com", "google.com.evil.example"));
        assert!(!m("*.google.com", ".google.com"));
    }

    #[test]
    fn star_inside_a_label_stays_within_it() {
        assert!(m("mx*.zoho.com", "mx.zoho.com"));
        assert!(m("mx*.zoho.com", "mx3.zoho.com"));
        assert!(!m("mx*.zoho.com", "mx.eu.zoho.com"));
        assert!(!m("mx*.zoho.com", "smx.zoho.com"));
        assert!(m("in*-smtp.messagingengine.com", "in1-smtp.messagingengine.com"));
        assert!(m("in*-smtp.messagingengine.com", "in-smtp.messagingengine.com"));
        assert!(!m("in*-smtp.messagingengine.com", "in1-smtpx.messagingengine.com"));
        assert!(m("a*b*c.example.com", "axxbyyc.example.com"));
        assert!(!m("a*b*c.example.com", "axxcyyb.example.com"));
    }

    #[test]
    fn refuses_malformed_patterns() {
        assert_eq!(MxPattern::parse("Mx.example.com"), Err(PatternError::NotLowercase));
        assert_eq!(MxPattern::parse("mx..example.com"), Err(PatternError::EmptyLabel));
        assert_eq!(MxPattern::parse("*.com"), Err(PatternError::TooFewLabels));
        assert_eq!(MxPattern::parse("mx example.com"), Err(PatternError::ForbiddenCharacter(' ')));
        assert!(matches!(
            MxPattern::parse("mx.bücher.example"),
            Err(PatternError::NotAscii { .. })
        ));
    }

    #[test]
    fn checks_catalogue_domains() {
        assert_eq!(check_domain("gmail.com"), Ok(()));
        assert_eq!(check_domain("*.example.co.uk"), Ok(()));
        assert_eq!(check_domain("Gmail.com"), Err(PatternError::NotLowercase));
        assert_eq!(check_domain("mx*.example.com"), Err(PatternError::ForbiddenCharacter('*')));
        assert_eq!(check_domain("com"), Err(PatternError::TooFewLabels));
        assert_eq!(
            check_domain("bücher.example"),
            Err(PatternError::NotAscii { suggestion: "xn--bcher-kva.example".into() })
        );
    }
}
