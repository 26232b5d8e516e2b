//! Latency of one discovery against local servers with injected delays: DNS 30 ms per name,
//! autoconfig 80 ms, ISPDB 150 ms, autodiscover 400 ms, and an autodiscover host whose DNS never
//! answers. Reports our wall time, the time of the fastest decisive source alone, and the wall
//! time of the same sources run one after another.
//!
//! Goals: ≤ 1.2 × the fastest decisive source; ≥ 3 × faster than the sequential run.
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
use nativeauth::providers::imap::srv_servers;
use nativeauth::{Discovery, DiscoveryConfig, EmailAddress, Source, UrlPorts};
use nativeauth_testkit::{DnsServer, TestCa, TlsFront, Zone};

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
}
