//! What every request goes through: the client's address for rate limits, the security
//! headers, an access log without addresses or secrets; and the checks the JSON API needs.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::flow::App;

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
    let forwarded = app.config.file.client_ip_header.as_deref().and_then(|name| {
        // The proxy appends the address it saw: the last one is the only one it vouches for.
        let value = request.headers().get_all(name).iter().next_back()?.to_str().ok()?;
        value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
    });
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let ip = forwarded.or(peer);
    request.extensions_mut().insert(ClientIp(ip));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = if wrong_host(&app, &request, &path) {
        (axum::http::StatusCode::MISDIRECTED_REQUEST, "this server does not answer for that host")
            .into_response()
    } else {
        next.run(request).await
    };
    app.metrics.latency(crate::metrics::route(&path), started.elapsed());
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&app.content_security_policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if app.config.file.https {
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
                let scheme = if app.config.file.https { "https" } else { "http" };
                headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")))
            }
        };
        let allowed = app
            .config
            .file
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

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let key = |ip: &str| ClientIp(Some(ip.parse().unwrap())).key();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:198.51.100.7"), key("198.51.100.7"));
        assert_ne!(key("198.51.100.7"), key("198.51.100.8"));
    }
}
