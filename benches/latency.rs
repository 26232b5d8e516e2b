//! Latency of one discovery against local servers with injected delays: DNS 30 ms per name,
//! autoconfig 80 ms, ISPDB 150 ms, autodiscover 400 ms, and an autodiscover host whose DNS never
//! answers. Reports our wall time, the time of the fastest decisive source alone, and the wall
//! time of the same sources run one after another.
//!
//! Goals: ≤ 1.2 × the fastest decisive source; ≥ 3 × faster than the sequential run.
//!
//! Then scenarios where something is dead or absent, each against the fastest way to the same
//! answer: (a) `autoconfig.<d>` accepts and never answers while `.well-known` answers at once
//! (goal ≤ 1.2 × the well-known fetch); (b) the domain does not exist and (c) publishes a null
//! MX (goal ≤ 2 × one DNS round trip); (d) the domain's DNS never answers (goal ≤ the resolver
//! timeout + 100 ms); (e) only guessing finds the servers (against probing the two winners).
//! Run: `cargo bench --bench latency`.
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)] // a benchmark program

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use mockito::{Matcher, Server};
use nativeauth::AddressPolicy;
use nativeauth::Url;
use nativeauth::providers::exchange::{CredentialRules, run_autodiscover};
use nativeauth::providers::imap::ImapOptions;
use nativeauth::providers::imap::autoconfig::{
    fetch_config, ispdb_url, subdomain_url, well_known_url,
};
use nativeauth::providers::imap::probe::{ProbeTarget, Prober};
use nativeauth::providers::imap::{ProbePorts, srv_servers};
use nativeauth::{
    Discovery, DiscoveryConfig, EmailAddress, FailureKind, Protocol, Security, Source, UrlPorts,
};
use nativeauth_testkit::{DnsServer, MailMode, MailProtocol, MailServer, TestCa, TlsFront, Zone};

const DNS: Duration = Duration::from_millis(30);
const RUNS: usize = 7;

const CONFIG: &str = r#"<clientConfig version="1.1"><emailProvider id="bench.test"><domain>bench.test</domain>
<incomingServer type="imap"><hostname>imap.bench.test</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.bench.test</hostname><port>465</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>"#;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let zone = Zone::new()
        .mx("bench.test", 10, "mx.hoster.test")
        .a("bench.test", Ipv4Addr::LOCALHOST)
        .a("autoconfig.bench.test", Ipv4Addr::LOCALHOST)
        .a("ispdb.test", Ipv4Addr::LOCALHOST)
        .srv("_imaps._tcp.bench.test", 0, 1, 993, "imap.bench.test")
        .srv("_submissions._tcp.bench.test", 0, 1, 465, "smtp.bench.test")
        .silent("autodiscover.bench.test")
        .delay("bench.test", DNS)
        .delay("autoconfig.bench.test", DNS)
        .delay("ispdb.test", DNS)
        .delay("_imaps._tcp.bench.test", DNS)
        .delay("_submissions._tcp.bench.test", DNS);
    let dns = DnsServer::start(zone);
    let mut http = Server::new_async().await;
    http.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    http.mock("POST", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    http.mock("GET", Matcher::Regex("^/mail/config-v1.1.xml".into()))
        .match_header("host", Matcher::Regex("^autoconfig\\.bench\\.test".into()))
        .with_body(CONFIG)
        .expect_at_least(0)
        .create_async()
        .await;
    http.mock("GET", "/v1.1/bench.test").with_body(CONFIG).expect_at_least(0).create_async().await;
    http.mock("POST", "/autodiscover/autodiscover.xml")
        .match_header("host", Matcher::Regex("^bench\\.test".into()))
        .with_status(401)
        .expect_at_least(0)
        .create_async()
        .await;
    let ca = TestCa::new(&[
        "bench.test",
        "autoconfig.bench.test",
        "ispdb.test",
        "autodiscover.bench.test",
    ]);
    let front = TlsFront::start_with_delays(
        &ca,
        http.socket_address(),
        &[
            ("autoconfig.bench.test", Duration::from_millis(80)),
            ("ispdb.test", Duration::from_millis(150)),
            ("bench.test", Duration::from_millis(400)),
        ],
    );
    let config = || {
        DiscoveryConfig::builder()
            .nameservers([dns.addr()])
            .dns_timeout(Duration::from_secs(2))
            .extra_roots([ca.root()])
            .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
            .url_ports(UrlPorts { https: front.addr().port(), http: http.socket_address().port() })
            .provider_options(ImapOptions::default().ispdb_url(Some(
                Url::parse(&format!("https://ispdb.test:{}/v1.1/", front.addr().port())).unwrap(),
            )))
            .cache_ttl(None, None)
            .build()
    };
    let email = EmailAddress::parse("user@bench.test").unwrap();

    // Our wall time: a fresh Discovery each run (no connection reuse, no DNS cache).
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        let discovery = Discovery::new(config()).unwrap();
        let started = Instant::now();
        let report = discovery.discover(&email).await;
        ours.push(started.elapsed());
        assert_eq!(
            report.best.as_ref().map(|d| d.source),
            Some(Source::Autoconfig(nativeauth::AutoconfigOrigin::Subdomain))
        );
    }

    // Each source alone, on a fresh network each time.
    let ports = UrlPorts { https: front.addr().port(), http: http.socket_address().port() };
    let mut decisive = Vec::new();
    let mut sequential = Vec::new();
    let mut parts: Vec<(&str, Vec<Duration>)> =
        ["MX", "autoconfig", "well-known", "ISPDB", "autodiscover (incl. dead host)", "SRV"]
            .iter()
            .map(|name| (*name, Vec::new()))
            .collect();
    for _ in 0..RUNS {
        let mut total = Duration::ZERO;
        for (index, (_, samples)) in parts.iter_mut().enumerate() {
            let ctx = Discovery::with_providers(config(), Vec::new()).unwrap().context();
            let started = Instant::now();
            match index {
                0 => drop(ctx.mx("bench.test").await),
                1 => drop(
                    fetch_config(
                        &ctx,
                        "autoconfig",
                        &subdomain_url("bench.test", &email, true, ports).unwrap(),
                        false,
                    )
                    .await,
                ),
                2 => drop(
                    fetch_config(
                        &ctx,
                        "autoconfig",
                        &well_known_url("bench.test", &email, true, ports).unwrap(),
                        false,
                    )
                    .await,
                ),
                3 => {
                    let base =
                        Url::parse(&format!("https://ispdb.test:{}/v1.1/", ports.https)).unwrap();
                    drop(
                        fetch_config(
                            &ctx,
                            "ispdb",
                            &ispdb_url(&base, "bench.test").unwrap(),
                            false,
                        )
                        .await,
                    );
                }
                4 => drop(run_autodiscover(&ctx, &email, None, &CredentialRules::default()).await),
                _ => drop(srv_servers(&ctx, "bench.test").await),
            }
            let took = started.elapsed();
            samples.push(took);
            total += took;
            if index == 1 {
                decisive.push(took);
            }
        }
        sequential.push(total);
    }

    let (ours, decisive, sequential) = (median(ours), median(decisive), median(sequential));
    println!("latency (median of {RUNS} runs, fresh connections each run)");
    for (name, samples) in parts {
        println!("  {name:<32} {:>8.1} ms alone", ms(median(samples)));
    }
    println!("  fastest decisive source (autoconfig) {:>8.1} ms", ms(decisive));
    println!("  sources one after another          {:>8.1} ms", ms(sequential));
    println!("  nativeauth discover                {:>8.1} ms", ms(ours));
    println!(
        "  ratio to the decisive source: {:.2} (goal <= 1.2); speed-up over sequential: {:.1}x (goal >= 3)",
        ours.as_secs_f64() / decisive.as_secs_f64(),
        sequential.as_secs_f64() / ours.as_secs_f64()
    );
    scenarios().await;
}

/// The time of `run`, median of [`RUNS`].
async fn timed<F, Fut>(mut run: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        run().await;
        samples.push(started.elapsed());
    }
    median(samples)
}

fn row(name: &str, ours: Duration, limit: Duration, goal: &str) {
    println!(
        "  {name:<44} {:>8.1} ms  vs {:>8.1} ms  ratio {:>5.2}  ({goal})",
        ms(ours),
        ms(limit),
        ours.as_secs_f64() / limit.as_secs_f64()
    );
}

async fn scenarios() {
    const RESOLVER_TIMEOUT: Duration = Duration::from_millis(1000);
    let hosts = ["fast.test", "autoconfig.fast.test", "imap.guess.test", "smtp.guess.test"];
    let ca = TestCa::new(&hosts);
    let imaps = MailServer::start(MailProtocol::Imap, MailMode::ImplicitTls(&ca));
    let smtps = MailServer::start(MailProtocol::Smtp, MailMode::ImplicitTls(&ca));
    let zone = Zone::new()
        .a("fast.test", Ipv4Addr::LOCALHOST)
        .a("autoconfig.fast.test", Ipv4Addr::LOCALHOST)
        .mx("nullmx.test", 0, ".")
        .silent("dead.test")
        .a("imap.guess.test", Ipv4Addr::LOCALHOST)
        .a("smtp.guess.test", Ipv4Addr::LOCALHOST)
        .empty("guess.test");
    let dns = DnsServer::start(zone);
    let mut http = Server::new_async().await;
    http.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    http.mock("POST", Matcher::Any).with_status(404).expect_at_least(0).create_async().await;
    http.mock("GET", Matcher::Regex("^/.well-known/autoconfig/mail/config-v1.1.xml".into()))
        .match_header("host", Matcher::Regex("^fast\\.test".into()))
        .with_body(CONFIG.replace("bench.test", "fast.test"))
        .expect_at_least(0)
        .create_async()
        .await;
    // autoconfig.fast.test accepts the connection and never answers within the run;
    // fast.test answers its well-known URL after 30 ms, a nearby web server.
    let front = TlsFront::start_with_delays(
        &ca,
        http.socket_address(),
        &[
            ("autoconfig.fast.test", Duration::from_secs(60)),
            ("fast.test", Duration::from_millis(30)),
        ],
    );
    let ports = UrlPorts { https: front.addr().port(), http: http.socket_address().port() };
    let config = || {
        DiscoveryConfig::builder()
            .nameservers([dns.addr()])
            .dns_timeout(RESOLVER_TIMEOUT)
            .extra_roots([ca.root()])
            .address_policy(AddressPolicy::strict().allowing(["127.0.0.1/32".parse().unwrap()]))
            .url_ports(ports)
            .provider_options(ImapOptions::default().ispdb_url(None).probe_ports(ProbePorts {
                imaps: imaps.addr().port(),
                imap: imaps.addr().port(),
                submissions: smtps.addr().port(),
                submission: smtps.addr().port(),
            }))
            .cache_ttl(None, None)
            .build()
    };
    let discover = |address: &'static str| {
        let config = config();
        async move {
            let discovery = Discovery::new(config).unwrap();
            discovery.discover(&EmailAddress::parse(address).unwrap()).await
        }
    };
    // Sanity: each scenario ends the way it should.
    let check = [
        ("a@fast.test", None),
        ("a@nx.test", Some(FailureKind::NoSuchDomain)),
        ("a@nullmx.test", Some(FailureKind::NullMx)),
        ("a@dead.test", Some(FailureKind::DnsTimeout)),
        ("a@guess.test", None),
    ];
    for (address, kind) in check {
        let report = discover(address).await;
        assert_eq!(report.failure.as_ref().map(|f| f.kind), kind, "{address}: {report:#?}");
    }

    println!("\nscenarios (median of {RUNS} runs; ours vs the fastest way to the same answer)");
    let email = EmailAddress::parse("a@fast.test").unwrap();
    let well_known = well_known_url("fast.test", &email, true, ports).unwrap();
    let limit = timed(|| async {
        let ctx = Discovery::with_providers(config(), Vec::new()).unwrap().context();
        assert!(fetch_config(&ctx, "autoconfig", &well_known, false).await.unwrap().is_some());
    })
    .await;
    let ours = timed(|| async { drop(discover("a@fast.test").await) }).await;
    row("(a) dead autoconfig.<d>, fast .well-known", ours, limit, "goal <= 1.2");

    for (name, address, domain) in [
        ("(b) no such domain", "a@nx.test", "nx.test"),
        ("(c) null MX", "a@nullmx.test", "nullmx.test"),
    ] {
        let limit = timed(|| async {
            let ctx = Discovery::with_providers(config(), Vec::new()).unwrap().context();
            drop(ctx.mx(domain).await);
        })
        .await;
        let ours = timed(|| async { drop(discover(address).await) }).await;
        row(name, ours, limit, "goal <= 2");
    }

    let ours = timed(|| async { drop(discover("a@dead.test").await) }).await;
    row(
        "(d) DNS never answers (vs resolver timeout)",
        ours,
        RESOLVER_TIMEOUT,
        "goal <= timeout + 100 ms",
    );

    let limit = timed(|| async {
        let ctx = Discovery::with_providers(config(), Vec::new()).unwrap().context();
        let prober = Prober::new(&ctx, Duration::from_secs(2)).unwrap();
        let imap = ProbeTarget {
            host: "imap.guess.test".into(),
            port: imaps.addr().port(),
            protocol: Protocol::Imap,
            security: Security::Tls,
        };
        let smtp = ProbeTarget {
            host: "smtp.guess.test".into(),
            port: smtps.addr().port(),
            protocol: Protocol::Smtp,
            security: Security::Tls,
        };
        let (a, b) = futures_util::future::join(prober.probe(&imap), prober.probe(&smtp)).await;
        assert!(a.is_ok() && b.is_ok());
    })
    .await;
    let ours = timed(|| async { drop(discover("a@guess.test").await) }).await;
    row("(e) guess only (vs probing the two winners)", ours, limit, "report");
}
