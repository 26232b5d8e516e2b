//! What a provider crate needs beyond the public model: the per-run context (memoised DNS,
//! guarded HTTP and TCP, the trace), the network types it hands out, the hostile-input-safe XML
//! tree, public-suffix helpers, the registration type, and the crates a plugin must share with
//! the core (`async_trait`, `inventory`).
//!
//! Applications do not need this module; provider authors do.

pub use crate::domain::{
    has_registrable_domain, is_host_name, registrable_domain, same_registrable_domain,
};
pub use crate::model::{Placeholder, ServerSpec};
pub use crate::net::context::{DiscoveryContext, StepTimer};
pub use crate::net::dns::{DnsError, MxRecord, SrvRecord};
pub use crate::net::http::{FetchError, FetchRequest, Fetched, GuardedHttp};
pub use crate::net::tcp::TcpConnectError;
pub use crate::provider::ProviderPlugin;

/// The hostile-input-safe XML tree (depth and size limits, no DTDs or entities).
pub mod xml {
    pub use crate::net::xml::{Element, XmlError, escape, parse};
}

/// Re-exported so that plugin crates implement [`Provider`](crate::Provider) with the same
/// `async_trait`.
pub use async_trait::async_trait;
/// Re-exported so that plugin crates register with the same `inventory` version as the core.
pub use inventory;
