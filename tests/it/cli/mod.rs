//! The binary as people and scripts meet it: commands and usage errors,
//! `--help` texts, the snippets the docs give, and `--json` events.

mod docs_snippets;
mod json_events;
mod snapshots;
mod usage;
