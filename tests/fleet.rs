//! A fleet: several `Discovery` instances sharing one real `redis-server` as the second cache
//! layer. What one instance found, the others answer without asking the network; a burst of
//! discoveries of one cold domain across instances costs one run; and a Redis that is killed,
//! frozen, restarted or answers garbage costs the fleet its sharing, never an answer.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;
use nativeauth::redis::RedisStore;
use nativeauth::{Discovery, DiscoveryConfig, EmailAddress, NylasProvider, Report, Source};
use nativeauth_testkit::{DnsServer, RedisServer, Zone};

const TIMEOUT: Duration = Duration::from_millis(250);

fn zone() -> Zone {
    Zone::new()
        .mx("corp.test", 10, "aspmx.l.google.com")
        .mx("other.test", 10, "aspmx.l.google.com")
        .mx("later.test", 10, "aspmx.l.google.com")
        .mx("slow.test", 10, "aspmx.l.google.com")
        .delay("slow.test", Duration::from_millis(300))
}

/// An instance with its own in-memory cache, sharing `url`'s Redis.
fn instance(dns: &DnsServer, url: &str) -> Discovery {
    let store = RedisStore::connect(url, "fleet-test", TIMEOUT).unwrap();
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .dns_timeout(Duration::from_secs(2))
        .deadline(Duration::from_secs(4))
        .shared_cache(Arc::new(store), b"fleet key", TIMEOUT)
        .build();
    Discovery::new(config).unwrap()
}

async fn discover(discovery: &Discovery, address: &str) -> Report {
    discovery.discover(&EmailAddress::parse(address).unwrap()).await
}

fn is_gmail_by_mx(report: &Report) -> bool {
    report
        .best
        .as_ref()
        .is_some_and(|d| (d.provider.nylas, d.source) == (NylasProvider::Gmail, Source::Mx))
}

fn shared_step(report: &Report) -> Option<&nativeauth::Step> {
    report.trace.iter().find(|s| s.source == "shared-cache")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_instance_found_the_others_answer_without_the_network() {
    let redis = RedisServer::start();
    let dns = DnsServer::start(zone());
    let (a, b) = (instance(&dns, &redis.url()), instance(&dns, &redis.url()));

    let first = discover(&a, "alice@corp.test").await;
    assert!(is_gmail_by_mx(&first), "{:#?}", first.trace);
    assert_eq!(dns.count("corp.test", RecordType::MX), 1);

    let second = discover(&b, "bob@corp.test").await;
    assert!(is_gmail_by_mx(&second), "{:#?}", second.trace);
    let step = shared_step(&second).unwrap();
    assert_eq!(step.outcome, nativeauth::Outcome::Found, "{step:?}");
    assert_eq!(dns.count("corp.test", RecordType::MX), 1, "the second instance asked no DNS");
    assert_eq!(
        second.best.as_ref().unwrap().incoming[0]
            .username
            .render(&EmailAddress::parse("bob@corp.test").unwrap()),
        "bob@corp.test"
    );
    assert_eq!(a.shared_cache_errors() + b.shared_cache_errors(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_one_cold_domain_across_two_instances_costs_one_run() {
    let redis = RedisServer::start();
    let dns = DnsServer::start(zone());
    let (a, b) = (instance(&dns, &redis.url()), instance(&dns, &redis.url()));
    let callers = (0..50).map(|i| {
        let discovery = if i % 2 == 0 { &a } else { &b };
        async move { discover(discovery, &format!("user{i}@slow.test")).await }
    });
    let reports = futures_util::future::join_all(callers).await;
    assert!(reports.iter().all(is_gmail_by_mx));
    assert_eq!(dns.count("slow.test", RecordType::MX), 1, "one run for the whole fleet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_redis_costs_the_sharing_never_an_answer() {
    let mut redis = RedisServer::start();
    let dns = DnsServer::start(zone());
    let a = instance(&dns, &redis.url());

    // Killed: every call fails fast; discovery answers from the network.
    redis.stop();
    let started = Instant::now();
    let report = discover(&a, "ann@corp.test").await;
    assert!(is_gmail_by_mx(&report), "{:#?}", report.trace);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(a.shared_cache_errors() >= 1);
    assert_eq!(shared_step(&report).unwrap().outcome, nativeauth::Outcome::Error);

    // Frozen (SIGSTOP): calls hang until the timeout, which bounds them.
    redis.restart();
    redis.pause();
    let started = Instant::now();
    let report = discover(&a, "ann@other.test").await;
    assert!(is_gmail_by_mx(&report), "{:#?}", report.trace);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    redis.resume();

    // Back: sharing works again, with no restart of the instances.
    let b = instance(&dns, &redis.url());
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let found = discover(&a, "ann@later.test").await;
        assert!(is_gmail_by_mx(&found));
        let report = discover(&b, "bob@later.test").await;
        if shared_step(&report).is_some_and(|s| s.outcome == nativeauth::Outcome::Found) {
            break;
        }
        assert!(Instant::now() < until, "sharing did not recover: {:#?}", report.trace);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_answers_garbage_is_not_a_cache() {
    // Something on the port that speaks no Redis at all.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut buffer = [0u8; 1024];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 || stream.write_all(b"%%garbage\x00\xff\r\n").is_err() {
                        break;
                    }
                }
            });
        }
    });
    let dns = DnsServer::start(zone());
    let a = instance(&dns, &format!("redis://127.0.0.1:{port}/"));
    let started = Instant::now();
    let report = discover(&a, "ann@corp.test").await;
    assert!(is_gmail_by_mx(&report), "{:#?}", report.trace);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(a.shared_cache_errors() >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_in_the_middle_of_a_run_costs_nothing_but_the_publication() {
    let mut redis = RedisServer::start();
    let dns = DnsServer::start(zone());
    let a = instance(&dns, &redis.url());
    // The run takes the lease, then waits 300 ms for the domain's DNS; Redis dies meanwhile.
    let (report, ()) = tokio::join!(discover(&a, "ann@slow.test"), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        redis.stop();
    });
    assert!(is_gmail_by_mx(&report), "{:#?}", report.trace);
    assert_eq!(
        shared_step(&report).unwrap().outcome,
        nativeauth::Outcome::Nothing,
        "it held the lease"
    );
    // Publishing happens in the background once the answer is out: it fails, and is counted.
    let until = Instant::now() + Duration::from_secs(3);
    while a.shared_cache_errors() == 0 {
        assert!(Instant::now() < until, "the failed publication was not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The answer is still this instance's own, from its memory.
    let again = discover(&a, "bob@slow.test").await;
    assert_eq!(again.trace[0].source, "cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_run_gives_its_lease_back() {
    let redis = RedisServer::start();
    let dns = DnsServer::start(zone());
    let (a, b) = (instance(&dns, &redis.url()), instance(&dns, &redis.url()));
    // A takes the lease for slow.test, then its caller goes away mid-run.
    let abandoned =
        tokio::time::timeout(Duration::from_millis(100), discover(&a, "ann@slow.test")).await;
    assert!(abandoned.is_err(), "the run was still under way");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // B does not wait for a holder that is gone (half its 4 s deadline): it asks at once.
    let started = Instant::now();
    let report = discover(&b, "bob@slow.test").await;
    assert!(is_gmail_by_mx(&report), "{:#?}", report.trace);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
}

/// Runs `redis-cli` against the Redis on `port`; its standard output.
fn redis_cli(port: u16, args: &[&str]) -> String {
    let output = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn rejected(discovery: &Discovery, reason: &str) -> u64 {
    discovery.shared_cache_rejections().iter().find(|(r, _)| *r == reason).map_or(0, |(_, n)| *n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_copied_onto_another_domain_is_a_miss() {
    let redis = RedisServer::start();
    let zone = zone().mx("quiet.test", 10, "mx.quiet-host.test");
    let dns = DnsServer::start(zone);
    let a = instance(&dns, &redis.url());
    assert!(is_gmail_by_mx(&discover(&a, "dana@corp.test").await));
    // Someone with write access to Redis copies corp.test's signed answer onto quiet.test.
    let from = "fleet-test:nativeauth:v3:run:corp.test";
    let to = "fleet-test:nativeauth:v3:run:quiet.test";
    assert_eq!(redis_cli(redis.port(), &["COPY", from, to]), "1");
    let b = instance(&dns, &redis.url());
    let report = discover(&b, "kim@quiet.test").await;
    assert!(!is_gmail_by_mx(&report), "the copied answer was used: {:#?}", report.best);
    assert_eq!(rejected(&b, "signature"), 1);
    assert_eq!(dns.count("quiet.test", RecordType::MX), 1, "quiet.test was asked anew");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_restored_after_its_signed_expiry_is_a_miss() {
    use nativeauth::SharedCache;
    let redis = RedisServer::start();
    let dns = DnsServer::start(zone());
    let short_lived = || {
        let store = RedisStore::connect(&redis.url(), "fleet-test", TIMEOUT).unwrap();
        let config = DiscoveryConfig::builder()
            .nameservers([dns.addr()])
            .deadline(Duration::from_secs(4))
            .cache_ttl(Some(Duration::from_millis(400)), None)
            .shared_cache(Arc::new(store), b"fleet key", TIMEOUT)
            .build();
        Discovery::new(config).unwrap()
    };
    let a = short_lived();
    assert!(is_gmail_by_mx(&discover(&a, "dana@corp.test").await));
    let store = RedisStore::connect(&redis.url(), "fleet-test", TIMEOUT).unwrap();
    let key = "nativeauth:v3:run:corp.test";
    let envelope = store.get(key).await.unwrap().expect("published");
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The old value comes back, byte for byte, with a fresh lifetime of a minute.
    store.put(key, &envelope, Duration::from_secs(60)).await.unwrap();
    let b = short_lived();
    let report = discover(&b, "fay@corp.test").await;
    assert!(is_gmail_by_mx(&report));
    assert_eq!(rejected(&b, "expired"), 1, "{:?}", b.shared_cache_rejections());
    assert_eq!(dns.count("corp.test", RecordType::MX), 2, "asked anew");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reading_instance_publishes_nothing_and_takes_no_lease() {
    let redis = RedisServer::start();
    let dns = DnsServer::start(zone());
    let store = RedisStore::connect(&redis.url(), "fleet-test", TIMEOUT).unwrap();
    let config = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .deadline(Duration::from_secs(4))
        .shared_cache(Arc::new(store), b"fleet key", TIMEOUT)
        .shared_cache_read_only()
        .build();
    let reader = Discovery::new(config).unwrap();
    assert!(is_gmail_by_mx(&discover(&reader, "dana@corp.test").await));
    assert_eq!(redis_cli(redis.port(), &["DBSIZE"]), "0", "nothing published, no lease");
    // It still reads what the fleet published.
    let a = instance(&dns, &redis.url());
    assert!(is_gmail_by_mx(&discover(&a, "eve@other.test").await));
    let report = discover(&reader, "fay@other.test").await;
    assert_eq!(shared_step(&report).unwrap().outcome, nativeauth::Outcome::Found);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_an_attacker_on_the_path_could_shape_is_not_shared() {
    let redis = RedisServer::start();
    // No MX pattern matches, and the only answer is an SRV record (DNS without DNSSEC).
    let zone = Zone::new()
        .mx("srv.test", 10, "mx.srv.test")
        .srv("_imaps._tcp.srv.test", 0, 1, 993, "imap.srv.test")
        .srv("_submissions._tcp.srv.test", 0, 1, 465, "smtp.srv.test");
    let dns = DnsServer::start(zone);
    let a = instance(&dns, &redis.url());
    let report = discover(&a, "dana@srv.test").await;
    let best = report.best.as_ref().expect("SRV found something");
    assert_eq!(best.trust, nativeauth::Trust::Unverified, "{best:?}");
    assert_eq!(
        redis_cli(redis.port(), &["EXISTS", "fleet-test:nativeauth:v3:run:srv.test"]),
        "0",
        "an unverified answer stays with the instance that found it"
    );
}
