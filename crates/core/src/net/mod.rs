//! What every provider shares to reach the network, below both the engine and the providers:
//! DNS, the guarded HTTP client and TCP connect, TLS, the hostile-input-safe XML tree, the
//! errors a source reports, and the per-run [`DiscoveryContext`](context::DiscoveryContext)
//! that memoises and traces them.

pub(crate) mod context;
pub(crate) mod crypto;
pub(crate) mod dns;
pub(crate) mod error;
pub(crate) mod http;
pub(crate) mod memo;
pub(crate) mod network;
pub(crate) mod tcp;
pub(crate) mod tls;
pub(crate) mod xml;

#[cfg(test)]
mod dns_tests;
#[cfg(test)]
mod guard_tests;
