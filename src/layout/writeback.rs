//! Writeback that overlaps the transfer. A blob is renamed into place only
//! after `fsync`, as containerd does; but a page cache holding a whole
//! gigabyte of dirty pages makes that final `fsync` wait for all of it. So,
//! every [`WINDOW`] bytes written, the kernel is asked to start writing the
//! window out (`sync_file_range(SYNC_FILE_RANGE_WRITE)` on Linux: it starts
//! the I/O without waiting for it), and the final `fsync` only waits for the
//! tail. This is an optimization only: errors are ignored, since the `fsync`
//! in `commit` is what guarantees durability and reports failures.

use std::fs::File;

/// Bytes between writeback requests: large enough that the requests cost
/// nothing, small enough that little is left for the final flush.
pub const WINDOW: u64 = 8 << 20;

#[derive(Debug, Default)]
pub struct Writeback {
    /// Writeback was requested for `[0, started_to)`.
    started_to: u64,
}

impl Writeback {
    /// For a file written from `from` (a resumed prefix is already on disk).
    pub fn from(from: u64) -> Self {
        Writeback { started_to: from }
    }

    /// The file now holds `written` bytes: start writing out each whole window
    /// not yet asked for. Returns the range asked for, if any.
    pub fn advance(&mut self, file: &File, written: u64) -> Option<(u64, u64)> {
        if written < self.started_to + WINDOW {
            return None;
        }
        let range = (self.started_to, written - self.started_to);
        start(file, range.0, range.1);
        self.started_to = written;
        Some(range)
    }
}

#[cfg(target_os = "linux")]
fn start(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: the descriptor is open for the whole call (borrowed from
    // `file`), and sync_file_range reads no memory of ours.
    let _ = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
}

#[cfg(not(target_os = "linux"))]
fn start(file: &File, _offset: u64, _len: u64) {
    // No way to start writeback without waiting for it: flush now, so the
    // final fsync is short, at the cost of waiting here.
    let _ = file.sync_data();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn writeback_is_asked_for_each_window_once_from_where_the_file_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = File::create(dir.path().join("blob")).unwrap();
        let mut wb = Writeback::from(3 << 20);
        let chunk = vec![7u8; 1 << 20];
        let mut written = 3 << 20;
        let mut asked = Vec::new();
        for _ in 0..20 {
            file.write_all(&chunk).unwrap();
            written += chunk.len() as u64;
            asked.extend(wb.advance(&file, written));
        }
        let mib = |n: u64| n << 20;
        assert_eq!(
            asked,
            [(mib(3), mib(8)), (mib(11), mib(8))],
            "whole windows, contiguous, none twice, the resumed prefix left alone"
        );
    }
}
