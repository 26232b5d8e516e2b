//! Probing guessed mail servers: connect, verify TLS, read the IMAP greeting and CAPABILITY or
//! the SMTP banner and EHLO; STARTTLS counts only when the server advertises it, and the
//! upgrade's certificate is verified too. **No credentials are ever sent.** Connections go
//! through the address guard like every other one.

use std::net::SocketAddr;
use std::time::Duration;

use nativeauth_core::plugin::DiscoveryContext;
use nativeauth_core::{Protocol, Security, SourceError};
use tokio_rustls::TlsConnector;

pub use crate::session::SessionError;
use crate::session::Setup;

/// What to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// Host name.
    pub host: String,
    /// Port.
    pub port: u16,
    /// IMAP or SMTP.
    pub protocol: Protocol,
    /// Implicit TLS or STARTTLS (plain is never probed).
    pub security: Security,
}

/// What a successful probe learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// The address that was connected to.
    pub addr: SocketAddr,
    /// IMAP capabilities or SMTP EHLO keywords (uppercase), as seen after TLS when upgraded.
    pub capabilities: Vec<String>,
}

/// Probes servers for one discovery run, through its context (resolver, guard, TLS roots).
#[derive(Clone)]
pub struct Prober<'a> {
    ctx: &'a DiscoveryContext,
    tls: TlsConnector,
    timeout: Duration,
}

impl std::fmt::Debug for Prober<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl<'a> Prober<'a> {
    /// A prober for the run of `ctx`, each probe bounded by `timeout`.
    ///
    /// # Errors
    /// [`SourceError`] when the run is offline or TLS cannot be set up.
    pub fn new(ctx: &'a DiscoveryContext, timeout: Duration) -> Result<Self, SourceError> {
        let tls = ctx.tls_config("probe")?;
        Ok(Self { ctx, tls: TlsConnector::from(tls), timeout })
    }

    /// Probes one target. Sends no credentials.
    ///
    /// # Errors
    /// [`SessionError`] for every way the target can fail.
    pub async fn probe(&self, target: &ProbeTarget) -> Result<ProbeReport, SessionError> {
        if target.security == Security::Plain {
            return Err(SessionError::Plaintext);
        }
        tokio::time::timeout(self.timeout, self.run(target))
            .await
            .map_err(|_| SessionError::Timeout)?
    }

    async fn run(&self, target: &ProbeTarget) -> Result<ProbeReport, SessionError> {
        let setup = Setup {
            ctx: self.ctx,
            tls: &self.tls,
            host: &target.host,
            port: target.port,
            protocol: target.protocol,
            security: target.security,
            imap_capabilities: true,
        };
        let mut session = setup.open().await?;
        session.say_goodbye().await;
        Ok(ProbeReport { addr: session.addr, capabilities: session.capabilities })
    }
}
