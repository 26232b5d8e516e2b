//! The page's two cookies, both signed with the cookie key and `HttpOnly`, `SameSite=Strict`
//! (and `Secure` on https):
//!
//! * the CSRF cookie holds a random token; forms carry its HMAC, so a site that can plant a
//!   cookie still cannot forge the matching field (signed double submit);
//! * the state cookie keeps the app's `state` (≤ 512 bytes), and the address a signed start
//!   link pinned, for 30 minutes, with its expiry inside the signature.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use crate::signing::{hex, hmac_hex, random_token, verify_hex};

pub(crate) const CSRF_COOKIE: &str = "nativeauth_csrf";
pub(crate) const STATE_COOKIE: &str = "nativeauth_state";
/// The longest `state` the app may pass.
pub(crate) const STATE_LIMIT: usize = 512;
/// How long the state cookie (and so a half-finished sign-in) lasts.
const STATE_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The name cookie `name` has: with `https`, the `__Host-` prefix, which browsers accept only
/// from this very host over https with `Path=/` and no `Domain` (so a sibling subdomain cannot
/// plant it).
pub(crate) fn full_name(name: &str, https: bool) -> String {
    if https { format!("__Host-{name}") } else { name.to_owned() }
}

/// The value of cookie `name` (with its prefix under `https`) in the request.
pub(crate) fn read<'a>(headers: &'a HeaderMap, name: &str, https: bool) -> Option<&'a str> {
    let name = full_name(name, https);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Which requests from other sites carry a cookie back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SameSite {
    /// None: the page's own cookies.
    Strict,
    /// Top-level navigations too: a flow that a provider's redirect back must find.
    Lax,
}

/// A `Set-Cookie` value, `SameSite=Strict`.
pub(crate) fn set(name: &str, value: &str, max_age: Duration, secure: bool) -> String {
    set_with(name, value, max_age, secure, SameSite::Strict)
}

/// A `Set-Cookie` value.
/// Scoped to the path the router is mounted at, but with `__Host-`, which requires `Path=/`.
pub(crate) fn set_with(
    name: &str,
    value: &str,
    max_age: Duration,
    secure: bool,
    same_site: SameSite,
) -> String {
    let name = full_name(name, secure);
    let base = crate::base_path::base_path();
    let path = if secure || base.is_empty() { "/".to_owned() } else { base };
    let secure = if secure { "; Secure" } else { "" };
    let same_site = match same_site {
        SameSite::Strict => "Strict",
        SameSite::Lax => "Lax",
    };
    format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite={same_site}{secure}",
        max_age.as_secs()
    )
}

/// Adds a `Set-Cookie` built by [`set`] to `response` (its names and values are header-safe
/// ASCII; one that were not would be left out rather than fail the response).
pub(crate) fn append(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// Adds a `Set-Cookie` that deletes cookie `name` to `response`.
pub(crate) fn remove(response: &mut Response, name: &str, secure: bool) {
    append(response, &set(name, "", Duration::ZERO, secure));
}

/// The CSRF token of this browser (a new one when it has none) and the form field matching it.
pub(crate) fn csrf_token(key: &[u8], headers: &HeaderMap, https: bool) -> (String, String) {
    let token = read(headers, CSRF_COOKIE, https)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(random_token, str::to_owned);
    let field = hmac_hex(key, format!("csrf.{token}").as_bytes());
    (token, field)
}

/// Whether `field` (from a form or the `X-CSRF-Token` header) matches the browser's cookie.
pub(crate) fn csrf_valid(key: &[u8], headers: &HeaderMap, field: &str, https: bool) -> bool {
    read(headers, CSRF_COOKIE, https)
        .is_some_and(|token| verify_hex(key, format!("csrf.{token}").as_bytes(), field))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// What the state cookie keeps from the link that opened the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Start {
    /// The app's `state`.
    pub(crate) state: Option<String>,
    /// The address a signed link pinned: no other mailbox may be linked from this page.
    pub(crate) pinned: Option<String>,
    /// The page was opened from a link the app signed.
    pub(crate) signed: bool,
    /// When a signed link expires (Unix seconds): the cookie does not outlive it. Written, not
    /// read back (the cookie's own expiry holds it).
    pub(crate) until: Option<u64>,
}

/// The state cookie's value for `start`: both parts hex-encoded, the expiry, and an HMAC over
/// all three.
pub(crate) fn start_value(key: &[u8], start: &Start) -> String {
    let expires = (now() + STATE_LIFETIME.as_secs()).min(start.until.unwrap_or(u64::MAX));
    let state = hex(start.state.as_deref().unwrap_or_default().as_bytes());
    let pinned = hex(start.pinned.as_deref().unwrap_or_default().as_bytes());
    let signed = u8::from(start.signed);
    let tag = hmac_hex(key, format!("start.{state}.{pinned}.{signed}.{expires}").as_bytes());
    format!("{state}.{pinned}.{signed}.{expires}.{tag}")
}

/// The `Set-Cookie` value keeping `start`.
pub(crate) fn start_cookie(key: &[u8], start: &Start, secure: bool) -> String {
    set(STATE_COOKIE, &start_value(key, start), STATE_LIFETIME, secure)
}

/// What the browser's state cookie keeps, when it is genuine and not expired (empty otherwise).
pub(crate) fn read_start(key: &[u8], headers: &HeaderMap, https: bool) -> Start {
    read_start_checked(key, headers, https).unwrap_or_default()
}

fn read_start_checked(key: &[u8], headers: &HeaderMap, https: bool) -> Option<Start> {
    let mut parts = read(headers, STATE_COOKIE, https)?.split('.');
    let (state, pinned, signed) = (parts.next()?, parts.next()?, parts.next()?);
    let (expires, tag) = (parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !verify_hex(key, format!("start.{state}.{pinned}.{signed}.{expires}").as_bytes(), tag)
    {
        return None;
    }
    if expires.parse::<u64>().ok()? < now() {
        return None;
    }
    let text = |encoded: &str| -> Option<Option<String>> {
        let text = String::from_utf8(crate::signing::unhex(encoded)?).ok()?;
        Some((!text.is_empty()).then_some(text))
    };
    Some(Start { state: text(state)?, pinned: text(pinned)?, signed: signed == "1", until: None })
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
        let (token, field) = csrf_token(b"key", &HeaderMap::new(), false);
        let headers = with_cookie(&format!("other=1; {CSRF_COOKIE}={token}"));
        assert!(csrf_valid(b"key", &headers, &field, false));
        assert!(!csrf_valid(b"other key", &headers, &field, false));
        assert!(!csrf_valid(b"key", &HeaderMap::new(), &field, false));
        let (other_token, _) = csrf_token(b"key", &HeaderMap::new(), false);
        assert!(!csrf_valid(
            b"key",
            &with_cookie(&format!("{CSRF_COOKIE}={other_token}")),
            &field,
            false
        ));
        // The same browser keeps its token.
        assert_eq!(csrf_token(b"key", &headers, false), (token, field));
    }

    #[test]
    fn state_round_trips_and_tampering_is_refused() {
        let start = Start {
            state: Some("user=42&next=/inbox; ünïcode".into()),
            pinned: Some("ann@example.com".into()),
            signed: true,
            until: None,
        };
        let value = start_value(b"key", &start);
        let cookie = |value: &str| with_cookie(&format!("{STATE_COOKIE}={value}"));
        assert_eq!(read_start(b"key", &cookie(&value), false), start);
        assert_eq!(read_start(b"other", &cookie(&value), false), Start::default());
        let forged = value.replacen(&hex(b"u"), &hex(b"v"), 1);
        assert_eq!(read_start(b"key", &cookie(&forged), false), Start::default());
        // The pin cannot be dropped or moved into the state.
        let (state, rest) = value.split_once('.').unwrap();
        let unpinned = format!("{state}.{}", rest.split_once('.').unwrap().1);
        assert_eq!(read_start(b"key", &cookie(&unpinned), false), Start::default());
        let unsigned = value.replacen(".1.", ".0.", 1);
        assert_eq!(read_start(b"key", &cookie(&unsigned), false), Start::default());
        let encoded = hex(b"s");
        let tag = hmac_hex(b"key", format!("start.{encoded}..0.1").as_bytes());
        assert_eq!(
            read_start(b"key", &cookie(&format!("{encoded}..0.1.{tag}")), false),
            Start::default()
        );
        let no_pin = Start { state: Some("s".into()), pinned: None, signed: false, until: None };
        // A signed link's expiry caps the cookie's.
        let short = Start { until: Some(now() - 1), ..no_pin.clone() };
        assert_eq!(
            read_start(b"key", &cookie(&start_value(b"key", &short)), false),
            Start::default()
        );
        assert_eq!(read_start(b"key", &cookie(&start_value(b"key", &no_pin)), false), no_pin);
    }
}
