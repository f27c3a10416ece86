//! Message templates: text with `{{ expression }}` holes, each a CEL expression
//! evaluated in the rule's scope (`it`, collections, `cluster`, `config`).

use std::fmt::Write as _;

use cel::Context;

use super::rule::Condition;
use super::value::to_text;

enum Part {
    Text(String),
    Hole(Condition),
}

/// A parsed message template.
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Splits `text` into text and holes, compiling each hole with `compile`; an
    /// unclosed `{{` becomes the error `unclosed` makes of its description.
    pub fn parse<E>(
        text: &str,
        mut compile: impl FnMut(&str) -> Result<Condition, E>,
        unclosed: impl FnOnce(String) -> E,
    ) -> Result<Self, E> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                return Err(unclosed(format!("message: unclosed `{{{{` in `{text}`")));
            };
            parts.push(Part::Hole(compile(after[..end].trim())?));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// The compiled expressions of the holes.
    pub fn holes(&self) -> impl Iterator<Item = &Condition> {
        self.parts.iter().filter_map(|part| match part {
            Part::Hole(condition) => Some(condition),
            Part::Text(_) => None,
        })
    }

    /// Renders the message; a hole that fails to evaluate shows its error in place.
    pub fn render(&self, context: &Context<'_, '_>) -> String {
        // Built in place and trimmed to its length: a scan may keep hundreds of thousands.
        let mut message = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => message.push_str(text),
                Part::Hole(condition) => match condition.program.execute(context) {
                    Ok(value) => message.push_str(&to_text(&value)),
                    Err(error) => {
                        let _ = write!(message, "<{}: {error}>", condition.source);
                    }
                },
            }
        }
        message.shrink_to_fit();
        message
    }
}
