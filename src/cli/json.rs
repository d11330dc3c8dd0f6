//! JSON lines on stdout: the one place `--json` output is written.

use std::io::Write;

use serde_json::Value;

/// Writes one event as a line and flushes it, so a reader piping the stream
/// sees each event when it happens, not when a buffer fills.
pub fn emit(event: &Value) {
    debug_assert!(event.get("type").is_some(), "every event has a type");
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is the reader's choice, not our failure.
    let _ = writeln!(out, "{event}");
    let _ = out.flush();
}
