//! The one walk over a layout's images: from each `index.json` entry through
//! indexes (nested ones too) and manifests to configs and layers. `list`,
//! `verify`, `gc` and `rm` all see the layout through it, so they agree on
//! what each image needs.
//!
//! What is a document is known from where a descriptor stands and from what
//! the blob holds, never from `mediaType`, which producers may leave out or
//! spell their own way: an `index.json` entry, an index's `manifests[]` and a
//! `subject` point at documents, which are read, and whose JSON says what they
//! are (`manifests`: an index; `config`, `layers` or `blobs`: a manifest). A
//! config, a layer or an artifact's `blobs` is never read.
//!
//! Nothing read is trusted: a document is parsed only once its bytes hash to
//! its digest, and only up to [`MAX_MANIFEST_BYTES`]; nesting stops at
//! [`MAX_NESTING`]; each digest is visited once. What cannot be walked is
//! reported as a [`Trouble`], never dropped.

use std::collections::HashSet;
use std::{fs, io};

use oci_spec::image::Descriptor;
use serde_json::Value;

use super::mentions::mentioned_digests;
use super::{Layout, LayoutError, MAX_MANIFEST_BYTES, MAX_NESTING, ref_name};
use crate::digest::Digest;

/// One blob an image references, as its parent document describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
    /// A manifest or index (or a blob that stands where one should), not a
    /// config or layer.
    pub document: bool,
    /// Whether a file is at the blob's path; `verify` says whether it is whole.
    pub present: bool,
}

/// Why a document could not be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// It is not in the layout.
    Missing,
    /// Its bytes do not hash to its digest.
    Damaged,
    /// Larger than regpull reads, or nested deeper than it follows.
    OverLimit(String),
    /// Intact, but not an index or manifest regpull can read. The blobs its
    /// text names by digest were followed instead.
    Unparseable(String),
}

impl Gap {
    /// What is wrong, for people.
    pub fn reason(&self) -> String {
        match self {
            Gap::Missing => "missing".into(),
            Gap::Damaged => "its content does not match its digest".into(),
            Gap::OverLimit(why) | Gap::Unparseable(why) => why.clone(),
        }
    }
}

/// A document the walk could not read as an index or manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trouble {
    pub digest: Digest,
    pub gap: Gap,
}

/// Everything one image reaches.
#[derive(Debug, Clone, Default)]
pub struct ImageWalk {
    /// Every distinct blob, the top document first, then depth first in the
    /// order the documents list them.
    pub blobs: Vec<BlobRef>,
    pub troubles: Vec<Trouble>,
    /// The top document as JSON, when it could be read.
    pub top: Option<Value>,
}

impl ImageWalk {
    /// Whether every blob the image needs is known. A document that is
    /// missing, damaged or over a limit hides what is below it; an unparseable
    /// one does not, since what its text names was followed.
    pub fn complete(&self) -> bool {
        self.troubles
            .iter()
            .all(|t| matches!(t.gap, Gap::Unparseable(_)))
    }

    /// Distinct blobs that are not in the layout.
    pub fn missing(&self) -> usize {
        self.blobs.iter().filter(|b| !b.present).count()
    }

    /// Documents that are there but could not be read.
    pub fn unreadable(&self) -> usize {
        self.troubles
            .iter()
            .filter(|t| t.gap != Gap::Missing)
            .count()
    }
}

/// How a descriptor was reached, which says what its blob must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    /// An `index.json` entry or an index's `manifests[]`: a document.
    Document,
    /// A `subject`: a weak link (image-spec lets the subject be absent),
    /// followed when the blob is there.
    Subject,
    /// A config, a layer, an artifact's `blobs`: never read.
    Leaf,
    /// A digest in the text of an unparseable document: kept when present,
    /// followed when it turns out to be a document.
    Mentioned,
}

/// What one blob turned out to be.
enum Seen {
    /// A weak link to nothing: not part of the image.
    Absent,
    /// Not a document.
    Leaf,
    /// A document: what it leads to, and what kept it from being read.
    Document {
        next: Vec<Step>,
        json: Option<Value>,
        gap: Option<Gap>,
    },
}

/// A descriptor still to visit.
struct Step {
    digest: Digest,
    size: Option<u64>,
    media_type: String,
    edge: Edge,
    depth: usize,
}

impl Layout {
    /// Every `index.json` entry with what it reaches, in index order.
    pub fn walk(&self) -> Result<Vec<(Descriptor, ImageWalk)>, LayoutError> {
        let index = self.read_index()?;
        let mut out = Vec::new();
        for desc in index.manifests() {
            let walked = self.walk_image(desc)?;
            out.push((desc.clone(), walked));
        }
        Ok(out)
    }

    /// Walks the image `top` (an `index.json` entry) points at.
    pub fn walk_image(&self, top: &Descriptor) -> Result<ImageWalk, LayoutError> {
        let mut walk = ImageWalk::default();
        let mut todo = vec![Step {
            digest: self.entry_digest(top)?,
            size: Some(top.size()),
            media_type: top.media_type().to_string(),
            edge: Edge::Document,
            depth: 0,
        }];
        let mut seen = HashSet::new();
        while let Some(step) = todo.pop() {
            if seen.insert(step.digest.clone()) {
                self.visit(step, &mut walk, &mut todo)?;
            }
        }
        Ok(walk)
    }

    /// The digest an `index.json` entry points at.
    pub(super) fn entry_digest(&self, desc: &Descriptor) -> Result<Digest, LayoutError> {
        Digest::parse(desc.digest().as_ref()).map_err(|e| LayoutError::Corrupt {
            path: self.index_path(),
            reason: format!(
                "the entry {} has an invalid digest: {e}",
                ref_name(desc).unwrap_or("without a ref name")
            ),
        })
    }

    /// Records one blob and queues what it leads to.
    fn visit(
        &self,
        step: Step,
        walk: &mut ImageWalk,
        todo: &mut Vec<Step>,
    ) -> Result<(), LayoutError> {
        let on_disk = self.blob_len(&step.digest)?;
        let (document, next, gap) = match self.examine(&step, on_disk)? {
            Seen::Absent => return Ok(()),
            Seen::Leaf => (false, Vec::new(), None),
            Seen::Document { next, json, gap } => {
                if step.depth == 0 {
                    walk.top = json;
                }
                (true, next, gap)
            }
        };
        walk.blobs.push(BlobRef {
            digest: step.digest.clone(),
            size: step.size.or(on_disk).unwrap_or_default(),
            media_type: step.media_type,
            document,
            present: on_disk.is_some(),
        });
        if let Some(gap) = gap {
            walk.troubles.push(Trouble {
                digest: step.digest,
                gap,
            });
        }
        // Reversed, so that the stack pops them in the document's order.
        todo.extend(next.into_iter().rev());
        Ok(())
    }

    /// What the blob at `step` is, read when it must be a document.
    fn examine(&self, step: &Step, on_disk: Option<u64>) -> Result<Seen, LayoutError> {
        let weak = matches!(step.edge, Edge::Subject | Edge::Mentioned);
        let mentioned = step.edge == Edge::Mentioned;
        let broken = |gap| Seen::Document {
            next: Vec::new(),
            json: None,
            gap: Some(gap),
        };
        match (step.edge, on_disk) {
            (Edge::Leaf, _) => return Ok(Seen::Leaf),
            (_, None) if weak => return Ok(Seen::Absent),
            (_, None) => return Ok(broken(Gap::Missing)),
            // Too large for a document: a layer that a document regpull
            // cannot read names.
            (_, Some(len)) if mentioned && len > MAX_MANIFEST_BYTES => return Ok(Seen::Leaf),
            _ => {}
        }
        if step.depth >= MAX_NESTING {
            let why = format!("more than {MAX_NESTING} documents nested in each other");
            return Ok(broken(Gap::OverLimit(why)));
        }
        let bytes = match self.read_blob(&step.digest, MAX_MANIFEST_BYTES) {
            Ok(bytes) => bytes,
            Err(_) if mentioned => return Ok(Seen::Leaf),
            Err(LayoutError::Verify { .. }) => return Ok(broken(Gap::Damaged)),
            Err(LayoutError::Corrupt { reason, .. }) => return Ok(broken(Gap::OverLimit(reason))),
            Err(e) => return Err(e),
        };
        let depth = step.depth + 1;
        let parsed = serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(|doc| Ok((children(&doc, depth)?, doc)));
        Ok(match parsed {
            Ok((next, json)) => Seen::Document {
                next,
                json: Some(json),
                gap: None,
            },
            Err(_) if mentioned => Seen::Leaf,
            // Whatever this document references, it names by digest: each one
            // is kept and followed, so that no blob it may need is deleted
            // because regpull cannot read the document.
            Err(reason) => Seen::Document {
                next: mentioned_digests(&bytes)
                    .into_iter()
                    .map(|digest| Step {
                        digest,
                        size: None,
                        media_type: String::new(),
                        edge: Edge::Mentioned,
                        depth,
                    })
                    .collect(),
                json: None,
                gap: Some(Gap::Unparseable(reason)),
            },
        })
    }

    /// The length of the file at the blob's path; `None` when there is none.
    fn blob_len(&self, digest: &Digest) -> Result<Option<u64>, LayoutError> {
        let path = self.blob_path(digest);
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(LayoutError::Read { path, source }),
        }
    }
}

/// What a document references, each with how it was reached. Whichever of
/// `manifests`, `config`, `layers`, `blobs` and `subject` it has are all
/// followed: a document with `manifests` and `layers` both keeps both.
fn children(doc: &Value, depth: usize) -> Result<Vec<Step>, String> {
    let doc = doc.as_object().ok_or("not a JSON object")?;
    if !["manifests", "config", "layers", "blobs"]
        .iter()
        .any(|k| doc.contains_key(*k))
    {
        return Err("neither an index (`manifests`) nor a manifest (`config`, `layers`)".into());
    }
    let mut out = Vec::new();
    let list = |key: &str| -> Result<&[Value], String> {
        match doc.get(key) {
            None => Ok(&[]),
            Some(v) => Ok(v
                .as_array()
                .ok_or(format!("`{key}` is not an array"))?
                .as_slice()),
        }
    };
    for (i, e) in list("manifests")?.iter().enumerate() {
        out.push(descriptor(
            e,
            &format!("index entry {i}"),
            Edge::Document,
            depth,
        )?);
    }
    if let Some(config) = doc.get("config") {
        out.push(descriptor(config, "config", Edge::Leaf, depth)?);
    }
    for key in ["layers", "blobs"] {
        for (i, l) in list(key)?.iter().enumerate() {
            out.push(descriptor(l, &format!("{key}[{i}]"), Edge::Leaf, depth)?);
        }
    }
    if let Some(subject) = doc.get("subject") {
        out.push(descriptor(subject, "subject", Edge::Subject, depth)?);
    }
    Ok(out)
}

fn descriptor(v: &Value, what: &str, edge: Edge, depth: usize) -> Result<Step, String> {
    let digest = v
        .get("digest")
        .and_then(Value::as_str)
        .ok_or(format!("{what} has no digest"))?;
    let digest = Digest::parse(digest).map_err(|e| format!("{what}: {e}"))?;
    let size = v
        .get("size")
        .and_then(Value::as_u64)
        .ok_or(format!("{what} has no valid size"))?;
    let media_type = v.get("mediaType").and_then(Value::as_str).unwrap_or("");
    Ok(Step {
        digest,
        size: Some(size),
        media_type: media_type.to_string(),
        edge,
        depth,
    })
}
