//! Every request goes through here: reqwest's client with the silence watch
//! (`idle.rs`) around it, its answers carrying that watch for their bodies,
//! and its failures said as [`RegistryError`]s that name the URL without its
//! query.

use std::sync::atomic::AtomicU64;

use reqwest::{Client, Method, RequestBuilder, Response, Url};

use super::RegistryError;
use super::idle::Idle;
use super::redirects;
use super::transport::{self, ClientOptions};

/// One registry host's HTTP client and its `--timeout`.
#[derive(Debug, Clone)]
pub struct Http {
    client: Client,
    idle: Idle,
}

impl Http {
    /// The client for `host` (`name[:port]`), as `opts` say.
    pub fn new(host: &str, opts: &ClientOptions) -> Result<Self, RegistryError> {
        Ok(Http {
            client: transport::build(host, opts)?,
            idle: Idle::new(opts.idle_clock.clone(), opts.read_timeout),
        })
    }

    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.client.request(method, url)
    }

    pub fn get(&self, url: Url) -> RequestBuilder {
        self.client.get(url)
    }

    pub fn post(&self, url: Url) -> RequestBuilder {
        self.client.post(url)
    }

    /// Sends `request` (to `url`) and waits for its answer while the
    /// connection is not silent; `sending` counts the bytes of its body gone
    /// out, so that a slow upload is not taken for a silent one.
    pub async fn send(
        &self,
        request: RequestBuilder,
        url: &Url,
        sending: Option<&AtomicU64>,
    ) -> Result<Response, RegistryError> {
        let answer = self.idle.answer(url, sending, request.send());
        let (answer, reached) = redirects::followed(answer).await;
        match answer {
            Ok(Ok(mut resp)) => {
                // Its body is read under the same watch (`BodyWatch::of`).
                resp.extensions_mut().insert(self.idle.clone());
                Ok(resp)
            }
            Ok(Err(source)) => Err(RegistryError::connect(url, reached.as_ref(), source)),
            Err(silent) => Err(RegistryError::silent_answer(url, reached.as_ref(), silent)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pre-signed URL that cannot be reached is named without its query,
    /// in the error and in every cause under it (reqwest's own message
    /// carries the URL it was given, signature and all).
    #[tokio::test]
    async fn a_failed_request_names_its_url_without_the_query_all_the_way_down() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let url = Url::parse(&format!(
            "http://127.0.0.1:{port}/bucket/blob?X-Amz-Credential=AKIDEXAMPLE&X-Amz-Signature=s3cr3t"
        ))
        .unwrap();
        let http = Http::new("127.0.0.1", &ClientOptions::default()).unwrap();
        let err = http
            .send(http.get(url.clone()), &url, None)
            .await
            .unwrap_err();
        let mut chain = Vec::new();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(c) = cause {
            chain.push(c.to_string());
            cause = c.source();
        }
        let said = chain.join(" / ");
        assert!(
            said.contains(&format!("127.0.0.1:{port}/bucket/blob")),
            "{said}"
        );
        assert!(
            !said.contains("s3cr3t") && !said.contains("AKIDEXAMPLE"),
            "{said}"
        );
    }
}
