//! Bounds on rules: how large an expression may be, and how much evaluating one may
//! cost. A rule file is data from anyone; it must not crash the scan (deep nesting
//! overflows the parser's stack), exhaust memory (a chain of `replace` doubling a
//! string) or run for minutes (a `map` nested in a `map` over every workload).
//!
//! Size is checked at load, on the source text before it is parsed and on the parsed
//! tree. Cost is an upper-bound count of evaluation steps, estimated from the tree and
//! the sizes of the facts being judged (collection lengths, the longest list and string
//! anywhere in them): each expression is charged its estimate before it runs, so a rule
//! over budget is `not_evaluated` without ever running the expensive part, and the
//! figures never depend on the machine. Published in `docs/writing-rules.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use cel::common::ast::{EntryExpr, Expr, LiteralValue};
use cel::parser::Expression;

/// The longest expression a rule may hold, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// The deepest nesting of brackets (`(`, `[`, `{`) in an expression's source.
pub const MAX_NESTING: usize = 12;
/// The deepest parsed expression tree (a chain of 1,000 `||` is 1,000 deep).
pub const MAX_TREE_DEPTH: usize = 64;
/// What one evaluation of one expression, for one subject, may cost at most.
pub const SUBJECT_BUDGET: u64 = 10_000_000;
/// What one rule may cost over all its subjects.
pub const RULE_BUDGET: u64 = 100_000_000;
/// The longest string an expression may build, in bytes.
pub const MAX_STRING_BYTES: u64 = 16 * 1024 * 1024;

/// Checks an expression's source before it is parsed: length and bracket nesting,
/// ignoring brackets inside string literals.
pub fn check_source(source: &str) -> Result<(), String> {
    if source.len() > MAX_EXPRESSION_BYTES {
        return Err(format!("expression of {} bytes; at most {MAX_EXPRESSION_BYTES} are allowed", source.len()));
    }
    let mut depth = 0_usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for character in source.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if character == '\\' => escaped = true,
            Some(open) if character == open => quote = None,
            Some(_) => {}
            None => match character {
                '\'' | '"' => quote = Some(character),
                '(' | '[' | '{' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(format!("brackets nested more than {MAX_NESTING} deep"));
                    }
                }
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    Ok(())
}

/// Checks the parsed tree's depth without recursing, so that a deep tree is an error
/// rather than a stack overflow in whatever walks it next.
pub fn check_depth(expression: &Expression) -> Result<(), String> {
    let mut pending: Vec<(&Expression, usize)> = vec![(expression, 1)];
    while let Some((node, depth)) = pending.pop() {
        if depth > MAX_TREE_DEPTH {
            return Err(format!("expression nested more than {MAX_TREE_DEPTH} deep (split it, or precompute a fact)"));
        }
        pending.extend(children(node).into_iter().map(|child| (child, depth + 1)));
    }
    Ok(())
}

fn children(node: &Expression) -> Vec<&Expression> {
    match &node.expr {
        Expr::Select(select) => vec![&*select.operand],
        Expr::Call(call) => call.target.as_deref().into_iter().chain(&call.args).collect(),
        Expr::Comprehension(comprehension) => vec![
            &comprehension.iter_range,
            &comprehension.accu_init,
            &comprehension.loop_cond,
            &comprehension.loop_step,
            &comprehension.result,
        ],
        Expr::List(list) => list.elements.iter().collect(),
        Expr::Map(map) => map
            .entries
            .iter()
            .flat_map(|entry| match &entry.expr {
                EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
                EntryExpr::StructField(field) => vec![&field.value],
            })
            .collect(),
        Expr::Struct(structure) => structure
            .entries
            .iter()
            .filter_map(|entry| match &entry.expr {
                EntryExpr::StructField(field) => Some(&field.value),
                EntryExpr::MapEntry(_) => None,
            })
            .collect(),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Vec::new(),
    }
}

/// How large the facts being judged are: what costs are estimated from.
#[derive(Clone, Debug, Default)]
pub struct Sizes {
    /// Items per collection.
    pub collections: BTreeMap<String, u64>,
    /// The longest list or map inside any item.
    pub longest_list: u64,
    /// The longest string anywhere in the facts.
    pub longest_string: u64,
}

/// The estimated cost of one evaluation of an expression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Evaluation steps, an upper bound.
    pub steps: u64,
    /// The longest string it may build, in bytes.
    pub string_bytes: u64,
}

impl Cost {
    /// Why this expression may not run, if it may not.
    pub fn refusal(&self) -> Option<String> {
        if self.steps > SUBJECT_BUDGET {
            Some(format!("~{} steps per subject, the budget is {SUBJECT_BUDGET}", self.steps))
        } else if self.string_bytes > MAX_STRING_BYTES {
            Some(format!("builds strings of up to ~{} bytes, the limit is {MAX_STRING_BYTES}", self.string_bytes))
        } else {
            None
        }
    }
}

/// Estimates the cost of `expression` over facts of `sizes`.
pub fn estimate(expression: &Expression, sizes: &Sizes) -> Cost {
    let mut estimator = Estimator { sizes, loop_variables: Vec::new(), longest_built: 0 };
    let estimate = estimator.of(expression);
    Cost { steps: estimate.steps, string_bytes: estimator.longest_built.max(estimate.string) }
}

/// What an expression's value may be as large as, and what computing it costs.
#[derive(Clone, Copy, Debug)]
struct Estimate {
    steps: u64,
    /// Elements, when it is a list or map.
    list: u64,
    /// Bytes, when it is a string.
    string: u64,
}

struct Estimator<'a> {
    sizes: &'a Sizes,
    /// Names bound by enclosing comprehensions: they shadow collections.
    loop_variables: Vec<BTreeSet<String>>,
    /// The longest string any subexpression may build.
    longest_built: u64,
}

impl Estimator<'_> {
    fn unknown_value(&self, steps: u64) -> Estimate {
        Estimate { steps, list: self.sizes.longest_list, string: self.sizes.longest_string }
    }

    fn of(&mut self, node: &Expression) -> Estimate {
        let estimate = self.of_node(node);
        self.longest_built = self.longest_built.max(estimate.string);
        estimate
    }

    fn of_node(&mut self, node: &Expression) -> Estimate {
        match &node.expr {
            Expr::Literal(LiteralValue::String(text)) => {
                Estimate { steps: 1, list: 0, string: text.inner().len() as u64 }
            }
            Expr::Literal(_) | Expr::Unspecified => Estimate { steps: 1, list: 0, string: 0 },
            Expr::Ident(name) => {
                let shadowed = self.loop_variables.iter().any(|names| names.contains(name));
                match self.sizes.collections.get(name) {
                    Some(items) if !shadowed => Estimate { steps: 1, list: *items, string: self.sizes.longest_string },
                    _ => self.unknown_value(1),
                }
            }
            Expr::Select(select) => {
                let operand = self.of(&select.operand);
                self.unknown_value(operand.steps.saturating_add(1))
            }
            Expr::Call(call) => {
                let target = call.target.as_deref().map(|target| self.of(target));
                let arguments: Vec<Estimate> = call.args.iter().map(|argument| self.of(argument)).collect();
                let steps = arguments.iter().chain(&target).fold(1_u64, |steps, part| steps.saturating_add(part.steps));
                self.call(&call.func_name, target, &arguments, steps)
            }
            Expr::Comprehension(comprehension) => {
                let range = self.of(&comprehension.iter_range);
                let init = self.of(&comprehension.accu_init);
                let mut names: BTreeSet<String> =
                    [comprehension.iter_var.clone(), comprehension.accu_var.clone()].into();
                names.extend(comprehension.iter_var2.clone());
                self.loop_variables.push(names);
                let condition = self.of(&comprehension.loop_cond);
                let step = self.of(&comprehension.loop_step);
                let result = self.of(&comprehension.result);
                self.loop_variables.pop();
                // Each turn runs the condition and the step.
                let per_turn = condition.steps.saturating_add(step.steps);
                let steps = range
                    .steps
                    .saturating_add(init.steps)
                    .saturating_add(range.list.saturating_mul(per_turn))
                    .saturating_add(result.steps);
                Estimate { steps, list: range.list, string: step.string.max(result.string) }
            }
            Expr::List(list) => {
                let elements: Vec<Estimate> = list.elements.iter().map(|element| self.of(element)).collect();
                let steps = elements.iter().fold(1_u64, |steps, element| steps.saturating_add(element.steps));
                let string = elements.iter().map(|element| element.string).max().unwrap_or(0);
                Estimate { steps, list: elements.len() as u64, string }
            }
            Expr::Map(_) | Expr::Struct(_) => {
                let parts: Vec<Estimate> = children(node).into_iter().map(|child| self.of(child)).collect();
                let steps = parts.iter().fold(1_u64, |steps, part| steps.saturating_add(part.steps));
                Estimate {
                    steps,
                    list: parts.len() as u64,
                    string: parts.iter().map(|part| part.string).max().unwrap_or(0),
                }
            }
        }
    }

    /// The cost and size of a call, by what the function does with its inputs.
    fn call(&self, name: &str, target: Option<Estimate>, arguments: &[Estimate], steps: u64) -> Estimate {
        let first = |index: usize| arguments.get(index).copied();
        match name {
            // Grows a string: every character may be replaced by the replacement.
            "replace" => {
                let text = target.or_else(|| first(0)).map_or(0, |text| text.string);
                let replacement = first(if target.is_some() { 1 } else { 2 }).map_or(1, |with| with.string.max(1));
                Estimate { steps: steps.saturating_add(text), list: 0, string: text.saturating_mul(replacement) }
            }
            "_+_" => {
                let (left, right) = (first(0), first(1));
                let string = left.map_or(0, |part| part.string).saturating_add(right.map_or(0, |part| part.string));
                let list = left.map_or(0, |part| part.list).saturating_add(right.map_or(0, |part| part.list));
                Estimate { steps, list, string }
            }
            "join" => {
                let list = target.map_or(0, |list| list.list);
                let string = list.saturating_mul(self.sizes.longest_string.saturating_add(1));
                Estimate { steps: steps.saturating_add(list), list: 0, string }
            }
            "split" => {
                let text = target.map_or(0, |text| text.string);
                Estimate { steps: steps.saturating_add(text), list: text, string: text }
            }
            // Compare as far as the prefix or suffix reaches.
            "startsWith" | "endsWith" => {
                let affix = first(0).map_or(0, |affix| affix.string);
                Estimate { steps: steps.saturating_add(affix), list: 0, string: 0 }
            }
            // Linear in the text they scan.
            "contains" | "indexOf" | "lastIndexOf" | "lowerAscii" | "upperAscii" | "trim" | "substring" | "reverse" => {
                let text = target.map_or(0, |text| text.string);
                Estimate { steps: steps.saturating_add(text), list: 0, string: text }
            }
            // Linear in the list searched.
            "@in" => Estimate { steps: steps.saturating_add(first(1).map_or(0, |list| list.list)), list: 0, string: 0 },
            _ => self.unknown_value(steps),
        }
    }
}

/// What a rule has spent so far, against [`RULE_BUDGET`]; shared by the threads that
/// judge the rule's subjects.
#[derive(Debug, Default)]
pub struct Meter {
    spent: AtomicU64,
}

impl Meter {
    /// Charges `cost` before an evaluation; false when the rule's budget would be
    /// exceeded, and nothing more may run. Whether a rule goes over budget does not
    /// depend on the order subjects are judged in: charges only add up.
    pub fn charge(&self, cost: Cost) -> bool {
        let before = self.spent.fetch_add(cost.steps, Ordering::Relaxed);
        before.saturating_add(cost.steps) <= RULE_BUDGET
    }

    /// True once a charge went over the budget.
    pub fn exhausted(&self) -> bool {
        self.spent() > RULE_BUDGET
    }

    /// Steps charged so far.
    pub fn spent(&self) -> u64 {
        self.spent.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> cel::Program {
        crate::engine::compile(source).expect("compiles")
    }

    #[test]
    fn sources_too_long_or_too_nested_are_refused_before_parsing() {
        assert!(check_source(&"a || ".repeat(2000)).unwrap_err().contains("bytes"));
        let nested = format!("{}true{}", "(".repeat(13), ")".repeat(13));
        assert!(check_source(&nested).unwrap_err().contains("nested more than 12"));
        // Brackets inside strings are text, not nesting.
        assert!(check_source(&format!("x == '{}'", "(".repeat(40))).is_ok());
        assert!(check_source(&format!("{}true{}", "(".repeat(12), ")".repeat(12))).is_ok());
    }

    #[test]
    fn deep_trees_are_refused_without_recursion() {
        // `||` chains are balanced by the parser; `+` chains are not.
        let chain = vec!["1"; 200].join(" + ");
        assert!(check_depth(parse(&chain).expression()).is_err());
        assert!(check_depth(parse("a.b.c == 'x' && size(d) > 1").expression()).is_ok());
    }

    #[test]
    fn nested_iteration_and_growing_strings_are_over_budget() {
        let sizes =
            Sizes { collections: [("workloads".to_owned(), 11_000)].into(), longest_list: 20, longest_string: 200 };
        let nested = parse("workloads.map(a, workloads.map(b, a.subject.name == b.subject.name)).size() > 0");
        assert!(estimate(nested.expression(), &sizes).refusal().is_some());
        let doubling = format!("'ab'{} != ''", ".replace('a', 'aa')".repeat(40));
        let growing = estimate(parse(&doubling).expression(), &sizes);
        assert!(growing.string_bytes > MAX_STRING_BYTES && growing.refusal().is_some(), "{growing:?}");
        // Control: one pass over the workloads is cheap.
        let single = parse("workloads.exists(w, w.subject.name == 'web')");
        assert_eq!(estimate(single.expression(), &sizes).refusal(), None);
    }
}
