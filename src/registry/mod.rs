//! How to talk to a registry: the only module that speaks HTTP.

pub mod api_error;
mod auth_scheme;
mod authorizer;
mod body;
pub mod challenge;
mod client;
mod endpoints;
mod error;
mod file_body;
mod http;
pub mod idle;
mod proxy_failure;
mod realm;
pub mod redact;
mod redirects;
pub mod retry;
mod status;
mod token;
pub mod transport;
mod upload;

pub use auth_scheme::AuthScheme;
pub use body::read_capped;
pub use client::{Login, Registry};
pub use endpoints::{RawManifest, pull_scope};
pub use error::RegistryError;
pub use file_body::FileSpan;
pub use transport::{ClientOptions, DEFAULT_CONNECTIONS};
pub use upload::{Mount, UploadSession, push_scope};
