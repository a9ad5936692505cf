//! drgdip-scheme
