//! Facts as CEL values, built straight from the fact structs through serde (no JSON in
//! between), and CEL results as text for messages and evidence.
//!
//! The same serde walk either builds a value ([`to_val`]) or only measures one
//! ([`measure`], for the evaluation budget), so the two can never disagree on the shape.
//! It mirrors `serde_json`'s data model: structs and maps become maps, sequences and
//! tuples lists, unit variants their name, other variants a one-key map.
//!
//! Integers become CEL `int` (as in Kubernetes' own CEL), never `uint`: every
//! non-negative Rust number would otherwise be a `uint`, and `int` and `uint` do not
//! mix in arithmetic (`it.replicas / 2` would fail). Struct field names are borrowed,
//! not copied, as map keys.

use std::collections::{BTreeSet, HashMap};

use cel::Value;
use cel::common::types::{CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString};
use cel::common::value::Val;
use cel::objects::Key;
use serde::Serialize;
use serde::ser::{self, Impossible};

/// A CEL value as the engine binds it: built once per item, shared by every rule.
pub type Item = Box<dyn Val>;

/// Builds the CEL value of anything serializable (a fact, a collection's item, the
/// rule inputs).
pub fn to_val<T: Serialize + ?Sized>(value: &T) -> Item {
    value.serialize(Walker(&mut Builder, None)).unwrap_or_else(|error| Box::new(CelString::from(error.0)))
}

/// [`to_val`] of a struct with only the named fields (the others are neither walked
/// nor built); nested values are built whole.
pub fn to_val_only<T: Serialize + ?Sized>(value: &T, fields: &BTreeSet<String>) -> Item {
    value.serialize(Walker(&mut Builder, Some(fields))).unwrap_or_else(|error| Box::new(CelString::from(error.0)))
}

/// The longest list or map and the longest string inside a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extent {
    /// Entries of the longest list or map.
    pub longest_list: u64,
    /// Bytes of the longest string (map keys do not count).
    pub longest_string: u64,
}

/// Measures a value without building it.
pub fn measure<T: Serialize + ?Sized>(value: &T, extent: &mut Extent) {
    // Measuring cannot fail: every serde type has a size, and `Error` is only raised
    // by `Serialize` impls of types the facts do not hold.
    let _ = value.serialize(Walker(&mut Measurer(extent), None));
}

/// What the serde walk produces at each node.
trait Build {
    type Out;
    type Key;
    fn null(&mut self) -> Self::Out;
    fn bool(&mut self, flag: bool) -> Self::Out;
    fn int(&mut self, number: i64) -> Self::Out;
    fn float(&mut self, number: f64) -> Self::Out;
    fn string(&mut self, text: &str) -> Self::Out;
    fn list(&mut self, items: Vec<Self::Out>) -> Self::Out;
    fn map(&mut self, entries: Vec<(Self::Key, Self::Out)>) -> Self::Out;
    fn field(&mut self, name: &'static str) -> Self::Key;
    fn key(&mut self, name: &str) -> Self::Key;

    fn unsigned(&mut self, number: u64) -> Self::Out {
        match i64::try_from(number) {
            Ok(number) => self.int(number),
            Err(_) => self.float(number as f64),
        }
    }
}

/// Builds `Box<dyn Val>` values.
struct Builder;

impl Build for Builder {
    type Out = Item;
    type Key = CelMapKey<'static>;
    fn null(&mut self) -> Item {
        Box::new(CelNull)
    }
    fn bool(&mut self, flag: bool) -> Item {
        Box::new(CelBool::from(flag))
    }
    fn int(&mut self, number: i64) -> Item {
        Box::new(CelInt::from(number))
    }
    fn float(&mut self, number: f64) -> Item {
        Box::new(CelDouble::from(number))
    }
    fn string(&mut self, text: &str) -> Item {
        Box::new(CelString::from(text.to_owned()))
    }
    fn list(&mut self, items: Vec<Item>) -> Item {
        Box::new(CelList::from(items))
    }
    fn map(&mut self, entries: Vec<(CelMapKey<'static>, Item)>) -> Item {
        Box::new(CelMap::from(entries.into_iter().collect::<HashMap<_, _>>()))
    }
    fn field(&mut self, name: &'static str) -> CelMapKey<'static> {
        CelMapKey::from(name)
    }
    fn key(&mut self, name: &str) -> CelMapKey<'static> {
        CelMapKey::from(name.to_owned())
    }
}

/// Measures instead of building: lists of `()` never allocate.
struct Measurer<'a>(&'a mut Extent);

impl Build for Measurer<'_> {
    type Out = ();
    type Key = ();
    fn null(&mut self) {}
    fn bool(&mut self, _: bool) {}
    fn int(&mut self, _: i64) {}
    fn float(&mut self, _: f64) {}
    fn string(&mut self, text: &str) {
        self.0.longest_string = self.0.longest_string.max(text.len() as u64);
    }
    fn list(&mut self, items: Vec<()>) {
        self.0.longest_list = self.0.longest_list.max(items.len() as u64);
    }
    fn map(&mut self, entries: Vec<((), ())>) {
        self.0.longest_list = self.0.longest_list.max(entries.len() as u64);
    }
    fn field(&mut self, _: &'static str) {}
    fn key(&mut self, _: &str) {}
}

/// A `Serialize` impl refused the value (serde's only way to fail).
#[derive(Debug)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }
}

/// The serde serializer, generic over what it builds; a struct it is given directly
/// keeps only the fields of the set, when there is one.
struct Walker<'b, B>(&'b mut B, Option<&'b BTreeSet<String>>);

/// A list being collected.
struct ListOf<'b, B: Build> {
    builder: &'b mut B,
    items: Vec<B::Out>,
    /// For tuple and struct variants: the variant's name, the key of a one-entry map.
    variant: Option<&'static str>,
}

/// A map or struct being collected.
struct MapOf<'b, B: Build> {
    builder: &'b mut B,
    /// A struct's fields to keep; all when `None`.
    only: Option<&'b BTreeSet<String>>,
    entries: Vec<(B::Key, B::Out)>,
    pending: Option<B::Key>,
    variant: Option<&'static str>,
}

impl<B: Build> ListOf<'_, B> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let item = value.serialize(Walker(&mut *self.builder, None))?;
        self.items.push(item);
        Ok(())
    }

    fn finish(self) -> B::Out {
        let list = self.builder.list(self.items);
        wrap(self.builder, self.variant, list)
    }
}

impl<B: Build> MapOf<'_, B> {
    fn push<T: Serialize + ?Sized>(&mut self, key: B::Key, value: &T) -> Result<(), Error> {
        let value = value.serialize(Walker(&mut *self.builder, None))?;
        self.entries.push((key, value));
        Ok(())
    }

    fn finish(self) -> B::Out {
        let map = self.builder.map(self.entries);
        wrap(self.builder, self.variant, map)
    }
}

/// `{variant: value}` for enum variants that carry data, as `serde_json` writes them.
fn wrap<B: Build>(builder: &mut B, variant: Option<&'static str>, value: B::Out) -> B::Out {
    match variant {
        Some(variant) => {
            let key = builder.field(variant);
            builder.map(vec![(key, value)])
        }
        None => value,
    }
}

impl<'b, B: Build> ser::Serializer for Walker<'b, B> {
    type Ok = B::Out;
    type Error = Error;
    type SerializeSeq = ListOf<'b, B>;
    type SerializeTuple = ListOf<'b, B>;
    type SerializeTupleStruct = ListOf<'b, B>;
    type SerializeTupleVariant = ListOf<'b, B>;
    type SerializeMap = MapOf<'b, B>;
    type SerializeStruct = MapOf<'b, B>;
    type SerializeStructVariant = MapOf<'b, B>;

    fn serialize_bool(self, value: bool) -> Result<B::Out, Error> {
        Ok(self.0.bool(value))
    }
    fn serialize_i8(self, value: i8) -> Result<B::Out, Error> {
        Ok(self.0.int(value.into()))
    }
    fn serialize_i16(self, value: i16) -> Result<B::Out, Error> {
        Ok(self.0.int(value.into()))
    }
    fn serialize_i32(self, value: i32) -> Result<B::Out, Error> {
        Ok(self.0.int(value.into()))
    }
    fn serialize_i64(self, value: i64) -> Result<B::Out, Error> {
        Ok(self.0.int(value))
    }
    fn serialize_u8(self, value: u8) -> Result<B::Out, Error> {
        Ok(self.0.int(value.into()))
    }
    fn serialize_u16(self, value: u16) -> Result<B::Out, Error> {
        Ok(self.0.int(value.into()))
    }
    fn serialize_u32(self, value: u32) -> Result<B::Out, Error> {
        Ok(self.0.int(value.into()))
    }
    fn serialize_u64(self, value: u64) -> Result<B::Out, Error> {
        Ok(self.0.unsigned(value))
    }
    fn serialize_f32(self, value: f32) -> Result<B::Out, Error> {
        Ok(self.0.float(value.into()))
    }
    fn serialize_f64(self, value: f64) -> Result<B::Out, Error> {
        Ok(self.0.float(value))
    }
    fn serialize_char(self, value: char) -> Result<B::Out, Error> {
        Ok(self.0.string(value.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, value: &str) -> Result<B::Out, Error> {
        Ok(self.0.string(value))
    }
    fn serialize_bytes(self, value: &[u8]) -> Result<B::Out, Error> {
        let items = value.iter().map(|byte| self.0.int((*byte).into())).collect();
        Ok(self.0.list(items))
    }
    fn serialize_none(self) -> Result<B::Out, Error> {
        Ok(self.0.null())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<B::Out, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<B::Out, Error> {
        Ok(self.0.null())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<B::Out, Error> {
        Ok(self.0.null())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<B::Out, Error> {
        Ok(self.0.string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<B::Out, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<B::Out, Error> {
        let inner = value.serialize(Walker(&mut *self.0, None))?;
        Ok(wrap(self.0, Some(variant), inner))
    }
    fn serialize_seq(self, length: Option<usize>) -> Result<ListOf<'b, B>, Error> {
        Ok(ListOf { builder: self.0, items: Vec::with_capacity(length.unwrap_or(0)), variant: None })
    }
    fn serialize_tuple(self, length: usize) -> Result<ListOf<'b, B>, Error> {
        self.serialize_seq(Some(length))
    }
    fn serialize_tuple_struct(self, _: &'static str, length: usize) -> Result<ListOf<'b, B>, Error> {
        self.serialize_seq(Some(length))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        length: usize,
    ) -> Result<ListOf<'b, B>, Error> {
        Ok(ListOf { builder: self.0, items: Vec::with_capacity(length), variant: Some(variant) })
    }
    fn serialize_map(self, length: Option<usize>) -> Result<MapOf<'b, B>, Error> {
        let entries = Vec::with_capacity(length.unwrap_or(0));
        Ok(MapOf { builder: self.0, only: None, entries, pending: None, variant: None })
    }
    fn serialize_struct(self, _: &'static str, length: usize) -> Result<MapOf<'b, B>, Error> {
        let length = self.1.map_or(length, BTreeSet::len);
        Ok(MapOf { builder: self.0, only: self.1, entries: Vec::with_capacity(length), pending: None, variant: None })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        length: usize,
    ) -> Result<MapOf<'b, B>, Error> {
        let entries = Vec::with_capacity(length);
        Ok(MapOf { builder: self.0, only: None, entries, pending: None, variant: Some(variant) })
    }
}

macro_rules! items {
    ($($trait:ident :: $method:ident),*) => {$(
        impl<B: Build> ser::$trait for ListOf<'_, B> {
            type Ok = B::Out;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Result<B::Out, Error> {
                Ok(self.finish())
            }
        }
    )*};
}

items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<B: Build> ser::SerializeMap for MapOf<'_, B> {
    type Ok = B::Out;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.pending = Some(key.serialize(KeyWalker(&mut *self.builder))?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.pending.take().ok_or_else(|| Error("a map value without its key".into()))?;
        self.push(key, value)
    }
    fn end(self) -> Result<B::Out, Error> {
        Ok(self.finish())
    }
}

macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl<B: Build> ser::$trait for MapOf<'_, B> {
            type Ok = B::Out;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result<(), Error> {
                if self.only.is_some_and(|only| !only.contains(name)) {
                    return Ok(());
                }
                let key = self.builder.field(name);
                self.push(key, value)
            }
            fn end(self) -> Result<B::Out, Error> {
                Ok(self.finish())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

fn not_a_key<T>() -> Result<T, Error> {
    Err(Error("a map key must be a string".into()))
}

/// Map keys: strings, and numbers and booleans written as strings (as `serde_json` does).
struct KeyWalker<'b, B>(&'b mut B);

impl<B: Build> KeyWalker<'_, B> {
    #[allow(clippy::unnecessary_wraps)] // Every caller returns it as a serializer result.
    fn text(self, text: &str) -> Result<B::Key, Error> {
        Ok(self.0.key(text))
    }
}

impl<B: Build> ser::Serializer for KeyWalker<'_, B> {
    type Ok = B::Key;
    type Error = Error;
    type SerializeSeq = Impossible<B::Key, Error>;
    type SerializeTuple = Impossible<B::Key, Error>;
    type SerializeTupleStruct = Impossible<B::Key, Error>;
    type SerializeTupleVariant = Impossible<B::Key, Error>;
    type SerializeMap = Impossible<B::Key, Error>;
    type SerializeStruct = Impossible<B::Key, Error>;
    type SerializeStructVariant = Impossible<B::Key, Error>;

    fn serialize_bool(self, value: bool) -> Result<B::Key, Error> {
        self.text(&value.to_string())
    }
    fn serialize_i8(self, value: i8) -> Result<B::Key, Error> {
        self.text(&value.to_string())
    }
    fn serialize_i16(self, value: i16) -> Result<B::Key, Error> {
        self.text(&value.to_string())
    }
    fn serialize_i32(self, value: i32) -> Result<B::Key, Error> {
        self.text(&value.to_string())
    }
    fn serialize_i64(self, value: i64) -> Result<B::Key, Error> {
        self.text(&value.to_string())
    }
    fn serialize_u8(self, value: u8) -> Result<B::Key, Error> {
        self.text(&value.to_string())
    }
    fn serialize_u16(self, value: u16) -> Result<B::Key, Error> {
        self.text(&value.to_string())
    }
    fn serialize_u32(self, value: u32) -> Result<B::Key, Error> {
        self.text(&value.to_string())
    }
    fn serialize_u64(self, value: u64) -> Result<B::Key, Error> {
        self.text(&value.to_string())
    }
    fn serialize_f32(self, _: f32) -> Result<B::Key, Error> {
        not_a_key()
    }
    fn serialize_f64(self, _: f64) -> Result<B::Key, Error> {
        not_a_key()
    }
    fn serialize_char(self, value: char) -> Result<B::Key, Error> {
        self.text(value.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, value: &str) -> Result<B::Key, Error> {
        self.text(value)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<B::Key, Error> {
        not_a_key()
    }
    fn serialize_none(self) -> Result<B::Key, Error> {
        not_a_key()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<B::Key, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<B::Key, Error> {
        not_a_key()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<B::Key, Error> {
        not_a_key()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<B::Key, Error> {
        Ok(self.0.field(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<B::Key, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<B::Key, Error> {
        not_a_key()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        not_a_key()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        not_a_key()
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        not_a_key()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        not_a_key()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        not_a_key()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        not_a_key()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        not_a_key()
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
    fn a_struct_can_be_built_with_only_some_fields() {
        #[derive(Serialize)]
        struct Fact {
            read: Inner,
            unread: Vec<String>,
        }
        #[derive(Serialize)]
        struct Inner {
            kept: bool,
            also_kept: i64,
        }
        let fact = Fact { read: Inner { kept: true, also_kept: 2 }, unread: vec!["x".into()] };
        let only: BTreeSet<String> = ["read".to_owned()].into();
        let built = to_val_only(&fact, &only);
        let value: Value = built.as_ref().try_into().expect("a built value converts");
        // The named fields whole, nested ones included; nothing of the others.
        assert_eq!(to_json(&value), serde_json::json!({"read": {"kept": true, "also_kept": 2}}));
        assert_eq!(round_trip(&fact), serde_json::json!({"read": {"kept": true, "also_kept": 2}, "unread": ["x"]}));
    }

    /// The value as CEL results come back: `Box<dyn Val>` → `Value` → JSON.
    fn round_trip<T: Serialize>(value: &T) -> serde_json::Value {
        let built = to_val(value);
        let value: Value = built.as_ref().try_into().expect("a built value converts");
        to_json(&value)
    }

    #[test]
    fn integers_are_signed_so_arithmetic_works() {
        let value: Value = to_val(&3_u32).as_ref().try_into().expect("converts");
        assert_eq!(value, Value::Int(3));
        let value: Value = to_val(&1.5_f64).as_ref().try_into().expect("converts");
        assert_eq!(value, Value::Float(1.5));
    }

    #[test]
    fn values_follow_the_json_data_model() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        enum Mode {
            Plain,
            Tagged(u8),
            Pair(u8, bool),
            Named { depth: i8 },
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Sample {
            name: &'static str,
            labels: std::collections::BTreeMap<u16, &'static str>,
            missing: Option<u8>,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
            modes: Vec<Mode>,
            #[serde(flatten)]
            extra: std::collections::BTreeMap<&'static str, bool>,
        }
        let sample = Sample {
            name: "web",
            labels: [(7, "seven")].into(),
            missing: None,
            skipped: None,
            modes: vec![Mode::Plain, Mode::Tagged(1), Mode::Pair(2, true), Mode::Named { depth: -3 }],
            extra: [("flat", true)].into(),
        };
        assert_eq!(round_trip(&sample), serde_json::to_value(&sample).expect("serializes"));
        let mut extent = Extent::default();
        measure(&sample, &mut extent);
        assert_eq!(extent, Extent { longest_list: 5, longest_string: 5 });
        // Past `i64`, a number is a double (CEL has no wider int), as JSON numbers were.
        let huge: Value = to_val(&u64::MAX).as_ref().try_into().expect("converts");
        assert_eq!(huge, Value::Float(u64::MAX as f64));
    }

    #[test]
    fn text_joins_lists_and_sorts_maps() {
        let value: Value = to_val(&serde_json::json!({"b": 1, "a": ["x", "y"]})).as_ref().try_into().expect("converts");
        assert_eq!(to_text(&value), r#"{"a":["x","y"],"b":1}"#);
        let list: Value = to_val(&["x", "y"]).as_ref().try_into().expect("converts");
        assert_eq!(to_text(&list), "x, y");
    }
}
