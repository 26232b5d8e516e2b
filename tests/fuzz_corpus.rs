//! The fuzz targets' seed corpora and every crash the fuzzers ever found, run as regression
//! tests (the long fuzz runs themselves need `cargo fuzz`; see the README).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::PathBuf;

use nativeauth::fuzzing;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file below these folders (recursively), skipping `.keep` placeholders.
fn files(folders: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = folders.iter().map(|f| root().join(f)).collect();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if path.file_name().is_some_and(|n| n != ".keep") {
            out.push(path);
        }
    }
    out
}

fn run(target: fn(&[u8]), folders: &[&str], at_least: usize) {
    let files = files(folders);
    assert!(files.len() >= at_least, "{} inputs in {folders:?}", files.len());
    for file in files {
        let data = std::fs::read(&file).unwrap();
        target(&data);
    }
}

#[test]
fn email_corpus() {
    run(fuzzing::email, &["fuzz/seeds/email", "fuzz/regressions/email"], 10);
}

#[test]
fn autoconfig_corpus() {
    run(
        fuzzing::autoconfig,
        &[
            "crates/testkit/data/ispdb",
            "crates/testkit/data/fixtures",
            "fuzz/regressions/autoconfig",
        ],
        170,
    );
}

#[test]
fn autodiscover_corpus() {
    run(
        fuzzing::autodiscover,
        &[
            "crates/testkit/data/fixtures",
            "fuzz/seeds/autodiscover",
            "fuzz/regressions/autodiscover",
        ],
        20,
    );
}

#[test]
fn catalogue_corpus() {
    run(
        fuzzing::catalogue,
        &["providers.toml", "fuzz/seeds/catalogue", "fuzz/regressions/catalogue"],
        2,
    );
}
