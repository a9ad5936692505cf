//! drgdip-dip
