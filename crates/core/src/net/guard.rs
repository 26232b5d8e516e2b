//! The address guard (security rules 1–2): no connection to a host derived from user input
//! may reach loopback, private, link-local, CGNAT, reserved or otherwise special addresses,
//! unless the embedding app allows named ranges.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A CIDR range such as `127.0.0.0/8` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

/// Why a range did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP range such as 127.0.0.0/8 or fd00::/8")]
pub struct RangeParseError(String);

impl IpRange {
    /// The range of exactly one address.
    pub fn single(ip: IpAddr) -> Self {
        Self { network: ip, prefix: if ip.is_ipv4() { 32 } else { 128 } }
    }

    /// Whether `ip` lies in the range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpRange {
    type Err = RangeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || RangeParseError(s.to_owned());
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, prefix)) => (ip, Some(prefix)),
            None => (s, None),
        };
        let network: IpAddr = ip.trim().parse().map_err(|_| error())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|&p| p <= max).ok_or_else(error)?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Which special addresses may be connected to. The default allows none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allow_all: bool,
    allowed: Vec<IpRange>,
}

/// A refused address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{host} resolves to {ip}, a {kind} address; refused: special-purpose addresses are never contacted unless allowed"
)]
pub struct GuardError {
    /// The host that was asked for.
    pub host: String,
    /// The refused address.
    pub ip: IpAddr,
    /// What kind of address it is.
    pub kind: &'static str,
}

impl AddressPolicy {
    /// Refuse every special address (the default).
    pub fn strict() -> Self {
        Self::default()
    }

    /// Allow every address: the guard is off (`--allow-private-targets`; LAN setups).
    pub fn allow_all() -> Self {
        Self { allow_all: true, allowed: Vec::new() }
    }

    /// Also allow these ranges (for example `127.0.0.1/32` for tests on loopback).
    #[must_use]
    pub fn allowing(mut self, ranges: impl IntoIterator<Item = IpRange>) -> Self {
        self.allowed.extend(ranges);
        self
    }

    /// Whether the guard is completely off.
    pub fn allows_all(&self) -> bool {
        self.allow_all
    }

    /// Checks one address of `host`.
    ///
    /// # Errors
    /// [`GuardError`] when the address is special and not allowed.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), GuardError> {
        if self.allow_all || self.allowed.iter().any(|range| range.contains(ip)) {
            return Ok(());
        }
        match special_kind(ip) {
            Some(kind) => Err(GuardError { host: host.to_owned(), ip, kind }),
            None => Ok(()),
        }
    }
}

/// IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible; not :: and ::1)
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        // NAT64 well-known prefix 64:ff9b::/96
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        _ => None,
    }
}

/// What kind of special address `ip` is, or `None` for an ordinary public address.
pub(crate) fn special_kind(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "\"this network\" (0.0.0.0/8)",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "private (RFC 1918)",
        (127, _, _) => "loopback",
        (169, 254, _) => "link-local (including cloud metadata)",
        (100, 64..=127, _) => "carrier-grade NAT (100.64.0.0/10)",
        (192, 0, 0) => "IETF protocol assignment (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (192, 88, 99) => "6to4 relay anycast",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved or broadcast",
        _ => return None,
    })
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    Some(match s {
        [0, 0, 0, 0, 0, 0, 0, 0] => "unspecified",
        [0, 0, 0, 0, 0, 0, 0, 1] => "loopback",
        [first, ..] if first & 0xfe00 == 0xfc00 => "unique local (fc00::/7)",
        [first, ..] if first & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        [first, ..] if first & 0xffc0 == 0xfec0 => "site-local (deprecated)",
        [first, ..] if first & 0xff00 == 0xff00 => "multicast",
        [0x2001, 0x0db8, ..] => "documentation (2001:db8::/32)",
        [0x2001, 0, ..] => "Teredo tunnel",
        [0x2001, second, ..] if second & 0xfff0 == 0x0010 || second & 0xfff0 == 0x0020 => "ORCHID",
        [0x2002, hi, lo, ..] => {
            // 6to4 embeds an IPv4 address: refuse when that one is special.
            let v4 = Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
            return special_v4(v4).map(|_| "6to4 address of a special IPv4 address");
        }
        [0x0100, 0, 0, 0, ..] => "discard-only (100::/64)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        AddressPolicy::strict().check("h", ip.parse().unwrap()).is_err()
    }

    #[test]
    fn refuses_every_special_range() {
        for ip in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2001::1",
        ] {
            assert!(refused(ip), "{ip} must be refused");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert!(!refused(ip), "{ip} is public");
        }
    }

    #[test]
    fn named_ranges_can_be_allowed() {
        let policy = AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]);
        assert!(policy.check("h", "127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("h", "::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("h", "127.0.0.2".parse().unwrap()).is_err());
        assert!(policy.check("h", "10.0.0.1".parse().unwrap()).is_err());
        assert!(AddressPolicy::allow_all().check("h", "10.0.0.1".parse().unwrap()).is_ok());
    }

    #[test]
    fn ranges_parse_and_match() {
        let range: IpRange = "10.0.0.0/8".parse().unwrap();
        assert!(range.contains("10.200.1.1".parse().unwrap()));
        assert!(!range.contains("11.0.0.1".parse().unwrap()));
        let v6: IpRange = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpRange>().is_err());
        assert!("nonsense".parse::<IpRange>().is_err());
        assert_eq!("127.0.0.1".parse::<IpRange>().unwrap().to_string(), "127.0.0.1/32");
    }

    #[test]
    fn errors_name_the_host_and_kind() {
        let error = AddressPolicy::strict()
            .check("evil.example", "169.254.169.254".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "evil.example resolves to 169.254.169.254, a link-local (including cloud metadata) address; refused: special-purpose addresses are never contacted unless allowed"
        );
    }
}
