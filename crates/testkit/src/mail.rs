//! IMAP and SMTP servers that speak just enough protocol for probes and sign-in checks:
//! greeting, CAPABILITY / EHLO, STARTTLS (when advertised), LOGIN / AUTHENTICATE PLAIN / AUTH
//! PLAIN against one account (refusing with a scripted provider text), LOGOUT / QUIT. They
//! record every command line.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use crate::TestCa;

/// Which protocol a [`MailServer`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailProtocol {
    /// IMAP.
    Imap,
    /// SMTP submission.
    Smtp,
}

/// How a [`MailServer`] behaves.
pub enum MailMode<'a> {
    /// TLS from the first byte.
    ImplicitTls(&'a TestCa),
    /// Plaintext, advertising STARTTLS when a CA is given.
    Plain {
        /// The certificate for STARTTLS, if offered.
        starttls: Option<&'a TestCa>,
    },
    /// Accepts connections and never says a word.
    Silent,
}

/// The one account a [`MailServer`] knows, and how it refuses everyone else.
#[derive(Debug, Clone)]
pub struct MailAccount {
    /// The login name.
    pub username: String,
    /// The password.
    pub password: String,
    /// The refusal, as the provider words it: for IMAP the text after the tag
    /// (`NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)`), for SMTP the reply lines
    /// separated by `\n` (`535-5.7.8 Username and Password not accepted.\n535 5.7.8 …`).
    pub refusal: String,
}

/// A loopback IMAP or SMTP server.
pub struct MailServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    commands: Arc<Mutex<Vec<String>>>,
    _shutdown: crate::Shutdown,
}

impl MailServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start(protocol: MailProtocol, mode: MailMode<'_>) -> Self {
        Self::start_with_account(protocol, mode, None)
    }

    /// Starts a server that accepts sign-in for `account` (every sign-in is refused when
    /// `None`).
    pub fn start_with_account(
        protocol: MailProtocol,
        mode: MailMode<'_>,
        account: Option<MailAccount>,
    ) -> Self {
        let account = Arc::new(account);
        let (tls, starttls, silent) = match mode {
            MailMode::ImplicitTls(ca) => (Some(ca.acceptor()), None, false),
            MailMode::Plain { starttls } => (None, starttls.map(TestCa::acceptor), false),
            MailMode::Silent => (None, None, true),
        };
        let connections = Arc::new(AtomicUsize::new(0));
        let commands = Arc::new(Mutex::new(Vec::new()));
        let (counter, log) = (connections.clone(), commands.clone());
        let (addr, shutdown) = crate::tcp_server(move |tcp| {
            counter.fetch_add(1, Ordering::SeqCst);
            let (tls, starttls, log) = (tls.clone(), starttls.clone(), log.clone());
            let account = account.clone();
            async move {
                if silent {
                    let mut tcp = tcp;
                    let mut buf = [0u8; 64];
                    while tokio::io::AsyncReadExt::read(&mut tcp, &mut buf)
                        .await
                        .is_ok_and(|n| n > 0)
                    {}
                    return;
                }
                match tls {
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(tcp).await else { return };
                        let _ =
                            session(BufReader::new(stream), protocol, false, true, &log, &account)
                                .await;
                    }
                    None => {
                        let upgrade = session(
                            BufReader::new(tcp),
                            protocol,
                            starttls.is_some(),
                            true,
                            &log,
                            &account,
                        )
                        .await;
                        if let (Some(reader), Some(acceptor)) = (upgrade, starttls) {
                            let Ok(stream) = acceptor.accept(reader.into_inner()).await else {
                                return;
                            };
                            let _ = session(
                                BufReader::new(stream),
                                protocol,
                                false,
                                false,
                                &log,
                                &account,
                            )
                            .await;
                        }
                    }
                }
            }
        });
        Self { addr, connections, commands, _shutdown: shutdown }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Every command line received.
    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }

    /// Panics if any command carried or started to send credentials (IMAP `tag LOGIN` /
    /// `AUTHENTICATE`, SMTP `AUTH`, `USER`/`PASS`).
    pub fn assert_no_credentials(&self) {
        for command in self.commands() {
            let words: Vec<String> =
                command.split_whitespace().take(2).map(str::to_ascii_uppercase).collect();
            let verbs = ["LOGIN", "AUTHENTICATE", "AUTH", "USER", "PASS"];
            assert!(
                !words.iter().any(|w| verbs.contains(&w.as_str())),
                "credentials sent: {command}"
            );
        }
    }
}

/// Serves one connection; returns the reader when the client asked for STARTTLS.
async fn session<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: BufReader<S>,
    protocol: MailProtocol,
    offer_starttls: bool,
    greet: bool,
    log: &Mutex<Vec<String>>,
    account: &Option<MailAccount>,
) -> Option<BufReader<S>> {
    if greet {
        let greeting = match protocol {
            MailProtocol::Imap => "* OK test IMAP server ready\r\n",
            MailProtocol::Smtp => "220 test.invalid ESMTP ready\r\n",
        };
        stream.get_mut().write_all(greeting.as_bytes()).await.ok()?;
    }
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end().to_owned();
        log.lock().unwrap().push(line.clone());
        let upper = line.to_ascii_uppercase();
        let reply = match protocol {
            MailProtocol::Imap => {
                let (tag, command) = upper.split_once(' ').unwrap_or((upper.as_str(), ""));
                let tag = &line[..tag.len()];
                match command {
                    "CAPABILITY" => {
                        let starttls = if offer_starttls { " STARTTLS" } else { "" };
                        format!(
                            "* CAPABILITY IMAP4rev1 AUTH=PLAIN{starttls}\r\n{tag} OK CAPABILITY completed\r\n"
                        )
                    }
                    "STARTTLS" if offer_starttls => {
                        stream
                            .get_mut()
                            .write_all(format!("{tag} OK begin TLS\r\n").as_bytes())
                            .await
                            .ok()?;
                        return Some(stream);
                    }
                    _ if command.starts_with("LOGIN ") => {
                        let rest = line[tag.len()..].trim();
                        let args: Vec<&str> = rest
                            .split_once(' ')
                            .map_or("", |(_, args)| args)
                            .split('"')
                            .filter(|part| !part.trim().is_empty())
                            .collect();
                        let (user, pass) = (args.first().copied(), args.get(1).copied());
                        imap_verdict(tag, account, user, pass)
                    }
                    // Like many servers, this one does not offer SASL-IR (RFC 4959): an
                    // initial response on the command line is a protocol error.
                    _ if command.starts_with("AUTHENTICATE PLAIN ") => {
                        format!("{tag} BAD SASL-IR is not supported\r\n")
                    }
                    "AUTHENTICATE PLAIN" => {
                        stream.get_mut().write_all(b"+ \r\n").await.ok()?;
                        let mut response = String::new();
                        stream.read_line(&mut response).await.ok()?;
                        log.lock().unwrap().push(response.trim_end().to_owned());
                        let (user, pass) = plain(response.trim());
                        imap_verdict(tag, account, user.as_deref(), pass.as_deref())
                    }
                    "LOGOUT" => {
                        let _ = stream
                            .get_mut()
                            .write_all(format!("* BYE\r\n{tag} OK LOGOUT completed\r\n").as_bytes())
                            .await;
                        return None;
                    }
                    _ => format!("{tag} BAD unknown command\r\n"),
                }
            }
            MailProtocol::Smtp => {
                if upper.starts_with("EHLO") {
                    let starttls = if offer_starttls { "250-STARTTLS\r\n" } else { "" };
                    format!(
                        "250-test.invalid\r\n250-PIPELINING\r\n{starttls}250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
                    )
                } else if upper.starts_with("AUTH PLAIN ") {
                    let (user, pass) = plain(line.rsplit(' ').next().unwrap_or_default());
                    match account {
                        Some(a)
                            if user.as_deref() == Some(a.username.as_str())
                                && pass.as_deref() == Some(a.password.as_str()) =>
                        {
                            "235 2.7.0 Authentication successful\r\n".to_owned()
                        }
                        Some(a) => a.refusal.lines().map(|l| format!("{l}\r\n")).collect(),
                        None => "535 5.7.8 Authentication failed\r\n".to_owned(),
                    }
                } else if upper == "STARTTLS" && offer_starttls {
                    stream.get_mut().write_all(b"220 go ahead\r\n").await.ok()?;
                    return Some(stream);
                } else if upper == "QUIT" {
                    let _ = stream.get_mut().write_all(b"221 bye\r\n").await;
                    return None;
                } else {
                    "502 not implemented\r\n".to_owned()
                }
            }
        };
        stream.get_mut().write_all(reply.as_bytes()).await.ok()?;
    }
}

/// The IMAP reply to a sign-in.
fn imap_verdict(
    tag: &str,
    account: &Option<MailAccount>,
    user: Option<&str>,
    pass: Option<&str>,
) -> String {
    match account {
        Some(a) if user == Some(a.username.as_str()) && pass == Some(a.password.as_str()) => {
            format!("{tag} OK [CAPABILITY IMAP4rev1] Logged in\r\n")
        }
        Some(a) => format!("{tag} {}\r\n", a.refusal),
        None => format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
    }
}

/// The user and password of a SASL PLAIN response (`authzid NUL user NUL password`).
fn plain(encoded: &str) -> (Option<String>, Option<String>) {
    use base64::Engine as _;
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return (None, None);
    };
    let mut parts = raw.split(|&b| b == 0).map(|p| String::from_utf8_lossy(p).into_owned());
    let _authzid = parts.next();
    (parts.next(), parts.next())
}
