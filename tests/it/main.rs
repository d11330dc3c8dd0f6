//! regpull's integration tests, as one binary: each test binary links reqwest,
//! rustls and the AWS SDK, so one binary instead of thirty is most of the
//! build's time and disk. A module per capability; `support` is the test kit
//! they share (and `examples/` reuse).
//!
//! Run one capability with a filter: `cargo test --test it conformance::`.

mod support;

mod architecture;
mod auth;
mod cli;
mod conformance;
mod export;
mod faults;
mod hosts;
mod interop;
mod kit;
mod layout;
mod manage;
mod mirrors;
mod prefetch;
mod protocol;
mod pull;
mod push;
mod up_to_date;
