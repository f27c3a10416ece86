//! Facts (JSON) as CEL values, and CEL values as text for messages and evidence.
//!
//! Integers become CEL `int` (as in Kubernetes' own CEL), never `uint`: serde would
//! make every non-negative number a `uint`, and `int` and `uint` do not mix in
//! arithmetic (`it.replicas / 2` would fail).

use std::collections::HashMap;
use std::sync::Arc;

use cel::Value;
use cel::objects::{Key, Map};

/// Converts a JSON value to a CEL value.
pub fn to_cel(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(flag) => Value::Bool(*flag),
        serde_json::Value::Number(number) => {
            number.as_i64().map(Value::Int).or_else(|| number.as_f64().map(Value::Float)).unwrap_or(Value::Null)
        }
        serde_json::Value::String(text) => Value::String(Arc::new(text.clone())),
        serde_json::Value::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        serde_json::Value::Object(fields) => {
            let map: HashMap<Key, Value> =
                fields.iter().map(|(name, value)| (Key::String(Arc::new(name.clone())), to_cel(value))).collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Converts a CEL result back to JSON (for evidence). Maps come out with sorted keys.
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(flag) => (*flag).into(),
        Value::Int(number) => (*number).into(),
        Value::UInt(number) => (*number).into(),
        Value::Float(number) => (*number).into(),
        Value::String(text) => text.as_str().into(),
        Value::List(items) => items.iter().map(to_json).collect(),
        Value::Map(map) => {
            let mut entries: Vec<(String, serde_json::Value)> =
                map.map.iter().map(|(key, value)| (key_text(key), to_json(value))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().collect())
        }
        other => format!("{other:?}").into(),
    }
}

fn key_text(key: &Key) -> String {
    match key {
        Key::Int(number) => number.to_string(),
        Key::Uint(number) => number.to_string(),
        Key::Bool(flag) => flag.to_string(),
        Key::String(text) => text.to_string(),
    }
}

/// Renders a CEL value for a message: strings bare, lists joined with `, `.
pub fn to_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.to_string(),
        Value::List(items) => items.iter().map(to_text).collect::<Vec<_>>().join(", "),
        Value::Null => "null".into(),
        other => match to_json(other) {
            serde_json::Value::String(text) => text,
            json => json.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_signed_so_arithmetic_works() {
        assert_eq!(to_cel(&serde_json::json!(3)), Value::Int(3));
        assert_eq!(to_cel(&serde_json::json!(1.5)), Value::Float(1.5));
    }

    #[test]
    fn text_joins_lists_and_sorts_maps() {
        let value = to_cel(&serde_json::json!({"b": 1, "a": ["x", "y"]}));
        assert_eq!(to_text(&value), r#"{"a":["x","y"],"b":1}"#);
        assert_eq!(to_text(&to_cel(&serde_json::json!(["x", "y"]))), "x, y");
    }
}
