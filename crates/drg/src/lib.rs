//! drgdip-drg
