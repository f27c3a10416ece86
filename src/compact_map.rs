//! A small map from strings to values, kept as one sorted vector.
//!
//! Labels, selectors and finding evidence hold a handful of entries each, and there is
//! one of them per object: a `BTreeMap` allocates a node of eleven entries for even one
//! (about 600 bytes), which at 100,000 objects is most of a scan's memory. This map
//! holds exactly its entries ([`litemap`], already built for `url`), and reads, writes
//! and documents itself exactly as a JSON object with sorted keys, as the `BTreeMap`
//! it replaces did.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use litemap::LiteMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A string-keyed map in key order; serialized as a JSON object.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct CompactMap<V>(LiteMap<String, V>);

/// Kubernetes labels (and label selectors of the `matchLabels` form).
pub type Labels = CompactMap<String>;

impl<V> CompactMap<V> {
    /// The value of `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        String: Borrow<Q>,
    {
        self.0.get(key)
    }

    /// Whether `key` is present.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        String: Borrow<Q>,
    {
        self.0.contains_key(key)
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Clone> CompactMap<V> {
    /// A copy as a `BTreeMap`, for APIs that take one (kube's label selectors).
    pub fn to_btree(&self) -> BTreeMap<String, V> {
        self.iter().map(|(key, value)| (key.clone(), value.clone())).collect()
    }
}

impl<V> FromIterator<(String, V)> for CompactMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(entries: I) -> Self {
        Self(entries.into_iter().collect())
    }
}

impl<V> From<BTreeMap<String, V>> for CompactMap<V> {
    fn from(map: BTreeMap<String, V>) -> Self {
        // Already in key order: each entry is appended, none is searched for.
        map.into_iter().collect()
    }
}

impl<V> std::ops::Index<&str> for CompactMap<V> {
    type Output = V;

    fn index(&self, key: &str) -> &V {
        self.get(key).expect("the key is present")
    }
}

// Always an object: litemap itself writes an empty map, or one whose first key is not
// a string, as a sequence.
impl<V: Serialize> Serialize for CompactMap<V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for CompactMap<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, V>::deserialize(deserializer).map(Self::from)
    }
}

impl<V: JsonSchema> JsonSchema for CompactMap<V> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        BTreeMap::<String, V>::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        BTreeMap::<String, V>::schema_id()
    }

    fn inline_schema() -> bool {
        BTreeMap::<String, V>::inline_schema()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        BTreeMap::<String, V>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_like_the_btree_map_it_replaces() {
        let btree: BTreeMap<String, String> =
            [("tier", "web"), ("app", "shop"), ("z", "")].map(|(key, value)| (key.into(), value.into())).into();
        let compact = Labels::from(btree.clone());
        assert_eq!(serde_json::to_string(&compact).expect("serializes"), serde_json::to_string(&btree).expect("ok"));
        assert_eq!(compact.keys().collect::<Vec<_>>(), vec!["app", "tier", "z"]);
        assert_eq!((compact.get("app").map(String::as_str), compact.len()), (Some("shop"), 3));
        // Empty is `{}` (litemap on its own writes `[]`).
        assert_eq!(serde_json::to_string(&Labels::default()).expect("serializes"), "{}");
        let read: Labels = serde_json::from_str(r#"{"b": "2", "a": "1"}"#).expect("an object reads");
        assert_eq!(read.keys().collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(read.to_btree(), [("a".into(), "1".into()), ("b".into(), "2".into())].into());
        assert_eq!(
            serde_json::to_value(schemars::schema_for!(Labels)).expect("a schema"),
            serde_json::to_value(schemars::schema_for!(BTreeMap<String, String>)).expect("a schema")
        );
    }
}
