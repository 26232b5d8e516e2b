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

/// Whether `name` is a valid host name to build a URL or a connection from: dot-separated
/// labels of letters, digits and inner hyphens (LDH), each 1–63 octets, 253 in all, a trailing
/// dot allowed. DNS itself carries any octet in a label (`mx.\/evil.example`), and such a name
/// must never reach a URL parser that reads `\/` as a path.
pub fn is_host_name(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_ldh_labels() {
        for good in
            ["mx.example.com", "MX1.Example.COM.", "a-b.c0.example", "xn--bcher-kva.example"]
        {
            assert!(is_host_name(good), "{good}");
        }
        let long_label = format!("{}.example", "a".repeat(64));
        let long_name = format!("{}example", "a.".repeat(127));
        for bad in [
            "",
            ".",
            "mx..example",
            "mx.\\/evil.example",
            "mx./evil.example",
            "-mx.example",
            "mx-.example",
            "mx_1.example",
            "mx example",
            "mx.example/path",
            "mx@example",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            assert!(!is_host_name(bad), "{bad:?}");
        }
    }
}
