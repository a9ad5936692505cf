//! 月告知 — the hospital monthly feedback: one hospital's settled cases of one discharge
//! month, by grouping status, payment category and DRG group, with its statement's deposit
//! and amount due.

use std::collections::{BTreeMap, BTreeSet};

use drgdip_settle::{MonthlyStatement, SettledCase, YearMonth};

use crate::breakdown::{
    category_fields, category_table, group_fields, group_table, status_table, summary_table,
    tally_fields, Breakdown, CATEGORY_HEADER, DEFINITIONS, GROUP_HEADER, TALLY_HEADER,
};
use crate::csv::Csv;
use crate::format::{count, money, money_grouped, or_dash, or_empty, pct, w4};
use crate::html::{cells, num, text, Cell, Page, Table};
use crate::input::{Groups, HospitalNames};
use crate::svg::{self, Series};
use crate::{OutputFile, ReportError};

/// Groups drawn in the chart of a hospital's page.
pub const CHART_GROUPS: usize = 10;
/// Groups listed in the table of a hospital's page (all of them are in the CSV).
pub const TABLE_GROUPS: usize = 20;

/// One hospital's month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HospitalMonth {
    /// The hospital.
    pub hospital_id: String,
    /// Its name, if known.
    pub name: Option<String>,
    /// Its settled cases of the month.
    pub cases: Breakdown,
    /// Its monthly statement, if there is one.
    pub statement: Option<MonthlyStatement>,
    /// Disagreements between the cases and the statement, and missing data.
    pub notes: Vec<String>,
}

/// The monthly feedback of one month, for one hospital or all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyReport {
    /// The discharge month.
    pub month: YearMonth,
    /// The hospital asked for, if one was.
    pub hospital: Option<String>,
    /// One entry per hospital with cases or a statement in the month (or the one asked
    /// for), sorted by hospital id.
    pub hospitals: Vec<HospitalMonth>,
}

/// The monthly feedback of `month`: the cases and statements of that month (others are
/// ignored), of `hospital` only when given. Fails on a case id or a hospital's statement
/// that appears twice.
pub fn monthly_feedback(
    month: YearMonth,
    hospital: Option<&str>,
    cases: &[SettledCase],
    statements: &[MonthlyStatement],
    groups: &Groups,
    names: &HospitalNames,
) -> Result<MonthlyReport, ReportError> {
    let wanted = |h: &str| hospital.is_none_or(|w| w == h);
    let mut by_hospital: BTreeMap<&str, Vec<&SettledCase>> = BTreeMap::new();
    for case in cases {
        if case.discharge_month == month && wanted(&case.hospital_id) {
            by_hospital.entry(&case.hospital_id).or_default().push(case);
        }
    }
    let mut statement_of: BTreeMap<&str, &MonthlyStatement> = BTreeMap::new();
    for s in statements {
        if s.month == month
            && wanted(&s.hospital_id)
            && statement_of.insert(&s.hospital_id, s).is_some()
        {
            return Err(ReportError::DuplicateStatement {
                hospital_id: s.hospital_id.clone(),
                month,
            });
        }
    }
    let mut ids: BTreeSet<&str> = by_hospital.keys().copied().collect();
    ids.extend(statement_of.keys().copied());
    if let Some(h) = hospital {
        ids.insert(h);
    }
    let mut hospitals = Vec::with_capacity(ids.len());
    for id in ids {
        let mut own = by_hospital.remove(id).unwrap_or_default();
        own.sort_by(|a, b| a.case_id.cmp(&b.case_id));
        let breakdown = Breakdown::of(own, groups)?;
        let statement = statement_of.get(id).map(|s| (*s).clone());
        let notes = notes(&breakdown, statement.as_ref());
        hospitals.push(HospitalMonth {
            hospital_id: id.to_string(),
            name: names.name(id).map(str::to_string),
            cases: breakdown,
            statement,
            notes,
        });
    }
    Ok(MonthlyReport {
        month,
        hospital: hospital.map(str::to_string),
        hospitals,
    })
}

fn notes(b: &Breakdown, statement: Option<&MonthlyStatement>) -> Vec<String> {
    let mut notes = Vec::new();
    match statement {
        None => notes.push("本月无月结算单 · no monthly statement for this month".to_string()),
        Some(s) => {
            if s.cases != b.total.cases {
                notes.push(format!(
                    "月结算单记 {} 例，本报告计 {} 例 · the statement counts {} cases, this report {}",
                    s.cases, b.total.cases, s.cases, b.total.cases
                ));
            }
            if s.fund_due_total != b.total.fund_due {
                notes.push(format!(
                    "月结算单基金应付 {}，本报告 {} · the statement's fund due is {}, this report's {}",
                    money(s.fund_due_total),
                    money(b.total.fund_due),
                    money(s.fund_due_total),
                    money(b.total.fund_due)
                ));
            }
        }
    }
    let unknown = b.grouping_unknown();
    if unknown > 0 {
        notes.push(format!(
            "{unknown} 例无分组信息，按支付类别归类，DRG组记为“?” · {unknown} cases without a grouping: classed by their payment category, group \"?\""
        ));
    }
    notes
}

impl MonthlyReport {
    /// The stem of the file names: `monthly-2025-06`, or `monthly-2025-06-H001` for one
    /// hospital.
    pub fn stem(&self) -> String {
        match &self.hospital {
            Some(h) => format!("monthly-{}-{h}", self.month),
            None => format!("monthly-{}", self.month),
        }
    }

    /// The file of one hospital's page.
    pub fn page_name(&self, hospital_id: &str) -> String {
        format!("monthly-{}-{hospital_id}.html", self.month)
    }

    /// Every file: the CSVs, then the pages.
    pub fn files(&self) -> Vec<OutputFile> {
        let mut files = self.csv_files();
        files.extend(self.html_files());
        files
    }

    /// `STEM-summary.csv` (a row per hospital), `STEM-groups.csv` (a row per hospital and
    /// group), `STEM-categories.csv` (a row per hospital and payment category).
    pub fn csv_files(&self) -> Vec<OutputFile> {
        let stem = self.stem();
        let mut header = vec!["month", "hospital_id", "hospital_name"];
        header.extend(TALLY_HEADER);
        header.extend([
            "statement_cases",
            "fund_due_total",
            "deposit_rate_pct",
            "deposit_withheld",
            "amount_due",
            "declaration_deadline",
            "due_by",
        ]);
        let mut summary = Csv::new(&header);
        let mut header = vec!["month", "hospital_id"];
        header.extend(GROUP_HEADER);
        let mut groups = Csv::new(&header);
        let mut header = vec!["month", "hospital_id"];
        header.extend(CATEGORY_HEADER);
        let mut categories = Csv::new(&header);
        let month = self.month.to_string();
        for h in &self.hospitals {
            let mut row = vec![
                month.clone(),
                h.hospital_id.clone(),
                h.name.clone().unwrap_or_default(),
            ];
            row.extend(tally_fields(&h.cases.total));
            let s = h.statement.as_ref();
            row.extend([
                or_empty(s, |s| s.cases.to_string()),
                or_empty(s, |s| money(s.fund_due_total)),
                or_empty(s, |s| pct(s.deposit_rate)),
                or_empty(s, |s| money(s.deposit_withheld)),
                or_empty(s, |s| money(s.amount_due)),
                or_empty(s, |s| s.declaration_deadline.to_string()),
                or_empty(s, |s| s.due_by.to_string()),
            ]);
            summary.row(row);
            for g in &h.cases.by_group {
                let mut row = vec![month.clone(), h.hospital_id.clone()];
                row.extend(group_fields(g));
                groups.row(row);
            }
            for c in &h.cases.by_category {
                let mut row = vec![month.clone(), h.hospital_id.clone()];
                row.extend(category_fields(c, h.cases.total.cases));
                categories.row(row);
            }
        }
        vec![
            OutputFile::new(format!("{stem}-summary.csv"), summary.finish()),
            OutputFile::new(format!("{stem}-groups.csv"), groups.finish()),
            OutputFile::new(format!("{stem}-categories.csv"), categories.finish()),
        ]
    }

    /// A page per hospital (`monthly-2025-06-H001.html`) and, for all hospitals, an index
    /// page (`monthly-2025-06.html`) with the summary of each and links to their pages.
    pub fn html_files(&self) -> Vec<OutputFile> {
        let mut files = Vec::with_capacity(self.hospitals.len() + 1);
        if self.hospital.is_none() {
            files.push(OutputFile::new(
                format!("{}.html", self.stem()),
                self.index_page(),
            ));
        }
        for h in &self.hospitals {
            files.push(OutputFile::new(
                self.page_name(&h.hospital_id),
                self.hospital_page(h),
            ));
        }
        files
    }

    fn label(h: &HospitalMonth) -> String {
        match &h.name {
            Some(name) => format!("{} {name}", h.hospital_id),
            None => h.hospital_id.clone(),
        }
    }

    /// One hospital's page.
    pub fn hospital_page(&self, h: &HospitalMonth) -> String {
        let b = &h.cases;
        let mut page = Page::new(
            "医院月度反馈（月告知）",
            "Hospital monthly feedback",
            &format!(
                "{} · 出院月份 discharge month {}",
                Self::label(h),
                self.month
            ),
        );
        for note in &h.notes {
            page.warn(note);
        }
        page.section("概况", "Summary");
        page.table(&summary_table(&b.total));
        page.end_section();

        page.section("分组状态", "Cases by grouping status");
        page.table(&status_table(&b.total));
        page.end_section();

        page.section("支付类别", "Cases by payment category");
        page.table(&category_table(b));
        page.end_section();

        page.section(
            "按DRG组：支付与按项目费用",
            "Payment vs per-item cost by DRG group",
        );
        let top = b.top_groups(CHART_GROUPS);
        let labels: Vec<String> = top
            .iter()
            .map(|g| {
                format!(
                    "{} ({}例)",
                    crate::breakdown::group_label(&g.group),
                    g.tally.cases
                )
            })
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
            crate::format::axis,
            money_grouped,
        ));
        let listed = b.top_groups(TABLE_GROUPS);
        page.table(&group_table(listed.iter().copied()));
        page.note(&format!(
            "按 |支付 − 费用| 由大到小列出前 {} 个组（共 {} 个组，全部见 {}-groups.csv）· the {} groups with the largest |payment − cost| of {}; all of them are in the CSV.",
            listed.len(),
            b.by_group.len(),
            self.stem(),
            listed.len(),
            b.by_group.len()
        ));
        page.end_section();

        page.section("月结算", "Monthly settlement: deposit and amount due");
        match &h.statement {
            Some(s) => {
                let mut t = Table::new(&[text("项目", "item"), num("数值", "value")]);
                t.row(cells!["结算病例数 · cases", count(s.cases)]);
                t.row(cells![
                    "基金应付合计 · fund due total",
                    money_grouped(s.fund_due_total)
                ]);
                t.row(cells![
                    "质量保证金比例 · deposit rate",
                    format!("{}%", pct(s.deposit_rate))
                ]);
                t.row(cells![
                    "预留质量保证金 · deposit withheld",
                    money_grouped(s.deposit_withheld)
                ]);
                t.row(cells![
                    "本期应付金额 · amount due",
                    money_grouped(s.amount_due)
                ]);
                t.row(cells![
                    "申报截止日 · declaration deadline",
                    s.declaration_deadline.to_string()
                ]);
                t.row(cells!["最迟支付日 · due by", s.due_by.to_string()]);
                page.table(&t);
                page.note("应付金额 = 基金应付合计 − 质量保证金；保证金于年度清算时返还。Amount due = fund due total − deposit withheld; the deposit is released at the annual clearing.");
            }
            None => page.para("本月无月结算单 · no monthly statement for this month."),
        }
        page.end_section();

        page.section("口径说明", "Definitions");
        page.definitions(&DEFINITIONS);
        page.end_section();
        page.finish()
    }

    /// The index page of all hospitals, each linking to its page's file.
    pub fn index_page(&self) -> String {
        self.index_page_with(|h| self.page_name(h))
    }

    /// The index page of all hospitals, each linking to `href(hospital_id)` (a server's
    /// address of the hospital's page).
    pub fn index_page_with(&self, href: impl Fn(&str) -> String) -> String {
        let mut page = Page::new(
            "医院月度反馈（月告知）汇总",
            "Hospital monthly feedback: all hospitals",
            &format!(
                "出院月份 discharge month {} · {} 家医院 hospitals",
                self.month,
                self.hospitals.len()
            ),
        );
        page.section("各医院", "By hospital");
        let labels: Vec<String> = self.hospitals.iter().map(Self::label).collect();
        page.raw(&svg::bars(
            "各医院支付与按项目费用 · payment vs per-item cost by hospital",
            &labels,
            &[
                Series {
                    name: "支付 payment",
                    color: svg::PAYMENT,
                    values: self
                        .hospitals
                        .iter()
                        .map(|h| h.cases.total.payment)
                        .collect(),
                },
                Series {
                    name: "按项目费用 per-item cost",
                    color: svg::COST,
                    values: self
                        .hospitals
                        .iter()
                        .map(|h| h.cases.total.total_cost)
                        .collect(),
                },
            ],
            crate::format::axis,
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
            num("质量保证金", "deposit"),
            num("应付金额", "amount due"),
        ]);
        for h in &self.hospitals {
            let tl = &h.cases.total;
            let s = h.statement.as_ref();
            t.row(vec![
                Cell::Link {
                    href: href(&h.hospital_id),
                    text: Self::label(h),
                },
                count(tl.cases).into(),
                or_dash(tl.grouping_rate(), pct).into(),
                or_dash(tl.cmi(), w4).into(),
                or_dash(tl.high_share(), pct).into(),
                or_dash(tl.low_share(), pct).into(),
                money_grouped(tl.total_cost).into(),
                money_grouped(tl.payment).into(),
                money_grouped(tl.difference()).into(),
                or_dash(s, |s| money_grouped(s.deposit_withheld)).into(),
                or_dash(s, |s| money_grouped(s.amount_due)).into(),
            ]);
        }
        page.table(&t);
        page.end_section();
        page.section("口径说明", "Definitions");
        page.definitions(&DEFINITIONS);
        page.end_section();
        page.finish()
    }
}
