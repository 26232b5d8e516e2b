//! The page's two cookies, both signed with the cookie key and `HttpOnly`, `SameSite=Strict`
//! (and `Secure` on https):
//!
//! * the CSRF cookie holds a random token; forms carry its HMAC, so a site that can plant a
//!   cookie still cannot forge the matching field (signed double submit);
//! * the state cookie keeps the app's `state` (≤ 512 bytes) for 30 minutes, with its expiry
//!   inside the signature.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

use crate::signing::{hex, hmac_hex, random_token, verify_hex};

pub(crate) const CSRF_COOKIE: &str = "nativeauth_csrf";
pub(crate) const STATE_COOKIE: &str = "nativeauth_state";
/// The longest `state` the app may pass.
pub(crate) const STATE_LIMIT: usize = 512;
/// How long the state cookie (and so a half-finished sign-in) lasts.
const STATE_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The value of cookie `name` in the request.
pub(crate) fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value.
pub(crate) fn set(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        max_age.as_secs()
    )
}

/// The CSRF token of this browser (a new one when it has none) and the form field matching it.
pub(crate) fn csrf_token(key: &[u8], headers: &HeaderMap) -> (String, String) {
    let token = read(headers, CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(random_token, str::to_owned);
    let field = hmac_hex(key, format!("csrf.{token}").as_bytes());
    (token, field)
}

/// Whether `field` (from a form or the `X-CSRF-Token` header) matches the browser's cookie.
pub(crate) fn csrf_valid(key: &[u8], headers: &HeaderMap, field: &str) -> bool {
    read(headers, CSRF_COOKIE)
        .is_some_and(|token| verify_hex(key, format!("csrf.{token}").as_bytes(), field))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// The state cookie's value for `state`.
pub(crate) fn state_value(key: &[u8], state: &str) -> String {
    let expires = now() + STATE_LIFETIME.as_secs();
    let encoded = hex(state.as_bytes());
    let tag = hmac_hex(key, format!("state.{encoded}.{expires}").as_bytes());
    format!("{encoded}.{expires}.{tag}")
}

/// The `Set-Cookie` value keeping `state`.
pub(crate) fn state_cookie(key: &[u8], state: &str, secure: bool) -> String {
    set(STATE_COOKIE, &state_value(key, state), STATE_LIFETIME, secure)
}

/// The app's `state`, when the browser's cookie is genuine and not expired.
pub(crate) fn read_state(key: &[u8], headers: &HeaderMap) -> Option<String> {
    let mut parts = read(headers, STATE_COOKIE)?.split('.');
    let (encoded, expires, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !verify_hex(key, format!("state.{encoded}.{expires}").as_bytes(), tag)
    {
        return None;
    }
    if expires.parse::<u64>().ok()? < now() {
        return None;
    }
    let bytes = crate::signing::unhex(encoded)?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_cookie(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    #[test]
    fn the_csrf_field_matches_only_its_cookie() {
        let (token, field) = csrf_token(b"key", &HeaderMap::new());
        let headers = with_cookie(&format!("other=1; {CSRF_COOKIE}={token}"));
        assert!(csrf_valid(b"key", &headers, &field));
        assert!(!csrf_valid(b"other key", &headers, &field));
        assert!(!csrf_valid(b"key", &HeaderMap::new(), &field));
        let (other_token, _) = csrf_token(b"key", &HeaderMap::new());
        assert!(!csrf_valid(b"key", &with_cookie(&format!("{CSRF_COOKIE}={other_token}")), &field));
        // The same browser keeps its token.
        assert_eq!(csrf_token(b"key", &headers), (token, field));
    }

    #[test]
    fn state_round_trips_and_tampering_is_refused() {
        let state = "user=42&next=/inbox; ünïcode";
        let value = state_value(b"key", state);
        assert_eq!(
            read_state(b"key", &with_cookie(&format!("{STATE_COOKIE}={value}"))).as_deref(),
            Some(state)
        );
        assert_eq!(read_state(b"other", &with_cookie(&format!("{STATE_COOKIE}={value}"))), None);
        let forged = value.replacen(&hex(b"u"), &hex(b"v"), 1);
        assert_eq!(read_state(b"key", &with_cookie(&format!("{STATE_COOKIE}={forged}"))), None);
        let encoded = hex(state.as_bytes());
        let tag = hmac_hex(b"key", format!("state.{encoded}.1").as_bytes());
        let expired = format!("{STATE_COOKIE}={encoded}.1.{tag}");
        assert_eq!(read_state(b"key", &with_cookie(&expired)), None);
    }
}
