//! Reads Kubernetes manifests (files, directories, stdin) into an [`Inventory`].
//!
//! Multi-document YAML and JSON (JSON is read as YAML, which it is a subset of), `List`
//! and every `*List` kind (nested too) are understood; every object remembers its file
//! and line and counts once. Documents that are not Kubernetes objects (no `apiVersion`
//! or `kind`, e.g. a Helm `values.yaml`) and kinds the facts do not use are skipped and
//! listed with their place; malformed YAML is an error, never a skip.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::SourceError;
use crate::inventory::{Availability, ClusterInfo, Duplicate, Inventory, Location, Projected, Skipped, project_object};

/// The name `-` stands for standard input.
pub const STDIN: &str = "-";
/// How stdin is named in locations and errors.
pub const STDIN_NAME: &str = "<stdin>";
/// The size limit of one input (a file, or stdin) unless `--max-input-size` says otherwise:
/// a dump of 100,000 objects is about 130 MB.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 512 * 1024 * 1024;

/// Reads every path (file, directory read recursively, or `-` for stdin). Only regular
/// files, directories and stdin are read: a device, FIFO or socket is refused at once,
/// also inside a directory, and no input may exceed `max_bytes`.
pub fn read(paths: &[PathBuf], max_bytes: u64) -> Result<Inventory, SourceError> {
    let mut reader = Reader::default();
    reader.inventory.cluster = ClusterInfo { name: "manifests".into(), ..ClusterInfo::default() };
    for path in paths {
        if path.as_os_str() == STDIN {
            let text = super::read_limited(std::io::stdin().lock(), STDIN_NAME, max_bytes)?;
            reader.read_text(STDIN_NAME, &text)?;
            continue;
        }
        for file in files_under(path)? {
            let text = super::read_regular_file(&file, max_bytes)?;
            reader.read_text(&file.display().to_string(), &text)?;
        }
    }
    Ok(reader.finish())
}

/// Reads one manifest text on its own, as a whole source (for tests and fixtures).
pub fn read_str(file: &str, text: &str) -> Result<Inventory, SourceError> {
    let mut reader = Reader::default();
    reader.read_text(file, text)?;
    Ok(reader.finish())
}

/// The files a path stands for: itself, or the `.yaml`/`.yml`/`.json` files below a
/// directory. Anything that is neither a regular file nor a directory is refused.
fn files_under(path: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let read_error = |path: &Path, source| SourceError::Read { path: path.display().to_string(), source };
    let metadata = std::fs::metadata(path).map_err(|source| read_error(path, source))?;
    let files = if metadata.is_dir() {
        crate::walk::files_below(path, &["yaml", "yml", "json"]).map_err(|(path, source)| read_error(&path, source))?
    } else {
        vec![path.to_path_buf()]
    };
    // Every file is checked before any is read, so a FIFO deep in a directory is refused
    // at once rather than after minutes of reading.
    for file in &files {
        let metadata = std::fs::metadata(file).map_err(|source| read_error(file, source))?;
        super::refuse_special(file, &metadata)?;
    }
    Ok(files)
}

/// Gathers the objects of every document read, once each.
#[derive(Default)]
struct Reader {
    inventory: Inventory,
    kinds_seen: KindsSeen,
    /// Where each object was first read, by [`Meta::identity`].
    first_read: BTreeMap<String, Location>,
}

impl Reader {
    /// Parses one file's text and adds its objects to the inventory.
    fn read_text(&mut self, file: &str, text: &str) -> Result<(), SourceError> {
        let malformed = |error: &serde_saphyr::Error| {
            let problem = crate::yaml::describe(error);
            SourceError::Malformed {
                file: file.to_owned(),
                line: problem.line,
                column: problem.column,
                reason: problem.reason,
            }
        };
        // Where each `items[]` entry of a list starts takes a pass of its own, which keeps
        // only line numbers; a text without the word `List` can hold no list.
        let item_lines: Vec<ItemLines> = if text.contains("List") {
            serde_saphyr::from_multiple_with_options(text, crate::yaml::manifest_options())
                .map_err(|error| malformed(&error))?
        } else {
            Vec::new()
        };
        // Documents are parsed, projected and dropped one at a time: memory holds one
        // document and the compact inventory, never the whole file's documents.
        let mut input = text.as_bytes();
        let documents = serde_saphyr::read_with_options::<_, Spanned<serde_json::Value>>(
            &mut input,
            crate::yaml::manifest_options(),
        );
        for (index, document) in documents.enumerate() {
            let document = document.map_err(|error| malformed(&error))?;
            let line = saturate(document.referenced.line());
            let lines = item_lines.get(index).map_or(&[][..], |lines| lines.0.as_slice());
            self.add_document(file, line, document.value, lines)?;
        }
        Ok(())
    }

    /// Adds one document: an object, or every item of a list (lists nest).
    fn add_document(
        &mut self,
        file: &str,
        line: u32,
        mut document: serde_json::Value,
        item_lines: &[ItemLine],
    ) -> Result<(), SourceError> {
        let location = Location { file: file.to_owned(), line };
        if is_list(&document) {
            // Items are moved out one by one and projected: each is freed once read.
            let items = match document.get_mut("items").map(serde_json::Value::take) {
                Some(serde_json::Value::Array(items)) => items,
                _ => Vec::new(),
            };
            for (position, item) in items.into_iter().enumerate() {
                let (item_line, nested) =
                    item_lines.get(position).map_or((line, &[][..]), |entry| (entry.line, entry.items.as_slice()));
                self.add_document(file, item_line, item, nested)?;
            }
            return Ok(());
        }
        let text = |key: &str| document.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        if api_version.is_empty() || kind.is_empty() {
            self.skip(location, "not a Kubernetes object (no apiVersion or kind)".into());
            return Ok(());
        }
        let projected = project_object(document, Some(&location)).map_err(|error| SourceError::InvalidObject {
            file: file.to_owned(),
            line,
            reason: error.to_string(),
        })?;
        let Some(projected) = projected else {
            self.skip(location, format!("{api_version} {kind} is not a kind seaworthy reads"));
            return Ok(());
        };
        let identity = projected.meta().identity();
        if let Some(first) = self.first_read.get(&identity) {
            self.inventory.duplicates.push(Duplicate { object: identity, first: first.clone(), again: location });
            return Ok(());
        }
        self.first_read.insert(identity, location);
        self.kinds_seen.note(&projected);
        self.inventory.add(projected);
        Ok(())
    }

    fn skip(&mut self, location: Location, reason: String) {
        self.inventory.skipped.push(Skipped { location, reason });
    }

    fn finish(mut self) -> Inventory {
        self.kinds_seen.mark(&mut self.inventory);
        self.inventory
    }
}

/// `List` (what `kubectl get -o json` writes) and every typed `*List` kind.
fn is_list(document: &serde_json::Value) -> bool {
    kind_of(document).is_some_and(|kind| kind.ends_with("List"))
        && document.get("items").is_none_or(serde_json::Value::is_array)
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
struct KindsSeen {
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
    fn mark(&self, inventory: &mut Inventory) {
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

/// Where each `items[]` entry of a list document starts, with the entries of lists
/// nested in it; empty for any other document.
#[derive(Default)]
struct ItemLines(Vec<ItemLine>);

/// One list entry: its start line and, when it is a list itself, its own entries.
struct ItemLine {
    line: u32,
    items: Vec<ItemLine>,
}

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
                let items: Option<Vec<Spanned<ItemLines>>> = map.next_value()?;
                lines = items
                    .into_iter()
                    .flatten()
                    .map(|item| ItemLine { line: saturate(item.referenced.line()), items: item.value.0 })
                    .collect();
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(ItemLines(lines))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ItemLines, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ItemLines::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<ItemLines, E> {
        Ok(ItemLines::default())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn inventory_of(text: &str) -> Result<Inventory, SourceError> {
        read_str("test.yaml", text)
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
    fn documents_without_kind_and_unknown_kinds_are_skipped_with_their_lines() {
        let text =
            "replicaCount: 3\n---\n- a\n- b\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n";
        let inventory = inventory_of(text).expect("skippable documents");
        assert!(inventory.workloads.items.is_empty());
        let skipped: Vec<(u32, &str)> =
            inventory.skipped.iter().map(|entry| (entry.location.line, entry.reason.as_str())).collect();
        assert_eq!(
            skipped,
            vec![
                (1, "not a Kubernetes object (no apiVersion or kind)"),
                (3, "not a Kubernetes object (no apiVersion or kind)"),
                (6, "example.com/v1 Widget is not a kind seaworthy reads"),
            ]
        );
    }

    #[test]
    fn nested_and_typed_lists_keep_their_item_lines() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ServiceAccountList\n  items:\n  - apiVersion: v1\n    kind: ServiceAccount\n    metadata: {name: a, namespace: x}\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: b, namespace: x}\n";
        let inventory = inventory_of(text).expect("nested list");
        let lines: Vec<(String, u32)> = inventory
            .service_accounts
            .items
            .iter()
            .map(|account| (account.meta.name.clone(), account.meta.location.as_ref().map_or(0, |l| l.line)))
            .collect();
        assert_eq!(lines, vec![("a".to_owned(), 7), ("b".to_owned(), 10)]);
    }

    #[test]
    fn an_object_read_twice_is_kept_once_and_reported() {
        let document = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: x}\n";
        let inventory = inventory_of(&format!("{document}---\n{document}")).expect("valid");
        assert_eq!(inventory.service_accounts.items.len(), 1);
        assert_eq!(inventory.duplicates.len(), 1);
        assert_eq!((inventory.duplicates[0].first.line, inventory.duplicates[0].again.line), (1, 5));
        // Same name in another namespace: two objects.
        let other = document.replace("namespace: x", "namespace: other");
        assert_eq!(inventory_of(&format!("{document}---\n{other}")).expect("valid").service_accounts.items.len(), 2);
    }
}
