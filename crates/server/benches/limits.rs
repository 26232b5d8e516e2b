//! The in-memory rate limiter under 100,000 distinct keys (one per client): the cost of a check
//! per window of 10,000 new keys, the first window against the worst. A limiter that scans
//! itself grows slower window after window; this one must stay flat.
//!
//! ```sh
//! cargo bench -p nativeauth-server --bench limits
//! ```

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::time::Instant;

use nativeauth_server::Limits;

fn main() {
    const KEYS: usize = 100_000;
    const WINDOW: usize = 10_000;
    let limits = Limits::default();
    let mut per_window = Vec::new();
    for window in 0..KEYS / WINDOW {
        let started = Instant::now();
        for i in 0..WINDOW {
            let key = format!("login-ip:198.51.{}.{}", window, i);
            let _ = limits.check_local(&key, 10);
            // A returning client, as real traffic has.
            let _ = limits.check_local(&format!("login-ip:198.51.0.{}", i % 100), 10);
        }
        per_window.push(started.elapsed().as_secs_f64() / (2 * WINDOW) as f64 * 1e9);
    }
    let first = per_window[0];
    let worst = per_window.iter().copied().fold(0.0_f64, f64::max);
    for (i, ns) in per_window.iter().enumerate() {
        println!("window {:>2} ({:>6} keys): {ns:>7.0} ns per check", i + 1, (i + 1) * WINDOW);
    }
    println!("first {first:.0} ns, worst {worst:.0} ns per check: {:.2}x", worst / first);
}
