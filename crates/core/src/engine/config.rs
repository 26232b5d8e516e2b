//! Discovery configuration.

use std::sync::Arc;
use std::time::Duration;

use crate::catalogue::Catalogue;

/// The default overall deadline of one discovery.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(10);

/// Which catalogue the `catalogue` provider answers from.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum CatalogueChoice {
    /// The catalogue compiled into the binary.
    #[default]
    Builtin,
    /// The user's catalogue first, then the built-in one: the user's entries win for the
    /// domains and MX hosts they name.
    Extend(Arc<Catalogue>),
    /// Only the user's catalogue.
    Replace(Arc<Catalogue>),
}

/// How a discovery runs. Build with [`DiscoveryConfig::builder`]; `Default` gives the defaults
/// documented on each setter.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    pub(crate) deadline: Duration,
    pub(crate) offline: bool,
    pub(crate) catalogue: CatalogueChoice,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self { deadline: DEFAULT_DEADLINE, offline: false, catalogue: CatalogueChoice::Builtin }
    }
}

impl DiscoveryConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> DiscoveryConfigBuilder {
        DiscoveryConfigBuilder { config: Self::default() }
    }

    /// The overall deadline.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Whether discovery is limited to the catalogue (no DNS, no HTTP).
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Which catalogue to answer from.
    pub fn catalogue(&self) -> &CatalogueChoice {
        &self.catalogue
    }
}

/// Builds a [`DiscoveryConfig`].
///
/// ```
/// use std::time::Duration;
/// use nativeauth_core::DiscoveryConfig;
///
/// let config = DiscoveryConfig::builder().deadline(Duration::from_secs(3)).offline(true).build();
/// assert!(config.is_offline());
/// assert_eq!(config.deadline(), Duration::from_secs(3));
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct DiscoveryConfigBuilder {
    config: DiscoveryConfig,
}

impl DiscoveryConfigBuilder {
    /// The overall deadline of one discovery; a zero deadline is raised to 1 ms.
    /// Default: 10 seconds.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.config.deadline = deadline.max(Duration::from_millis(1));
        self
    }

    /// Answer from the catalogue only, without DNS or HTTP. Default: `false`.
    pub fn offline(mut self, offline: bool) -> Self {
        self.config.offline = offline;
        self
    }

    /// Which catalogue to answer from. Default: [`CatalogueChoice::Builtin`].
    pub fn catalogue(mut self, catalogue: CatalogueChoice) -> Self {
        self.config.catalogue = catalogue;
        self
    }

    /// The configuration.
    pub fn build(self) -> DiscoveryConfig {
        self.config
    }
}
