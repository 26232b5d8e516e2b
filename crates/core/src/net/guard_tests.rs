//! The address guard through the guarded HTTP client: every refusal happens before any
//! connection, proven by listeners that must see none.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::{Ipv4Addr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::address_policy::AddressPolicy;
use crate::net::dns::Dns;
use crate::net::http::{FetchError, FetchOptions, FetchRequest, GuardedHttp};
use nativeauth_testkit::{DnsServer, TestCa, TlsFront, Zone};
use reqwest::Url;

/// A listener that counts connection attempts.
struct Watch {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

fn watch(ip: &str) -> Watch {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    Watch { port, accepted }
}

impl Watch {
    fn connections(&self) -> usize {
        // Give a stray connection time to show up.
        std::thread::sleep(Duration::from_millis(50));
        self.accepted.load(Ordering::SeqCst)
    }
}

fn client(dns: &DnsServer, policy: AddressPolicy, ca: Option<&TestCa>) -> GuardedHttp {
    let dns = Dns::with_nameservers(&[dns.addr()], Duration::from_secs(1)).unwrap();
    let options =
        FetchOptions { policy, timeout: Duration::from_secs(2), ..FetchOptions::default() };
    GuardedHttp::new(dns, options, ca.map(|ca| vec![ca.root()]).unwrap_or_default()).unwrap()
}

fn get(url: &str) -> FetchRequest {
    FetchRequest::get(Url::parse(url).unwrap()).allow_http(true)
}

fn loopback_only() -> AddressPolicy {
    AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()])
}

#[tokio::test]
async fn ip_literals_in_every_spelling_are_refused_before_connecting() {
    let target = watch("127.0.0.1");
    let dns = DnsServer::start(Zone::new());
    let http = client(&dns, AddressPolicy::strict(), None);
    let port = target.port;
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://0x7f.0.0.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0177.0.0.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("https://127.0.0.1:{port}/"),
    ] {
        let error = http.fetch(&get(&url)).await.unwrap_err();
        assert!(matches!(error, FetchError::Guard(_)), "{url}: {error:?}");
    }
    assert_eq!(target.connections(), 0);
}

#[tokio::test]
async fn names_resolving_to_special_addresses_are_refused_before_connecting() {
    let target = watch("127.0.0.1");
    let dns = DnsServer::start(
        Zone::new()
            .a("loopback.test", Ipv4Addr::LOCALHOST)
            .a("metadata.test", Ipv4Addr::new(169, 254, 169, 254))
            .a("private.test", Ipv4Addr::new(10, 0, 0, 5))
            .a("cgnat.test", Ipv4Addr::new(100, 64, 0, 1))
            .a("mixed.test", Ipv4Addr::new(93, 184, 216, 34))
            .a("mixed.test", Ipv4Addr::new(192, 168, 0, 1))
            .aaaa("ula.test", "fd00::1".parse().unwrap())
            .aaaa("linklocal.test", "fe80::1".parse().unwrap())
            .aaaa("mapped.test", "::ffff:127.0.0.1".parse().unwrap()),
    );
    let http = client(&dns, AddressPolicy::strict(), None);
    for host in [
        "loopback.test",
        "metadata.test",
        "private.test",
        "cgnat.test",
        "mixed.test",
        "ula.test",
        "linklocal.test",
        "mapped.test",
    ] {
        let url = format!("http://{host}:{}/", target.port);
        let error = http.fetch(&get(&url)).await.unwrap_err();
        assert!(matches!(&error, FetchError::Guard(g) if g.host == host), "{host}: {error:?}");
    }
    assert_eq!(target.connections(), 0);
}

#[tokio::test]
async fn allowing_a_named_range_lets_exactly_that_range_through() {
    let mut server = mockito::Server::new_async().await;
    let ok = server.mock("GET", "/ok").with_body("fine").create_async().await;
    let dns = DnsServer::start(Zone::new().a("local.test", Ipv4Addr::LOCALHOST));
    let port = server.socket_address().port();
    let strict = client(&dns, AddressPolicy::strict(), None);
    assert!(matches!(
        strict.fetch(&get(&format!("http://local.test:{port}/ok"))).await,
        Err(FetchError::Guard(_))
    ));
    let allowed = client(&dns, loopback_only(), None);
    let fetched = allowed.fetch(&get(&format!("http://local.test:{port}/ok"))).await.unwrap();
    assert_eq!(fetched.body, b"fine");
    assert!(!fetched.https_end_to_end);
    ok.assert_async().await;
    let everything = client(&dns, AddressPolicy::allow_all(), None);
    assert!(everything.fetch(&get(&format!("http://local.test:{port}/ok"))).await.is_ok());
}

#[tokio::test]
async fn redirects_into_private_space_are_refused_before_connecting() {
    let private_target = watch("127.0.0.2");
    let mut server = mockito::Server::new_async().await;
    let port = server.socket_address().port();
    let dns = DnsServer::start(
        Zone::new()
            .a("start.test", Ipv4Addr::LOCALHOST)
            .a("inside.test", Ipv4Addr::new(10, 1, 2, 3)),
    );
    let http = client(&dns, loopback_only(), None);
    server
        .mock("GET", "/to-literal")
        .with_status(302)
        .with_header("location", &format!("http://127.0.0.2:{}/", private_target.port))
        .create_async()
        .await;
    server
        .mock("GET", "/to-name")
        .with_status(301)
        .with_header("location", &format!("http://inside.test:{}/", private_target.port))
        .create_async()
        .await;
    for path in ["/to-literal", "/to-name"] {
        let error = http.fetch(&get(&format!("http://start.test:{port}{path}"))).await.unwrap_err();
        assert!(matches!(error, FetchError::Guard(_)), "{path}: {error:?}");
    }
    assert_eq!(private_target.connections(), 0);
}

#[tokio::test]
async fn redirect_limits_loops_and_downgrades() {
    let mut server = mockito::Server::new_async().await;
    let base = format!("http://local.test:{}", server.socket_address().port());
    let dns = DnsServer::start(
        Zone::new().a("local.test", Ipv4Addr::LOCALHOST).a("secure.test", Ipv4Addr::LOCALHOST),
    );
    let http = client(&dns, loopback_only(), None);
    server.mock("GET", "/a").with_status(302).with_header("location", "/b").create_async().await;
    server.mock("GET", "/b").with_status(302).with_header("location", "/a").create_async().await;
    assert!(matches!(
        http.fetch(&get(&format!("{base}/a"))).await,
        Err(FetchError::RedirectLoop { .. })
    ));
    for i in 0..8 {
        server
            .mock("GET", format!("/hop{i}").as_str())
            .with_status(307)
            .with_header("location", &format!("/hop{}", i + 1))
            .create_async()
            .await;
    }
    assert!(matches!(
        http.fetch(&get(&format!("{base}/hop0"))).await,
        Err(FetchError::TooManyRedirects { limit: 5, .. })
    ));
    server.mock("GET", "/hop8").with_body("end").create_async().await;
    assert_eq!(http.fetch(&get(&format!("{base}/hop3"))).await.unwrap().redirects, 5);

    // An https request that is redirected to http is refused when http is not allowed.
    let ca = TestCa::new(&["secure.test"]);
    let front = TlsFront::start(&ca, server.socket_address());
    let https = client(&dns, loopback_only(), Some(&ca));
    server
        .mock("GET", "/down")
        .with_status(302)
        .with_header("location", &format!("{base}/b"))
        .create_async()
        .await;
    server.mock("GET", "/secure").with_body("tls works").create_async().await;
    let secure = format!("https://secure.test:{}", front.addr().port());
    let fetched = https.fetch(&get(&format!("{secure}/secure")).allow_http(false)).await.unwrap();
    assert_eq!((fetched.body.as_slice(), fetched.https_end_to_end), (&b"tls works"[..], true));
    let error = https.fetch(&get(&format!("{secure}/down")).allow_http(false)).await.unwrap_err();
    assert!(matches!(error, FetchError::InsecureScheme { .. }), "{error:?}");
}

#[tokio::test]
async fn tls_is_verified_and_bodies_are_capped() {
    let mut server = mockito::Server::new_async().await;
    server.mock("GET", "/big").with_body(vec![b'x'; 2 * 1024 * 1024]).create_async().await;
    server.mock("GET", "/small").with_body("ok").create_async().await;
    let dns = DnsServer::start(
        Zone::new().a("secure.test", Ipv4Addr::LOCALHOST).a("other.test", Ipv4Addr::LOCALHOST),
    );
    let ca = TestCa::new(&["secure.test"]);
    let front = TlsFront::start(&ca, server.socket_address());
    let port = front.addr().port();
    // Without the test CA the certificate is not trusted.
    let untrusting = client(&dns, loopback_only(), None);
    let error =
        untrusting.fetch(&get(&format!("https://secure.test:{port}/small"))).await.unwrap_err();
    assert!(matches!(error, FetchError::Failed { .. }), "{error:?}");
    // With it, a name the certificate does not cover still fails.
    let trusting = client(&dns, loopback_only(), Some(&ca));
    assert!(trusting.fetch(&get(&format!("https://other.test:{port}/small"))).await.is_err());
    assert!(trusting.fetch(&get(&format!("https://secure.test:{port}/small"))).await.is_ok());
    let error = trusting.fetch(&get(&format!("https://secure.test:{port}/big"))).await.unwrap_err();
    assert!(matches!(error, FetchError::BodyTooLarge { limit: 1_048_576, .. }), "{error:?}");
}
