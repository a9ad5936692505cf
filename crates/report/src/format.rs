//! How figures are written: money half-up to the fen, rates as percentages with two decimals,
//! CMI and weights with four. Nothing here passes through `f64`.

use drgdip_pay::money::{round_fen, round_weight};
use rust_decimal::{Decimal, RoundingStrategy};

/// Money half-up to the fen with two decimals: `1234.5` → `1234.50`, `0.005` → `0.01`.
pub fn money(amount: Decimal) -> String {
    format!("{:.2}", round_fen(amount))
}

/// Money for people: half-up to the fen, thousands separated: `1234567.5` → `1,234,567.50`.
pub fn money_grouped(amount: Decimal) -> String {
    group_thousands(&money(amount))
}

/// A rate as a percentage, half-up to two decimals: `0.952381` → `95.24`.
pub fn pct(rate: Decimal) -> String {
    let p = (rate * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    format!("{p:.2}")
}

/// A CMI or weight, half-up to four decimals: `0.91905` → `0.9191`.
pub fn w4(value: Decimal) -> String {
    format!("{:.4}", round_weight(value))
}

/// `f(value)`, or the empty string without a value (CSV).
pub fn or_empty<T>(value: Option<T>, f: impl FnOnce(T) -> String) -> String {
    value.map(f).unwrap_or_default()
}

/// `f(value)`, or `—` without a value (HTML).
pub fn or_dash<T>(value: Option<T>, f: impl FnOnce(T) -> String) -> String {
    value.map(f).unwrap_or_else(|| "—".to_string())
}

/// A count with thousands separated: `12345` → `12,345`.
pub fn count(n: u64) -> String {
    group_thousands(&n.to_string())
}

/// Inserts a comma every three digits of the integer part of a plain decimal text.
fn group_thousands(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// An axis label: below 10,000 the plain number, from 10,000 on in 万 (ten thousands):
/// `2500` → `2500`, `250000` → `25万`, `12500` → `1.25万`.
pub fn axis(value: Decimal) -> String {
    let ten_thousand = Decimal::from(10_000);
    if value.abs() >= ten_thousand {
        format!("{}万", (value / ten_thousand).normalize())
    } else {
        value.normalize().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn money_is_rounded_half_up_to_the_fen_and_grouped_for_people() {
        assert_eq!(money(dec!(1234.5)), "1234.50");
        assert_eq!(money(dec!(0.005)), "0.01");
        assert_eq!(money(dec!(-0.005)), "-0.01");
        assert_eq!(money(dec!(2.344999)), "2.34");
        assert_eq!(money(Decimal::ZERO), "0.00");
        assert_eq!(money_grouped(dec!(1234567.5)), "1,234,567.50");
        assert_eq!(money_grouped(dec!(-123456.785)), "-123,456.79");
        assert_eq!(money_grouped(dec!(999.999)), "1,000.00");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
    }

    #[test]
    fn rates_weights_and_axis_labels() {
        assert_eq!(pct(dec!(20) / dec!(21)), "95.24");
        assert_eq!(pct(dec!(0.000049999)), "0.00");
        assert_eq!(pct(dec!(0.00005)), "0.01");
        assert_eq!(pct(Decimal::ONE), "100.00");
        assert_eq!(w4(dec!(0.91905)), "0.9191");
        assert_eq!(w4(dec!(1)), "1.0000");
        assert_eq!(axis(dec!(2500)), "2500");
        assert_eq!(axis(dec!(250000)), "25万");
        assert_eq!(axis(dec!(12500)), "1.25万");
        assert_eq!(axis(dec!(0.250)), "0.25");
        assert_eq!(or_empty(None::<Decimal>, w4), "");
        assert_eq!(or_dash(Some(dec!(0.5)), pct), "50.00");
    }
}
