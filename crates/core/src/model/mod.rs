//! The data model: addresses, servers, detections and reports. No I/O happens here.

mod detection;
mod email;
mod report;
mod server;
mod steps;
mod template;

pub use detection::{
    AuthHint, AutoconfigOrigin, Detection, ExchangeEndpoints, NylasProvider, ProviderInfo, Source,
    Trust,
};
pub use email::{DomainProblem, EmailAddress, EmailError, LocalPartProblem};
pub use report::{Failure, FailureKind, Outcome, Report, Step};
pub use server::{AuthMethod, Protocol, Security, Server, ServerSpec};
pub use steps::{PreLoginStep, RequiredStep};
pub use template::{Placeholder, UsernameTemplate};
