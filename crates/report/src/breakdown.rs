//! Cases broken down by DRG group and by payment category, shared by the reports, and the
//! tables and definitions they print alike.

use std::collections::{BTreeMap, BTreeSet};

use drgdip_pay::{Category, GroupStatus};
use drgdip_settle::SettledCase;
use rust_decimal::Decimal;

use crate::format::{count, money, money_grouped, or_dash, or_empty, pct, w4};
use crate::html::{cells, num, text, Cell, Table};
use crate::input::{category_zh, status_zh, Groups, UNKNOWN_GROUP};
use crate::tally::{ratio, Tally};
use crate::ReportError;

/// The figures of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    /// The group code (empty for invalid cases).
    pub group: String,
    /// Its status.
    pub status: GroupStatus,
    /// The mean weight of its cases that have one (all cases of a DRG share one weight).
    pub weight: Option<Decimal>,
    /// Its cases.
    pub tally: Tally,
}

/// The figures of one payment category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRow {
    /// The category.
    pub category: Category,
    /// Its cases.
    pub tally: Tally,
}

/// A set of cases: totals, groups, categories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// All the cases.
    pub total: Tally,
    /// By group, sorted by group code then status.
    pub by_group: Vec<GroupRow>,
    /// By payment category, in the order of [`Category::ALL`], categories with cases only.
    pub by_category: Vec<CategoryRow>,
    /// Cases whose grouping was given (the others are classed by their payment category).
    pub grouping_known: u64,
}

fn category_index(category: Category) -> usize {
    Category::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or_default()
}

fn status_index(status: GroupStatus) -> usize {
    GroupStatus::ALL
        .iter()
        .position(|s| *s == status)
        .unwrap_or_default()
}

impl Breakdown {
    /// The breakdown of `cases`, which must have distinct case ids.
    pub fn of<'a>(
        cases: impl IntoIterator<Item = &'a SettledCase>,
        groups: &Groups,
    ) -> Result<Breakdown, ReportError> {
        let mut seen = BTreeSet::new();
        let mut total = Tally::default();
        let mut known = 0;
        let mut by_group: BTreeMap<(String, usize), (Tally, Decimal, u64)> = BTreeMap::new();
        let mut by_category: BTreeMap<usize, Tally> = BTreeMap::new();
        for case in cases {
            if !seen.insert(case.case_id.as_str()) {
                return Err(ReportError::DuplicateCase {
                    case_id: case.case_id.clone(),
                });
            }
            let g = groups.of(case);
            known += u64::from(g.known);
            total.add(case, g);
            let entry = by_group
                .entry((g.group.to_string(), status_index(g.status)))
                .or_default();
            entry.0.add(case, g);
            if let Some(weight) = case.weight {
                entry.1 += weight;
                entry.2 += 1;
            }
            by_category
                .entry(category_index(case.category))
                .or_default()
                .add(case, g);
        }
        Ok(Breakdown {
            total,
            by_group: by_group
                .into_iter()
                .map(|((group, status), (tally, wsum, wn))| GroupRow {
                    group,
                    status: GroupStatus::ALL[status],
                    weight: (wn > 0).then(|| wsum / Decimal::from(wn)),
                    tally,
                })
                .collect(),
            by_category: by_category
                .into_iter()
                .map(|(c, tally)| CategoryRow {
                    category: Category::ALL[c],
                    tally,
                })
                .collect(),
            grouping_known: known,
        })
    }

    /// The `n` groups with the largest |payment − cost|, ties by group code; groups whose
    /// code is unknown are left out.
    pub fn top_groups(&self, n: usize) -> Vec<&GroupRow> {
        let mut rows: Vec<&GroupRow> = self
            .by_group
            .iter()
            .filter(|r| r.group != UNKNOWN_GROUP)
            .collect();
        rows.sort_by(|a, b| {
            b.tally
                .difference()
                .abs()
                .cmp(&a.tally.difference().abs())
                .then_with(|| a.group.cmp(&b.group))
                .then_with(|| status_index(a.status).cmp(&status_index(b.status)))
        });
        rows.truncate(n);
        rows
    }

    /// Cases without a given grouping.
    pub fn grouping_unknown(&self) -> u64 {
        self.total.cases - self.grouping_known
    }
}

/// A group code as people read it: `—` for the empty code of invalid cases.
pub(crate) fn group_label(group: &str) -> String {
    if group.is_empty() {
        "—".to_string()
    } else {
        group.to_string()
    }
}

/// The CSV fields shared by every row of cases: counts, rates, money.
pub(crate) const TALLY_HEADER: [&str; 19] = [
    "cases",
    "grouped",
    "ambiguous",
    "ungroupable",
    "invalid",
    "grouping_rate_pct",
    "cmi",
    "cmi_cases",
    "high_cases",
    "high_share_pct",
    "low_cases",
    "low_share_pct",
    "total_cost",
    "payment",
    "difference",
    "payment_to_cost_pct",
    "fund_paid",
    "own",
    "fund_due",
];

/// The fields of [`TALLY_HEADER`].
pub(crate) fn tally_fields(t: &Tally) -> Vec<String> {
    vec![
        t.cases.to_string(),
        t.status(GroupStatus::Grouped).to_string(),
        t.status(GroupStatus::Ambiguous).to_string(),
        t.status(GroupStatus::Ungroupable).to_string(),
        t.status(GroupStatus::Invalid).to_string(),
        or_empty(t.grouping_rate(), pct),
        or_empty(t.cmi(), w4),
        t.cmi_cases.to_string(),
        t.high_cases.to_string(),
        or_empty(t.high_share(), pct),
        t.low_cases.to_string(),
        or_empty(t.low_share(), pct),
        money(t.total_cost),
        money(t.payment),
        money(t.difference()),
        or_empty(t.payment_to_cost(), pct),
        money(t.fund_paid),
        money(t.own),
        money(t.fund_due),
    ]
}

/// The CSV header of a group row (after the row's keys).
pub(crate) const GROUP_HEADER: [&str; 11] = [
    "group",
    "status",
    "cases",
    "weight",
    "high_cases",
    "low_cases",
    "total_cost",
    "payment",
    "difference",
    "payment_to_cost_pct",
    "fund_due",
];

/// The fields of [`GROUP_HEADER`].
pub(crate) fn group_fields(r: &GroupRow) -> Vec<String> {
    let t = &r.tally;
    vec![
        r.group.clone(),
        r.status.as_str().to_string(),
        t.cases.to_string(),
        or_empty(r.weight, w4),
        t.high_cases.to_string(),
        t.low_cases.to_string(),
        money(t.total_cost),
        money(t.payment),
        money(t.difference()),
        or_empty(t.payment_to_cost(), pct),
        money(t.fund_due),
    ]
}

/// The CSV header of a category row (after the row's keys).
pub(crate) const CATEGORY_HEADER: [&str; 8] = [
    "category",
    "cases",
    "share_pct",
    "total_cost",
    "payment",
    "difference",
    "own",
    "fund_due",
];

/// The fields of [`CATEGORY_HEADER`].
pub(crate) fn category_fields(r: &CategoryRow, all: u64) -> Vec<String> {
    let t = &r.tally;
    vec![
        r.category.as_str().to_string(),
        t.cases.to_string(),
        or_empty(ratio(t.cases, all), pct),
        money(t.total_cost),
        money(t.payment),
        money(t.difference()),
        money(t.own),
        money(t.fund_due),
    ]
}

/// `12 (3.45%)`.
pub(crate) fn count_share(n: u64, share: Option<Decimal>) -> String {
    match share {
        Some(s) => format!("{} ({}%)", count(n), pct(s)),
        None => count(n),
    }
}

/// The key figures of a set of cases, as indicator / value rows.
pub(crate) fn summary_table(t: &Tally) -> Table {
    let mut table = Table::new(&[text("指标", "indicator"), num("数值", "value")]);
    let cmi = match t.cmi() {
        Some(cmi) => format!("{} ({} 例 cases)", w4(cmi), count(t.cmi_cases)),
        None => "—".to_string(),
    };
    let rows: [(&str, String); 10] = [
        ("结算病例数 · settled cases", count(t.cases)),
        ("入组病例数 · grouped cases", count(t.grouped())),
        (
            "入组率 · grouping rate",
            or_dash(t.grouping_rate(), |r| format!("{}%", pct(r))),
        ),
        ("CMI 病例组合指数 · case-mix index", cmi),
        (
            "高倍率病例 · high-cost cases",
            count_share(t.high_cases, t.high_share()),
        ),
        (
            "低倍率病例 · low-cost cases",
            count_share(t.low_cases, t.low_share()),
        ),
        (
            "按项目总费用 · per-item total cost",
            money_grouped(t.total_cost),
        ),
        ("DRG/DIP 支付 · payment", money_grouped(t.payment)),
        (
            "支付 − 费用 · payment − cost",
            match t.payment_to_cost() {
                Some(r) => format!("{} ({}%)", money_grouped(t.difference()), pct(r)),
                None => money_grouped(t.difference()),
            },
        ),
        ("统筹基金应付 · fund due", money_grouped(t.fund_due)),
    ];
    for (label, value) in rows {
        table.row(cells![label, value]);
    }
    table
}

/// Cases by grouping status.
pub(crate) fn status_table(t: &Tally) -> Table {
    let mut table = Table::new(&[
        text("分组状态", "status"),
        num("病例数", "cases"),
        num("占比 %", "share"),
    ]);
    for &status in GroupStatus::ALL {
        let n = t.status(status);
        table.row(cells![
            format!("{} · {}", status_zh(status), status.as_str()),
            count(n),
            or_dash(ratio(n, t.cases), pct)
        ]);
    }
    table.total = Some(cells![
        "合计 · total",
        count(t.cases),
        or_dash(ratio(t.cases, t.cases), pct)
    ]);
    table
}

/// Cases by payment category.
pub(crate) fn category_table(b: &Breakdown) -> Table {
    let mut table = Table::new(&[
        text("支付类别", "category"),
        num("病例数", "cases"),
        num("占比 %", "share"),
        num("按项目费用", "per-item cost"),
        num("支付", "payment"),
        num("支付 − 费用", "payment − cost"),
        num("基金应付", "fund due"),
    ]);
    let all = b.total.cases;
    let row = |label: String, t: &Tally| -> Vec<Cell> {
        cells![
            label,
            count(t.cases),
            or_dash(ratio(t.cases, all), pct),
            money_grouped(t.total_cost),
            money_grouped(t.payment),
            money_grouped(t.difference()),
            money_grouped(t.fund_due)
        ]
    };
    for r in &b.by_category {
        table.row(row(
            format!("{} · {}", category_zh(r.category), r.category.as_str()),
            &r.tally,
        ));
    }
    table.total = Some(row("合计 · total".to_string(), &b.total));
    table
}

/// Groups, one row each.
pub(crate) fn group_table<'a>(rows: impl IntoIterator<Item = &'a GroupRow>) -> Table {
    let mut table = Table::new(&[
        text("DRG组", "group"),
        text("状态", "status"),
        num("病例数", "cases"),
        num("权重", "weight"),
        num("高倍率", "high"),
        num("低倍率", "low"),
        num("按项目费用", "per-item cost"),
        num("支付", "payment"),
        num("支付 − 费用", "payment − cost"),
        num("支付/费用 %", "payment / cost"),
    ]);
    for r in rows {
        let t = &r.tally;
        table.row(cells![
            group_label(&r.group),
            status_zh(r.status),
            count(t.cases),
            or_dash(r.weight, w4),
            count(t.high_cases),
            count(t.low_cases),
            money_grouped(t.total_cost),
            money_grouped(t.payment),
            money_grouped(t.difference()),
            or_dash(t.payment_to_cost(), pct)
        ]);
    }
    table
}

/// The definitions every report of cases prints.
pub(crate) const DEFINITIONS: [(&str, &str, &str); 7] = [
    (
        "结算病例",
        "settled cases",
        "每个已结算的出院病例（在月结算单上），不论分组状态或支付类别。Every settled case of the period, whatever its grouping status or payment category; the month is the discharge month.",
    ),
    (
        "入组率",
        "grouping rate",
        "入组病例数 ÷ 结算病例数。入组 = 分组成功（一个 0000 与 QY 以外的 DRG）；分母含歧义病案、无法入组和信息校验不通过的病例。Cases of status grouped (a DRG other than 0000 and QY) ÷ all settled cases; ambiguous, ungroupable and invalid cases count in the denominator. Percent, 2 decimals, half-up.",
    ),
    (
        "CMI",
        "case-mix index",
        "Σ 权重 ÷ 病例数，取分组成功且有权重的病例，不论支付类别；0000/QY 病例（按最低标准的权重支付）与无效病例不计。Σ weight ÷ cases over the grouped cases that have a weight, whatever their payment category; 0000 and QY cases (paid at a floor standard's weight) and invalid cases are left out. 4 decimals, half-up.",
    ),
    (
        "高/低倍率病例占比",
        "high/low-cost share",
        "支付类别为 high（或 low）的病例 ÷ 结算病例数。Cases of payment category high (or low) ÷ all settled cases.",
    ),
    (
        "支付与按项目费用",
        "payment vs per-item cost",
        "Σ DRG/DIP 支付 − Σ 按项目总费用；正数为支付高于费用（结余），负数为低于费用（超支）。各病例金额先四舍五入到分再求和，与月结算单一致。Σ payment − Σ per-item total cost, each case's amounts rounded half-up to the fen before summing, as on the monthly statement; positive: the payment exceeds the cost.",
    ),
    (
        "DRG组",
        "group",
        "病例的分组结果；“?” 表示未提供分组信息、按支付类别归为分组成功的病例。The case's group; \"?\" marks cases without a grouping, classed as grouped from their payment category.",
    ),
    (
        "金额",
        "money",
        "单位元，四舍五入到分。CNY, rounded half-up to the fen when written.",
    ),
];
