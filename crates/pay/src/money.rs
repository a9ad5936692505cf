//! Rounding and display of money and weights.
//!
//! Amounts are computed exactly and rounded only when written out: half-up
//! (`MidpointAwayFromZero`) to the fen for money, to 4 decimals for weights.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds an amount half-up to the fen (0.01 CNY): `1.005` → `1.01`, `-1.005` → `-1.01`.
pub fn round_fen(amount: Decimal) -> Decimal {
    round_half_up(amount, 2)
}

/// Rounds a relative weight half-up to 4 decimals: `0.58825` → `0.5883`.
pub fn round_weight(weight: Decimal) -> Decimal {
    round_half_up(weight, 4)
}

/// `amount.round_dp_with_strategy(decimals, MidpointAwayFromZero)`, bit for bit, by one
/// division when the mantissa fits in 64 bits and the result is not zero: every amount in
/// practice (the general rounding was a tenth of a `pay` run's own work).
#[inline]
pub fn round_half_up(amount: Decimal, decimals: u32) -> Decimal {
    let scale = amount.scale();
    if scale <= decimals {
        return amount;
    }
    if let (Ok(m), Some(p)) = (
        u64::try_from(amount.mantissa().unsigned_abs()),
        10u64.checked_pow(scale - decimals),
    ) {
        let (q, r) = (m / p, m % p);
        // the midpoint away from zero: r ≥ p / 2 (p is even, r < p: no overflow)
        let q = q + u64::from(r >= p / 2);
        // a zero's sign is the library's to give (it differs by case)
        if q > 0 {
            let mut d = Decimal::from_i128_with_scale(i128::from(q), decimals);
            d.set_sign_negative(amount.is_sign_negative());
            return d;
        }
    }
    amount.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
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

/// Appends `amount` rounded half-up to `decimals` places, with exactly that many decimals,
/// to `out`: the text `Fen` (2) and `W4` (4) display, written without the formatting
/// machinery nor a string (a result file's hot path).
pub fn write_fixed(out: &mut Vec<u8>, amount: Decimal, decimals: u32) {
    let r = round_half_up(amount, decimals);
    // the mantissa at exactly `decimals` places: below 2^96 · 10^4, inside an i128
    let mut m = r.mantissa().unsigned_abs();
    let mut scale = r.scale();
    while scale < decimals {
        m *= 10;
        scale += 1;
    }
    if r.is_sign_negative() {
        out.push(b'-');
    }
    if let (Ok(m), Some(p)) = (u64::try_from(m), 10u64.checked_pow(decimals)) {
        // every amount in practice: two u64 divisions and itoa's two-digit table
        let mut f = itoa::Buffer::new();
        out.extend_from_slice(f.format(m / p).as_bytes());
        if decimals > 0 {
            out.push(b'.');
            let frac = f.format(m % p).as_bytes();
            out.extend(std::iter::repeat_n(b'0', decimals as usize - frac.len()));
            out.extend_from_slice(frac);
        }
        return;
    }
    let mut digits = [0u8; 48];
    let mut n = 0;
    // u128 division is a library call; the high part goes first, the rest by u64 division
    while m > u128::from(u64::MAX) {
        digits[n] = b'0' + (m % 10) as u8;
        m /= 10;
        n += 1;
    }
    let mut m = m as u64;
    while m > 0 || n <= decimals as usize {
        digits[n] = b'0' + (m % 10) as u8;
        m /= 10;
        n += 1;
    }
    for i in (0..n).rev() {
        out.push(digits[i]);
        if i == decimals as usize && decimals > 0 {
            out.push(b'.');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    proptest::proptest! {
        #[test]
        fn the_fast_rounding_is_the_library_s_bit_for_bit(
            lo in proptest::prelude::any::<u64>(),
            hi in proptest::prelude::any::<u32>(),
            wide in proptest::prelude::any::<bool>(),
            negative in proptest::prelude::any::<bool>(),
            scale in 0u32..=28,
            decimals in 0u32..=6,
        ) {
            // mantissas within 64 bits (the fast path) and past them (the fallback)
            let hi = if wide { hi } else { 0 };
            // small mantissas too, whose rounding is often zero
            let lo = if lo % 4 == 0 { lo % 2000 } else { lo };
            let d = Decimal::from_parts(lo as u32, (lo >> 32) as u32, hi, negative, scale);
            let ours = round_half_up(d, decimals);
            let library = d.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
            proptest::prop_assert_eq!(ours.serialize(), library.serialize(), "{} to {}", d, decimals);
        }
    }

    #[test]
    fn midpoints_and_zeros_round_as_the_library_does() {
        for text in [
            "0.005", "-0.005", "-0.004", "0.0049", "2.675", "-2.675", "0.00000", "-0.001",
        ] {
            let d: Decimal = text.parse().unwrap();
            for dp in 0..4 {
                let library = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
                assert_eq!(
                    round_half_up(d, dp).serialize(),
                    library.serialize(),
                    "{text} to {dp}"
                );
            }
        }
    }

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
    fn written_amounts_are_the_displayed_text() {
        let mut values = vec![
            dec!(0),
            dec!(-0),
            dec!(0.004),
            dec!(-0.004),
            dec!(0.005),
            dec!(1.005),
            dec!(-1.005),
            dec!(40000),
            dec!(2.675),
            dec!(0.58825),
            dec!(123456789.999999),
            // (the largest decimals overflow rust_decimal's own `{:.4}`, not ours)
            dec!(9999999999999999999999.995),
            dec!(-9999999999999999999999.995),
            dec!(0.00001),
        ];
        let mut x = dec!(0.0001);
        for i in 0..2000 {
            values.push(x);
            values.push(-x);
            x = x * dec!(1.37) + Decimal::from(i % 7);
            if x > dec!(1e20) {
                x = dec!(0.0003);
            }
        }
        for v in values {
            let mut b = Vec::new();
            write_fixed(&mut b, v, 2);
            assert_eq!(String::from_utf8(b).unwrap(), Fen(v).to_string(), "{v}");
            let mut b = Vec::new();
            write_fixed(&mut b, v, 4);
            assert_eq!(String::from_utf8(b).unwrap(), W4(v).to_string(), "{v}");
        }
    }

    #[test]
    fn weights_round_half_up_to_four_decimals() {
        assert_eq!(round_weight(dec!(0.58825)), dec!(0.5883));
        assert_eq!(round_weight(dec!(0.58824999)), dec!(0.5882));
        assert_eq!(W4(dec!(1)).to_string(), "1.0000");
    }
}
