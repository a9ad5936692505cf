//! Charts as inline SVG: horizontal grouped bars (payment vs cost by hospital or group) and
//! lines (a monthly trend). Geometry is computed in decimals and written with one decimal,
//! so the same figures give the same bytes; a `<title>` on every bar and point gives its
//! exact value as a tooltip without any script.

use std::fmt::Write as _;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::html::esc;

/// Colour of the DRG/DIP payment.
pub const PAYMENT: &str = "#2f6fad";
/// Colour of the per-item cost.
pub const COST: &str = "#e07b39";
/// Colour of a third series.
pub const THIRD: &str = "#3c9d5d";

/// One series of a chart.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// Its name in the legend.
    pub name: &'a str,
    /// Its colour.
    pub color: &'static str,
    /// One value per label; negative values are drawn as zero.
    pub values: Vec<Decimal>,
}

/// A coordinate with one decimal: `12.25` → `12.3`, `40.0` → `40`.
fn px(v: Decimal) -> String {
    v.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
}

/// The smallest of 1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8 × 10^k that is ≥ `max` (1 for nothing
/// to show): a quarter of it, the tick step, is a round number too.
pub(crate) fn nice_max(max: Decimal) -> Decimal {
    if max <= Decimal::ZERO {
        return Decimal::ONE;
    }
    let ten = Decimal::TEN;
    let mut p = Decimal::ONE;
    while let Some(next) = p.checked_mul(ten).filter(|n| *n <= max) {
        p = next;
    }
    while p > max {
        p /= ten;
    }
    for tenths in [10, 12, 16, 20, 24, 30, 40, 50, 60, 80] {
        let m = Decimal::new(tenths, 1) * p;
        if m >= max {
            return m.normalize();
        }
    }
    (ten * p).normalize()
}

/// At most 14 characters, else 13 and `…`.
fn short(label: &str) -> String {
    if label.chars().count() <= 14 {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(13).collect();
        s.push('…');
        s
    }
}

fn open(out: &mut String, width: u32, height: u32, title: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-label=\"{t}\">\n<title>{t}</title>\n\
         <rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n",
        t = esc(title)
    );
}

/// The width a label takes at font size 12: 12 px per wide (CJK) character, 7 px per other.
fn text_width(text: &str) -> u32 {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 12 } else { 7 })
        .sum()
}

fn legend(out: &mut String, x0: u32, series: &[Series]) {
    let mut x = x0;
    for s in series {
        let _ = writeln!(
            out,
            "<rect x=\"{x}\" y=\"10\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"21\" font-size=\"12\" fill=\"#1f2933\">{}</text>",
            s.color,
            x + 17,
            esc(s.name)
        );
        x += 17 + text_width(s.name) + 24;
    }
}

fn no_data(title: &str) -> String {
    let mut out = String::new();
    open(&mut out, 740, 60, title);
    out.push_str(
        "<text x=\"370\" y=\"36\" font-size=\"13\" text-anchor=\"middle\" fill=\"#627d98\">无数据 · no data</text>\n</svg>\n",
    );
    out
}

/// Horizontal grouped bars: one band per label, one bar per series, a value axis from zero
/// with five ticks (`axis` writes their labels), each bar's value written after it
/// (`value`).
pub fn bars(
    title: &str,
    labels: &[String],
    series: &[Series],
    axis: fn(Decimal) -> String,
    value: fn(Decimal) -> String,
) -> String {
    if labels.is_empty() || series.is_empty() {
        return no_data(title);
    }
    const LABEL_W: u32 = 170;
    const PLOT_W: u32 = 450;
    const WIDTH: u32 = 740;
    const TOP: u32 = 34;
    const BOTTOM: u32 = 28;
    const BAR: u32 = 11;
    const STEP: u32 = 13;
    const PAD: u32 = 10;
    let band = series.len() as u32 * STEP + PAD;
    let plot_h = labels.len() as u32 * band;
    let height = TOP + plot_h + BOTTOM;
    let max = nice_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or_default(),
    );
    let mut out = String::with_capacity(512 + labels.len() * series.len() * 200);
    open(&mut out, WIDTH, height, title);
    legend(&mut out, LABEL_W, series);
    for k in 0..=4u32 {
        let x = Decimal::from(LABEL_W) + Decimal::from(PLOT_W * k) / Decimal::from(4);
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#d9e2ec\"/>\
             <text x=\"{x}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#486581\">{}</text>",
            TOP - 4,
            TOP + plot_h,
            height - 10,
            esc(&axis(max * Decimal::from(k) / Decimal::from(4))),
            x = px(x),
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let y0 = TOP + i as u32 * band + PAD / 2;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1f2933\"><title>{}</title>{}</text>",
            LABEL_W - 6,
            y0 + (series.len() as u32 * STEP) / 2 + 4,
            esc(label),
            esc(&short(label))
        );
        for (j, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or_default();
            let w = v.max(Decimal::ZERO) / max * Decimal::from(PLOT_W);
            let y = y0 + j as u32 * STEP;
            let _ = writeln!(
                out,
                "<rect x=\"{LABEL_W}\" y=\"{y}\" width=\"{}\" height=\"{BAR}\" fill=\"{}\"><title>{} · {}: {}</title></rect>\
                 <text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#486581\">{}</text>",
                px(w),
                s.color,
                esc(label),
                esc(s.name),
                esc(&value(v)),
                px(Decimal::from(LABEL_W) + w + Decimal::from(4)),
                y + BAR - 2,
                esc(&value(v))
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// Lines over evenly spaced labels (months): a value axis from zero with five ticks, a
/// polyline and a point with its value per series.
pub fn lines(
    title: &str,
    labels: &[String],
    series: &[Series],
    axis: fn(Decimal) -> String,
    value: fn(Decimal) -> String,
) -> String {
    if labels.is_empty() || series.is_empty() {
        return no_data(title);
    }
    const LEFT: u32 = 70;
    const PLOT_W: u32 = 640;
    const WIDTH: u32 = 740;
    const TOP: u32 = 40;
    const PLOT_H: u32 = 220;
    const HEIGHT: u32 = 296;
    let max = nice_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or_default(),
    );
    let n = Decimal::from(labels.len() as u64);
    let x_of = |i: usize| {
        Decimal::from(LEFT)
            + Decimal::from(PLOT_W) * Decimal::from(2 * i as u64 + 1) / (n * Decimal::TWO)
    };
    let y_of = |v: Decimal| {
        Decimal::from(TOP + PLOT_H) - Decimal::from(PLOT_H) * v.max(Decimal::ZERO) / max
    };
    let mut out = String::with_capacity(1024 + labels.len() * series.len() * 160);
    open(&mut out, WIDTH, HEIGHT, title);
    legend(&mut out, LEFT, series);
    for k in 0..=4u32 {
        let v = max * Decimal::from(k) / Decimal::from(4);
        let y = px(y_of(v));
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#d9e2ec\"/>\
             <text x=\"{}\" y=\"{y}\" dy=\"4\" font-size=\"11\" text-anchor=\"end\" fill=\"#486581\">{}</text>",
            LEFT + PLOT_W,
            LEFT - 6,
            esc(&axis(v))
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#486581\">{}</text>",
            px(x_of(i)),
            TOP + PLOT_H + 18,
            esc(label)
        );
    }
    for s in series {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .take(labels.len())
            .map(|(i, v)| format!("{},{}", px(x_of(i)), px(y_of(*v))))
            .collect();
        let _ = writeln!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
            points.join(" "),
            s.color
        );
        for (i, v) in s.values.iter().enumerate().take(labels.len()) {
            let _ = writeln!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\"><title>{} · {}: {}</title></circle>",
                px(x_of(i)),
                px(y_of(*v)),
                s.color,
                esc(&labels[i]),
                esc(s.name),
                esc(&value(*v))
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{axis, money};
    use crate::html::check::balance;
    use rust_decimal_macros::dec;

    #[test]
    fn the_axis_ends_at_a_round_number() {
        assert_eq!(nice_max(dec!(0)), dec!(1));
        assert_eq!(nice_max(dec!(1)), dec!(1));
        assert_eq!(nice_max(dec!(1.2)), dec!(1.2));
        assert_eq!(nice_max(dec!(1.21)), dec!(1.6));
        assert_eq!(nice_max(dec!(0.93)), dec!(1.0));
        assert_eq!(nice_max(dec!(2100)), dec!(2400));
        assert_eq!(nice_max(dec!(2600)), dec!(3000));
        assert_eq!(nice_max(dec!(5000.01)), dec!(6000));
        assert_eq!(nice_max(dec!(28591875.63)), dec!(30000000));
        assert_eq!(nice_max(dec!(80000.01)), dec!(100000));
        assert_eq!(nice_max(dec!(0.031)), dec!(0.04));
    }

    #[test]
    fn bars_scale_to_the_axis_and_escape_labels() {
        let svg = bars(
            "支付与费用 <by group>",
            &[
                "A&B".to_string(),
                "一个非常非常非常长的医院名称示例医院".to_string(),
            ],
            &[
                Series {
                    name: "支付",
                    color: PAYMENT,
                    values: vec![dec!(1000), dec!(2500)],
                },
                Series {
                    name: "费用",
                    color: COST,
                    values: vec![dec!(1250), dec!(-5)],
                },
            ],
            axis,
            money,
        );
        balance(&svg).unwrap();
        // axis to 3000 over 450 px: 1000 → 150 px, 1250 → 187.5, 2500 → 375, −5 → 0
        assert!(svg.contains(
            "width=\"150\" height=\"11\" fill=\"#2f6fad\"><title>A&amp;B · 支付: 1000.00</title>"
        ));
        assert!(svg.contains("width=\"187.5\" height=\"11\""));
        assert!(svg.contains("width=\"375\" height=\"11\""));
        assert!(svg.contains("width=\"0\" height=\"11\""));
        assert!(svg.contains("一个非常非常非常长的医院名…</text>"));
        assert!(svg.contains("<title>支付与费用 &lt;by group&gt;</title>"));
        assert!(!svg.contains("A&B"));
    }

    #[test]
    fn lines_place_months_evenly_and_values_from_the_bottom() {
        let svg = lines(
            "趋势",
            &["2025-01".to_string(), "2025-02".to_string()],
            &[Series {
                name: "支付",
                color: PAYMENT,
                values: vec![dec!(50), dec!(100)],
            }],
            axis,
            money,
        );
        balance(&svg).unwrap();
        // x: 70 + 640 × 1/4 = 230, 70 + 640 × 3/4 = 550; y: 260 − 220 × v/100
        assert!(svg.contains("<polyline points=\"230,150 550,40\""));
        assert!(svg.contains("<circle cx=\"550\" cy=\"40\" r=\"3.5\" fill=\"#2f6fad\"><title>2025-02 · 支付: 100.00</title>"));
        assert!(lines("t", &[], &[], axis, money).contains("no data"));
    }
}
