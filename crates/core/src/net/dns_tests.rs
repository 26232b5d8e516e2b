//! `Dns` against a real DNS server on loopback (nativeauth-testkit).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::net::dns::{Dns, DnsError, MxRecord, SrvRecord};
use hickory_proto::rr::RecordType;
use nativeauth_testkit::{DnsServer, Zone};

fn zone() -> Zone {
    Zone::new()
        .mx("example.test", 20, "backup.mail.example.test")
        .mx("example.test", 10, "ASPMX.L.GOOGLE.COM")
        .mx("example.test", 10, "alt1.aspmx.l.google.com")
        .srv("_imaps._tcp.example.test", 10, 5, 993, "imap.example.test")
        .srv("_imaps._tcp.example.test", 0, 1, 9993, "primary.example.test")
        .srv("_imaps._tcp.example.test", 10, 50, 993, "heavy.example.test")
        .srv("_imap._tcp.example.test", 0, 0, 0, ".")
        .a("imap.example.test", Ipv4Addr::new(192, 0, 2, 10))
        .empty("nomx.test")
        .servfail("broken.test")
        .silent("silent.test")
        .truncate_udp("big.test")
        .mx("big.test", 5, "mx.big.test")
}

fn dns(server: &DnsServer) -> Dns {
    Dns::with_nameservers(&[server.addr()], Duration::from_millis(500)).unwrap()
}

#[tokio::test]
async fn mx_records_are_sorted_by_preference() {
    let server = DnsServer::start(zone());
    let mx = dns(&server).mx("Example.Test").await.unwrap();
    let expected = [
        (10, "alt1.aspmx.l.google.com"),
        (10, "aspmx.l.google.com"),
        (20, "backup.mail.example.test"),
    ];
    let got: Vec<(u16, &str)> = mx
        .records
        .iter()
        .map(|MxRecord { preference, exchange }| (*preference, exchange.as_str()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(server.count("example.test", RecordType::MX), 1);
}

#[tokio::test]
async fn srv_records_follow_rfc_2782_order_and_keep_the_not_offered_target() {
    let server = DnsServer::start(zone());
    let dns = dns(&server);
    let srv = dns.srv("_imaps._tcp.example.test").await.unwrap();
    let got: Vec<(u16, u16, &str)> =
        srv.iter().map(|s| (s.priority, s.port, s.target.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (0, 9993, "primary.example.test"),
            (10, 993, "heavy.example.test"),
            (10, 993, "imap.example.test")
        ]
    );
    let none = dns.srv("_imap._tcp.example.test").await.unwrap();
    assert_eq!(none, vec![SrvRecord { priority: 0, weight: 0, port: 0, target: String::new() }]);
}

#[tokio::test]
async fn missing_names_and_records_are_empty_answers() {
    let server = DnsServer::start(zone());
    let dns = dns(&server);
    let nxdomain = dns.mx("nxdomain.test").await.unwrap();
    assert_eq!((nxdomain.records, nxdomain.no_such_domain), (vec![], true), "NXDOMAIN");
    let nodata = dns.mx("nomx.test").await.unwrap();
    assert_eq!((nodata.records, nodata.no_such_domain), (vec![], false), "NODATA");
    assert_eq!(dns.srv("_submissions._tcp.example.test").await.unwrap(), vec![]);
    assert_eq!(
        dns.ips("imap.example.test").await.unwrap(),
        vec![std::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))]
    );
    assert!(dns.ips("nothing.test").await.unwrap().is_empty());
}

#[tokio::test]
async fn servfail_and_silence_are_typed_errors() {
    let server = DnsServer::start(zone());
    let dns = dns(&server);
    let error = dns.mx("broken.test").await.unwrap_err();
    assert!(
        matches!(&error, DnsError::ServerFailure { code, .. } if code.contains("Server Failure") || code.contains("SERVFAIL") || code.contains("ServFail")),
        "{error:?}"
    );
    let started = Instant::now();
    let error = dns.mx("silent.test").await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "the timeout bounds the lookup");
}

#[tokio::test]
async fn truncated_udp_answers_are_retried_over_tcp() {
    let server = DnsServer::start(zone());
    let mx = dns(&server).mx("big.test").await.unwrap();
    assert_eq!(mx.records, vec![MxRecord { preference: 5, exchange: "mx.big.test".into() }]);
    assert_eq!(server.count("big.test", RecordType::MX), 2, "once over UDP, once over TCP");
}

#[test]
fn an_empty_server_list_is_a_setup_error() {
    assert!(matches!(Dns::with_nameservers(&[], Duration::from_secs(1)), Err(DnsError::Setup(_))));
}
