//! drgdip-io
