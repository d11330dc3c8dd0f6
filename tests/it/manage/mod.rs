//! Managing a layout once images are in it: `list`, `verify`, `rm`,
//! `inspect` and `gc`, locally and against the real Distribution registry.

mod gc;
mod local;
mod registry;
