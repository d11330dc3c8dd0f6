//! Where to fetch an image from: mirrors and pull-through caches named in
//! the files users already have (containers' `registries.conf`, containerd's
//! `hosts.toml`) and on the command line (`--mirror`), as an ordered list of
//! sources per reference, the upstream last. Parsing and resolving only: no
//! HTTP (`pull` walks the list, `registry` talks to one source at a time).

mod source;

pub use source::Source;
mod upstream_only;
pub use upstream_only::{HostsConfig, HostsError, LoadOptions, parse_mirror_flag};
