//! Seeds a registry through its own push API (distribution `spec.md`: monolithic
//! blob upload, then manifest PUT), as `docker push` would.

use std::path::Path;

use reqwest::{Client, StatusCode};

use super::image::{Blob, TestImage, TestIndex};

pub enum PushAuth {
    None,
    Basic(String, String),
    /// A ready token for each repository (scope `repository:NAME:pull,push`).
    Bearer(Box<dyn Fn(&str) -> String + Send + Sync>),
}

pub struct Pusher {
    http: Client,
    base: String,
    auth: PushAuth,
}

impl Pusher {
    pub fn new(host: &str, ca: Option<&Path>, auth: PushAuth) -> Self {
        let mut builder = Client::builder();
        let scheme = match ca {
            Some(ca) => {
                let pem = std::fs::read(ca).unwrap();
                builder =
                    builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
                "https"
            }
            None => "http",
        };
        Pusher {
            http: builder.build().unwrap(),
            base: format!("{scheme}://{host}"),
            auth,
        }
    }

    fn authed(&self, rb: reqwest::RequestBuilder, repo: &str) -> reqwest::RequestBuilder {
        match &self.auth {
            PushAuth::None => rb,
            PushAuth::Basic(u, p) => rb.basic_auth(u, Some(p)),
            PushAuth::Bearer(mint) => rb.bearer_auth(mint(&format!("repository:{repo}:pull,push"))),
        }
    }

    pub async fn blob(&self, repo: &str, blob: &Blob) {
        let start = self
            .authed(
                self.http
                    .post(format!("{}/v2/{repo}/blobs/uploads/", self.base)),
                repo,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            start.status(),
            StatusCode::ACCEPTED,
            "starting an upload: {}",
            start.text().await.unwrap()
        );
        let location = start.headers()["location"].to_str().unwrap().to_string();
        let mut url = if location.starts_with("http") {
            location
        } else {
            format!("{}{location}", self.base)
        };
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("digest={}", blob.digest));
        let put = self
            .authed(self.http.put(url), repo)
            .header("content-type", "application/octet-stream")
            .body(blob.bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            put.status(),
            StatusCode::CREATED,
            "uploading {}: {}",
            blob.digest,
            put.text().await.unwrap()
        );
    }

    pub async fn manifest(&self, repo: &str, reference: &str, manifest: &Blob) {
        let resp = self
            .authed(
                self.http
                    .put(format!("{}/v2/{repo}/manifests/{reference}", self.base)),
                repo,
            )
            .header("content-type", manifest.media_type)
            .body(manifest.bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::CREATED,
            "pushing manifest: {}",
            resp.text().await.unwrap()
        );
    }

    pub async fn image(&self, repo: &str, tag: &str, img: &TestImage) {
        self.blob(repo, &img.config).await;
        for layer in &img.layers {
            self.blob(repo, layer).await;
        }
        self.manifest(repo, tag, &img.manifest).await;
    }

    pub async fn index(&self, repo: &str, tag: &str, idx: &TestIndex) {
        for (_, img) in &idx.images {
            self.image(repo, &img.manifest.digest.to_string(), img)
                .await;
        }
        self.manifest(repo, tag, &idx.index).await;
    }
}
