//! The record of what a partial file holds, kept beside it as
//! `<alg>-<hex>.ranges` once a blob is written out of order (parallel
//! ranges). Without it a partial file is one run of bytes from 0 and its
//! length says how far it got; with holes in it, the length says nothing.
//!
//! One line per write, `START END` (END exclusive), appended only after the
//! bytes were written: a process killed at any point leaves a record that
//! claims nothing the file lacks (the page cache keeps what was written). A
//! torn last line is skipped. After a power loss the record may claim bytes
//! that never reached the disk; the digest check at the end catches that, and
//! the blob is fetched again.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::spans::Spans;

/// A record is read whole; one this large is not ours.
const MAX_RECORD: u64 = 16 << 20;

pub struct RangeRecord {
    path: PathBuf,
    file: File,
}

/// Where the record of `partial` lives.
pub fn record_path(partial: &Path) -> PathBuf {
    let mut name = partial.as_os_str().to_owned();
    name.push(".ranges");
    PathBuf::from(name)
}

/// The spans a record claims, if there is one; `Ok(None)` when there is none.
pub fn load(partial: &Path) -> io::Result<Option<Spans>> {
    let file = match File::open(record_path(partial)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut text = String::new();
    file.take(MAX_RECORD).read_to_string(&mut text)?;
    let mut spans = Spans::default();
    for line in text.lines() {
        let mut numbers = line.split(' ').map(str::parse::<u64>);
        if let (Some(Ok(start)), Some(Ok(end)), None) =
            (numbers.next(), numbers.next(), numbers.next())
        {
            spans.insert(start, end);
        }
    }
    Ok(Some(spans))
}

impl RangeRecord {
    /// Starts the record over with `spans` (merged: one line each), written to
    /// a temporary name and renamed over the old record.
    pub fn create(partial: &Path, spans: &Spans) -> io::Result<Self> {
        let path = record_path(partial);
        let mut tmp = path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut text = String::new();
        for (s, e) in spans.iter() {
            text.push_str(&format!("{s} {e}\n"));
        }
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        let file = OpenOptions::new().append(true).open(&path)?;
        Ok(RangeRecord { path, file })
    }

    /// Notes that `[start, end)` is in the partial file. One `write` of one
    /// short line to an append-only file: lines never interleave.
    pub fn add(&self, start: u64, end: u64) -> io::Result<()> {
        (&self.file).write_all(format!("{start} {end}\n").as_bytes())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Removes the record of `partial`, if any.
pub fn remove(partial: &Path) {
    let _ = std::fs::remove_file(record_path(partial));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_what_was_added_and_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join("sha256-abc");
        assert_eq!(load(&partial).unwrap(), None);
        let mut first = Spans::default();
        first.insert(0, 10);
        let record = RangeRecord::create(&partial, &first).unwrap();
        record.add(20, 30).unwrap();
        record.add(10, 15).unwrap();
        drop(record);
        // A kill in the middle of a line leaves half of it.
        let mut f = OpenOptions::new()
            .append(true)
            .open(record_path(&partial))
            .unwrap();
        f.write_all(b"40 4").unwrap();
        let spans = load(&partial).unwrap().unwrap();
        assert_eq!(spans.iter().collect::<Vec<_>>(), vec![(0, 15), (20, 30)]);
        remove(&partial);
        assert_eq!(load(&partial).unwrap(), None);
    }
}
