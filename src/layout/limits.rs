//! How large a manifest or config may be, wherever it is read from: the
//! registry (pull) or the layout (list, verify, gc). One place, so that what
//! a pull accepts the layout can always read back.

/// distribution's own limit on manifest size; nothing legitimate is larger.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Image configs are JSON too; history-heavy ones reach a few MiB.
pub const MAX_CONFIG_BYTES: u64 = 64 << 20;
/// How many documents deep a walk follows (an index.json entry, an index, a
/// nested index, a manifest...). Real images nest two or three deep; more is a
/// layout built to make readers recurse without end.
pub const MAX_NESTING: usize = 8;
