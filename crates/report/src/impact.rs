//! The negotiation pages: the simulation of a proposal (方案测算, `payment-model.md` §9) and
//! the impact of a scheme change (分组方案切换影响, §10), each one self-contained HTML page.
//! The figures come in as plain rows made by the caller (the engine's simulation and scheme
//! comparison); nothing is computed here but differences, shares and chart geometry.

use std::fmt::Write as _;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::format::{axis, count, money_grouped, or_dash, pct, w4};
use crate::html::{cells, esc, num, text, Page, Table};
use crate::svg::{bars, nice_max, Series, COST, PAYMENT, THIRD};

/// One row of an impact table: a hospital or a group under both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImpactRow {
    /// The hospital id or group key.
    pub label: String,
    /// Cases.
    pub cases: u64,
    /// Payment under the baseline.
    pub payment_baseline: Decimal,
    /// Payment under the proposal.
    pub payment_proposal: Decimal,
    /// Fund due under the baseline.
    pub fund_due_baseline: Decimal,
    /// Fund due under the proposal.
    pub fund_due_proposal: Decimal,
    /// CMI under the baseline, if known.
    pub cmi_baseline: Option<Decimal>,
    /// CMI under the proposal, if known.
    pub cmi_proposal: Option<Decimal>,
    /// A note (the bound that holds a hospital).
    pub note: String,
}

impl ImpactRow {
    /// proposal − baseline payment.
    pub fn difference(&self) -> Decimal {
        self.payment_proposal - self.payment_baseline
    }
    fn relative(&self) -> Option<Decimal> {
        (!self.payment_baseline.is_zero()).then(|| self.difference() / self.payment_baseline)
    }
}

/// What the simulation page shows.
#[derive(Debug, Clone, Default)]
pub struct SimulationView {
    /// The baseline's name (its parameter file).
    pub baseline: String,
    /// The proposal's name.
    pub proposal: String,
    /// A line of meta (files, schemes, cases).
    pub meta: String,
    /// Per hospital.
    pub hospitals: Vec<ImpactRow>,
    /// Per group key.
    pub groups: Vec<ImpactRow>,
    /// The totals.
    pub total: ImpactRow,
    /// The DRG budget of each parameter file.
    pub budget_baseline: Decimal,
    /// The proposal's.
    pub budget_proposal: Decimal,
    /// Lines on the options (budget-neutral factor, bounds).
    pub notes: Vec<String>,
}

fn px(v: Decimal) -> String {
    v.round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
}

/// Horizontal bars left (loss, orange) and right (gain, blue) of a zero line, one per label,
/// in the given order; each bar's value written beside it.
fn diverging(title: &str, labels: &[String], values: &[Decimal]) -> String {
    const LABEL_W: i64 = 170;
    const PLOT_W: i64 = 500;
    const WIDTH: i64 = 740;
    const TOP: i64 = 30;
    const STEP: i64 = 16;
    let height = TOP + STEP * labels.len() as i64 + 30;
    let max = nice_max(values.iter().map(|v| v.abs()).max().unwrap_or_default());
    let half = Decimal::from(PLOT_W / 2);
    let zero = Decimal::from(LABEL_W) + half;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" \
         height=\"{height}\" role=\"img\" aria-label=\"{t}\">\n<title>{t}</title>\n\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>\n\
         <text x=\"{LABEL_W}\" y=\"18\" font-size=\"12\" fill=\"#1f2933\">{t}</text>\n",
        t = esc(title)
    );
    for (k, v) in [(-1i64, -max), (0, Decimal::ZERO), (1, max)] {
        let x = zero + half * Decimal::from(k);
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{}\"/>\
             <text x=\"{x}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#486581\">{}</text>",
            TOP - 4,
            height - 26,
            if k == 0 { "#486581" } else { "#d9e2ec" },
            height - 10,
            esc(&axis(v)),
            x = px(x)
        );
    }
    for (i, (label, v)) in labels.iter().zip(values).enumerate() {
        let y = TOP + STEP * i as i64;
        let w = v.abs() / max * half;
        let (x, color, anchor, tx) = if *v < Decimal::ZERO {
            (zero - w, COST, "end", zero - w - Decimal::from(4))
        } else {
            (zero, PAYMENT, "start", zero + w + Decimal::from(4))
        };
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1f2933\">{}</text>\
             <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"{color}\"><title>{}: {}</title></rect>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"{anchor}\" fill=\"#486581\">{}</text>",
            LABEL_W - 6,
            y + 10,
            esc(label),
            px(x),
            y,
            px(w),
            esc(label),
            esc(&money_grouped(*v)),
            px(tx),
            y + 10,
            esc(&money_grouped(*v))
        );
    }
    out.push_str("</svg>\n");
    out
}

fn impact_table(
    rows: &[ImpactRow],
    total: Option<&ImpactRow>,
    first: (&'static str, &'static str),
) -> Table {
    let mut t = Table::new(&[
        text(first.0, first.1),
        num("病例数", "cases"),
        num("现行支付", "payment, baseline"),
        num("方案支付", "payment, proposal"),
        num("差额", "difference"),
        num("变化%", "change %"),
        num("现行基金", "fund due, baseline"),
        num("方案基金", "fund due, proposal"),
        text("说明", "note"),
    ]);
    let line = |r: &ImpactRow| {
        cells![
            r.label.as_str(),
            count(r.cases),
            money_grouped(r.payment_baseline),
            money_grouped(r.payment_proposal),
            money_grouped(r.difference()),
            or_dash(r.relative(), pct),
            money_grouped(r.fund_due_baseline),
            money_grouped(r.fund_due_proposal),
            r.note.as_str(),
        ]
    };
    for r in rows {
        t.row(line(r));
    }
    t.total = total.map(line);
    t
}

/// The simulation page: who gains, who loses, the budget balance, per hospital and group.
pub fn simulation_page(v: &SimulationView) -> String {
    let mut page = Page::new("支付方案测算", "Simulation of a proposal", &v.meta);
    page.section("结论", "Summary");
    let t = &v.total;
    page.para(&format!(
        "同一批 {} 例病例：现行方案（{}）支付 {}，测算方案（{}）支付 {}，差额 {}（{}%）。 · The same {} cases: the baseline pays {}, the proposal {}, a difference of {}.",
        count(t.cases),
        v.baseline,
        money_grouped(t.payment_baseline),
        v.proposal,
        money_grouped(t.payment_proposal),
        money_grouped(t.difference()),
        or_dash(t.relative(), pct),
        count(t.cases),
        money_grouped(t.payment_baseline),
        money_grouped(t.payment_proposal),
        money_grouped(t.difference()),
    ));
    let gain = v
        .hospitals
        .iter()
        .filter(|h| h.difference() > Decimal::ZERO)
        .count();
    let lose = v
        .hospitals
        .iter()
        .filter(|h| h.difference() < Decimal::ZERO)
        .count();
    page.para(&format!(
        "{gain} 家医院增加，{lose} 家减少，{} 家不变。 · {gain} hospital(s) gain, {lose} lose, {} unchanged.",
        v.hospitals.len() - gain - lose,
        v.hospitals.len() - gain - lose
    ));
    for n in &v.notes {
        page.note(n);
    }
    page.end_section();

    page.section("谁增谁减", "Who gains, who loses");
    let mut order: Vec<&ImpactRow> = v.hospitals.iter().collect();
    order.sort_by(|a, b| {
        b.difference()
            .cmp(&a.difference())
            .then(a.label.cmp(&b.label))
    });
    let labels: Vec<String> = order.iter().map(|h| h.label.clone()).collect();
    let values: Vec<Decimal> = order.iter().map(|h| h.difference()).collect();
    page.raw(&diverging(
        "各医院支付差额（方案 − 现行） · payment difference per hospital (proposal − baseline)",
        &labels,
        &values,
    ));
    page.end_section();

    page.section("基金预算平衡", "Budget balance");
    page.raw(&bars(
        "基金应付 vs 预算 · fund due vs the DRG budget of each parameter file",
        &["现行 baseline".to_string(), "方案 proposal".to_string()],
        &[
            Series {
                name: "基金应付 Σ fund due",
                color: PAYMENT,
                values: vec![t.fund_due_baseline, t.fund_due_proposal],
            },
            Series {
                name: "预算 budget",
                color: THIRD,
                values: vec![v.budget_baseline, v.budget_proposal],
            },
        ],
        axis,
        money_grouped,
    ));
    let share = |fund: Decimal, budget: Decimal| {
        if budget.is_zero() {
            "—".to_string()
        } else {
            pct(fund / budget)
        }
    };
    page.para(&format!(
        "现行：基金应付 {} / 预算 {}（{}%）；方案：{} / {}（{}%）。 · The cases' fund due against the year's DRG budget; a case file of part of the year uses that part of it.",
        money_grouped(t.fund_due_baseline),
        money_grouped(v.budget_baseline),
        share(t.fund_due_baseline, v.budget_baseline),
        money_grouped(t.fund_due_proposal),
        money_grouped(v.budget_proposal),
        share(t.fund_due_proposal, v.budget_proposal),
    ));
    page.end_section();

    page.section("各医院", "Per hospital");
    page.raw(&bars(
        "各医院支付 · payment per hospital",
        &v.hospitals
            .iter()
            .map(|h| h.label.clone())
            .collect::<Vec<_>>(),
        &[
            Series {
                name: "现行 baseline",
                color: COST,
                values: v.hospitals.iter().map(|h| h.payment_baseline).collect(),
            },
            Series {
                name: "方案 proposal",
                color: PAYMENT,
                values: v.hospitals.iter().map(|h| h.payment_proposal).collect(),
            },
        ],
        axis,
        money_grouped,
    ));
    page.table(&impact_table(&v.hospitals, Some(t), ("医院", "hospital")));
    page.end_section();

    page.section("变化最大的病组", "Groups that change most");
    let mut groups: Vec<&ImpactRow> = v.groups.iter().collect();
    groups.sort_by(|a, b| {
        b.difference()
            .abs()
            .cmp(&a.difference().abs())
            .then(a.label.cmp(&b.label))
    });
    groups.truncate(20);
    page.raw(&diverging(
        "差额最大的 20 个病组 · the 20 groups with the largest difference",
        &groups.iter().map(|g| g.label.clone()).collect::<Vec<_>>(),
        &groups.iter().map(|g| g.difference()).collect::<Vec<_>>(),
    ));
    let rows: Vec<ImpactRow> = groups.into_iter().cloned().collect();
    page.table(&impact_table(&rows, None, ("病组", "group")));
    page.note("全部病组见 groups.csv。 · Every group is in groups.csv.");
    page.end_section();
    definitions(&mut page);
    page.finish()
}

fn definitions(page: &mut Page) {
    page.section("口径说明", "Definitions");
    page.definitions(&[
        (
            "支付",
            "payment",
            "每例按 DRG 规则的支付额（总费用口径），四舍五入到分后求和。",
        ),
        (
            "基金应付",
            "fund due",
            "max(0, 支付 − 个人负担)，逐例到分后求和。",
        ),
        (
            "差额",
            "difference",
            "方案支付 − 现行支付（含封顶保底调整）。",
        ),
        ("CMI", "case-mix index", "入组病例（有权重者）的平均权重。"),
    ]);
}

/// A hospital under two schemes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemeHospital {
    /// The hospital.
    pub hospital_id: String,
    /// Valid cases.
    pub cases: u64,
    /// Cases whose DRG changed.
    pub drg_changed: u64,
    /// Cases whose ADRG changed.
    pub adrg_changed: u64,
    /// CMI and payment under both, when parameters and weights were given.
    pub money: Option<ImpactRow>,
}

/// A changed pair of groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemePair {
    /// From DRG.
    pub from: String,
    /// To DRG.
    pub to: String,
    /// Cases.
    pub cases: u64,
    /// The rule that moved most of them.
    pub rule: String,
    /// An example case.
    pub example: String,
}

/// A case whose ADRG changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeAdrgCase {
    /// The case.
    pub case_id: String,
    /// `ADRG DRG` under the first scheme.
    pub from: String,
    /// Under the second.
    pub to: String,
    /// The rule under the first.
    pub rule_from: String,
    /// The rule under the second.
    pub rule_to: String,
}

/// What the scheme-change page shows.
#[derive(Debug, Clone, Default)]
pub struct SchemeChangeView {
    /// The first scheme.
    pub from: String,
    /// The second.
    pub to: String,
    /// A line of meta.
    pub meta: String,
    /// Valid cases.
    pub cases: u64,
    /// Cases whose DRG code changed.
    pub drg_changed: u64,
    /// Pairs of groups with cases (all of them).
    pub pairs: u64,
    /// Changed pairs, most cases first.
    pub changed: Vec<SchemePair>,
    /// Cases whose ADRG changed (all of them).
    pub adrg_cases: Vec<SchemeAdrgCase>,
    /// Per hospital.
    pub hospitals: Vec<SchemeHospital>,
    /// The totals under both, with parameters and weights.
    pub total: Option<ImpactRow>,
    /// Lines on what was compared.
    pub notes: Vec<String>,
}

/// The scheme-change page: training material (培训解读) — what changed, with examples.
pub fn scheme_change_page(v: &SchemeChangeView) -> String {
    let mut page = Page::new(
        "分组方案切换影响",
        &format!("Scheme change: {} → {}", v.from, v.to),
        &v.meta,
    );
    page.section("结论", "Summary");
    page.para(&format!(
        "{} 例病例中 {} 例（{}%）的病组编码改变，{} 例 ADRG 改变；共 {} 个病组对。 · Of {} cases, {} change their DRG code and {} their ADRG; {} pairs of groups.",
        count(v.cases),
        count(v.drg_changed),
        if v.cases == 0 { "—".to_string() } else { pct(Decimal::from(v.drg_changed) / Decimal::from(v.cases)) },
        count(v.adrg_cases.len() as u64),
        count(v.pairs),
        count(v.cases),
        count(v.drg_changed),
        count(v.adrg_cases.len() as u64),
        count(v.pairs),
    ));
    if !v.adrg_cases.is_empty() {
        page.warn(&format!(
            "{} 例病例的 ADRG 改变：国家方案与其本地细化应共享 ADRG，请逐例核对下表。 · {} case(s) change ADRG, which a local refinement of the national scheme should not do: see the list below.",
            v.adrg_cases.len(),
            v.adrg_cases.len()
        ));
    }
    for n in &v.notes {
        page.note(n);
    }
    page.end_section();

    page.section("病组去向", "Where the groups go");
    let top: Vec<&SchemePair> = v.changed.iter().take(20).collect();
    page.raw(&bars(
        "病例最多的 20 个变化病组对 · the 20 changed pairs with the most cases",
        &top.iter()
            .map(|p| format!("{} → {}", p.from, p.to))
            .collect::<Vec<_>>(),
        &[Series {
            name: "病例数 cases",
            color: PAYMENT,
            values: top.iter().map(|p| Decimal::from(p.cases)).collect(),
        }],
        axis,
        |d| count(rust_decimal::prelude::ToPrimitive::to_u64(&d).unwrap_or(0)),
    ));
    let mut t = Table::new(&[
        text("原病组", "from"),
        text("新病组", "to"),
        num("病例数", "cases"),
        text(
            "规则（新方案分组轨迹）",
            "the rule that moved them (trace under the new scheme)",
        ),
        text("示例病例", "example case"),
    ]);
    for p in v.changed.iter().take(60) {
        t.row(cells![
            p.from.as_str(),
            p.to.as_str(),
            count(p.cases),
            p.rule.as_str(),
            p.example.as_str()
        ]);
    }
    page.table(&t);
    page.note("全部病组对见 crosswalk.csv。 · Every pair is in crosswalk.csv.");
    page.end_section();

    page.section("ADRG 改变的病例", "Cases whose ADRG changed");
    if v.adrg_cases.is_empty() {
        page.para("无。 · None.");
    } else {
        let mut t = Table::new(&[
            text("病例", "case"),
            text("原 ADRG 病组", "from"),
            text("新 ADRG 病组", "to"),
            text("原方案规则", "rule, first scheme"),
            text("新方案规则", "rule, second scheme"),
        ]);
        for a in v.adrg_cases.iter().take(100) {
            t.row(cells![
                a.case_id.as_str(),
                a.from.as_str(),
                a.to.as_str(),
                a.rule_from.as_str(),
                a.rule_to.as_str()
            ]);
        }
        page.table(&t);
        page.note("全部见 adrg_changes.csv。 · All of them are in adrg_changes.csv.");
    }
    page.end_section();

    page.section("各医院", "Per hospital");
    let with_money: Vec<&ImpactRow> = v
        .hospitals
        .iter()
        .filter_map(|h| h.money.as_ref())
        .collect();
    if with_money.len() == v.hospitals.len() && !with_money.is_empty() {
        page.raw(&bars(
            "各医院 CMI · CMI per hospital",
            &v.hospitals
                .iter()
                .map(|h| h.hospital_id.clone())
                .collect::<Vec<_>>(),
            &[
                Series {
                    name: "原方案 first scheme",
                    color: COST,
                    values: with_money
                        .iter()
                        .map(|m| m.cmi_baseline.unwrap_or_default())
                        .collect(),
                },
                Series {
                    name: "新方案 second scheme",
                    color: PAYMENT,
                    values: with_money
                        .iter()
                        .map(|m| m.cmi_proposal.unwrap_or_default())
                        .collect(),
                },
            ],
            |d| d.normalize().to_string(),
            w4,
        ));
        let mut order: Vec<&ImpactRow> = with_money.clone();
        order.sort_by(|a, b| {
            b.difference()
                .cmp(&a.difference())
                .then(a.label.cmp(&b.label))
        });
        page.raw(&diverging(
            "各医院支付差额（新 − 原） · payment difference per hospital (second − first)",
            &order.iter().map(|m| m.label.clone()).collect::<Vec<_>>(),
            &order.iter().map(|m| m.difference()).collect::<Vec<_>>(),
        ));
    }
    let mut t = Table::new(&[
        text("医院", "hospital"),
        num("病例数", "cases"),
        num("病组改变", "DRG changed"),
        num("ADRG 改变", "ADRG changed"),
        num("原 CMI", "CMI, first"),
        num("新 CMI", "CMI, second"),
        num("原支付", "payment, first"),
        num("新支付", "payment, second"),
        num("差额", "difference"),
    ]);
    for h in &v.hospitals {
        let m = h.money.as_ref();
        t.row(cells![
            h.hospital_id.as_str(),
            count(h.cases),
            count(h.drg_changed),
            count(h.adrg_changed),
            or_dash(m.and_then(|m| m.cmi_baseline), w4),
            or_dash(m.and_then(|m| m.cmi_proposal), w4),
            or_dash(m.map(|m| m.payment_baseline), money_grouped),
            or_dash(m.map(|m| m.payment_proposal), money_grouped),
            or_dash(m.map(|m| m.difference()), money_grouped),
        ]);
    }
    if let Some(tot) = &v.total {
        t.total = Some(cells![
            "合计 total",
            count(v.cases),
            count(v.drg_changed),
            count(v.adrg_cases.len() as u64),
            or_dash(tot.cmi_baseline, w4),
            or_dash(tot.cmi_proposal, w4),
            money_grouped(tot.payment_baseline),
            money_grouped(tot.payment_proposal),
            money_grouped(tot.difference()),
        ]);
    }
    page.table(&t);
    page.end_section();
    definitions(&mut page);
    page.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn row(label: &str, b: Decimal, p: Decimal) -> ImpactRow {
        ImpactRow {
            label: label.into(),
            cases: 10,
            payment_baseline: b,
            payment_proposal: p,
            fund_due_baseline: b,
            fund_due_proposal: p,
            ..ImpactRow::default()
        }
    }

    #[test]
    fn the_simulation_page_is_balanced_markup_with_gains_and_losses() {
        let v = SimulationView {
            baseline: "a.toml".into(),
            proposal: "b<.toml".into(),
            meta: "m".into(),
            hospitals: vec![
                row("H1", dec!(100), dec!(150)),
                row("H2", dec!(100), dec!(40)),
            ],
            groups: vec![row("FR11 → FR11", dec!(200), dec!(190))],
            total: row("total", dec!(200), dec!(190)),
            budget_baseline: dec!(1000),
            budget_proposal: dec!(1000),
            notes: vec!["factor 0.95".into()],
        };
        let html = simulation_page(&v);
        crate::html::check::balance(&html).unwrap();
        assert!(html.contains("b&lt;.toml"));
        assert!(html.contains("1 hospital(s) gain, 1 lose"));
        assert!(html.contains(">-60.00<"), "H2's loss is written");
        assert!(html.contains("20.00%") || html.contains("（20.00%）"));
    }

    #[test]
    fn the_scheme_change_page_lists_the_adrg_changes() {
        let v = SchemeChangeView {
            from: "chs-drg-2.0".into(),
            to: "fujian-2024".into(),
            cases: 3,
            drg_changed: 1,
            pairs: 2,
            changed: vec![SchemePair {
                from: "ZZ11".into(),
                to: "ZB11".into(),
                cases: 1,
                rule: "rule".into(),
                example: "C1".into(),
            }],
            adrg_cases: vec![SchemeAdrgCase {
                case_id: "C1".into(),
                from: "ZZ1 ZZ11".into(),
                to: "ZB1 ZB11".into(),
                rule_from: "x".into(),
                rule_to: "y".into(),
            }],
            hospitals: vec![SchemeHospital {
                hospital_id: "H1".into(),
                cases: 3,
                drg_changed: 1,
                adrg_changed: 1,
                money: None,
            }],
            ..SchemeChangeView::default()
        };
        let html = scheme_change_page(&v);
        crate::html::check::balance(&html).unwrap();
        assert!(html.contains("ZB1 ZB11"));
        assert!(html.contains("1 case(s) change ADRG"));
    }
}
