//! Effective RBAC: which roles a service account holds, and how powerful they are.
//!
//! A service account is bound directly, or through the groups every service account
//! belongs to: `system:serviceaccounts`, `system:serviceaccounts:<namespace>` and
//! `system:authenticated` (<https://kubernetes.io/docs/reference/access-authn-authz/rbac/#service-account-permissions>).

use std::collections::BTreeMap;

use crate::inventory::{Binding, RbacSubject, Role};

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
