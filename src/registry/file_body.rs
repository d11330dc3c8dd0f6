//! A span of a local file as a request body: streamed from the file in
//! pieces, never held whole in memory, made afresh for each attempt.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::Body;

use super::RegistryError;

/// How much of a file is read into one piece of a streamed body.
const READ_PIECE: u64 = 1 << 20;

/// Bytes `offset..offset+len` of a local file, as a request body. `sent`
/// counts the bytes read into requests, for progress.
#[derive(Debug, Clone)]
pub struct FileSpan {
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
    pub sent: Arc<AtomicU64>,
}

/// The span streamed from its file in pieces; a file shorter than the span
/// fails the request rather than sending less than its Content-Length says.
pub(super) fn file_body(span: &FileSpan) -> Result<Body, RegistryError> {
    let read_err = |source| RegistryError::ReadUpload {
        path: span.path.clone(),
        source,
    };
    let mut file = std::fs::File::open(&span.path).map_err(read_err)?;
    file.seek(SeekFrom::Start(span.offset)).map_err(read_err)?;
    let state = (Some(file), span.len, span.sent.clone());
    let stream = futures_util::stream::try_unfold(state, |(file, left, sent)| async move {
        let Some(mut file) = file.filter(|_| left > 0) else {
            return Ok(None);
        };
        let want = left.min(READ_PIECE) as usize;
        let (file, piece) = tokio::task::spawn_blocking(move || {
            let mut piece = vec![0u8; want];
            file.read_exact(&mut piece).map(|()| (file, piece))
        })
        .await
        .map_err(std::io::Error::other)??;
        sent.fetch_add(piece.len() as u64, Ordering::Relaxed);
        let left = left - piece.len() as u64;
        Ok::<_, std::io::Error>(Some((piece, (Some(file), left, sent))))
    });
    Ok(Body::wrap_stream(stream))
}
