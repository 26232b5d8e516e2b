//! Which URLs the configuration may name: https ones (http to loopback when allowed), and
//! paths of the page's own origin.

/// The origin of `url` when it is https (or http to loopback, when allowed).
pub(crate) fn usable_url(url: &str, allow_loopback_http: bool) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if allow_loopback_http && loopback => {}
        _ => return None,
    }
    Some(parsed.origin().ascii_serialization())
}

/// Whether `url` is a path on the page's own origin (`/done`; not `//host/…`, which names
/// another host).
pub(crate) fn is_same_origin_path(url: &str) -> bool {
    url.starts_with('/') && !url.starts_with("//") && !url.contains('\\')
}
