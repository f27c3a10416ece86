//! Effective RBAC: which roles a service account holds, and how powerful they are.
//!
//! A service account is bound directly, or through the groups every service account
//! belongs to: `system:serviceaccounts`, `system:serviceaccounts:<namespace>` and
//! `system:authenticated` (<https://kubernetes.io/docs/reference/access-authn-authz/rbac/#service-account-permissions>).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::inventory::{Binding, PolicyRule, RbacSubject, Role};

/// What a role allows, reduced to the two properties the rules judge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Power {
    /// `cluster-admin`, or every verb on every resource in every API group.
    pub full: bool,
    /// Some rule uses `*` in verbs or resources.
    pub wildcard: bool,
}

/// Roles by what bindings call them.
pub struct RoleIndex<'a> {
    cluster_roles: BTreeMap<&'a str, &'a Role>,
    roles: BTreeMap<(&'a str, &'a str), &'a Role>,
}

impl<'a> RoleIndex<'a> {
    /// Indexes Roles (by namespace and name) and ClusterRoles (by name).
    pub fn new(roles: &'a [Role]) -> Self {
        let mut index = Self { cluster_roles: BTreeMap::new(), roles: BTreeMap::new() };
        for role in roles {
            if role.meta.kind == "ClusterRole" {
                index.cluster_roles.insert(&role.meta.name, role);
            } else {
                let namespace = role.meta.namespace.as_deref().unwrap_or_default();
                index.roles.insert((namespace, &role.meta.name), role);
            }
        }
        index
    }

    /// The power of the role a binding refers to. `cluster-admin` is built in, so it
    /// counts as full even when the manifests do not contain the ClusterRole.
    pub fn power(&self, binding: &Binding) -> Power {
        let (kind, name) = &binding.role_ref;
        if kind == "ClusterRole" && name == "cluster-admin" {
            return Power { full: true, wildcard: true };
        }
        let role = if kind == "ClusterRole" {
            self.cluster_roles.get(name.as_str())
        } else {
            let namespace = binding.meta.namespace.as_deref().unwrap_or_default();
            self.roles.get(&(namespace, name.as_str()))
        };
        let Some(role) = role else { return Power::default() };
        let star = |values: &[String]| values.iter().any(|value| value == "*");
        Power {
            full: role.rules.iter().any(|rule| star(&rule.verbs) && star(&rule.resources) && star(&rule.api_groups)),
            wildcard: role.rules.iter().any(|rule| star(&rule.verbs) || star(&rule.resources)),
        }
    }
}

/// A grant that lets its holder gain more power than it was given, as the CIS
/// Benchmark (section 5.1) and Kubernetes' RBAC good practices list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Escalation {
    /// `get`, `list` or `watch` on Secrets: every service-account token among them.
    ReadSecrets,
    /// Create or change pods or the workloads that make them: run anything as any
    /// service account of the namespace.
    CreateWorkloads,
    /// `pods/exec` or `pods/attach`: a shell in running containers.
    ExecIntoPods,
    /// `nodes/proxy`: the kubelet API, commands in every pod of a node.
    NodeProxy,
    /// `escalate` or `bind` on roles: grant oneself what one does not hold.
    EscalateOrBind,
    /// `impersonate` users, groups or service accounts.
    Impersonate,
    /// Create `serviceaccounts/token`: a token for any account.
    CreateTokens,
    /// Approve certificate signing requests: a client certificate for any identity.
    ApproveCertificates,
    /// Write admission webhook configurations: see or change every request.
    WriteWebhooks,
    /// Create PersistentVolumes: a hostPath volume onto any node.
    WritePersistentVolumes,
    /// Update or patch Nodes: steer workloads, or take over a node's identity.
    PatchNodes,
}

/// An escalation and the API groups, resources and verbs it needs.
type Needs = (Escalation, &'static [&'static str], &'static [&'static str], &'static [&'static str]);

/// What each escalation needs: (API groups, resources, verbs). `*` in a rule matches
/// anything; a rule limited to `resourceNames` reaches named objects only and is not
/// counted.
const ESCALATIONS: &[Needs] = &[
    (Escalation::ReadSecrets, &[""], &["secrets"], &["get", "list", "watch"]),
    (
        Escalation::CreateWorkloads,
        &["", "apps", "batch"],
        &[
            "pods",
            "deployments",
            "daemonsets",
            "statefulsets",
            "replicasets",
            "jobs",
            "cronjobs",
            "replicationcontrollers",
        ],
        &["create", "update", "patch"],
    ),
    (Escalation::ExecIntoPods, &[""], &["pods/exec", "pods/attach"], &["create", "get"]),
    (Escalation::NodeProxy, &[""], &["nodes/proxy"], &["get", "create", "update", "patch", "delete", "list"]),
    (Escalation::EscalateOrBind, &["rbac.authorization.k8s.io"], &["roles", "clusterroles"], &["escalate", "bind"]),
    (
        Escalation::Impersonate,
        &["", "authentication.k8s.io"],
        &["users", "groups", "serviceaccounts", "uids", "userextras/scopes"],
        &["impersonate"],
    ),
    (Escalation::CreateTokens, &[""], &["serviceaccounts/token"], &["create"]),
    (
        Escalation::ApproveCertificates,
        &["certificates.k8s.io"],
        &["certificatesigningrequests/approval"],
        &["update", "patch"],
    ),
    (
        Escalation::WriteWebhooks,
        &["admissionregistration.k8s.io"],
        &["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
        &["create", "update", "patch", "delete"],
    ),
    (Escalation::WritePersistentVolumes, &[""], &["persistentvolumes"], &["create", "update", "patch"]),
    (Escalation::PatchNodes, &[""], &["nodes"], &["update", "patch"]),
];

/// The escalations one rule grants.
fn rule_escalations(rule: &PolicyRule) -> impl Iterator<Item = Escalation> + '_ {
    let any = |granted: &[String], wanted: &[&str]| {
        granted.iter().any(|value| value == "*" || wanted.contains(&value.as_str()))
    };
    // `pods/*` grants every subresource of pods.
    let resource = |wanted: &[&str]| {
        rule.resources.iter().any(|granted| {
            granted == "*"
                || wanted.contains(&granted.as_str())
                || granted.strip_suffix("/*").is_some_and(|parent| {
                    wanted.iter().any(|want| want.split('/').next() == Some(parent) && want.contains('/'))
                })
        })
    };
    ESCALATIONS.iter().filter_map(move |(escalation, groups, resources, verbs)| {
        (!rule.named_only && any(&rule.api_groups, groups) && resource(resources) && any(&rule.verbs, verbs))
            .then_some(*escalation)
    })
}

impl RoleIndex<'_> {
    /// The escalations the role of `binding` grants, each once, in [`Escalation`] order;
    /// `cluster-admin` grants them all.
    pub fn escalations(&self, binding: &Binding) -> Vec<Escalation> {
        let (kind, name) = &binding.role_ref;
        let mut found: Vec<Escalation> = if kind == "ClusterRole" && name == "cluster-admin" {
            ESCALATIONS.iter().map(|(escalation, ..)| *escalation).collect()
        } else {
            let role = if kind == "ClusterRole" {
                self.cluster_roles.get(name.as_str())
            } else {
                let namespace = binding.meta.namespace.as_deref().unwrap_or_default();
                self.roles.get(&(namespace, name.as_str()))
            };
            role.into_iter().flat_map(|role| &role.rules).flat_map(rule_escalations).collect()
        };
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// An identity the control plane itself runs as: `system:` users and groups (the
/// components, nodes, `system:masters`), kubeadm's admin group, and kube-system's
/// service accounts.
pub fn is_system_identity(subject: &RbacSubject) -> bool {
    match subject.kind.as_str() {
        "User" | "Group" => subject.name.starts_with("system:") || subject.name == "kubeadm:cluster-admins",
        "ServiceAccount" => subject.namespace.as_deref() == Some("kube-system"),
        _ => false,
    }
}

/// One of the bindings the API server or kubeadm create when they bootstrap a cluster:
/// named `system:…`, `kubeadm:…` or `cluster-admin`, and binding only identities the
/// control plane runs as. A binding with such a name for anyone else is judged like any.
pub fn is_bootstrap(binding: &Binding) -> bool {
    let name = binding.meta.name.as_str();
    (name.starts_with("system:") || name.starts_with("kubeadm:") || name == "cluster-admin")
        && !binding.subjects.is_empty()
        && binding.subjects.iter().all(is_system_identity)
}

/// Which service accounts a binding subject reaches.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// One account, as (namespace, name).
    Account(String, String),
    /// Every account of one namespace (`system:serviceaccounts:<namespace>`).
    Namespace(String),
    /// Every account (`system:serviceaccounts`, `system:authenticated`).
    Everyone,
    /// No service account (users, other groups).
    Nobody,
}

/// The service accounts `subject` reaches, directly or as a group they belong to.
pub fn reach(subject: &RbacSubject) -> Reach {
    match subject.kind.as_str() {
        "ServiceAccount" => Reach::Account(subject.namespace.clone().unwrap_or_default(), subject.name.clone()),
        "Group" if subject.name == "system:serviceaccounts" || subject.name == "system:authenticated" => {
            Reach::Everyone
        }
        "Group" => match subject.name.strip_prefix("system:serviceaccounts:") {
            Some(namespace) => Reach::Namespace(namespace.to_owned()),
            None => Reach::Nobody,
        },
        "User" => match subject.name.strip_prefix("system:serviceaccount:").and_then(|rest| rest.split_once(':')) {
            Some((namespace, name)) => Reach::Account(namespace.to_owned(), name.to_owned()),
            None => Reach::Nobody,
        },
        _ => Reach::Nobody,
    }
}

/// The bindings reaching each service account, indexed once so that resolving every
/// account costs one pass over the bindings instead of one per account.
pub struct BindingIndex<'a> {
    bindings: &'a [Binding],
    by_account: BTreeMap<(String, String), Vec<usize>>,
    by_namespace: BTreeMap<String, Vec<usize>>,
    everyone: Vec<usize>,
}

impl<'a> BindingIndex<'a> {
    /// Indexes `bindings` by the accounts their subjects reach.
    pub fn new(bindings: &'a [Binding]) -> Self {
        let mut index =
            Self { bindings, by_account: BTreeMap::new(), by_namespace: BTreeMap::new(), everyone: Vec::new() };
        for (position, binding) in bindings.iter().enumerate() {
            for subject in &binding.subjects {
                match reach(subject) {
                    Reach::Account(namespace, name) => {
                        index.by_account.entry((namespace, name)).or_default().push(position);
                    }
                    Reach::Namespace(namespace) => index.by_namespace.entry(namespace).or_default().push(position),
                    Reach::Everyone => index.everyone.push(position),
                    Reach::Nobody => {}
                }
            }
        }
        index
    }

    /// The bindings reaching `namespace/name`, in their original order, each once
    /// (a RoleBinding may name accounts of other namespaces).
    pub fn reaching(&self, namespace: &str, name: &str) -> Vec<&'a Binding> {
        let direct = self.by_account.get(&(namespace.to_owned(), name.to_owned()));
        let grouped = self.by_namespace.get(namespace);
        let mut positions: Vec<usize> =
            direct.into_iter().chain(grouped).flatten().chain(&self.everyone).copied().collect();
        positions.sort_unstable();
        positions.dedup();
        positions.into_iter().map(|position| &self.bindings[position]).collect()
    }
}

/// Bindings Kubernetes or kubeadm create, with the role they are created with. A
/// default name pointing at another role is not default.
const DEFAULT_BINDINGS: &[(&str, &str)] = &[
    ("system:public-info-viewer", "system:public-info-viewer"),
    ("system:discovery", "system:discovery"),
    ("system:basic-user", "system:basic-user"),
    ("kubeadm:bootstrap-signer-clusterinfo", "kubeadm:bootstrap-signer-clusterinfo"),
];

/// True for a default binding with its default role.
pub fn is_default(binding: &Binding) -> bool {
    DEFAULT_BINDINGS.iter().any(|(name, role)| binding.meta.name == *name && binding.role_ref.1 == *role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Meta, PolicyRule};

    /// True when `subject` reaches the service account `namespace/name`.
    fn names_service_account(subject: &RbacSubject, namespace: &str, name: &str) -> bool {
        match reach(subject) {
            Reach::Account(ns, account) => ns == namespace && account == name,
            Reach::Namespace(ns) => ns == namespace,
            Reach::Everyone => true,
            Reach::Nobody => false,
        }
    }

    fn role(kind: &str, name: &str, verbs: &[&str], resources: &[&str], groups: &[&str]) -> Role {
        let strings = |values: &[&str]| values.iter().map(|value| (*value).to_owned()).collect();
        Role {
            meta: Meta {
                kind: kind.to_owned().into(),
                name: name.into(),
                namespace: (kind == "Role").then(|| "app".into()),
                ..Meta::default()
            },
            rules: vec![PolicyRule {
                verbs: strings(verbs),
                resources: strings(resources),
                api_groups: strings(groups),
                ..PolicyRule::default()
            }],
        }
    }

    fn binding(kind: &str, role_kind: &str, role: &str) -> Binding {
        Binding {
            meta: Meta {
                kind: kind.to_owned().into(),
                name: "b".into(),
                namespace: (kind == "RoleBinding").then(|| "app".into()),
                ..Meta::default()
            },
            role_ref: (role_kind.into(), role.into()),
            subjects: vec![RbacSubject {
                kind: "ServiceAccount".into(),
                name: "sa".into(),
                namespace: Some("app".into()),
            }],
        }
    }

    #[test]
    fn cluster_admin_is_full_even_without_the_role_object() {
        let index = RoleIndex::new(&[]);
        assert!(index.power(&binding("ClusterRoleBinding", "ClusterRole", "cluster-admin")).full);
    }

    #[test]
    fn star_on_star_in_every_group_is_full_and_partial_stars_are_wildcards() {
        let roles = [
            role("ClusterRole", "everything", &["*"], &["*"], &["*"]),
            role("ClusterRole", "all-verbs-on-pods", &["*"], &["pods"], &[""]),
            role("Role", "reader", &["get"], &["pods"], &[""]),
        ];
        let index = RoleIndex::new(&roles);
        assert_eq!(
            index.power(&binding("ClusterRoleBinding", "ClusterRole", "everything")),
            Power { full: true, wildcard: true }
        );
        assert_eq!(
            index.power(&binding("ClusterRoleBinding", "ClusterRole", "all-verbs-on-pods")),
            Power { full: false, wildcard: true }
        );
        assert_eq!(index.power(&binding("RoleBinding", "Role", "reader")), Power::default());
        assert_eq!(index.power(&binding("RoleBinding", "Role", "missing")), Power::default());
    }

    #[test]
    fn groups_reach_service_accounts() {
        let group = |name: &str| RbacSubject { kind: "Group".into(), name: name.into(), namespace: None };
        assert!(names_service_account(&group("system:serviceaccounts"), "app", "sa"));
        assert!(names_service_account(&group("system:serviceaccounts:app"), "app", "sa"));
        assert!(!names_service_account(&group("system:serviceaccounts:other"), "app", "sa"));
        assert!(names_service_account(&group("system:authenticated"), "app", "sa"));
        assert!(!names_service_account(&group("system:unauthenticated"), "app", "sa"));
    }
}
