//! The scopes an app may request, validated before any request.

use std::fmt;
use std::str::FromStr;

/// Every scope the v2 API knows.
const KNOWN_SCOPES: [&str; 13] = [
    "email",
    "email.modify",
    "email.read_only",
    "email.send",
    "email.folders_and_labels",
    "email.metadata",
    "email.drafts",
    "calendar",
    "calendar.read_only",
    "calendar.free_busy",
    "room_resources.read_only",
    "contacts",
    "contacts.read_only",
];

/// A validated, non-empty, duplicate-free list of scopes; serialised as one comma-separated
/// string, as the API wants.
///
/// ```
/// # use nativeauth_core as nativeauth;
/// use nativeauth::connect::Scopes;
///
/// let scopes: Scopes = "email.read_only, calendar".parse()?;
/// assert_eq!(scopes.to_string(), "email.read_only,calendar");
/// assert!("email,mail.read".parse::<Scopes>().is_err());
/// # Ok::<(), nativeauth::connect::ScopeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<&'static str>);

/// Why a scope list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// No scope at all.
    #[error("no scopes given; valid scopes: {}", KNOWN_SCOPES.join(", "))]
    Empty,
    /// A scope the API does not know.
    #[error("unknown scope {scope:?}; valid scopes: {}", KNOWN_SCOPES.join(", "))]
    Unknown {
        /// The scope as given.
        scope: String,
    },
}

impl Scopes {
    /// Every scope the v2 API knows.
    pub const KNOWN: &'static [&'static str] = &KNOWN_SCOPES;

    /// Validates scopes (surrounding white space is ignored, duplicates are dropped).
    ///
    /// # Errors
    /// [`ScopeError`] for an empty list or an unknown scope.
    pub fn new<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Result<Self, ScopeError> {
        let mut known = Vec::new();
        for scope in scopes.into_iter().map(str::trim).filter(|s| !s.is_empty()) {
            let Some(&canonical) = KNOWN_SCOPES.iter().find(|k| **k == scope) else {
                return Err(ScopeError::Unknown { scope: scope.to_owned() });
            };
            if !known.contains(&canonical) {
                known.push(canonical);
            }
        }
        if known.is_empty() {
            return Err(ScopeError::Empty);
        }
        Ok(Self(known))
    }

    /// The scopes, in the order given.
    pub fn as_slice(&self) -> &[&'static str] {
        &self.0
    }
}

impl FromStr for Scopes {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s.split(','))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

impl serde::Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_scopes_and_joins_them_with_commas() {
        let scopes = Scopes::new(["email.modify", " email.send ", "email.modify"]).unwrap();
        assert_eq!(scopes.to_string(), "email.modify,email.send");
        assert_eq!(serde_json::to_string(&scopes).unwrap(), "\"email.modify,email.send\"");
        let every: Scopes = KNOWN_SCOPES.join(",").parse().unwrap();
        assert_eq!(every.as_slice().len(), 13);
    }

    #[test]
    fn rejects_unknown_and_empty_lists_naming_the_valid_ones() {
        let error = "email,Email.Send".parse::<Scopes>().unwrap_err();
        assert_eq!(error, ScopeError::Unknown { scope: "Email.Send".into() });
        assert!(error.to_string().contains("email.send, email.folders_and_labels"));
        assert_eq!(" , ".parse::<Scopes>(), Err(ScopeError::Empty));
    }
}
