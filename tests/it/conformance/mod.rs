//! The reference implementations' own test vectors (`tests/data/`), run
//! through regpull's parsers.

mod challenge;
mod platform;
mod reference;
