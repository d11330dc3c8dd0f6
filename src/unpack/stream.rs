//! A layer's uncompressed tar stream, decompressed and hashed on a thread of its
//! own while the caller applies the entries: on two cores, inflating and
//! writing files overlap instead of taking turns.
//!
//! Memory stays flat in layer size: at most [`CHUNKS_IN_FLIGHT`] chunks of
//! [`CHUNK`] bytes are between the threads. The hash covers every byte of the
//! uncompressed stream, tar padding and end blocks included, as the config's
//! `rootfs.diff_ids` do; [`LayerStream::finish`] reads what the tar parser
//! left unread (trailing zero blocks) so that the hash is always whole.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::digest::{Digest, Verifier};

/// Bytes handed from the decompressing thread to the applying one at a time.
const CHUNK: usize = 256 << 10;
/// Chunks queued between the threads.
const CHUNKS_IN_FLIGHT: usize = 8;

/// How a layer blob is compressed, from its first bytes (as containerd
/// decides): media types are often wrong about it, magic numbers are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// What the decompressing thread found once the stream ended.
pub struct Finished {
    /// The uncompressed stream's digest, in the diff_id's algorithm.
    pub diff_id: Digest,
    pub uncompressed: u64,
}

/// The uncompressed bytes of one layer, as a `Read`.
pub struct LayerStream {
    rx: Option<Receiver<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    worker: Option<JoinHandle<io::Result<Finished>>>,
    done: Option<Finished>,
}

impl LayerStream {
    /// Starts decompressing `file` (compressed as `compression` says),
    /// hashing with `diff_id`'s algorithm.
    pub fn start(
        file: File,
        compression: Compression,
        diff_id: &Digest,
    ) -> io::Result<LayerStream> {
        let reader = BufReader::with_capacity(CHUNK, file);
        let decoder: Box<dyn Read + Send> = match compression {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(reader)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(reader)?),
            Compression::None => Box::new(reader),
        };
        let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
        let hasher = Verifier::hasher(diff_id.algorithm());
        let worker = std::thread::Builder::new()
            .name("regpull-inflate".into())
            .spawn(move || produce(decoder, hasher, tx))?;
        Ok(LayerStream {
            rx: Some(rx),
            chunk: Vec::new(),
            pos: 0,
            worker: Some(worker),
            done: None,
        })
    }

    /// Reads whatever the parser left, then returns the thread's result.
    pub fn finish(mut self) -> io::Result<Finished> {
        let mut sink = [0u8; 64 << 10];
        while self.read(&mut sink)? > 0 {}
        self.done
            .take()
            .ok_or_else(|| io::Error::other("the layer stream ended twice"))
    }
}

impl Read for LayerStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            let next = self.rx.as_ref().and_then(|rx| rx.recv().ok());
            match next {
                Some(chunk) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                None => {
                    // The thread is done: a decompression error surfaces here.
                    if let Some(worker) = self.worker.take() {
                        let result = worker.join().unwrap_or_else(|_| {
                            Err(io::Error::other("the decompressing thread panicked"))
                        });
                        self.done = Some(result?);
                    }
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for LayerStream {
    fn drop(&mut self) {
        // Dropping the receiver makes the thread's next send fail, so it ends.
        self.rx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

fn produce(
    mut decoder: Box<dyn Read + Send>,
    mut hasher: Verifier,
    tx: SyncSender<Vec<u8>>,
) -> io::Result<Finished> {
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match decoder.read(&mut chunk[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            break;
        }
        chunk.truncate(filled);
        hasher.update(&chunk);
        if tx.send(chunk).is_err() {
            // The reader gave up (an error while applying); its error wins.
            return Err(io::Error::other("the layer was abandoned"));
        }
    }
    let uncompressed = hasher.count();
    Ok(Finished {
        diff_id: hasher.finish(),
        uncompressed,
    })
}
