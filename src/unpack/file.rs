//! Regular files: created new (never opened for writing if something is
//! there, which could write through a hardlink into another file), filled,
//! then given their metadata.
//!
//! Runs of zero blocks are skipped with a seek rather than written, so sparse
//! files (GNU sparse entries, which the tar parser expands to zeros) stay
//! sparse and a hostile "1 TB of zeros" costs no disk.

use std::io::{Read, Seek, SeekFrom, Write};

use rustix::fs::{Mode, OFlags};

use super::apply::Applier;
use super::error::EntryError;
use super::metadata::Meta;
use super::root::DirHandle;

/// Zero runs are looked for in blocks of this size (a filesystem block).
const BLOCK: usize = 4096;

impl Applier {
    pub(super) fn file<R: Read>(
        &mut self,
        dir: &DirHandle,
        name: &[u8],
        meta: &Meta,
        entry: &mut tar::Entry<R>,
    ) -> Result<(), EntryError> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&dir.fd, name, flags, Mode::from_raw_mode(0o600))
            .map_err(|e| EntryError::io("creating the file")(e.into()))?;
        self.layer.added(dir.ino, name);
        let mut file = std::fs::File::from(fd);
        let declared = entry.size();
        let mut written: u64 = 0;
        let mut hole = false;
        loop {
            let n = entry
                .read(&mut self.buf)
                .map_err(EntryError::io("reading its contents from the layer"))?;
            if n == 0 {
                break;
            }
            hole = write_sparse(&mut file, &self.buf[..n])
                .map_err(EntryError::io("writing the file"))?;
            written += n as u64;
        }
        if written < declared {
            return Err(EntryError::image(format!(
                "the layer ends inside it: {written} of its {declared} bytes are there"
            )));
        }
        if hole {
            // The file ends in a hole: give it its length.
            file.set_len(written)
                .map_err(EntryError::io("writing the file"))?;
        }
        self.stats.xattrs_skipped += meta
            .apply_to_file(&file, self.ownership)
            .map_err(EntryError::io("setting the file's owner, mode and times"))?;
        self.stats.files += 1;
        self.stats.bytes += written;
        Ok(())
    }
}

/// Writes `data` at the file's position, seeking over whole zero blocks.
/// Returns whether it ended on a hole.
fn write_sparse(file: &mut std::fs::File, data: &[u8]) -> std::io::Result<bool> {
    let mut hole = false;
    let mut start = 0;
    let mut i = 0;
    while i < data.len() {
        let end = (i + BLOCK).min(data.len());
        let zero = end - i == BLOCK && data[i..end].iter().all(|&b| b == 0);
        if zero {
            if start < i {
                file.write_all(&data[start..i])?;
            }
            file.seek(SeekFrom::Current(BLOCK as i64))?;
            start = end;
            hole = true;
        } else {
            hole = false;
        }
        i = end;
    }
    if start < data.len() {
        file.write_all(&data[start..])?;
        hole = false;
    }
    Ok(hole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_blocks_become_holes_and_the_length_is_kept() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("f");
        let mut f = std::fs::File::create(&path).unwrap();
        let mut data = vec![0u8; 64 * BLOCK];
        data[10] = 1;
        data[40 * BLOCK + 7] = 2;
        let hole = write_sparse(&mut f, &data).unwrap();
        assert!(hole);
        f.set_len(data.len() as u64).unwrap();
        drop(f);
        assert_eq!(std::fs::read(&path).unwrap(), data);
        use std::os::unix::fs::MetadataExt;
        let blocks = std::fs::metadata(&path).unwrap().blocks();
        assert!(
            blocks * 512 < data.len() as u64 / 4,
            "{blocks} blocks allocated"
        );
    }
}
