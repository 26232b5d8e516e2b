//! IMAP and SMTP servers that speak just enough protocol for probes: greeting, CAPABILITY /
//! EHLO, STARTTLS (when advertised), LOGOUT / QUIT. They record every command line.

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
                        let _ = session(BufReader::new(stream), protocol, false, true, &log).await;
                    }
                    None => {
                        let upgrade =
                            session(BufReader::new(tcp), protocol, starttls.is_some(), true, &log)
                                .await;
                        if let (Some(reader), Some(acceptor)) = (upgrade, starttls) {
                            let Ok(stream) = acceptor.accept(reader.into_inner()).await else {
                                return;
                            };
                            let _ =
                                session(BufReader::new(stream), protocol, false, false, &log).await;
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
                    format!("250-test.invalid\r\n250-PIPELINING\r\n{starttls}250 8BITMIME\r\n")
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
