//! What rule expressions may refer to, derived from the facts JSON Schema, and a walk
//! over compiled CEL that rejects unknown variables and fields at load time.
//!
//! The check is deliberately shallow where CEL is dynamic: results of functions and
//! comprehensions are `Any` and are not checked further. It exists to turn the common
//! mistake (a misspelt field) into a load error instead of a rule that never fires.

use std::collections::{BTreeMap, BTreeSet};

use cel::common::ast::{EntryExpr, Expr};
use cel::parser::Expression;
use serde_json::Value;

/// The shape of a value rules can see.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// An object with known fields.
    Object(BTreeMap<String, Shape>),
    /// A map with arbitrary string keys.
    Map(Box<Shape>),
    /// A list.
    List(Box<Shape>),
    /// A string, number, boolean or null.
    Scalar,
    /// Anything: not checked.
    Any,
}

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
            for (name, shape) in fields {
                match shape {
                    Shape::Object(collection) if collection.contains_key("items") => {
                        let item = match collection.get("items") {
                            Some(Shape::List(item)) => (**item).clone(),
                            _ => Shape::Any,
                        };
                        roots.insert(name.clone(), Shape::List(Box::new(item.clone())));
                        items.insert(name, item);
                    }
                    Shape::Scalar => {}
                    other => {
                        roots.insert(name, other);
                    }
                }
            }
        }
        roots.insert("config".into(), config);
        Self { roots, items }
    }

    /// Variables every expression may use.
    pub fn roots(&self) -> BTreeMap<String, Shape> {
        self.roots.clone()
    }

    /// The shape of one item of a collection.
    pub fn item_shape(&self, collection: &str) -> Option<Shape> {
        self.items.get(collection).cloned()
    }

    /// Collection names.
    pub fn collections(&self) -> Vec<&str> {
        self.items.keys().map(String::as_str).collect()
    }

    /// Checks an expression; returns the collections it reads.
    pub fn check(&self, expression: &Expression, scope: &BTreeMap<String, Shape>) -> Result<BTreeSet<String>, String> {
        let mut walk = Walk { vocabulary: self, scopes: vec![scope.clone()], used: BTreeSet::new() };
        walk.shape_of(expression)?;
        Ok(walk.used)
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
        // Optional values and flattened enums: merge the alternatives' fields.
        let alternatives: Vec<Shape> = ["anyOf", "oneOf", "allOf"]
            .iter()
            .filter_map(|key| schema.get(key).and_then(Value::as_array))
            .flatten()
            .map(|alternative| self.shape(alternative, depth + 1))
            .filter(|shape| *shape != Shape::Scalar)
            .collect();
        let mut fields = BTreeMap::new();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                fields.insert(name.clone(), self.shape(property, depth + 1));
            }
        }
        for alternative in &alternatives {
            if let Shape::Object(more) = alternative {
                for (name, shape) in more {
                    fields.entry(name.clone()).or_insert_with(|| shape.clone());
                }
            }
        }
        if !fields.is_empty() {
            return Shape::Object(fields);
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
            return Shape::List(Box::new(schema.get("items").map_or(Shape::Any, |items| self.shape(items, depth + 1))));
        }
        if types.contains(&"object") {
            return match schema.get("additionalProperties") {
                Some(values @ Value::Object(_)) => Shape::Map(Box::new(self.shape(values, depth + 1))),
                _ => Shape::Map(Box::new(Shape::Any)),
            };
        }
        if types.is_empty() && alternatives.is_empty() { Shape::Any } else { Shape::Scalar }
    }
}

struct Walk<'a> {
    vocabulary: &'a Vocabulary,
    scopes: Vec<BTreeMap<String, Shape>>,
    used: BTreeSet<String>,
}

impl Walk<'_> {
    fn lookup(&mut self, name: &str) -> Result<Shape, String> {
        for (depth, scope) in self.scopes.iter().enumerate().rev() {
            if let Some(shape) = scope.get(name) {
                // Only the outermost scope holds collections; inner ones are loop variables.
                if depth == 0 && self.vocabulary.items.contains_key(name) {
                    self.used.insert(name.to_owned());
                }
                return Ok(shape.clone());
            }
        }
        let mut known: Vec<&str> = self.scopes[0].keys().map(String::as_str).collect();
        known.sort_unstable();
        Err(format!("unknown variable `{name}` (known: {})", known.join(", ")))
    }

    fn shape_of(&mut self, expression: &Expression) -> Result<Shape, String> {
        match &expression.expr {
            Expr::Ident(name) => self.lookup(name),
            Expr::Select(select) => {
                let operand = self.shape_of(&select.operand)?;
                field(&operand, &select.field)
            }
            Expr::Call(call) => {
                // The receiver is checked for its fields; its shape does not matter here.
                if let Some(target) = call.target.as_deref() {
                    self.shape_of(target)?;
                }
                let arguments =
                    call.args.iter().map(|argument| self.shape_of(argument)).collect::<Result<Vec<_>, _>>()?;
                if call.func_name == "_[_]"
                    && let (Some(container), Some(key)) = (arguments.first(), call.args.get(1))
                {
                    return index(container, key);
                }
                Ok(Shape::Any)
            }
            Expr::Comprehension(comprehension) => {
                let range = self.shape_of(&comprehension.iter_range)?;
                let element = match &range {
                    Shape::List(element) => (**element).clone(),
                    Shape::Map(_) | Shape::Object(_) => Shape::Scalar,
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
                        scope.insert(comprehension.iter_var.clone(), Shape::Scalar);
                        scope.insert(second.clone(), value);
                    }
                    None => {
                        scope.insert(comprehension.iter_var.clone(), element);
                    }
                }
                self.shape_of(&comprehension.accu_init)?;
                scope.insert(comprehension.accu_var.clone(), Shape::Any);
                self.scopes.push(scope);
                let checked = [&comprehension.loop_cond, &comprehension.loop_step, &comprehension.result]
                    .into_iter()
                    .try_for_each(|part| self.shape_of(part).map(|_| ()));
                self.scopes.pop();
                checked?;
                Ok(Shape::Any)
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.shape_of(element)?;
                }
                Ok(Shape::List(Box::new(Shape::Any)))
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(entry) = &entry.expr {
                        self.shape_of(&entry.key)?;
                        self.shape_of(&entry.value)?;
                    }
                }
                Ok(Shape::Map(Box::new(Shape::Any)))
            }
            Expr::Struct(structure) => {
                for entry in &structure.entries {
                    if let EntryExpr::StructField(field) = &entry.expr {
                        self.shape_of(&field.value)?;
                    }
                }
                Ok(Shape::Any)
            }
            Expr::Literal(_) => Ok(Shape::Scalar),
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
        Shape::Scalar => Err(format!("`.{name}` on a value that has no fields")),
        Shape::Any => Ok(Shape::Any),
    }
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
