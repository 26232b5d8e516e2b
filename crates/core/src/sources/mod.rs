//! Network sources and the plumbing they share. Each source splits a pure parser from a thin
//! fetcher; all HTTP goes through [`http`].

pub mod autoconfig;
pub mod autodiscover;
pub mod dns;
pub mod fetch;
pub mod guard;
pub mod http;
pub mod mx;
pub mod probe;
pub mod srv;
pub mod xml;
