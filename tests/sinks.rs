//! Sinks through the real binary, against loopback listeners: the Pushgateway gets
//! bounded Prometheus text, the webhook gets the very JSON report of stdout over
//! verified TLS, and a sink that is down, refuses or is not trusted is told on stderr
//! and in the exit code (4) while stdout still carries the whole report.

mod support;

use std::net::SocketAddr;

use support::kubelet::Listeners;
use support::sink::{Answer, Log, recorder};
use support::{code, loopback, pki, scratch, seaworthy_with, stderr, stdout};

/// The hardened example passes the gate, so exit codes here are 0 or 4.
const HARDENED: &str = "testdata/clusters/hardened";

fn scan(extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut args = vec!["scan", "--manifests", HARDENED, "-o", "json"];
    args.extend_from_slice(extra);
    seaworthy_with(&args, env, None)
}

/// A plain-HTTP recorder on `address`.
fn http_sink(listeners: &Listeners, address: SocketAddr, script: Vec<Answer>) -> Log {
    let (router, log) = recorder(script);
    listeners.http(address, router);
    log
}

fn assert_complete_report(output: &std::process::Output) {
    let report: serde_json::Value = serde_json::from_str(&stdout(output)).expect("stdout is the whole JSON report");
    assert_eq!(report["score"]["grade"], "A");
}

/// One sample: metric name, labels, and the value as written.
type Sample = (String, Vec<(String, String)>, String);

/// Parses exposition-format text into samples, checking that each family is announced
/// with HELP and TYPE before its samples and that every value is a number.
fn samples(text: &str) -> Vec<Sample> {
    let mut announced = Vec::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ").or_else(|| line.strip_prefix("# TYPE ")) {
            announced.push(rest.split(' ').next().expect("a metric name").to_owned());
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => {
                let labels = labels.strip_suffix('}').expect("labels end with }");
                let pairs = labels
                    .split(',')
                    .map(|pair| {
                        let (key, value) = pair.split_once('=').expect("key=value");
                        (key.to_owned(), value.trim_matches('"').to_owned())
                    })
                    .collect();
                (name.to_owned(), pairs)
            }
            None => (series.to_owned(), Vec::new()),
        };
        assert!(announced.contains(&name), "{name} has HELP and TYPE");
        value.parse::<f64>().unwrap_or_else(|error| panic!("{line}: {error}"));
        samples.push((name, labels, value.to_owned()));
    }
    samples
}

#[test]
fn metrics_reach_the_pushgateway_with_bounded_labels() {
    let listeners = Listeners::new();
    let address = loopback::address("sinks_pushgateway", 9091);
    let log = http_sink(&listeners, address, vec![Answer(200, None, "")]);
    let url = format!("http://{address}/metrics/job/seaworthy/cluster/prod-eu1");
    let weak_scan = seaworthy_with(
        &["scan", "--manifests", "testdata/clusters/weak", "-o", "json", "--push-metrics", &url],
        &[],
        None,
    );
    assert_eq!(code(&weak_scan), 1, "the gate still decides: {}", stderr(&weak_scan));
    let hardened = scan(&["--push-metrics", &url], &[]);
    assert_eq!(code(&hardened), 0, "{}", stderr(&hardened));

    let received = log.received();
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("PUT", "/metrics/job/seaworthy/cluster/prod-eu1")
        );
        assert_eq!(request.content_type, "text/plain; version=0.0.4");
        assert!(request.user_agent.starts_with("seaworthy/"), "{}", request.user_agent);
    }
    let (weak, hardened) = (samples(&received[0].body), samples(&received[1].body));
    let value = |samples: &[Sample], name: &str, labels: &[(&str, &str)]| -> String {
        samples
            .iter()
            .find(|(sample, pairs, _)| {
                sample == name && pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).eq(labels.iter().copied())
            })
            .unwrap_or_else(|| panic!("{name}{labels:?} is pushed"))
            .2
            .clone()
    };
    assert_eq!(value(&weak, "seaworthy_score", &[]), "0");
    assert_eq!(value(&weak, "seaworthy_grade", &[("grade", "F")]), "1");
    assert_eq!(value(&weak, "seaworthy_grade", &[("grade", "A")]), "0");
    assert_eq!(value(&hardened, "seaworthy_score", &[]), "100");
    assert_eq!(value(&hardened, "seaworthy_grade", &[("grade", "A")]), "1");
    assert_eq!(value(&weak, "seaworthy_coverage_percent", &[]), "78.1");
    assert_ne!(value(&weak, "seaworthy_findings", &[("category", "security"), ("severity", "critical")]), "0");
    assert_eq!(value(&hardened, "seaworthy_findings", &[("category", "security"), ("severity", "critical")]), "0");
    assert_eq!(
        value(&weak, "seaworthy_last_scan_timestamp_seconds", &[]),
        "1772366400",
        "SEAWORTHY_NOW, 2026-03-01T12:00:00Z"
    );
    // Findings add to values, never to series: both clusters push the same series, and
    // only closed label sets.
    let series = |samples: &[Sample]| -> Vec<(String, Vec<(String, String)>)> {
        samples.iter().map(|(name, labels, _)| (name.clone(), labels.clone())).collect()
    };
    assert_eq!(series(&weak), series(&hardened));
    for (_, labels, _) in &weak {
        for (key, _) in labels {
            assert!(["category", "severity", "grade", "status"].contains(&key.as_str()), "label {key}");
        }
    }
    let findings: u64 = weak
        .iter()
        .filter(|(name, _, _)| name == "seaworthy_findings")
        .map(|sample| sample.2.parse::<u64>().expect("a count"))
        .sum();
    // The weak scan's own report, the one whose metrics were pushed.
    let report: serde_json::Value = serde_json::from_str(&stdout(&weak_scan)).expect("a report");
    let in_report: u64 =
        report["summary"]["findings"].as_object().expect("counts").values().filter_map(serde_json::Value::as_u64).sum();
    assert_eq!(findings, in_report, "every finding is counted once");
}

#[test]
fn the_webhook_gets_the_json_report_over_verified_tls() {
    let listeners = Listeners::new();
    let address = loopback::address("sinks_webhook_tls", 8443);
    let ca = pki::Ca::new("webhook-ca");
    let (router, log) = recorder(vec![Answer(204, None, "")]);
    listeners.https(address, router, ca.server(address.ip()).server_config());
    let dir = scratch();
    let trusted = support::write(dir.path(), "ca.pem", &ca.cert_pem);

    let url = format!("https://{address}/hooks/T0/B0/secret-token");
    let output = scan(&["--webhook", &url], &[("SSL_CERT_FILE", trusted.to_str().expect("UTF-8"))]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let received = log.received();
    assert_eq!(received.len(), 1);
    assert_eq!((received[0].method.as_str(), received[0].path.as_str()), ("POST", "/hooks/T0/B0/secret-token"));
    assert_eq!(received[0].content_type, "application/json");
    assert_eq!(received[0].body, stdout(&output), "the webhook gets exactly the report of stdout");

    // The same server, not trusted: refused at the handshake, once, and told.
    let other = pki::Ca::new("another-ca");
    let untrusted = support::write(dir.path(), "other.pem", &other.cert_pem);
    let output = scan(&["--webhook", &url], &[("SSL_CERT_FILE", untrusted.to_str().expect("UTF-8"))]);
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert_complete_report(&output);
    assert_eq!(log.received().len(), 1, "no request reached the untrusted server");
    let message = stderr(&output);
    assert!(message.contains("webhook https://"), "{message}");
    assert!(message.contains("not retried") && message.to_lowercase().contains("certificate"), "{message}");
    assert!(!message.contains("secret-token"), "the URL's path stays out of messages: {message}");
}

#[test]
fn a_sink_that_is_down_is_retried_a_bounded_number_of_times_and_told() {
    // Nothing listens on this address: every connection is refused.
    let address = loopback::address("sinks_down", 9091);
    let output = scan(&["--push-metrics", &format!("http://{address}")], &[]);
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert_complete_report(&output);
    let message = stderr(&output);
    assert!(message.contains(&format!("push-metrics http://{address}/metrics/job/seaworthy")), "{message}");
    assert!(message.contains("gave up after 3 attempts"), "{message}");
}

#[test]
fn a_sink_that_recovers_gets_the_report_and_one_that_refuses_is_not_retried() {
    let listeners = Listeners::new();
    let flaky = loopback::address("sinks_flaky", 9091);
    let flaky_log = http_sink(
        &listeners,
        flaky,
        vec![Answer(503, Some(0), "overloaded"), Answer(429, Some(0), "slow down"), Answer(200, None, "")],
    );
    let output = scan(&["--push-metrics", &format!("http://{flaky}")], &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(flaky_log.received().len(), 3, "503 and 429 are retried, up to three attempts");

    let refusing = loopback::address("sinks_refusing", 9091);
    let refusing_log =
        http_sink(&listeners, refusing, vec![Answer(400, None, "pushed metrics are invalid or inconsistent")]);
    let output = scan(&["--push-metrics", &format!("http://{refusing}")], &[]);
    assert_eq!(code(&output), 4, "{}", stderr(&output));
    assert_complete_report(&output);
    assert_eq!(refusing_log.received().len(), 1, "a 400 will not heal: not retried");
    let message = stderr(&output);
    assert!(message.contains("400 Bad Request: pushed metrics are invalid"), "{message}");
}

#[test]
fn both_sinks_failing_are_both_told_and_a_bad_url_fails_before_the_scan() {
    let down = loopback::address("sinks_both_down", 9091);
    let output = scan(&["--push-metrics", &format!("http://{down}"), "--webhook", &format!("http://{down}/hook")], &[]);
    assert_eq!(code(&output), 4);
    let message = stderr(&output);
    assert!(message.contains("push-metrics http://") && message.contains("webhook http://"), "{message}");
    let last = message.lines().last().unwrap_or_default();
    assert!(last.starts_with("seaworthy: 2 sink(s) failed (exit 4); gate "), "the last line names exit 4: {last}");

    for (flag, url, expected) in [
        ("--push-metrics", "http://pgw:9091/push", "not a Pushgateway group path"),
        ("--webhook", "ftp://example.com/x", "not an http:// or https:// URL"),
    ] {
        let output = scan(&[flag, url], &[]);
        assert_eq!(code(&output), 2, "{}", stderr(&output));
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
        assert!(stdout(&output).is_empty(), "nothing was scanned");
    }
}

#[test]
fn sinks_can_come_from_the_environment() {
    let listeners = Listeners::new();
    let address = loopback::address("sinks_environment", 8080);
    let log = http_sink(&listeners, address, vec![Answer(200, None, "")]);
    let output = scan(&[], &[("SEAWORTHY_WEBHOOK", &format!("http://{address}/from-a-secret"))]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(log.received().len(), 1);
    assert_eq!(log.received()[0].path, "/from-a-secret");
}
