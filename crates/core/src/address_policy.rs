//! The address guard: no connection to a host derived from user input may reach an address that
//! IANA's special-purpose registries call not globally reachable (loopback, private,
//! link-local, CGNAT, documentation, reserved, …), nor multicast, unless the embedding app
//! allows named ranges. Otherwise a user who controls DNS for their domain could make the
//! service probe its own network or a cloud metadata endpoint.

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

/// One entry of IANA's special-purpose address registries: a range, what it is, and whether
/// the registry calls it globally reachable. The most specific entry decides, so a reachable
/// anycast address inside a non-reachable block (192.0.0.9 in 192.0.0.0/24) is allowed.
struct Special<T> {
    network: T,
    prefix: u32,
    kind: &'static str,
    globally_reachable: bool,
}

const fn v4(
    a: u8,
    b: u8,
    c: u8,
    d: u8,
    prefix: u32,
    kind: &'static str,
    reachable: bool,
) -> Special<u32> {
    Special {
        network: u32::from_be_bytes([a, b, c, d]),
        prefix,
        kind,
        globally_reachable: reachable,
    }
}

const fn v6(network: u128, prefix: u32, kind: &'static str, reachable: bool) -> Special<u128> {
    Special { network, prefix, kind, globally_reachable: reachable }
}

/// The IPv4 Special-Purpose Address Registry (RFC 6890 and its updates).
const IPV4_SPECIAL: &[Special<u32>] = &[
    v4(0, 0, 0, 0, 8, "\"this network\" (0.0.0.0/8)", false),
    v4(0, 0, 0, 0, 32, "\"this host on this network\" (0.0.0.0/32)", false),
    v4(10, 0, 0, 0, 8, "private (RFC 1918)", false),
    v4(100, 64, 0, 0, 10, "carrier-grade NAT (100.64.0.0/10)", false),
    v4(127, 0, 0, 0, 8, "loopback", false),
    v4(169, 254, 0, 0, 16, "link-local (including cloud metadata)", false),
    v4(172, 16, 0, 0, 12, "private (RFC 1918)", false),
    v4(192, 0, 0, 0, 24, "IETF protocol assignment (192.0.0.0/24)", false),
    v4(192, 0, 0, 0, 29, "IPv4 service continuity prefix (192.0.0.0/29)", false),
    v4(192, 0, 0, 8, 32, "IPv4 dummy address (192.0.0.8)", false),
    v4(192, 0, 0, 9, 32, "Port Control Protocol anycast", true),
    v4(192, 0, 0, 10, 32, "TURN anycast", true),
    v4(192, 0, 0, 170, 31, "NAT64/DNS64 discovery (192.0.0.170/31)", false),
    v4(192, 0, 2, 0, 24, "documentation (192.0.2.0/24)", false),
    v4(192, 31, 196, 0, 24, "AS112-v4", true),
    v4(192, 52, 193, 0, 24, "AMT", true),
    v4(192, 168, 0, 0, 16, "private (RFC 1918)", false),
    v4(192, 175, 48, 0, 24, "AS112 direct delegation", true),
    v4(198, 18, 0, 0, 15, "benchmarking (198.18.0.0/15)", false),
    v4(198, 51, 100, 0, 24, "documentation (198.51.100.0/24)", false),
    v4(203, 0, 113, 0, 24, "documentation (203.0.113.0/24)", false),
    v4(240, 0, 0, 0, 4, "reserved (240.0.0.0/4)", false),
    v4(255, 255, 255, 255, 32, "limited broadcast", false),
];

/// The IPv6 Special-Purpose Address Registry. IPv4-mapped (`::ffff:0:0/96`) and the NAT64
/// well-known prefix (`64:ff9b::/96`) are judged by the IPv4 address they carry, before this
/// table is consulted; 6to4 (`2002::/16`) likewise, below.
const IPV6_SPECIAL: &[Special<u128>] = &[
    v6(0, 128, "unspecified", false),
    v6(1, 128, "loopback", false),
    v6(0x0064_ff9b_0001 << 80, 48, "local-use IPv4/IPv6 translation (64:ff9b:1::/48)", false),
    v6(0x0100 << 112, 64, "discard-only (100::/64)", false),
    v6((0x0100 << 112) | (1 << 64), 64, "dummy prefix (100:0:0:1::/64)", false),
    v6(0x2001 << 112, 23, "IETF protocol assignment (2001::/23)", false),
    // Teredo's registry entry says "N/A": it hides an IPv4 address we cannot vet, so refuse.
    v6(0x2001 << 112, 32, "Teredo tunnel (2001::/32)", false),
    v6((0x2001_0001 << 96) | 1, 128, "Port Control Protocol anycast", true),
    v6((0x2001_0001 << 96) | 2, 128, "TURN anycast", true),
    v6((0x2001_0001 << 96) | 3, 128, "DNS-SD service registration anycast", true),
    v6(0x2001_0002 << 96, 48, "benchmarking (2001:2::/48)", false),
    v6(0x2001_0003 << 96, 32, "AMT", true),
    v6(0x2001_0004_0112 << 80, 48, "AS112-v6", true),
    v6(0x2001_0010 << 96, 28, "deprecated ORCHID (2001:10::/28)", false),
    v6(0x2001_0020 << 96, 28, "ORCHIDv2", true),
    v6(0x2001_0030 << 96, 28, "drone remote ID tags", true),
    v6(0x2001_0db8 << 96, 32, "documentation (2001:db8::/32)", false),
    v6(0x2620_004f_8000 << 80, 48, "AS112 direct delegation", true),
    v6(0x3fff << 112, 20, "documentation (3fff::/20)", false),
    v6(0x5f00 << 112, 16, "segment routing SIDs (5f00::/16)", false),
    v6(0xfc00 << 112, 7, "unique local (fc00::/7)", false),
    v6(0xfe80 << 112, 10, "link-local (fe80::/10)", false),
];

/// The most specific registry entry containing `ip`: its kind when not globally reachable.
fn registry_kind<T>(table: &[Special<T>], ip: T, bits: u32) -> Option<Option<&'static str>>
where
    T: Copy + std::ops::BitAnd<Output = T> + std::ops::Shl<u32, Output = T> + PartialEq + Max,
{
    table
        .iter()
        .filter(|entry| {
            let mask = if entry.prefix == 0 { T::ZERO } else { T::MAX << (bits - entry.prefix) };
            ip & mask == entry.network & mask
        })
        .max_by_key(|entry| entry.prefix)
        .map(|entry| (!entry.globally_reachable).then_some(entry.kind))
}

/// The all-ones and zero values of an address width.
trait Max {
    const MAX: Self;
    const ZERO: Self;
}

impl Max for u32 {
    const MAX: Self = u32::MAX;
    const ZERO: Self = 0;
}

impl Max for u128 {
    const MAX: Self = u128::MAX;
    const ZERO: Self = 0;
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    if let Some(verdict) = registry_kind(IPV4_SPECIAL, u32::from(ip), 32) {
        return verdict;
    }
    // Not in the registry, but never a mail or web server: no unicast connection reaches it.
    ip.is_multicast().then_some("multicast")
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if let [0x2002, hi, lo, ..] = s {
        // 6to4 embeds an IPv4 address: refuse when that one is special.
        let v4 = Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
        return special_v4(v4).map(|_| "6to4 address of a special IPv4 address");
    }
    if let Some(verdict) = registry_kind(IPV6_SPECIAL, u128::from(ip), 128) {
        return verdict;
    }
    match s[0] {
        // Deprecated site-local (no longer in the registry, still private in practice).
        first if first & 0xffc0 == 0xfec0 => Some("site-local (deprecated, fec0::/10)"),
        first if first & 0xff00 == 0xff00 => Some("multicast"),
        _ => None,
    }
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
            "64:ff9b:1::a00:1",
            "3fff::1",
            "5f00::1",
            "100:0:0:1::1",
            "192.0.0.8",
            "192.0.0.171",
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
            "192.0.0.9",
            "192.88.99.1",
            "2001:20::1",
            "2001:4:112::1",
            "2620:4f:8000::1",
        ] {
            assert!(!refused(ip), "{ip} is public");
        }
    }

    /// Every entry of both registries, at its first and last address, and every IPv4 entry
    /// also in the IPv6 forms that embed it (mapped, NAT64 well-known prefix, 6to4).
    #[test]
    fn every_registry_entry_is_judged_by_its_global_reachability() {
        fn judged(ip: IpAddr, entry_kind: &str, reachable: bool) {
            assert_eq!(refused(&ip.to_string()), !reachable, "{ip} ({entry_kind})");
        }
        for entry in IPV4_SPECIAL {
            let mask = u32::MAX.checked_shl(32 - entry.prefix).unwrap_or(0);
            for raw in [entry.network, entry.network | !mask] {
                // The most specific entry decides: skip addresses a narrower entry overrides.
                if registry_kind(IPV4_SPECIAL, raw, 32)
                    != Some((!entry.globally_reachable).then_some(entry.kind))
                {
                    continue;
                }
                let ip = Ipv4Addr::from(raw);
                judged(IpAddr::V4(ip), entry.kind, entry.globally_reachable);
                let [a, b, c, d] = ip.octets();
                let embedded = [
                    format!("::ffff:{ip}"),
                    format!("64:ff9b::{ip}"),
                    format!("2002:{:02x}{:02x}:{:02x}{:02x}::1", a, b, c, d),
                ];
                for form in embedded {
                    judged(form.parse().unwrap(), entry.kind, entry.globally_reachable);
                }
            }
        }
        for entry in IPV6_SPECIAL {
            let mask = u128::MAX.checked_shl(128 - entry.prefix).unwrap_or(0);
            for raw in [entry.network, entry.network | !mask] {
                if registry_kind(IPV6_SPECIAL, raw, 128)
                    != Some((!entry.globally_reachable).then_some(entry.kind))
                {
                    continue;
                }
                judged(IpAddr::V6(Ipv6Addr::from(raw)), entry.kind, entry.globally_reachable);
            }
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
