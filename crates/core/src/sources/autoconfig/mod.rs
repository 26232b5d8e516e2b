//! Mozilla autoconfig (`config-v1.1.xml`): the pure parser, and the candidate URLs of a domain.

mod parse;

pub use parse::{AutoconfigDocument, AutoconfigError, SkippedServer, parse_autoconfig};
