//! Rounding and display of money and weights.
//!
//! Amounts are computed exactly and rounded only when written out: half-up
//! (`MidpointAwayFromZero`) to the fen for money, to 4 decimals for weights.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds an amount half-up to the fen (0.01 CNY): `1.005` → `1.01`, `-1.005` → `-1.01`.
pub fn round_fen(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Rounds a relative weight half-up to 4 decimals: `0.58825` → `0.5883`.
pub fn round_weight(weight: Decimal) -> Decimal {
    weight.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

/// Displays an amount rounded half-up to the fen, always with two decimals (`40000.00`).
#[derive(Debug, Clone, Copy)]
pub struct Fen(pub Decimal);

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.2}", round_fen(self.0));
        f.pad(&text)
    }
}

/// Displays a weight rounded half-up to 4 decimals, always with four decimals (`1.0000`).
#[derive(Debug, Clone, Copy)]
pub struct W4(pub Decimal);

impl fmt::Display for W4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = format!("{:.4}", round_weight(self.0));
        f.pad(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn money_rounds_half_up_to_the_fen_only_when_written() {
        assert_eq!(round_fen(dec!(1.005)), dec!(1.01));
        assert_eq!(round_fen(dec!(1.0049)), dec!(1.00));
        assert_eq!(round_fen(dec!(-1.005)), dec!(-1.01));
        assert_eq!(Fen(dec!(40000)).to_string(), "40000.00");
        assert_eq!(Fen(dec!(2.675)).to_string(), "2.68");
        assert_eq!(format!("{:>8}", Fen(dec!(1.5))), "    1.50");
    }

    #[test]
    fn weights_round_half_up_to_four_decimals() {
        assert_eq!(round_weight(dec!(0.58825)), dec!(0.5883));
        assert_eq!(round_weight(dec!(0.58824999)), dec!(0.5882));
        assert_eq!(W4(dec!(1)).to_string(), "1.0000");
    }
}
