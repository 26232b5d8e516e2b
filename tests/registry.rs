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

/// The provider features of the facade's manifest, by the rule `build.rs` follows: a feature
/// whose whole value is `["dep:nativeauth-<name>"]`, but `redis` (the fleet's store).
fn provider_features(manifest: &toml::Table) -> Vec<String> {
    let mut names: Vec<String> = manifest["features"]
        .as_table()
        .unwrap()
        .iter()
        .filter(|(name, value)| {
            value.as_array().is_some_and(|v| {
                v.len() == 1 && v[0].as_str() == Some(&format!("dep:nativeauth-{name}"))
            })
        })
        .map(|(name, _)| name.clone())
        .filter(|name| name != "redis")
        .collect();
    names.sort();
    names
}

/// Each provider feature that is on links its crate, and each linked crate registers one
/// provider; every provider feature of the manifest is a default feature.
#[test]
fn each_provider_feature_links_its_crate() {
    let manifest: toml::Table =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let features = provider_features(&manifest);
    assert!(features.len() >= 4, "{features:?}");
    for name in nativeauth::BUILTIN_CRATES {
        assert!(features.contains(&(*name).to_owned()), "{name} is no provider feature");
    }
    assert_eq!(builtin_providers().len(), nativeauth::BUILTIN_CRATES.len());
    let defaults: Vec<&str> = manifest["features"]["default"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(toml::Value::as_str)
        .collect();
    // So a build with the default features links every provider crate.
    for feature in &features {
        assert!(defaults.contains(&feature.as_str()), "{feature} is not a default feature");
    }
}

/// The registry runs the providers by their plugins' rank (lower first), then id.
#[test]
fn the_registry_is_in_rank_order() {
    let mut plugins: Vec<(u32, &'static str)> =
        nativeauth::plugin::inventory::iter::<nativeauth::plugin::ProviderPlugin>()
            .map(|p| (p.rank, (p.make)().id()))
            .collect();
    plugins.sort_unstable();
    let by_rank: Vec<&str> = plugins.iter().map(|(_, id)| *id).collect();
    assert_eq!(registered(), by_rank);
    #[cfg(all(
        feature = "catalogue",
        feature = "exchange",
        feature = "imap",
        feature = "microsoft"
    ))]
    assert_eq!(
        registered().iter().take(4).copied().collect::<Vec<_>>(),
        ["catalogue", "microsoft", "exchange", "imap"],
        "the documented rank scale: 0, 21, 50, 100"
    );
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
