//! How to talk to a registry: the only module that speaks HTTP.

pub mod api_error;
mod auth_scheme;
mod body;
pub mod challenge;
mod client;
mod error;
mod realm;
pub mod redact;
pub mod retry;
mod status;
mod token;
pub mod transport;

pub use auth_scheme::AuthScheme;
pub use body::read_capped;
pub use client::{Fetch, Refresher, Registry};
pub use error::RegistryError;
pub use transport::ClientOptions;
