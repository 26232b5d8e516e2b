#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Catalogue benchmarks: domain lookups (known, wildcard-walk, unknown), MX matching, and
//! loading the built-in catalogue. Goal: a lookup at most 1 µs median.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nativeauth::catalogue::Catalogue;
use nativeauth::providers::catalogue::{BUILTIN_TOML, builtin};

fn lookups(c: &mut Criterion) {
    let catalogue = builtin();
    let mut group = c.benchmark_group("lookup");
    group.bench_function("known domain (gmail.com)", |b| {
        b.iter(|| catalogue.lookup(black_box("gmail.com")))
    });
    group.bench_function("known domain (yahoo.com.br)", |b| {
        b.iter(|| catalogue.lookup(black_box("yahoo.com.br")))
    });
    group.bench_function("unknown domain (5 labels)", |b| {
        b.iter(|| catalogue.lookup(black_box("mail.eu.corp.example-company.co.uk")))
    });
    group.bench_function("unknown domain (notaol.com)", |b| {
        b.iter(|| catalogue.lookup(black_box("notaol.com")))
    });
    group.finish();

    let mut group = c.benchmark_group("mx");
    group.bench_function("google MX host", |b| {
        b.iter(|| catalogue.match_mx_host(black_box("alt1.aspmx.l.google.com.")))
    });
    group.bench_function("unknown MX host", |b| {
        b.iter(|| catalogue.match_mx_host(black_box("mx1.mail.example-company.co.uk")))
    });
    group.finish();
}

fn loading(c: &mut Criterion) {
    c.bench_function("load built-in catalogue", |b| {
        b.iter(|| Catalogue::parse(black_box(BUILTIN_TOML), "providers.toml"))
    });
}

criterion_group!(benches, lookups, loading);
criterion_main!(benches);
