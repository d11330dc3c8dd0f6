//! The registry's API as typed methods: each builds its `/v2/...` path and the
//! token scope it needs, so no caller formats a registry URL. Each method is
//! one attempt; callers repeat it through [`super::retry::RetryPolicy::run`].

use reqwest::header::RANGE;
use reqwest::{Method, Response, Url};

use super::client::{Registry, Request};
use super::redact::redact;
use super::status::status_error;
use super::{RegistryError, read_capped};
use crate::digest::Digest;

/// The token scope for pulling from `repository`.
pub fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

/// A manifest or index as the registry sent it, not yet checked.
#[derive(Debug)]
pub struct RawManifest {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    /// `Docker-Content-Digest`, as sent.
    pub digest_header: Option<String>,
}

impl Registry {
    /// `GET /v2/REPO/manifests/REFERENCE` (a tag or a digest), at most `limit` bytes.
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
        accept: &str,
        limit: u64,
    ) -> Result<RawManifest, RegistryError> {
        let resp = self
            .send(
                Method::GET,
                &manifest_request("fetching manifest", repository, reference, accept),
            )
            .await?;
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let digest_header = header("docker-content-digest");
        let bytes = read_capped(resp, limit, "manifest").await?;
        Ok(RawManifest {
            bytes,
            content_type,
            digest_header,
        })
    }

    /// `HEAD /v2/REPO/manifests/REFERENCE`: the digest the registry names it by
    /// (`Docker-Content-Digest`), without the body. Docker Hub does not count
    /// HEAD against its pull limit. `None` when the header is missing or invalid.
    pub async fn head_manifest(
        &self,
        repository: &str,
        reference: &str,
        accept: &str,
    ) -> Result<Option<Digest>, RegistryError> {
        let resp = self
            .send(
                Method::HEAD,
                &manifest_request("checking manifest", repository, reference, accept),
            )
            .await?;
        let header = resp.headers().get("docker-content-digest");
        Ok(header
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Digest::parse(v).ok()))
    }

    /// `GET /v2/REPO/blobs/DIGEST`: the response, for the caller to stream.
    pub async fn blob(&self, repository: &str, digest: &Digest) -> Result<Response, RegistryError> {
        self.send(Method::GET, &blob_request(repository, digest, None))
            .await
    }

    /// The blob from byte `start` to `end` (inclusive) or to its end, with
    /// `Range`. The server may ignore it and answer 200 with the whole blob:
    /// callers check for a 206 that starts where they asked.
    pub async fn blob_range(
        &self,
        repository: &str,
        digest: &Digest,
        start: u64,
        end: Option<u64>,
    ) -> Result<Response, RegistryError> {
        self.send(
            Method::GET,
            &blob_request(repository, digest, Some((start, end))),
        )
        .await
    }

    /// Bytes `start..=end` of a blob, asked directly of the place an earlier
    /// answer for it was redirected to (a pre-signed object-store URL, good
    /// for every range of the blob until it expires). Sent without the
    /// registry's credentials, which must never reach another origin.
    pub async fn blob_range_at(
        &self,
        url: &Url,
        start: u64,
        end: u64,
    ) -> Result<Response, RegistryError> {
        let request = self
            .http
            .get(url.clone())
            .header(RANGE, format!("bytes={start}-{end}"));
        let resp = self.http.send(request, url, None).await?;
        tracing::debug!("GET {} -> {}", redact(resp.url()), resp.status().as_u16());
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(status_error("fetching blob range", resp).await)
    }

    /// A small blob (an image config) read whole, at most `limit` bytes. The
    /// caller checks it against its digest.
    pub async fn blob_bytes(
        &self,
        repository: &str,
        digest: &Digest,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let resp = self.blob(repository, digest).await?;
        read_capped(resp, limit, "blob").await
    }

    /// Checks the credential itself, as `docker login` does: an authenticated
    /// `GET /v2/`, with a token requested without scope for Bearer registries.
    pub async fn verify_login(&self) -> Result<super::AuthScheme, RegistryError> {
        let check = Request {
            operation: "login check (GET /v2/)",
            path: "v2/".to_string(),
            scope: String::new(),
            accept: None,
            range: None,
        };
        self.send(Method::GET, &check).await?;
        Ok(self.auth_scheme())
    }

    /// Authenticates for pulling `repository`; for Bearer, the token's lifetime.
    pub async fn authorize_pull(
        &self,
        repository: &str,
    ) -> Result<Option<std::time::Duration>, RegistryError> {
        let scope = pull_scope(repository);
        self.auth.header(&scope).await?;
        Ok(self.auth.token_lifetime(&scope).await)
    }
}

fn manifest_request<'a>(
    operation: &'a str,
    repository: &str,
    reference: &str,
    accept: &'a str,
) -> Request<'a> {
    Request {
        operation,
        path: format!("v2/{repository}/manifests/{reference}"),
        scope: pull_scope(repository),
        accept: Some(accept),
        range: None,
    }
}

fn blob_request(
    repository: &str,
    digest: &Digest,
    range: Option<(u64, Option<u64>)>,
) -> Request<'static> {
    Request {
        operation: "fetching blob",
        path: format!("v2/{repository}/blobs/{digest}"),
        scope: pull_scope(repository),
        accept: None,
        range: range.filter(|r| *r != (0, None)),
    }
}
