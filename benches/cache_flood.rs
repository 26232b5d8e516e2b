//! A flood of distinct domains through one shared `Discovery`: 1,000,000 unknown domains,
//! offline (so only the engine and its cache run), one after another. Prints the throughput
//! of every window of 25,000 discoveries and the process's peak resident set size, so that a
//! cache which slows down or grows with traffic shows at once.
//! Run: `cargo bench --bench cache_flood` (`-- <count> <cache MiB>` for other figures).
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)] // a benchmark program

mod common;

use std::time::Instant;

use nativeauth::{Discovery, DiscoveryConfig, EmailAddress};

const WINDOW: usize = 25_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo bench --bench cache_flood -- [COUNT] [CAPACITY_MIB]`; cargo's own `--bench` is
    // not a number.
    let numbers: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let count = numbers.first().map_or(1_000_000, |&n| usize::try_from(n).unwrap());
    let capacity =
        numbers.get(1).map_or(DiscoveryConfig::default().cache_capacity(), |mib| mib * 1024 * 1024);
    let config = DiscoveryConfig::builder().offline(true).cache_capacity(capacity).build();
    let discovery = Discovery::new(config).unwrap();
    // Parsed up front: the windows time the discoveries, not the parsing.
    let addresses: Vec<EmailAddress> = (0..count)
        .map(|i| EmailAddress::parse(&format!("user@flood-{i}.example")).unwrap())
        .collect();
    let start_kib = common::peak_kib();
    println!(
        "cache flood: {count} distinct unknown domains, offline, one Discovery, cache bound {} KiB",
        capacity / 1024
    );
    println!("  peak RSS before: {start_kib} KiB");
    let mut rates = Vec::new();
    for (n, window) in addresses.chunks(WINDOW).enumerate() {
        let started = Instant::now();
        for email in window {
            let report = discovery.discover(email).await;
            assert!(!report.is_detected());
        }
        let rate = window.len() as f64 / started.elapsed().as_secs_f64();
        rates.push(rate);
        println!(
            "  {:>9}–{:<9} {:>9.0}/s  peak RSS {} KiB",
            n * WINDOW,
            n * WINDOW + window.len(),
            rate,
            common::peak_kib()
        );
    }
    let first = rates.first().copied().unwrap_or(0.0);
    let worst = rates.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "  first window {first:.0}/s, worst {worst:.0}/s ({:.2}× slower); peak RSS {} KiB ({} KiB over the start)",
        first / worst,
        common::peak_kib(),
        common::peak_kib().saturating_sub(start_kib)
    );
}
