//! Public-suffix helpers: which registrable domain a host belongs to (the Public Suffix List,
//! compiled in).

/// The registrable domain of `host` by the Public Suffix List (`mail.example.co.uk` →
/// `example.co.uk`), or `host` itself when it has none. `host` must be lowercase.
pub fn registrable_domain(host: &str) -> &str {
    psl::domain_str(host).unwrap_or(host)
}

/// Whether two lowercase hosts share a registrable domain.
pub fn same_registrable_domain(a: &str, b: &str) -> bool {
    registrable_domain(a) == registrable_domain(b)
}

/// Whether `host` has a registrable domain: `false` for public suffixes (`co.uk`,
/// `github.io`) and for names under no known suffix, which no request should ever be built for.
pub fn has_registrable_domain(host: &str) -> bool {
    psl::domain_str(host).is_some()
}
