//! drgdip-codes
