//! The email address, parsed once at the edge.
//!
//! Everything nativeauth derives (domains to look up, hosts to fetch, usernames to render) comes
//! from this type, so parsing is strict: an address that could not be a real mailbox is refused
//! with an error that says what is wrong, and never reaches DNS or HTTP.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Longest local part accepted, in octets (RFC 5321 §4.5.3.1.1).
pub(crate) const MAX_LOCAL_PART_LEN: usize = 64;
/// Longest domain accepted, in octets of its ASCII (punycode) form (RFC 1035 §2.3.4, without
/// the root label).
pub(crate) const MAX_DOMAIN_LEN: usize = 253;

/// A syntactically valid email address, normalised for lookups.
///
/// * surrounding white space is trimmed;
/// * the domain is converted to lowercase ASCII with IDNA (UTS #46, punycode for non-ASCII
///   labels) and a trailing dot is removed;
/// * the local part is kept as typed (local parts are case-sensitive in principle, and
///   non-ASCII local parts are allowed as in RFC 6531).
///
/// IP-literal domains (`user@[192.0.2.1]`), quoted local parts and single-label domains are
/// refused: none of them names a mailbox a provider can be detected for.
///
/// ```
/// # use nativeauth_core as nativeauth;
/// use nativeauth::EmailAddress;
///
/// let email: EmailAddress = " Straße@Bücher.example. ".parse()?;
/// assert_eq!(email.local_part(), "Straße");
/// assert_eq!(email.domain(), "xn--bcher-kva.example");
/// assert_eq!(email.domain_unicode(), "bücher.example");
/// assert_eq!(email.as_str(), "Straße@xn--bcher-kva.example");
///
/// let tagged = EmailAddress::parse("user+tag@EXAMPLE.COM")?;
/// assert_eq!(tagged.to_string(), "user+tag@example.com");
/// # Ok::<(), nativeauth::EmailError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    /// `local@domain`, normalised.
    address: String,
    /// Byte offset of the `@` in `address`.
    at: usize,
    /// The domain as the user would read it (IDNA to Unicode).
    domain_unicode: String,
}

/// Why a string is not an email address nativeauth can work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Nothing but white space.
    #[error("the address is empty")]
    Empty,
    /// No `@` separates a local part from a domain.
    #[error("the address has no '@' between a local part and a domain")]
    MissingAt,
    /// The whole address is longer than [`EmailAddress::MAX_LEN`] octets.
    #[error("the address is {len} octets long; at most {max} are allowed", max = EmailAddress::MAX_LEN)]
    TooLong {
        /// Octets in the normalised address.
        len: usize,
    },
    /// The part before the `@` is not a valid local part.
    #[error("the local part (before '@') is invalid: {reason}")]
    InvalidLocalPart {
        /// What is wrong with it.
        reason: LocalPartProblem,
    },
    /// The part after the `@` is not a valid domain name.
    #[error("the domain {domain:?} is invalid: {reason}")]
    InvalidDomain {
        /// The domain as given.
        domain: String,
        /// What is wrong with it.
        reason: DomainProblem,
    },
    /// The domain is an IP address, which no provider can be detected for.
    #[error("the domain {domain:?} is an IP address literal; a domain name is required")]
    IpLiteral {
        /// The domain as given.
        domain: String,
    },
}

/// What is wrong with a local part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalPartProblem {
    /// Nothing before the `@`.
    #[error("it is empty")]
    Empty,
    /// More than 64 octets (RFC 5321).
    #[error("it is {0} octets long; at most {MAX_LOCAL_PART_LEN} are allowed")]
    TooLong(usize),
    /// Starts or ends with a dot, or has two dots in a row.
    #[error("it starts or ends with '.', or has '..'")]
    MisplacedDot,
    /// Quoted local parts (`"john doe"@example.com`) are valid in RFC 5322 but not supported.
    #[error("quoted local parts are not supported")]
    Quoted,
    /// A character that may not appear unquoted.
    #[error("it contains {0:?}, which is not allowed")]
    ForbiddenCharacter(char),
}

/// What is wrong with a domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainProblem {
    /// Nothing after the `@`.
    #[error("it is empty")]
    Empty,
    /// IDNA (UTS #46) processing refused it: a forbidden character, an empty label, a label
    /// that starts or ends with '-', or bad punycode.
    #[error("it is not a valid internationalised domain name")]
    Idna,
    /// Longer than 253 octets once converted to ASCII.
    #[error("it is {0} octets long in ASCII; at most {MAX_DOMAIN_LEN} are allowed")]
    TooLong(usize),
    /// A label longer than 63 octets.
    #[error("a label is longer than 63 octets")]
    LabelTooLong,
    /// Only one label (`user@localhost`): not a domain a mailbox provider serves.
    #[error("it has a single label; a dot-separated domain such as example.com is required")]
    SingleLabel,
    /// The top-level label is all digits, which no real top-level domain is.
    #[error("its last label is numeric")]
    NumericTld,
}

impl EmailAddress {
    /// Longest address accepted, in octets (RFC 5321 §4.5.3.1.3: a 256-octet path minus the
    /// brackets).
    pub const MAX_LEN: usize = 254;

    /// Parses and normalises an address. Same as `input.parse()`.
    ///
    /// # Errors
    /// [`EmailError`] says which part is wrong and why.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::MissingAt)?;
        validate_local_part(local)?;
        let ascii = normalise_domain(domain)?;
        let address = format!("{local}@{ascii}");
        if address.len() > Self::MAX_LEN {
            return Err(EmailError::TooLong { len: address.len() });
        }
        let (domain_unicode, unicode_result) = idna::domain_to_unicode(&ascii);
        // The ASCII form was validated already; fall back to it should display conversion fail.
        let domain_unicode = if unicode_result.is_ok() { domain_unicode } else { ascii.clone() };
        Ok(Self { at: local.len(), address, domain_unicode })
    }

    /// The normalised address, `local@domain` with the domain in lowercase ASCII.
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The local part, as typed.
    pub fn local_part(&self) -> &str {
        &self.address[..self.at]
    }

    /// The domain in lowercase ASCII (punycode), without a trailing dot: the form used for every
    /// lookup.
    pub fn domain(&self) -> &str {
        &self.address[self.at + 1..]
    }

    /// The domain in Unicode, for display.
    pub fn domain_unicode(&self) -> &str {
        &self.domain_unicode
    }
}

fn validate_local_part(local: &str) -> Result<(), EmailError> {
    let problem = |reason| Err(EmailError::InvalidLocalPart { reason });
    if local.is_empty() {
        return problem(LocalPartProblem::Empty);
    }
    if local.len() > MAX_LOCAL_PART_LEN {
        return problem(LocalPartProblem::TooLong(local.len()));
    }
    if local.starts_with('"') {
        return problem(LocalPartProblem::Quoted);
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return problem(LocalPartProblem::MisplacedDot);
    }
    if let Some(bad) = local.chars().find(|&c| !is_local_part_char(c)) {
        return problem(LocalPartProblem::ForbiddenCharacter(bad));
    }
    Ok(())
}

/// RFC 5322 `atext` plus `.`, and any non-ASCII character that is not a control or white space
/// (RFC 6531 `UTF8-non-ascii`).
fn is_local_part_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
    } else {
        !c.is_control() && !c.is_whitespace()
    }
}

fn normalise_domain(domain: &str) -> Result<String, EmailError> {
    let invalid = |reason| EmailError::InvalidDomain { domain: domain.to_owned(), reason };
    let without_root = domain.strip_suffix('.').unwrap_or(domain);
    if without_root.is_empty() {
        return Err(invalid(DomainProblem::Empty));
    }
    if without_root.starts_with('[') || without_root.parse::<Ipv4Addr>().is_ok() {
        return Err(EmailError::IpLiteral { domain: domain.to_owned() });
    }
    let ascii =
        idna::domain_to_ascii_strict(without_root).map_err(|_| invalid(DomainProblem::Idna))?;
    if ascii.len() > MAX_DOMAIN_LEN {
        return Err(invalid(DomainProblem::TooLong(ascii.len())));
    }
    if ascii.split('.').any(|label| label.len() > 63) {
        return Err(invalid(DomainProblem::LabelTooLong));
    }
    let Some((_, tld)) = ascii.rsplit_once('.') else {
        return Err(invalid(DomainProblem::SingleLabel));
    };
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(DomainProblem::NumericTld));
    }
    Ok(ascii)
}

impl FromStr for EmailAddress {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({:?})", self.address)
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<EmailAddress, EmailError> {
        EmailAddress::parse(s)
    }

    #[test]
    fn lowercases_the_domain_and_keeps_the_local_part() {
        let email = parse("  User+Tag@EXAMPLE.COM\t").unwrap();
        assert_eq!(email.local_part(), "User+Tag");
        assert_eq!(email.domain(), "example.com");
        assert_eq!(email.as_str(), "User+Tag@example.com");
    }

    #[test]
    fn converts_unicode_domains_to_punycode() {
        let email = parse("Straße@Bücher.example").unwrap();
        assert_eq!(email.local_part(), "Straße");
        assert_eq!(email.domain(), "xn--bcher-kva.example");
        assert_eq!(email.domain_unicode(), "bücher.example");
        let already = parse("a@xn--bcher-kva.example").unwrap();
        assert_eq!(already.domain(), "xn--bcher-kva.example");
        assert_eq!(already.domain_unicode(), "bücher.example");
    }

    #[test]
    fn removes_one_trailing_dot() {
        assert_eq!(parse("a@example.com.").unwrap().domain(), "example.com");
        assert!(matches!(parse("a@example.com.."), Err(EmailError::InvalidDomain { .. })));
    }

    #[test]
    fn splits_at_the_last_at_sign() {
        // An unquoted '@' in the local part is refused as a forbidden character.
        assert_eq!(
            parse("a@b@example.com"),
            Err(EmailError::InvalidLocalPart { reason: LocalPartProblem::ForbiddenCharacter('@') })
        );
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        assert_eq!(parse("   "), Err(EmailError::Empty));
        assert_eq!(parse("not an address"), Err(EmailError::MissingAt));
        assert_eq!(
            parse("@example.com"),
            Err(EmailError::InvalidLocalPart { reason: LocalPartProblem::Empty })
        );
        assert!(matches!(
            parse("a@"),
            Err(EmailError::InvalidDomain { reason: DomainProblem::Empty, .. })
        ));
        assert!(matches!(
            parse("john doe@example.com"),
            Err(EmailError::InvalidLocalPart { reason: LocalPartProblem::ForbiddenCharacter(' ') })
        ));
        assert!(matches!(
            parse("\"john\"@example.com"),
            Err(EmailError::InvalidLocalPart { reason: LocalPartProblem::Quoted })
        ));
        for dots in [".a@example.com", "a.@example.com", "a..b@example.com"] {
            assert_eq!(
                parse(dots),
                Err(EmailError::InvalidLocalPart { reason: LocalPartProblem::MisplacedDot }),
                "{dots}"
            );
        }
    }

    #[test]
    fn refuses_bad_domains() {
        let reason = |s: &str| match parse(s) {
            Err(EmailError::InvalidDomain { reason, .. }) => Some(reason),
            _ => None,
        };
        assert_eq!(reason("a@localhost"), Some(DomainProblem::SingleLabel));
        assert_eq!(reason("a@exa_mple.com"), Some(DomainProblem::Idna));
        assert_eq!(reason("a@-example.com"), Some(DomainProblem::Idna));
        assert_eq!(reason("a@exam ple.com"), Some(DomainProblem::Idna));
        assert_eq!(reason("a@example.123"), Some(DomainProblem::NumericTld));
        let long_label = format!("a@{}.com", "x".repeat(64));
        assert!(reason(&long_label).is_some());
    }

    #[test]
    fn refuses_ip_literals() {
        assert!(matches!(parse("a@[192.0.2.1]"), Err(EmailError::IpLiteral { .. })));
        assert!(matches!(parse("a@[IPv6:2001:db8::1]"), Err(EmailError::IpLiteral { .. })));
        assert!(matches!(parse("a@192.0.2.1"), Err(EmailError::IpLiteral { .. })));
    }

    #[test]
    fn enforces_length_limits() {
        let local = "x".repeat(65);
        assert_eq!(
            parse(&format!("{local}@example.com")),
            Err(EmailError::InvalidLocalPart { reason: LocalPartProblem::TooLong(65) })
        );
        // 64-octet local part + '@' + a 190-octet domain = 255 octets: one too many.
        let domain = format!("{}.{}.{}.com", "a".repeat(62), "b".repeat(62), "c".repeat(60));
        assert_eq!(domain.len(), 190);
        assert_eq!(
            parse(&format!("{}@{domain}", "x".repeat(64))),
            Err(EmailError::TooLong { len: 255 })
        );
        assert!(parse(&format!("{}@{domain}", "x".repeat(63))).is_ok());
    }

    #[test]
    fn accepts_non_ascii_local_parts_and_atext() {
        assert!(parse("用户@例子.广告").is_ok());
        assert!(parse("o'brien!#$%&*+-/=?^_`{|}~@example.org").is_ok());
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        let message = parse("not an address").unwrap_err().to_string();
        assert!(message.contains("no '@'"), "{message}");
        let message = parse("a@localhost").unwrap_err().to_string();
        assert!(message.contains("localhost") && message.contains("single label"), "{message}");
    }
}
