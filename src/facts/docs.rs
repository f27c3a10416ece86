//! `docs/facts.md`: the facts vocabulary rules can use, generated from the JSON Schema
//! of the Rust types (so the documentation cannot drift from the code).

use std::fmt::Write as _;

use serde_json::Value;

/// The Markdown text of `docs/facts.md`.
pub fn markdown() -> String {
    let schema = super::schema();
    let definitions = schema.get("$defs").cloned().unwrap_or_default();
    let resolve = |node: &Value| -> Value {
        match node.get("$ref").and_then(Value::as_str).and_then(|reference| reference.rsplit('/').next()) {
            Some(name) => definitions.get(name).cloned().unwrap_or_default(),
            None => node.clone(),
        }
    };
    let mut out = String::from(
        "# Facts\n\n<!-- Generated from the Rust types; regenerate with `UPDATE_DOCS=1 cargo test`. -->\n\n\
         Rules judge the facts document, a set of named collections (the JSON Schema is \
         `docs/facts.schema.json`; `seaworthy snapshot` writes one). In a rule, `each: <collection>` \
         binds every item to `it`; every expression can also use `cluster`, `config` (what rules see \
         of seaworthy.yaml: `config.allowedRegistries`) and each collection by name as a list.\n\n\
         Every collection has a `status`: `collected`, `notCollected` or `notApplicable` (with a \
         `reason`). A rule that reads a collection that was not collected is `not_evaluated` with that \
         reason, and one reading a collection that is not applicable is `not_applicable`: missing \
         evidence is never a pass.\n",
    );
    let properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    for (name, property) in &properties {
        let resolved = resolve(property);
        let description = property
            .get("description")
            .or_else(|| resolved.get("description"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let item = resolved.pointer("/properties/items/items").map(&resolve);
        let (heading, fields) = match &item {
            Some(item) => (format!("`{name}` (collection)"), item.clone()),
            None if resolved.get("properties").is_some() => (format!("`{name}` (object)"), resolved.clone()),
            None => continue,
        };
        let _ = writeln!(out, "\n## {heading}\n\n{description}\n");
        out.push_str("| Field | Type | Meaning |\n|---|---|---|\n");
        for (field, field_schema) in fields.get("properties").and_then(Value::as_object).into_iter().flatten() {
            let meaning =
                field_schema.get("description").and_then(Value::as_str).unwrap_or_default().replace('\n', " ");
            let _ = writeln!(out, "| `{field}` | {} | {meaning} |", type_name(field_schema, &definitions));
        }
    }
    out
}

/// A short type name: `string`, `list of string`, `map of string`, a definition's name.
fn type_name(schema: &Value, definitions: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or_default();
        let target = definitions.get(name).cloned().unwrap_or_default();
        if let Some(values) = target.get("enum").and_then(Value::as_array) {
            let names: Vec<String> =
                values.iter().filter_map(Value::as_str).map(|value| format!("`{value}`")).collect();
            return names.join(" \\| ");
        }
        return name.to_owned();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
            let names: Vec<String> =
                alternatives.iter().map(|alternative| type_name(alternative, definitions)).collect();
            return names.join(" or ");
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let described: Vec<String> = types
        .iter()
        .map(|kind| match *kind {
            "array" => format!(
                "list of {}",
                schema.get("items").map_or_else(|| "any".to_owned(), |items| type_name(items, definitions))
            ),
            "object" => format!(
                "map of {}",
                schema
                    .get("additionalProperties")
                    .map_or_else(|| "any".to_owned(), |values| type_name(values, definitions))
            ),
            other => other.to_owned(),
        })
        .collect();
    if described.is_empty() { "any".to_owned() } else { described.join(" or ") }
}
