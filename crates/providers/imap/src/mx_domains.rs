//! The domains an MX host points at: where a domain that does not publish its own settings may
//! find them (its mail host's autoconfig or ISPDB entry).

use nativeauth_core::plugin::{has_registrable_domain, registrable_domain};

/// The domains derived from a domain's MX host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxDomains {
    /// The MX host itself.
    pub host: String,
    /// The host minus its first label (`mx.premium.europe.example.com` →
    /// `premium.europe.example.com`), when that is still within the registrable domain.
    pub full: Option<String>,
    /// The registrable base domain by the Public Suffix List (`example.com`).
    pub base: String,
}

impl MxDomains {
    /// The distinct domains to try, most specific first.
    pub fn candidates(&self) -> Vec<&str> {
        let mut out = Vec::with_capacity(2);
        if let Some(full) = &self.full {
            out.push(full.as_str());
        }
        if self.full.as_deref() != Some(self.base.as_str()) {
            out.push(self.base.as_str());
        }
        out
    }
}

/// The MX-derived domains, or `None` when the MX host is within the email domain's own
/// registrable domain (the domain hosts its own mail: nothing to learn), has no registrable
/// domain, or is empty.
///
/// ```
/// use nativeauth_imap::mx_domains;
///
/// let d = mx_domains("MX.Premium.Europe.Example.com.", "customer.test").unwrap();
/// assert_eq!(d.candidates(), ["premium.europe.example.com", "example.com"]);
/// assert!(mx_domains("mail.customer.test", "customer.test").is_none());
/// assert_eq!(mx_domains("mx1.example.co.uk", "a.test").unwrap().candidates(), ["example.co.uk"]);
/// ```
pub fn mx_domains(mx_host: &str, email_domain: &str) -> Option<MxDomains> {
    let host = mx_host.trim_end_matches('.').to_ascii_lowercase();
    if !has_registrable_domain(&host) {
        return None;
    }
    let base = registrable_domain(&host).to_owned();
    if base == registrable_domain(email_domain) {
        return None;
    }
    let full = host
        .split_once('.')
        .map(|(_, rest)| rest.to_owned())
        .filter(|rest| rest == &base || rest.ends_with(&format!(".{base}")));
    Some(MxDomains { host, full, base })
}
