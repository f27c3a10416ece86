//! What rule expressions may refer to, derived from the facts JSON Schema, and a walk
//! over compiled CEL that rejects, at load time: unknown variables and fields, unknown
//! functions, a comparison of a closed-set field (an enum of the facts) with a value
//! outside the set, and conditions that cannot be boolean.
//!
//! The check is deliberately shallow where CEL is dynamic: what it cannot tell is `Any`
//! and is not checked further. It exists to turn the common mistakes (a misspelt field,
//! value or function) into load errors instead of rules that pass or never fire.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr, LiteralValue, SelectExpr};
use cel::parser::Expression;
use serde_json::Value;

/// The shape of a value rules can see.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// An object with known fields.
    Object(Arc<BTreeMap<String, Shape>>),
    /// A map with arbitrary string keys.
    Map(Arc<Shape>),
    /// A list.
    List(Arc<Shape>),
    /// A string from a closed set: a Rust enum of the facts.
    Enum(Arc<BTreeSet<String>>),
    /// A string, number, boolean or null.
    Scalar(Scalar),
    /// Anything: not checked.
    Any,
}

/// What kind of scalar a value is, as far as the schema tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    /// `true` or `false`.
    Boolean,
    /// A string.
    Text,
    /// An integer or a double.
    Number,
    /// `null`.
    Null,
    /// A scalar of a kind the schema does not pin down.
    Unknown,
}

impl Shape {
    /// True when a value of this shape can never be a boolean: what a condition
    /// (`require`, `when`, `unknown`) must be.
    pub fn is_never_boolean(&self) -> bool {
        match self {
            Self::Object(_) | Self::Map(_) | Self::List(_) | Self::Enum(_) => true,
            Self::Scalar(kind) => matches!(kind, Scalar::Text | Scalar::Number | Scalar::Null),
            Self::Any => false,
        }
    }

    /// A name for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Object(_) | Self::Map(_) => "a map",
            Self::List(_) => "a list",
            Self::Enum(_) | Self::Scalar(Scalar::Text) => "a string",
            Self::Scalar(Scalar::Number) => "a number",
            Self::Scalar(Scalar::Null) => "null",
            Self::Scalar(Scalar::Boolean) => "a boolean",
            Self::Scalar(Scalar::Unknown) | Self::Any => "a value",
        }
    }
}

/// Functions rules may call: CEL's standard library and the strings extension, as the
/// `cel` crate registers them (a test runs each in the environment; `matches` is not
/// here because the crate is built without its regex feature). Macros
/// (`has`, `all`, `exists`, `exists_one`, `map`, `filter`) are expanded by the parser.
pub const FUNCTIONS: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "bytes",
    "type",
    "dyn",
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "replace",
    "split",
    "substring",
    "trim",
    "join",
    "reverse",
    // Optional values (`m[?k]`, `m.?f`) and their accessors.
    "orValue",
    "hasValue",
    "value",
    "or",
    "optional.of",
    "optional.none",
    "optional.ofNonZeroValue",
];

/// The variables rules may use: `cluster`, `config`, every collection (as a list of
/// its items) and, in `each` rules, `it`.
pub struct Vocabulary {
    roots: BTreeMap<String, Shape>,
    items: BTreeMap<String, Shape>,
}

impl Vocabulary {
    /// Builds the vocabulary from the facts schema and the schema of what rules see of
    /// the configuration.
    pub fn new(facts_schema: &Value, config_schema: &Value) -> Self {
        let facts = Converter { root: facts_schema }.shape(facts_schema, 0);
        let config = Converter { root: config_schema }.shape(config_schema, 0);
        let mut roots = BTreeMap::new();
        let mut items = BTreeMap::new();
        if let Shape::Object(fields) = facts {
            for (name, shape) in Arc::unwrap_or_clone(fields) {
                match shape {
                    Shape::Object(collection) if collection.contains_key("items") => {
                        let item = match collection.get("items") {
                            Some(Shape::List(item)) => (**item).clone(),
                            _ => Shape::Any,
                        };
                        roots.insert(name.clone(), Shape::List(Arc::new(item.clone())));
                        items.insert(name, item);
                    }
                    Shape::Scalar(_) | Shape::Enum(_) => {}
                    other => {
                        roots.insert(name, other);
                    }
                }
            }
        }
        roots.insert("config".into(), config);
        Self { roots, items }
    }

    /// The shape of one item of a collection.
    pub fn item_shape(&self, collection: &str) -> Option<Shape> {
        self.items.get(collection).cloned()
    }

    /// Collection names.
    pub fn collections(&self) -> Vec<&str> {
        self.items.keys().map(String::as_str).collect()
    }

    /// Checks an expression where `it` (if any) has the given shape; returns what it
    /// reads and the shape of its value.
    pub fn check(&self, expression: &Expression, it: Option<&Shape>) -> Result<(Reads, Shape), String> {
        let mut walk = Walk { vocabulary: self, it, loops: Vec::new(), reads: Reads::default() };
        let shape = walk.shape_of(expression)?;
        Ok((walk.reads, shape))
    }
}

/// Turns JSON Schema (as schemars writes it) into [`Shape`]s.
struct Converter<'a> {
    root: &'a Value,
}

impl Converter<'_> {
    fn shape(&self, schema: &Value, depth: usize) -> Shape {
        if depth > 32 {
            return Shape::Any;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target =
                reference.strip_prefix("#/").map(|path| path.split('/').try_fold(self.root, |node, key| node.get(key)));
            return match target.flatten() {
                Some(target) => self.shape(target, depth + 1),
                None => Shape::Any,
            };
        }
        if let Some(values) = closed_set(schema) {
            return Shape::Enum(Arc::new(values));
        }
        // Optional values and flattened enums: merge the alternatives' fields.
        let alternatives: Vec<Shape> = ["anyOf", "oneOf", "allOf"]
            .iter()
            .filter_map(|key| schema.get(key).and_then(Value::as_array))
            .flatten()
            .map(|alternative| self.shape(alternative, depth + 1))
            .filter(|shape| !matches!(shape, Shape::Scalar(Scalar::Null)))
            .collect();
        let mut fields = BTreeMap::new();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                fields.insert(name.clone(), self.shape(property, depth + 1));
            }
        }
        for alternative in &alternatives {
            if let Shape::Object(more) = alternative {
                for (name, shape) in more.iter() {
                    fields.entry(name.clone()).or_insert_with(|| shape.clone());
                }
            }
        }
        if !fields.is_empty() {
            return Shape::Object(Arc::new(fields));
        }
        if let [only] = alternatives.as_slice() {
            return only.clone();
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Value::String(name)) => vec![name.as_str()],
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"array") {
            return Shape::List(Arc::new(schema.get("items").map_or(Shape::Any, |items| self.shape(items, depth + 1))));
        }
        if types.contains(&"object") {
            return match schema.get("additionalProperties") {
                Some(values @ Value::Object(_)) => Shape::Map(Arc::new(self.shape(values, depth + 1))),
                _ => Shape::Map(Arc::new(Shape::Any)),
            };
        }
        let kinds: BTreeSet<&str> = types.iter().copied().filter(|kind| *kind != "null").collect();
        match kinds.iter().copied().collect::<Vec<_>>().as_slice() {
            [] if types.contains(&"null") => Shape::Scalar(Scalar::Null),
            [] if alternatives.is_empty() => Shape::Any,
            ["boolean"] => Shape::Scalar(Scalar::Boolean),
            ["string"] => Shape::Scalar(Scalar::Text),
            ["integer" | "number"] => Shape::Scalar(Scalar::Number),
            _ => Shape::Scalar(Scalar::Unknown),
        }
    }
}

/// The values of a closed set of strings, as schemars writes a Rust enum: `enum: [...]`,
/// or `oneOf` alternatives that are each a `const` (when the variants are documented).
fn closed_set(schema: &Value) -> Option<BTreeSet<String>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.iter().map(|value| value.as_str().map(str::to_owned)).collect();
    }
    let alternatives = schema.get("oneOf").and_then(Value::as_array)?;
    alternatives.iter().map(|alternative| alternative.get("const")?.as_str().map(str::to_owned)).collect()
}

/// What expressions read: the collections they read as a whole, and the top-level
/// fields of the subject (`it`), so that subjects' values hold only those.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// Collections read as a whole (`pdbs.exists(…)`).
    pub collections: BTreeSet<String>,
    /// The fields of `it` read (`it.image.reference` reads `image`); `None` when `it`
    /// is read whole (`it == x`, `it["image"]`, passed to a function).
    pub subject_fields: Option<BTreeSet<String>>,
}

impl Reads {
    /// What `self` or `other` reads.
    pub fn extend(&mut self, other: Reads) {
        self.collections.extend(other.collections);
        self.subject_fields = match (self.subject_fields.take(), other.subject_fields) {
            (Some(mut fields), Some(more)) => {
                fields.extend(more);
                Some(fields)
            }
            _ => None,
        };
    }
}

impl Default for Reads {
    fn default() -> Self {
        Self { collections: BTreeSet::new(), subject_fields: Some(BTreeSet::new()) }
    }
}

struct Walk<'a> {
    vocabulary: &'a Vocabulary,
    /// The subject's shape, for rules with `each`.
    it: Option<&'a Shape>,
    /// The variables of the comprehensions being walked, innermost last.
    loops: Vec<BTreeMap<String, Shape>>,
    reads: Reads,
}

impl Walk<'_> {
    /// Whether `name` is the subject here (not a loop variable of that name).
    fn is_subject(&self, name: &str) -> bool {
        name == "it" && self.it.is_some() && !self.loops.iter().any(|scope| scope.contains_key(name))
    }

    fn lookup(&mut self, name: &str) -> Result<Shape, String> {
        // Loop variables shadow `it` and the roots.
        if let Some(shape) = self.loops.iter().rev().find_map(|scope| scope.get(name)) {
            return Ok(shape.clone());
        }
        if let (Some(it), "it") = (self.it, name) {
            // Reached as a whole; `it.field` is read through `Expr::Select` instead.
            self.reads.subject_fields = None;
            return Ok(it.clone());
        }
        if let Some(shape) = self.vocabulary.roots.get(name) {
            if self.vocabulary.items.contains_key(name) {
                self.reads.collections.insert(name.to_owned());
            }
            return Ok(shape.clone());
        }
        let mut known: Vec<&str> = self.vocabulary.roots.keys().map(String::as_str).collect();
        if self.it.is_some() {
            known.push("it");
        }
        known.sort_unstable();
        Err(format!("unknown variable `{name}` (known: {})", known.join(", ")))
    }

    /// `x.f`, or `has(x.f)`; `it.f` reads the subject's field `f`, not all of it.
    fn select(&mut self, select: &SelectExpr) -> Result<Shape, String> {
        let operand = match &select.operand.expr {
            Expr::Ident(name) if self.is_subject(name) => {
                if let Some(fields) = &mut self.reads.subject_fields {
                    fields.insert(select.field.clone());
                }
                self.it.cloned().unwrap_or(Shape::Any)
            }
            _ => self.shape_of(&select.operand)?,
        };
        let shape = field(&operand, &select.field)?;
        // `has(x.f)` is a test: a boolean whatever the field holds.
        Ok(if select.test { Shape::Scalar(Scalar::Boolean) } else { shape })
    }

    fn shape_of(&mut self, expression: &Expression) -> Result<Shape, String> {
        match &expression.expr {
            Expr::Ident(name) => self.lookup(name),
            Expr::Select(select) => self.select(select),
            Expr::Call(call) => {
                // The receiver is checked for its fields; its shape does not matter here.
                if let Some(target) = call.target.as_deref() {
                    self.shape_of(target)?;
                }
                let arguments =
                    call.args.iter().map(|argument| self.shape_of(argument)).collect::<Result<Vec<_>, _>>()?;
                match call.func_name.as_str() {
                    "_[_]" => match (arguments.first(), call.args.get(1)) {
                        (Some(container), Some(key)) => index(container, key),
                        _ => Ok(Shape::Any),
                    },
                    "_==_" | "_!=_" => {
                        compared(&arguments, &call.args)?;
                        Ok(Shape::Scalar(Scalar::Boolean))
                    }
                    "@in" => {
                        member_of(&arguments, &call.args)?;
                        Ok(Shape::Scalar(Scalar::Boolean))
                    }
                    "_?_:_" => Ok(arguments.get(1).cloned().unwrap_or(Shape::Any)),
                    name => result_of(name),
                }
            }
            Expr::Comprehension(comprehension) => {
                let range = self.shape_of(&comprehension.iter_range)?;
                let element = match &range {
                    Shape::List(element) => (**element).clone(),
                    Shape::Map(_) | Shape::Object(_) => Shape::Scalar(Scalar::Text),
                    _ => Shape::Any,
                };
                let mut scope = BTreeMap::new();
                match &comprehension.iter_var2 {
                    Some(second) => {
                        let value = match &range {
                            Shape::Map(value) => (**value).clone(),
                            Shape::List(element) => (**element).clone(),
                            _ => Shape::Any,
                        };
                        scope.insert(comprehension.iter_var.clone(), Shape::Scalar(Scalar::Unknown));
                        scope.insert(second.clone(), value);
                    }
                    None => {
                        scope.insert(comprehension.iter_var.clone(), element);
                    }
                }
                // Macros start from a literal: `all`/`exists` from a boolean, `exists_one`
                // from a count, `map`/`filter` from a list.
                let accumulator = self.shape_of(&comprehension.accu_init)?;
                scope.insert(comprehension.accu_var.clone(), Shape::Any);
                self.loops.push(scope);
                let checked = [&comprehension.loop_cond, &comprehension.loop_step, &comprehension.result]
                    .into_iter()
                    .try_for_each(|part| self.shape_of(part).map(|_| ()));
                self.loops.pop();
                checked?;
                Ok(match accumulator {
                    // `exists_one` counts, then compares: a boolean too.
                    Shape::Scalar(Scalar::Boolean | Scalar::Number) => Shape::Scalar(Scalar::Boolean),
                    Shape::List(_) => Shape::List(Arc::new(Shape::Any)),
                    _ => Shape::Any,
                })
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.shape_of(element)?;
                }
                Ok(Shape::List(Arc::new(Shape::Any)))
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.shape_of(&entry.key)?;
                        self.shape_of(&entry.value)?;
                    }
                }
                Ok(Shape::Map(Arc::new(Shape::Any)))
            }
            Expr::Struct(structure) => {
                for entry in &structure.entries {
                    if let EntryExpr::StructField(field) = &entry.expr {
                        self.shape_of(&field.value)?;
                    }
                }
                Ok(Shape::Any)
            }
            Expr::Literal(literal) => Ok(Shape::Scalar(match literal {
                LiteralValue::Boolean(_) => Scalar::Boolean,
                LiteralValue::String(_) | LiteralValue::Bytes(_) => Scalar::Text,
                LiteralValue::Double(_) | LiteralValue::Int(_) | LiteralValue::UInt(_) => Scalar::Number,
                LiteralValue::Null => Scalar::Null,
            })),
            Expr::Unspecified => Ok(Shape::Any),
        }
    }
}

fn field(operand: &Shape, name: &str) -> Result<Shape, String> {
    match operand {
        Shape::Object(fields) => fields.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = fields.keys().map(String::as_str).collect();
            format!("unknown field `{name}` (known: {})", known.join(", "))
        }),
        Shape::Map(value) => Ok((**value).clone()),
        Shape::List(_) => Err(format!("`.{name}` on a list: lists have no fields")),
        Shape::Scalar(_) | Shape::Enum(_) => Err(format!("`.{name}` on a value that has no fields")),
        Shape::Any => Ok(Shape::Any),
    }
}

/// The shape of a function's or operator's result; an unknown function is an error.
fn result_of(name: &str) -> Result<Shape, String> {
    Ok(match name {
        "_&&_" | "_||_" | "!_" | "_<_" | "_<=_" | "_>_" | "_>=_" | "@not_strictly_false" => {
            Shape::Scalar(Scalar::Boolean)
        }
        "contains" | "startsWith" | "endsWith" | "bool" => Shape::Scalar(Scalar::Boolean),
        "_-_" | "_*_" | "_/_" | "_%_" | "-_" | "size" | "int" | "uint" | "double" | "indexOf" | "lastIndexOf" => {
            Shape::Scalar(Scalar::Number)
        }
        "string" | "lowerAscii" | "upperAscii" | "replace" | "substring" | "trim" | "charAt" | "join" | "bytes" => {
            Shape::Scalar(Scalar::Text)
        }
        "split" => Shape::List(Arc::new(Shape::Scalar(Scalar::Text))),
        // `+` adds numbers, joins strings and concatenates lists: never a boolean.
        "_+_" => Shape::Scalar(Scalar::Unknown),
        name if name.starts_with('_') || name.starts_with('@') || FUNCTIONS.contains(&name) => Shape::Any,
        name => {
            return Err(format!("unknown function `{name}` (rules may call: {})", FUNCTIONS.join(", ")));
        }
    })
}

/// The string literal an expression is, if it is one.
fn string_literal(expression: &Expression) -> Option<&str> {
    match &expression.expr {
        Expr::Literal(LiteralValue::String(text)) => Some(text.inner()),
        _ => None,
    }
}

fn outside(values: &BTreeSet<String>, literal: &str) -> String {
    let allowed: Vec<String> = values.iter().map(|value| format!("'{value}'")).collect();
    format!("compares a closed-set field with '{literal}', which it never holds (allowed: {})", allowed.join(", "))
}

/// `a == 'x'` / `a != 'x'` where `a` is an enum: `'x'` must be one of its values.
fn compared(shapes: &[Shape], arguments: &[Expression]) -> Result<(), String> {
    for (shape, other) in [(shapes.first(), arguments.get(1)), (shapes.get(1), arguments.first())] {
        if let (Some(Shape::Enum(values)), Some(literal)) = (shape, other.and_then(string_literal))
            && !values.contains(literal)
        {
            return Err(outside(values, literal));
        }
    }
    Ok(())
}

/// `a in ['x', 'y']` where `a` is an enum: every listed string must be one of its values.
fn member_of(shapes: &[Shape], arguments: &[Expression]) -> Result<(), String> {
    let (Some(Shape::Enum(values)), Some(list)) = (shapes.first(), arguments.get(1)) else { return Ok(()) };
    if let Expr::List(list) = &list.expr {
        for literal in list.elements.iter().filter_map(string_literal) {
            if !values.contains(literal) {
                return Err(outside(values, literal));
            }
        }
    }
    Ok(())
}

fn index(container: &Shape, key: &Expression) -> Result<Shape, String> {
    match container {
        Shape::List(element) => Ok((**element).clone()),
        Shape::Map(value) => Ok((**value).clone()),
        Shape::Object(_) => match &key.expr {
            Expr::Literal(cel::common::ast::LiteralValue::String(name)) => field(container, name.inner()),
            _ => Ok(Shape::Any),
        },
        _ => Ok(Shape::Any),
    }
}

#[cfg(test)]
mod tests {
    use super::FUNCTIONS;

    /// One call of every function rules may use: each must run in seaworthy's
    /// environment, so the list never names a function the evaluator lacks.
    const CALLS: &[(&str, &str)] = &[
        ("size", "size('ab') == 2"),
        ("contains", "'ab'.contains('a')"),
        ("startsWith", "'ab'.startsWith('a')"),
        ("endsWith", "'ab'.endsWith('b')"),
        ("int", "int('1') == 1"),
        ("uint", "uint(1) == 1u"),
        ("double", "double(1) == 1.0"),
        ("string", "string(1) == '1'"),
        ("bool", "bool('true')"),
        ("bytes", "bytes('a') == b'a'"),
        ("type", "type(1) == int"),
        ("dyn", "dyn(1) == 1"),
        ("charAt", "'ab'.charAt(1) == 'b'"),
        ("indexOf", "'ab'.indexOf('b') == 1"),
        ("lastIndexOf", "'abb'.lastIndexOf('b') == 2"),
        ("lowerAscii", "'AB'.lowerAscii() == 'ab'"),
        ("upperAscii", "'ab'.upperAscii() == 'AB'"),
        ("replace", "'ab'.replace('a', 'c') == 'cb'"),
        ("split", "'a,b'.split(',') == ['a', 'b']"),
        ("substring", "'abc'.substring(1) == 'bc'"),
        ("trim", "' a '.trim() == 'a'"),
        ("join", "['a', 'b'].join(',') == 'a,b'"),
        ("reverse", "'ab'.reverse() == 'ba'"),
        ("orValue", "{'a': 1}[?'b'].orValue(2) == 2"),
        ("hasValue", "!{'a': 1}[?'b'].hasValue()"),
        ("value", "{'a': 1}[?'a'].value() == 1"),
        ("or", "{'a': 1}[?'b'].or(optional.of(3)).value() == 3"),
        ("optional.of", "optional.of(1).hasValue()"),
        ("optional.none", "!optional.none().hasValue()"),
        ("optional.ofNonZeroValue", "!optional.ofNonZeroValue(0).hasValue()"),
    ];

    #[test]
    fn every_listed_function_runs_in_the_environment() {
        let listed: Vec<&str> = CALLS.iter().map(|(name, _)| *name).collect();
        assert_eq!(listed, FUNCTIONS, "one call per listed function");
        let context = cel::Context::with_env(super::super::environment());
        for (name, expression) in CALLS {
            let program = super::super::compile(expression).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(program.execute(&context), Ok(cel::Value::Bool(true)), "{name}: {expression}");
        }
    }
}
