//! Cheap invariants over the whole built-in catalog (ruff, cargo-deny): every rule is
//! complete, and the sorted inventory is a snapshot so that adding, removing or
//! re-grading a rule shows up as a reviewable diff.

use std::fmt::Write as _;

use seaworthy::engine::Catalog;

#[test]
fn every_rule_is_complete() {
    let catalog = Catalog::load(true, &[]).expect("the built-in catalog loads");
    assert!(catalog.rules.len() >= 35, "the first catalog has at least 35 rules");
    for rule in &catalog.rules {
        assert!(!rule.title.trim().is_empty(), "{}: title", rule.id);
        assert!(!rule.title.ends_with('.'), "{}: titles name a state, without a trailing period", rule.id);
        assert!(rule.rationale.trim().len() > 40, "{}: rationale explains why", rule.id);
        assert!(!rule.remediation.trim().is_empty(), "{}: remediation", rule.id);
        assert!(!rule.references.is_empty(), "{}: at least one reference", rule.id);
        for reference in &rule.references {
            assert!(reference.starts_with("https://"), "{}: reference {reference} is an https URL", rule.id);
        }
        let area = rule.id.rsplit_once('-').map(|(area, _)| area).unwrap_or_default();
        assert!(rule.origin.starts_with("rules/"), "{}: built-in rules live under rules/", rule.id);
        assert!(
            rule.origin.ends_with(&format!("/{}.yaml", rule.id)),
            "{}: the file is named after the id ({})",
            rule.id,
            rule.origin
        );
        assert!(!area.is_empty(), "{}: id has an area", rule.id);
    }
}

#[test]
fn inventory_is_reviewed() {
    let catalog = Catalog::load(true, &[]).expect("the built-in catalog loads");
    let inventory = catalog.rules.iter().fold(String::new(), |mut text, rule| {
        let _ = writeln!(text, "{:<14} {:<9} {:<13} {}", rule.id, rule.severity, rule.category, rule.title);
        text
    });
    insta::assert_snapshot!("rule_inventory", inventory);
}

#[test]
fn every_mapping_names_a_control_of_its_framework() {
    let catalog = Catalog::load(true, &[]).expect("the built-in catalog loads");
    let unknown =
        seaworthy::compliance::unknown_mappings(catalog.rules.iter().map(|rule| (rule.id.as_str(), &rule.mappings)));
    assert!(unknown.is_empty(), "mappings that name no control:\n{}", unknown.join("\n"));
    // Control: a control the benchmark does not have is caught.
    let made_up =
        std::collections::BTreeMap::from([("cis".to_owned(), vec!["1.2.30".to_owned(), "1.2.29".to_owned()])]);
    assert_eq!(
        seaworthy::compliance::unknown_mappings([("T-001", &made_up)]),
        vec!["T-001: cis 1.2.30 is no control of CIS Kubernetes Benchmark v1.9.0".to_owned()]
    );
}

#[test]
fn every_framework_loads_with_unique_controls() {
    for framework in seaworthy::compliance::frameworks() {
        let mut seen = std::collections::BTreeSet::new();
        for section in framework.all_sections() {
            for control in &section.controls {
                assert!(seen.insert(control.id.clone()), "{}: {} twice", framework.id, control.id);
            }
        }
        assert!(seen.len() >= 5, "{} has its controls", framework.id);
    }
}
