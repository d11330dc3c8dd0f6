//! Where to fetch an image from: mirrors and pull-through caches named in
//! the files users already have (containers' `registries.conf`, containerd's
//! `hosts.toml`) and on the command line (`--mirror`), as an ordered list of
//! sources per reference, the upstream last. Parsing and resolving only: no
//! HTTP (`pull` walks the list, `registry` talks to one source at a time).
//!
//! docs/mirrors.md says which files are read, in which order, and which
//! fields are honoured; each file below explains its own format.

// The resolver that uses these lands next.
mod error;
#[allow(dead_code)]
mod prefix;
mod source;
#[allow(dead_code)]
mod toml_file;
#[allow(dead_code)]
mod url;

pub use error::HostsError;
pub use source::Source;
