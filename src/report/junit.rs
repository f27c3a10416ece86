//! JUnit XML (`-o junit`), as Jenkins, GitLab, Azure Pipelines and CircleCI read test
//! reports: one `<testsuite>` per category, one `<testcase>` per rule. A failing rule
//! is a `<failure>` carrying each finding; a rule not evaluated or not applicable is
//! `<skipped>` with why — never a pass. Valid against the Jenkins JUnit schema
//! (`testdata/schemas/junit-10.xsd`).

use std::fmt::Write as _;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use super::{Report, ResultEntry, RuleInfo};
use crate::engine::{Category, Status};

/// Findings a failure lists before the rest are counted (the JSON report has them all).
const FINDINGS_LISTED: usize = 100;

/// Renders the report as a JUnit XML document.
pub fn render(report: &Report) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing to a Vec cannot fail.
    let _ = write_document(&mut writer, report);
    let mut text = String::from_utf8(writer.into_inner()).expect("the writer writes UTF-8");
    text.push('\n');
    text
}

fn write_document(writer: &mut Writer<Vec<u8>>, report: &Report) -> std::io::Result<()> {
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let failures = report.summary.fail.to_string();
    let tests = report.results.len().to_string();
    let suites = BytesStart::new("testsuites").with_attributes([
        ("name", "seaworthy"),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", "0"),
    ]);
    writer.write_event(Event::Start(suites))?;
    for category in Category::ALL {
        let cases: Vec<(&ResultEntry, &RuleInfo)> = report
            .results
            .iter()
            .filter_map(|result| Some((result, report.rule(&result.rule_id)?)))
            .filter(|(_, rule)| rule.category == category)
            .collect();
        if !cases.is_empty() {
            write_suite(writer, report, category, &cases)?;
        }
    }
    writer.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

fn write_suite(
    writer: &mut Writer<Vec<u8>>,
    report: &Report,
    category: Category,
    cases: &[(&ResultEntry, &RuleInfo)],
) -> std::io::Result<()> {
    let count = |wanted: &[Status]| cases.iter().filter(|(result, _)| wanted.contains(&result.status)).count();
    let (tests, failures, skipped) = (
        cases.len().to_string(),
        count(&[Status::Fail]).to_string(),
        count(&[Status::NotEvaluated, Status::NotApplicable]).to_string(),
    );
    let name = format!("seaworthy.{}", category.as_str());
    let suite = BytesStart::new("testsuite").with_attributes([
        ("name", name.as_str()),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", "0"),
        ("skipped", skipped.as_str()),
        ("timestamp", report.started_at.as_str()),
    ]);
    writer.write_event(Event::Start(suite))?;
    write_properties(writer, report)?;
    for (result, rule) in cases {
        write_case(writer, &name, result, rule)?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    Ok(())
}

/// The scan's identity and score, on every suite (consumers read them per suite).
fn write_properties(writer: &mut Writer<Vec<u8>>, report: &Report) -> std::io::Result<()> {
    let score = &report.score;
    let properties = [
        ("cluster", report.cluster.name.clone()),
        ("source", report.source.paths.join(", ")),
        ("runId", report.run_id.clone()),
        ("score", score.overall.map_or_else(|| "none".to_owned(), |overall| format!("{overall:.1}"))),
        ("grade", score.grade.map_or_else(|| "none".to_owned(), |grade| format!("{grade:?}"))),
        ("coverage", format!("{:.1}", score.coverage)),
    ];
    writer.write_event(Event::Start(BytesStart::new("properties")))?;
    for (name, value) in properties {
        let value = xml_text(&value);
        writer.write_event(Event::Empty(
            BytesStart::new("property").with_attributes([("name", name), ("value", &*value)]),
        ))?;
    }
    writer.write_event(Event::End(BytesEnd::new("properties")))?;
    Ok(())
}

fn write_case(writer: &mut Writer<Vec<u8>>, suite: &str, result: &ResultEntry, rule: &RuleInfo) -> std::io::Result<()> {
    let title = format!("{}: {}", rule.id, rule.title);
    let name = xml_text(&title);
    let case = BytesStart::new("testcase").with_attributes([("name", &*name), ("classname", suite)]);
    let (tag, message, body) = match result.status {
        Status::Pass if result.excepted.is_empty() => return writer.write_event(Event::Empty(case)),
        Status::Pass => {
            let body = format!("{} finding(s) excepted by the configuration", result.excepted.len());
            ("system-out", None, body)
        }
        Status::Fail => {
            let message = format!("{} finding(s), severity {}", result.findings.len(), rule.severity.as_str());
            ("failure", Some(message), failure_text(result, rule))
        }
        Status::NotEvaluated => {
            let reason = result.reason.as_deref().unwrap_or("not evaluated");
            ("skipped", Some(format!("not evaluated: {reason}")), String::new())
        }
        Status::NotApplicable => {
            let reason = result.reason.as_deref().unwrap_or("not applicable");
            ("skipped", Some(format!("not applicable: {reason}")), String::new())
        }
    };
    writer.write_event(Event::Start(case))?;
    let mut element = BytesStart::new(tag);
    if let Some(message) = &message {
        if tag == "failure" {
            element.push_attribute(("type", rule.severity.as_str()));
        }
        element.push_attribute(("message", &*xml_text(message)));
    }
    if body.is_empty() {
        writer.write_event(Event::Empty(element))?;
    } else {
        writer.write_event(Event::Start(element))?;
        writer.write_event(Event::Text(BytesText::new(&xml_text(&body))))?;
        writer.write_event(Event::End(BytesEnd::new(tag)))?;
    }
    writer.write_event(Event::End(BytesEnd::new("testcase")))?;
    Ok(())
}

/// Each finding on a line (`file:line: Kind ns/name: message`), then what was not
/// judged, the remediation and the references.
fn failure_text(result: &ResultEntry, rule: &RuleInfo) -> String {
    let mut text = String::new();
    for finding in result.findings.iter().take(FINDINGS_LISTED) {
        if let Some(location) = &finding.location {
            let _ = write!(text, "{}:{}: ", location.file, location.line);
        }
        let _ = writeln!(text, "{}: {}", super::terminal::subject_text(&finding.subject), finding.message);
    }
    if result.findings.len() > FINDINGS_LISTED {
        let _ = writeln!(text, "… and {} more (the JSON report lists all)", result.findings.len() - FINDINGS_LISTED);
    }
    if let Some(reason) = &result.reason {
        let _ = writeln!(text, "note: {reason}");
    }
    let _ = writeln!(text, "help: {}", rule.remediation.split_whitespace().collect::<Vec<_>>().join(" "));
    for reference in &rule.references {
        let _ = writeln!(text, "see: {reference}");
    }
    text
}

/// `text` with what XML 1.0 cannot carry, even escaped (control characters other than
/// tab and newline, U+FFFE, U+FFFF), written as `\u{…}`: a name from the cluster must
/// not make the document unreadable. quick-xml escapes the markup.
fn xml_text(text: &str) -> std::borrow::Cow<'_, str> {
    let forbidden = |character: char| matches!(character, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{d}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    super::escape_where(text, forbidden)
}

#[cfg(test)]
mod tests {
    use super::xml_text;

    #[test]
    fn characters_xml_cannot_carry_are_escaped_and_the_rest_kept() {
        assert_eq!(xml_text("web <1> & \"x\"\tok\n"), "web <1> & \"x\"\tok\n");
        assert_eq!(xml_text("a\u{1b}[2Jb\u{0}"), "a\\u{1b}[2Jb\\u{0}");
    }
}
