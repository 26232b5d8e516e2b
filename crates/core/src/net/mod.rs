//! What every provider shares to reach the network, below both the engine and the providers:
//! the shared configuration, DNS, the address guard, the guarded HTTP client, TLS, the
//! hostile-input-safe XML tree, public-suffix helpers, the errors a source reports, and the
//! per-run [`DiscoveryContext`](context::DiscoveryContext) that memoises and traces them.

pub(crate) mod config;
pub(crate) mod context;
pub(crate) mod crypto;
pub(crate) mod dns;
pub(crate) mod domain;
pub(crate) mod error;
pub(crate) mod guard;
pub(crate) mod http;
pub(crate) mod memo;
pub(crate) mod network;
pub(crate) mod shared_cache;
pub(crate) mod tcp;
pub(crate) mod tls;
pub(crate) mod xml;

#[cfg(test)]
mod dns_tests;
#[cfg(test)]
mod guard_tests;
