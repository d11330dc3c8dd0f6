//! `index.json`: the list of images in the layout, changed atomically under a lock.
//!
//! Each image is one descriptor annotated with `org.opencontainers.image.ref.name`
//! holding its full normalized reference (`docker.io/library/alpine:3.20`), which is
//! the name `skopeo inspect oci:DIR:NAME` and `umoci unpack --image DIR:NAME` select.
//! Re-pulling a name replaces that name's entry; other names are never touched.

use std::io::Write;

use oci_spec::image::{Descriptor, ImageIndex, ImageIndexBuilder, MediaType};

use super::{Check, Layout, LayoutError, LayoutLock, fsync_dir};
use crate::digest::Digest;

/// The annotation that names an image inside an OCI layout.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// When regpull recorded the image (RFC 3339, UTC), for `regpull list`.
pub const PULLED_AT_ANNOTATION: &str = "dev.regpull.pulled-at";

/// `index.json` larger than this is not something regpull wrote; refuse to load it.
const MAX_INDEX_BYTES: u64 = 64 << 20;

/// The ref name of an index entry, if it has one.
pub fn ref_name(desc: &Descriptor) -> Option<&str> {
    desc.annotations()
        .as_ref()?
        .get(REF_NAME_ANNOTATION)
        .map(String::as_str)
}

pub(super) fn empty_index() -> ImageIndex {
    ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(Vec::<Descriptor>::new())
        .build()
        .expect("an empty index has every required field")
}

impl Layout {
    /// The current `index.json`.
    pub fn read_index(&self) -> Result<ImageIndex, LayoutError> {
        let path = self.index_path();
        let bytes = read_capped(&path, MAX_INDEX_BYTES)?;
        serde_json::from_slice(&bytes).map_err(|e| LayoutError::Corrupt {
            path,
            reason: e.to_string(),
        })
    }

    /// The descriptor recorded under `name`, if any.
    pub fn find_image(&self, name: &str) -> Result<Option<Descriptor>, LayoutError> {
        let index = self.read_index()?;
        Ok(index
            .manifests()
            .iter()
            .find(|d| ref_name(d) == Some(name))
            .cloned())
    }

    /// Records `desc` under `name`, replacing any entry of that name.
    ///
    /// The blob it points at must already be in the layout, so `index.json` never
    /// names content that is not there.
    pub fn add_image(&self, name: &str, desc: &Descriptor) -> Result<(), LayoutError> {
        let digest = Digest::parse(desc.digest().as_ref()).map_err(|e| LayoutError::Corrupt {
            path: self.index_path(),
            reason: e.to_string(),
        })?;
        if !self.has_blob(&digest, desc.size(), Check::Size)? {
            return Err(LayoutError::MissingBlob { digest });
        }
        let mut entry = desc.clone();
        let mut annotations = entry.annotations().clone().unwrap_or_default();
        annotations.insert(REF_NAME_ANNOTATION.to_string(), name.to_string());
        entry.set_annotations(Some(annotations));
        self.update_index(|index| {
            let mut manifests = index.manifests().clone();
            manifests.retain(|d| ref_name(d) != Some(name));
            manifests.push(entry);
            index.set_manifests(manifests);
        })
    }

    /// Drops the entry named `name`; returns whether there was one.
    pub fn remove_image(&self, name: &str) -> Result<bool, LayoutError> {
        Ok(self.take_image(name)?.is_some())
    }

    /// Drops the entry named `name` and returns it, read under the same lock, so
    /// what is reported removed is what was removed.
    pub fn take_image(&self, name: &str) -> Result<Option<Descriptor>, LayoutError> {
        let mut removed = None;
        self.update_index(|index| {
            let (gone, kept): (Vec<Descriptor>, Vec<Descriptor>) = index
                .manifests()
                .iter()
                .cloned()
                .partition(|d| ref_name(d) == Some(name));
            removed = gone.into_iter().next();
            index.set_manifests(kept);
        })?;
        Ok(removed)
    }

    /// Read-modify-write of `index.json` under the layout lock, replaced atomically.
    fn update_index(&self, change: impl FnOnce(&mut ImageIndex)) -> Result<(), LayoutError> {
        let _lock = LayoutLock::acquire(&self.lock_path())?;
        let mut index = self.read_index()?;
        change(&mut index);
        self.replace_file(
            &self.index_path(),
            &serde_json::to_vec_pretty(&index).expect("index serializes"),
        )
    }

    /// Writes `bytes` to a temp file, fsyncs it, and renames it over `path`.
    pub(super) fn replace_file(
        &self,
        path: &std::path::Path,
        bytes: &[u8],
    ) -> Result<(), LayoutError> {
        let write_err = |source| LayoutError::Write {
            path: path.to_path_buf(),
            source,
        };
        // A layout another tool wrote (skopeo, umoci) has no `.regpull/` yet.
        std::fs::create_dir_all(self.tmp_dir()).map_err(write_err)?;
        // Readable by everyone the umask allows, like the blobs: a layout
        // shared between users (a cluster's prefetch cache) is read by all.
        let mut tmp = tempfile::Builder::new()
            .suffix(".tmp")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .tempfile_in(self.tmp_dir())
            .map_err(write_err)?;
        tmp.write_all(bytes).map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        tmp.persist(path).map_err(|e| write_err(e.error))?;
        fsync_dir(self.root()).map_err(write_err)
    }
}

/// Reads a whole file, refusing one larger than `limit`.
pub(super) fn read_capped(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, LayoutError> {
    use std::io::Read;
    let read_err = |source| LayoutError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > limit {
        return Err(LayoutError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("larger than the {limit} bytes regpull accepts for it"),
        });
    }
    Ok(bytes)
}
