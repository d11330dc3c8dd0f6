//! How large a manifest or config may be, wherever it is read from: the
//! registry (pull) or the layout (list, verify, gc). One place, so that what
//! a pull accepts the layout can always read back.

/// distribution's own limit on manifest size; nothing legitimate is larger.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Image configs are JSON too; history-heavy ones reach a few MiB.
pub const MAX_CONFIG_BYTES: u64 = 64 << 20;
