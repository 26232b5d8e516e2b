//! The plugin registry, seen through the facade: every built-in provider crate the facade
//! links has registered itself, and the facade's list of built-in providers is the registry.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use nativeauth::{Discovery, DiscoveryConfig, builtin_providers, registry};

fn registered() -> Vec<&'static str> {
    registry().iter().map(|p| p.id()).collect()
}

#[test]
fn the_builtin_list_is_exactly_what_the_linked_crates_register() {
    // This test binary links no plugin of its own, so every registered provider is built in:
    // a provider added to a crate but missing from the facade's list fails here, and so does
    // a listed id that no crate registers.
    assert_eq!(builtin_providers(), registered());
}

/// The provider features of the facade's manifest: every feature but `default` and `redis`
/// (the rule `build.rs` follows), each naming `dep:nativeauth-<feature>`.
fn provider_features() -> Vec<String> {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let features = manifest.split("\n[features]\n").nth(1).unwrap();
    let features = features.split("\n[").next().unwrap();
    let mut names = Vec::new();
    for line in features.lines() {
        let Some((name, value)) = line.split_once('=') else { continue };
        let name = name.trim();
        if name.starts_with('#') || name == "default" || name == "redis" {
            continue;
        }
        assert!(
            value.contains(&format!("\"dep:nativeauth-{name}\"")),
            "feature {name} does not enable nativeauth-{name}: {value}"
        );
        names.push(name.to_owned());
    }
    names
}

/// Built with its default features, the facade links one provider per provider feature of
/// its manifest: the build script missed none.
#[test]
#[cfg(all(feature = "catalogue", feature = "exchange", feature = "imap", feature = "microsoft"))]
fn each_provider_feature_links_its_crate() {
    let features = provider_features();
    assert!(features.len() >= 4, "{features:?}");
    assert_eq!(registered().len(), features.len(), "{:?} for {features:?}", registered());
}

#[test]
fn the_catalogue_is_consulted_first() {
    assert_eq!(registered().first(), Some(&"catalogue"));
}

#[test]
fn a_discovery_uses_every_registered_provider() {
    let discovery = Discovery::new(DiscoveryConfig::builder().offline(true).build()).unwrap();
    assert_eq!(discovery.provider_ids(), registered());
}
