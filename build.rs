//! Derives the facade's list of built-in provider crates from its Cargo features, so that
//! adding a provider crate touches the crate and the root `Cargo.toml` only.
//!
//! The convention: every feature of the facade but those in [`NOT_PROVIDERS`] enables one
//! provider crate, `nativeauth-<feature>` (the crate `nativeauth_<feature>`, in
//! `crates/providers/<feature>`), which has a public `ID` constant. For every such feature that
//! is on, this writes to `$OUT_DIR/providers.rs` the `pub use` that links the crate (and
//! documents it under `nativeauth::providers`), and its id for `builtin_providers`. Only
//! Cargo's own environment is read, so the published facade builds the same.

use std::fmt::Write as _;

/// The facade's features that are not provider crates.
const NOT_PROVIDERS: &[&str] = &["default", "redis"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut names: Vec<String> = std::env::vars()
        .filter_map(|(key, _)| key.strip_prefix("CARGO_FEATURE_").map(str::to_ascii_lowercase))
        .filter(|name| !NOT_PROVIDERS.contains(&name.as_str()))
        .collect();
    names.sort();

    let mut uses = String::new();
    let mut ids = String::new();
    for name in &names {
        let _ = writeln!(uses, "    #[doc(inline)]\n    pub use nativeauth_{name} as {name};");
        let _ = writeln!(ids, "    nativeauth_{name}::ID,");
    }
    let code = format!(
        "/// The built-in provider crates this build links (one Cargo feature each, all on by\n\
         /// default). Naming each crate here is what links it.\n\
         pub mod providers {{\n{uses}}}\n\n\
         /// The ids the built-in provider crates of this build register, in name order.\n\
         const BUILTIN_IDS: &[&str] = &[\n{ids}];\n"
    );
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(std::path::Path::new(&out).join("providers.rs"), code)
        .expect("OUT_DIR is writable");
}
