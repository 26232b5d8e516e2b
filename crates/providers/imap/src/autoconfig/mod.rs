//! Mozilla autoconfig (`config-v1.1.xml`): the pure parser, the candidate URLs of a domain,
//! and fetching one of them.

mod lookup;
mod parse;

pub use lookup::{FoundConfig, fetch_config, ispdb_url, subdomain_url, well_known_url};
pub use parse::{AutoconfigDocument, AutoconfigError, SkippedServer, parse_autoconfig};
