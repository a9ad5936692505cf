//! 季公布 and 年通报 — the region's figures of a quarter or a year: per hospital and for the
//! region, 入组率, CMI, high and low cases, payment vs per-item cost, categories, groups,
//! and the trend by month.

use std::collections::{BTreeMap, BTreeSet};

use drgdip_pay::money::round_fen;
use drgdip_pay::InsuredClass;
use drgdip_settle::{MonthlyStatement, Period, SettledCase, YearMonth};
use rust_decimal::Decimal;

use crate::breakdown::{
    category_fields, category_table, group_fields, group_label, group_table, summary_table,
    tally_fields, Breakdown, CATEGORY_HEADER, DEFINITIONS, GROUP_HEADER, TALLY_HEADER,
};
use crate::csv::Csv;
use crate::disclose::{opinions_csv, opinions_section};
use crate::format::{axis, count, money, money_grouped, or_dash, pct, w4};
use crate::html::{cells, num, text, Cell, Page, Table};
use crate::input::{Groups, HospitalNames};
use crate::svg::{self, Series};
use crate::tally::{StatementSums, Tally};
use crate::{OutputFile, ReportError};
use drgdip_governance::Counts;

/// Groups drawn in the chart of the region's page.
pub const CHART_GROUPS: usize = 10;
/// Groups listed in the table of the region's page (all of them are in the CSV).
pub const TABLE_GROUPS: usize = 20;

/// One hospital over the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HospitalPeriod {
    /// The hospital.
    pub hospital_id: String,
    /// Its name, if known.
    pub name: Option<String>,
    /// Its settled cases of the period.
    pub cases: Tally,
    /// Its monthly statements of the period, summed.
    pub statements: StatementSums,
}

/// The region in one month of the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRow {
    /// The discharge month.
    pub month: YearMonth,
    /// Hospitals with cases or a statement in the month.
    pub hospitals: u64,
    /// The month's settled cases.
    pub cases: Tally,
    /// The month's statements, summed.
    pub statements: StatementSums,
}

/// The cases of one insured class (参保地: 本地, 省内异地, 跨省异地) over the period.
/// Cross-province cases are outside the local clearing and reported apart here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuredRow {
    /// The class.
    pub insured: InsuredClass,
    /// Cases.
    pub cases: u64,
    /// Σ per-item cost (按项目费用), each case to the fen.
    pub total_cost: Decimal,
    /// Σ payment, each case to the fen.
    pub payment: Decimal,
    /// Σ fund due, each case to the fen.
    pub fund_due: Decimal,
}

impl InsuredRow {
    /// Whether the class is in the local clearing (local and in-province cases).
    pub fn in_local_clearing(&self) -> bool {
        self.insured != InsuredClass::CrossProvince
    }
}

/// The region's figures of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionReport {
    /// The period (a quarter for 季公布, a year for 年通报; any period is accepted).
    pub period: Period,
    /// All settled cases of the period: totals, groups, categories.
    pub region: Breakdown,
    /// All statements of the period, summed.
    pub statements: StatementSums,
    /// One row per hospital with cases or a statement in the period, sorted by id.
    pub hospitals: Vec<HospitalPeriod>,
    /// One row per month of the period with cases or statements, in order.
    pub months: Vec<MonthRow>,
    /// The cases by insured class: local, in-province, cross-province (always three rows,
    /// in that order); a case outside the local pool (`SettledCase::in_local_pool`) counts as
    /// cross-province.
    pub by_insured: Vec<InsuredRow>,
    /// The opinions (意见收集反馈) submitted in the period, counted by topic, level and status
    /// (`None`: not given, [`RegionReport::with_opinions`]).
    pub opinions: Option<Counts>,
}

/// The region's figures of `period`, from the cases and statements whose discharge month
/// lies in it (others are ignored). Fails on a case id or a hospital's statement of a month
/// that appears twice.
pub fn region_report(
    period: Period,
    cases: &[SettledCase],
    statements: &[MonthlyStatement],
    groups: &Groups,
    names: &HospitalNames,
) -> Result<RegionReport, ReportError> {
    let mut cases: Vec<&SettledCase> = cases
        .iter()
        .filter(|c| period.contains(c.discharge_month))
        .collect();
    cases.sort_by(|a, b| a.case_id.cmp(&b.case_id));
    let mut statements: Vec<&MonthlyStatement> = statements
        .iter()
        .filter(|s| period.contains(s.month))
        .collect();
    statements.sort_by(|a, b| (a.month, &a.hospital_id).cmp(&(b.month, &b.hospital_id)));
    if let Some(pair) = statements
        .windows(2)
        .find(|p| (p[0].month, &p[0].hospital_id) == (p[1].month, &p[1].hospital_id))
    {
        return Err(ReportError::DuplicateStatement {
            hospital_id: pair[0].hospital_id.clone(),
            month: pair[0].month,
        });
    }
    let region = Breakdown::of(cases.iter().copied(), groups)?;
    let mut by_insured: Vec<InsuredRow> = InsuredClass::ALL
        .iter()
        .map(|&insured| InsuredRow {
            insured,
            cases: 0,
            total_cost: Decimal::ZERO,
            payment: Decimal::ZERO,
            fund_due: Decimal::ZERO,
        })
        .collect();
    for case in &cases {
        let class = if case.in_local_pool() {
            case.pricing.insured
        } else {
            InsuredClass::CrossProvince
        };
        if let Some(row) = by_insured.iter_mut().find(|r| r.insured == class) {
            row.cases += 1;
            row.total_cost += round_fen(case.total_cost);
            row.payment += round_fen(case.payment);
            row.fund_due += round_fen(case.fund_due);
        }
    }

    let mut hospitals: BTreeMap<&str, (Tally, StatementSums)> = BTreeMap::new();
    let mut months: BTreeMap<YearMonth, (Tally, StatementSums, BTreeSet<&str>)> = BTreeMap::new();
    for case in &cases {
        let g = groups.of(case);
        hospitals
            .entry(&case.hospital_id)
            .or_default()
            .0
            .add(case, g);
        let m = months.entry(case.discharge_month).or_default();
        m.0.add(case, g);
        m.2.insert(&case.hospital_id);
    }
    let mut sums = StatementSums::default();
    for s in &statements {
        sums.add(s);
        hospitals.entry(&s.hospital_id).or_default().1.add(s);
        let m = months.entry(s.month).or_default();
        m.1.add(s);
        m.2.insert(&s.hospital_id);
    }
    Ok(RegionReport {
        period,
        region,
        statements: sums,
        hospitals: hospitals
            .into_iter()
            .map(|(id, (cases, statements))| HospitalPeriod {
                hospital_id: id.to_string(),
                name: names.name(id).map(str::to_string),
                cases,
                statements,
            })
            .collect(),
        months: months
            .into_iter()
            .map(|(month, (cases, statements, hospitals))| MonthRow {
                month,
                hospitals: hospitals.len() as u64,
                cases,
                statements,
            })
            .collect(),
        by_insured,
        opinions: None,
    })
}

const STATEMENT_HEADER: [&str; 4] = [
    "statements",
    "fund_due_total",
    "deposit_withheld",
    "amount_due",
];

fn statement_fields(s: &StatementSums) -> [String; 4] {
    [
        s.statements.to_string(),
        money(s.fund_due_total),
        money(s.deposit_withheld),
        money(s.amount_due),
    ]
}

impl RegionReport {
    /// The report with the opinions' counts of its period: a section of the page and
    /// `STEM-opinions.csv`.
    pub fn with_opinions(mut self, counts: Counts) -> RegionReport {
        self.opinions = Some(counts);
        self
    }

    /// `quarter-2025Q2`, `year-2025`, else `region-PERIOD`.
    pub fn stem(&self) -> String {
        match self.period {
            Period::Quarter { .. } => format!("quarter-{}", self.period),
            Period::Year(_) => format!("year-{}", self.period),
            _ => format!("region-{}", self.period),
        }
    }

    /// The page's title in Chinese and English.
    fn title(&self) -> (&'static str, &'static str) {
        match self.period {
            Period::Quarter { .. } => ("统筹区季度公布（季公布）", "Region quarterly figures"),
            Period::Year(_) => ("统筹区年度通报（年通报）", "Region yearly report"),
            _ => ("统筹区阶段数据", "Region figures of a period"),
        }
    }

    /// Every file: the CSVs, then the page.
    pub fn files(&self) -> Vec<OutputFile> {
        let mut files = self.csv_files();
        files.push(OutputFile::new(
            format!("{}.html", self.stem()),
            self.html(),
        ));
        files
    }

    /// `STEM-hospitals.csv`, `STEM-region.csv`, `STEM-months.csv`, `STEM-categories.csv`,
    /// `STEM-groups.csv`, `STEM-insured.csv` (cases by insured class: cross-province apart).
    pub fn csv_files(&self) -> Vec<OutputFile> {
        let stem = self.stem();
        let period = self.period.to_string();
        let header = |keys: &[&'static str]| {
            let mut h: Vec<&str> = keys.to_vec();
            h.extend(TALLY_HEADER);
            h.extend(STATEMENT_HEADER);
            h
        };
        let mut hospitals = Csv::new(&header(&["period", "hospital_id", "hospital_name"]));
        for h in &self.hospitals {
            let mut row = vec![
                period.clone(),
                h.hospital_id.clone(),
                h.name.clone().unwrap_or_default(),
            ];
            row.extend(tally_fields(&h.cases));
            row.extend(statement_fields(&h.statements));
            hospitals.row(row);
        }
        let mut region = Csv::new(&header(&["period", "hospitals"]));
        let mut row = vec![period.clone(), self.hospitals.len().to_string()];
        row.extend(tally_fields(&self.region.total));
        row.extend(statement_fields(&self.statements));
        region.row(row);
        let mut months = Csv::new(&header(&["month", "hospitals"]));
        for m in &self.months {
            let mut row = vec![m.month.to_string(), m.hospitals.to_string()];
            row.extend(tally_fields(&m.cases));
            row.extend(statement_fields(&m.statements));
            months.row(row);
        }
        let mut h = vec!["period"];
        h.extend(CATEGORY_HEADER);
        let mut categories = Csv::new(&h);
        for c in &self.region.by_category {
            let mut row = vec![period.clone()];
            row.extend(category_fields(c, self.region.total.cases));
            categories.row(row);
        }
        let mut h = vec!["period"];
        h.extend(GROUP_HEADER);
        let mut groups = Csv::new(&h);
        for g in &self.region.by_group {
            let mut row = vec![period.clone()];
            row.extend(group_fields(g));
            groups.row(row);
        }
        let mut insured = Csv::new(&[
            "period",
            "insured",
            "in_local_clearing",
            "cases",
            "total_cost",
            "payment",
            "fund_due",
        ]);
        for r in &self.by_insured {
            insured.row(vec![
                period.clone(),
                r.insured.to_string(),
                r.in_local_clearing().to_string(),
                r.cases.to_string(),
                money(r.total_cost),
                money(r.payment),
                money(r.fund_due),
            ]);
        }
        let mut files = vec![
            OutputFile::new(format!("{stem}-hospitals.csv"), hospitals.finish()),
            OutputFile::new(format!("{stem}-region.csv"), region.finish()),
            OutputFile::new(format!("{stem}-months.csv"), months.finish()),
            OutputFile::new(format!("{stem}-categories.csv"), categories.finish()),
            OutputFile::new(format!("{stem}-groups.csv"), groups.finish()),
            OutputFile::new(format!("{stem}-insured.csv"), insured.finish()),
        ];
        if let Some(c) = &self.opinions {
            files.push(OutputFile::new(
                format!("{stem}-opinions.csv"),
                opinions_csv(&period, c),
            ));
        }
        files
    }

    fn label(h: &HospitalPeriod) -> String {
        match &h.name {
            Some(name) => format!("{} {name}", h.hospital_id),
            None => h.hospital_id.clone(),
        }
    }

    /// The page.
    pub fn html(&self) -> String {
        let (zh, en) = self.title();
        let first = self.period.first_month();
        let last = self.period.last_month();
        let mut page = Page::new(
            zh,
            en,
            &format!(
                "{} · 出院月份 discharge months {first} – {last} · {} 家医院 hospitals · {} 个月有数据 months with data",
                self.period,
                self.hospitals.len(),
                self.months.len()
            ),
        );
        let unknown = self.region.grouping_unknown();
        if unknown > 0 {
            page.warn(&format!(
                "{unknown} 例无分组信息，按支付类别归类，DRG组记为“?” · {unknown} cases without a grouping: classed by their payment category, group \"?\""
            ));
        }

        page.section("全统筹区合计", "Region totals");
        page.table(&summary_table(&self.region.total));
        let mut t = Table::new(&[text("月结算", "monthly statements"), num("数值", "value")]);
        t.row(cells![
            "月结算单数 · statements",
            count(self.statements.statements)
        ]);
        t.row(cells![
            "基金应付合计 · fund due total",
            money_grouped(self.statements.fund_due_total)
        ]);
        t.row(cells![
            "预留质量保证金 · deposit withheld",
            money_grouped(self.statements.deposit_withheld)
        ]);
        t.row(cells![
            "月结算应付合计 · amount due",
            money_grouped(self.statements.amount_due)
        ]);
        page.table(&t);
        page.end_section();

        page.section("各医院", "By hospital");
        let labels: Vec<String> = self.hospitals.iter().map(Self::label).collect();
        page.raw(&svg::bars(
            "各医院支付与按项目费用 · payment vs per-item cost by hospital",
            &labels,
            &[
                Series {
                    name: "支付 payment",
                    color: svg::PAYMENT,
                    values: self.hospitals.iter().map(|h| h.cases.payment).collect(),
                },
                Series {
                    name: "按项目费用 per-item cost",
                    color: svg::COST,
                    values: self.hospitals.iter().map(|h| h.cases.total_cost).collect(),
                },
            ],
            axis,
            money_grouped,
        ));
        let mut t = Table::new(&[
            text("医院", "hospital"),
            num("病例数", "cases"),
            num("入组率 %", "grouping rate"),
            num("CMI", "CMI"),
            num("高倍率 %", "high share"),
            num("低倍率 %", "low share"),
            num("按项目费用", "per-item cost"),
            num("支付", "payment"),
            num("支付 − 费用", "payment − cost"),
            num("支付/费用 %", "payment / cost"),
            num("质量保证金", "deposit"),
            num("应付金额", "amount due"),
        ]);
        let row = |label: String, c: &Tally, s: &StatementSums| -> Vec<Cell> {
            cells![
                label,
                count(c.cases),
                or_dash(c.grouping_rate(), pct),
                or_dash(c.cmi(), w4),
                or_dash(c.high_share(), pct),
                or_dash(c.low_share(), pct),
                money_grouped(c.total_cost),
                money_grouped(c.payment),
                money_grouped(c.difference()),
                or_dash(c.payment_to_cost(), pct),
                money_grouped(s.deposit_withheld),
                money_grouped(s.amount_due)
            ]
        };
        for h in &self.hospitals {
            t.row(row(Self::label(h), &h.cases, &h.statements));
        }
        t.total = Some(row(
            "全统筹区 · region".to_string(),
            &self.region.total,
            &self.statements,
        ));
        page.table(&t);
        page.end_section();

        page.section("月度趋势", "Trend by month");
        let labels: Vec<String> = self.months.iter().map(|m| m.month.to_string()).collect();
        page.raw(&svg::lines(
            "按月支付、按项目费用与基金应付 · payment, per-item cost and fund due by month",
            &labels,
            &[
                Series {
                    name: "支付 payment",
                    color: svg::PAYMENT,
                    values: self.months.iter().map(|m| m.cases.payment).collect(),
                },
                Series {
                    name: "按项目费用 per-item cost",
                    color: svg::COST,
                    values: self.months.iter().map(|m| m.cases.total_cost).collect(),
                },
                Series {
                    name: "基金应付 fund due",
                    color: svg::THIRD,
                    values: self.months.iter().map(|m| m.cases.fund_due).collect(),
                },
            ],
            axis,
            money_grouped,
        ));
        page.raw(&svg::lines(
            "按月 CMI · CMI by month",
            &labels,
            &[Series {
                name: "CMI",
                color: svg::PAYMENT,
                values: self
                    .months
                    .iter()
                    .map(|m| m.cases.cmi().unwrap_or_default())
                    .collect(),
            }],
            |v| v.normalize().to_string(),
            w4,
        ));
        let mut t = Table::new(&[
            text("月份", "month"),
            num("医院数", "hospitals"),
            num("病例数", "cases"),
            num("入组率 %", "grouping rate"),
            num("CMI", "CMI"),
            num("高倍率", "high"),
            num("低倍率", "low"),
            num("按项目费用", "per-item cost"),
            num("支付", "payment"),
            num("支付 − 费用", "payment − cost"),
            num("基金应付", "fund due"),
            num("应付金额", "amount due"),
        ]);
        for m in &self.months {
            let c = &m.cases;
            t.row(cells![
                m.month.to_string(),
                count(m.hospitals),
                count(c.cases),
                or_dash(c.grouping_rate(), pct),
                or_dash(c.cmi(), w4),
                count(c.high_cases),
                count(c.low_cases),
                money_grouped(c.total_cost),
                money_grouped(c.payment),
                money_grouped(c.difference()),
                money_grouped(c.fund_due),
                money_grouped(m.statements.amount_due)
            ]);
        }
        page.table(&t);
        page.end_section();

        page.section("按参保地", "By insured region");
        let mut t = Table::new(&[
            text("参保地", "insured"),
            text("本地清算", "in local clearing"),
            num("病例数", "cases"),
            num("按项目费用", "per-item cost"),
            num("支付", "payment"),
            num("基金应付", "fund due"),
        ]);
        for r in &self.by_insured {
            let label = match r.insured {
                InsuredClass::Local => "本地 · local",
                InsuredClass::InProvince => "省内异地 · in-province",
                InsuredClass::CrossProvince => "跨省异地 · cross-province",
            };
            t.row(cells![
                label,
                if r.in_local_clearing() {
                    "是 · yes"
                } else {
                    "否 · no (reported apart)"
                },
                count(r.cases),
                money_grouped(r.total_cost),
                money_grouped(r.payment),
                money_grouped(r.fund_due)
            ]);
        }
        page.table(&t);
        page.note("跨省异地病例按参数结算（默认按项目），不参与本地年度清算，单独列示 · cross-province cases are settled as the parameters say (per item by default), outside the local annual clearing, and reported apart.");
        page.end_section();

        page.section("支付类别", "Cases by payment category");
        page.table(&category_table(&self.region));
        page.end_section();

        page.section(
            "按DRG组：支付与按项目费用",
            "Payment vs per-item cost by DRG group",
        );
        let top = self.region.top_groups(CHART_GROUPS);
        let labels: Vec<String> = top
            .iter()
            .map(|g| format!("{} ({}例)", group_label(&g.group), g.tally.cases))
            .collect();
        page.raw(&svg::bars(
            &format!(
                "支付与按项目费用，差额最大的 {} 个组 · payment vs per-item cost, the {} groups with the largest difference",
                top.len(),
                top.len()
            ),
            &labels,
            &[
                Series {
                    name: "支付 payment",
                    color: svg::PAYMENT,
                    values: top.iter().map(|g| g.tally.payment).collect(),
                },
                Series {
                    name: "按项目费用 per-item cost",
                    color: svg::COST,
                    values: top.iter().map(|g| g.tally.total_cost).collect(),
                },
            ],
            axis,
            money_grouped,
        ));
        let listed = self.region.top_groups(TABLE_GROUPS);
        page.table(&group_table(listed.iter().copied()));
        page.note(&format!(
            "按 |支付 − 费用| 由大到小列出前 {} 个组（共 {} 个组，全部见 {}-groups.csv）· the {} groups with the largest |payment − cost| of {}; all of them are in the CSV.",
            listed.len(),
            self.region.by_group.len(),
            self.stem(),
            listed.len(),
            self.region.by_group.len()
        ));
        page.end_section();

        if let Some(c) = &self.opinions {
            opinions_section(&mut page, c);
        }

        page.section("口径说明", "Definitions");
        page.definitions(&DEFINITIONS);
        page.end_section();
        page.finish()
    }
}
