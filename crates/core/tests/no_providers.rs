//! This test binary links `nativeauth-core` alone, so no provider is registered: discovery
//! must refuse to start instead of silently finding nothing.

use nativeauth_core::{Discovery, DiscoveryConfig, SetupError, registry};

#[test]
fn a_discovery_without_providers_is_a_typed_error() {
    assert!(registry().is_empty(), "this binary links no provider crate");
    let error = Discovery::new(DiscoveryConfig::builder().offline(true).build())
        .expect_err("no providers must be an error");
    assert!(matches!(error, SetupError::NoProviders), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("no providers are registered") && message.contains("`nativeauth` facade"),
        "{message}"
    );
    // An explicit, empty list stays allowed: a caller may want only the network context.
    assert!(
        Discovery::with_providers(DiscoveryConfig::builder().offline(true).build(), Vec::new())
            .is_ok()
    );
}
