//! `/metrics` in the Prometheus text format: detections by source, trust and outcome; sign-in
//! outcomes by kind; detection cache hits; request latencies per route.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Inner {
    detections: BTreeMap<(&'static str, &'static str, &'static str), u64>,
    logins: BTreeMap<&'static str, u64>,
    cache_hits: u64,
    callback_failures: u64,
    exchanges: BTreeMap<&'static str, u64>,
    latencies: BTreeMap<&'static str, Histogram>,
}

/// The server's counters.
#[derive(Default)]
pub(crate) struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// One detection: its source and trust (`none` when nothing was found), its outcome, and
    /// whether it came from the cache.
    pub(crate) fn detection(
        &self,
        source: &'static str,
        trust: &'static str,
        outcome: &'static str,
        cached: bool,
    ) {
        self.with(|inner| {
            *inner.detections.entry((source, trust, outcome)).or_default() += 1;
            inner.cache_hits += u64::from(cached);
        });
    }

    /// One sign-in's outcome (`ok` or the failure's kind).
    pub(crate) fn login(&self, kind: &'static str) {
        self.with(|inner| *inner.logins.entry(kind).or_default() += 1);
    }

    /// One code exchange's outcome (`ok` or the refusal's kind).
    pub(crate) fn exchange(&self, kind: &'static str) {
        self.with(|inner| *inner.exchanges.entry(kind).or_default() += 1);
    }

    /// A callback that failed every attempt.
    pub(crate) fn callback_failed(&self) {
        self.with(|inner| inner.callback_failures += 1);
    }

    /// One request's latency on `route` (a fixed route name, never a raw path).
    pub(crate) fn latency(&self, route: &'static str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        self.with(|inner| {
            let histogram = inner.latencies.entry(route).or_default();
            for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
                *count += u64::from(seconds <= bound);
            }
            histogram.count += 1;
            histogram.sum += seconds;
        });
    }

    /// The text exposition.
    pub(crate) fn render(&self) -> String {
        self.with(|inner| {
            let mut out = String::new();
            out.push_str("# HELP nativeauth_detections_total Detections by source, trust and outcome.\n");
            out.push_str("# TYPE nativeauth_detections_total counter\n");
            for ((source, trust, outcome), n) in &inner.detections {
                let _ = writeln!(out, "nativeauth_detections_total{{source=\"{source}\",trust=\"{trust}\",outcome=\"{outcome}\"}} {n}");
            }
            out.push_str("# HELP nativeauth_detection_cache_hits_total Detections answered from the cache.\n");
            out.push_str("# TYPE nativeauth_detection_cache_hits_total counter\n");
            let _ = writeln!(out, "nativeauth_detection_cache_hits_total {}", inner.cache_hits);
            out.push_str("# HELP nativeauth_logins_total Sign-ins by outcome.\n");
            out.push_str("# TYPE nativeauth_logins_total counter\n");
            for (kind, n) in &inner.logins {
                let _ = writeln!(out, "nativeauth_logins_total{{outcome=\"{kind}\"}} {n}");
            }
            out.push_str("# HELP nativeauth_callback_failures_total Callbacks that failed every attempt.\n");
            out.push_str("# TYPE nativeauth_callback_failures_total counter\n");
            let _ = writeln!(out, "nativeauth_callback_failures_total {}", inner.callback_failures);
            out.push_str("# HELP nativeauth_exchanges_total Code exchanges by outcome.\n");
            out.push_str("# TYPE nativeauth_exchanges_total counter\n");
            for (kind, n) in &inner.exchanges {
                let _ = writeln!(out, "nativeauth_exchanges_total{{outcome=\"{kind}\"}} {n}");
            }
            out.push_str("# HELP nativeauth_request_duration_seconds Request latency by route.\n");
            out.push_str("# TYPE nativeauth_request_duration_seconds histogram\n");
            for (route, histogram) in &inner.latencies {
                for (count, bound) in histogram.counts.iter().zip(BUCKETS) {
                    let _ = writeln!(out, "nativeauth_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}");
                }
                let _ = writeln!(out, "nativeauth_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", histogram.count);
                let _ = writeln!(out, "nativeauth_request_duration_seconds_sum{{route=\"{route}\"}} {}", histogram.sum);
                let _ = writeln!(out, "nativeauth_request_duration_seconds_count{{route=\"{route}\"}} {}", histogram.count);
            }
            out
        })
    }
}

/// The route name of `path` for metrics (unknown paths share one name, so that a scan cannot
/// grow the table).
pub(crate) fn route(path: &str) -> &'static str {
    match path {
        "/" => "page",
        "/login" => "login_form",
        "/api/detect" => "detect",
        "/api/login" => "login",
        "/api/exchange" => "exchange",
        "/healthz" => "healthz",
        "/metrics" => "metrics",
        p if p.starts_with("/static/") => "static",
        _ => "other",
    }
}
