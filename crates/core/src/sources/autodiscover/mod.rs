//! Exchange autodiscover: POX XML and the Microsoft 365 v2 JSON endpoint.

mod fetch;
mod parse;

pub use fetch::{
    AutodiscoverCredentials, AutodiscoverError, AutodiscoverOutcome, CredentialRules,
    MAX_REDIRECTS, MICROSOFT_AUTODISCOVER_HOSTS, run_autodiscover,
};
pub use parse::{
    AutodiscoverParseError, AutodiscoverProtocol, AutodiscoverSettings, PoxResponse, V2Endpoint,
    parse_pox, parse_v2_json,
};
