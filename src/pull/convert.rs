//! Docker schema 2 documents rewritten as their OCI equivalents.
//!
//! umoci and skopeo 1.9 cannot read Docker-typed manifests from an OCI layout,
//! and older images (NGC's 18.x tensorflow, for one) are all Docker-typed. The two
//! formats are the same JSON with different media types, so only `mediaType`
//! fields change; config and layer bytes, and every other field, stay as they are.
//! The result has a new digest; the registry's digest is kept in an annotation.

use std::collections::HashMap;

use serde_json::Value;

use super::media::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use crate::digest::Digest;

/// Annotation on the `index.json` entry: the digest the registry knows the image by.
pub const REGISTRY_DIGEST_ANNOTATION: &str = "dev.regpull.registry-digest";

/// Docker media types and their OCI counterparts.
const MEDIA_TYPE_MAP: &[(&str, &str)] = &[
    (DOCKER_MANIFEST, OCI_MANIFEST),
    (DOCKER_LIST, OCI_INDEX),
    (
        "application/vnd.docker.container.image.v1+json",
        "application/vnd.oci.image.config.v1+json",
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.oci.image.layer.v1.tar+gzip",
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.oci.image.layer.v1.tar",
    ),
    (
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    ),
];

fn oci_type(media_type: &str) -> Option<&'static str> {
    MEDIA_TYPE_MAP
        .iter()
        .find(|(d, _)| *d == media_type)
        .map(|(_, o)| *o)
}

fn rewrite_media_type(v: &mut Value) {
    if let Some(m) = v
        .get("mediaType")
        .and_then(Value::as_str)
        .and_then(oci_type)
    {
        v["mediaType"] = Value::String(m.to_string());
    }
}

/// A Docker image manifest as an OCI image manifest.
pub fn manifest_to_oci(json: &Value) -> Vec<u8> {
    let mut m = json.clone();
    m["mediaType"] = Value::String(OCI_MANIFEST.to_string());
    if let Some(config) = m.get_mut("config") {
        rewrite_media_type(config);
    }
    if let Some(layers) = m.get_mut("layers").and_then(Value::as_array_mut) {
        layers.iter_mut().for_each(rewrite_media_type);
    }
    serde_json::to_vec(&m).expect("JSON value serializes")
}

/// A Docker manifest list as an OCI index whose entries point at the rewritten
/// children (`replaced`: registry digest -> (stored digest, size)).
pub fn index_to_oci(json: &Value, replaced: &HashMap<Digest, (Digest, u64)>) -> Vec<u8> {
    let mut index = json.clone();
    index["mediaType"] = Value::String(OCI_INDEX.to_string());
    if let Some(entries) = index.get_mut("manifests").and_then(Value::as_array_mut) {
        for entry in entries {
            rewrite_media_type(entry);
            let old = entry
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|d| Digest::parse(d).ok());
            if let Some((new, size)) = old.and_then(|d| replaced.get(&d)) {
                entry["digest"] = Value::String(new.to_string());
                entry["size"] = Value::from(*size);
            }
        }
    }
    serde_json::to_vec(&index).expect("JSON value serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_media_types_change() {
        let docker: Value = serde_json::from_str(include_str!(
            "../../tests/data/manifests/containers-image__v2s2.manifest.json"
        ))
        .unwrap();
        let oci: Value = serde_json::from_slice(&manifest_to_oci(&docker)).unwrap();
        assert_eq!(oci["mediaType"], OCI_MANIFEST);
        assert_eq!(
            oci["config"]["mediaType"],
            "application/vnd.oci.image.config.v1+json"
        );
        assert_eq!(oci["config"]["digest"], docker["config"]["digest"]);
        for (a, b) in oci["layers"]
            .as_array()
            .unwrap()
            .iter()
            .zip(docker["layers"].as_array().unwrap())
        {
            assert_eq!(
                a["mediaType"],
                "application/vnd.oci.image.layer.v1.tar+gzip"
            );
            assert_eq!((&a["digest"], &a["size"]), (&b["digest"], &b["size"]));
        }
    }

    #[test]
    fn list_entries_point_at_rewritten_children() {
        let list: Value = serde_json::from_str(include_str!(
            "../../tests/data/manifests/containers-image__schema2list.json"
        ))
        .unwrap();
        let first = Digest::parse(list["manifests"][0]["digest"].as_str().unwrap()).unwrap();
        let new = Digest::sha256_of(b"rewritten");
        let replaced = HashMap::from([(first, (new.clone(), 9))]);
        let oci: Value = serde_json::from_slice(&index_to_oci(&list, &replaced)).unwrap();
        assert_eq!(oci["mediaType"], OCI_INDEX);
        assert_eq!(oci["manifests"][0]["digest"], new.to_string());
        assert_eq!(oci["manifests"][0]["size"], 9);
        assert_eq!(oci["manifests"][0]["mediaType"], OCI_MANIFEST);
        assert_eq!(
            oci["manifests"][1]["digest"],
            list["manifests"][1]["digest"]
        );
    }
}
