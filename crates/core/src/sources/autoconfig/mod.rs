//! Mozilla autoconfig (`config-v1.1.xml`): the pure parser, and the candidate URLs of a domain.

mod fetch;
mod parse;

pub use fetch::{FoundConfig, fetch_config, ispdb_url, subdomain_url, well_known_url};
pub use parse::{AutoconfigDocument, AutoconfigError, SkippedServer, parse_autoconfig};
