//! Autoconfig placeholders (`%EMAILADDRESS%`, `%EMAILLOCALPART%`, `%EMAILDOMAIN%`).
//!
//! Detections are cached per domain, so they keep usernames as templates and render them for
//! each address only when a payload or a report is produced.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::EmailAddress;

/// One placeholder that autoconfig files and the catalogue may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `%EMAILADDRESS%`: the whole address.
    EmailAddress,
    /// `%EMAILLOCALPART%`: the part before the `@`.
    EmailLocalPart,
    /// `%EMAILDOMAIN%`: the domain, in ASCII.
    EmailDomain,
}

impl Placeholder {
    /// Every placeholder, in the order they are looked for.
    pub const ALL: [Self; 3] = [Self::EmailAddress, Self::EmailLocalPart, Self::EmailDomain];

    /// The placeholder as it is written, with its percent signs.
    pub const fn token(self) -> &'static str {
        match self {
            Self::EmailAddress => "%EMAILADDRESS%",
            Self::EmailLocalPart => "%EMAILLOCALPART%",
            Self::EmailDomain => "%EMAILDOMAIN%",
        }
    }

    fn value(self, email: &EmailAddress) -> &str {
        match self {
            Self::EmailAddress => email.as_str(),
            Self::EmailLocalPart => email.local_part(),
            Self::EmailDomain => email.domain(),
        }
    }

    /// Replaces every known placeholder in `template` with its value for `email`. Text that only
    /// looks like a placeholder (`%FOO%`) is left as it is.
    pub fn render_all(template: &str, email: &EmailAddress) -> String {
        let mut out = String::with_capacity(template.len() + email.as_str().len());
        let mut rest = template;
        'outer: while let Some(start) = rest.find('%') {
            out.push_str(&rest[..start]);
            let candidate = &rest[start..];
            for placeholder in Self::ALL {
                if let Some(after) = candidate.strip_prefix(placeholder.token()) {
                    out.push_str(placeholder.value(email));
                    rest = after;
                    continue 'outer;
                }
            }
            out.push('%');
            rest = &candidate[1..];
        }
        out.push_str(rest);
        out
    }

    /// Finds the first `%NAME%` sequence in `text` that is not one of `allowed`, returning it.
    /// Used by loaders to refuse typos such as `%EMAILADRESS%` instead of sending them verbatim.
    pub fn find_unknown<'a>(text: &'a str, allowed: &[Placeholder]) -> Option<&'a str> {
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find('%') {
            let candidate = &rest[start..];
            if let Some(known) = allowed.iter().find(|p| candidate.starts_with(p.token())) {
                let skip = start + known.token().len();
                offset += skip;
                rest = &rest[skip..];
                continue;
            }
            let end = candidate[1..].find('%').map_or(candidate.len(), |i| i + 2);
            let word = &candidate[..end];
            // A lone '%' followed by something that is not an uppercase name is ordinary text.
            if word.len() > 1 && word[1..].chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
                return Some(&text[offset + start..offset + start + end]);
            }
            offset += start + 1;
            rest = &rest[start + 1..];
        }
        None
    }
}

/// A username as a provider states it, possibly with placeholders.
///
/// ```
/// # use nativeauth_core as nativeauth;
/// use nativeauth::{EmailAddress, UsernameTemplate};
///
/// let email = EmailAddress::parse("alice@example.com")?;
/// assert_eq!(UsernameTemplate::email_address().render(&email), "alice@example.com");
/// assert_eq!(UsernameTemplate::new("%EMAILLOCALPART%").render(&email), "alice");
/// assert_eq!(UsernameTemplate::new("mail\\%EMAILLOCALPART%").render(&email), "mail\\alice");
/// # Ok::<(), nativeauth::EmailError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UsernameTemplate(String);

impl UsernameTemplate {
    /// A template from its text (placeholders are kept for rendering).
    pub fn new(template: impl Into<String>) -> Self {
        Self(template.into())
    }

    /// `%EMAILADDRESS%`, the most common username and the default.
    pub fn email_address() -> Self {
        Self(Placeholder::EmailAddress.token().to_owned())
    }

    /// The template text, placeholders included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The username for `email`.
    pub fn render(&self, email: &EmailAddress) -> String {
        Placeholder::render_all(&self.0, email)
    }

    /// Whether the template names one user rather than a rule for every user: it has no
    /// placeholder, or it spells out this address's local part.
    pub fn is_personal_to(&self, email: &EmailAddress) -> bool {
        let text = self.0.to_ascii_lowercase();
        let local = email.local_part().to_ascii_lowercase();
        !Placeholder::ALL.iter().any(|p| self.0.contains(p.token()))
            || (local.len() >= 3 && text.contains(&local))
    }
}

impl Default for UsernameTemplate {
    fn default() -> Self {
        Self::email_address()
    }
}

impl fmt::Debug for UsernameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UsernameTemplate({:?})", self.0)
    }
}

impl fmt::Display for UsernameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for UsernameTemplate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UsernameTemplate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> EmailAddress {
        EmailAddress::parse("Jane.Doe@Bücher.example").unwrap()
    }

    #[test]
    fn renders_every_placeholder() {
        let email = email();
        let t = UsernameTemplate::new("%EMAILLOCALPART%|%EMAILDOMAIN%|%EMAILADDRESS%");
        assert_eq!(
            t.render(&email),
            "Jane.Doe|xn--bcher-kva.example|Jane.Doe@xn--bcher-kva.example"
        );
    }

    #[test]
    fn leaves_other_text_alone() {
        let email = email();
        assert_eq!(UsernameTemplate::new("plain").render(&email), "plain");
        assert_eq!(UsernameTemplate::new("100%").render(&email), "100%");
        assert_eq!(UsernameTemplate::new("%%EMAILLOCALPART%%").render(&email), "%Jane.Doe%");
        assert_eq!(UsernameTemplate::new("%EMAILADDRESS").render(&email), "%EMAILADDRESS");
        assert_eq!(UsernameTemplate::new("%FOO%").render(&email), "%FOO%");
    }

    #[test]
    fn placeholders_are_case_sensitive() {
        assert_eq!(UsernameTemplate::new("%emailaddress%").render(&email()), "%emailaddress%");
    }

    #[test]
    fn finds_unknown_placeholders() {
        let all = &Placeholder::ALL;
        assert_eq!(Placeholder::find_unknown("%EMAILADDRESS%", all), None);
        assert_eq!(Placeholder::find_unknown("100% sure", all), None);
        assert_eq!(Placeholder::find_unknown("a%EMAILADRESS%", all), Some("%EMAILADRESS%"));
        assert_eq!(
            Placeholder::find_unknown("%EMAILLOCALPART%x%EMAILADDRESS", all),
            Some("%EMAILADDRESS")
        );
        let domain_only = &[Placeholder::EmailDomain];
        assert_eq!(Placeholder::find_unknown("mail.%EMAILDOMAIN%", domain_only), None);
        assert_eq!(
            Placeholder::find_unknown("%EMAILLOCALPART%.x", domain_only),
            Some("%EMAILLOCALPART%")
        );
    }
}
