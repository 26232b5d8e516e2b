//! The credential pre-flight check against loopback IMAP/SMTP servers that refuse with the big
//! providers' own words; credentials only ever cross TLS.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::time::Duration;

use nativeauth_core::connect::{Consent, Credentials};
use nativeauth_core::plugin::DiscoveryContext;
use nativeauth_core::{
    AddressPolicy, AuthMethod, Detection, Discovery, DiscoveryConfig, EmailAddress, NylasProvider,
    Protocol, ProviderInfo, Security, Server, Source, Trust, UsernameTemplate,
};
use nativeauth_imap::{LoginCheck, LoginCheckError, LoginCheckKind, check_login};
use nativeauth_testkit::{
    DnsServer, MailAccount, MailMode, MailProtocol, MailServer, TestCa, Zone,
};

const USER: &str = "ann@login.test";
const PASSWORD: &str = "s3cret pass\u{e9}";
const HOSTS: [&str; 2] = ["imap.login.test", "smtp.login.test"];

fn context(dns: &DnsServer, ca: &TestCa) -> DiscoveryContext {
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(Duration::from_secs(1))
        .extra_roots([ca.root()])
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .build();
    Discovery::with_providers(config, Vec::new()).unwrap().context()
}

fn account(refusal: &str) -> Option<MailAccount> {
    Some(MailAccount { username: USER.into(), password: PASSWORD.into(), refusal: refusal.into() })
}

fn server(protocol: Protocol, host: &str, port: u16, security: Security) -> Server {
    Server {
        protocol,
        host: host.into(),
        port,
        security,
        username: UsernameTemplate::email_address(),
        auth: vec![AuthMethod::PasswordCleartext],
    }
}

fn detection(imap: Server, smtp: Server) -> Detection {
    let mut provider = ProviderInfo::new("gmail", "Gmail", NylasProvider::Imap);
    provider.app_password_url = Some("https://myaccount.google.com/apppasswords".into());
    provider.documentation = Some("https://support.google.com/mail/answer/7126229".into());
    Detection::new(provider, Source::Catalogue, Trust::Verified, "test")
        .with_servers(vec![imap], vec![smtp])
}

struct Lab {
    dns: DnsServer,
    ca: TestCa,
}

fn lab() -> Lab {
    let zone = HOSTS.iter().fold(Zone::new(), |zone, host| zone.a(host, Ipv4Addr::LOCALHOST));
    Lab { dns: DnsServer::start(zone), ca: TestCa::new(&HOSTS) }
}

async fn check(lab: &Lab, detection: &Detection, password: &str) -> LoginCheck {
    let email = EmailAddress::parse(USER).unwrap();
    let ctx = context(&lab.dns, &lab.ca);
    let credentials = Credentials::password(password);
    check_login(&ctx, &email, detection, &credentials, Consent::none(), Duration::from_secs(3))
        .await
        .unwrap()
}

fn tls_pair(lab: &Lab, imap_refusal: &str, smtp_refusal: &str) -> (MailServer, MailServer) {
    (
        MailServer::start_with_account(
            MailProtocol::Imap,
            MailMode::ImplicitTls(&lab.ca),
            account(imap_refusal),
        ),
        MailServer::start_with_account(
            MailProtocol::Smtp,
            MailMode::ImplicitTls(&lab.ca),
            account(smtp_refusal),
        ),
    )
}

fn servers_of(imap: &MailServer, smtp: &MailServer) -> Detection {
    detection(
        server(Protocol::Imap, "imap.login.test", imap.addr().port(), Security::Tls),
        server(Protocol::Smtp, "smtp.login.test", smtp.addr().port(), Security::Tls),
    )
}

#[tokio::test]
async fn the_right_password_signs_in_to_both_servers() {
    let lab = lab();
    let (imap, smtp) =
        tls_pair(&lab, "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)", "535 5.7.8 no");
    let result = check(&lab, &servers_of(&imap, &smtp), PASSWORD).await;
    assert_eq!((result.ok, result.kind, result.protocol), (true, LoginCheckKind::Ok, None));
    // The response follows the server's `+`: the test server, like many, offers no SASL-IR.
    assert!(imap.commands().iter().any(|c| c == "b1 AUTHENTICATE PLAIN"));
    assert!(smtp.commands().iter().any(|c| c.starts_with("AUTH PLAIN ")));
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["kind"], "ok");
    assert!(json.get("diagnostic").is_none(), "the server's words stay out of the JSON");
}

#[tokio::test]
async fn gmail_asking_for_an_app_password_says_so_with_the_help_page() {
    let lab = lab();
    let refusal = "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)";
    let (imap, smtp) = tls_pair(&lab, refusal, "535 5.7.8 no");
    let result = check(&lab, &servers_of(&imap, &smtp), "account-password").await;
    assert_eq!(
        (result.ok, result.kind, result.protocol),
        (false, LoginCheckKind::AppPasswordRequired, Some(Protocol::Imap))
    );
    assert_eq!(result.help_url.as_deref(), Some("https://myaccount.google.com/apppasswords"));
    assert!(result.message.contains("app password"), "{}", result.message);
    assert!(!format!("{result:?}").contains("account-password"), "no secret in the result");
    assert_eq!(smtp.connections(), 0, "IMAP refused: SMTP is not tried");
}

#[tokio::test]
async fn smtp_refusing_after_imap_accepted_is_a_refusal() {
    let lab = lab();
    let smtp_refusal = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.";
    let imap = MailServer::start_with_account(
        MailProtocol::Imap,
        MailMode::ImplicitTls(&lab.ca),
        account("NO x"),
    );
    // This SMTP server knows another password: the same credentials are refused there.
    let smtp = MailServer::start_with_account(
        MailProtocol::Smtp,
        MailMode::ImplicitTls(&lab.ca),
        Some(MailAccount {
            username: USER.into(),
            password: "other".into(),
            refusal: smtp_refusal.into(),
        }),
    );
    let result = check(&lab, &servers_of(&imap, &smtp), PASSWORD).await;
    assert_eq!(
        (result.ok, result.kind, result.protocol),
        (false, LoginCheckKind::ProtocolDisabled, Some(Protocol::Smtp))
    );
    assert!(result.message.contains("SMTP"), "{}", result.message);
}

#[tokio::test]
async fn a_wrong_password_and_a_locked_account_are_told_apart() {
    let lab = lab();
    for (refusal, kind) in [
        (
            "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
            LoginCheckKind::WrongCredentials,
        ),
        (
            "NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
            LoginCheckKind::AccountLocked,
        ),
    ] {
        let (imap, smtp) = tls_pair(&lab, refusal, "535 no");
        let result = check(&lab, &servers_of(&imap, &smtp), "nope").await;
        assert_eq!(result.kind, kind, "{refusal}");
        assert!(
            result.diagnostic.as_deref().unwrap_or_default().contains("[ALERT]")
                == refusal.contains("[ALERT]")
        );
    }
}

#[tokio::test]
async fn no_password_crosses_plaintext_when_starttls_is_missing() {
    let lab = lab();
    let imap = MailServer::start_with_account(
        MailProtocol::Imap,
        MailMode::Plain { starttls: None },
        account("NO x"),
    );
    let (_, smtp) = tls_pair(&lab, "NO x", "535 x");
    let detection = detection(
        server(Protocol::Imap, "imap.login.test", imap.addr().port(), Security::StartTls),
        server(Protocol::Smtp, "smtp.login.test", smtp.addr().port(), Security::Tls),
    );
    let result = check(&lab, &detection, PASSWORD).await;
    assert_eq!((result.kind, result.protocol), (LoginCheckKind::TlsFailure, Some(Protocol::Imap)));
    imap.assert_no_credentials();
}

#[tokio::test]
async fn starttls_is_used_when_the_server_offers_it() {
    let lab = lab();
    let imap = MailServer::start_with_account(
        MailProtocol::Imap,
        MailMode::Plain { starttls: Some(&lab.ca) },
        account("NO x"),
    );
    let smtp = MailServer::start_with_account(
        MailProtocol::Smtp,
        MailMode::Plain { starttls: Some(&lab.ca) },
        account("535 x"),
    );
    let detection = detection(
        server(Protocol::Imap, "imap.login.test", imap.addr().port(), Security::StartTls),
        server(Protocol::Smtp, "smtp.login.test", smtp.addr().port(), Security::StartTls),
    );
    let result = check(&lab, &detection, PASSWORD).await;
    assert_eq!(result.kind, LoginCheckKind::Ok, "{result:?}");
    let imap_commands = imap.commands();
    let starttls = imap_commands.iter().position(|c| c.ends_with("STARTTLS")).unwrap();
    let auth = imap_commands.iter().position(|c| c.contains("AUTHENTICATE")).unwrap();
    assert!(starttls < auth, "{imap_commands:?}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_failure() {
    let lab = lab();
    let other_ca = TestCa::new(&HOSTS);
    let imap = MailServer::start_with_account(
        MailProtocol::Imap,
        MailMode::ImplicitTls(&other_ca),
        account("NO x"),
    );
    let (_, smtp) = tls_pair(&lab, "NO x", "535 x");
    let result = check(&lab, &servers_of(&imap, &smtp), PASSWORD).await;
    assert_eq!((result.kind, result.protocol), (LoginCheckKind::TlsFailure, Some(Protocol::Imap)));
    imap.assert_no_credentials();
}

#[tokio::test]
async fn plaintext_servers_and_unverified_answers_need_consent() {
    let lab = lab();
    let email = EmailAddress::parse(USER).unwrap();
    let ctx = context(&lab.dns, &lab.ca);
    let password = Credentials::password(PASSWORD);
    let plain = detection(
        server(Protocol::Imap, "imap.login.test", 143, Security::Plain),
        server(Protocol::Smtp, "smtp.login.test", 465, Security::Tls),
    );
    let refused =
        check_login(&ctx, &email, &plain, &password, Consent::none(), Duration::from_secs(1)).await;
    assert!(
        matches!(refused, Err(LoginCheckError::Plaintext { protocol: Protocol::Imap, .. })),
        "{refused:?}"
    );
    let mut unverified = plain.clone();
    unverified.trust = Trust::Unverified;
    let refused =
        check_login(&ctx, &email, &unverified, &password, Consent::none(), Duration::from_secs(1))
            .await;
    assert_eq!(refused, Err(LoginCheckError::Unverified));
}

#[tokio::test]
async fn a_dead_server_is_unreachable_or_a_timeout() {
    let lab = lab();
    let silent = MailServer::start(MailProtocol::Imap, MailMode::Silent);
    let (_, smtp) = tls_pair(&lab, "NO x", "535 x");
    let email = EmailAddress::parse(USER).unwrap();
    let ctx = context(&lab.dns, &lab.ca);
    let detection = servers_of(&silent, &smtp);
    let result = check_login(
        &ctx,
        &email,
        &detection,
        &Credentials::password(PASSWORD),
        Consent::none(),
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    assert_eq!((result.kind, result.protocol), (LoginCheckKind::Timeout, Some(Protocol::Imap)));
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let detection = detection_with_port(closed, smtp.addr().port());
    let result = check_login(
        &ctx,
        &email,
        &detection,
        &Credentials::password(PASSWORD),
        Consent::none(),
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(result.kind, LoginCheckKind::Unreachable);
}

fn detection_with_port(imap: u16, smtp: u16) -> Detection {
    detection(
        server(Protocol::Imap, "imap.login.test", imap, Security::Tls),
        server(Protocol::Smtp, "smtp.login.test", smtp, Security::Tls),
    )
}

#[tokio::test]
async fn the_smtp_server_gets_its_own_login_when_there_is_one() {
    let lab = lab();
    let imap = MailServer::start_with_account(
        MailProtocol::Imap,
        MailMode::ImplicitTls(&lab.ca),
        account("NO x"),
    );
    let smtp = MailServer::start_with_account(
        MailProtocol::Smtp,
        MailMode::ImplicitTls(&lab.ca),
        Some(MailAccount {
            username: "relay-user".into(),
            password: "relay-pw".into(),
            refusal: "535 5.7.8 no".into(),
        }),
    );
    let email = EmailAddress::parse(USER).unwrap();
    let ctx = context(&lab.dns, &lab.ca);
    let credentials =
        Credentials::password(PASSWORD).with_smtp_login(Some("relay-user".into()), "relay-pw");
    let detection = servers_of(&imap, &smtp);
    let result = check_login(
        &ctx,
        &email,
        &detection,
        &credentials,
        Consent::none(),
        Duration::from_secs(3),
    )
    .await
    .unwrap();
    assert_eq!(result.kind, LoginCheckKind::Ok, "{result:?}");
}

#[tokio::test]
async fn an_smtp_server_that_refuses_service_in_its_greeting_gets_no_password() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let lab = lab();
    let (imap, _) = tls_pair(&lab, "NO x", "535 x");
    // A submission server that greets with 554 ("no service here", RFC 5321 §3.1) yet answers
    // EHLO and takes an AUTH line: a client that ignores the greeting sends it the password.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heard = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        write.write_all(b"554 5.3.2 No service for you\r\n").await.unwrap();
        let mut lines = tokio::io::BufReader::new(read).lines();
        let mut heard = Vec::new();
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_millis(500), lines.next_line()).await
        {
            let reply: &[u8] = if line.starts_with("EHLO") {
                b"250-smtp.login.test\r\n250 AUTH PLAIN\r\n"
            } else {
                b"535 5.7.8 Authentication failed\r\n"
            };
            heard.push(line);
            write.write_all(reply).await.unwrap();
        }
        heard
    });
    let detection = detection(
        server(Protocol::Imap, "imap.login.test", imap.addr().port(), Security::Tls),
        server(Protocol::Smtp, "smtp.login.test", port, Security::Plain),
    );
    let email = EmailAddress::parse(USER).unwrap();
    let ctx = context(&lab.dns, &lab.ca);
    let consent = Consent::none().allow_plaintext();
    let result = check_login(
        &ctx,
        &email,
        &detection,
        &Credentials::password(PASSWORD),
        consent,
        Duration::from_secs(2),
    )
    .await
    .unwrap();
    assert_eq!((result.kind, result.protocol), (LoginCheckKind::Unreachable, Some(Protocol::Smtp)));
    let heard = heard.await.unwrap();
    assert!(
        !heard.iter().any(|line| line.starts_with("AUTH")),
        "the password went to a server that refused service: {heard:?}"
    );
}
