//! Generated files stay in sync with the code (ruff's generator tests): `docs/rules.md`
//! from the catalog, `docs/facts.md` and the JSON Schemas from the Rust types.
//! `UPDATE_DOCS=1 cargo test` rewrites them; a plain run fails when one is stale.

mod support;

use seaworthy::engine::Catalog;
use seaworthy::report::catalog;

fn check(relative: &str, expected: &str) {
    let path = support::repo().join(relative);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, expected).unwrap_or_else(|error| panic!("cannot write {relative}: {error}"));
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        let first = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        panic!(
            "{relative} is stale (first difference at line {}): run `UPDATE_DOCS=1 cargo test --test generated_docs` and commit the result",
            first + 1
        );
    }
}

fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON");
    text.push('\n');
    text
}

#[test]
fn rules_md_matches_the_catalog() {
    let catalog = Catalog::load(true, &[]).expect("the built-in catalog loads");
    check("docs/rules.md", &catalog::markdown(&catalog));
}

#[test]
fn report_schema_matches_the_report_types() {
    check("docs/report.schema.json", &pretty(&seaworthy::report::schema()));
}

#[test]
fn facts_schema_matches_the_facts_types() {
    check("docs/facts.schema.json", &pretty(&seaworthy::facts::schema()));
}

#[test]
fn facts_md_matches_the_facts_types() {
    check("docs/facts.md", &seaworthy::facts::markdown());
}

#[test]
fn compliance_md_matches_the_frameworks_and_mappings() {
    let catalog = Catalog::load(true, &[]).expect("the built-in catalog loads");
    let rules: Vec<seaworthy::report::RuleInfo> = catalog.rules.iter().map(seaworthy::report::RuleInfo::from).collect();
    check("docs/compliance.md", &seaworthy::compliance::markdown(&rules));
}
