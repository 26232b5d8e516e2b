//! Setting up an IMAP or SMTP session, shared by the probe and the login check: connect
//! through the address guard, encrypt as the server entry says (implicit TLS, or STARTTLS only
//! when the server advertises it, the upgraded certificate verified too), read the greeting
//! and, for SMTP, say EHLO. What happens next (reading capabilities, signing in) is the
//! caller's; nothing here sends a credential.

use nativeauth_core::plugin::{DiscoveryContext, TcpConnectError};
use nativeauth_core::{GuardError, Protocol, Security};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_rustls::TlsConnector;

/// Longest line accepted from a server.
const MAX_LINE: usize = 8 * 1024;
/// Most lines read for one reply (a CAPABILITY or EHLO answer).
const MAX_LINES: usize = 100;

/// Why a session could not be set up or a server's answer was not what the protocol says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The address guard refused the host's address.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// The host does not resolve.
    #[error("{0} does not resolve")]
    NoAddress(String),
    /// The host's DNS did not answer in time.
    #[error("the DNS lookup of {0} timed out")]
    DnsTimeout(String),
    /// Plain connections are never probed.
    #[error("plaintext is never guessed")]
    Plaintext,
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// Connecting, reading or writing failed.
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
    /// STARTTLS was advertised, then refused.
    #[error("unexpected answer: STARTTLS refused: {0}")]
    StartTlsRefused(String),
}

/// Anything a session talks over: a TCP connection, or TLS on top of one.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A session ready for its first command: encrypted as asked, greeted, and for SMTP past EHLO.
pub(crate) struct Session {
    /// The connection, buffered for line reading.
    pub(crate) stream: BufReader<Box<dyn Stream>>,
    /// SMTP: the EHLO keywords over the final channel. IMAP: the capabilities over the final
    /// channel when they were asked for, else empty.
    pub(crate) capabilities: Vec<String>,
    /// The address connected to.
    pub(crate) addr: std::net::SocketAddr,
    /// What ends the session politely: `QUIT`, or `LOGOUT` with the tag after the set-up's.
    goodbye: &'static str,
}

impl Session {
    /// Ends the session politely; the answer does not matter.
    pub(crate) async fn say_goodbye(&mut self) {
        let _ = command(&mut self.stream, self.goodbye).await;
    }
}

/// How to set a session up.
pub(crate) struct Setup<'a> {
    /// The run's context: resolver, address guard.
    pub(crate) ctx: &'a DiscoveryContext,
    /// Verifies the server's certificate for `host`.
    pub(crate) tls: &'a TlsConnector,
    /// The server's host name.
    pub(crate) host: &'a str,
    /// Its port.
    pub(crate) port: u16,
    /// IMAP or SMTP.
    pub(crate) protocol: Protocol,
    /// Implicit TLS, STARTTLS, or plain (the caller decides whether plain is allowed).
    pub(crate) security: Security,
    /// IMAP only: read the capabilities over the final channel (the probe's answer).
    pub(crate) imap_capabilities: bool,
}

impl Setup<'_> {
    /// Connects and sets the session up.
    ///
    /// # Errors
    /// [`SessionError`] for a refused or unresolvable host, a failed connection or TLS
    /// handshake, STARTTLS not offered or refused, or an answer outside the protocol.
    pub(crate) async fn open(&self) -> Result<Session, SessionError> {
        let (tcp, addr) =
            self.ctx.connect_tcp(self.host, self.port).await.map_err(|error| match error {
                TcpConnectError::Guard(refused) => SessionError::Guard(refused),
                TcpConnectError::NoAddress(host) => SessionError::NoAddress(host),
                TcpConnectError::Dns(dns) if dns.is_timeout() => {
                    SessionError::DnsTimeout(self.host.to_owned())
                }
                other => SessionError::Connect(other.to_string()),
            })?;
        let stream: Box<dyn Stream> = match self.security {
            Security::Tls => Box::new(self.tls_wrap(tcp).await?),
            _ => Box::new(tcp),
        };
        let mut stream = BufReader::new(stream);
        let goodbye = match (self.protocol, self.security, self.imap_capabilities) {
            (Protocol::Smtp, ..) => "QUIT",
            // The tags the set-up used: a1 and a2 for STARTTLS, then one for CAPABILITY.
            (_, Security::StartTls, true) => "a4 LOGOUT",
            (_, Security::StartTls, false) => "a3 LOGOUT",
            (_, _, true) => "a2 LOGOUT",
            _ => "a1 LOGOUT",
        };
        let capabilities = match self.protocol {
            Protocol::Smtp => {
                expect_smtp(&mut stream, "220").await?;
                let keywords = ehlo(&mut stream).await?;
                if self.security == Security::StartTls {
                    if !keywords.iter().any(|k| k == "STARTTLS") {
                        return Err(SessionError::NoStartTls);
                    }
                    command(&mut stream, "STARTTLS").await?;
                    let reply = read_smtp_reply(&mut stream).await?;
                    if !reply.starts_with("220") {
                        return Err(SessionError::StartTlsRefused(truncate(&reply)));
                    }
                    stream = BufReader::new(Box::new(self.tls_wrap(stream.into_inner()).await?));
                    ehlo(&mut stream).await?
                } else {
                    keywords
                }
            }
            _ => {
                imap_greeting(&mut stream).await?;
                if self.security == Security::StartTls {
                    let capabilities = imap_capabilities(&mut stream, "a1").await?;
                    if !capabilities.iter().any(|c| c == "STARTTLS") {
                        return Err(SessionError::NoStartTls);
                    }
                    command(&mut stream, "a2 STARTTLS").await?;
                    let line = read_line(&mut stream).await?;
                    if !line.to_ascii_uppercase().starts_with("A2 OK") {
                        return Err(SessionError::StartTlsRefused(truncate(&line)));
                    }
                    stream = BufReader::new(Box::new(self.tls_wrap(stream.into_inner()).await?));
                }
                if self.imap_capabilities {
                    // Tags continue after STARTTLS's a1 and a2.
                    let tag = if self.security == Security::StartTls { "a3" } else { "a1" };
                    imap_capabilities(&mut stream, tag).await?
                } else {
                    Vec::new()
                }
            }
        };
        Ok(Session { stream, capabilities, addr, goodbye })
    }

    async fn tls_wrap<S: Stream>(&self, stream: S) -> Result<impl Stream + use<S>, SessionError> {
        let name = ServerName::try_from(self.host.to_owned())
            .map_err(|e| SessionError::Tls(e.to_string()))?;
        self.tls.connect(name, stream).await.map_err(|e| SessionError::Tls(e.to_string()))
    }
}

/// One line from the server, without its line ending; at most [`MAX_LINE`] bytes.
pub(crate) async fn read_line<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
) -> Result<String, SessionError> {
    let mut line = Vec::new();
    let mut limited = (&mut *stream).take(MAX_LINE as u64 + 1);
    limited.read_until(b'\n', &mut line).await.map_err(|e| SessionError::Connect(e.to_string()))?;
    if line.is_empty() {
        return Err(SessionError::Protocol("the server closed the connection".into()));
    }
    if line.len() > MAX_LINE {
        return Err(SessionError::Protocol("line too long".into()));
    }
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

/// Sends one command line.
pub(crate) async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    line: &str,
) -> Result<(), SessionError> {
    let inner = stream.get_mut();
    inner
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .map_err(|e| SessionError::Connect(e.to_string()))?;
    inner.flush().await.map_err(|e| SessionError::Connect(e.to_string()))
}

async fn imap_greeting<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
) -> Result<(), SessionError> {
    let greeting = read_line(stream).await?;
    let upper = greeting.to_ascii_uppercase();
    if upper.starts_with("* OK") || upper.starts_with("* PREAUTH") {
        Ok(())
    } else {
        Err(SessionError::Protocol(format!("not an IMAP greeting: {}", truncate(&greeting))))
    }
}

async fn imap_capabilities<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    tag: &str,
) -> Result<Vec<String>, SessionError> {
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
            return Err(SessionError::Protocol("no IMAP4 capability".into()));
        } else if upper.starts_with(&tag.to_ascii_uppercase()) {
            return Err(SessionError::Protocol(format!("CAPABILITY failed: {}", truncate(&line))));
        }
    }
    Err(SessionError::Protocol("CAPABILITY answer too long".into()))
}

/// The lines of one SMTP reply, as sent: a `-` after the three-digit code means another line
/// follows. A line without a code ends the reply (an SSH banner, `SSH-2.0-…`, waits for the
/// client and must not be read as a continuation).
async fn smtp_lines<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
) -> Result<Vec<String>, SessionError> {
    let mut lines = Vec::new();
    for _ in 0..MAX_LINES {
        let line = read_line(stream).await?;
        let bytes = line.as_bytes();
        let last =
            !(bytes.len() > 3 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes[3] == b'-');
        lines.push(line);
        if last {
            return Ok(lines);
        }
    }
    Err(SessionError::Protocol("SMTP reply too long".into()))
}

/// A whole SMTP reply (every line, joined with spaces), whatever its code.
pub(crate) async fn read_smtp_reply<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
) -> Result<String, SessionError> {
    Ok(smtp_lines(stream).await?.join(" "))
}

/// Reads an SMTP reply and checks its code; returns each line's text after the code.
async fn expect_smtp<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
    code: &str,
) -> Result<Vec<String>, SessionError> {
    let lines = smtp_lines(stream).await?;
    if let Some(other) = lines.iter().find(|line| !line.starts_with(code)) {
        return Err(SessionError::Protocol(format!("expected {code}: {}", truncate(other))));
    }
    Ok(lines.iter().map(|line| line.get(4..).unwrap_or_default().to_owned()).collect())
}

async fn ehlo<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
) -> Result<Vec<String>, SessionError> {
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

/// The start of a server's line, for an error message.
fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}
