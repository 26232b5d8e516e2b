//! The layering of `ARCHITECTURE.md`, checked on the tree: a new import that points up a layer,
//! or a product that reaches past the facade, fails here instead of growing into a loop.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level modules of core that `text` names through `crate::<module>`.
fn crate_modules(text: &str) -> BTreeSet<String> {
    text.match_indices("crate::")
        .filter(|(at, _)| !text[..*at].ends_with('$')) // `$crate::` in macros
        .map(|(at, _)| {
            text[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
        })
        .filter(|module: &String| module.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .collect()
}

#[test]
fn core_modules_import_only_the_layers_below_them() {
    // model → net → provider → engine; catalogue, connect and report sit on the model (connect
    // also on net for TLS); keys (the root key and its derived keys) imports nothing; nothing
    // imports the engine but the crate root.
    let allowed: &[(&str, &[&str])] = &[
        ("model", &[]),
        ("net", &["model", "net"]),
        ("provider", &["model", "net", "provider"]),
        ("engine", &["model", "net", "provider", "engine"]),
        ("catalogue", &["model", "catalogue"]),
        ("connect", &["model", "net", "connect"]),
        ("report", &["model"]),
        ("keys", &[]),
        ("plugin", &["model", "net", "provider"]),
        ("fuzzing", &["model", "catalogue"]),
    ];
    let src = root().join("crates/core/src");
    let mut checked = 0;
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str().to_str().unwrap();
        let top = top.trim_end_matches(".rs");
        if top == "lib" {
            continue;
        }
        let (_, allowed) = allowed
            .iter()
            .find(|(module, _)| *module == top)
            .unwrap_or_else(|| panic!("core module {top} is not in the layer map of this test"));
        let text = std::fs::read_to_string(&file).unwrap();
        for used in crate_modules(&text) {
            assert!(
                allowed.contains(&used.as_str()),
                "{}: `{top}` may not import `crate::{used}`",
                relative.display()
            );
        }
        checked += 1;
    }
    assert!(checked > 30, "only {checked} files checked");
}

/// The `nativeauth*` crates a manifest depends on, outside its dev-dependencies.
fn nativeauth_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut section = String::new();
    let mut out = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
        } else if section == "[dependencies]" && line.starts_with("nativeauth") {
            out.insert(line.split(['.', ' ', '=']).next().unwrap().to_owned());
        }
    }
    out
}

#[test]
fn providers_build_on_the_kernel_and_products_on_the_facade() {
    let core = BTreeSet::from(["nativeauth-core".to_owned()]);
    for provider in std::fs::read_dir(root().join("crates/providers")).unwrap() {
        let manifest = provider.unwrap().path().join("Cargo.toml");
        assert_eq!(nativeauth_dependencies(&manifest), core, "{}", manifest.display());
    }
    let facade = BTreeSet::from(["nativeauth".to_owned()]);
    for product in ["crates/cli", "crates/sandbox"] {
        let manifest = root().join(product).join("Cargo.toml");
        assert_eq!(nativeauth_dependencies(&manifest), facade, "{product} uses only the facade");
    }
    // The server may start the sandbox in-process (`--sandbox`), a product beside it.
    let server = BTreeSet::from(["nativeauth".to_owned(), "nativeauth-sandbox".to_owned()]);
    assert_eq!(nativeauth_dependencies(&root().join("crates/server/Cargo.toml")), server);
    assert!(nativeauth_dependencies(&root().join("crates/core/Cargo.toml")).is_empty());
}
