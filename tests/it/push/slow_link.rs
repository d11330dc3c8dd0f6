//! A push over an uplink slower than `--timeout`'s worth of a request: the
//! upload goes on as long as its bytes keep going out; only silence ends it.

use super::{run, runtime, sha256, stored, strings, support};

use std::time::Duration;

use support::fake_registry::{FakeRegistry, Faults, UploadPace};
use support::image;

/// A 12 MiB layer sent as one request whose first 8 MiB the registry takes
/// in at 256 KiB every 50 ms (~5 MB/s): 1.6 s, longer than `--timeout 1`,
/// with about 0.2 s between the 1 MiB pieces regpull hands over. (reqwest's
/// own read timeout, used before, ended such a request after 1 s.)
#[test]
fn an_upload_longer_than_the_timeout_goes_on_while_its_bytes_go_out() {
    let big = image::Blob::new(image::OCI_LAYER_GZIP, image::noise(81, 12 << 20));
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
        upload_pace: Some(UploadPace {
            every: 256 << 10,
            pause: Duration::from_millis(50),
            first: 8 << 20,
        }),
        ..Faults::default()
    }));
    let target = format!("{}/slow/big:1", reg.host);
    let l = layout.to_str().unwrap();
    let r = run(
        &strings(&["push", "--timeout", "1", "-l", l, "big:1", &target]),
        false,
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let stored = reg
        .blob(&big.digest.to_string())
        .expect("the layer is stored");
    assert_eq!(sha256(&stored), big.digest.to_string());
}
