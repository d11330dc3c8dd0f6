pub mod digest;
pub mod layout;
pub mod platform;
pub mod reference;
