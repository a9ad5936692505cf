//! 特例单议公示 — the half-yearly special-case notice: per hospital, the applications and
//! the cases applied for, approved, rejected, withdrawn and pending, and the spot checks
//! (抽查复核) drawn and reversed
//! ([`drgdip_settle::half_year_notice`]).

use drgdip_settle::{half_year_notice, Application, HalfYear, NoticeRow};

use crate::csv::Csv;
use crate::format::{count, or_dash, or_empty, pct};
use crate::html::{cells, num, text, Cell, Page, Table};
use crate::input::HospitalNames;
use crate::svg::{self, Series};
use crate::tally::ratio;
use crate::{OutputFile, ReportError};

/// One hospital's line of the notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeLine {
    /// The figures.
    pub row: NoticeRow,
    /// The hospital's name, if known.
    pub name: Option<String>,
}

/// Sums over the hospitals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoticeTotals {
    /// Hospitals with at least one application.
    pub hospitals_applying: u64,
    /// Applications.
    pub applications: u64,
    /// Cases applied for (withdrawn ones included).
    pub cases_applied: u64,
    /// Cases approved.
    pub cases_approved: u64,
    /// Cases rejected.
    pub cases_rejected: u64,
    /// Cases of withdrawn applications.
    pub cases_withdrawn: u64,
    /// Cases not yet decided.
    pub cases_pending: u64,
}

/// The notice of a half-year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialCaseNotice {
    /// The half-year.
    pub half: HalfYear,
    /// One line per hospital of the names (zero lines included) and per hospital with an
    /// application counted in the half-year, sorted by hospital id.
    pub lines: Vec<NoticeLine>,
    /// The sums.
    pub totals: NoticeTotals,
}

/// 通过率 — approved / (approved + rejected), the decided cases; `None` with none decided.
pub fn approval_rate(approved: u64, rejected: u64) -> Option<rust_decimal::Decimal> {
    ratio(approved, approved + rejected)
}

/// The notice of `half`: an application counts in the half-year that contains the last
/// month of its review period; every hospital of `names` has a line.
pub fn special_case_notice(
    half: HalfYear,
    applications: &[Application],
    names: &HospitalNames,
) -> Result<SpecialCaseNotice, ReportError> {
    let ids: Vec<&str> = names.ids().collect();
    let rows = half_year_notice(applications, half, &ids)?.rows;
    let mut totals = NoticeTotals::default();
    for r in &rows {
        totals.hospitals_applying += u64::from(r.applications > 0);
        totals.applications += r.applications;
        totals.cases_applied += r.cases_applied;
        totals.cases_approved += r.cases_approved;
        totals.cases_rejected += r.cases_rejected;
        totals.cases_withdrawn += r.cases_withdrawn;
        totals.cases_pending += r.cases_pending;
    }
    Ok(SpecialCaseNotice {
        half,
        lines: rows
            .into_iter()
            .map(|row| NoticeLine {
                name: names.name(&row.hospital_id).map(str::to_string),
                row,
            })
            .collect(),
        totals,
    })
}

impl SpecialCaseNotice {
    /// `special-cases-2025H1`.
    pub fn stem(&self) -> String {
        format!("special-cases-{}", self.half)
    }

    /// Every file: `STEM.csv` and `STEM.html`.
    pub fn files(&self) -> Vec<OutputFile> {
        vec![
            OutputFile::new(format!("{}.csv", self.stem()), self.csv()),
            OutputFile::new(format!("{}.html", self.stem()), self.html()),
        ]
    }

    /// A row per hospital.
    pub fn csv(&self) -> String {
        let mut csv = Csv::new(&[
            "half",
            "hospital_id",
            "hospital_name",
            "applications",
            "cases_applied",
            "cases_approved",
            "cases_rejected",
            "cases_withdrawn",
            "cases_pending",
            "approval_rate_pct",
            "spot_checked",
            "spot_reversed",
        ]);
        for l in &self.lines {
            let r = &l.row;
            csv.row([
                r.half.to_string(),
                r.hospital_id.clone(),
                l.name.clone().unwrap_or_default(),
                r.applications.to_string(),
                r.cases_applied.to_string(),
                r.cases_approved.to_string(),
                r.cases_rejected.to_string(),
                r.cases_withdrawn.to_string(),
                r.cases_pending.to_string(),
                or_empty(approval_rate(r.cases_approved, r.cases_rejected), pct),
                r.spot_checked.to_string(),
                r.spot_reversed.to_string(),
            ]);
        }
        csv.finish()
    }

    fn label(l: &NoticeLine) -> String {
        match &l.name {
            Some(name) => format!("{} {name}", l.row.hospital_id),
            None => l.row.hospital_id.clone(),
        }
    }

    /// The page.
    pub fn html(&self) -> String {
        let t = &self.totals;
        let mut page = Page::new(
            "特例单议半年公示",
            "Half-yearly special-case notice",
            &format!(
                "{} ({} – {}) · 公示月份 notice month {} · {} 家医院申请 hospitals applying",
                self.half,
                self.half.first_month(),
                self.half.last_month(),
                self.half.notice_month(),
                t.hospitals_applying
            ),
        );
        page.section(
            "各医院申请与通过",
            "Cases applied for and approved, by hospital",
        );
        let applying: Vec<&NoticeLine> = self
            .lines
            .iter()
            .filter(|l| l.row.applications > 0)
            .collect();
        let labels: Vec<String> = applying.iter().map(|l| Self::label(l)).collect();
        page.raw(&svg::bars(
            "申请与通过病例数 · cases applied for and approved",
            &labels,
            &[
                Series {
                    name: "申请 applied",
                    color: svg::COST,
                    values: applying
                        .iter()
                        .map(|l| l.row.cases_applied.into())
                        .collect(),
                },
                Series {
                    name: "通过 approved",
                    color: svg::THIRD,
                    values: applying
                        .iter()
                        .map(|l| l.row.cases_approved.into())
                        .collect(),
                },
            ],
            |v| v.normalize().to_string(),
            |v| v.normalize().to_string(),
        ));
        let mut table = Table::new(&[
            text("医院", "hospital"),
            num("申请次数", "applications"),
            num("申请病例", "cases applied"),
            num("通过", "approved"),
            num("未通过", "rejected"),
            num("撤回", "withdrawn"),
            num("待审", "pending"),
            num("通过率 %", "approval rate"),
        ]);
        let row =
            |label: String, a: u64, ca: u64, ok: u64, no: u64, wd: u64, pe: u64| -> Vec<Cell> {
                cells![
                    label,
                    count(a),
                    count(ca),
                    count(ok),
                    count(no),
                    count(wd),
                    count(pe),
                    or_dash(approval_rate(ok, no), pct)
                ]
            };
        for l in &self.lines {
            let r = &l.row;
            table.row(row(
                Self::label(l),
                r.applications,
                r.cases_applied,
                r.cases_approved,
                r.cases_rejected,
                r.cases_withdrawn,
                r.cases_pending,
            ));
        }
        table.total = Some(row(
            "合计 · total".to_string(),
            t.applications,
            t.cases_applied,
            t.cases_approved,
            t.cases_rejected,
            t.cases_withdrawn,
            t.cases_pending,
        ));
        page.table(&table);
        page.end_section();
        page.section("口径说明", "Definitions");
        page.definitions(&[
            (
                "计入半年",
                "half-year",
                "申请按其评审周期的最后一个月计入半年（季度评审：Q1、Q2 计入上半年）。An application counts in the half-year containing the last month of its review period.",
            ),
            (
                "申请病例",
                "cases applied",
                "申请中的病例数，含已撤回申请的病例。Cases of the applications, those of withdrawn applications included.",
            ),
            (
                "通过/未通过",
                "approved/rejected",
                "复审决定：按项目付费或追加点数为通过，其余为未通过。The second review's decision: paid per item or with extra points is approved, else rejected.",
            ),
            (
                "通过率",
                "approval rate",
                "通过 ÷ (通过 + 未通过)，不含撤回与待审病例。Approved ÷ (approved + rejected): withdrawn and pending cases are left out. Percent, 2 decimals, half-up.",
            ),
        ]);
        page.end_section();
        page.finish()
    }
}
