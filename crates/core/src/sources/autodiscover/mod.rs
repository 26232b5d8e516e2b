//! Exchange autodiscover: POX XML and the Microsoft 365 v2 JSON endpoint.

mod parse;

pub use parse::{
    AutodiscoverParseError, AutodiscoverProtocol, AutodiscoverSettings, PoxResponse, V2Endpoint,
    parse_pox, parse_v2_json,
};
