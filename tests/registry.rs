//! The plugin registry, seen through the facade: every built-in provider crate the facade
//! links has registered itself.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use nativeauth::{BUILTIN_PROVIDERS, Discovery, DiscoveryConfig, registry};

#[test]
fn providers_registered_in_separate_crates_are_found_through_the_facade() {
    let ids: Vec<&str> = registry().iter().map(|p| p.id).collect();
    for builtin in BUILTIN_PROVIDERS {
        assert!(ids.contains(builtin), "{builtin} is not registered; registered: {ids:?}");
    }
    let catalogue = registry().into_iter().find(|p| p.id == "catalogue").unwrap();
    assert_eq!(catalogue.rank, 0, "the catalogue is consulted first");
    assert_eq!((catalogue.make)().id(), "catalogue");
}

#[test]
fn the_registry_is_sorted_by_rank() {
    let plugins = registry();
    assert!(plugins.windows(2).all(|w| (w[0].rank, w[0].id) < (w[1].rank, w[1].id)));
}

#[test]
fn a_discovery_uses_every_registered_provider() {
    let discovery = Discovery::new(DiscoveryConfig::builder().offline(true).build()).unwrap();
    let expected: Vec<&str> = registry().iter().map(|p| p.id).collect();
    assert_eq!(discovery.provider_ids(), expected);
}
