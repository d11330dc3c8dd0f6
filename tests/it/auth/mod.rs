//! Who regpull is to a registry: the auth schemes against the real
//! Distribution registry, every credential source, and each vendor's quirks.

mod credentials;
mod schemes;
mod vendors;
