//! Guarded TCP connections, for providers that speak a protocol themselves (probing IMAP and
//! SMTP): the host is resolved by our resolver and every address is checked by the guard
//! before anything connects.

use std::net::SocketAddr;

use tokio::net::TcpStream;

use super::dns::DnsError;
use crate::address_policy::{AddressPolicy, GuardError};

/// Why a guarded connection was not made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TcpConnectError {
    /// The host could not be resolved.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// The host has no address.
    #[error("{0} does not resolve")]
    NoAddress(String),
    /// The address guard refused one of the host's addresses.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// Connecting failed.
    #[error("connection to {addr} failed")]
    Io {
        /// The address tried.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// Offline, or TLS could not be set up.
    #[error("no network: {0}")]
    Unavailable(String),
}

/// Refuses `host` when any of its addresses `ips` is special (unless the policy allows it: an
/// attacker who controls DNS could otherwise point a name at an internal service), and
/// connects to the first address.
pub(crate) async fn connect(
    policy: &AddressPolicy,
    host: &str,
    ips: &[std::net::IpAddr],
    port: u16,
) -> Result<(TcpStream, SocketAddr), TcpConnectError> {
    let Some(&ip) = ips.first() else {
        return Err(TcpConnectError::NoAddress(host.to_owned()));
    };
    for ip in ips {
        policy.check(host, *ip)?;
    }
    let addr = SocketAddr::new(ip, port);
    let stream =
        TcpStream::connect(addr).await.map_err(|source| TcpConnectError::Io { addr, source })?;
    Ok((stream, addr))
}
