//! What every request goes through: the client's address for rate limits, the security
//! headers, an access log without addresses or secrets; and the checks the JSON API needs.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::App;

/// The client's address (`None` when the router is served without connect info).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub(crate) Option<IpAddr>);

impl ClientIp {
    /// The rate-limit key of this client: its IPv4 address, or its IPv6 /64 (one subscriber's
    /// network gets a whole /64, so counting per /128 would give each a new budget per address).
    pub(crate) fn key(self) -> String {
        match self.0 {
            None => "unknown".to_owned(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        }
    }
}

/// Adds [`ClientIp`], sets the security headers, and logs method, path (never the query: it
/// may hold an address or the app's state), status and latency.
pub(crate) async fn headers_and_access_log(
    State(app): State<Arc<App>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let ip = client_ip(
        app.config.settings.client_ip_header.as_deref(),
        &app.trusted_proxies,
        peer,
        request.headers(),
    );
    request.extensions_mut().insert(ClientIp(ip));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let deadline = std::time::Duration::from_secs(app.config.settings.request_timeout_secs.max(1));
    let base = request
        .extensions()
        .get::<axum::extract::NestedPath>()
        .map(|nested| nested.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let mut response = if wrong_host(&app, &request, &path) {
        (axum::http::StatusCode::MISDIRECTED_REQUEST, "this server does not answer for that host")
            .into_response()
    } else {
        // The whole request, a body sent a byte at a time included, ends by its deadline.
        let scoped = crate::base_path::scope(base, next.run(request));
        match tokio::time::timeout(deadline, scoped).await {
            Ok(response) => response,
            Err(_) => {
                let mut response =
                    (axum::http::StatusCode::REQUEST_TIMEOUT, "the request took too long")
                        .into_response();
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                response
            }
        }
    };
    app.metrics.latency(crate::metrics::route(&path), started.elapsed());
    let headers = response.headers_mut();
    if let Some(csp) = &app.content_security_policy {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if app.config.settings.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    tracing::info!(
        target: "nativeauth_server::access",
        %method,
        path = %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Whether the request names another host than `public_url`'s (a DNS-rebinding page, or a
/// misrouted request). Health checks, metrics scrapes and the app's code exchange come by
/// internal names and are exempt.
fn wrong_host(app: &App, request: &Request, path: &str) -> bool {
    let Some(public) = &app.public_origin else { return false };
    if matches!(path, "/healthz" | "/metrics" | "/api/exchange") {
        return false;
    }
    let expected = public.split_once("://").map_or(public.as_str(), |(_, host)| host);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(axum::http::uri::Authority::as_str));
    // A default port may be left out of `Host`.
    let bare = |h: &str| h.trim_end_matches(":443").trim_end_matches(":80").to_ascii_lowercase();
    host.is_none_or(|host| bare(host) != bare(expected))
}

/// The client's address: the TCP peer's, or, when the peer is a trusted proxy, the rightmost
/// address in `header` that is not a trusted proxy (each proxy appends the address it saw, so
/// everything left of the first untrusted one may be forged by the client).
pub(crate) fn client_ip(
    header: Option<&str>,
    trusted: &[nativeauth::IpRange],
    peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    let (Some(name), Some(peer_ip)) = (header, peer) else { return peer };
    if !is_trusted(peer_ip) {
        return peer;
    }
    let rfc7239 = name.eq_ignore_ascii_case("forwarded");
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all(name).iter().filter_map(|v| v.to_str().ok()) {
        for element in value.split(',') {
            let address = if rfc7239 {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.trim().eq_ignore_ascii_case("for").then_some(value.trim())
                })
            } else {
                Some(element.trim())
            };
            // A hop that is not an address (`unknown`, an obfuscated id) ends what can be known.
            match address.and_then(parse_hop) {
                Some(ip) => hops.push(ip),
                None => hops.clear(),
            }
        }
    }
    Some(hops.into_iter().rev().find(|ip| !is_trusted(*ip)).unwrap_or(peer_ip))
}

/// One hop's address: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:4711`, quoted
/// or not.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    text.strip_prefix('[')?.split_once(']')?.0.parse().ok()
}

/// The bearer token of the request (`Authorization: Bearer <token>`), if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Whether the request carries a JSON body.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Where a request comes from, as far as the browser tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// This server's own page, or an allowed origin.
    SameOrigin,
    /// Another site's page: refused.
    CrossSite,
    /// No browser headers at all: a server-side caller or curl.
    NotABrowser,
}

/// Classifies the request by `Origin`, then `Sec-Fetch-Site`. This server's own origin is
/// `public_url`'s when set; otherwise it is read from `Host`, which a DNS-rebinding page
/// controls (hence the advice to set `public_url`).
pub(crate) fn caller(app: &App, headers: &HeaderMap) -> Caller {
    // `Origin: null` (a form post under `Referrer-Policy: no-referrer`, a sandboxed frame) names
    // no site: `Sec-Fetch-Site` decides.
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|origin| *origin != "null");
    if let Some(origin) = origin {
        let own = match &app.public_origin {
            Some(public) => origin.eq_ignore_ascii_case(public),
            None => {
                let scheme = if app.config.settings.https { "https" } else { "http" };
                headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")))
            }
        };
        let allowed = app
            .config
            .settings
            .allowed_origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin));
        return if own || allowed { Caller::SameOrigin } else { Caller::CrossSite };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin" | "none") => Caller::SameOrigin,
        Some(_) => Caller::CrossSite,
        None => Caller::NotABrowser,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn client(header: &str, value: &str, peer: &str) -> Option<IpAddr> {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::HeaderName::from_bytes(header.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
        let trusted: Vec<nativeauth::IpRange> =
            ["10.0.0.0/8", "127.0.0.1"].iter().map(|r| r.parse().unwrap()).collect();
        client_ip(Some(header), &trusted, Some(peer.parse().unwrap()), &headers)
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop_from_a_trusted_proxy() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let xff = "x-forwarded-for";
        assert_eq!(client(xff, "203.0.113.9, 198.51.100.1", "127.0.0.1"), ip("198.51.100.1"));
        // Proxies of our own on the way are skipped; a port is no reason to give up.
        assert_eq!(client(xff, "198.51.100.1:5678, 10.1.2.3", "10.0.0.1"), ip("198.51.100.1"));
        assert_eq!(client(xff, "[2001:db8::7]:4711", "127.0.0.1"), ip("2001:db8::7"));
        // From an untrusted peer the header is the client's own words: ignored.
        assert_eq!(client(xff, "198.51.100.1", "192.0.2.50"), ip("192.0.2.50"));
        // RFC 7239.
        let fwd = "forwarded";
        assert_eq!(
            client(
                fwd,
                "for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";proto=https",
                "127.0.0.1"
            ),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            client(fwd, "for=192.0.2.60;proto=http;by=203.0.113.43", "127.0.0.1"),
            ip("192.0.2.60")
        );
        // Nothing usable: the proxy's own address.
        assert_eq!(client(xff, "unknown", "127.0.0.1"), ip("127.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let key = |ip: &str| ClientIp(Some(ip.parse().unwrap())).key();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:198.51.100.7"), key("198.51.100.7"));
        assert_ne!(key("198.51.100.7"), key("198.51.100.8"));
    }
}
