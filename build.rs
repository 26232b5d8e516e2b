//! Derives the facade's list of built-in provider crates from its manifest, so that adding a
//! provider crate touches the crate and the root `Cargo.toml` only.
//!
//! A provider feature is one whose whole value is `["dep:nativeauth-<name>"]`, the feature
//! named `<name>` (the crate `nativeauth_<name>`, in `crates/providers/<name>`, with a public
//! `ID` constant), but for the workspace's crates of that shape that are no providers
//! ([`NOT_PROVIDERS`]); every other feature (`default`, anything added later) is left alone.
//! For every provider feature that is on, this writes to `$OUT_DIR/providers.rs` the `pub use`
//! that links the crate (and documents it under `nativeauth::providers`), its id for
//! `builtin_providers`, and its name in `BUILTIN_CRATES`. The manifest is part of the
//! published crate, so a published facade builds the same.

use std::fmt::Write as _;

/// Features of the provider shape whose crates are no providers: `redis`, the fleet's store.
const NOT_PROVIDERS: &[&str] = &["redis"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.toml");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let manifest = std::fs::read_to_string(std::path::Path::new(&dir).join("Cargo.toml"))
        .expect("the facade's Cargo.toml is readable");
    let manifest: toml::Table = manifest.parse().expect("the facade's Cargo.toml is TOML");
    // The features that are on, by their own names (Cargo 1.85 and later).
    let on = std::env::var("CARGO_CFG_FEATURE").unwrap_or_default();
    let on: Vec<&str> = on.split(',').filter(|f| !f.is_empty()).collect();

    let mut names: Vec<String> = manifest
        .get("features")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flatten()
        .filter(|(name, value)| {
            let enables = value.as_array().map(|v| v.iter().filter_map(toml::Value::as_str));
            enables.is_some_and(|mut v| {
                v.next() == Some(&format!("dep:nativeauth-{name}")) && v.next().is_none()
            })
        })
        .map(|(name, _)| name.clone())
        .filter(|name| !NOT_PROVIDERS.contains(&name.as_str()) && on.contains(&name.as_str()))
        .collect();
    names.sort();

    let mut uses = String::new();
    let mut ids = String::new();
    let mut crates = String::new();
    for name in &names {
        let module = name.replace('-', "_");
        let _ = writeln!(uses, "    #[doc(inline)]\n    pub use nativeauth_{module} as {module};");
        let _ = writeln!(ids, "    nativeauth_{module}::ID,");
        let _ = writeln!(crates, "    \"{name}\",");
    }
    let code = format!(
        "/// The built-in provider crates this build links (one Cargo feature each, all on by\n\
         /// default). Naming each crate here is what links it.\n\
         pub mod providers {{\n{uses}}}\n\n\
         /// The ids the built-in provider crates of this build register, in name order.\n\
         const BUILTIN_IDS: &[&str] = &[\n{ids}];\n\n\
         /// The provider features that are on in this build (for the registry test).\n\
         #[doc(hidden)]\n\
         pub const BUILTIN_CRATES: &[&str] = &[\n{crates}];\n"
    );
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(std::path::Path::new(&out).join("providers.rs"), code)
        .expect("OUT_DIR is writable");
}
