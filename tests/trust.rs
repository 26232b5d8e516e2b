//! No verified-but-wrong answer: misleading but ordinary Internet setups, each asserted on the
//! detection *and* on what the test servers received. Everything runs on loopback: a DNS
//! server (nativeauth-testkit), mockito behind a TLS front with a throwaway CA.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::time::Duration;

use mockito::{Matcher, Mock, Server, ServerGuard};
use nativeauth::providers::imap::ImapOptions;
use nativeauth::providers::microsoft::MicrosoftOptions;
use nativeauth::{
    AddressPolicy, Discovery, DiscoveryConfig, EmailAddress, NylasProvider, Outcome, Report,
    Source, Trust, Url, UrlPorts,
};
use nativeauth_testkit::{DnsServer, TestCa, TlsFront, Zone};

const PATH: &str = "/autodiscover/autodiscover.xml";
const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Every host name a test may serve, all on 127.0.0.1 with certificates from one test CA.
const HOSTS: [&str; 16] = [
    "web.test",
    "autodiscover.web.test",
    "iis.test",
    "autodiscover.iis.test",
    "own.test",
    "autoconfig.own.test",
    "autoconfig.hoster.test",
    "ispdb.test",
    "slash.test",
    "evil.attacker.test",
    "shared.test",
    "autoconfig.shared.test",
    "srvad.test",
    "exch.srvad.test",
    "autodiscover.plain.test",
    "mail.plain.test",
];

struct Lab {
    dns: DnsServer,
    http: ServerGuard,
    tls: TlsFront,
    ca: TestCa,
}

/// A lab whose DNS has `zone` plus an A record for every host, and whose web server answers
/// 404 to anything not mocked (mockito prefers the last-created match, so these come first).
async fn lab(zone: Zone, delays: &[(&str, Duration)]) -> Lab {
    let mut zone = zone;
    for host in HOSTS {
        zone = zone.a(host, LOCALHOST);
    }
    let dns = DnsServer::start(zone);
    let mut http = Server::new_async().await;
    for method in ["GET", "POST"] {
        http.mock(method, Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    }
    let ca = TestCa::new(&HOSTS);
    let tls = TlsFront::start_with_delays(&ca, http.socket_address(), delays);
    Lab { dns, http, tls, ca }
}

impl Lab {
    fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.tls.addr().port())
    }

    fn discovery(&self) -> Discovery {
        let config = DiscoveryConfig::builder()
            .nameservers([self.dns.addr()])
            .dns_timeout(Duration::from_millis(700))
            .http_timeout(Duration::from_secs(3))
            .extra_roots([self.ca.root()])
            .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
            .url_ports(UrlPorts {
                https: self.tls.addr().port(),
                http: self.http.socket_address().port(),
            })
            .provider_options(
                ImapOptions::default()
                    .ispdb_url(Some(Url::parse(&self.url("ispdb.test", "/v1.1/")).unwrap()))
                    .guess(false),
            )
            .provider_options(MicrosoftOptions { autodiscover_url: None })
            .build();
        Discovery::new(config).unwrap()
    }

    async fn discover(&self, address: &str) -> Report {
        self.discovery().discover(&EmailAddress::parse(address).unwrap()).await
    }

    fn host(host: &str) -> Matcher {
        Matcher::Regex(format!("^{}(:\\d+)?$", host.replace('.', "\\.")))
    }

    /// The autodiscover POST on `host` answers `status` with these headers and body.
    async fn autodiscover(
        &mut self,
        host: &str,
        status: usize,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Mock {
        let mut mock = self
            .http
            .mock("POST", PATH)
            .match_header("host", Self::host(host))
            .with_status(status)
            .with_body(body);
        for (name, value) in headers {
            mock = mock.with_header(*name, value);
        }
        mock.create_async().await
    }

    /// A GET of `path` on `host` answers `body`.
    async fn get(&mut self, host: &str, path: &str, body: &str) -> Mock {
        self.http
            .mock("GET", Matcher::Regex(format!("^{}", path.replace('.', "\\."))))
            .match_header("host", Self::host(host))
            .with_header("content-type", "text/xml")
            .with_body(body)
            .create_async()
            .await
    }

    /// Mocks that fail the test (on `assert`) if any request reaches `host`.
    async fn never(&mut self, host: &str) -> Vec<Mock> {
        let mut mocks = Vec::new();
        for method in ["GET", "POST"] {
            mocks.push(
                self.http
                    .mock(method, Matcher::Any)
                    .match_header("host", Self::host(host))
                    .expect(0)
                    .create_async()
                    .await,
            );
        }
        mocks
    }
}

fn autoconfig_xml(domain: &str, imap: &str, username: &str) -> String {
    format!(
        r#"<clientConfig version="1.1"><emailProvider id="{domain}"><domain>{domain}</domain>
<incomingServer type="imap"><hostname>{imap}</hostname><port>993</port><socketType>SSL</socketType><username>{username}</username></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.{domain}</hostname><port>465</port><socketType>SSL</socketType><username>{username}</username></outgoingServer>
</emailProvider></clientConfig>"#
    )
}

/// A domain whose mail is announced by SRV (IMAP over TLS and submission).
fn srv_zone(domain: &str) -> Zone {
    Zone::new().srv(&format!("_imaps._tcp.{domain}"), 0, 1, 993, &format!("imap.{domain}")).srv(
        &format!("_submission._tcp.{domain}"),
        0,
        1,
        587,
        &format!("smtp.{domain}"),
    )
}

fn is_exchange(report: &Report) -> bool {
    report
        .best
        .iter()
        .chain(&report.alternatives)
        .any(|d| d.provider.nylas == NylasProvider::Exchange)
}

fn autodiscover_step(report: &Report, host: &str) -> String {
    report
        .trace
        .iter()
        .find(|s| s.source == "autodiscover" && s.target.contains(&format!("//{host}:")))
        .map(|s| s.detail.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_website_that_answers_403_is_not_exchange_and_srv_wins() {
    let mut lab = lab(srv_zone("web.test"), &[]).await;
    let website = lab.autodiscover("web.test", 403, &[], "<html>Forbidden</html>").await;
    let report = lab.discover("ann@web.test").await;
    website.assert_async().await;
    assert!(!is_exchange(&report), "{report:#?}");
    let best = report.best.as_ref().unwrap();
    assert_eq!((best.source, best.trust), (Source::Srv, Trust::Unverified));
    assert_eq!(best.incoming[0].host, "imap.web.test");
    assert!(autodiscover_step(&report, "web.test").contains("HTTP 403"), "{:#?}", report.trace);
}

#[tokio::test]
async fn a_401_without_an_exchange_challenge_is_not_exchange() {
    for headers in [
        &[][..],
        &[("www-authenticate", "FormsLogin realm=\"site\"")][..],
        &[("www-authenticate", "Bearer realm=\"api\"")][..],
    ] {
        let mut lab = lab(srv_zone("web.test"), &[]).await;
        let page = "<html><body>Please log in</body></html>";
        lab.autodiscover("web.test", 401, headers, page).await;
        lab.autodiscover("autodiscover.web.test", 401, headers, page).await;
        let report = lab.discover("ann@web.test").await;
        assert!(!is_exchange(&report), "{headers:?}: {report:#?}");
        assert_eq!(report.best.as_ref().map(|d| d.source), Some(Source::Srv), "{headers:?}");
    }
}

#[tokio::test]
async fn the_website_challenge_alone_is_unverified_exchange() {
    let mut lab = lab(Zone::new(), &[]).await;
    let challenge = [("www-authenticate", "Basic realm=\"web.test\"")];
    lab.autodiscover("web.test", 401, &challenge, "").await;
    let report = lab.discover("ann@web.test").await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.provider.nylas, best.source, best.trust),
        (NylasProvider::Exchange, Source::Autodiscover, Trust::Unverified)
    );
}

#[tokio::test]
async fn the_standard_iis_setup_is_verified_exchange() {
    let mut lab = lab(srv_zone("iis.test"), &[]).await;
    let challenge = [("www-authenticate", "Negotiate"), ("www-authenticate", "NTLM")];
    let website = lab.autodiscover("iis.test", 403, &[], "").await;
    let exchange = lab.autodiscover("autodiscover.iis.test", 401, &challenge, "").await;
    // http://autodiscover.<d>/… redirects to the very https URL already asked.
    let https = lab.url("autodiscover.iis.test", PATH);
    let redirect = lab
        .http
        .mock("GET", PATH)
        .match_header("host", Lab::host("autodiscover.iis.test"))
        .with_status(302)
        .with_header("location", &https)
        .expect_at_least(0)
        .create_async()
        .await;
    let report = lab.discover("it@iis.test").await;
    website.assert_async().await;
    exchange.assert_async().await;
    redirect.assert_async().await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.provider.nylas, best.source, best.trust),
        (NylasProvider::Exchange, Source::Autodiscover, Trust::Verified),
        "{report:#?}"
    );
    assert_eq!(best.exchange.as_ref().unwrap().eas_host.as_deref(), Some("autodiscover.iis.test"));
    assert!(best.evidence.contains("Negotiate, NTLM"), "{}", best.evidence);
    // SRV was asked too and its answer is kept as an alternative.
    assert!(report.alternatives.iter().any(|d| d.source == Source::Srv), "{report:#?}");
}

#[tokio::test]
async fn autodiscover_reached_through_a_plain_http_redirect_is_unverified() {
    let mut lab = lab(Zone::new(), &[]).await;
    let target = lab.url("mail.plain.test", PATH);
    lab.http
        .mock("GET", PATH)
        .match_header("host", Lab::host("autodiscover.plain.test"))
        .with_status(302)
        .with_header("location", &target)
        .create_async()
        .await;
    let settings = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><AccountType>email</AccountType><Action>settings</Action><Protocol><Type>EXPR</Type><Server>mail.plain.test</Server><EwsUrl>https://mail.plain.test/EWS/Exchange.asmx</EwsUrl></Protocol></Account></Response></Autodiscover>"#;
    let answered = lab.autodiscover("mail.plain.test", 200, &[], settings).await;
    let report = lab.discover("pat@plain.test").await;
    answered.assert_async().await;
    let best = report.best.as_ref().unwrap();
    assert_eq!(
        (best.provider.nylas, best.source, best.trust),
        (NylasProvider::Exchange, Source::Autodiscover, Trust::Unverified),
        "an attacker on the http hop could have sent us anywhere"
    );
}

#[tokio::test]
async fn the_domains_own_ispdb_entry_beats_autoconfig_at_the_mx_hosts_domain() {
    let zone = Zone::new().mx("own.test", 10, "mx1.hoster.test");
    // The ISPDB answers last, so the MX-derived answer is in hand when the winner is chosen.
    let mut lab = lab(zone, &[("ispdb.test", Duration::from_millis(300))]).await;
    let ispdb = lab
        .get(
            "ispdb.test",
            "/v1.1/own.test",
            &autoconfig_xml("own.test", "imap.own.test", "%EMAILADDRESS%"),
        )
        .await;
    let mx_derived = lab
        .get(
            "autoconfig.hoster.test",
            "/mail/config-v1.1.xml",
            &autoconfig_xml("hoster.test", "imap.hoster.test", "%EMAILADDRESS%"),
        )
        .await;
    let report = lab.discover("olga@own.test").await;
    ispdb.assert_async().await;
    mx_derived.assert_async().await;
    let best = report.best.as_ref().unwrap();
    assert_eq!((best.source, best.trust), (Source::Ispdb, Trust::Verified));
    assert_eq!(best.incoming[0].host, "imap.own.test");
    let runner_up = report
        .alternatives
        .iter()
        .find(|d| d.source == Source::Autoconfig(nativeauth::AutoconfigOrigin::MxDomain))
        .unwrap_or_else(|| panic!("the MX-derived answer is kept: {report:#?}"));
    assert_eq!(
        (runner_up.trust, runner_up.incoming[0].host.as_str()),
        (Trust::Unverified, "imap.hoster.test")
    );
}

#[tokio::test]
async fn an_mx_host_name_with_a_slash_never_reaches_an_http_request() {
    let zone = Zone::new().mx("slash.test", 10, "mx./evil.attacker.test");
    let mut lab = lab(zone, &[]).await;
    let evil = lab.never("evil.attacker.test").await;
    let report = lab.discover("sue@slash.test").await;
    for mock in evil {
        mock.assert_async().await;
    }
    assert!(
        report.trace.iter().any(|s| s.target == "MX slash.test"
            && s.outcome == Outcome::Error
            && s.detail.contains("not a valid host name")),
        "{:#?}",
        report.trace
    );
    assert!(
        report.trace.iter().all(|s| !s.target.contains("evil") || s.target.starts_with("MX ")),
        "{:#?}",
        report.trace
    );
}

#[tokio::test]
async fn two_users_of_one_domain_get_their_own_answers_from_a_shared_cache() {
    let mut lab = lab(Zone::new(), &[]).await;
    let mut mocks = Vec::new();
    for (address, login) in [("alice@shared.test", "alice-7"), ("bob@shared.test", "bob-9")] {
        mocks.push(
            lab.http
                .mock("GET", "/mail/config-v1.1.xml")
                .match_query(Matcher::UrlEncoded("emailaddress".into(), address.into()))
                .match_header("host", Lab::host("autoconfig.shared.test"))
                .with_body(autoconfig_xml("shared.test", "imap.shared.test", login))
                .expect(1)
                .create_async()
                .await,
        );
    }
    let discovery = lab.discovery();
    let login =
        |report: &Report| report.best.as_ref().unwrap().incoming[0].username.render(&report.email);
    let alice = discovery.discover(&EmailAddress::parse("alice@shared.test").unwrap()).await;
    let bob = discovery.discover(&EmailAddress::parse("bob@shared.test").unwrap()).await;
    let alice_again = discovery.discover(&EmailAddress::parse("alice@shared.test").unwrap()).await;
    assert_eq!(login(&alice), "alice-7");
    assert_eq!(login(&bob), "bob-9", "no cross-user leak");
    assert_eq!(login(&alice_again), "alice-7");
    assert_eq!(alice_again.trace[0].source, "cache", "a user's own answer is cached for them");
    for mock in mocks {
        mock.assert_async().await;
    }
}

#[tokio::test]
async fn an_autodiscover_srv_target_inside_the_domain_is_verified_and_outside_it_is_not() {
    let settings = |host: &str| {
        format!(
            r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><AccountType>email</AccountType><Action>settings</Action><Protocol><Type>EXPR</Type><Server>{host}</Server><EwsUrl>https://{host}/EWS/Exchange.asmx</EwsUrl></Protocol></Account></Response></Autodiscover>"#
        )
    };
    let inside = Zone::new().srv("_autodiscover._tcp.srvad.test", 0, 0, 443, "exch.srvad.test");
    let mut inside_lab = lab(inside, &[]).await;
    inside_lab.autodiscover("exch.srvad.test", 200, &[], &settings("exch.srvad.test")).await;
    let best = inside_lab.discover("x@srvad.test").await.best.unwrap();
    assert_eq!((best.source, best.trust), (Source::Autodiscover, Trust::Verified));

    let outside = Zone::new().srv("_autodiscover._tcp.srvad.test", 0, 0, 443, "evil.attacker.test");
    let mut outside_lab = lab(outside, &[]).await;
    outside_lab.autodiscover("evil.attacker.test", 200, &[], &settings("evil.attacker.test")).await;
    let best = outside_lab.discover("x@srvad.test").await.best.unwrap();
    assert_eq!((best.source, best.trust), (Source::Autodiscover, Trust::Unverified));
}
