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

/// The top-level modules of a crate that `text` names: `crate::m` and every `m` of
/// `crate::{m, …}`.
fn crate_modules(text: &str) -> BTreeSet<String> {
    let module_name = |text: &str| -> String {
        text.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
    };
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        if text[..at].ends_with('$') {
            continue; // `$crate::` in macros
        }
        let rest = &text[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            // `crate::{a, b::{c, d}}`: the first segment of each item of the group.
            Some(group) => {
                let (mut depth, mut item_start) = (0usize, 0);
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            names.insert(module_name(&group[item_start..i]));
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            names.insert(module_name(&group[item_start..i]));
                            item_start = i + 1;
                        }
                        _ => {}
                    }
                }
            }
            None => {
                names.insert(module_name(rest));
            }
        }
    }
    names.retain(|module| {
        module != "self" && module.chars().next().is_some_and(|c| c.is_ascii_lowercase())
    });
    names
}

#[test]
fn core_modules_import_only_the_layers_below_them() {
    // model → (domain, address_policy) → config → net → provider → engine; connect and report
    // sit on the model (connect also on net for TLS); keys (the root key and its derived keys)
    // imports nothing; nothing imports the engine but the crate root. `domain` (host-name and
    // public-suffix rules) and `address_policy` (which addresses may be contacted) are pure
    // rules; `config` is the discovery configuration and the fleet's store trait; `net` is
    // what talks to the network.
    let allowed: &[(&str, &[&str])] = &[
        ("model", &[]),
        ("domain", &[]),
        ("address_policy", &[]),
        ("config", &["model", "domain", "address_policy", "config"]),
        ("net", &["model", "domain", "address_policy", "config", "net"]),
        ("provider", &["model", "config", "net", "provider"]),
        ("engine", &["model", "config", "net", "provider", "engine"]),
        ("connect", &["model", "domain", "net", "connect"]),
        ("report", &["model"]),
        ("keys", &[]),
        ("plugin", &["model", "domain", "address_policy", "config", "net", "provider"]),
        ("fuzzing", &["model"]),
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

/// The top-level modules of a crate a file names: `crate::m`, `crate::{m, …}`, and, in a file
/// at the crate root, `super::m`.
fn named_modules(text: &str, at_root: bool) -> BTreeSet<String> {
    let mut names = crate_modules(text);
    if at_root {
        for (at, _) in text.match_indices("super::") {
            let name: String = text[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                names.insert(name);
            }
        }
    }
    names
}

/// A circle among `graph`'s nodes (a path that comes back to its start), if there is one.
fn find_circle(
    graph: &std::collections::BTreeMap<String, BTreeSet<String>>,
) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut circle = path[start..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// No crate of the workspace has modules that import each other in a circle: each module
/// builds only on modules below it, so any one can be read (and moved) with what it names.
#[test]
fn no_module_imports_come_back_around_in_any_crate() {
    let mut crates = vec![root().join("src")];
    for dir in ["crates", "crates/providers"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let src = entry.unwrap().path().join("src");
            if src.is_dir() {
                crates.push(src);
            }
        }
    }
    let mut checked = 0;
    for src in &crates {
        let mut graph: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
        for file in rust_files(src) {
            let relative = file.strip_prefix(src).unwrap();
            let top = relative.components().next().unwrap().as_os_str().to_str().unwrap();
            let top = top.trim_end_matches(".rs").to_owned();
            if top == "lib" || top == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let at_root = relative.components().count() == 1;
            graph.entry(top.clone()).or_default().extend(named_modules(&text, at_root));
        }
        let modules: BTreeSet<String> = graph.keys().cloned().collect();
        for (module, names) in &mut graph {
            names.retain(|name| name != module && modules.contains(name));
        }
        if let Some(circle) = find_circle(&graph) {
            panic!(
                "{}: modules import each other in a circle: {}",
                src.display(),
                circle.join(" → ")
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} crates checked");
}
