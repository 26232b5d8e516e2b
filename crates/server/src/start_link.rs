//! Signed start links: the app may sign the link it sends its user to,
//! `/?state=…&email=…&exp=<unix>&sig=<hex>`, so that the address and the expiry cannot be
//! changed on the way. `sig` is HMAC-SHA256, keyed with HKDF-SHA256(`NATIVEAUTH_APP_SECRET`,
//! `nativeauth/v1/start-link`), over `"v1\n" + exp + "\n" + state + "\n" + email`.
//!
//! A signed link does not stop someone from handing another person a link of their own (anyone
//! can get a signed link for their own account): the app's comparison of `state` with its own
//! session is what stops that.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::hmac;

/// The HKDF label of the start-link key.
pub const START_LINK_LABEL: &str = "nativeauth/v1/start-link";
/// How far ahead a link's expiry may lie.
pub const MAX_START_LINK_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// Why a start link cannot be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartLinkError {
    /// `state` or `email` holds a line break, which would make the signed bytes ambiguous.
    #[error("state and email may not contain a line break")]
    LineBreak,
    /// The page URL is not a URL.
    #[error("the login page URL is not a valid URL")]
    PageUrl,
}

fn key(app_secret: &[u8]) -> hmac::Key {
    hmac::Key::new(
        hmac::HMAC_SHA256,
        nativeauth::keys::DerivedKey::from_secret(app_secret, START_LINK_LABEL).bytes(),
    )
}

fn message(expires: u64, state: &str, email: &str) -> Result<Vec<u8>, StartLinkError> {
    if [state, email].iter().any(|v| v.contains(['\n', '\r'])) {
        return Err(StartLinkError::LineBreak);
    }
    Ok(format!("v1\n{expires}\n{state}\n{email}").into_bytes())
}

/// The link to the login page at `page_url` (such as `https://login.example.com/`) for a user
/// of the app whose session holds `state`, pinned to `email` (empty: any address), valid until
/// `expires` (Unix seconds, at most an hour ahead), signed with the app secret.
///
/// ```
/// let link = nativeauth_server::signed_start_link(
///     "https://login.example.com/", "the-app-secret", "session-7f3a", "ann@example.com",
///     1_900_000_000,
/// )?;
/// assert!(link.starts_with("https://login.example.com/?state=session-7f3a&email=ann%40example.com&exp=1900000000&sig="));
/// # Ok::<(), nativeauth_server::StartLinkError>(())
/// ```
///
/// # Errors
/// [`StartLinkError`] for a line break in a value or a page URL that is not a URL.
pub fn signed_start_link(
    page_url: &str,
    app_secret: &str,
    state: &str,
    email: &str,
    expires: u64,
) -> Result<String, StartLinkError> {
    let signed = message(expires, state, email)?;
    let sig = crate::signing::hex(hmac::sign(&key(app_secret.as_bytes()), &signed).as_ref());
    let mut url = reqwest::Url::parse(page_url).map_err(|_| StartLinkError::PageUrl)?;
    url.query_pairs_mut()
        .append_pair("state", state)
        .append_pair("email", email)
        .append_pair("exp", &expires.to_string())
        .append_pair("sig", &sig);
    Ok(url.into())
}

/// What the page learnt from a link's `exp` and `sig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkCheck {
    /// Neither is present.
    Unsigned,
    /// A genuine, current signature.
    Signed,
    /// Missing half, forged, altered, expired or too far ahead.
    Invalid,
}

/// Checks a link's signature against the app secret.
pub(crate) fn check(
    app_secret: &[u8],
    state: &str,
    email: &str,
    exp: Option<&str>,
    sig: Option<&str>,
) -> LinkCheck {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    check_at(app_secret, state, email, exp, sig, now)
}

fn check_at(
    app_secret: &[u8],
    state: &str,
    email: &str,
    exp: Option<&str>,
    sig: Option<&str>,
    now: u64,
) -> LinkCheck {
    let (exp, sig) = match (exp, sig) {
        (None, None) => return LinkCheck::Unsigned,
        (Some(exp), Some(sig)) => (exp, sig),
        _ => return LinkCheck::Invalid,
    };
    let Ok(expires) = exp.parse::<u64>() else { return LinkCheck::Invalid };
    if expires < now || expires > now + MAX_START_LINK_LIFETIME.as_secs() {
        return LinkCheck::Invalid;
    }
    let (Ok(signed), Some(tag)) = (message(expires, state, email), crate::signing::unhex(sig))
    else {
        return LinkCheck::Invalid;
    };
    match hmac::verify(&key(app_secret), &signed, &tag) {
        Ok(()) => LinkCheck::Signed,
        Err(_) => LinkCheck::Invalid,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parts(link: &str) -> (String, String) {
        let url = reqwest::Url::parse(link).unwrap();
        let get = |name: &str| url.query_pairs().find(|(k, _)| k == name).unwrap().1.into_owned();
        (get("exp"), get("sig"))
    }

    #[test]
    fn a_link_verifies_until_it_expires_and_not_once_altered() {
        let now = 1_800_000_000;
        let link =
            signed_start_link("https://l.example/", "secret", "s 1", "a@b.c", now + 60).unwrap();
        let (exp, sig) = parts(&link);
        let check = |state, email, exp: &str, sig: &str, at| {
            check_at(b"secret", state, email, Some(exp), Some(sig), at)
        };
        assert_eq!(check("s 1", "a@b.c", &exp, &sig, now), LinkCheck::Signed);
        assert_eq!(check("s 1", "a@b.c", &exp, &sig, now + 61), LinkCheck::Invalid, "expired");
        assert_eq!(check("s 2", "a@b.c", &exp, &sig, now), LinkCheck::Invalid, "state altered");
        assert_eq!(check("s 1", "x@b.c", &exp, &sig, now), LinkCheck::Invalid, "email altered");
        assert_eq!(check("s 1", "", &exp, &sig, now), LinkCheck::Invalid, "email dropped");
        let later = (now + 120).to_string();
        assert_eq!(check("s 1", "a@b.c", &later, &sig, now), LinkCheck::Invalid, "exp altered");
        assert_eq!(
            check_at(b"other", "s 1", "a@b.c", Some(&exp), Some(&sig), now),
            LinkCheck::Invalid
        );
        assert_eq!(check_at(b"secret", "s", "", None, None, now), LinkCheck::Unsigned);
        assert_eq!(check_at(b"secret", "s", "", Some(&exp), None, now), LinkCheck::Invalid);
        let far = signed_start_link("https://l.example/", "secret", "s", "", now + 3601).unwrap();
        let (exp, sig) = parts(&far);
        assert_eq!(check("s", "", &exp, &sig, now), LinkCheck::Invalid, "too far ahead");
        assert_eq!(
            signed_start_link("https://l.example/", "secret", "a\nb", "", now),
            Err(StartLinkError::LineBreak)
        );
    }
}
