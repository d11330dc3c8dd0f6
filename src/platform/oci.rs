//! A platform as OCI documents declare it: an image index entry's `platform`
//! object, or an image config, which names the same fields at its top level
//! (image-spec `image-index.md` and `config.md`): `os`, `architecture`,
//! `variant`, `os.version`, `os.features`.
//!
//! Values are kept as declared (`aarch64` stays `aarch64`): matching folds the
//! aliases ([`Platform::normalize`]), while listings show what the image says.

use serde_json::Value;

use super::Platform;

impl Platform {
    /// The platform a JSON object declares; `None` when `value` is not an object.
    /// A field that is missing or not a string is empty, and features that are
    /// not strings are skipped: the caller decides whether an OS or an
    /// architecture is required.
    pub fn from_json(value: &Value) -> Option<Platform> {
        let object = value.as_object()?;
        let text = |key: &str| {
            object
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let os_features = object
            .get("os.features")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Some(Platform {
            os: text("os"),
            architecture: text("architecture"),
            variant: text("variant"),
            os_version: text("os.version"),
            os_features,
        })
    }
}

/// An oci-spec descriptor's platform (`Descriptor::platform`), field by field.
/// oci-spec 0.10 reads `os.version` and `os.features` under other names
/// (`os_version`, `os_features`), so a descriptor parsed from a document never
/// has them; where the JSON is at hand, [`Platform::from_json`] reads them.
impl From<&oci_spec::image::Platform> for Platform {
    fn from(p: &oci_spec::image::Platform) -> Self {
        Platform {
            os: p.os().to_string(),
            architecture: p.architecture().to_string(),
            variant: p.variant().clone().unwrap_or_default(),
            os_version: p.os_version().clone().unwrap_or_default(),
            os_features: p.os_features().clone().unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_every_field_the_spec_names() {
        let p = Platform::from_json(&json!({
            "os": "windows",
            "architecture": "amd64",
            "os.version": "10.0.17763.1879",
            "os.features": ["win32k"],
        }))
        .unwrap();
        assert_eq!(p.format_all(), "windows(10.0.17763.1879+win32k)/amd64");
        let arm =
            Platform::from_json(&json!({"os": "linux", "architecture": "arm", "variant": "v7"}));
        assert_eq!(arm, Some(Platform::new("linux", "arm", "v7")));
    }

    #[test]
    fn an_image_config_declares_its_platform_at_the_top_level() {
        let config = json!({
            "architecture": "arm64",
            "variant": "v8",
            "os": "linux",
            "config": {"Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": []},
        });
        let p = Platform::from_json(&config).unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
    }

    #[test]
    fn missing_and_mistyped_fields_are_empty() {
        let p = Platform::from_json(&json!({
            "architecture": 64,
            "variant": null,
            "os.version": ["10"],
            "os.features": ["sse4", 2, null, "avx"],
        }))
        .unwrap();
        assert_eq!(
            p,
            Platform {
                os_features: vec!["sse4".into(), "avx".into()],
                ..Default::default()
            }
        );
        assert_eq!(p.to_string(), "unknown");
        assert_eq!(
            Platform::from_json(&json!({"os": "linux", "os.features": "x"}))
                .unwrap()
                .os_features,
            Vec::<String>::new()
        );
    }

    #[test]
    fn only_an_object_declares_a_platform() {
        for not_an_object in [
            json!("linux/amd64"),
            json!(null),
            json!(["linux"]),
            json!(1),
        ] {
            assert_eq!(Platform::from_json(&not_an_object), None, "{not_an_object}");
        }
    }

    #[test]
    fn names_are_kept_as_declared_and_folded_only_for_matching() {
        let p = Platform::from_json(&json!({"os": "Linux", "architecture": "aarch64"})).unwrap();
        assert_eq!(p.to_string(), "Linux/aarch64");
        assert_eq!(p.normalize().to_string(), "linux/arm64");
    }

    #[test]
    fn an_oci_spec_platform_converts_field_by_field() {
        let oci: oci_spec::image::Platform = serde_json::from_value(json!({
            "os": "linux",
            "architecture": "arm",
            "variant": "v6",
        }))
        .unwrap();
        assert_eq!(Platform::from(&oci), Platform::new("linux", "arm", "v6"));
    }
}
