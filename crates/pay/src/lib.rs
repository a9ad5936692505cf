//! drgdip-pay
