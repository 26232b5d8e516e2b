//! The credential pre-flight check: sign in to the detected IMAP server and authenticate to its
//! SMTP submission server before the password goes to any API, so that the login page can say
//! precisely what is wrong (an app password is needed, IMAP is turned off, …).
//!
//! Credentials go only over TLS — implicit, or after a STARTTLS the server advertised — unless
//! the caller allowed plaintext; connections go through the address guard; nothing secret is
//! logged, traced or kept in an error. The server's own words are kept only as a short
//! diagnostic.

use std::time::Duration;

use nativeauth_core::connect::{Consent, Credentials};
use nativeauth_core::plugin::DiscoveryContext;
use nativeauth_core::secrecy::{ExposeSecret, SecretString};
use nativeauth_core::{Detection, EmailAddress, Protocol, Server, Trust};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio_rustls::TlsConnector;

use crate::session::{SessionError, Setup, command, read_line, read_smtp_reply};

/// What the check found, in terms the user can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LoginCheckKind {
    /// Both servers accepted the credentials.
    Ok,
    /// The login name or password is wrong.
    WrongCredentials,
    /// The provider wants an app password, not the account password.
    AppPasswordRequired,
    /// IMAP or SMTP access (or password sign-in) is turned off for the account.
    ProtocolDisabled,
    /// The provider blocked the sign-in for now (locked, throttled, web sign-in needed).
    AccountLocked,
    /// TLS could not be set up or the certificate is not valid for the server.
    TlsFailure,
    /// The server could not be reached.
    Unreachable,
    /// The server did not answer in time.
    Timeout,
}

impl LoginCheckKind {
    /// The wire name (`ok`, `wrong-credentials`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::WrongCredentials => "wrong-credentials",
            Self::AppPasswordRequired => "app-password-required",
            Self::ProtocolDisabled => "protocol-disabled",
            Self::AccountLocked => "account-locked",
            Self::TlsFailure => "tls-failure",
            Self::Unreachable => "unreachable",
            Self::Timeout => "timeout",
        }
    }

    /// Whether the server refused the credentials (as opposed to not being reachable).
    pub const fn is_refusal(self) -> bool {
        matches!(
            self,
            Self::WrongCredentials
                | Self::AppPasswordRequired
                | Self::ProtocolDisabled
                | Self::AccountLocked
        )
    }
}

/// The outcome of a pre-flight check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginCheck {
    /// Whether both servers accepted the credentials.
    pub ok: bool,
    /// What happened.
    pub kind: LoginCheckKind,
    /// Which server refused or failed (`None` when both accepted).
    pub protocol: Option<Protocol>,
    /// A sentence for the user.
    pub message: String,
    /// The provider's help page for this problem, when the catalogue knows one.
    pub help_url: Option<String>,
    /// The step before login this answer concerns: `app-password` for
    /// `app-password-required`, `enable-imap` for `protocol-disabled`.
    pub step: Option<nativeauth_core::PreLoginStep>,
    /// The server's own words, shortened and stripped of control characters (never a secret:
    /// servers do not echo passwords, and only their replies are kept).
    #[serde(skip)]
    pub diagnostic: Option<String>,
}

/// Why the check was not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginCheckError {
    /// The detection is unverified and the caller did not accept it.
    #[error("the detection is unverified: confirm the servers with the user first")]
    Unverified,
    /// The only server of a protocol offers plaintext and the caller did not allow it.
    #[error("{server} offers only plaintext {protocol}: no password is sent there")]
    Plaintext {
        /// `host:port`.
        server: String,
        /// IMAP or SMTP.
        protocol: Protocol,
    },
    /// The detection has no server of a protocol to check.
    #[error("the detection has no {0} server to sign in to")]
    NoServer(Protocol),
    /// The provider takes no password (OAuth only), or the credentials are not a password.
    #[error("{0} accepts no password: sign in with the provider (OAuth) instead")]
    NotAPassword(String),
}

/// The longest diagnostic kept from a server reply.
const DIAGNOSTIC_LEN: usize = 200;

/// Signs in to the detection's IMAP server, then authenticates to its SMTP server, and says
/// what happened. Each server gets at most `timeout`.
///
/// # Errors
/// [`LoginCheckError`] when the check cannot run: an unverified detection or a plaintext-only
/// server without the caller's consent, no server, or no password.
pub async fn check_login(
    ctx: &DiscoveryContext,
    email: &EmailAddress,
    detection: &Detection,
    credentials: &Credentials,
    consent: Consent,
    timeout: Duration,
) -> Result<LoginCheck, LoginCheckError> {
    if detection.trust == Trust::Unverified && !consent.accepts_unverified() {
        return Err(LoginCheckError::Unverified);
    }
    let Credentials::Password { password, username, smtp } = credentials else {
        return Err(LoginCheckError::NotAPassword(detection.provider.name.clone()));
    };
    let imap_server = pick(&detection.incoming, Protocol::Imap, consent)?;
    let smtp_server = pick(&detection.outgoing, Protocol::Smtp, consent)?;
    if [imap_server, smtp_server].iter().all(|s| !s.auth.iter().any(|a| a.is_password())) {
        return Err(LoginCheckError::NotAPassword(detection.provider.name.clone()));
    }
    let login = |server: &Server, username: Option<&str>| {
        username
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map_or_else(|| server.username.render(email), str::to_owned)
    };
    // The SMTP server may take its own login (a separate SMTP username and password).
    let smtp_user = smtp.as_ref().and_then(|s| s.username.as_deref()).or(username.as_deref());
    let smtp_password = smtp.as_ref().map_or(password, |s| &s.password);
    let attempts = [
        (imap_server, login(imap_server, username.as_deref()), password),
        (smtp_server, login(smtp_server, smtp_user), smtp_password),
    ];
    for (server, name, password) in &attempts {
        let (server, name, password) = (*server, name.as_str(), *password);
        let attempt = sign_in(ctx, server, name, password);
        let verdict = match tokio::time::timeout(timeout, attempt).await {
            Ok(verdict) => verdict,
            Err(_) => Verdict::not_accepted(LoginCheckKind::Timeout, None),
        };
        if verdict.kind != LoginCheckKind::Ok {
            return Ok(report(detection, Some(server), verdict));
        }
    }
    Ok(report(detection, None, Verdict::accepted()))
}

/// The first encrypted server of `protocol`, else a plaintext one if the caller allowed it.
fn pick(
    servers: &[Server],
    protocol: Protocol,
    consent: Consent,
) -> Result<&Server, LoginCheckError> {
    let mut of_protocol = servers.iter().filter(|s| s.protocol == protocol);
    if let Some(encrypted) = of_protocol.clone().find(|s| s.security.is_encrypted()) {
        return Ok(encrypted);
    }
    match of_protocol.next() {
        Some(plain) if consent.allows_plaintext() => Ok(plain),
        Some(plain) => Err(LoginCheckError::Plaintext { server: plain.address(), protocol }),
        None => Err(LoginCheckError::NoServer(protocol)),
    }
}

/// One server's answer.
struct Verdict {
    kind: LoginCheckKind,
    diagnostic: Option<String>,
}

impl Verdict {
    /// The server took the credentials.
    fn accepted() -> Self {
        Self { kind: LoginCheckKind::Ok, diagnostic: None }
    }

    /// The credentials were not accepted: refused, or never checked (a timeout, an
    /// unreachable server, TLS failing); `kind` says which, `reply` is what the server said.
    fn not_accepted(kind: LoginCheckKind, reply: Option<&str>) -> Self {
        debug_assert!(kind != LoginCheckKind::Ok, "an accepted login is Verdict::accepted()");
        Self { kind, diagnostic: reply.map(diagnostic) }
    }
}

fn report(detection: &Detection, server: Option<&Server>, verdict: Verdict) -> LoginCheck {
    let provider = &detection.provider;
    let protocol_name = server.map_or("mail", |s| s.protocol.as_str());
    let host = server.map_or(String::new(), |s| s.host.clone());
    let message = match verdict.kind {
        LoginCheckKind::Ok => "Signed in: the address and password work.".to_owned(),
        LoginCheckKind::WrongCredentials => {
            "The email address or password is not right.".to_owned()
        }
        LoginCheckKind::AppPasswordRequired => format!(
            "{} needs an app password here, not your account password: create one in your \
             account's security settings and use it instead.",
            provider.name
        ),
        LoginCheckKind::ProtocolDisabled => format!(
            "{} access is turned off for this account: turn it on in your mail settings, then \
             try again.",
            protocol_name.to_ascii_uppercase()
        ),
        LoginCheckKind::AccountLocked => format!(
            "{} blocked this sign-in for now: sign in once on its website, or try again later.",
            provider.name
        ),
        LoginCheckKind::TlsFailure => {
            format!("The secure connection to {host} could not be verified.")
        }
        LoginCheckKind::Unreachable => format!("The mail server {host} could not be reached."),
        LoginCheckKind::Timeout => format!("The mail server {host} did not answer in time."),
    };
    let imap = server.is_some_and(|s| s.protocol == Protocol::Imap);
    let step = match verdict.kind {
        LoginCheckKind::AppPasswordRequired => Some(nativeauth_core::PreLoginStep::AppPassword),
        // A disabled SMTP login (a tenant's "SMTP AUTH disabled") is not the IMAP switch.
        LoginCheckKind::ProtocolDisabled if imap => Some(nativeauth_core::PreLoginStep::EnableImap),
        _ => None,
    };
    // The catalogue's own page for the step, when it lists the step.
    let step_url =
        step.and_then(|step| detection.requires.iter().find(|r| r.step == step)?.url.clone());
    let help_url = match verdict.kind {
        LoginCheckKind::AppPasswordRequired => step_url
            .or_else(|| provider.app_password_url.clone())
            .or_else(|| provider.documentation.clone()),
        LoginCheckKind::ProtocolDisabled => step_url.or_else(|| provider.documentation.clone()),
        kind if kind.is_refusal() => provider.documentation.clone(),
        _ => None,
    };
    LoginCheck {
        ok: verdict.kind == LoginCheckKind::Ok,
        kind: verdict.kind,
        protocol: server.map(|s| s.protocol),
        message,
        help_url,
        step,
        diagnostic: verdict.diagnostic,
    }
}

/// A server reply shortened and stripped of control characters.
fn diagnostic(reply: &str) -> String {
    reply.chars().filter(|c| !c.is_control()).take(DIAGNOSTIC_LEN).collect()
}

/// What a refusal means, from the words and codes the big providers use: Gmail
/// (`[ALERT] Application-specific password required`, `534-5.7.9`, `[ALERT] Please log in via
/// your web browser`, `Your account is not enabled for IMAP use`), Outlook.com and Microsoft
/// 365 (`535 5.7.139 … basic authentication is disabled`, `SmtpClientAuthentication is
/// disabled`), Yahoo and AOL (`[AUTHENTICATIONFAILED]`, `[WEBALERT …]`), iCloud, GMX
/// (IMAP must be enabled), Zoho (`You are yet to enable IMAP`), and RFC 5530's response codes.
pub fn classify_refusal(reply: &str) -> LoginCheckKind {
    let text = reply.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if any(&[
        "application-specific password",
        "app password",
        "app-specific password",
        "534-5.7.9",
        "534 5.7.9",
    ]) {
        LoginCheckKind::AppPasswordRequired
    } else if any(&[
        "not enabled for imap",
        "enable imap",
        "imap access",
        "imap is disabled",
        "imap disabled",
        "pop/imap",
        "yet to enable",
        "smtpclientauthentication is disabled",
        "smtp client authentication is disabled",
        "basic authentication is disabled",
        "5.7.139",
        "smtp access",
        "[disabled]",
    ]) {
        LoginCheckKind::ProtocolDisabled
    } else if any(&[
        "web browser",
        "web login",
        "[webalert",
        "[unavailable]",
        "[inuse]",
        "too many",
        "locked",
        "suspended",
        "temporarily",
        "try again later",
        "454 4.7.0",
        "4.7.0",
        "blocked",
    ]) {
        LoginCheckKind::AccountLocked
    } else {
        LoginCheckKind::WrongCredentials
    }
}

/// Signs in to one server.
async fn sign_in(
    ctx: &DiscoveryContext,
    server: &Server,
    login: &str,
    password: &SecretString,
) -> Verdict {
    let tls = match ctx.tls_config(&server.host) {
        Ok(tls) => TlsConnector::from(tls),
        Err(_) => return Verdict::not_accepted(LoginCheckKind::TlsFailure, None),
    };
    let setup = Setup {
        ctx,
        tls: &tls,
        host: &server.host,
        port: server.port,
        protocol: server.protocol,
        security: server.security,
        imap_capabilities: false,
    };
    let mut session = match setup.open().await {
        Ok(session) => session,
        Err(error) => return unfinished(&error),
    };
    let credentials = Login { login, password };
    let judged = match server.protocol {
        Protocol::Smtp => credentials.smtp_auth(&mut session.stream).await,
        _ => credentials.imap_authenticate(&mut session.stream).await,
    };
    judged.unwrap_or_else(|error| unfinished(&error))
}

/// The verdict of a session that ended before the server judged the credentials.
fn unfinished(error: &SessionError) -> Verdict {
    match error {
        SessionError::Tls(_) => Verdict::not_accepted(LoginCheckKind::TlsFailure, None),
        SessionError::NoStartTls | SessionError::StartTlsRefused(_) => Verdict::not_accepted(
            LoginCheckKind::TlsFailure,
            Some("STARTTLS is not offered: no password was sent"),
        ),
        SessionError::Timeout | SessionError::DnsTimeout(_) => {
            Verdict::not_accepted(LoginCheckKind::Timeout, None)
        }
        // What the server answered (its line, cut short, after a few words of ours saying what
        // was expected); connection errors are ours, not the server's, and are left out.
        SessionError::Protocol(reply) => {
            Verdict::not_accepted(LoginCheckKind::Unreachable, Some(reply))
        }
        _ => Verdict::not_accepted(LoginCheckKind::Unreachable, None),
    }
}

/// The login name and password sent to one server.
struct Login<'a> {
    login: &'a str,
    password: &'a SecretString,
}

impl Login<'_> {
    /// `authzid NUL login NUL password`, base64 (RFC 4616).
    fn sasl_plain(&self) -> SecretString {
        use base64::Engine as _;
        let raw = format!("\0{}\0{}", self.login, self.password.expose_secret());
        SecretString::from(base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()))
    }

    async fn imap_authenticate<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut BufReader<S>,
    ) -> Result<Verdict, SessionError> {
        // AUTHENTICATE PLAIN carries any character; LOGIN's quoted strings do not, so it is not
        // used. The response follows the server's `+`: an initial response on the command line
        // needs SASL-IR, which many servers do not offer and answer with BAD.
        command(stream, "b1 AUTHENTICATE PLAIN").await?;
        loop {
            let reply = read_line(stream).await?;
            let upper = reply.to_ascii_uppercase();
            if upper.starts_with('+') {
                command(stream, self.sasl_plain().expose_secret()).await?;
            } else if upper.starts_with("B1 OK") {
                let _ = command(stream, "b2 LOGOUT").await;
                return Ok(Verdict::accepted());
            } else if upper.starts_with("B1 ") {
                return Ok(Verdict::not_accepted(classify_refusal(&reply), Some(&reply)));
            }
            // Untagged lines (`* CAPABILITY …`) are skipped.
        }
    }

    async fn smtp_auth<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut BufReader<S>,
    ) -> Result<Verdict, SessionError> {
        let line = format!("AUTH PLAIN {}", self.sasl_plain().expose_secret());
        command(stream, &line).await?;
        let reply = read_smtp_reply(stream).await?;
        if reply.starts_with("235") {
            let _ = command(stream, "QUIT").await;
            return Ok(Verdict::accepted());
        }
        Ok(Verdict::not_accepted(classify_refusal(&reply), Some(&reply)))
    }
}

#[cfg(test)]
mod tests {
    use nativeauth_core::Security;

    use super::*;

    #[test]
    fn a_disabled_protocol_names_the_imap_step_only_for_imap() {
        use nativeauth_core::{NylasProvider, PreLoginStep, ProviderInfo, RequiredStep, Source};
        let detection = Detection::new(
            ProviderInfo::new("x", "X", NylasProvider::Imap),
            Source::Catalogue,
            Trust::Verified,
            "",
        )
        .with_requires(vec![RequiredStep {
            step: PreLoginStep::EnableImap,
            url: Some("https://x.example/imap".into()),
        }]);
        let server = |protocol| Server {
            protocol,
            host: "mail.x.example".into(),
            port: 993,
            security: Security::Tls,
            username: nativeauth_core::UsernameTemplate::email_address(),
            auth: vec![],
        };
        let disabled = || Verdict::not_accepted(LoginCheckKind::ProtocolDisabled, None);
        let imap = report(&detection, Some(&server(Protocol::Imap)), disabled());
        assert_eq!(imap.step, Some(PreLoginStep::EnableImap));
        assert_eq!(imap.help_url.as_deref(), Some("https://x.example/imap"));
        let smtp = report(&detection, Some(&server(Protocol::Smtp)), disabled());
        assert_eq!(smtp.step, None, "a tenant's SMTP AUTH switch is not the IMAP step");
    }

    #[test]
    fn the_big_providers_refusals_are_classified() {
        use LoginCheckKind::*;
        for (reply, kind) in [
            ("a1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", WrongCredentials),
            (
                "a1 NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)",
                AppPasswordRequired,
            ),
            (
                "534-5.7.9 Application-specific password required. Learn more at 534 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor",
                AppPasswordRequired,
            ),
            ("535-5.7.8 Username and Password not accepted.", WrongCredentials),
            (
                "a1 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)",
                ProtocolDisabled,
            ),
            (
                "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
                ProtocolDisabled,
            ),
            (
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
                ProtocolDisabled,
            ),
            ("a1 NO [ALERT] Please log in via your web browser (Failure)", AccountLocked),
            (
                "a1 NO [WEBALERT https://login.yahoo.com/account/verify] Web login required",
                AccountLocked,
            ),
            ("454 4.7.0 Too many login attempts, please try again later.", AccountLocked),
            ("a1 NO [UNAVAILABLE] Temporary authentication failure", AccountLocked),
            ("a1 NO You are yet to enable IMAP for your account.", ProtocolDisabled),
            ("a1 NO [AUTHENTICATIONFAILED] Authentication failed.", WrongCredentials),
            ("a1 NO LOGIN failed.", WrongCredentials),
        ] {
            assert_eq!(classify_refusal(reply), kind, "{reply}");
        }
    }

    #[test]
    fn diagnostics_are_short_and_printable() {
        let long = format!("a1 NO \u{1b}[31m{}\r\n", "x".repeat(500));
        let kept = diagnostic(&long);
        assert!(kept.len() <= DIAGNOSTIC_LEN && !kept.chars().any(char::is_control), "{kept:?}");
    }
}
