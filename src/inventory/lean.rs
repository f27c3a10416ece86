//! The shapes API objects are read in: only as far as a projection reads them.
//!
//! A live pod carries managedFields, a copy of its last applied configuration and a
//! long status, a node the list of every image it holds; none of it becomes a fact.
//! These shapes keep k8s-openapi's types for what projections read (a spec, role rules,
//! binding subjects), so a field of the wrong type there is still an error, and let
//! serde skip everything else unread — neither decoded nor allocated. Manifests and the
//! live API are read in the same shapes.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::removed::{LAST_APPLIED_ANNOTATION, LastApplied, last_applied};

/// Object metadata as projections read it (`managedFields` and the rest are skipped).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Metadata {
    /// `metadata.name`.
    pub name: Option<String>,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.uid`.
    pub uid: Option<String>,
    /// `metadata.labels`.
    pub labels: Option<BTreeMap<String, String>>,
    /// `metadata.annotations`, as far as read.
    pub annotations: Option<Annotations>,
    /// `metadata.ownerReferences`.
    pub owner_references: Option<Vec<OwnerReference>>,
}

/// An object with a spec (and, for kinds whose status a projection reads, a status).
#[derive(Clone, Debug, Deserialize)]
pub struct Object<Spec, Status = IgnoredAny> {
    /// The object's metadata.
    #[serde(default)]
    pub metadata: Option<Metadata>,
    /// The spec, typed by k8s-openapi.
    #[serde(default)]
    pub spec: Option<Spec>,
    /// The status, as far as it is read; skipped for most kinds.
    #[serde(default)]
    pub status: Option<Status>,
}

/// A pod's status: which image each container runs.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStatus {
    /// `status.containerStatuses`.
    pub container_statuses: Option<Vec<ContainerStatus>>,
    /// `status.initContainerStatuses`.
    pub init_container_statuses: Option<Vec<ContainerStatus>>,
    /// `status.ephemeralContainerStatuses`.
    pub ephemeral_container_statuses: Option<Vec<ContainerStatus>>,
}

/// The image a container runs; its state, readiness and restarts are skipped.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerStatus {
    /// The container's name.
    pub name: String,
    /// The image as the kubelet reports it.
    pub image: String,
    /// The image's digest as the runtime resolved it.
    #[serde(rename = "imageID")]
    pub image_id: String,
}

/// A node's status: its addresses and software versions (not the images it holds).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeStatus {
    /// `status.addresses`.
    pub addresses: Option<Vec<core::NodeAddress>>,
    /// `status.nodeInfo`.
    pub node_info: Option<NodeInfo>,
}

/// `status.nodeInfo`, as far as it is read.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeInfo {
    /// The kubelet's version.
    pub kubelet_version: String,
    /// The operating system image ("Ubuntu 22.04.4 LTS").
    pub os_image: String,
    /// The container runtime and its version ("containerd://1.7.13").
    pub container_runtime_version: String,
}

/// A Role or ClusterRole.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Role {
    /// The object's metadata.
    pub metadata: Option<Metadata>,
    /// The rules it grants.
    pub rules: Option<Vec<rbac::PolicyRule>>,
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Binding {
    /// The object's metadata.
    pub metadata: Option<Metadata>,
    /// The role it grants.
    pub role_ref: Option<rbac::RoleRef>,
    /// Whom it grants it to.
    pub subjects: Option<Vec<rbac::Subject>>,
}

/// An EndpointSlice.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EndpointSlice {
    /// The object's metadata.
    pub metadata: Option<Metadata>,
    /// Its endpoints.
    pub endpoints: Option<Vec<discovery::Endpoint>>,
    /// Its ports.
    pub ports: Option<Vec<discovery::EndpointPort>>,
}

/// The annotation a kubelet puts on the mirror pod of a static pod.
pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Before Kubernetes 1.30's `securityContext.appArmorProfile`, a container's AppArmor
/// profile was this annotation's value, the container's name after the slash; it is
/// still honoured (and judged by Pod Security admission).
pub const APP_ARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The annotations as far as read: whether the mirror-pod one is there, the AppArmor
/// profiles of the pre-1.30 annotations, and whether the last applied configuration was
/// written against a removed API version. Every other value is skipped unread, and of
/// the last applied configuration (a whole copy of the object) only its `apiVersion`
/// and `kind` are kept, and only when they are removed.
#[derive(Clone, Debug, Default)]
pub struct Annotations {
    /// [`MIRROR_ANNOTATION`] is present.
    pub mirror: bool,
    /// The last applied manifest's removed API version.
    pub last_applied_removed: Option<Box<LastApplied>>,
    /// AppArmor annotations as (container, value).
    pub app_armor: Vec<(String, String)>,
}

impl<'de> Deserialize<'de> for Annotations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnnotationsVisitor;

        impl<'de> Visitor<'de> for AnnotationsVisitor {
            type Value = Annotations;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Annotations, A::Error> {
                let mut annotations = Annotations::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == LAST_APPLIED_ANNOTATION {
                        let configuration = map.next_value::<String>()?;
                        annotations.last_applied_removed = last_applied(&configuration).map(Box::new);
                    } else if let Some(container) = key.strip_prefix(APP_ARMOR_ANNOTATION_PREFIX) {
                        let value = map.next_value::<String>()?;
                        annotations.app_armor.push((container.to_owned(), value));
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        annotations.mirror |= key == MIRROR_ANNOTATION;
                    }
                }
                Ok(annotations)
            }
        }

        deserializer.deserialize_map(AnnotationsVisitor)
    }
}

/// A ConfigMap's metadata and text entries (`binaryData` is skipped unread).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfigMapData {
    /// The object's metadata.
    pub metadata: Option<Metadata>,
    /// `data`.
    pub data: Option<BTreeMap<String, String>>,
}
