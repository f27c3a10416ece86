//! The configuration file (`seaworthy.yaml`): exceptions, the registry allow-list,
//! rule selection and severity overrides.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::engine::Severity;

/// Reading the configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid configuration.
    #[error("{path}:{line}: {reason}")]
    Invalid {
        /// The path.
        path: String,
        /// The line of the error.
        line: u32,
        /// What is wrong.
        reason: String,
    },
}

/// The configuration file.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Config {
    /// Accepted findings, each with a reason, an owner and an optional expiry date.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
    /// Image registries workloads may pull from.
    #[serde(default)]
    pub registries: Registries,
    /// Which rules run.
    #[serde(default)]
    pub rules: RuleSelection,
    /// Severity overrides by rule id or glob, e.g. `IMAGE-002: low`.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Network probes: ports, timeouts, concurrency. The command line overrides them.
    #[serde(default)]
    pub probes: ProbeConfig,
}

/// Network probe settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProbeConfig {
    /// Ports where the cluster's components listen, when they differ from the defaults.
    #[serde(default)]
    pub ports: ProbePorts,
    /// Request timeout of one probe, e.g. `5s` (default 5s).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub timeout: Option<jiff::SignedDuration>,
    /// Connect timeout of one probe, e.g. `2s` (default 2s).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub connect_timeout: Option<jiff::SignedDuration>,
    /// Probe requests in flight at once (default 64).
    #[serde(default)]
    pub concurrency: Option<u16>,
}

/// Port overrides; an absent one keeps its default.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProbePorts {
    /// API server secure port, when an endpoint does not name one (6443).
    pub apiserver: Option<u16>,
    /// API server insecure port (8080).
    pub apiserver_insecure: Option<u16>,
    /// etcd client port, when `--etcd-servers` does not name one (2379).
    pub etcd_client: Option<u16>,
    /// etcd peer port (2380).
    pub etcd_peer: Option<u16>,
    /// Kubelet API (10250).
    pub kubelet: Option<u16>,
    /// Kubelet read-only port (10255).
    pub kubelet_read_only: Option<u16>,
    /// Standalone cAdvisor (4194).
    pub cadvisor: Option<u16>,
    /// Controller manager secure port, unless its `--secure-port` says (10257).
    pub controller_manager: Option<u16>,
    /// Scheduler secure port, unless its `--secure-port` says (10259).
    pub scheduler: Option<u16>,
    /// Helm v2's Tiller (44134).
    pub tiller: Option<u16>,
}

impl ProbePorts {
    /// The defaults with these overrides applied.
    pub fn resolve(&self) -> crate::probe::targets::Ports {
        let defaults = crate::probe::targets::Ports::default();
        crate::probe::targets::Ports {
            apiserver: self.apiserver.unwrap_or(defaults.apiserver),
            apiserver_insecure: self.apiserver_insecure.unwrap_or(defaults.apiserver_insecure),
            etcd_client: self.etcd_client.unwrap_or(defaults.etcd_client),
            etcd_peer: self.etcd_peer.unwrap_or(defaults.etcd_peer),
            kubelet: self.kubelet.unwrap_or(defaults.kubelet),
            kubelet_read_only: self.kubelet_read_only.unwrap_or(defaults.kubelet_read_only),
            cadvisor: self.cadvisor.unwrap_or(defaults.cadvisor),
            controller_manager: self.controller_manager.unwrap_or(defaults.controller_manager),
            scheduler: self.scheduler.unwrap_or(defaults.scheduler),
            tiller: self.tiller.unwrap_or(defaults.tiller),
        }
    }
}

/// The registry allow-list.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registries {
    /// Registry hosts (`registry.example.com`) or prefixes (`ghcr.io/acme`); an image is
    /// allowed when its `registry/repository` equals one or starts with it plus `/`.
    /// Rules judging registries are not applicable while this list is empty.
    #[serde(default)]
    pub allowed: Vec<String>,
}

/// Rule selection; the command line adds to it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleSelection {
    /// Run only these rule ids or globs.
    #[serde(default)]
    pub select: Vec<String>,
    /// Never run these rule ids or globs.
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// An accepted finding.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// Rule id or glob (`IMAGE-*`).
    pub rule: String,
    /// Which subjects; every field is a glob, and an absent field matches anything.
    #[serde(default)]
    pub subject: SubjectSelector,
    /// Why the finding is accepted.
    pub reason: String,
    /// Who accepted it.
    pub owner: String,
    /// Last day (UTC) the exception applies; after it, findings count again and the
    /// exception is reported as expired.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub expires: Option<jiff::civil::Date>,
}

/// Globs over a finding's subject.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectSelector {
    /// Kind, e.g. `Deployment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Container name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// Reads a configuration file.
pub fn read(path: &Path) -> Result<Config, ConfigError> {
    let shown = path.display().to_string();
    let text =
        crate::walk::read_small_file(path).map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
    parse(&shown, &text)
}

/// Parses configuration text; `path` names it in errors.
pub fn parse(path: &str, text: &str) -> Result<Config, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Config::default());
    }
    serde_saphyr::from_str(text).map_err(|error| {
        let problem = crate::yaml::describe(&error);
        ConfigError::Invalid { path: path.to_owned(), line: problem.line, reason: problem.reason }
    })
}

/// What rules see of the configuration, as the CEL variable `config`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleInputs {
    /// `registries.allowed`.
    pub allowed_registries: Vec<String>,
    /// The scan's date by its clock, `YYYY-MM-DD` (what dated tables such as the release
    /// calendar are read against); empty when no clock was given.
    pub today: String,
}

impl From<&Config> for RuleInputs {
    fn from(config: &Config) -> Self {
        Self { allowed_registries: config.registries.allowed.clone(), today: String::new() }
    }
}

/// JSON Schema of [`RuleInputs`].
pub fn rule_inputs_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RuleInputs)).expect("a schema is plain JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_config_parses() {
        let config = parse(
            "seaworthy.yaml",
            "exceptions:\n  - rule: IMAGE-*\n    subject: {namespace: legacy}\n    reason: vendor image\n    owner: team-a\n    expires: 2026-12-31\nregistries:\n  allowed: [registry.example.com]\nrules:\n  ignore: [POD-004]\nseverity:\n  IMAGE-002: low\n",
        )
        .expect("valid config");
        assert_eq!(config.exceptions[0].expires, Some(jiff::civil::date(2026, 12, 31)));
        assert_eq!(config.severity["IMAGE-002"], Severity::Low);
        assert_eq!(RuleInputs::from(&config).allowed_registries, vec!["registry.example.com"]);
    }

    #[test]
    fn probe_ports_and_timeouts_override_the_defaults() {
        let config = parse("c.yaml", "probes:\n  ports: {kubeletReadOnly: 10266}\n  timeout: 3s\n  concurrency: 8\n")
            .expect("valid config");
        let ports = config.probes.ports.resolve();
        assert_eq!((ports.kubelet_read_only, ports.kubelet), (10266, 10250));
        assert_eq!(config.probes.timeout, Some(jiff::SignedDuration::from_secs(3)));
        assert_eq!(config.probes.concurrency, Some(8));
        assert!(parse("c.yaml", "probes:\n  ports: {kubelett: 1}\n").is_err(), "typos are errors");
    }

    #[test]
    fn unknown_keys_and_missing_reasons_name_the_line() {
        let error = parse("c.yaml", "registries:\n  allow: [x]\n").expect_err("typo in key");
        assert!(error.to_string().starts_with("c.yaml:2:"), "{error}");
        let error = parse("c.yaml", "exceptions:\n  - rule: X-001\n    owner: me\n").expect_err("reason is required");
        assert!(error.to_string().contains("reason"), "{error}");
    }
}
