//! Rounding and writing of decimals: half-up (away from zero at the midpoint), scores and
//! coefficients to 4 decimals, money to the fen only when a figure is written out.

use rust_decimal::{Decimal, RoundingStrategy};

/// Half-up to `dp` decimals.
pub fn round_half_up(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// Scores and coefficients: half-up to 4 decimals.
pub fn round4(d: Decimal) -> Decimal {
    round_half_up(d, 4)
}

/// Money: half-up to the fen (0.01 CNY).
pub fn round_fen(d: Decimal) -> Decimal {
    round_half_up(d, 2)
}

/// Money as written out: half-up to the fen, always two decimals (`12.30`).
pub fn fmt_money(d: Decimal) -> String {
    format!("{:.2}", round_fen(d))
}

/// A score or coefficient as written out: half-up, always four decimals (`1.2000`).
pub fn fmt4(d: Decimal) -> String {
    format!("{:.4}", round4(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn midpoints_round_up() {
        assert_eq!(round4(dec!(1.23445)), dec!(1.2345));
        assert_eq!(round_fen(dec!(0.125)), dec!(0.13));
        assert_eq!(fmt_money(dec!(12.3)), "12.30");
        assert_eq!(fmt_money(dec!(2.005)), "2.01");
        assert_eq!(fmt4(dec!(1)), "1.0000");
        assert_eq!(fmt4(dec!(0.00005)), "0.0001");
    }
}
