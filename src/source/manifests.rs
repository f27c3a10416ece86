//! Reads Kubernetes manifests (files, directories, stdin) into an [`Inventory`].
//!
//! Multi-document YAML and JSON (JSON is read as YAML, which it is a subset of) and
//! `kind: List` are understood; every object remembers its file and line. Documents
//! that are not Kubernetes objects (no `kind`, e.g. a Helm `values.yaml`) and kinds the
//! facts do not use are ignored; malformed YAML is an error, never a skip.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::SourceError;
use crate::inventory::{Availability, ClusterInfo, Inventory, Location, Projected, project_object};

/// The name `-` stands for standard input.
pub const STDIN: &str = "-";
/// How stdin is named in locations and errors.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads every path (file, directory read recursively, or `-` for stdin).
pub fn read(paths: &[PathBuf]) -> Result<Inventory, SourceError> {
    let mut inventory = Inventory {
        cluster: ClusterInfo { name: "manifests".into(), ..ClusterInfo::default() },
        ..Inventory::default()
    };
    let mut kinds_seen = KindsSeen::default();
    for path in paths {
        if path.as_os_str() == STDIN {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| SourceError::Read { path: STDIN_NAME.into(), source })?;
            read_text(STDIN_NAME, &text, &mut inventory, &mut kinds_seen)?;
            continue;
        }
        for file in files_under(path)? {
            let text = std::fs::read_to_string(&file)
                .map_err(|source| SourceError::Read { path: file.display().to_string(), source })?;
            read_text(&file.display().to_string(), &text, &mut inventory, &mut kinds_seen)?;
        }
    }
    kinds_seen.mark(&mut inventory);
    Ok(inventory)
}

/// The files a path stands for: itself, or the `.yaml`/`.yml`/`.json` files below a
/// directory.
fn files_under(path: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let read_error = |path: &Path, source| SourceError::Read { path: path.display().to_string(), source };
    let metadata = std::fs::metadata(path).map_err(|source| read_error(path, source))?;
    if !metadata.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    crate::walk::files_below(path, &["yaml", "yml", "json"]).map_err(|(path, source)| read_error(&path, source))
}

/// Parses one file's text and adds its objects to the inventory.
pub fn read_text(file: &str, text: &str, inventory: &mut Inventory, seen: &mut KindsSeen) -> Result<(), SourceError> {
    let malformed = |error: &serde_saphyr::Error| {
        let problem = crate::yaml::describe(error);
        SourceError::Malformed {
            file: file.to_owned(),
            line: problem.line,
            column: problem.column,
            reason: problem.reason,
        }
    };
    let documents: Vec<Spanned<serde_json::Value>> =
        serde_saphyr::from_multiple_with_options(text, crate::yaml::manifest_options())
            .map_err(|error| malformed(&error))?;
    let has_list = documents.iter().any(|document| kind_of(&document.value) == Some("List"));
    // A second pass reads where each `items[]` entry of a List starts.
    let item_lines: Vec<ItemLines> =
        if has_list { serde_saphyr::from_multiple(text).map_err(|error| malformed(&error))? } else { Vec::new() };
    for (index, document) in documents.iter().enumerate() {
        let line = saturate(document.referenced.line());
        if kind_of(&document.value) == Some("List") {
            let items =
                document.value.get("items").and_then(serde_json::Value::as_array).map_or(&[][..], Vec::as_slice);
            let lines = item_lines.get(index).map_or(&[][..], |lines| lines.0.as_slice());
            for (position, item) in items.iter().enumerate() {
                let item_line = lines.get(position).copied().unwrap_or(line);
                add_object(file, item_line, item, inventory, seen)?;
            }
        } else {
            add_object(file, line, &document.value, inventory, seen)?;
        }
    }
    Ok(())
}

fn add_object(
    file: &str,
    line: u32,
    object: &serde_json::Value,
    inventory: &mut Inventory,
    seen: &mut KindsSeen,
) -> Result<(), SourceError> {
    let location = Location { file: file.to_owned(), line };
    let projected = project_object(object, Some(&location)).map_err(|error| SourceError::InvalidObject {
        file: file.to_owned(),
        line,
        reason: error.to_string(),
    })?;
    if let Some(projected) = projected {
        seen.note(&projected);
        inventory.add(projected);
    }
    Ok(())
}

/// Line numbers beyond `u32` do not occur in files anyone reads; clamp rather than panic.
fn saturate(line: u64) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

fn kind_of(value: &serde_json::Value) -> Option<&str> {
    value.get("kind").and_then(serde_json::Value::as_str)
}

/// Which kinds of objects appeared, to tell "there are none" from "this source cannot
/// show them" (a Helm chart has no Nodes, which says nothing about the cluster's nodes).
#[derive(Debug, Default)]
pub struct KindsSeen {
    nodes: bool,
    namespaces: bool,
    rbac_bindings: bool,
    apiserver_endpoints: bool,
    kubelet_configs: bool,
}

impl KindsSeen {
    fn note(&mut self, object: &Projected) {
        match object {
            Projected::Node(_) => self.nodes = true,
            Projected::Namespace(_) => self.namespaces = true,
            Projected::Binding(_) => self.rbac_bindings = true,
            Projected::EndpointSlice(slice) if slice.is_apiserver() => self.apiserver_endpoints = true,
            Projected::KubeletConfig(_) => self.kubelet_configs = true,
            _ => {}
        }
    }

    /// Marks what manifests cannot show. Workloads, Services and PDBs are always
    /// collected: the manifests are the whole set of them under review.
    pub fn mark(&self, inventory: &mut Inventory) {
        if !self.nodes {
            inventory.nodes.availability =
                Availability::not_collected("not part of this source: no Node objects in the manifests");
        }
        if !self.namespaces {
            let reason = "not part of this source: no Namespace objects in the manifests";
            inventory.namespaces.availability = Availability::not_collected(reason);
            inventory.network_policies.availability = Availability::not_collected(reason);
        }
        if !self.kubelet_configs {
            inventory.kubelet_configs.availability =
                Availability::not_collected("not part of this source: no KubeletConfiguration in the manifests");
        }
        if !self.apiserver_endpoints {
            inventory.apiserver_endpoints.availability = Availability::not_collected(
                "not part of this source: no EndpointSlice of the default/kubernetes Service in the manifests",
            );
        }
        if !self.rbac_bindings {
            let reason = "not part of this source: no RoleBinding or ClusterRoleBinding objects in the manifests";
            inventory.roles.availability = Availability::not_collected(reason);
            inventory.bindings.availability = Availability::not_collected(reason);
        }
    }
}

/// The start lines of a List document's `items[]`; empty for any other document.
struct ItemLines(Vec<u32>);

impl<'de> Deserialize<'de> for ItemLines {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemLinesVisitor)
    }
}

struct ItemLinesVisitor;

impl<'de> Visitor<'de> for ItemLinesVisitor {
    type Value = ItemLines;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ItemLines, A::Error> {
        let mut lines = Vec::new();
        while let Some(key) = map.next_key::<serde_json::Value>()? {
            if key.as_str() == Some("items") {
                let items: Option<Vec<Spanned<IgnoredAny>>> = map.next_value()?;
                lines = items.into_iter().flatten().map(|item| saturate(item.referenced.line())).collect();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(ItemLines(lines))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ItemLines, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ItemLines(Vec::new()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ItemLines, E> {
        Ok(ItemLines(Vec::new()))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ItemLines, E> {
        Ok(ItemLines(Vec::new()))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ItemLines, E> {
        Ok(ItemLines(Vec::new()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ItemLines, E> {
        Ok(ItemLines(Vec::new()))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<ItemLines, E> {
        Ok(ItemLines(Vec::new()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<ItemLines, E> {
        Ok(ItemLines(Vec::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<ItemLines, E> {
        Ok(ItemLines(Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn inventory_of(text: &str) -> Result<Inventory, SourceError> {
        let mut inventory = Inventory::default();
        read_text("test.yaml", text, &mut inventory, &mut KindsSeen::default())?;
        Ok(inventory)
    }

    #[test]
    fn documents_remember_their_lines() {
        let text = "# header\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: x}\n---\n\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b, namespace: x}\n";
        let inventory = inventory_of(text).expect("valid manifests");
        let lines: Vec<u32> = inventory
            .service_accounts
            .items
            .iter()
            .map(|account| account.meta.location.as_ref().expect("manifests have locations").line)
            .collect();
        assert_eq!(lines, vec![3, 8]);
    }

    #[test]
    fn list_items_remember_their_own_lines() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: a, namespace: x}\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: x}\n";
        let inventory = inventory_of(text).expect("valid list");
        assert_eq!(inventory.service_accounts.items[0].meta.location.as_ref().map(|l| l.line), Some(4));
        assert_eq!(inventory.namespaces.items[0].meta.location.as_ref().map(|l| l.line), Some(7));
    }

    #[test]
    fn json_is_read_like_yaml() {
        let text = "{\"apiVersion\": \"v1\",\n \"kind\": \"Namespace\",\n \"metadata\": {\"name\": \"x\"}}";
        let inventory = inventory_of(text).expect("valid json");
        assert_eq!(inventory.namespaces.items[0].meta.name, "x");
    }

    #[test]
    fn malformed_yaml_names_file_line_and_column() {
        let error =
            inventory_of("apiVersion: v1\nkind: Pod\n---\nmetadata: [a,\n  b: c\n").expect_err("unclosed bracket");
        let message = error.to_string();
        assert!(message.starts_with("test.yaml:4:"), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
    }

    #[test]
    fn wrongly_typed_fields_are_errors_not_skips() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  replicas: many\n";
        let message = inventory_of(text).expect_err("replicas must be a number").to_string();
        assert!(message.starts_with("test.yaml:1: invalid Deployment:"), "{message}");
    }

    #[test]
    fn large_dumps_are_read_whole() {
        // More documents than serde-saphyr's default budget of 1,024 allows.
        let text = (0..2_000).fold(String::new(), |mut text, index| {
            let _ = write!(
                text,
                "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{index}, namespace: x}}\n"
            );
            text
        });
        let inventory = inventory_of(&text).expect("a large dump reads");
        assert_eq!(inventory.service_accounts.items.len(), 2_000);
    }

    #[test]
    fn alias_bombs_are_still_refused() {
        // 150 aliases of one anchor: far beyond the alias-to-anchor ratio serde-saphyr allows.
        let aliases = vec!["*a"; 150].join(", ");
        let text = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n  b: [{aliases}]\n"
        );
        let error = inventory_of(&text).expect_err("amplification is refused");
        assert!(error.to_string().contains("budget breached"), "{error}");
    }

    #[test]
    fn documents_without_kind_and_unknown_kinds_are_ignored() {
        let text =
            "replicaCount: 3\n---\n- a\n- b\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
        let inventory = inventory_of(text).expect("ignorable documents");
        assert_eq!(inventory, Inventory::default());
    }
}
