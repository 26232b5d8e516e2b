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
    #[cfg(all(
        feature = "catalogue",
        feature = "exchange",
        feature = "imap",
        feature = "microsoft"
    ))]
    assert_eq!(registered(), ["catalogue", "microsoft-v2", "exchange", "imap"]);
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
