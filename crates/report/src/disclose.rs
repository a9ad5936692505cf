//! 亮家底 — the disclosure pack (`payment-model.md` §11): the fund's income and expenditure
//! by item, the balance, budget execution, payment by method, the distribution of hospitals'
//! cost and payment per level and kind, clearing results, prepayments granted and recovered,
//! the special-case notice and the opinions' counts — monthly to one hospital (月告知), quarterly
//! (季公布) and yearly (年通报) for the region.
//!
//! The figures come made ([`Disclosure`], gathered by `drgdip_engine::disclose`); this module
//! writes them as CSV files and one self-contained HTML page. Every row names its source
//! (the settlement runs, the clearing run, the fund file, the budget version). A hospital's
//! pack holds its own figures and the region's aggregates only: it has no field that could
//! carry another hospital's id or name.

use drgdip_governance::Counts;
use drgdip_settle::{HalfYear, NoticeRow, Period, YearMonth};
use rust_decimal::Decimal;

use crate::csv::Csv;
use crate::format::{axis, count, money, money_grouped, or_dash, or_empty, pct};
use crate::html::{cells, num, text, Page, Table};
use crate::notice::{approval_rate, NoticeTotals};
use crate::svg::{self, Series};
use crate::OutputFile;

/// One settlement run the pack's ledger figures come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    /// The run id of the ledger.
    pub run_id: i64,
    /// The month it settled.
    pub month: YearMonth,
    /// `drg` or `dip`.
    pub method: String,
}

/// Where the figures come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The settlement runs of the cases and statements of the period (and of the year up to
    /// it, for the balance), by run id.
    pub settlement_runs: Vec<RunRef>,
    /// The clearing run (`clearing 2025 at …`), when a clearing of the year is in the ledger.
    pub clearing: Option<String>,
    /// The budget version (`budget v1, approved …`), or why there is none.
    pub budget_version: String,
    /// The parameter file and its SHA-256.
    pub params: String,
    /// The fund file and its SHA-256.
    pub fund: String,
}

impl Provenance {
    /// `settlement runs 3 (2025-01), 4 (2025-02)`.
    pub fn runs(&self) -> String {
        if self.settlement_runs.is_empty() {
            return "no settlement run".into();
        }
        let list: Vec<String> = self
            .settlement_runs
            .iter()
            .map(|r| format!("{} ({} {})", r.run_id, r.month, r.method))
            .collect();
        format!("settlement runs {}", list.join(", "))
    }

    /// `fund file …`.
    pub fn fund_source(&self) -> String {
        format!("fund file {}", self.fund)
    }

    /// The clearing run, or `no clearing`.
    pub fn clearing_source(&self) -> String {
        self.clearing
            .clone()
            .unwrap_or_else(|| "no clearing".into())
    }
}

/// One line of the fund's income or expenditure over the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundLine {
    /// `income` or `expenditure`.
    pub direction: String,
    /// The item's key (`employee_contributions`, `drg_payments`, …).
    pub item: String,
    /// Its name in Chinese.
    pub name: String,
    /// Σ over the period.
    pub amount: Decimal,
    /// Where it comes from.
    pub source: String,
}

/// The fund in one month of the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundMonth {
    /// The month.
    pub month: YearMonth,
    /// Σ income.
    pub income: Decimal,
    /// Σ expenditure (the ledger's DRG/DIP payments included).
    pub expenditure: Decimal,
    /// Of which DRG/DIP payments (the ledger).
    pub drg_dip: Decimal,
}

/// The balance (结余) over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FundBalance {
    /// At the start of the period: the year's opening balance plus the income less the
    /// expenditure of the year's months before the period.
    pub opening: Decimal,
    /// Σ income of the period.
    pub income: Decimal,
    /// Σ expenditure of the period.
    pub expenditure: Decimal,
    /// opening + income − expenditure.
    pub closing: Decimal,
}

/// One line of budget execution (预算执行).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLine {
    /// `total`, `outpatient`, `drg`, `dip`, `per_diem`, `per_item`, `other`.
    pub line: String,
    /// Its name in Chinese.
    pub name: String,
    /// The year's budget.
    pub annual: Decimal,
    /// The budget of the period: annual × months of the period / 12.
    pub period_budget: Decimal,
    /// What was spent in the period.
    pub executed: Decimal,
    /// executed / period_budget (`None` when the budget is 0).
    pub rate: Option<Decimal>,
    /// Where the executed figure comes from, and the budget version.
    pub source: String,
}

/// Payment by method (按支付方式).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodLine {
    /// `drg`, `dip`, `per_diem`, `per_item`.
    pub method: String,
    /// Its name in Chinese.
    pub name: String,
    /// Cases (the ledger's methods; `None` for the fund file's).
    pub cases: Option<u64>,
    /// The fund's payment.
    pub amount: Decimal,
    /// Where it comes from.
    pub source: String,
}

/// Settled cases summed (a hospital, a group of hospitals, the region).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseSums {
    /// Hospitals.
    pub hospitals: u64,
    /// Cases.
    pub cases: u64,
    /// Σ per-item cost, each case to the fen.
    pub total_cost: Decimal,
    /// Σ DRG/DIP payment, each case to the fen.
    pub payment: Decimal,
    /// Σ fund due, each case to the fen.
    pub fund_due: Decimal,
}

impl CaseSums {
    /// payment / cost.
    pub fn ratio(&self) -> Option<Decimal> {
        (!self.total_cost.is_zero()).then(|| self.payment / self.total_cost)
    }
}

/// The hospitals of one level and kind (按级别、类型分布).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelKindRow {
    /// 1..3.
    pub level: u8,
    /// `general`, `specialty`, … (`unknown` when the hospitals file has no kind).
    pub kind: String,
    /// The sums over these hospitals.
    pub sums: CaseSums,
    /// The lowest payment/cost of one of them.
    pub ratio_min: Option<Decimal>,
    /// The highest.
    pub ratio_max: Option<Decimal>,
}

/// The hospital a pack is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnHospital {
    /// Its id.
    pub hospital_id: String,
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: u8,
    /// Its kind.
    pub kind: String,
    /// Its cases of the period.
    pub sums: CaseSums,
    /// Σ amount due on its monthly statements of the period.
    pub amount_due: Decimal,
}

/// Clearing statements summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClearingSums {
    /// Hospitals cleared.
    pub hospitals: u64,
    /// With a surplus.
    pub surplus: u64,
    /// With an overspend.
    pub overspend: u64,
    /// Even.
    pub even: u64,
    /// Σ entitled.
    pub entitled: Decimal,
    /// Σ per-item fund cost.
    pub item_fund: Decimal,
    /// Σ retained surplus or shared overspend.
    pub retained_or_shared: Decimal,
    /// Σ settled.
    pub settled: Decimal,
    /// Σ monthly fund due.
    pub monthly_fund_due: Decimal,
    /// Σ deposits released.
    pub deposits_released: Decimal,
    /// Σ prepayment recovered.
    pub prepayment_recovered: Decimal,
    /// Σ final amount.
    pub final_amount: Decimal,
}

/// Prepayments (预付金) of the year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrepaymentSums {
    /// Decisions.
    pub decided: u64,
    /// Granted.
    pub granted: u64,
    /// Σ amount granted.
    pub granted_amount: Decimal,
    /// Σ recovered at the clearing (`None` without a clearing).
    pub recovered: Option<Decimal>,
}

/// The special-case notice of one half-year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialHalf {
    /// The half-year.
    pub half: HalfYear,
    /// The region's totals.
    pub region: NoticeTotals,
    /// The hospital's own line (a hospital's pack).
    pub own: Option<NoticeRow>,
}

/// The pack.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    /// The period.
    pub period: Period,
    /// The region's name.
    pub region_name: String,
    /// Where every figure comes from.
    pub provenance: Provenance,
    /// The hospital of a hospital's pack.
    pub own: Option<OwnHospital>,
    /// Income then expenditure by item over the period.
    pub fund: Vec<FundLine>,
    /// The period's months.
    pub fund_months: Vec<FundMonth>,
    /// The balance.
    pub balance: FundBalance,
    /// Budget execution (empty when the parameters have no `[budget]` plan).
    pub budget: Vec<BudgetLine>,
    /// Payment by method.
    pub methods: Vec<MethodLine>,
    /// The region's settled cases.
    pub region: CaseSums,
    /// Per level and kind.
    pub distribution: Vec<LevelKindRow>,
    /// The region's clearing (year of the period, when the ledger has one).
    pub clearing: Option<ClearingSums>,
    /// The hospital's own clearing.
    pub own_clearing: Option<ClearingSums>,
    /// The region's prepayments of the year.
    pub prepayment: PrepaymentSums,
    /// The hospital's own.
    pub own_prepayment: Option<PrepaymentSums>,
    /// The special-case notice of the half-years of the period.
    pub special: Vec<SpecialHalf>,
    /// The opinions submitted in the period, counted.
    pub opinions: Counts,
}

fn period_kind(period: Period) -> (&'static str, &'static str, &'static str) {
    match period {
        Period::Month(_) => ("month", "月告知", "monthly notice"),
        Period::Quarter { .. } => ("quarter", "季公布", "quarterly publication"),
        Period::HalfYear(_) => ("half", "半年公布", "half-yearly publication"),
        Period::Year(_) => ("year", "年通报", "yearly report"),
    }
}

fn ratio(v: Option<Decimal>) -> String {
    or_dash(v, pct)
}

fn ratio_csv(v: Option<Decimal>) -> String {
    or_empty(v, pct)
}

impl Disclosure {
    /// `disclose-year-2025`, `disclose-month-2025-06-H001`.
    pub fn stem(&self) -> String {
        let (kind, _, _) = period_kind(self.period);
        match &self.own {
            Some(h) => format!("disclose-{kind}-{}-{}", self.period, h.hospital_id),
            None => format!("disclose-{kind}-{}", self.period),
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

    /// `STEM-fund.csv` (with the balance), `STEM-budget.csv`, `STEM-methods.csv`,
    /// `STEM-distribution.csv`, `STEM-clearing.csv`, `STEM-prepayment.csv`,
    /// `STEM-special-cases.csv`, `STEM-opinions.csv`, `STEM-sources.csv`.
    pub fn csv_files(&self) -> Vec<OutputFile> {
        let stem = self.stem();
        let p = self.period.to_string();
        let prov = &self.provenance;
        let mut fund = Csv::new(&["period", "direction", "item", "name", "amount", "source"]);
        for l in &self.fund {
            fund.row([
                p.as_str(),
                &l.direction,
                &l.item,
                &l.name,
                &money(l.amount),
                &l.source,
            ]);
        }
        let both = format!("{}; {}", prov.fund_source(), prov.runs());
        let b = &self.balance;
        for (item, name, v) in [
            ("opening", "期初结余", b.opening),
            ("income", "本期收入合计", b.income),
            ("expenditure", "本期支出合计", b.expenditure),
            ("closing", "期末结余", b.closing),
        ] {
            fund.row([p.as_str(), "balance", item, name, &money(v), &both]);
        }
        let mut months = Csv::new(&["month", "income", "expenditure", "drg_dip", "source"]);
        for m in &self.fund_months {
            months.row([
                m.month.to_string(),
                money(m.income),
                money(m.expenditure),
                money(m.drg_dip),
                both.clone(),
            ]);
        }
        let mut budget = Csv::new(&[
            "period",
            "line",
            "name",
            "annual_budget",
            "period_budget",
            "executed",
            "execution_rate_pct",
            "source",
        ]);
        for l in &self.budget {
            budget.row([
                p.clone(),
                l.line.clone(),
                l.name.clone(),
                money(l.annual),
                money(l.period_budget),
                money(l.executed),
                ratio_csv(l.rate),
                l.source.clone(),
            ]);
        }
        let mut methods = Csv::new(&["period", "method", "name", "cases", "amount", "source"]);
        for m in &self.methods {
            methods.row([
                p.clone(),
                m.method.clone(),
                m.name.clone(),
                m.cases.map(|c| c.to_string()).unwrap_or_default(),
                money(m.amount),
                m.source.clone(),
            ]);
        }
        let mut dist = Csv::new(&[
            "period",
            "scope",
            "level",
            "kind",
            "hospitals",
            "cases",
            "total_cost",
            "payment",
            "fund_due",
            "payment_to_cost_pct",
            "lowest_payment_to_cost_pct",
            "highest_payment_to_cost_pct",
            "source",
        ]);
        let runs = prov.runs();
        for r in &self.distribution {
            dist.row([
                p.clone(),
                "region".into(),
                r.level.to_string(),
                r.kind.clone(),
                r.sums.hospitals.to_string(),
                r.sums.cases.to_string(),
                money(r.sums.total_cost),
                money(r.sums.payment),
                money(r.sums.fund_due),
                ratio_csv(r.sums.ratio()),
                ratio_csv(r.ratio_min),
                ratio_csv(r.ratio_max),
                runs.clone(),
            ]);
        }
        let sums_row = |scope: &str, level: &str, kind: &str, s: &CaseSums| {
            vec![
                p.clone(),
                scope.to_string(),
                level.to_string(),
                kind.to_string(),
                s.hospitals.to_string(),
                s.cases.to_string(),
                money(s.total_cost),
                money(s.payment),
                money(s.fund_due),
                ratio_csv(s.ratio()),
                String::new(),
                String::new(),
                runs.clone(),
            ]
        };
        dist.row(sums_row("region", "all", "all", &self.region));
        if let Some(h) = &self.own {
            dist.row(sums_row(
                &format!("hospital {}", h.hospital_id),
                &h.level.to_string(),
                &h.kind,
                &h.sums,
            ));
        }
        let mut clearing = Csv::new(&[
            "year",
            "scope",
            "hospitals",
            "surplus",
            "overspend",
            "even",
            "entitled",
            "item_fund",
            "retained_or_shared",
            "settled",
            "monthly_fund_due",
            "deposits_released",
            "prepayment_recovered",
            "final_amount",
            "source",
        ]);
        let year = self.period.first_month().year().to_string();
        let clearing_row = |scope: String, c: &ClearingSums| {
            vec![
                year.clone(),
                scope,
                c.hospitals.to_string(),
                c.surplus.to_string(),
                c.overspend.to_string(),
                c.even.to_string(),
                money(c.entitled),
                money(c.item_fund),
                money(c.retained_or_shared),
                money(c.settled),
                money(c.monthly_fund_due),
                money(c.deposits_released),
                money(c.prepayment_recovered),
                money(c.final_amount),
                prov.clearing_source(),
            ]
        };
        if let Some(c) = &self.clearing {
            clearing.row(clearing_row("region".into(), c));
        }
        if let (Some(c), Some(h)) = (&self.own_clearing, &self.own) {
            clearing.row(clearing_row(format!("hospital {}", h.hospital_id), c));
        }
        let mut prepay = Csv::new(&[
            "year",
            "scope",
            "decided",
            "granted",
            "granted_amount",
            "recovered",
            "source",
        ]);
        let prepay_row = |scope: String, s: &PrepaymentSums| {
            vec![
                year.clone(),
                scope,
                s.decided.to_string(),
                s.granted.to_string(),
                money(s.granted_amount),
                s.recovered.map(money).unwrap_or_default(),
                format!(
                    "prepayment decisions of {year}; recovered: {}",
                    prov.clearing_source()
                ),
            ]
        };
        prepay.row(prepay_row("region".into(), &self.prepayment));
        if let (Some(s), Some(h)) = (&self.own_prepayment, &self.own) {
            prepay.row(prepay_row(format!("hospital {}", h.hospital_id), s));
        }
        let mut special = Csv::new(&[
            "half",
            "scope",
            "hospitals_applying",
            "applications",
            "cases_applied",
            "cases_approved",
            "cases_rejected",
            "cases_withdrawn",
            "cases_pending",
            "approval_rate_pct",
            "source",
        ]);
        for s in &self.special {
            let t = &s.region;
            special.row([
                s.half.to_string(),
                "region".into(),
                t.hospitals_applying.to_string(),
                t.applications.to_string(),
                t.cases_applied.to_string(),
                t.cases_approved.to_string(),
                t.cases_rejected.to_string(),
                t.cases_withdrawn.to_string(),
                t.cases_pending.to_string(),
                ratio_csv(approval_rate(t.cases_approved, t.cases_rejected)),
                "special-case applications of the ledger".into(),
            ]);
            if let Some(r) = &s.own {
                special.row([
                    s.half.to_string(),
                    format!("hospital {}", r.hospital_id),
                    u64::from(r.applications > 0).to_string(),
                    r.applications.to_string(),
                    r.cases_applied.to_string(),
                    r.cases_approved.to_string(),
                    r.cases_rejected.to_string(),
                    r.cases_withdrawn.to_string(),
                    r.cases_pending.to_string(),
                    ratio_csv(approval_rate(r.cases_approved, r.cases_rejected)),
                    "special-case applications of the ledger".into(),
                ]);
            }
        }
        let mut sources = Csv::new(&["what", "source"]);
        sources.row(["settlement", &runs]);
        sources.row(["clearing", &prov.clearing_source()]);
        sources.row(["budget", &prov.budget_version]);
        sources.row(["parameters", &prov.params]);
        sources.row(["fund", &prov.fund]);
        vec![
            OutputFile::new(format!("{stem}-fund.csv"), fund.finish()),
            OutputFile::new(format!("{stem}-fund-months.csv"), months.finish()),
            OutputFile::new(format!("{stem}-budget.csv"), budget.finish()),
            OutputFile::new(format!("{stem}-methods.csv"), methods.finish()),
            OutputFile::new(format!("{stem}-distribution.csv"), dist.finish()),
            OutputFile::new(format!("{stem}-clearing.csv"), clearing.finish()),
            OutputFile::new(format!("{stem}-prepayment.csv"), prepay.finish()),
            OutputFile::new(format!("{stem}-special-cases.csv"), special.finish()),
            OutputFile::new(
                format!("{stem}-opinions.csv"),
                opinions_csv(&p, &self.opinions),
            ),
            OutputFile::new(format!("{stem}-sources.csv"), sources.finish()),
        ]
    }

    /// The page's title and meta line.
    pub fn title(&self) -> (String, String, String) {
        let (_, zh, en) = period_kind(self.period);
        let zh = format!("医保基金“亮家底”信息公开（{zh}）");
        let en = format!("Fund disclosure (亮家底), {en}");
        let mut meta = format!("{} · {}", self.region_name, self.period);
        if let Some(h) = &self.own {
            meta.push_str(&format!(" · {} {}", h.hospital_id, h.name));
        }
        meta.push_str(&format!(" · {}", self.provenance.budget_version));
        (zh, en, meta)
    }

    /// The page.
    pub fn html(&self) -> String {
        self.page().finish()
    }

    /// The pack as a PDF: A4, the text in `font` (a TrueType/OpenType font or collection with
    /// CJK glyphs, `index` in a collection), embedded as a subset.
    pub fn pdf(&self, font: Vec<u8>, index: u32) -> Result<Vec<u8>, crate::PdfError> {
        let (zh, _, _) = self.title();
        crate::pdf::render(&self.page().into_blocks(), &zh, font, index)
    }

    fn page(&self) -> Page {
        let (zh, en, meta) = self.title();
        let prov = &self.provenance;
        let mut page = Page::new(&zh, &en, &meta);

        page.section("数据来源", "Sources");
        let mut t = Table::new(&[text("项目", "what"), text("来源", "source")]);
        t.row(cells!["结算 settlement", prov.runs()]);
        t.row(cells!["清算 clearing", prov.clearing_source()]);
        t.row(cells!["预算 budget", prov.budget_version.clone()]);
        t.row(cells!["参数 parameters", prov.params.clone()]);
        t.row(cells!["基金 fund", prov.fund.clone()]);
        page.table(&t);
        page.end_section();

        if let Some(h) = &self.own {
            page.section("本院情况", "This hospital");
            let mut t = Table::new(&[
                text("指标", "figure"),
                num("本院", "hospital"),
                num("全统筹区", "region"),
            ]);
            t.row(cells![
                "病例数 · cases",
                count(h.sums.cases),
                count(self.region.cases)
            ]);
            t.row(cells![
                "按项目费用 · per-item cost",
                money_grouped(h.sums.total_cost),
                money_grouped(self.region.total_cost)
            ]);
            t.row(cells![
                "DRG/DIP支付 · payment",
                money_grouped(h.sums.payment),
                money_grouped(self.region.payment)
            ]);
            t.row(cells![
                "基金应付 · fund due",
                money_grouped(h.sums.fund_due),
                money_grouped(self.region.fund_due)
            ]);
            t.row(cells![
                "支付/费用 % · payment / cost",
                ratio(h.sums.ratio()),
                ratio(self.region.ratio())
            ]);
            page.table(&t);
            page.note(&format!("来源 source: {}", prov.runs()));
            page.end_section();
        }

        page.section("基金收支", "Fund income and expenditure by item");
        for (direction, zh, en, color) in [
            ("income", "收入", "income", svg::THIRD),
            ("expenditure", "支出", "expenditure", svg::COST),
        ] {
            let lines: Vec<&FundLine> = self
                .fund
                .iter()
                .filter(|l| l.direction == direction)
                .collect();
            let labels: Vec<String> = lines.iter().map(|l| l.name.clone()).collect();
            page.bars(
                &format!("基金{zh}按项目 · fund {en} by item"),
                &labels,
                &[Series {
                    name: "金额 amount",
                    color,
                    values: lines.iter().map(|l| l.amount).collect(),
                }],
                axis,
                money_grouped,
            );
        }
        let mut t = Table::new(&[
            text("收支", "direction"),
            text("项目", "item"),
            num("金额", "amount"),
            text("来源", "source"),
        ]);
        for l in &self.fund {
            let d = if l.direction == "income" {
                "收入 income"
            } else {
                "支出 expenditure"
            };
            t.row(cells![
                d,
                l.name.clone(),
                money_grouped(l.amount),
                l.source.clone()
            ]);
        }
        page.table(&t);
        let b = &self.balance;
        let mut t = Table::new(&[text("结余", "balance"), num("金额", "amount")]);
        t.row(cells!["期初结余 · opening", money_grouped(b.opening)]);
        t.row(cells!["本期收入 · income", money_grouped(b.income)]);
        t.row(cells![
            "本期支出 · expenditure",
            money_grouped(b.expenditure)
        ]);
        t.total = Some(cells!["期末结余 · closing", money_grouped(b.closing)]);
        page.table(&t);
        page.note("期初结余 = 年初滚存 + 本年此前各月收入 − 支出；DRG/DIP 支出为月结算基金应付 · opening = the year's opening balance + the income − the expenditure of the year's months before the period; DRG/DIP expenditure is the monthly statements' fund due.");
        if self.fund_months.len() > 1 {
            let labels: Vec<String> = self
                .fund_months
                .iter()
                .map(|m| m.month.to_string())
                .collect();
            page.lines(
                "按月收入与支出 · income and expenditure by month",
                &labels,
                &[
                    Series {
                        name: "收入 income",
                        color: svg::THIRD,
                        values: self.fund_months.iter().map(|m| m.income).collect(),
                    },
                    Series {
                        name: "支出 expenditure",
                        color: svg::COST,
                        values: self.fund_months.iter().map(|m| m.expenditure).collect(),
                    },
                    Series {
                        name: "DRG/DIP",
                        color: svg::PAYMENT,
                        values: self.fund_months.iter().map(|m| m.drg_dip).collect(),
                    },
                ],
                axis,
                money_grouped,
            );
        }
        page.end_section();

        page.section("预算执行", "Budget execution");
        if self.budget.is_empty() {
            page.note(&prov.budget_version);
        } else {
            let mut t = Table::new(&[
                text("预算项目", "line"),
                num("年度预算", "annual"),
                num("本期预算", "period"),
                num("本期执行", "executed"),
                num("执行率 %", "rate"),
                text("来源", "source"),
            ]);
            for l in &self.budget {
                t.row(cells![
                    l.name.clone(),
                    money_grouped(l.annual),
                    money_grouped(l.period_budget),
                    money_grouped(l.executed),
                    ratio(l.rate),
                    l.source.clone()
                ]);
            }
            page.table(&t);
            page.note("本期预算 = 年度预算 × 本期月数 / 12 · period budget = annual × months of the period / 12.");
        }
        page.end_section();

        page.section("按支付方式", "Payment by method");
        let labels: Vec<String> = self.methods.iter().map(|m| m.name.clone()).collect();
        page.bars(
            "按支付方式基金支付 · fund payment by method",
            &labels,
            &[Series {
                name: "基金支付 fund",
                color: svg::PAYMENT,
                values: self.methods.iter().map(|m| m.amount).collect(),
            }],
            axis,
            money_grouped,
        );
        let mut t = Table::new(&[
            text("支付方式", "method"),
            num("病例数", "cases"),
            num("基金支付", "fund"),
            text("来源", "source"),
        ]);
        for m in &self.methods {
            t.row(cells![
                m.name.clone(),
                or_dash(m.cases, count),
                money_grouped(m.amount),
                m.source.clone()
            ]);
        }
        page.table(&t);
        page.end_section();

        page.section(
            "医院费用与支付分布",
            "Hospitals' cost and payment by level and kind",
        );
        let labels: Vec<String> = self
            .distribution
            .iter()
            .map(|r| format!("{}级 {}", r.level, r.kind))
            .collect();
        page.bars(
            "按级别与类型：支付与按项目费用 · payment vs per-item cost by level and kind",
            &labels,
            &[
                Series {
                    name: "支付 payment",
                    color: svg::PAYMENT,
                    values: self.distribution.iter().map(|r| r.sums.payment).collect(),
                },
                Series {
                    name: "按项目费用 per-item cost",
                    color: svg::COST,
                    values: self
                        .distribution
                        .iter()
                        .map(|r| r.sums.total_cost)
                        .collect(),
                },
            ],
            axis,
            money_grouped,
        );
        let mut t = Table::new(&[
            text("级别 · 类型", "level · kind"),
            num("医院数", "hospitals"),
            num("病例数", "cases"),
            num("按项目费用", "per-item cost"),
            num("支付", "payment"),
            num("支付/费用 %", "payment / cost"),
            num("最低 %", "lowest"),
            num("最高 %", "highest"),
        ]);
        for (r, label) in self.distribution.iter().zip(&labels) {
            t.row(cells![
                label.clone(),
                count(r.sums.hospitals),
                count(r.sums.cases),
                money_grouped(r.sums.total_cost),
                money_grouped(r.sums.payment),
                ratio(r.sums.ratio()),
                ratio(r.ratio_min),
                ratio(r.ratio_max)
            ]);
        }
        t.total = Some(cells![
            "全统筹区 · region",
            count(self.region.hospitals),
            count(self.region.cases),
            money_grouped(self.region.total_cost),
            money_grouped(self.region.payment),
            ratio(self.region.ratio()),
            "",
            ""
        ]);
        page.table(&t);
        page.note(&format!("来源 source: {}", prov.runs()));
        page.end_section();

        page.section("年度清算", "Clearing results");
        match &self.clearing {
            None => page.note(&format!(
                "{} 年尚无清算 · no clearing of the year in the ledger",
                self.period.first_month().year()
            )),
            Some(c) => {
                let mut cols = vec![text("项目", "figure"), num("全统筹区", "region")];
                if self.own_clearing.is_some() {
                    cols.push(num("本院", "hospital"));
                }
                let mut t = Table::new(&cols);
                let own = self.own_clearing.as_ref();
                let mut row = |label: &str, f: fn(&ClearingSums) -> String| {
                    let mut r = cells![label, f(c)];
                    if let Some(o) = own {
                        r.push(f(o).into());
                    }
                    t.row(r);
                };
                row("清算医院数 · hospitals", |c| count(c.hospitals));
                row("结余 · surplus", |c| count(c.surplus));
                row("超支 · overspend", |c| count(c.overspend));
                row("持平 · even", |c| count(c.even));
                row("应得 · entitled", |c| money_grouped(c.entitled));
                row("按项目基金 · per-item fund", |c| {
                    money_grouped(c.item_fund)
                });
                row("结余留用/超支分担 · retained or shared", |c| {
                    money_grouped(c.retained_or_shared)
                });
                row("清算金额 · settled", |c| money_grouped(c.settled));
                row("月结算基金应付 · monthly fund due", |c| {
                    money_grouped(c.monthly_fund_due)
                });
                row("返还保证金 · deposits released", |c| {
                    money_grouped(c.deposits_released)
                });
                row("收回预付金 · prepayment recovered", |c| {
                    money_grouped(c.prepayment_recovered)
                });
                row("清算应付 · final amount", |c| {
                    money_grouped(c.final_amount)
                });
                page.table(&t);
                page.note(&format!("来源 source: {}", prov.clearing_source()));
            }
        }
        page.end_section();

        page.section("预付金", "Prepayments granted and recovered");
        let mut cols = vec![text("项目", "figure"), num("全统筹区", "region")];
        if self.own_prepayment.is_some() {
            cols.push(num("本院", "hospital"));
        }
        let mut t = Table::new(&cols);
        let own = self.own_prepayment.as_ref();
        let mut row = |label: &str, f: fn(&PrepaymentSums) -> String| {
            let mut r = cells![label, f(&self.prepayment)];
            if let Some(o) = own {
                r.push(f(o).into());
            }
            t.row(r);
        };
        row("决定数 · decisions", |s| count(s.decided));
        row("拨付家数 · granted", |s| count(s.granted));
        row("拨付金额 · amount granted", |s| {
            money_grouped(s.granted_amount)
        });
        row("清算收回 · recovered", |s| {
            or_dash(s.recovered, money_grouped)
        });
        page.table(&t);
        page.note(&format!(
            "来源 source: prepayment decisions of {}; recovered: {}",
            self.period.first_month().year(),
            prov.clearing_source()
        ));
        page.end_section();

        page.section("特例单议公示", "Special-case notice");
        let mut t = Table::new(&[
            text("半年 · 范围", "half · scope"),
            num("申请医院", "hospitals"),
            num("申请", "applications"),
            num("申请病例", "cases applied"),
            num("通过", "approved"),
            num("未通过", "rejected"),
            num("待定", "pending"),
            num("通过率 %", "approval rate"),
        ]);
        for s in &self.special {
            let r = &s.region;
            t.row(cells![
                format!("{} 全统筹区 region", s.half),
                count(r.hospitals_applying),
                count(r.applications),
                count(r.cases_applied),
                count(r.cases_approved),
                count(r.cases_rejected),
                count(r.cases_pending),
                ratio(approval_rate(r.cases_approved, r.cases_rejected))
            ]);
            if let Some(o) = &s.own {
                t.row(cells![
                    format!("{} 本院 hospital", s.half),
                    count(u64::from(o.applications > 0)),
                    count(o.applications),
                    count(o.cases_applied),
                    count(o.cases_approved),
                    count(o.cases_rejected),
                    count(o.cases_pending),
                    ratio(approval_rate(o.cases_approved, o.cases_rejected))
                ]);
            }
        }
        page.table(&t);
        page.end_section();

        opinions_section(&mut page, &self.opinions);
        page
    }
}

/// The opinions' counts as CSV: `period,dimension,value,count`.
pub(crate) fn opinions_csv(period: &str, c: &Counts) -> String {
    let mut csv = Csv::new(&["period", "dimension", "value", "count"]);
    csv.row([period, "total", "all", &c.total.to_string()]);
    for (t, n) in &c.by_topic {
        csv.row([period, "topic", t.as_str(), &n.to_string()]);
    }
    for (l, n) in &c.by_level {
        csv.row([period, "level", l.as_str(), &n.to_string()]);
    }
    for (s, n) in &c.by_status {
        csv.row([period, "status", s.as_str(), &n.to_string()]);
    }
    csv.finish()
}

/// The opinions' counts as a section of a page.
pub(crate) fn opinions_section(page: &mut Page, c: &Counts) {
    page.section("意见收集反馈", "Opinions received");
    let mut t = Table::new(&[
        text("分类", "dimension"),
        text("值", "value"),
        num("件数", "count"),
    ]);
    for (t_, n) in &c.by_topic {
        t.row(cells!["主题 topic", t_.as_str(), count(*n)]);
    }
    for (l, n) in &c.by_level {
        t.row(cells!["层级 level", l.as_str(), count(*n)]);
    }
    for (s, n) in &c.by_status {
        t.row(cells!["状态 status", s.as_str(), count(*n)]);
    }
    t.total = Some(cells!["合计 total", "", count(c.total)]);
    page.table(&t);
    page.note("按提交日期计入本期 · counted by the date of submission; topic as classified by the bureau.");
    page.end_section();
}
