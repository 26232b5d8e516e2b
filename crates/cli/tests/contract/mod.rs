//! The JSON contract in `docs/discover-json.md`, checked against what the binary prints.

use serde_json::Value;

/// Fails when `report` has a field that `docs/discover-json.md` does not list.
pub(crate) fn assert_documented(report: &Value) {
    let contract = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/discover-json.md"
    ))
    .expect("docs/discover-json.md is readable");
    let mut paths = Vec::new();
    field_paths(report, "", &mut paths);
    for path in paths {
        // An alternative has the fields of the answer, documented once.
        let short = path.strip_prefix("alternatives[].").unwrap_or(&path);
        assert!(
            contract.contains(&format!("`{path}`")) || contract.contains(&format!("`{short}`")),
            "docs/discover-json.md does not list `{path}`"
        );
    }
}

/// Every field path of `value`: `provider.id`, `incoming[].host`, …
fn field_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                out.push(path.clone());
                field_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                field_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}
