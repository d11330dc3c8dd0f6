//! How to talk to a registry: the only module that speaks HTTP.

pub mod challenge;
