//! A small map from strings to values, kept as one sorted vector.
//!
//! Labels, selectors and finding evidence hold a handful of entries each, and there is
//! one of them per object: a `BTreeMap` allocates a node of eleven entries for even one
//! (about 600 bytes), which at 100,000 objects is most of a scan's memory. This map
//! holds exactly its entries ([`litemap`], already built for `url`), and reads, writes
//! and documents itself exactly as a JSON object with sorted keys, as the `BTreeMap`
//! it replaces did. Keys are `Arc<str>`, so that maps can share them ([`SharedKeys`]).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use litemap::LiteMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A string-keyed map in key order; serialized as a JSON object.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct CompactMap<V>(LiteMap<Arc<str>, V>);

/// Kubernetes labels (and label selectors of the `matchLabels` form).
pub type Labels = CompactMap<String>;

impl<V> CompactMap<V> {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.get(key)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(key, value)| (&**key, value))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(|key| &**key)
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
        self.iter().map(|(key, value)| (key.to_owned(), value.clone())).collect()
    }
}

impl<K: Into<Arc<str>>, V> FromIterator<(K, V)> for CompactMap<V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        Self(entries.into_iter().map(|(key, value)| (key.into(), value)).collect())
    }
}

/// Keys shared between maps: 50,000 workloads label their pods with the same
/// half-dozen keys (`app.kubernetes.io/name`, `helm.sh/chart`, …), each otherwise a
/// string of its own in every map. At most [`SharedKeys::LIMIT`] keys are kept: input
/// with endless distinct keys then costs what it would unshared.
#[derive(Debug, Default)]
pub struct SharedKeys(HashSet<Arc<str>>);

thread_local! {
    /// Projections run on rayon's threads; each thread shares the keys it has seen.
    static THIS_THREAD: std::cell::RefCell<SharedKeys> = std::cell::RefCell::default();
}

impl SharedKeys {
    /// Keys kept for sharing.
    pub const LIMIT: usize = 4096;

    /// `map` with each key replaced by the equal key already shared, if there is one.
    pub fn share<V>(&mut self, map: CompactMap<V>) -> CompactMap<V> {
        CompactMap(map.0.into_iter().map(|(key, value)| (self.key(key), value)).collect())
    }

    /// [`SharedKeys::share`] with the keys this thread has shared so far.
    pub fn share_on_this_thread<V>(map: CompactMap<V>) -> CompactMap<V> {
        THIS_THREAD.with_borrow_mut(|keys| keys.share(map))
    }

    fn key(&mut self, key: Arc<str>) -> Arc<str> {
        if let Some(shared) = self.0.get(&key) {
            return Arc::clone(shared);
        }
        if self.0.len() < Self::LIMIT {
            self.0.insert(Arc::clone(&key));
        }
        key
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
        assert_eq!(compact["tier"], "web");
        assert_eq!(
            serde_json::to_value(schemars::schema_for!(Labels)).expect("a schema"),
            serde_json::to_value(schemars::schema_for!(BTreeMap<String, String>)).expect("a schema")
        );
    }

    #[test]
    fn maps_share_equal_keys_and_keep_their_values() {
        let labels =
            |name: &str| Labels::from_iter([("app.kubernetes.io/name", name.to_owned()), ("tier", "web".into())]);
        let mut keys = SharedKeys::default();
        let (first, second) = (keys.share(labels("shop")), keys.share(labels("cart")));
        let first_key = |labels: &Labels| Arc::clone(labels.0.iter().next().expect("a key").0);
        assert!(Arc::ptr_eq(&first_key(&first), &first_key(&second)));
        assert_eq!(
            (first.get("app.kubernetes.io/name"), second.get("app.kubernetes.io/name")),
            (Some(&"shop".into()), Some(&"cart".into()))
        );
        // Without sharing, equal keys are strings of their own.
        let (third, fourth) = (labels("a"), labels("b"));
        assert!(!Arc::ptr_eq(&first_key(&third), &first_key(&fourth)));
        assert_eq!(first, keys.share(first.clone()));
        // Past the limit, new keys are kept as they are and not remembered.
        let mut full = SharedKeys::default();
        for index in 0..SharedKeys::LIMIT + 10 {
            full.share(Labels::from_iter([(format!("key-{index}"), String::new())]));
        }
        assert_eq!(full.0.len(), SharedKeys::LIMIT);
    }
}
