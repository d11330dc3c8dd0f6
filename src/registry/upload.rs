//! The distribution upload protocol (OCI distribution-spec "Push", docker's
//! `spec.md`) as typed methods beside the read ones of `endpoints.rs`: the only
//! place upload paths and the `pull,push` scope are built.
//!
//! ```text
//! HEAD  /v2/NAME/blobs/DIGEST                       200: already there
//! POST  /v2/NAME/blobs/uploads/?mount=D&from=OTHER  201: mounted; 202: an upload instead
//! POST  /v2/NAME/blobs/uploads/                     202, Location: the session
//! PATCH <Location>  Content-Range: START-END        202, Location, Range: 0-END
//! GET   <Location>                                  204, Range: 0-END (where to resume)
//! PUT   <Location>?digest=D  [the rest of the body] 201, Docker-Content-Digest
//! PUT   /v2/NAME/manifests/REF  Content-Type: its mediaType
//! ```
//!
//! Every answer's `Location` (relative or absolute) is where the next request
//! of the session goes: registries keep the upload's state in it. Bodies are
//! streamed from the file, never held whole in memory, and made afresh for each
//! attempt (a 401 re-authenticates and sends again). Each method is one
//! attempt; callers repeat them through [`super::retry::RetryPolicy::run`].

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};

use super::RegistryError;
use super::client::Registry;
use super::file_body::{FileSpan, file_body};
use super::redact::redact;
use crate::digest::Digest;

/// The header a registry names its smallest accepted chunk with (OCI
/// distribution-spec 1.1); ECR wants 5 MiB.
const CHUNK_MIN_LENGTH: &str = "oci-chunk-min-length";

/// The token scope for pushing to `repository` (a push reads too: HEAD).
pub fn push_scope(repository: &str) -> String {
    format!("repository:{repository}:pull,push")
}

/// Pushing to `repository` while mounting from `from`: both scopes, in one
/// token (sent as two `scope` parameters).
fn mount_scope(repository: &str, from: &str) -> String {
    format!("{} repository:{from}:pull", push_scope(repository))
}

/// An upload in progress: where its next request goes.
#[derive(Debug, Clone)]
pub struct UploadSession {
    url: Url,
    /// `OCI-Chunk-Min-Length`, when the registry said.
    pub min_chunk: Option<u64>,
}

/// What a mount request did.
#[derive(Debug)]
pub enum Mount {
    /// The blob is now in the repository; nothing to upload.
    Mounted,
    /// The registry did not mount it and opened an upload instead.
    Upload(UploadSession),
}

impl Registry {
    /// `HEAD /v2/REPO/blobs/DIGEST`: whether the repository holds the blob.
    pub async fn blob_exists(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let url = self.url(&format!("v2/{repository}/blobs/{digest}"))?;
        let plain = |b: RequestBuilder| Ok(b);
        let scope = push_scope(repository);
        match self
            .exchange(Method::HEAD, url, "checking blob", &scope, &plain, None)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Authenticates for pushing to `repository` (a Bearer token for its
    /// `pull,push` scope) and checks the credential with an authenticated
    /// `GET /v2/`, so that refused credentials show before any blob is sent.
    pub async fn authorize_push(&self, repository: &str) -> Result<(), RegistryError> {
        let scope = push_scope(repository);
        self.auth.header(&scope).await?;
        let url = self.url("v2/")?;
        let plain = |b: RequestBuilder| Ok(b);
        self.exchange(
            Method::GET,
            url,
            "push access check (GET /v2/)",
            &scope,
            &plain,
            None,
        )
        .await?;
        Ok(())
    }

    /// `POST /v2/REPO/blobs/uploads/`: opens an upload.
    pub async fn start_upload(&self, repository: &str) -> Result<UploadSession, RegistryError> {
        let url = self.url(&format!("v2/{repository}/blobs/uploads/"))?;
        let resp = self
            .exchange(
                Method::POST,
                url,
                "starting a blob upload",
                &push_scope(repository),
                &empty_body,
                None,
            )
            .await?;
        self.session(&resp, "starting a blob upload", None)
    }

    /// `POST /v2/REPO/blobs/uploads/?mount=DIGEST&from=OTHER`: the blob, known
    /// to be in `from` on this registry, linked into `repository` without
    /// sending it. A registry that will not (201 is a mount) opens an upload.
    pub async fn mount_blob(
        &self,
        repository: &str,
        digest: &Digest,
        from: &str,
    ) -> Result<Mount, RegistryError> {
        let mut url = self.url(&format!("v2/{repository}/blobs/uploads/"))?;
        url.query_pairs_mut()
            .append_pair("mount", &digest.to_string())
            .append_pair("from", from);
        let scope = mount_scope(repository, from);
        let resp = self
            .exchange(
                Method::POST,
                url,
                "mounting a blob",
                &scope,
                &empty_body,
                None,
            )
            .await?;
        if resp.status() == StatusCode::CREATED {
            return Ok(Mount::Mounted);
        }
        Ok(Mount::Upload(self.session(
            &resp,
            "mounting a blob",
            None,
        )?))
    }

    /// `PATCH` one chunk of the upload; the session to continue with.
    pub async fn upload_chunk(
        &self,
        repository: &str,
        session: &UploadSession,
        span: &FileSpan,
    ) -> Result<UploadSession, RegistryError> {
        let end = span.offset + span.len - 1;
        let decorate = |b: RequestBuilder| {
            Ok(b.header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_LENGTH, span.len)
                .header("content-range", format!("{}-{end}", span.offset))
                .body(file_body(span)?))
        };
        let what = "uploading a blob chunk";
        let resp = self
            .exchange(
                Method::PATCH,
                session.url.clone(),
                what,
                &push_scope(repository),
                &decorate,
                Some(&span.sent),
            )
            .await?;
        self.session(&resp, what, Some(session))
    }

    /// `GET` the upload: how many bytes the registry holds (`Range: 0-END`),
    /// to resume after a chunk failed. `0-0` is read as nothing held: docker's
    /// registry says it for an empty upload, and no chunk is one byte long.
    pub async fn upload_offset(
        &self,
        repository: &str,
        session: &UploadSession,
    ) -> Result<(UploadSession, u64), RegistryError> {
        let what = "checking a blob upload";
        let plain = |b: RequestBuilder| Ok(b);
        let resp = self
            .exchange(
                Method::GET,
                session.url.clone(),
                what,
                &push_scope(repository),
                &plain,
                None,
            )
            .await?;
        let range = header(&resp, "range");
        let held = match range.as_deref().and_then(|r| r.split_once('-')) {
            None => 0,
            Some((_, "0")) => 0,
            Some((_, end)) => end.trim().parse::<u64>().map(|e| e + 1).map_err(|_| {
                RegistryError::UnusableAnswer {
                    operation: what.into(),
                    url: redact(resp.url()),
                    reason: format!("its Range header {range:?} is not 0-END"),
                }
            })?,
        };
        Ok((self.session(&resp, what, Some(session))?, held))
    }

    /// `PUT <session>?digest=DIGEST`, with the rest of the blob (all of it
    /// for a monolithic upload) or nothing after chunks: the registry checks
    /// the digest and the blob is in the repository.
    pub async fn finish_upload(
        &self,
        repository: &str,
        session: &UploadSession,
        digest: &Digest,
        rest: Option<&FileSpan>,
    ) -> Result<(), RegistryError> {
        let mut url = session.url.clone();
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let decorate = |b: RequestBuilder| {
            let b = b.header(CONTENT_TYPE, "application/octet-stream");
            Ok(match rest {
                Some(span) => b.header(CONTENT_LENGTH, span.len).body(file_body(span)?),
                None => b.header(CONTENT_LENGTH, 0),
            })
        };
        let what = "completing a blob upload";
        let resp = self
            .exchange(
                Method::PUT,
                url,
                what,
                &push_scope(repository),
                &decorate,
                rest.map(|span| &*span.sent),
            )
            .await?;
        check_digest(&resp, what, digest)
    }

    /// `PUT /v2/REPO/manifests/REFERENCE` with the document's exact bytes and
    /// its media type, so that the registry names it by the same digest.
    pub async fn put_manifest(
        &self,
        repository: &str,
        reference: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<(), RegistryError> {
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let decorate =
            |b: RequestBuilder| Ok(b.header(CONTENT_TYPE, media_type).body(bytes.to_vec()));
        let what = "pushing a manifest";
        let resp = self
            .exchange(
                Method::PUT,
                url,
                what,
                &push_scope(repository),
                &decorate,
                None,
            )
            .await?;
        check_digest(&resp, what, &Digest::sha256_of(bytes))
    }

    /// `HEAD /v2/REPO/manifests/REFERENCE` with push rights: the digest the
    /// registry holds under it, `None` when it holds nothing.
    pub async fn pushed_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
    ) -> Result<Option<Digest>, RegistryError> {
        let url = self.url(&format!("v2/{repository}/manifests/{reference}"))?;
        let decorate = |b: RequestBuilder| Ok(b.header(ACCEPT, media_type));
        let scope = push_scope(repository);
        match self
            .exchange(
                Method::HEAD,
                url,
                "checking manifest",
                &scope,
                &decorate,
                None,
            )
            .await
        {
            Ok(resp) => {
                Ok(header(&resp, "docker-content-digest").and_then(|d| Digest::parse(&d).ok()))
            }
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The session an answer continues with: its `Location`, relative or
    /// absolute; `previous` when a registry leaves it out of a PATCH's answer.
    fn session(
        &self,
        resp: &Response,
        what: &str,
        previous: Option<&UploadSession>,
    ) -> Result<UploadSession, RegistryError> {
        let unusable = |reason: String| RegistryError::UnusableAnswer {
            operation: what.to_string(),
            url: redact(resp.url()),
            reason,
        };
        let min_chunk = header(resp, CHUNK_MIN_LENGTH)
            .and_then(|v| v.trim().parse().ok())
            .or(previous.and_then(|p| p.min_chunk));
        let Some(location) = header(resp, "location") else {
            return previous
                .cloned()
                .ok_or_else(|| unusable("the answer has no Location header".into()));
        };
        let url = resp
            .url()
            .join(&location)
            .map_err(|e| unusable(format!("its Location is not a URL: {e}")))?;
        Ok(UploadSession { url, min_chunk })
    }
}

fn empty_body(b: RequestBuilder) -> Result<RequestBuilder, RegistryError> {
    Ok(b.header(CONTENT_LENGTH, 0))
}

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A registry that names what it stored (`Docker-Content-Digest`) must name
/// what was sent.
fn check_digest(resp: &Response, what: &str, expected: &Digest) -> Result<(), RegistryError> {
    match header(resp, "docker-content-digest") {
        Some(got) if got != expected.to_string() => Err(RegistryError::DigestMismatch {
            operation: what.to_string(),
            url: redact(resp.url()),
            expected: expected.to_string(),
            got,
        }),
        _ => Ok(()),
    }
}
