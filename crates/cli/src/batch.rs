//! `--batch`: many addresses, bounded concurrency, JSON Lines in input order, a progress bar
//! on a terminal, and a summary at the end.

use std::collections::BTreeMap;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use nativeauth::Failure;
use nativeauth::{Discovery, EmailAddress, Report};
use serde::Serialize;

/// One output line: the report plus the input line number.
#[derive(Serialize)]
struct Line<R> {
    line: usize,
    #[serde(flatten)]
    report: R,
}

/// Reads the addresses: (line number, text) for each non-blank, non-comment line.
fn read_input(path: &Path) -> anyhow::Result<Vec<(usize, String)>> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Box::new(io::BufReader::new(file))
    };
    let mut items = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read line {}", index + 1))?;
        let text = line.trim();
        if !text.is_empty() && !text.starts_with('#') {
            items.push((index + 1, text.to_owned()));
        }
    }
    Ok(items)
}

/// Counts for the summary.
#[derive(Default)]
struct Summary {
    total: usize,
    detected: usize,
    by_source: BTreeMap<String, usize>,
    failures: BTreeMap<String, usize>,
}

/// Runs the batch and writes JSON Lines to stdout.
pub(crate) async fn run(
    discovery: Arc<Discovery>,
    path: &Path,
    concurrency: usize,
) -> anyhow::Result<()> {
    let items = read_input(path)?;
    let started = Instant::now();
    let progress = if io::stderr().is_terminal() {
        let bar = ProgressBar::new(items.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} addresses, {per_sec}, eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let mut results = futures_util::stream::iter(items)
        .map(|(line, text)| {
            let discovery = discovery.clone();
            async move {
                match EmailAddress::parse(&text) {
                    Ok(email) => (line, text, Ok(discovery.discover(&email).await)),
                    Err(error) => (line, text, Err(Failure::invalid_email(&error))),
                }
            }
        })
        .buffered(concurrency);
    let mut summary = Summary::default();
    let mut out = io::BufWriter::new(io::stdout().lock());
    while let Some((line, text, result)) = results.next().await {
        summary.total += 1;
        let json = match &result {
            Ok(report) => {
                match (&report.best, &report.failure) {
                    (Some(best), _) => {
                        summary.detected += 1;
                        *summary.by_source.entry(best.source.as_str().to_owned()).or_default() += 1;
                    }
                    (None, Some(failure)) => {
                        let kind = serde_json::to_value(failure.kind)?
                            .as_str()
                            .unwrap_or("error")
                            .to_owned();
                        *summary.failures.entry(kind).or_default() += 1;
                    }
                    (None, None) => {}
                }
                serde_json::to_string(&Line { line, report: report.to_json() })?
            }
            Err(failure) => {
                *summary.failures.entry("invalid-email".into()).or_default() += 1;
                serde_json::to_string(&Line {
                    line,
                    report: Report::invalid_email_json(&text, failure),
                })?
            }
        };
        writeln!(out, "{json}")?;
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    out.flush()?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut err = io::stderr().lock();
    writeln!(
        err,
        "summary: {} addresses, {} detected, {} not detected in {:.2} s ({:.0}/s)",
        summary.total,
        summary.detected,
        summary.total - summary.detected,
        elapsed,
        summary.total as f64 / elapsed.max(1e-9)
    )?;
    let sources: Vec<String> = summary.by_source.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(
        err,
        "  by source: {}",
        if sources.is_empty() { "-".into() } else { sources.join(", ") }
    )?;
    let failures: Vec<String> = summary.failures.iter().map(|(k, v)| format!("{k} {v}")).collect();
    writeln!(
        err,
        "  failures: {}",
        if failures.is_empty() { "none".into() } else { failures.join(", ") }
    )?;
    Ok(())
}
