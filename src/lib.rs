//! regpull pulls container images from Registry v2 / OCI distribution registries
//! into a local OCI image layout.
//!
//! ```text
//! reference ──> credentials ──> challenge / token ──> manifest ──> platform ──> blobs ──> OCI layout
//!  (what)         (who)            (how to talk)       (what to fetch)          (stream+verify) (where)
//! ```
//!
//! The pure types ([`reference`], [`digest`], [`platform`], [`secret`]) do no I/O.
//! [`layout`] is the filesystem side and never speaks HTTP. The library never prints
//! or exits: the binary's `cli` module does that.

pub mod auth;
pub mod digest;
pub mod error;
pub mod error_class;
pub mod export;
pub mod hosts;
pub mod layout;
pub mod platform;
pub mod pull;
pub mod push;
pub mod reference;
pub mod registry;
pub mod secret;
pub mod unpack;

pub use digest::Digest;
pub use error::Error;
pub use error_class::ErrorClass;
pub use layout::Layout;
pub use platform::Platform;
pub use reference::ImageRef;
pub use secret::Secret;
