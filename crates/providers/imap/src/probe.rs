//! Probing guessed mail servers: connect, verify TLS, read the IMAP greeting and CAPABILITY or
//! the SMTP banner and EHLO; STARTTLS counts only when the server advertises it, and the
//! upgrade's certificate is verified too. **No credentials are ever sent.** Connections go
//! through the address guard like every other one.

use std::net::SocketAddr;
use std::time::Duration;

use nativeauth_core::plugin::{DiscoveryContext, TcpConnectError};
use nativeauth_core::{GuardError, Protocol, Security, SourceError};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Longest line accepted from a server.
const MAX_LINE: usize = 8 * 1024;
/// Most lines read for one reply (a CAPABILITY or EHLO answer).
const MAX_LINES: usize = 100;

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

/// Why a probe failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The address guard refused the host's address.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// The host does not resolve.
    #[error("{0} does not resolve")]
    NoAddress(String),
    /// Plain connections are never probed.
    #[error("plaintext is never guessed")]
    Plaintext,
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// Connecting failed.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The TLS handshake or certificate check failed.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The server does not speak the protocol as expected.
    #[error("unexpected answer: {0}")]
    Protocol(String),
    /// STARTTLS was not advertised.
    #[error("STARTTLS is not advertised")]
    NoStartTls,
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

/// Anything a probe talks over.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

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
    /// [`ProbeError`] for every way the target can fail.
    pub async fn probe(&self, target: &ProbeTarget) -> Result<ProbeReport, ProbeError> {
        if target.security == Security::Plain {
            return Err(ProbeError::Plaintext);
        }
        tokio::time::timeout(self.timeout, self.run(target))
            .await
            .map_err(|_| ProbeError::Timeout)?
    }

    async fn run(&self, target: &ProbeTarget) -> Result<ProbeReport, ProbeError> {
        let (tcp, addr) =
            self.ctx.connect_tcp(&target.host, target.port).await.map_err(|error| match error {
                TcpConnectError::Guard(refused) => ProbeError::Guard(refused),
                TcpConnectError::NoAddress(host) => ProbeError::NoAddress(host),
                other => ProbeError::Connect(other.to_string()),
            })?;
        let capabilities = match (target.protocol, target.security) {
            (Protocol::Smtp, Security::Tls) => {
                smtp_session(self.tls_wrap(tcp, &target.host).await?).await?
            }
            (Protocol::Smtp, _) => {
                let mut stream = BufReader::new(tcp);
                expect_smtp(&mut stream, "220").await?;
                let keywords = ehlo(&mut stream).await?;
                if !keywords.iter().any(|k| k == "STARTTLS") {
                    return Err(ProbeError::NoStartTls);
                }
                command(&mut stream, "STARTTLS").await?;
                expect_smtp(&mut stream, "220").await?;
                let mut tls =
                    BufReader::new(self.tls_wrap(stream.into_inner(), &target.host).await?);
                let keywords = ehlo(&mut tls).await?;
                let _ = command(&mut tls, "QUIT").await;
                keywords
            }
            (_, Security::Tls) => imap_session(self.tls_wrap(tcp, &target.host).await?).await?,
            _ => {
                let mut stream = BufReader::new(tcp);
                imap_greeting(&mut stream).await?;
                let capabilities = imap_capabilities(&mut stream, "a1").await?;
                if !capabilities.iter().any(|c| c == "STARTTLS") {
                    return Err(ProbeError::NoStartTls);
                }
                command(&mut stream, "a2 STARTTLS").await?;
                let line = read_line(&mut stream).await?;
                if !line.to_ascii_uppercase().starts_with("A2 OK") {
                    return Err(ProbeError::Protocol(format!("STARTTLS refused: {line}")));
                }
                let mut tls =
                    BufReader::new(self.tls_wrap(stream.into_inner(), &target.host).await?);
                let capabilities = imap_capabilities(&mut tls, "a3").await?;
                let _ = command(&mut tls, "a4 LOGOUT").await;
                capabilities
            }
        };
        Ok(ProbeReport { addr, capabilities })
    }

    async fn tls_wrap(
        &self,
        tcp: TcpStream,
        host: &str,
    ) -> Result<impl Stream + use<>, ProbeError> {
        let name =
            ServerName::try_from(host.to_owned()).map_err(|e| ProbeError::Tls(e.to_string()))?;
        self.tls.connect(name, tcp).await.map_err(|e| ProbeError::Tls(e.to_string()))
    }
}

async fn imap_session(stream: impl Stream) -> Result<Vec<String>, ProbeError> {
    let mut stream = BufReader::new(stream);
    imap_greeting(&mut stream).await?;
    let capabilities = imap_capabilities(&mut stream, "a1").await?;
    let _ = command(&mut stream, "a2 LOGOUT").await;
    Ok(capabilities)
}

async fn smtp_session(stream: impl Stream) -> Result<Vec<String>, ProbeError> {
    let mut stream = BufReader::new(stream);
    expect_smtp(&mut stream, "220").await?;
    let keywords = ehlo(&mut stream).await?;
    let _ = command(&mut stream, "QUIT").await;
    Ok(keywords)
}

pub(crate) async fn read_line<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
) -> Result<String, ProbeError> {
    let mut line = Vec::new();
    let mut limited = (&mut *stream).take(MAX_LINE as u64 + 1);
    limited.read_until(b'\n', &mut line).await.map_err(|e| ProbeError::Connect(e.to_string()))?;
    if line.is_empty() {
        return Err(ProbeError::Protocol("the server closed the connection".into()));
    }
    if line.len() > MAX_LINE {
        return Err(ProbeError::Protocol("line too long".into()));
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

pub(crate) async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    line: &str,
) -> Result<(), ProbeError> {
    let inner = stream.get_mut();
    inner
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| ProbeError::Connect(e.to_string()))?;
    inner.flush().await.map_err(|e| ProbeError::Connect(e.to_string()))
}

pub(crate) async fn imap_greeting<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
) -> Result<(), ProbeError> {
    let greeting = read_line(stream).await?;
    let upper = greeting.to_ascii_uppercase();
    if upper.starts_with("* OK") || upper.starts_with("* PREAUTH") {
        Ok(())
    } else {
        Err(ProbeError::Protocol(format!("not an IMAP greeting: {}", truncate(&greeting))))
    }
}

pub(crate) async fn imap_capabilities<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    tag: &str,
) -> Result<Vec<String>, ProbeError> {
    command(stream, &format!("{tag} CAPABILITY")).await?;
    let mut capabilities = Vec::new();
    for _ in 0..MAX_LINES {
        let line = read_line(stream).await?;
        let upper = line.to_ascii_uppercase();
        if let Some(rest) = upper.strip_prefix("* CAPABILITY ") {
            capabilities.extend(rest.split_whitespace().map(str::to_owned));
        } else if upper.starts_with(&format!("{} OK", tag.to_ascii_uppercase())) {
            if capabilities.iter().any(|c| c.starts_with("IMAP4")) {
                return Ok(capabilities);
            }
            return Err(ProbeError::Protocol("no IMAP4 capability".into()));
        } else if upper.starts_with(&tag.to_ascii_uppercase()) {
            return Err(ProbeError::Protocol(format!("CAPABILITY failed: {}", truncate(&line))));
        }
    }
    Err(ProbeError::Protocol("CAPABILITY answer too long".into()))
}

/// Reads an SMTP reply (all its lines) and checks its code.
pub(crate) async fn expect_smtp<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
    code: &str,
) -> Result<Vec<String>, ProbeError> {
    let mut lines = Vec::new();
    for _ in 0..MAX_LINES {
        let line = read_line(stream).await?;
        if !line.starts_with(code) {
            return Err(ProbeError::Protocol(format!("expected {code}: {}", truncate(&line))));
        }
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line.get(4..).unwrap_or_default().to_owned());
        if last {
            return Ok(lines);
        }
    }
    Err(ProbeError::Protocol("SMTP reply too long".into()))
}

pub(crate) async fn ehlo<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
) -> Result<Vec<String>, ProbeError> {
    command(stream, "EHLO nativeauth.invalid").await?;
    let lines = expect_smtp(stream, "250").await?;
    // The first line is the greeting; the rest are keywords.
    Ok(lines
        .iter()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_ascii_uppercase)
        .collect())
}

pub(crate) fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}
