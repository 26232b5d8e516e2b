//! Exchange autodiscover against local servers: discovery without credentials, the chain with
//! credentials and its redirect rules, and the Microsoft 365 v2 endpoint. Every test asserts
//! on what the servers received — above all, where `Authorization` headers went.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::time::Duration;

use hickory_proto::rr::RecordType;
use mockito::{Matcher, Mock, Server, ServerGuard};
use nativeauth::AddressPolicy;
use nativeauth::Url;
use nativeauth::providers::exchange::{
    AutodiscoverCredentials, AutodiscoverError, AutodiscoverOutcome, CredentialRules,
    autodiscover_with_credentials,
};
use nativeauth::providers::imap::ImapOptions;
use nativeauth::providers::microsoft::MicrosoftOptions;
use nativeauth::secrecy::SecretString;
use nativeauth::{
    Discovery, DiscoveryConfig, EmailAddress, NylasProvider, Report, Source, Trust, UrlPorts,
};
use nativeauth_testkit::{DnsServer, TestCa, TlsFront, Zone};

const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
const HOSTS: [&str; 12] = [
    "corp.test",
    "autodiscover.corp.test",
    "mail.corp.test",
    "onprem.test",
    "autodiscover.onprem.test",
    "evil.test",
    "example.co.uk",
    "autodiscover.example.co.uk",
    "co.uk",
    "autodiscover.co.uk",
    "m365.test",
    "exch.srv.test",
];
/// Basic base64("jane@corp.test:s3cret-pw").
const BASIC: &str = "Basic amFuZUBjb3JwLnRlc3Q6czNjcmV0LXB3";

struct Lab {
    dns: DnsServer,
    http: ServerGuard,
    tls: TlsFront,
    ca: TestCa,
}

async fn lab(extra: impl FnOnce(Zone) -> Zone) -> Lab {
    let mut zone = Zone::new();
    for host in HOSTS {
        zone = zone.a(host, LOCALHOST);
    }
    let dns = DnsServer::start(extra(zone));
    let mut http = Server::new_async().await;
    // Anything not mocked is a 404; created first so that specific mocks win (mockito prefers
    // the last match once expectations are met).
    http.mock("POST", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    http.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    let ca = TestCa::new(&HOSTS);
    let tls = TlsFront::start(&ca, http.socket_address());
    Lab { dns, http, tls, ca }
}

impl Lab {
    fn port(&self) -> u16 {
        self.tls.addr().port()
    }

    fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.port())
    }

    fn config(&self) -> DiscoveryConfig {
        DiscoveryConfig::builder()
            .nameservers([self.dns.addr()])
            .dns_timeout(Duration::from_millis(700))
            .http_timeout(Duration::from_secs(3))
            .extra_roots([self.ca.root()])
            .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
            .url_ports(UrlPorts { https: self.port(), http: self.http.socket_address().port() })
            .provider_options(ImapOptions::default().ispdb_url(None))
            .provider_options(MicrosoftOptions {
                autodiscover_url: Some(
                    Url::parse(&self.url("m365.test", "/autodiscover/autodiscover.json")).unwrap(),
                ),
            })
            .build()
    }

    /// A POST to `host`'s autodiscover path about any address, answered with `status` and
    /// `body`; `auth` says which Authorization header it must carry (`None`: none at all).
    async fn autodiscover(
        &mut self,
        host: &str,
        path: &str,
        auth: Option<&str>,
        status: usize,
        body: &str,
    ) -> Mock {
        self.autodiscover_about("[^<]+", host, path, auth, status, body).await
    }

    /// The same, only for the address matching the regex `address`.
    async fn autodiscover_about(
        &mut self,
        address: &str,
        host: &str,
        path: &str,
        auth: Option<&str>,
        status: usize,
        body: &str,
    ) -> Mock {
        let header = match auth {
            Some(value) => Matcher::Exact(value.to_owned()),
            None => Matcher::Missing,
        };
        let mock = self
            .http
            .mock("POST", path)
            .match_header("host", Matcher::Regex(format!("^{}(:\\d+)?$", host.replace('.', "\\."))))
            .match_header("authorization", header)
            .match_header("content-type", "text/xml; charset=utf-8")
            .match_body(Matcher::Regex(format!("<EMailAddress>{address}</EMailAddress>")))
            .with_status(status)
            .with_body(body);
        // A 401 carries the challenge Exchange (IIS) sends.
        let mock = if status == 401 {
            mock.with_header("www-authenticate", "Negotiate")
                .with_header("www-authenticate", "NTLM")
        } else {
            mock
        };
        mock.create_async().await
    }

    /// Mocks that fail the test (on `assert`) if any GET or POST reaches `host`.
    async fn never(&mut self, host: &str) -> [Mock; 2] {
        let host = Matcher::Regex(format!("^{}(:\\d+)?$", host.replace('.', "\\.")));
        [
            self.http
                .mock("POST", Matcher::Any)
                .match_header("host", host.clone())
                .expect(0)
                .create_async()
                .await,
            self.http
                .mock("GET", Matcher::Any)
                .match_header("host", host)
                .expect(0)
                .create_async()
                .await,
        ]
    }
}

fn redirect_url(url: &str) -> String {
    format!(
        r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectUrl</Action><RedirectUrl>{url}</RedirectUrl></Account></Response></Autodiscover>"#
    )
}

fn redirect_addr(address: &str) -> String {
    format!(
        r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>redirectAddr</Action><RedirectAddr>{address}</RedirectAddr></Account></Response></Autodiscover>"#
    )
}

fn settings(ews: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><User><AutoDiscoverSMTPAddress>jane.doe@corp.test</AutoDiscoverSMTPAddress></User><Account><AccountType>email</AccountType><Action>settings</Action><Protocol><Type>EXCH</Type><EwsUrl>https://exch.internal.corp.test/EWS/Exchange.asmx</EwsUrl></Protocol><Protocol><Type>EXPR</Type><Server>{ews}</Server><EwsUrl>https://{ews}/EWS/Exchange.asmx</EwsUrl></Protocol></Account></Response></Autodiscover>"#
    )
}

const PATH: &str = "/autodiscover/autodiscover.xml";

fn creds() -> AutodiscoverCredentials {
    AutodiscoverCredentials {
        username: "jane@corp.test".into(),
        password: SecretString::from("s3cret-pw"),
    }
}

async fn with_credentials(
    lab: &Lab,
    address: &str,
) -> Result<AutodiscoverOutcome, AutodiscoverError> {
    let discovery = Discovery::new(lab.config()).unwrap();
    let email = EmailAddress::parse(address).unwrap();
    autodiscover_with_credentials(&discovery, &email, &creds(), &CredentialRules::default())
        .await
        .result
}

async fn discover(lab: &Lab, address: &str) -> Report {
    let discovery = Discovery::new(lab.config()).unwrap();
    discovery.discover(&EmailAddress::parse(address).unwrap()).await
}

#[tokio::test]
async fn discover_finds_on_premises_exchange_behind_autodiscover_subdomain_without_credentials() {
    let mut lab = lab(|z| z).await;
    let unauthenticated = lab.autodiscover("autodiscover.corp.test", PATH, None, 401, "").await;
    let with_auth = lab
        .http
        .mock("POST", Matcher::Any)
        .match_header("authorization", Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let report = discover(&lab, "jane@corp.test").await;
    unauthenticated.assert_async().await;
    with_auth.assert_async().await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.provider.nylas, best.source, best.trust),
        (NylasProvider::Exchange, Source::Autodiscover, Trust::Verified)
    );
    assert_eq!(best.exchange.as_ref().unwrap().eas_host.as_deref(), Some("autodiscover.corp.test"));
    let steps: Vec<_> = report
        .trace
        .iter()
        .filter(|s| s.source == "autodiscover")
        .map(|s| s.target.as_str())
        .collect();
    assert!(steps[0].starts_with("https://corp.test:"), "{steps:?}");
    assert!(steps[1].starts_with("https://autodiscover.corp.test:"), "{steps:?}");
}

#[tokio::test]
async fn discover_reports_exchange_settings_with_ews_url_and_eas_host() {
    let mut lab = lab(|z| z).await;
    lab.autodiscover("autodiscover.onprem.test", PATH, None, 200, &settings("mail.onprem.test"))
        .await;
    let report = discover(&lab, "bob@onprem.test").await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.provider.nylas, best.source, best.trust),
        (NylasProvider::Exchange, Source::Autodiscover, Trust::Verified)
    );
    let exchange = best.exchange.as_ref().unwrap();
    assert_eq!(
        exchange.ews_url.as_deref(),
        Some("https://mail.onprem.test/EWS/Exchange.asmx"),
        "EXPR is preferred"
    );
    assert_eq!(exchange.eas_host.as_deref(), Some("mail.onprem.test"));
    let json = serde_json::to_value(report.to_json()).unwrap();
    assert_eq!(json["exchange"]["eas_host"], "mail.onprem.test");
}

#[tokio::test]
async fn a_redirect_chain_with_credentials_succeeds_and_sends_them_only_over_https_to_the_domain() {
    let mut lab = lab(|z| z).await;
    // Asked again about the new address after the redirectAddr, the domain has nothing.
    let step1 = lab
        .autodiscover_about(
            "jane@corp\\.test",
            "corp.test",
            PATH,
            Some(BASIC),
            200,
            &redirect_url(&lab.url("mail.corp.test", "/ad/next.xml")),
        )
        .await;
    let step1_again = lab
        .autodiscover_about("jane\\.doe@corp\\.test", "corp.test", PATH, Some(BASIC), 404, "")
        .await;
    let step2 = lab
        .autodiscover(
            "mail.corp.test",
            "/ad/next.xml",
            Some(BASIC),
            200,
            &redirect_addr("jane.doe@corp.test"),
        )
        .await;
    let step3 = lab
        .autodiscover("autodiscover.corp.test", PATH, Some(BASIC), 200, &settings("mail.corp.test"))
        .await;
    let plain_get = lab
        .http
        .mock("GET", Matcher::Any)
        .match_header("authorization", Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let outcome = with_credentials(&lab, "jane@corp.test").await.unwrap();
    match outcome {
        AutodiscoverOutcome::Settings { settings, address, redirects, .. } => {
            assert_eq!(settings.ews_url(), Some("https://mail.corp.test/EWS/Exchange.asmx"));
            assert_eq!(address, "jane.doe@corp.test");
            assert_eq!(redirects, 2);
        }
        other => panic!("{other:?}"),
    }
    for mock in [step1, step1_again, step2, step3, plain_get] {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn a_redirect_loop_is_detected() {
    let mut lab = lab(|z| z).await;
    lab.autodiscover(
        "corp.test",
        PATH,
        Some(BASIC),
        200,
        &redirect_url(&lab.url("mail.corp.test", "/a.xml")),
    )
    .await;
    lab.autodiscover(
        "mail.corp.test",
        "/a.xml",
        Some(BASIC),
        200,
        &redirect_url(&lab.url("mail.corp.test", "/b.xml")),
    )
    .await;
    let b = lab
        .autodiscover(
            "mail.corp.test",
            "/b.xml",
            Some(BASIC),
            200,
            &redirect_url(&lab.url("mail.corp.test", "/a.xml")),
        )
        .await;
    let error = with_credentials(&lab, "jane@corp.test").await.unwrap_err();
    assert!(
        matches!(&error, AutodiscoverError::Loop { target } if target.ends_with("/a.xml")),
        "{error:?}"
    );
    b.assert_async().await;
    // An address loop too.
    let mut lab = lab_with_address_loop().await;
    let error = with_credentials(&lab, "jane@corp.test").await.unwrap_err();
    assert!(matches!(error, AutodiscoverError::Loop { .. }), "{error:?}");
    lab.http.reset();
}

async fn lab_with_address_loop() -> Lab {
    let mut lab = lab(|z| z).await;
    lab.autodiscover("corp.test", PATH, Some(BASIC), 200, &redirect_addr("other@corp.test")).await;
    lab.autodiscover(
        "autodiscover.corp.test",
        PATH,
        Some(BASIC),
        200,
        &redirect_addr("jane@corp.test"),
    )
    .await;
    lab
}

#[tokio::test]
async fn eleven_redirects_are_one_too_many() {
    let mut lab = lab(|z| z).await;
    // corp.test → hop1 → … → hop10 are ten redirects; hop10's redirect to hop11 is the 11th.
    lab.autodiscover(
        "corp.test",
        PATH,
        Some(BASIC),
        200,
        &redirect_url(&lab.url("mail.corp.test", "/hop1.xml")),
    )
    .await;
    let mut hops = Vec::new();
    for hop in 1..=10 {
        let next = lab.url("mail.corp.test", &format!("/hop{}.xml", hop + 1));
        hops.push(
            lab.autodiscover(
                "mail.corp.test",
                &format!("/hop{hop}.xml"),
                Some(BASIC),
                200,
                &redirect_url(&next),
            )
            .await,
        );
    }
    let eleventh = lab.http.mock("POST", "/hop11.xml").expect(0).create_async().await;
    let error = with_credentials(&lab, "jane@corp.test").await.unwrap_err();
    assert!(
        matches!(&error, AutodiscoverError::TooManyRedirects { last } if last.ends_with("/hop11.xml")),
        "{error:?}"
    );
    for hop in hops {
        hop.assert_async().await;
    }
    eleventh.assert_async().await;
}

#[tokio::test]
async fn a_redirect_to_http_is_refused() {
    let mut lab = lab(|z| z).await;
    let http_target =
        format!("http://mail.corp.test:{}/plain.xml", lab.http.socket_address().port());
    lab.autodiscover("corp.test", PATH, Some(BASIC), 200, &redirect_url(&http_target)).await;
    let plain = lab.http.mock("POST", "/plain.xml").expect(0).create_async().await;
    let error = with_credentials(&lab, "jane@corp.test").await.unwrap_err();
    assert!(
        matches!(&error, AutodiscoverError::Insecure { url } if url.starts_with("http://")),
        "{error:?}"
    );
    plain.assert_async().await;
}

#[tokio::test]
async fn leaving_the_users_domain_stops_before_sending_credentials_and_reports_the_target() {
    let mut lab = lab(|z| z).await;
    let evil_url = lab.url("evil.test", PATH);
    let start =
        lab.autodiscover("corp.test", PATH, Some(BASIC), 200, &redirect_url(&evil_url)).await;
    let [evil_post, evil_get] = lab.never("evil.test").await;
    match with_credentials(&lab, "jane@corp.test").await.unwrap() {
        AutodiscoverOutcome::NeedsConfirmation { target, reason } => {
            assert_eq!(target.as_str(), evil_url);
            assert!(reason.contains("evil.test"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    start.assert_async().await;
    evil_post.assert_async().await;
    evil_get.assert_async().await;
}

#[tokio::test]
async fn no_request_ever_goes_to_autodiscover_of_a_public_suffix() {
    let mut lab = lab(|z| z).await;
    let suffix = lab.never("co.uk").await;
    let autodiscover_suffix = lab.never("autodiscover.co.uk").await;
    let own = lab.autodiscover("autodiscover.example.co.uk", PATH, None, 401, "").await;
    let report = discover(&lab, "user@example.co.uk").await;
    assert_eq!(report.best.as_ref().map(|d| d.provider.nylas), Some(NylasProvider::Exchange));
    own.assert_async().await;
    // With credentials, and through a redirectAddr into the suffix itself.
    lab.autodiscover("example.co.uk", PATH, Some(BASIC), 200, &redirect_addr("user@co.uk")).await;
    let error = with_credentials(&lab, "user@example.co.uk").await.unwrap_err();
    assert!(
        matches!(&error, AutodiscoverError::Forbidden { target, .. } if target == "co.uk"),
        "{error:?}"
    );
    for mock in suffix.iter().chain(&autodiscover_suffix) {
        mock.assert_async().await;
    }
    let queried: Vec<String> = lab.dns.queries().into_iter().map(|(name, _)| name).collect();
    assert!(!queried.iter().any(|n| n == "co.uk" || n == "autodiscover.co.uk"), "{queried:?}");
}

#[tokio::test]
async fn wrong_credentials_are_a_typed_error() {
    let mut lab = lab(|z| z).await;
    lab.autodiscover("corp.test", PATH, Some(BASIC), 401, "").await;
    let error = with_credentials(&lab, "jane@corp.test").await.unwrap_err();
    assert!(matches!(error, AutodiscoverError::Unauthorized { .. }), "{error:?}");
}

#[tokio::test]
async fn the_srv_candidate_is_used_last_and_inside_the_domain_is_verified() {
    let mut lab = lab(|z| z.srv("_autodiscover._tcp.srv.test", 0, 0, 443, "exch.srv.test")).await;
    lab.autodiscover("exch.srv.test", PATH, None, 200, &settings("exch.srv.test")).await;
    let report = discover(&lab, "x@srv.test").await;
    let best = report.best.as_ref().unwrap();
    assert_eq!((best.source, best.trust), (Source::Autodiscover, Trust::Verified));
    assert!(lab.dns.count("_autodiscover._tcp.srv.test", RecordType::SRV) >= 1);
}

#[tokio::test]
async fn microsoft_365_behind_a_mail_filter_is_found_by_the_v2_endpoint() {
    let mut lab = lab(|z| {
        z.mx("filtered.test", 10, "mx.filter.example")
            .cname("autodiscover.filtered.test", "autodiscover.outlook.com")
    })
    .await;
    let v2 = lab
        .http
        .mock("GET", "/autodiscover/autodiscover.json")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("Email".into(), "amy@filtered.test".into()),
            Matcher::UrlEncoded("Protocol".into(), "EWS".into()),
        ]))
        .match_header("authorization", Matcher::Missing)
        .with_body(r#"{"Protocol":"EWS","Url":"https://outlook.office365.com/EWS/Exchange.asmx"}"#)
        .create_async()
        .await;
    let report = discover(&lab, "amy@filtered.test").await;
    v2.assert_async().await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.provider.nylas, best.source, best.trust),
        (NylasProvider::Office365, Source::Autodiscover, Trust::Verified)
    );

    // Without the CNAME evidence the address is not sent to Microsoft.
    let untouched =
        lab.http.mock("GET", "/autodiscover/autodiscover.json").expect(0).create_async().await;
    let report = discover(&lab, "amy@corp.test").await;
    assert_ne!(report.best.as_ref().map(|d| d.provider.nylas), Some(NylasProvider::Office365));
    untouched.assert_async().await;
}

#[tokio::test]
async fn the_login_autodiscover_names_reaches_the_payload() {
    let mut lab = lab(|z| z).await;
    let with_login = settings("mail.corp.test")
        .replace("<Type>EXPR</Type>", "<Type>EXPR</Type><LoginName>CORP\\jane</LoginName>");
    lab.autodiscover("autodiscover.corp.test", PATH, Some(BASIC), 200, &with_login).await;
    let discovery = Discovery::new(lab.config()).unwrap();
    let email = EmailAddress::parse("jane@corp.test").unwrap();
    let run =
        autodiscover_with_credentials(&discovery, &email, &creds(), &CredentialRules::default())
            .await;
    let detection = run.detection(&email).unwrap();
    assert_eq!(detection.trust, Trust::Verified);
    assert_eq!(detection.exchange.as_ref().unwrap().login.as_deref(), Some("CORP\\jane"));
    let request = nativeauth::connect::AuthorizeRequest::new(
        "cid",
        "Jane",
        &email,
        &detection,
        &nativeauth::connect::Credentials::password("s3cret-pw"),
        "email.read_only".parse().unwrap(),
    )
    .unwrap();
    let body = serde_json::to_value(&request).unwrap();
    assert_eq!(body["settings"]["username"], "CORP\\jane");
    assert_eq!(body["settings"]["exchange_server_host"], "mail.corp.test");
}

#[tokio::test]
async fn a_deadline_in_credentialed_autodiscover_is_a_timeout() {
    let lab = lab(|z| z).await;
    // Every https candidate answers only after the deadline.
    let slow =
        [("corp.test", Duration::from_secs(5)), ("autodiscover.corp.test", Duration::from_secs(5))];
    let tls = TlsFront::start_with_delays(&lab.ca, lab.http.socket_address(), &slow);
    let config = DiscoveryConfig::builder()
        .deadline(Duration::from_millis(300))
        .nameservers([lab.dns.addr()])
        .extra_roots([lab.ca.root()])
        .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
        .url_ports(UrlPorts { https: tls.addr().port(), http: lab.http.socket_address().port() })
        .build();
    let discovery = Discovery::new(config).unwrap();
    let email = EmailAddress::parse("jane@corp.test").unwrap();
    let run =
        autodiscover_with_credentials(&discovery, &email, &creds(), &CredentialRules::default())
            .await;
    assert!(matches!(run.result, Err(AutodiscoverError::Timeout)), "{:?}", run.result);
}

#[tokio::test]
async fn credentials_never_follow_a_plain_http_redirect() {
    let mut lab = lab(|z| z).await;
    let target = lab.url("mail.corp.test", PATH);
    lab.http
        .mock("GET", PATH)
        .match_header("host", Matcher::Regex("^autodiscover\\.corp\\.test(:\\d+)?$".into()))
        .with_status(302)
        .with_header("location", &target)
        .create_async()
        .await;
    let forged = lab
        .http
        .mock("POST", PATH)
        .match_header("host", Matcher::Regex("^mail\\.corp\\.test(:\\d+)?$".into()))
        .expect(0)
        .create_async()
        .await;
    match with_credentials(&lab, "jane@corp.test").await.unwrap() {
        AutodiscoverOutcome::NeedsConfirmation { target: reported, reason } => {
            assert_eq!(reported.as_str(), target);
            assert!(reason.contains("plain-http redirect"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    forged.assert_async().await;
}

/// `autodiscover.<domain>`'s plain-http autodiscover answers 302 to `target`.
async fn http_redirect(lab: &mut Lab, domain: &str, target: &str) -> Mock {
    let host = format!("autodiscover.{domain}");
    lab.http
        .mock("GET", PATH)
        .match_header("host", Matcher::Regex(format!("^{}(:\\d+)?$", host.replace('.', "\\."))))
        .with_status(302)
        .with_header("location", target)
        .create_async()
        .await
}

fn hosted_lab_zone(z: Zone) -> Zone {
    z.a("autodiscover.hosted-co.test", LOCALHOST)
        .a("autodiscover.hoster.test", LOCALHOST)
        .a("other.hoster2.test", LOCALHOST)
}

async fn hosted_lab() -> Lab {
    let mut zone = Zone::new();
    for host in HOSTS {
        zone = zone.a(host, LOCALHOST);
    }
    let dns = DnsServer::start(hosted_lab_zone(zone));
    let mut http = Server::new_async().await;
    http.mock("POST", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    http.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    let mut hosts: Vec<&str> = HOSTS.to_vec();
    hosts.extend(["autodiscover.hosted-co.test", "autodiscover.hoster.test", "other.hoster2.test"]);
    let ca = TestCa::new(&hosts);
    let tls = TlsFront::start(&ca, http.socket_address());
    Lab { dns, http, tls, ca }
}

#[tokio::test]
async fn hosted_exchange_is_found_by_the_http_redirect_unverified_and_named() {
    let mut lab = hosted_lab().await;
    let target = lab.url("autodiscover.hoster.test", PATH);
    http_redirect(&mut lab, "hosted-co.test", &target).await;
    let challenge = lab.autodiscover("autodiscover.hoster.test", PATH, None, 401, "").await;
    let report = discover(&lab, "ann@hosted-co.test").await;
    let best = report.best.as_ref().expect("hosted Exchange found");
    assert_eq!(best.provider.nylas, NylasProvider::Exchange);
    assert_eq!(best.trust, Trust::Unverified, "the redirect came over plain http");
    assert_eq!(
        best.exchange.as_ref().unwrap().eas_host.as_deref(),
        Some("autodiscover.hoster.test")
    );
    assert!(
        best.notes.iter().any(|n| n.contains("point to autodiscover.hoster.test. Allow?")),
        "{:?}",
        best.notes
    );
    challenge.assert_async().await;

    // With a password, nothing goes there before the user consents: the chain stops and names
    // the host.
    let sent = lab
        .http
        .mock("POST", PATH)
        .match_header("host", Matcher::Regex("^autodiscover\\.hoster\\.test(:\\d+)?$".into()))
        .match_header("authorization", Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let discovery = Discovery::new(lab.config()).unwrap();
    let email = EmailAddress::parse("ann@hosted-co.test").unwrap();
    let run =
        autodiscover_with_credentials(&discovery, &email, &creds(), &CredentialRules::default())
            .await;
    match run.result.unwrap() {
        AutodiscoverOutcome::NeedsConfirmation { target: reported, .. } => {
            assert_eq!(reported.as_str(), target);
        }
        other => panic!("{other:?}"),
    }
    sent.assert_async().await;
    // After consent (the host allowed), the password goes there, over https.
    let consented = lab
        .autodiscover(
            "autodiscover.hoster.test",
            PATH,
            Some(BASIC_ANN),
            200,
            &settings("mail.hoster.test"),
        )
        .await;
    let rules = CredentialRules { allowed_hosts: vec!["autodiscover.hoster.test".into()] };
    let run = autodiscover_with_credentials(&discovery, &email, &creds_ann(), &rules).await;
    assert!(matches!(run.result, Ok(AutodiscoverOutcome::Settings { .. })), "{:?}", run.result);
    consented.assert_async().await;
}

/// Basic base64("ann@hosted-co.test:s3cret-pw").
const BASIC_ANN: &str = "Basic YW5uQGhvc3RlZC1jby50ZXN0OnMzY3JldC1wdw==";

fn creds_ann() -> AutodiscoverCredentials {
    AutodiscoverCredentials {
        username: "ann@hosted-co.test".into(),
        password: SecretString::from("s3cret-pw"),
    }
}

#[tokio::test]
async fn the_http_redirect_method_refuses_http_targets_loops_and_a_second_hop() {
    // A redirect to plain http.
    let mut lab = hosted_lab().await;
    let http_target =
        format!("http://autodiscover.hoster.test:{}{PATH}", lab.http.socket_address().port());
    http_redirect(&mut lab, "hosted-co.test", &http_target).await;
    let never = lab.never("autodiscover.hoster.test").await;
    let report = discover(&lab, "ann@hosted-co.test").await;
    assert!(report.best.is_none(), "{:?}", report.best);
    assert!(report.trace.iter().any(|s| s.detail.contains("not https")), "{:#?}", report.trace);
    for mock in never {
        mock.assert_async().await;
    }

    // A second hop: the hoster redirects on to yet another host.
    let mut lab = hosted_lab().await;
    let first = lab.url("autodiscover.hoster.test", PATH);
    http_redirect(&mut lab, "hosted-co.test", &first).await;
    let second = lab.url("other.hoster2.test", PATH);
    lab.autodiscover("autodiscover.hoster.test", PATH, None, 200, &redirect_url(&second)).await;
    let never = lab.never("other.hoster2.test").await;
    let report = discover(&lab, "ann@hosted-co.test").await;
    assert!(report.best.is_none(), "{:?}", report.best);
    assert!(
        report
            .trace
            .iter()
            .any(|s| s.detail.contains("second redirect after the domain's plain-http redirect")),
        "{:#?}",
        report.trace
    );
    for mock in never {
        mock.assert_async().await;
    }

    // A loop: the http redirect points back at itself.
    let mut lab = hosted_lab().await;
    let back =
        format!("http://autodiscover.hosted-co.test:{}{PATH}", lab.http.socket_address().port());
    http_redirect(&mut lab, "hosted-co.test", &back).await;
    let report = discover(&lab, "ann@hosted-co.test").await;
    assert!(report.best.is_none());
}
