//! A chunk broken half-way at a registry that keeps what it received (the
//! kit's fake registry, `cut_patch_after`; Distribution drops such an upload,
//! so `reruns.rs` only sees the start-over path): regpull asks the upload
//! where it stands and sends only the missing bytes, from exactly there.

use super::{new_layout, run, runtime, sha256, stored, strings, support};

use support::fake_registry::{FakeRegistry, Faults, UploadEvent};
use support::image;

/// Where the fault breaks the layer's first chunk (of 32 MiB).
const CUT: u64 = 20 << 20;
const SIZE: usize = 40 << 20;

#[test]
fn a_broken_chunk_resumes_at_the_offset_the_registry_holds() {
    let big = image::Blob::new(image::OCI_LAYER_GZIP, image::noise(79, SIZE));
    let img = image::assemble(
        "linux",
        "amd64",
        vec![big.clone()],
        std::slice::from_ref(&big.digest),
        serde_json::json!({}),
    );
    let (_dir, layout) = stored(&[("big:1", &img)]);
    let rt = runtime();
    let reg = rt.block_on(FakeRegistry::start(Faults {
        cut_patch_after: Some(CUT),
        ..Faults::default()
    }));
    let target = format!("{}/resume/big:1", reg.host);
    let l = layout.to_str().unwrap();
    let r = run(
        &strings(&["push", "--json", "-v", "-l", l, "big:1", &target]),
        false,
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("resuming the upload at byte {CUT}")),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("starting over"), "{}", r.stderr);

    // The registry's side: one upload for the layer, cut at CUT, asked
    // where it stands, continued from exactly CUT, completed with no body.
    let events = reg.upload_events();
    let id = events
        .iter()
        .find_map(|e| match e {
            UploadEvent::Finished { id, digest, .. } if *digest == big.digest.to_string() => {
                Some(id.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("the layer's upload was completed: {events:#?}"));
    let of_layer: Vec<&UploadEvent> = events
        .iter()
        .filter(|e| match e {
            UploadEvent::Started { id: i }
            | UploadEvent::Patch { id: i, .. }
            | UploadEvent::Status { id: i, .. }
            | UploadEvent::Finished { id: i, .. } => *i == id,
        })
        .collect();
    let expected = [
        UploadEvent::Started { id: id.clone() },
        UploadEvent::Patch {
            id: id.clone(),
            start: 0,
            received: CUT,
            cut: true,
        },
        UploadEvent::Status {
            id: id.clone(),
            held: CUT,
        },
        UploadEvent::Patch {
            id: id.clone(),
            start: CUT,
            received: SIZE as u64 - CUT,
            cut: false,
        },
        UploadEvent::Finished {
            id: id.clone(),
            body: 0,
            digest: big.digest.to_string(),
        },
    ];
    assert_eq!(of_layer, expected.iter().collect::<Vec<_>>(), "{events:#?}");
    // No byte went twice: every PATCH of any upload started where its
    // upload stood, and the layer's bytes arrived exactly once.
    let received: u64 = of_layer
        .iter()
        .map(|e| match e {
            UploadEvent::Patch { received, .. } | UploadEvent::Finished { body: received, .. } => {
                *received
            }
            _ => 0,
        })
        .sum();
    assert_eq!(received, SIZE as u64);
    let started = events
        .iter()
        .filter(|e| matches!(e, UploadEvent::Started { .. }))
        .count();
    assert_eq!(
        started, 2,
        "the config's and the layer's, none started over"
    );
    let stored = reg
        .blob(&big.digest.to_string())
        .expect("the layer is stored");
    assert_eq!(sha256(&stored), big.digest.to_string());

    // regpull's side: the cut was reported as a retry of that blob, and the
    // layer counted as uploaded (its bytes sent include the cut chunk's).
    let retries = r.of_type("retry");
    assert_eq!(retries.len(), 1, "{:#?}", r.events);
    assert_eq!(
        retries[0]["what"],
        format!("blob {}", big.digest).as_str(),
        "{:#?}",
        retries[0]
    );
    let done = r.of_type("push_blob_done");
    let layer = done
        .iter()
        .find(|e| e["digest"] == big.digest.to_string().as_str())
        .expect("the layer is reported done");
    let sent = layer["sent"].as_u64().unwrap();
    assert!(sent >= SIZE as u64, "{layer:#?}");
    assert!(
        sent <= SIZE as u64 + (32 << 20),
        "at most one chunk twice: {layer:#?}"
    );

    // And it pulls back whole, under the same digest.
    let (_pulled, out) = new_layout();
    let pulled = run(
        &strings(&[
            "pull",
            &target,
            "-o",
            out.to_str().unwrap(),
            "--preserve-digests",
        ]),
        false,
    );
    assert_eq!(pulled.code, Some(0), "{}", pulled.stderr);
    let line = pulled.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        line.split_whitespace().nth(1),
        Some(img.manifest.digest.to_string().as_str()),
        "{}",
        pulled.stdout
    );
}
