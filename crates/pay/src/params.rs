//! The region's payment parameters (统筹区付费参数), read from its TOML parameter file.
//!
//! [`Params::from_toml_str`] reads every section except `[dip]` (owned by the DIP crate and
//! ignored here), validates every value and rejects unknown keys. Each error names the key
//! path (`drg.outliers.high_multiple_bands[1].max_weight`), what was expected and what was
//! found. Every section and key of the first-reading example file is required, except
//! `drg.outliers.high_multiple_bands[last].max_weight` and
//! `clearing.overspend_bands[last].up_to_rate` (the last band is open-ended and must have
//! none), `exclusion.catalogue` or `exclusion.mode` (one of them is required) and
//! `exclusion.weight_bonus` (required only when `mode = "weight_bonus"`).
//!
//! The sections and keys of revision 2 (payment-model §5, §6, §8, §12) are optional, so that a
//! file written before it still reads, and each has a documented default: `[settlement]`
//! (`calendar` none = weekends only, `declaration_day` 10, `due_working_days` 30), `[limits]`
//! (`max_case_cost` 100,000,000.00), the new `[special_case]` keys (`allocation` pooled,
//! `min_per_hospital` 1, `first_review_experts` 2, `max_extra_points` 2,000,
//! `spot_check_share` 0.10), `clearing.deposit_release` (`full`), and the `[prepayment]` keys
//! of the notices' conditions (`require_traceability_upload` false, `priority`
//! traceability code upload → credit rating → agreement years, `cap_amount` and
//! `cap_share_of_balance` none, `max_uplift_months` 2.0, `uplift_min_performance` none).
//! A DIP region must pay cross-province cases per item (`cross_region.cross_province`,
//! payment-model §4: they are outside the point value). The budget plan (`budget.version`, `approved`, `total`,
//! `outpatient`, `reserve_share` and `[budget.inpatient]`) is all or nothing: one of its keys
//! present makes every other one required. When present, its figures are cross-checked
//! ([`Params::warnings`]).
//!
//! Decimal values are written as strings (`"0.90"`) or integers (`100`); a TOML float is
//! refused so that no binary float ever reaches a rate or an amount.
//!
//! The reader walks the parsed [`toml::Table`] by hand rather than through serde derive:
//! this is what lets every message carry the full key path; unknown keys are refused as
//! `#[serde(deny_unknown_fields)]` would.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use thiserror::Error;
use toml::{Table, Value};

use crate::money::Fen;
use crate::TextEnum;

/// An invalid parameter file. Every variant names the TOML key path.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamsError {
    /// The text is not TOML at all.
    #[error("parameter file is not valid TOML: {message}")]
    Syntax {
        /// The TOML parser's message, with line and column.
        message: String,
    },
    /// A required key is absent.
    #[error("{key}: missing; expected {expected}")]
    Missing {
        /// Full key path.
        key: String,
        /// What should be there.
        expected: String,
    },
    /// A key has a value of the wrong type or outside its range.
    #[error("{key}: expected {expected}, found {found}")]
    Invalid {
        /// Full key path.
        key: String,
        /// What should be there.
        expected: String,
        /// What is there.
        found: String,
    },
    /// A key that the section does not know (a typo, or a parameter this version lacks).
    #[error("{key}: unknown key; expected one of {expected}")]
    UnknownKey {
        /// Full key path.
        key: String,
        /// The keys the section knows.
        expected: String,
    },
}

impl ParamsError {
    /// The TOML key path the error is about (`None` for a syntax error).
    pub fn key(&self) -> Option<&str> {
        match self {
            ParamsError::Syntax { .. } => None,
            ParamsError::Missing { key, .. }
            | ParamsError::Invalid { key, .. }
            | ParamsError::UnknownKey { key, .. } => Some(key),
        }
    }
}

type Result<T> = std::result::Result<T, ParamsError>;

text_enum! {
    /// The payment method a region runs (`region.method`).
    pub enum Method {
        /// 按病组付费 — DRG payment.
        Drg = "drg",
        /// 按病种分值付费 — DIP payment.
        Dip = "dip",
    }
}

text_enum! {
    /// Outlier trimming of history costs before the group means (`drg.trim`).
    pub enum Trim {
        /// Keep costs within [Q1 − 1.5·IQR, Q3 + 1.5·IQR] (type-7 quartiles).
        Iqr = "iqr",
        /// Keep every cost.
        None = "none",
    }
}

text_enum! {
    /// How a standard turns into money (`drg.payment`).
    pub enum PaymentMethod {
        /// 费率法 — standard = weight × base_rate × level coefficient.
        Rate = "rate",
        /// 点数法 — points = weight × point_scale × level coefficient; standard = points × point value.
        Point = "point",
    }
}

text_enum! {
    /// Payment of a low-cost case (`drg.outliers.low_payment`).
    pub enum LowPayment {
        /// The case's own total cost (按项目).
        Cost = "cost",
        /// standard × total_cost / standard, as the parameter file defines it.
        Ratio = "ratio",
    }
}

text_enum! {
    /// Payment of ungroupable (0000) and ambiguous (QY) cases (`drg.special_groups`).
    pub enum SpecialGroupRule {
        /// Fujian: the lowest standard over the DRGs of all MDCs.
        LowestStandardAllMdcs = "lowest_standard_all_mdcs",
        /// Fujian: the lowest standard over the DRGs of the case's MDC (ambiguous cases only).
        LowestStandardInMdc = "lowest_standard_in_mdc",
        /// Per item (按项目): paid total_cost.
        PerItem = "per_item",
    }
}

text_enum! {
    /// 除外机制 — the legacy form of a flagged case without a catalogue (`exclusion.mode`).
    pub enum ExclusionMode {
        /// The whole case per item: total_cost (rule 4's `per_item`).
        PerItem = "per_item",
        /// The ordinary payment plus weight_bonus × standard (rule 4's `weight_bonus`).
        WeightBonus = "weight_bonus",
    }
}

text_enum! {
    /// The special-case review period (`special_case.review_period`).
    pub enum ReviewPeriod {
        /// Monthly.
        Month = "month",
        /// Quarterly.
        Quarter = "quarter",
        /// Half-yearly.
        HalfYear = "half_year",
        /// Yearly.
        Year = "year",
    }
}

text_enum! {
    /// The default outcome of an approved special case (`special_case.outcome_default`).
    pub enum SpecialOutcome {
        /// Paid per item.
        PerItem = "per_item",
        /// Paid the standard plus approved extra points.
        ExtraPoints = "extra_points",
    }
}

text_enum! {
    /// Payment of a cross-region case (`cross_region.*`).
    pub enum CrossRegionRule {
        /// Paid like a local case by the local (treating region's) standard.
        LocalStandard = "local_standard",
        /// Paid per item (total_cost).
        PerItem = "per_item",
    }
}

text_enum! {
    /// How the quality deposits withheld monthly are released at clearing
    /// (`clearing.deposit_release`, 质量保证金返还).
    pub enum DepositRelease {
        /// Released in full (the default).
        Full = "full",
        /// Released × performance_score / 100; the rest is kept by the fund.
        Performance = "performance",
    }
}

text_enum! {
    /// A preference of the notices among prepayment applicants (`prepayment.priority`):
    /// when the fund cannot spare every amount, applicants are served in this order.
    pub enum PriorityCriterion {
        /// 追溯码上传 — hospitals that upload drug traceability codes first.
        TraceabilityCodeUpload = "traceability_code_upload",
        /// 信用等级 — by the order of `eligible_credit` (the first rating first).
        CreditRating = "credit_rating",
        /// 协议年限 — more years under agreement first.
        AgreementYears = "agreement_years",
        /// 绩效考核得分 — a higher performance score first.
        PerformanceScore = "performance_score",
        /// The earlier application first.
        AppliedOn = "applied_on",
    }
}

/// One entry of `prepayment.priority`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorityKey {
    /// A preference the hospitals file carries in its standard columns.
    Known(PriorityCriterion),
    /// `"column:NAME"` — another column of the hospitals file, a number, higher first: for a
    /// preference of the notices that the standard columns lack (policy implementation,
    /// enrolment, anti-fraud). A hospitals file without the column skips it, and the decisions
    /// say so.
    Column(String),
}

impl std::fmt::Display for PriorityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PriorityKey::Known(c) => f.write_str(c.as_str()),
            PriorityKey::Column(name) => write!(f, "column:{name}"),
        }
    }
}

text_enum! {
    /// When a prepayment is recovered (`prepayment.recovered_at`).
    pub enum RecoveredAt {
        /// At the annual clearing.
        Clearing = "clearing",
    }
}

/// `[region]` — the pooling region (统筹区).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The local region code (`"350100"`); any other insured region is cross-region (异地).
    pub code: String,
    /// Display name.
    pub name: String,
    /// Insured regions starting with this are in-province (省内异地); must prefix `code`.
    pub province_prefix: String,
    /// The payment year.
    pub year: u16,
    /// DRG or DIP.
    pub method: Method,
    /// The DRG scheme used for payment (`"fujian-2024"`).
    pub scheme: String,
}

text_enum! {
    /// Where a case's patient is insured, seen from the pooling region (参保地).
    pub enum InsuredClass {
        /// 本地 — insured in the region (or no insured region given: taken as local).
        Local = "local",
        /// 省内异地 — insured elsewhere in the province.
        InProvince = "in_province",
        /// 跨省异地 — insured in another province.
        CrossProvince = "cross_province",
    }
}

impl Default for InsuredClass {
    /// A case without an insured region is taken as local.
    fn default() -> Self {
        InsuredClass::Local
    }
}

impl Region {
    /// The class of a case insured in `insured_region` (a region code; empty: local).
    pub fn insured_class(&self, insured_region: &str) -> InsuredClass {
        let region = insured_region.trim();
        if region.is_empty() || region == self.code {
            InsuredClass::Local
        } else if region.starts_with(&self.province_prefix) {
            InsuredClass::InProvince
        } else {
            InsuredClass::CrossProvince
        }
    }
}

/// `[budget]` — 年度DRG/DIP统筹基金支出预算.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    /// Annual fund budget for inpatient DRG/DIP payment, CNY.
    pub inpatient_fund_budget: Decimal,
    /// 质量保证金 — share of each monthly payment withheld until clearing, 0..1.
    pub monthly_quality_deposit_rate: Decimal,
    /// 预算编制 — the year's whole expenditure budget and its split (payment-model §8), when
    /// the file has it.
    pub plan: Option<BudgetPlan>,
}

impl Budget {
    /// The DRG budget that settlement and clearing spend: `[budget.inpatient].drg`, or
    /// `inpatient_fund_budget` in a file without the split.
    pub fn drg(&self) -> Decimal {
        self.plan
            .as_ref()
            .map_or(self.inpatient_fund_budget, |p| p.inpatient.drg)
    }

    /// The DIP budget `B` of the point value (payment-model §4): `[budget.inpatient].dip`, or
    /// `inpatient_fund_budget` in a file without the split.
    pub fn dip(&self) -> Decimal {
        self.plan
            .as_ref()
            .map_or(self.inpatient_fund_budget, |p| p.inpatient.dip)
    }
}

/// The versioned budget plan of `[budget]` (总额预算, 预算编制和调整).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetPlan {
    /// Version number; an adjustment during the year is a new version (≥ 1).
    pub version: u32,
    /// Who approved it, when, and the document number, as written.
    pub approved: String,
    /// The year's whole fund expenditure budget, CNY.
    pub total: Decimal,
    /// Outpatient part, CNY.
    pub outpatient: Decimal,
    /// 调剂金 — share of the total kept in reserve, 0..1.
    pub reserve_share: Decimal,
    /// The inpatient part by payment method.
    pub inpatient: InpatientSplit,
}

/// `[budget.inpatient]` — the inpatient budget by payment method, CNY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InpatientSplit {
    /// 按病组 (DRG).
    pub drg: Decimal,
    /// 按病种分值 (DIP).
    pub dip: Decimal,
    /// 按床日.
    pub per_diem: Decimal,
    /// 按项目.
    pub per_item: Decimal,
    /// Other methods.
    pub other: Decimal,
}

impl InpatientSplit {
    /// The sum of the five methods (checked).
    pub fn sum(&self) -> Option<Decimal> {
        [self.dip, self.per_diem, self.per_item, self.other]
            .into_iter()
            .try_fold(self.drg, |acc, x| acc.checked_add(x))
    }
}

text_enum! {
    /// How the special-case quota is shared (`special_case.allocation`).
    pub enum QuotaAllocation {
        /// The region's cap, first come first served.
        Pooled = "pooled",
        /// Each hospital gets its share of its own settled cases.
        PerHospital = "per_hospital",
    }
}

/// `[settlement]` — 月结算: the payment deadline (payment-model §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// The official holiday calendar (`calendar/cn-holidays.txt`), as written in the file:
    /// a path relative to the parameter file. `None`: Monday to Friday are working days.
    pub calendar: Option<String>,
    /// 申报截止日 — day of the month after discharge by which the month is declared (1..28).
    pub declaration_day: u8,
    /// Working days from the day after the deadline within which the fund pays (1..366).
    pub due_working_days: u32,
}

impl Default for Settlement {
    fn default() -> Self {
        Settlement {
            calendar: None,
            declaration_day: 10,
            due_working_days: 30,
        }
    }
}

/// `[limits]` — bounds on input figures (payment-model §12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A case's money (`total_cost`, `fund_paid`, item costs) is at most this, CNY.
    pub max_case_cost: Decimal,
}

impl Limits {
    /// 100,000,000.00 CNY.
    pub const DEFAULT_MAX_CASE_COST: Decimal = Decimal::from_parts(1_410_065_408, 2, 0, false, 2);
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_case_cost: Limits::DEFAULT_MAX_CASE_COST,
        }
    }
}

/// Where DRG weights come from (`drg.weights`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightsSource {
    /// Computed from the history cases (`"history"`).
    History,
    /// Read from a CSV file at this path (`drg,weight` or the weight-table format).
    File(String),
}

/// One band of a banded parameter: applies up to `upper` inclusive; `None` = open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// Inclusive upper bound (`max_weight`, `up_to_rate`); `None` for the last band.
    pub upper: Option<Decimal>,
    /// The band's value (`multiple`, `fund_share`).
    pub value: Decimal,
}

/// Picks the band of `x`: the first band whose upper bound is ≥ `x`, else the open last band.
fn band_value(bands: &[Band], x: Decimal) -> Decimal {
    bands
        .iter()
        .find(|b| b.upper.is_none_or(|upper| x <= upper))
        .or(bands.last())
        .map_or(Decimal::ZERO, |b| b.value)
}

/// `[drg.outliers]` — high-cost (高倍率) and low-cost (低倍率) cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outliers {
    /// High multiple by weight band: `upper` = `max_weight`, `value` = `multiple`.
    pub high_multiple_bands: Vec<Band>,
    /// Share of the cost above the threshold that is paid, 0..1.
    pub high_extra_share: Decimal,
    /// A case is low-cost when total_cost < low_multiple × standard.
    pub low_multiple: Decimal,
    /// How a low-cost case is paid.
    pub low_payment: LowPayment,
    /// If > 0, stays of fewer days are paid as low-cost cases (住院天数过短).
    pub short_stay_days: u32,
}

impl Outliers {
    /// The high multiple `m` for a DRG weight (before the level coefficient).
    ///
    /// Reading of `max_weight`: an inclusive upper bound. A weight of exactly `1.0` is in
    /// the band `{ max_weight = "1.0" }`; the first band whose `max_weight` is ≥ the weight
    /// applies, and the last band (no `max_weight`) takes every heavier weight.
    pub fn high_multiple(&self, weight: Decimal) -> Decimal {
        band_value(&self.high_multiple_bands, weight)
    }
}

/// `[drg.special_groups]` — Fujian 0000 and QY cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialGroups {
    /// 无法入组 (0000) cases.
    pub ungroupable: SpecialGroupRule,
    /// 歧义病案 (QY) cases.
    pub ambiguous: SpecialGroupRule,
}

/// 费率 (`drg.base_rate`): written in the file, or derived from the budget (payment-model §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseRate {
    /// CNY per unit of weight, as written (> 0).
    Given(Decimal),
    /// `"budget"`: to be derived from the DRG budget and a history's expected weights
    /// ([`crate::rate::derive_base_rate`]; the engine does it when it loads a region with a
    /// history). A tariff refuses it until it is derived.
    Budget,
    /// Derived from the budget, with every figure it came from.
    Derived(crate::rate::RateDerivation),
}

impl BaseRate {
    /// CNY per unit of weight, once known (`None` for an underived `"budget"`).
    pub fn value(&self) -> Option<Decimal> {
        match self {
            BaseRate::Given(v) => Some(*v),
            BaseRate::Derived(d) => Some(d.rate),
            BaseRate::Budget => None,
        }
    }

    /// The derivation, when the rate was derived from the budget.
    pub fn derivation(&self) -> Option<&crate::rate::RateDerivation> {
        match self {
            BaseRate::Derived(d) => Some(d),
            _ => None,
        }
    }

    /// Whether the file asks for the rate to be derived (`"budget"`, derived or not).
    pub fn from_budget(&self) -> bool {
        !matches!(self, BaseRate::Given(_))
    }
}

impl std::fmt::Display for BaseRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BaseRate::Given(v) => write!(f, "{}", Fen(*v)),
            BaseRate::Budget => f.write_str(
                "budget (to be derived: DRG budget (total-cost basis) / Σ expected weights of the history)",
            ),
            BaseRate::Derived(d) => write!(f, "{d}"),
        }
    }
}

/// `[drg]` — DRG weights, standards and outliers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrgParams {
    /// Where the weights come from.
    pub weights: WeightsSource,
    /// Trimming of history costs.
    pub trim: Trim,
    /// Groups with fewer history cases take their ADRG's weight, else 1.
    pub min_cases_for_own_weight: u32,
    /// 费率 — CNY per unit of weight (rate method): a figure > 0, or derived from the budget.
    pub base_rate: BaseRate,
    /// 点数 per unit of weight (point method), > 0.
    pub point_scale: Decimal,
    /// Rate or point method.
    pub payment: PaymentMethod,
    /// 医疗机构等级系数 — by hospital level; levels 1, 2 and 3 are required.
    pub hospital_level_coefficient: BTreeMap<u8, Decimal>,
    /// High- and low-cost cases.
    pub outliers: Outliers,
    /// 0000 and QY cases.
    pub special_groups: SpecialGroups,
}

/// `[exclusion]` — 除外机制 (`payment-model.md` §2 rule 4).
///
/// Revision 2: `catalogue` names the province's approved catalogue (a CSV path relative to the
/// parameter file, read by the caller and parsed by [`crate::exclusion::Catalogue`]); only its
/// items, named by a case in `new_tech_items`, give an exclusion, and `new_tech_flag` alone
/// gives nothing. The first reading's keys `mode` and `weight_bonus` remain accepted: without
/// a catalogue, a case flagged `new_tech_flag = 1` takes the form `mode` (with the bonus
/// `weight_bonus`), paid by rule 4's formulas; with a catalogue they are read, validated,
/// echoed and not used. A file needs `catalogue` or `mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    /// The approved catalogue's path as written (relative to the parameter file).
    pub catalogue: Option<String>,
    /// Legacy: the form a flagged case takes when there is no catalogue.
    pub mode: Option<ExclusionMode>,
    /// Legacy: the bonus share (≥ 0); always present when `mode` is `weight_bonus`.
    pub weight_bonus: Option<Decimal>,
}

impl Exclusion {
    /// Reads only the `[exclusion]` table of a parameter file (for callers such as the DIP
    /// command that do not read the rest of it). The error names the key.
    pub fn from_params_toml(text: &str) -> Result<Exclusion> {
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| ParamsError::Syntax {
                message: e.to_string().trim_end().to_string(),
            })?;
        let mut root = Section::new(String::new(), &table);
        read_exclusion(root.table("exclusion")?)
    }
}

/// `[special_case]` — 特例单议.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialCase {
    /// Maximum share of the region's DRG-settled cases in a period, 0..1.
    pub max_share_drg: Decimal,
    /// Maximum share of the region's DIP-settled cases in a period, 0..1.
    pub max_share_dip: Decimal,
    /// The review period.
    pub review_period: ReviewPeriod,
    /// The default outcome of an approval.
    pub outcome_default: SpecialOutcome,
    /// How the quota is shared (default pooled).
    pub allocation: QuotaAllocation,
    /// Per-hospital allocation: at least this many for a hospital that settled any case (default 1).
    pub min_per_hospital: u32,
    /// 初审 — experts of the first review (default 2, at least 1).
    pub first_review_experts: u32,
    /// Upper bound of approved extra points (default 2,000, > 0).
    pub max_extra_points: Decimal,
    /// 抽查复核 — share of decided cases re-reviewed each half-year (default 0.10).
    pub spot_check_share: Decimal,
}

/// `[cross_region]` — 异地就医.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrossRegion {
    /// 省内异地: only `local_standard` is accepted (the national notice pays these cases
    /// by the treating region's standard).
    pub in_province: CrossRegionRule,
    /// 跨省异地: `per_item` or `local_standard`.
    pub cross_province: CrossRegionRule,
}

/// `[clearing]` — 年度清算: 结余留用, 合理超支分担.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearing {
    /// Share of a surplus the hospital keeps, 0..1.
    pub surplus_retained_share: Decimal,
    /// Cap on the kept surplus as a rate of the item-based cost, ≥ 0.
    pub surplus_cap_rate: Decimal,
    /// Overspend bands: `upper` = `up_to_rate`, `value` = `fund_share`.
    pub overspend_bands: Vec<Band>,
    /// Whether kept surplus and shared overspend are scaled by performance_score / 100.
    pub performance_weight: bool,
    /// 质量保证金返还 — how the deposits withheld monthly are released (default `full`).
    pub deposit_release: DepositRelease,
}

impl Clearing {
    /// The fund's share of an overspend whose rate (gap / item fund) is `rate`.
    pub fn overspend_fund_share(&self, rate: Decimal) -> Decimal {
        band_value(&self.overspend_bands, rate)
    }
}

/// `[prepayment]` — 预付金.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepayment {
    /// Months of last year's average monthly fund payment, ≥ 0.
    pub months: Decimal,
    /// Credit ratings that may receive a prepayment.
    pub eligible_credit: Vec<String>,
    /// Minimum years of agreement with the fund.
    pub min_agreement_years: u32,
    /// When the prepayment is recovered.
    pub recovered_at: RecoveredAt,
    /// 追溯码上传 as a condition: a hospital that does not upload traceability codes is
    /// refused (default `false`: the notices make it a preference, see `priority`).
    pub require_traceability_upload: bool,
    /// The order in which eligible applicants are served when the cap binds (default
    /// traceability code upload, credit rating, agreement years); ties go to the earlier
    /// application, then the hospital id.
    pub priority: Vec<PriorityKey>,
    /// What the fund can spare for the year's prepayments, CNY (`None`: no absolute cap).
    pub cap_amount: Option<Decimal>,
    /// What the fund can spare as a share of its balance at the start of the year (the
    /// fund file's opening balance; `None`: no such cap). With `cap_amount`, the smaller.
    pub cap_share_of_balance: Option<Decimal>,
    /// 经批准提高 — the most months an approved uplift may grant (default 2.0, ≥ `months`).
    pub max_uplift_months: Decimal,
    /// An uplift needs at least this performance score (default `None`: the approval alone).
    pub uplift_min_performance: Option<Decimal>,
}

impl Prepayment {
    /// The default order of `priority`.
    pub const DEFAULT_PRIORITY: [PriorityKey; 3] = [
        PriorityKey::Known(PriorityCriterion::TraceabilityCodeUpload),
        PriorityKey::Known(PriorityCriterion::CreditRating),
        PriorityKey::Known(PriorityCriterion::AgreementYears),
    ];

    /// The default `max_uplift_months`: 2.0 (`dip-and-payment.md` §20: "up to e.g. 1.5–2
    /// with approval").
    pub const DEFAULT_MAX_UPLIFT_MONTHS: Decimal = Decimal::from_parts(20, 0, 0, false, 1);
}

/// A region's payment parameters for one year (every section but `[dip]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// `[region]`.
    pub region: Region,
    /// `[budget]`.
    pub budget: Budget,
    /// `[drg]`.
    pub drg: DrgParams,
    /// `[exclusion]`.
    pub exclusion: Exclusion,
    /// `[special_case]`.
    pub special_case: SpecialCase,
    /// `[cross_region]`.
    pub cross_region: CrossRegion,
    /// `[clearing]`.
    pub clearing: Clearing,
    /// `[prepayment]`.
    pub prepayment: Prepayment,
    /// `[settlement]` (optional; defaults when absent).
    pub settlement: Settlement,
    /// `[limits]` (optional; defaults when absent).
    pub limits: Limits,
}

impl Params {
    /// Reads and validates a parameter file. Any non-empty `region.scheme` is accepted;
    /// use [`Params::from_toml_str_with_schemes`] to check it against the known schemes.
    pub fn from_toml_str(text: &str) -> Result<Params> {
        Self::parse(text, None)
    }

    /// Reads and validates a parameter file whose `region.scheme` must be one of `schemes`.
    pub fn from_toml_str_with_schemes(text: &str, schemes: &[&str]) -> Result<Params> {
        Self::parse(text, Some(schemes))
    }

    fn parse(text: &str, schemes: Option<&[&str]>) -> Result<Params> {
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| ParamsError::Syntax {
                message: e.to_string().trim_end().to_string(),
            })?;
        let mut root = Section::new(String::new(), &table);
        // [dip] belongs to the DIP crate: present or not, it is not read here.
        root.ignore("dip");
        let params = Params {
            region: read_region(root.table("region")?, schemes)?,
            budget: read_budget(root.table("budget")?)?,
            drg: read_drg(root.table("drg")?)?,
            exclusion: read_exclusion(root.table("exclusion")?)?,
            special_case: read_special_case(root.table("special_case")?)?,
            cross_region: read_cross_region(root.table("cross_region")?)?,
            clearing: read_clearing(root.table("clearing")?)?,
            prepayment: read_prepayment(root.table("prepayment")?)?,
            settlement: match root.optional_table("settlement")? {
                Some(s) => read_settlement(s)?,
                None => Settlement::default(),
            },
            limits: match root.optional_table("limits")? {
                Some(s) => read_limits(s)?,
                None => Limits::default(),
            },
        };
        root.finish()?;
        if params.region.method == Method::Dip
            && params.cross_region.cross_province != CrossRegionRule::PerItem
        {
            // payment-model §4, scope: cross-province cases are outside the DIP point value
            return Err(invalid(
                "cross_region.cross_province",
                "\"per_item\" in a DIP region (region.method = \"dip\": cross-province cases are outside the point value and settled per item, payment-model §4)",
                format!("\"{}\"", params.cross_region.cross_province),
            ));
        }
        Ok(params)
    }

    /// Cross-checks of figures that are each valid alone but disagree with each other (a
    /// budget whose parts do not add up to its total). The run goes on; the caller shows them.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let b = &self.budget;
        if let Some(plan) = &b.plan {
            let reserve = plan.total.checked_mul(plan.reserve_share);
            let parts = plan
                .inpatient
                .sum()
                .and_then(|i| i.checked_add(plan.outpatient))
                .zip(reserve)
                .and_then(|(p, r)| p.checked_add(r));
            match parts {
                Some(parts) if parts != plan.total => out.push(format!(
                    "budget.total {} differs from outpatient + inpatient methods + reserve = {} (difference {})",
                    Fen(plan.total),
                    Fen(parts),
                    Fen(plan.total - parts)
                )),
                Some(_) => {}
                None => out.push("budget: the parts of the budget overflow when added".into()),
            }
            let drg_dip = plan.inpatient.drg.checked_add(plan.inpatient.dip);
            if drg_dip != Some(b.inpatient_fund_budget) {
                out.push(format!(
                    "budget.inpatient_fund_budget {} differs from budget.inpatient.drg + budget.inpatient.dip = {}",
                    Fen(b.inpatient_fund_budget),
                    drg_dip.map_or("overflow".to_string(), |x| Fen(x).to_string())
                ));
            }
            let (spent, name) = match self.region.method {
                Method::Drg => (plan.inpatient.drg, "drg"),
                Method::Dip => (plan.inpatient.dip, "dip"),
            };
            if spent.is_zero() {
                out.push(format!(
                    "region.method is \"{}\" but budget.inpatient.{name} is 0",
                    self.region.method
                ));
            }
        }
        out
    }

    /// One line `key = value` per loaded parameter, in file order, so that a bureau sees
    /// exactly what a run used.
    pub fn summary_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut line = |key: &str, value: String| out.push(format!("{key} = {value}"));
        let r = &self.region;
        line("region.code", r.code.clone());
        line("region.name", r.name.clone());
        line("region.province_prefix", r.province_prefix.clone());
        line("region.year", r.year.to_string());
        line("region.method", r.method.to_string());
        line("region.scheme", r.scheme.clone());
        let b = &self.budget;
        line(
            "budget.inpatient_fund_budget",
            Fen(b.inpatient_fund_budget).to_string(),
        );
        line(
            "budget.monthly_quality_deposit_rate",
            b.monthly_quality_deposit_rate.to_string(),
        );
        if let Some(plan) = &b.plan {
            line("budget.version", plan.version.to_string());
            line("budget.approved", plan.approved.clone());
            line("budget.total", Fen(plan.total).to_string());
            line("budget.outpatient", Fen(plan.outpatient).to_string());
            line("budget.reserve_share", plan.reserve_share.to_string());
            let i = &plan.inpatient;
            line("budget.inpatient.drg", Fen(i.drg).to_string());
            line("budget.inpatient.dip", Fen(i.dip).to_string());
            line("budget.inpatient.per_diem", Fen(i.per_diem).to_string());
            line("budget.inpatient.per_item", Fen(i.per_item).to_string());
            line("budget.inpatient.other", Fen(i.other).to_string());
        }
        let d = &self.drg;
        let weights = match &d.weights {
            WeightsSource::History => "history (computed from the history cases)".to_string(),
            WeightsSource::File(path) => format!("file {path}"),
        };
        line("drg.weights", weights);
        line("drg.trim", d.trim.to_string());
        line(
            "drg.min_cases_for_own_weight",
            d.min_cases_for_own_weight.to_string(),
        );
        line("drg.base_rate", d.base_rate.to_string());
        line("drg.point_scale", d.point_scale.to_string());
        line("drg.payment", d.payment.to_string());
        for (level, coefficient) in &d.hospital_level_coefficient {
            line(
                &format!("drg.hospital_level_coefficient.\"{level}\""),
                coefficient.to_string(),
            );
        }
        let o = &d.outliers;
        line(
            "drg.outliers.high_multiple_bands",
            render_bands(&o.high_multiple_bands, "weight", "multiple"),
        );
        line(
            "drg.outliers.high_extra_share",
            o.high_extra_share.to_string(),
        );
        line("drg.outliers.low_multiple", o.low_multiple.to_string());
        line("drg.outliers.low_payment", o.low_payment.to_string());
        let short_stay = if o.short_stay_days == 0 {
            "0 (off)".to_string()
        } else {
            format!("{} (stays of fewer days are low-cost)", o.short_stay_days)
        };
        line("drg.outliers.short_stay_days", short_stay);
        line(
            "drg.special_groups.ungroupable",
            d.special_groups.ungroupable.to_string(),
        );
        line(
            "drg.special_groups.ambiguous",
            d.special_groups.ambiguous.to_string(),
        );
        let e = &self.exclusion;
        if let Some(path) = &e.catalogue {
            line(
                "exclusion.catalogue",
                format!(
                    "{path} (the approved items named in new_tech_items decide; new_tech_flag alone gives nothing)"
                ),
            );
        }
        let unused = if e.catalogue.is_some() {
            " (legacy: not used, the catalogue decides)"
        } else {
            " (legacy: a case flagged new_tech_flag = 1 takes this form)"
        };
        if let Some(mode) = e.mode {
            line("exclusion.mode", format!("{mode}{unused}"));
        }
        if let Some(bonus) = e.weight_bonus {
            line("exclusion.weight_bonus", format!("{bonus}{unused}"));
        }
        let s = &self.special_case;
        line("special_case.max_share_drg", s.max_share_drg.to_string());
        line("special_case.max_share_dip", s.max_share_dip.to_string());
        line("special_case.review_period", s.review_period.to_string());
        line(
            "special_case.outcome_default",
            s.outcome_default.to_string(),
        );
        line("special_case.allocation", s.allocation.to_string());
        line(
            "special_case.min_per_hospital",
            s.min_per_hospital.to_string(),
        );
        line(
            "special_case.first_review_experts",
            s.first_review_experts.to_string(),
        );
        line(
            "special_case.max_extra_points",
            s.max_extra_points.to_string(),
        );
        line(
            "special_case.spot_check_share",
            s.spot_check_share.to_string(),
        );
        let st = &self.settlement;
        line(
            "settlement.calendar",
            st.calendar
                .clone()
                .unwrap_or_else(|| "none (Monday to Friday are working days)".into()),
        );
        line("settlement.declaration_day", st.declaration_day.to_string());
        line(
            "settlement.due_working_days",
            st.due_working_days.to_string(),
        );
        line(
            "limits.max_case_cost",
            Fen(self.limits.max_case_cost).to_string(),
        );
        let c = &self.cross_region;
        line("cross_region.in_province", c.in_province.to_string());
        line("cross_region.cross_province", c.cross_province.to_string());
        let c = &self.clearing;
        line(
            "clearing.surplus_retained_share",
            c.surplus_retained_share.to_string(),
        );
        line("clearing.surplus_cap_rate", c.surplus_cap_rate.to_string());
        line(
            "clearing.overspend_bands",
            render_bands(&c.overspend_bands, "overspend rate", "fund share"),
        );
        line(
            "clearing.performance_weight",
            c.performance_weight.to_string(),
        );
        line("clearing.deposit_release", c.deposit_release.to_string());
        let p = &self.prepayment;
        line("prepayment.months", p.months.to_string());
        line("prepayment.eligible_credit", p.eligible_credit.join(", "));
        line(
            "prepayment.min_agreement_years",
            p.min_agreement_years.to_string(),
        );
        line("prepayment.recovered_at", p.recovered_at.to_string());
        line(
            "prepayment.require_traceability_upload",
            p.require_traceability_upload.to_string(),
        );
        let priority: Vec<String> = p.priority.iter().map(ToString::to_string).collect();
        line("prepayment.priority", priority.join(", "));
        line(
            "prepayment.cap_amount",
            p.cap_amount
                .map_or_else(|| "none".to_string(), |c| Fen(c).to_string()),
        );
        line(
            "prepayment.cap_share_of_balance",
            p.cap_share_of_balance
                .map_or_else(|| "none".to_string(), |c| c.to_string()),
        );
        line(
            "prepayment.max_uplift_months",
            p.max_uplift_months.to_string(),
        );
        line(
            "prepayment.uplift_min_performance",
            p.uplift_min_performance
                .map_or_else(|| "none".to_string(), |c| c.to_string()),
        );
        out
    }
}

/// `weight ≤ 1.0: multiple 3.0; weight ≤ 2.0: multiple 2.5; above: multiple 2.0`.
fn render_bands(bands: &[Band], bound: &str, value: &str) -> String {
    bands
        .iter()
        .map(|b| match b.upper {
            Some(upper) => format!("{bound} ≤ {upper}: {value} {}", b.value),
            None => format!("above: {value} {}", b.value),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

// ---------------------------------------------------------------------------------------
// Sections

fn read_region(mut s: Section<'_>, schemes: Option<&[&str]>) -> Result<Region> {
    let code = s.digits("code")?;
    let name = s.string("name")?;
    let province_prefix = s.digits("province_prefix")?;
    if !code.starts_with(&province_prefix) {
        return Err(invalid(
            s.key("province_prefix"),
            format!("a prefix of region.code \"{code}\""),
            format!("\"{province_prefix}\""),
        ));
    }
    let year = s.integer("year", 1900, 9999, "a year (1900..9999)")?;
    let method = s.choice("method", Method::ALL)?;
    let scheme = s.string("scheme")?;
    if let Some(known) = schemes {
        if !known.contains(&scheme.as_str()) {
            return Err(invalid(
                s.key("scheme"),
                one_of(known),
                format!("\"{scheme}\""),
            ));
        }
    }
    s.finish()?;
    Ok(Region {
        code,
        name,
        province_prefix,
        year: year as u16,
        method,
        scheme,
    })
}

/// The keys of the budget plan: one present makes all required.
const BUDGET_PLAN_KEYS: [&str; 6] = [
    "version",
    "approved",
    "total",
    "outpatient",
    "reserve_share",
    "inpatient",
];

fn read_budget(mut s: Section<'_>) -> Result<Budget> {
    let inpatient_fund_budget = s.decimal("inpatient_fund_budget", Bound::NonNegative)?;
    let monthly_quality_deposit_rate = s.decimal("monthly_quality_deposit_rate", Bound::Share)?;
    let plan = match BUDGET_PLAN_KEYS.iter().find(|k| s.table.contains_key(**k)) {
        None => None,
        Some(first) => {
            let also = format!("(budget.{first} is there, so the whole budget plan is required)");
            let version = s
                .require("version", &also)
                .and_then(|_| s.integer("version", 1, u32::MAX as i64, "a version number ≥ 1"))?;
            let approved = match s.require("approved", &also)? {
                Value::String(text) if !text.trim().is_empty() => text.trim().to_string(),
                other => {
                    return Err(invalid(
                        s.key("approved"),
                        "who approved the budget, when, and the document number",
                        describe(other),
                    ))
                }
            };
            s.require("total", &also)?;
            let total = s.decimal("total", Bound::NonNegative)?;
            s.require("outpatient", &also)?;
            let outpatient = s.decimal("outpatient", Bound::NonNegative)?;
            s.require("reserve_share", &also)?;
            let reserve_share = s.decimal("reserve_share", Bound::Share)?;
            s.require("inpatient", &also)?;
            let mut i = s.table("inpatient")?;
            let inpatient = InpatientSplit {
                drg: i.decimal("drg", Bound::NonNegative)?,
                dip: i.decimal("dip", Bound::NonNegative)?,
                per_diem: i.decimal("per_diem", Bound::NonNegative)?,
                per_item: i.decimal("per_item", Bound::NonNegative)?,
                other: i.decimal("other", Bound::NonNegative)?,
            };
            i.finish()?;
            Some(BudgetPlan {
                version: version as u32,
                approved,
                total,
                outpatient,
                reserve_share,
                inpatient,
            })
        }
    };
    s.finish()?;
    Ok(Budget {
        inpatient_fund_budget,
        monthly_quality_deposit_rate,
        plan,
    })
}

fn read_settlement(mut s: Section<'_>) -> Result<Settlement> {
    let d = Settlement::default();
    let calendar = match s.get("calendar") {
        None => None,
        Some(Value::String(path)) if !path.trim().is_empty() => Some(path.trim().to_string()),
        Some(other) => {
            return Err(invalid(
                s.key("calendar"),
                "a path to the holiday calendar, relative to this file",
                describe(other),
            ))
        }
    };
    let declaration_day = s.optional_integer(
        "declaration_day",
        1,
        28,
        "a day of the month 1..28",
        d.declaration_day as i64,
    )? as u8;
    let due_working_days = s.optional_integer(
        "due_working_days",
        1,
        366,
        "a number of working days 1..366",
        d.due_working_days as i64,
    )? as u32;
    s.finish()?;
    Ok(Settlement {
        calendar,
        declaration_day,
        due_working_days,
    })
}

fn read_limits(mut s: Section<'_>) -> Result<Limits> {
    let max_case_cost = s
        .optional_decimal("max_case_cost", Bound::Positive)?
        .unwrap_or(Limits::DEFAULT_MAX_CASE_COST);
    if max_case_cost.scale() > 2 {
        return Err(invalid(
            s.key("max_case_cost"),
            "an amount in CNY with at most 2 decimals",
            format!("\"{max_case_cost}\""),
        ));
    }
    s.finish()?;
    Ok(Limits { max_case_cost })
}

fn read_drg(mut s: Section<'_>) -> Result<DrgParams> {
    let weights = match s.string("weights")?.as_str() {
        "history" => WeightsSource::History,
        path => WeightsSource::File(path.to_string()),
    };
    let trim = s.choice("trim", Trim::ALL)?;
    let min_cases = s.integer(
        "min_cases_for_own_weight",
        0,
        u32::MAX as i64,
        "an integer ≥ 0",
    )?;
    let base_rate = read_base_rate(&mut s)?;
    let point_scale = s.decimal("point_scale", Bound::Positive)?;
    let payment = s.choice("payment", PaymentMethod::ALL)?;
    if base_rate == BaseRate::Budget && payment != PaymentMethod::Rate {
        return Err(invalid(
            s.key("base_rate"),
            "a decimal > 0: \"budget\" derives the rate of the rate method, and drg.payment is not \"rate\"",
            "\"budget\"".to_string(),
        ));
    }
    let hospital_level_coefficient =
        read_level_coefficients(s.table("hospital_level_coefficient")?)?;
    let outliers = read_outliers(s.table("outliers")?)?;
    let mut g = s.table("special_groups")?;
    let special_groups = SpecialGroups {
        ungroupable: g.choice(
            "ungroupable",
            &[
                SpecialGroupRule::LowestStandardAllMdcs,
                SpecialGroupRule::PerItem,
            ],
        )?,
        ambiguous: g.choice("ambiguous", SpecialGroupRule::ALL)?,
    };
    g.finish()?;
    s.finish()?;
    Ok(DrgParams {
        weights,
        trim,
        min_cases_for_own_weight: min_cases as u32,
        base_rate,
        point_scale,
        payment,
        hospital_level_coefficient,
        outliers,
        special_groups,
    })
}

/// `drg.base_rate`: the string `"budget"`, or a decimal > 0. Any other string is refused
/// with both forms named.
fn read_base_rate(s: &mut Section<'_>) -> Result<BaseRate> {
    let key = s.key("base_rate");
    let value = s.require("base_rate", Bound::Positive.expected())?;
    match value {
        Value::String(text) if text.trim() == "budget" => Ok(BaseRate::Budget),
        Value::String(text) if !is_plain_decimal(text.trim()) => Err(invalid(
            &key,
            "\"budget\" (derived from the DRG budget and the history's expected weights) or a decimal > 0 such as \"38000.00\"",
            describe(value),
        )),
        _ => decimal_value(&key, value, Bound::Positive).map(BaseRate::Given),
    }
}

/// The levels every region must give a coefficient for.
const REQUIRED_LEVELS: [u8; 3] = [1, 2, 3];

/// The keys of this table are data (levels), so every key is read and none is unknown.
fn read_level_coefficients(s: Section<'_>) -> Result<BTreeMap<u8, Decimal>> {
    let mut map = BTreeMap::new();
    for (name, value) in s.table {
        let key = format!("{}.\"{name}\"", s.path);
        let level = name
            .parse::<u8>()
            .ok()
            .filter(|l| (1..=9).contains(l))
            .ok_or_else(|| {
                invalid(
                    &key,
                    "a hospital level 1..9 as the key",
                    format!("\"{name}\""),
                )
            })?;
        map.insert(level, decimal_value(&key, value, Bound::Factor)?);
    }
    for level in REQUIRED_LEVELS {
        if !map.contains_key(&level) {
            return Err(ParamsError::Missing {
                key: format!("{}.\"{level}\"", s.path),
                expected: format!("a coefficient for hospital level {level}"),
            });
        }
    }
    Ok(map)
}

fn read_outliers(mut s: Section<'_>) -> Result<Outliers> {
    let high_multiple_bands = s.bands(
        "high_multiple_bands",
        ("max_weight", Bound::Positive),
        ("multiple", Bound::AtLeastOne),
    )?;
    let outliers = Outliers {
        high_multiple_bands,
        high_extra_share: s.decimal("high_extra_share", Bound::Share)?,
        low_multiple: s.decimal("low_multiple", Bound::Share)?,
        low_payment: s.choice("low_payment", LowPayment::ALL)?,
        short_stay_days: s.integer(
            "short_stay_days",
            0,
            u32::MAX as i64,
            "an integer ≥ 0 (0 = off)",
        )? as u32,
    };
    s.finish()?;
    Ok(outliers)
}

fn read_exclusion(mut s: Section<'_>) -> Result<Exclusion> {
    let catalogue = match s.get("catalogue") {
        None => None,
        Some(Value::String(path)) if !path.trim().is_empty() => Some(path.trim().to_string()),
        Some(other) => {
            return Err(invalid(
                s.key("catalogue"),
                "the path of the approved catalogue (CSV), relative to this file",
                describe(other),
            ))
        }
    };
    let mode = match (&catalogue, s.table.contains_key("mode")) {
        (None, false) => {
            return Err(ParamsError::Missing {
                key: s.key("catalogue"),
                expected: "the path of the approved exclusion catalogue (CSV, relative to this \
                           file), or the legacy key exclusion.mode"
                    .to_string(),
            })
        }
        (_, true) => Some(s.choice("mode", ExclusionMode::ALL)?),
        (Some(_), false) => None,
    };
    let weight_bonus = match mode {
        Some(ExclusionMode::WeightBonus) => {
            Some(s.decimal("weight_bonus", Bound::SmallNonNegative)?)
        }
        _ => s.optional_decimal("weight_bonus", Bound::SmallNonNegative)?,
    };
    s.finish()?;
    Ok(Exclusion {
        catalogue,
        mode,
        weight_bonus,
    })
}

fn read_special_case(mut s: Section<'_>) -> Result<SpecialCase> {
    let special = SpecialCase {
        max_share_drg: s.decimal("max_share_drg", Bound::Share)?,
        max_share_dip: s.decimal("max_share_dip", Bound::Share)?,
        review_period: s.choice("review_period", ReviewPeriod::ALL)?,
        outcome_default: s.choice("outcome_default", SpecialOutcome::ALL)?,
        allocation: match s.get("allocation") {
            None => QuotaAllocation::Pooled,
            Some(_) => s.choice("allocation", QuotaAllocation::ALL)?,
        },
        min_per_hospital: s.optional_integer(
            "min_per_hospital",
            0,
            u32::MAX as i64,
            "an integer ≥ 0",
            1,
        )? as u32,
        first_review_experts: s.optional_integer(
            "first_review_experts",
            1,
            9,
            "a number of experts 1..9",
            2,
        )? as u32,
        max_extra_points: s
            .optional_decimal("max_extra_points", Bound::Positive)?
            .unwrap_or(Decimal::from(2000)),
        spot_check_share: s
            .optional_decimal("spot_check_share", Bound::Share)?
            .unwrap_or(Decimal::new(10, 2)),
    };
    s.finish()?;
    Ok(special)
}

fn read_cross_region(mut s: Section<'_>) -> Result<CrossRegion> {
    let rules = CrossRegion {
        in_province: s.choice("in_province", &[CrossRegionRule::LocalStandard])?,
        cross_province: s.choice("cross_province", CrossRegionRule::ALL)?,
    };
    s.finish()?;
    Ok(rules)
}

fn read_clearing(mut s: Section<'_>) -> Result<Clearing> {
    let clearing = Clearing {
        surplus_retained_share: s.decimal("surplus_retained_share", Bound::Share)?,
        surplus_cap_rate: s.decimal("surplus_cap_rate", Bound::SmallNonNegative)?,
        overspend_bands: s.bands(
            "overspend_bands",
            ("up_to_rate", Bound::Positive),
            ("fund_share", Bound::Share),
        )?,
        performance_weight: s.boolean("performance_weight")?,
        deposit_release: match s.get("deposit_release") {
            None => DepositRelease::Full,
            Some(_) => s.choice("deposit_release", DepositRelease::ALL)?,
        },
    };
    s.finish()?;
    Ok(clearing)
}

fn read_prepayment(mut s: Section<'_>) -> Result<Prepayment> {
    let months = s.decimal("months", Bound::SmallNonNegative)?;
    let key = s.key("eligible_credit");
    let eligible_credit = match s.require("eligible_credit", "an array of credit ratings")? {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(text) if !text.trim().is_empty() => Ok(text.trim().to_string()),
                other => Err(invalid(
                    format!("{key}[{i}]"),
                    "a credit rating such as \"A\"",
                    describe(other),
                )),
            })
            .collect::<Result<Vec<_>>>()?,
        other => return Err(invalid(key, "an array of credit ratings", describe(other))),
    };
    let prepayment = Prepayment {
        months,
        eligible_credit,
        min_agreement_years: s.integer(
            "min_agreement_years",
            0,
            u32::MAX as i64,
            "an integer ≥ 0",
        )? as u32,
        recovered_at: s.choice("recovered_at", RecoveredAt::ALL)?,
        require_traceability_upload: match s.get("require_traceability_upload") {
            None => false,
            Some(_) => s.boolean("require_traceability_upload")?,
        },
        priority: read_priority(&mut s)?,
        cap_amount: s.optional_decimal("cap_amount", Bound::NonNegative)?,
        cap_share_of_balance: s.optional_decimal("cap_share_of_balance", Bound::Share)?,
        max_uplift_months: s
            .optional_decimal("max_uplift_months", Bound::SmallNonNegative)?
            .unwrap_or(Prepayment::DEFAULT_MAX_UPLIFT_MONTHS),
        uplift_min_performance: match s
            .optional_decimal("uplift_min_performance", Bound::NonNegative)?
        {
            Some(score) if score > Decimal::ONE_HUNDRED => {
                return Err(invalid(
                    s.key("uplift_min_performance"),
                    "a performance score 0..100",
                    format!("\"{score}\""),
                ))
            }
            other => other,
        },
    };
    if prepayment.max_uplift_months < prepayment.months {
        return Err(invalid(
            s.key("max_uplift_months"),
            format!("at least prepayment.months = {}", prepayment.months),
            format!("\"{}\"", prepayment.max_uplift_months),
        ));
    }
    s.finish()?;
    Ok(prepayment)
}

/// `prepayment.priority`: an array of distinct criteria (a known one, or `column:NAME` with
/// NAME of ASCII letters, digits and `_`); absent: the default order.
fn read_priority(s: &mut Section<'_>) -> Result<Vec<PriorityKey>> {
    let key = s.key("priority");
    let names: Vec<&str> = PriorityCriterion::ALL.iter().map(|c| c.as_str()).collect();
    let expected = format!(
        "an array of distinct criteria, each {} or \"column:NAME\" (another numeric column of the hospitals file)",
        one_of(&names)
    );
    let items = match s.get("priority") {
        None => return Ok(Prepayment::DEFAULT_PRIORITY.to_vec()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(invalid(key, expected, describe(other))),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let criterion = item
            .as_str()
            .map(str::trim)
            .and_then(|t| match t.strip_prefix("column:") {
                Some(name)
                    if !name.is_empty()
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    Some(PriorityKey::Column(name.to_string()))
                }
                Some(_) => None,
                None => PriorityCriterion::parse(t).map(PriorityKey::Known),
            })
            .filter(|c| !out.contains(c))
            .ok_or_else(|| invalid(format!("{key}[{i}]"), &expected, describe(item)))?;
        out.push(criterion);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The reader

/// The range a decimal parameter must lie in. Every range is bounded above, so that no
/// product of parameters and case amounts (each bounded too: `[limits]`, weights ≤ 1,000)
/// can overflow a decimal: amounts at most 10^15, factors at most 10, multiples at most 100.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// 0 ≤ x ≤ 10^15 (amounts, rates, scales).
    NonNegative,
    /// 0 < x ≤ 10^15.
    Positive,
    /// A share: 0 ≤ x ≤ 1.
    Share,
    /// 1 ≤ x ≤ 100 (a multiple of the standard).
    AtLeastOne,
    /// 0 < x ≤ 10 (a coefficient).
    Factor,
    /// 0 ≤ x ≤ 10 (a bonus, a number of months, a cap rate).
    SmallNonNegative,
}

/// 10^15: the largest amount a parameter may be.
const MAX_AMOUNT: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

impl Bound {
    fn accepts(self, x: Decimal) -> bool {
        let ten = Decimal::TEN;
        match self {
            Bound::NonNegative => x >= Decimal::ZERO && x <= MAX_AMOUNT,
            Bound::Positive => x > Decimal::ZERO && x <= MAX_AMOUNT,
            Bound::Share => x >= Decimal::ZERO && x <= Decimal::ONE,
            Bound::AtLeastOne => x >= Decimal::ONE && x <= Decimal::ONE_HUNDRED,
            Bound::Factor => x > Decimal::ZERO && x <= ten,
            Bound::SmallNonNegative => x >= Decimal::ZERO && x <= ten,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Bound::NonNegative => {
                "a decimal from 0 to 10^15 (a string such as \"0.20\" or an integer)"
            }
            Bound::Positive => {
                "a decimal > 0 and at most 10^15 (a string such as \"38000.00\" or an integer)"
            }
            Bound::Share => "a share between 0 and 1 (a string such as \"0.90\")",
            Bound::AtLeastOne => "a multiple from 1 to 100 (a string such as \"2.5\")",
            Bound::Factor => "a coefficient > 0 and at most 10 (a string such as \"0.90\")",
            Bound::SmallNonNegative => "a decimal from 0 to 10 (a string such as \"0.20\")",
        }
    }
}

fn invalid(
    key: impl Into<String>,
    expected: impl Into<String>,
    found: impl Into<String>,
) -> ParamsError {
    ParamsError::Invalid {
        key: key.into(),
        expected: expected.into(),
        found: found.into(),
    }
}

/// How a TOML value is named in an error: `"-38000.00"`, `integer 5`, `float 0.9`, `a table`.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("float {f}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Table(_) => "a table".to_string(),
    }
}

fn one_of(options: &[&str]) -> String {
    let quoted: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
    format!("one of {}", quoted.join(", "))
}

/// `123`, `-0.5`, `38000.00`: digits with at most one point and a leading minus; no exponent,
/// no plus sign, no separators (what `Decimal::from_str` would accept beyond that).
fn is_plain_decimal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// A decimal written as a string or an integer, within `bound`.
fn decimal_value(key: &str, value: &Value, bound: Bound) -> Result<Decimal> {
    let parsed = match value {
        Value::String(s) if is_plain_decimal(s.trim()) => Decimal::from_str(s.trim()).ok(),
        Value::String(_) => None,
        Value::Integer(i) => Some(Decimal::from(*i)),
        _ => None,
    };
    match parsed {
        Some(x) if bound.accepts(x) => Ok(x),
        _ => Err(invalid(key, bound.expected(), describe(value))),
    }
}

/// One table of the file being read, with the keys read so far (to refuse unknown keys).
struct Section<'a> {
    path: String,
    table: &'a Table,
    seen: Vec<&'static str>,
}

impl<'a> Section<'a> {
    fn new(path: String, table: &'a Table) -> Self {
        Section {
            path,
            table,
            seen: Vec::new(),
        }
    }

    fn key(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// Marks a key as known without reading it.
    fn ignore(&mut self, name: &'static str) {
        self.seen.push(name);
    }

    fn get(&mut self, name: &'static str) -> Option<&'a Value> {
        self.seen.push(name);
        self.table.get(name)
    }

    fn require(&mut self, name: &'static str, expected: &str) -> Result<&'a Value> {
        self.get(name).ok_or_else(|| ParamsError::Missing {
            key: self.key(name),
            expected: expected.to_string(),
        })
    }

    fn table(&mut self, name: &'static str) -> Result<Section<'a>> {
        match self.require(name, "a table")? {
            Value::Table(t) => Ok(Section::new(self.key(name), t)),
            other => Err(invalid(self.key(name), "a table", describe(other))),
        }
    }

    fn string(&mut self, name: &'static str) -> Result<String> {
        match self.require(name, "a non-empty string")? {
            Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            other => Err(invalid(
                self.key(name),
                "a non-empty string",
                describe(other),
            )),
        }
    }

    /// A non-empty string of ASCII digits (region codes, prefixes).
    fn digits(&mut self, name: &'static str) -> Result<String> {
        const EXPECTED: &str = "a string of digits such as \"350100\"";
        match self.require(name, EXPECTED)? {
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(s.clone())
            }
            other => Err(invalid(self.key(name), EXPECTED, describe(other))),
        }
    }

    fn integer(&mut self, name: &'static str, min: i64, max: i64, expected: &str) -> Result<i64> {
        match self.require(name, expected)? {
            Value::Integer(i) if (min..=max).contains(i) => Ok(*i),
            other => Err(invalid(self.key(name), expected, describe(other))),
        }
    }

    /// An optional integer within `min..=max`; `default` when the key is absent.
    fn optional_integer(
        &mut self,
        name: &'static str,
        min: i64,
        max: i64,
        expected: &str,
        default: i64,
    ) -> Result<i64> {
        match self.get(name) {
            None => Ok(default),
            Some(_) => self.integer(name, min, max, expected),
        }
    }

    /// An optional sub-table.
    fn optional_table(&mut self, name: &'static str) -> Result<Option<Section<'a>>> {
        match self.table.get(name) {
            None => {
                self.seen.push(name);
                Ok(None)
            }
            Some(_) => self.table(name).map(Some),
        }
    }

    fn boolean(&mut self, name: &'static str) -> Result<bool> {
        match self.require(name, "true or false")? {
            Value::Boolean(b) => Ok(*b),
            other => Err(invalid(self.key(name), "true or false", describe(other))),
        }
    }

    fn decimal(&mut self, name: &'static str, bound: Bound) -> Result<Decimal> {
        let value = self.require(name, bound.expected())?;
        decimal_value(&self.key(name), value, bound)
    }

    fn optional_decimal(&mut self, name: &'static str, bound: Bound) -> Result<Option<Decimal>> {
        match self.get(name) {
            Some(value) => decimal_value(&self.key(name), value, bound).map(Some),
            None => Ok(None),
        }
    }

    /// One of the `allowed` values of a text enum.
    fn choice<T: TextEnum>(&mut self, name: &'static str, allowed: &[T]) -> Result<T> {
        let names: Vec<&str> = allowed.iter().map(|v| v.as_str()).collect();
        let expected = one_of(&names);
        let value = self.require(name, &expected)?;
        let text = value.as_str().map(str::trim);
        allowed
            .iter()
            .copied()
            .find(|v| Some(v.as_str()) == text)
            .ok_or_else(|| invalid(self.key(name), expected, describe(value)))
    }

    /// An array of bands `{ <bound> = …, <value> = … }`: every band but the last has a
    /// bound, strictly increasing (so bands never overlap); the last has none (open-ended).
    fn bands(
        &mut self,
        name: &'static str,
        (bound_key, bound_range): (&'static str, Bound),
        (value_key, value_range): (&'static str, Bound),
    ) -> Result<Vec<Band>> {
        let key = self.key(name);
        let expected = format!("an array of tables {{ {bound_key} = …, {value_key} = … }}");
        let items = match self.require(name, &expected)? {
            Value::Array(items) if !items.is_empty() => items,
            other => {
                return Err(invalid(
                    &key,
                    format!("{expected}, at least one"),
                    describe(other),
                ))
            }
        };
        let mut bands: Vec<Band> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Table(t) = item else {
                return Err(invalid(format!("{key}[{i}]"), "a table", describe(item)));
            };
            let mut band = Section::new(format!("{key}[{i}]"), t);
            let upper = band.optional_decimal(bound_key, bound_range)?;
            let value = band.decimal(value_key, value_range)?;
            let last = i + 1 == items.len();
            match (upper, last) {
                (None, false) => {
                    return Err(ParamsError::Missing {
                        key: band.key(bound_key),
                        expected: format!(
                            "an upper bound: only the last band is open-ended (has no {bound_key})"
                        ),
                    })
                }
                (Some(upper), true) => {
                    return Err(invalid(
                        band.key(bound_key),
                        format!("no {bound_key}: the last band must be open-ended"),
                        format!("\"{upper}\""),
                    ))
                }
                (Some(upper), false) => {
                    if let Some(previous) = bands.last().and_then(|b| b.upper) {
                        if upper <= previous {
                            return Err(invalid(
                                band.key(bound_key),
                                format!(
                                    "a bound above the previous band's {previous} (bounds strictly increasing, bands not overlapping)"
                                ),
                                format!("\"{upper}\""),
                            ));
                        }
                    }
                }
                (None, true) => {}
            }
            band.finish()?;
            bands.push(Band { upper, value });
        }
        Ok(bands)
    }

    /// Refuses keys that were never read.
    fn finish(self) -> Result<()> {
        match self.table.keys().find(|k| !self.seen.contains(&k.as_str())) {
            Some(unknown) => Err(ParamsError::UnknownKey {
                key: self.key(unknown),
                expected: self.seen.join(", "),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
