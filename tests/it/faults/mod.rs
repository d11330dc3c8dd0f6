//! A world that goes wrong: retries and Range resume, hostile registries,
//! killed and overlapping pulls, a full disk.

mod crash;
mod disk;
mod hostile;
mod ranges;
mod retry;
mod store_down;
