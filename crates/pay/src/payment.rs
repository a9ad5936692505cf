//! DRG payment of one case (`payment-model.md` §2).
//!
//! The first rule that applies decides the category; later rules are not applied:
//! 1. invalid → not paid;
//! 2. cross-region: an insured region outside `province_prefix` is cross-province (per item
//!    by default); inside the province but not the local code it is paid as a local case,
//!    with a rule line saying so;
//! 3. ungroupable (0000) / ambiguous (QY) → the Fujian special standard, nothing else;
//! 4. exclusion (除外机制): an item of the approved catalogue that the case names in
//!    `new_tech_items`, valid on its discharge date and with the case's ADRG in its scope
//!    (the first applicable `per_item` item, else the first applicable item, decides):
//!    `payment = max(ordinary, exclusion payment)` with `ordinary` what rule 6 gives and the
//!    exclusion payment by the item's form — `per_item` total_cost; `item_cost` rule 6 on
//!    total_cost − item cost, plus the item cost; `weight_bonus` ordinary + bonus × standard.
//!    `new_tech_flag` alone gives nothing; an item that fails is named with its reason and
//!    the case goes on to rules 5 and 6. Without a catalogue (a parameter file of the first
//!    reading), a flagged case takes the legacy `exclusion.mode` by the same formulas;
//! 5. approved special case → per item or standard + extra points;
//! 6. high-cost, else low-cost (or short stay), else normal.
//!
//! `own = total_cost − fund_paid` and `fund_due = max(0, payment − own)` in every category.
//! Amounts are exact; [`RuleLine`]s render them rounded to the fen.
//!
//! The category of a case with an applicable item is `excluded` whichever of the two amounts
//! is larger: the category records the rule that decided (rule 4), the rule lines and
//! [`Payment::exclusion`] say which amount was paid and what rule 6 alone would have given.
//!
//! Choices where the model is silent:
//! - A grouped DRG that is not in the weight table does not panic: the category stays the
//!   one of the rule that applied (`excluded`, `special`, or `normal` for rule 6, whose
//!   high/low tests need a standard), the case is paid per item (`total_cost`), weight and
//!   standard are `None`, and a [`RuleLine::MissingWeight`] says why. A hospital level with
//!   no coefficient is treated the same way ([`RuleLine::MissingLevelCoefficient`]).
//! - The MDC of an ambiguous case is the case's `mdc` (the principal diagnosis' MDC, `MDCF`
//!   or `F`); when it is empty, the letter of the QY code (`FQY` → `F`). When both are
//!   present and differ, `mdc` wins and [`RuleLine::MdcMismatch`] flags it. An MDC without
//!   any DRG of own weight falls back to the lowest standard of all MDCs.
//! - Approved extra points are valued at the point value (point method) or at
//!   `base_rate / point_scale` (rate method), without the level coefficient: the experts
//!   approve an amount for this case.
//! - A case with both low cost and a short stay is one low case (the cost reason is named).
//! - An empty insured region is taken as local (with a rule line).
//! - Weight and standard are reported for per-item categories too (cross-province,
//!   exclusion or special case per item) when the DRG has them, for reports and CMI.

use std::fmt;

use rust_decimal::Decimal;

use crate::exclusion::{CatalogueItem, Date, ExclusionForm, ItemFailure, ItemUse};
use crate::money::{Fen, W4};
use crate::params::{CrossRegionRule, LowPayment, SpecialGroupRule};
use crate::tariff::{ExclusionRule, NoStandard, Pricing, Scope, Standard, Tariff};
use crate::weights::GroupStatus;

/// The outcome of a special-case review (特例单议) for one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialApproval {
    /// Approved per item: paid total_cost.
    PerItem,
    /// Approved with extra points on top of the standard (≥ 0).
    ExtraPoints(Decimal),
}

/// One case to pay: its grouping and money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayInput {
    /// Case identifier (for the caller's records; not used in the computation).
    pub case_id: String,
    /// Hospital level (1..3), selects the level coefficient.
    pub hospital_level: u8,
    /// The insured person's region code (参保地).
    pub insured_region: String,
    /// The hospital's own flag of a new drug, device or technique: with a catalogue it gives
    /// nothing by itself (only a rule line); without one it triggers the legacy exclusion.
    pub new_tech_flag: bool,
    /// 除外 — the catalogue items the case names, with their own costs (`new_tech_items`).
    pub new_tech_items: Vec<ItemUse>,
    /// The discharge date, for the items' validity.
    pub discharge_date: Option<Date>,
    /// Length of stay in days, if known.
    pub los: Option<u32>,
    /// Per-item total cost (按项目费用).
    pub total_cost: Decimal,
    /// What the fund pays under per-item payment; `total_cost − fund_paid` is the patient's own.
    pub fund_paid: Decimal,
    /// Grouping status.
    pub status: GroupStatus,
    /// The MDC (`MDCF` or `F`).
    pub mdc: String,
    /// The ADRG.
    pub adrg: String,
    /// The DRG (`FR11`, `FQY`, `0000`).
    pub drg: String,
    /// An approved special case, if any.
    pub special: Option<SpecialApproval>,
}

text_enum! {
    /// The payment category of a case.
    pub enum Category {
        /// Paid the standard.
        Normal = "normal",
        /// 高倍率病例 — cost above the high multiple of the standard.
        High = "high",
        /// 低倍率病例 — cost below the low multiple of the standard, or a short stay.
        Low = "low",
        /// 无法入组 — the 0000 group.
        Ungroupable = "ungroupable",
        /// 歧义病案 — a QY group.
        Ambiguous = "ambiguous",
        /// 除外 — under the exclusion mechanism.
        Excluded = "excluded",
        /// 特例单议 — an approved special case.
        Special = "special",
        /// 跨省异地 — insured outside the province.
        CrossProvince = "cross_province",
        /// 信息校验不通过 — not paid.
        Invalid = "invalid",
    }
}

/// The payment of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The category the first applicable rule gave.
    pub category: Category,
    /// The case's grouping status (for CMI and reports).
    pub status: GroupStatus,
    /// The weight used (for 0000/QY: the weight of the DRG giving the lowest standard).
    pub weight: Option<Decimal>,
    /// The standard used, exact.
    pub standard: Option<Decimal>,
    /// The case's per-item total cost.
    pub total_cost: Decimal,
    /// What the case is worth under DRG payment (total-cost basis), exact.
    pub payment: Decimal,
    /// The patient's own share, `total_cost − fund_paid`.
    pub own: Decimal,
    /// The fund's share, `max(0, payment − own)`.
    pub fund_due: Decimal,
    /// How the payment was reached, in order.
    pub rules: Vec<RuleLine>,
    /// For an `excluded` case: the item, its form and both amounts.
    pub exclusion: Option<ExclusionOutcome>,
}

/// What rule 4 did for an excluded case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionOutcome {
    /// The item that decided (`None` under the legacy flag rule without a catalogue).
    pub item: Option<String>,
    /// Its form.
    pub form: ExclusionForm,
    /// What rule 6 gives the case (its ordinary payment), exact.
    pub ordinary: Decimal,
    /// The category rule 6 gives it (normal, high or low; normal when it has no standard).
    pub ordinary_category: Category,
    /// The exclusion payment by the form, exact; the case is paid the larger of the two.
    pub exclusion_payment: Decimal,
}

impl ExclusionOutcome {
    /// Whether the exclusion payment was the larger (else the ordinary payment was paid).
    pub fn exclusion_larger(&self) -> bool {
        self.exclusion_payment > self.ordinary
    }
}

/// Why an applicable item does not decide the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotDeciding {
    /// An applicable `per_item` item wins over the other forms.
    PerItemWins,
    /// The first applicable item decides.
    FirstDecides,
}

/// Why a case is a low case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowReason {
    /// total_cost < low_multiple × standard.
    Cost {
        /// The low multiple.
        low_multiple: Decimal,
    },
    /// A stay shorter than `short_stay_days`.
    ShortStay {
        /// The case's length of stay.
        los: u32,
        /// The parameter.
        short_stay_days: u32,
    },
}

/// One step of a case's payment, rendering to a short English sentence with the numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleLine {
    /// 信息校验不通过 — not paid.
    Invalid,
    /// No insured region: taken as local.
    InsuredRegionMissing,
    /// A cross-region case paid like a local case by the local standard.
    CrossRegionLocalStandard {
        /// The insured region.
        insured_region: String,
        /// Whether the region is inside the province.
        in_province: bool,
    },
    /// 跨省异地 — paid per item.
    CrossProvincePerItem {
        /// The insured region.
        insured_region: String,
        /// Paid amount (total_cost).
        total_cost: Decimal,
    },
    /// How the standard was computed.
    Standard {
        /// The standard and its inputs.
        standard: Standard,
        /// Rate or point method.
        pricing: Pricing,
    },
    /// 0000/QY paid the lowest standard in a scope.
    LowestStandard {
        /// Ungroupable or Ambiguous.
        category: Category,
        /// All MDCs or one.
        scope: Scope,
        /// The DRG with the lowest own weight in scope.
        drg: String,
    },
    /// 0000/QY paid per item by the region's rule.
    SpecialGroupPerItem {
        /// Ungroupable or Ambiguous.
        category: Category,
        /// Paid amount.
        total_cost: Decimal,
    },
    /// The MDC of an ambiguous case differs from the letter of its QY code.
    MdcMismatch {
        /// The case's MDC letter (used).
        mdc: char,
        /// The QY code's letter.
        qy: char,
    },
    /// The MDC of an ambiguous case is unknown: the lowest standard of all MDCs is used.
    MdcUnknown,
    /// No DRG of this MDC has an own weight: the lowest standard of all MDCs is used.
    NoOwnWeightInMdc {
        /// The MDC letter.
        mdc: char,
    },
    /// No DRG at all has an own weight: paid per item.
    NoOwnWeight {
        /// Paid amount.
        total_cost: Decimal,
    },
    /// No catalogue: a flagged case takes the legacy `exclusion.mode`.
    ExclusionLegacyFlag {
        /// The form of `exclusion.mode`.
        form: ExclusionForm,
    },
    /// `new_tech_flag = 1` but the case names no item: no exclusion.
    ExclusionFlagWithoutItem,
    /// A named item does not apply, and why.
    ExclusionItemFails {
        /// The code the case named.
        code: String,
        /// The cost it gave.
        cost: Decimal,
        /// Why it does not apply.
        failure: ItemFailure,
    },
    /// None of the named items applies: the ordinary rules pay the case.
    ExclusionNoApplicableItem,
    /// The item that decides the payment.
    ExclusionItemApplies {
        /// The catalogue item.
        item: Box<CatalogueItem>,
        /// The case's discharge date.
        discharge: Date,
        /// The case's ADRG.
        adrg: String,
        /// The item's own cost, as the case gives it.
        cost: Decimal,
    },
    /// Another applicable item, which does not decide.
    ExclusionItemNotDeciding {
        /// Its code.
        code: String,
        /// Its form.
        form: ExclusionForm,
        /// The deciding item's code.
        decisive: String,
        /// Why it does not decide.
        why: NotDeciding,
    },
    /// What rule 6 gives the case.
    ExclusionOrdinary {
        /// Normal, high or low.
        category: Category,
        /// The ordinary payment.
        payment: Decimal,
    },
    /// 除外 `per_item` — the whole case per item.
    ExcludedPerItem {
        /// The exclusion payment (total_cost).
        total_cost: Decimal,
    },
    /// 除外支付 `item_cost` — rule 6 is applied to the rest of the cost.
    ExclusionRemainingCost {
        /// The case's cost.
        total_cost: Decimal,
        /// The item's cost (at most total_cost).
        item_cost: Decimal,
        /// total_cost − item cost.
        remaining: Decimal,
    },
    /// The item cost given exceeds total_cost: the whole cost is taken as the item's.
    ExclusionItemCostCapped {
        /// The item cost the case gave.
        item_cost: Decimal,
        /// The case's cost.
        total_cost: Decimal,
    },
    /// A rule-6 line computed on total_cost − item cost.
    OnRemainingCost(Box<RuleLine>),
    /// 除外支付 `item_cost` — the rest's payment plus the item cost.
    ExcludedItemCost {
        /// Rule 6's payment of the rest.
        remaining_payment: Decimal,
        /// The item cost.
        item_cost: Decimal,
        /// The exclusion payment.
        payment: Decimal,
    },
    /// 权重加成 `weight_bonus` — the ordinary payment plus bonus × standard.
    ExcludedWeightBonus {
        /// The ordinary payment.
        ordinary: Decimal,
        /// The bonus share.
        bonus: Decimal,
        /// The standard.
        standard: Decimal,
        /// The exclusion payment.
        payment: Decimal,
    },
    /// `weight_bonus` without a standard: the exclusion payment is the ordinary payment.
    ExclusionBonusWithoutStandard,
    /// `payment = max(ordinary, exclusion payment)`.
    ExclusionCompared {
        /// The ordinary payment.
        ordinary: Decimal,
        /// The exclusion payment.
        exclusion: Decimal,
    },
    /// An approved special case is not applied: rule 4 decided first.
    SpecialNotApplied,
    /// 特例单议 — approved per item.
    SpecialPerItem {
        /// Paid amount.
        total_cost: Decimal,
    },
    /// 特例单议 — approved extra points.
    SpecialExtraPoints {
        /// The standard.
        standard: Decimal,
        /// Approved points.
        points: Decimal,
        /// CNY per point.
        money_per_point: Decimal,
        /// The payment.
        payment: Decimal,
    },
    /// 高倍率 — standard + (cost − m × standard) × share.
    High {
        /// The case's cost.
        total_cost: Decimal,
        /// The band's multiple.
        multiple: Decimal,
        /// The standard.
        standard: Decimal,
        /// high_extra_share.
        share: Decimal,
        /// The payment.
        payment: Decimal,
    },
    /// 低倍率 or short stay.
    Low {
        /// Why the case is low.
        reason: LowReason,
        /// The case's cost.
        total_cost: Decimal,
        /// The standard.
        standard: Decimal,
        /// How low cases are paid.
        low_payment: LowPayment,
        /// The payment.
        payment: Decimal,
    },
    /// Paid the standard.
    Normal {
        /// The standard.
        standard: Decimal,
    },
    /// The DRG has no weight in the table: paid per item.
    MissingWeight {
        /// The DRG.
        drg: String,
        /// Paid amount.
        total_cost: Decimal,
    },
    /// The hospital level has no coefficient: paid per item.
    MissingLevelCoefficient {
        /// The level.
        level: u8,
        /// Paid amount.
        total_cost: Decimal,
    },
}

fn special_group_label(category: Category) -> &'static str {
    match category {
        Category::Ungroupable => "ungroupable (0000)",
        _ => "ambiguous (QY)",
    }
}

impl fmt::Display for RuleLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleLine::Invalid => write!(f, "invalid case (failed validation): not paid"),
            RuleLine::InsuredRegionMissing => write!(f, "insured region missing: paid as a local case"),
            RuleLine::CrossRegionLocalStandard {
                insured_region,
                in_province: true,
            } => write!(
                f,
                "in-province cross-region (insured region {insured_region}): paid like a local case by the local standard"
            ),
            RuleLine::CrossRegionLocalStandard {
                insured_region,
                in_province: false,
            } => write!(
                f,
                "cross-province (insured region {insured_region}): paid like a local case by the local standard"
            ),
            RuleLine::CrossProvincePerItem {
                insured_region,
                total_cost,
            } => write!(
                f,
                "cross-province (insured region {insured_region} outside the province): paid per item {}",
                Fen(*total_cost)
            ),
            RuleLine::Standard { standard, pricing } => match pricing {
                Pricing::Rate {
                    base_rate, derived, ..
                } => write!(
                    f,
                    "standard: weight {} × base rate {base_rate}{} × level coefficient {} = {}",
                    W4(standard.weight),
                    if *derived {
                        " (derived from the budget: budget / Σ expected weights)"
                    } else {
                        ""
                    },
                    standard.coefficient,
                    Fen(standard.amount)
                ),
                Pricing::Point {
                    point_scale,
                    point_value,
                } => write!(
                    f,
                    "standard: weight {} × {point_scale} points × level coefficient {} = {} points × point value {point_value} = {}",
                    W4(standard.weight),
                    standard.coefficient,
                    W4(standard.weight * point_scale * standard.coefficient),
                    Fen(standard.amount)
                ),
            },
            RuleLine::LowestStandard { category, scope, drg } => match scope {
                Scope::AllMdcs => write!(
                    f,
                    "{}: paid the lowest standard of all MDCs, that of {drg}",
                    special_group_label(*category)
                ),
                Scope::Mdc(letter) => write!(
                    f,
                    "{}: paid the lowest standard in MDC {letter}, that of {drg}",
                    special_group_label(*category)
                ),
            },
            RuleLine::SpecialGroupPerItem { category, total_cost } => write!(
                f,
                "{}: paid per item {} (drg.special_groups = per_item)",
                special_group_label(*category),
                Fen(*total_cost)
            ),
            RuleLine::MdcMismatch { mdc, qy } => write!(
                f,
                "the case's MDC {mdc} differs from the letter of its QY code ({qy}QY): MDC {mdc} used"
            ),
            RuleLine::MdcUnknown => write!(
                f,
                "the case's MDC is unknown: the lowest standard of all MDCs is used"
            ),
            RuleLine::NoOwnWeightInMdc { mdc } => write!(
                f,
                "no DRG of MDC {mdc} has a weight of its own: the lowest standard of all MDCs is used"
            ),
            RuleLine::NoOwnWeight { total_cost } => write!(
                f,
                "no DRG has a weight of its own: paid per item {}",
                Fen(*total_cost)
            ),
            RuleLine::ExclusionLegacyFlag { form } => write!(
                f,
                "exclusion (no catalogue in the parameters): new_tech_flag = 1 takes the legacy exclusion.mode = {form}"
            ),
            RuleLine::ExclusionFlagWithoutItem => write!(
                f,
                "new_tech_flag = 1 but the case names no item of the approved exclusion catalogue (new_tech_items is empty): no exclusion"
            ),
            RuleLine::ExclusionItemFails {
                code,
                cost,
                failure,
            } => write!(
                f,
                "exclusion item {code} (item cost {}) does not apply: {failure}",
                Fen(*cost)
            ),
            RuleLine::ExclusionNoApplicableItem => write!(
                f,
                "no named exclusion item applies: paid by the ordinary rules"
            ),
            RuleLine::ExclusionItemApplies {
                item,
                discharge,
                adrg,
                cost,
            } => {
                write!(
                    f,
                    "exclusion item {} ({} {}; form {}",
                    item.code,
                    item.kind,
                    item.name,
                    item.form
                )?;
                if let Some(bonus) = item.bonus {
                    write!(f, ", bonus {bonus}")?;
                }
                write!(
                    f,
                    "; valid {} to {}; scope {}) applies: discharged {discharge}, ADRG {adrg}, item cost {}",
                    item.valid_from,
                    item.valid_to,
                    item.scope_text(),
                    Fen(*cost)
                )
            }
            RuleLine::ExclusionItemNotDeciding {
                code,
                form,
                decisive,
                why,
            } => match why {
                NotDeciding::PerItemWins => write!(
                    f,
                    "exclusion item {code} ({form}) also applies but does not decide: the per_item item {decisive} wins"
                ),
                NotDeciding::FirstDecides => write!(
                    f,
                    "exclusion item {code} ({form}) also applies but does not decide: the first applicable item {decisive} does"
                ),
            },
            RuleLine::ExclusionOrdinary { category, payment } => write!(
                f,
                "ordinary payment (rule 6, without the exclusion): {category} {}",
                Fen(*payment)
            ),
            RuleLine::ExcludedPerItem { total_cost } => write!(
                f,
                "exclusion per_item (按项目付费): the whole case per item {}",
                Fen(*total_cost)
            ),
            RuleLine::ExclusionRemainingCost {
                total_cost,
                item_cost,
                remaining,
            } => write!(
                f,
                "exclusion item_cost (除外支付): rule 6 applied to total_cost − item cost = {} − {} = {}",
                Fen(*total_cost),
                Fen(*item_cost),
                Fen(*remaining)
            ),
            RuleLine::ExclusionItemCostCapped {
                item_cost,
                total_cost,
            } => write!(
                f,
                "the item cost {} exceeds total_cost {}: the item is taken to cost {}",
                Fen(*item_cost),
                Fen(*total_cost),
                Fen(*total_cost)
            ),
            RuleLine::OnRemainingCost(line) => write!(f, "on the remaining cost: {line}"),
            RuleLine::ExcludedItemCost {
                remaining_payment,
                item_cost,
                payment,
            } => write!(
                f,
                "exclusion item_cost: {} + item cost {} = {}",
                Fen(*remaining_payment),
                Fen(*item_cost),
                Fen(*payment)
            ),
            RuleLine::ExcludedWeightBonus {
                ordinary,
                bonus,
                standard,
                payment,
            } => write!(
                f,
                "exclusion weight_bonus (权重加成): ordinary {} + {bonus} × standard {} = {}",
                Fen(*ordinary),
                Fen(*standard),
                Fen(*payment)
            ),
            RuleLine::ExclusionBonusWithoutStandard => write!(
                f,
                "exclusion weight_bonus: no standard to add a bonus to; the exclusion payment is the ordinary payment"
            ),
            RuleLine::ExclusionCompared {
                ordinary,
                exclusion,
            } => {
                if exclusion > ordinary {
                    write!(
                        f,
                        "excluded: payment = max(ordinary {}, exclusion {}) = {}, the exclusion payment is larger",
                        Fen(*ordinary),
                        Fen(*exclusion),
                        Fen(*exclusion)
                    )
                } else {
                    write!(
                        f,
                        "excluded: payment = max(ordinary {}, exclusion {}) = {}, the ordinary payment is not smaller (category excluded all the same)",
                        Fen(*ordinary),
                        Fen(*exclusion),
                        Fen(*ordinary)
                    )
                }
            }
            RuleLine::SpecialNotApplied => write!(
                f,
                "the approved special case is not applied: the exclusion (rule 4) decided first"
            ),
            RuleLine::SpecialPerItem { total_cost } => write!(
                f,
                "approved special case: paid per item {}",
                Fen(*total_cost)
            ),
            RuleLine::SpecialExtraPoints {
                standard,
                points,
                money_per_point,
                payment,
            } => write!(
                f,
                "approved special case: paid {} + {points} points × {} = {}",
                Fen(*standard),
                Fen(*money_per_point),
                Fen(*payment)
            ),
            RuleLine::High {
                total_cost,
                multiple,
                standard,
                share,
                payment,
            } => write!(
                f,
                "high-cost: {} > {multiple} × {}; paid {} + ({} − {}) × {share} = {}",
                Fen(*total_cost),
                Fen(*standard),
                Fen(*standard),
                Fen(*total_cost),
                Fen(*multiple * *standard),
                Fen(*payment)
            ),
            RuleLine::Low {
                reason,
                total_cost,
                standard,
                low_payment,
                payment,
            } => {
                match reason {
                    LowReason::Cost { low_multiple } => write!(
                        f,
                        "low-cost: {} < {low_multiple} × {}",
                        Fen(*total_cost),
                        Fen(*standard)
                    )?,
                    LowReason::ShortStay { los, short_stay_days } => {
                        write!(f, "short stay: {los} days < {short_stay_days} days")?
                    }
                }
                match low_payment {
                    LowPayment::Cost => write!(f, "; paid per item {}", Fen(*payment)),
                    LowPayment::Ratio => write!(
                        f,
                        "; paid {} × {} / {} = {}",
                        Fen(*standard),
                        Fen(*total_cost),
                        Fen(*standard),
                        Fen(*payment)
                    ),
                }
            }
            RuleLine::Normal { standard } => write!(f, "normal: paid the standard {}", Fen(*standard)),
            RuleLine::MissingWeight { drg, total_cost } => write!(
                f,
                "DRG {drg} has no weight in the weight table: paid per item {}",
                Fen(*total_cost)
            ),
            RuleLine::MissingLevelCoefficient { level, total_cost } => write!(
                f,
                "no level coefficient for hospital level {level}: paid per item {}",
                Fen(*total_cost)
            ),
        }
    }
}

/// The priced outcome before the patient's and fund's shares.
struct Priced {
    category: Category,
    weight: Option<Decimal>,
    standard: Option<Decimal>,
    payment: Decimal,
    exclusion: Option<ExclusionOutcome>,
}

impl Priced {
    /// Paid total_cost; the weight and standard are reported when known.
    fn per_item(category: Category, case: &PayInput, standard: Option<Standard>) -> Priced {
        Priced::per_item_cost(category, case.total_cost, standard)
    }

    /// Paid `cost` per item; the weight and standard are reported when known.
    fn per_item_cost(category: Category, cost: Decimal, standard: Option<Standard>) -> Priced {
        Priced {
            category,
            weight: standard.map(|s| s.weight),
            standard: standard.map(|s| s.amount),
            payment: cost,
            exclusion: None,
        }
    }

    fn by_standard(category: Category, standard: Standard, payment: Decimal) -> Priced {
        Priced {
            category,
            weight: Some(standard.weight),
            standard: Some(standard.amount),
            payment,
            exclusion: None,
        }
    }
}

/// Pays one case by §2. Never panics on missing data: see the module documentation.
pub fn pay_case(tariff: &Tariff, case: &PayInput) -> Payment {
    let mut rules = Vec::with_capacity(2);
    let priced = price(tariff, case, &mut rules);
    let own = case.total_cost - case.fund_paid;
    Payment {
        category: priced.category,
        status: case.status,
        weight: priced.weight,
        standard: priced.standard,
        total_cost: case.total_cost,
        payment: priced.payment,
        own,
        fund_due: (priced.payment - own).max(Decimal::ZERO),
        rules,
        exclusion: priced.exclusion,
    }
}

fn price(tariff: &Tariff, case: &PayInput, rules: &mut Vec<RuleLine>) -> Priced {
    // 1. Invalid.
    if case.status == GroupStatus::Invalid {
        rules.push(RuleLine::Invalid);
        return Priced {
            category: Category::Invalid,
            weight: None,
            standard: None,
            payment: Decimal::ZERO,
            exclusion: None,
        };
    }

    // 2. Cross-region.
    let region = case.insured_region.as_str();
    if region.is_empty() {
        rules.push(RuleLine::InsuredRegionMissing);
    } else if region != tariff.region_code {
        let in_province = region.starts_with(&tariff.province_prefix);
        let rule = if in_province {
            tariff.cross_region.in_province
        } else {
            tariff.cross_region.cross_province
        };
        match rule {
            CrossRegionRule::PerItem => {
                rules.push(RuleLine::CrossProvincePerItem {
                    insured_region: case.insured_region.clone(),
                    total_cost: case.total_cost,
                });
                let standard = match case.status {
                    GroupStatus::Grouped => tariff.standard(&case.drg, case.hospital_level).ok(),
                    _ => None,
                };
                return Priced::per_item(Category::CrossProvince, case, standard);
            }
            CrossRegionRule::LocalStandard => rules.push(RuleLine::CrossRegionLocalStandard {
                insured_region: case.insured_region.clone(),
                in_province,
            }),
        }
    }

    // 3. Ungroupable and ambiguous: the special standard as it is.
    match case.status {
        GroupStatus::Ungroupable => {
            return special_group(
                tariff,
                case,
                Category::Ungroupable,
                tariff.special_groups.ungroupable,
                rules,
            )
        }
        GroupStatus::Ambiguous => {
            return special_group(
                tariff,
                case,
                Category::Ambiguous,
                tariff.special_groups.ambiguous,
                rules,
            )
        }
        GroupStatus::Grouped | GroupStatus::Invalid => {}
    }

    let standard = tariff.standard(&case.drg, case.hospital_level);

    // 4. Exclusion.
    if let Some(decided) = exclusion_item(tariff, case, rules) {
        return excluded(tariff, case, standard, decided, rules);
    }

    // 5. Approved special case.
    match case.special {
        Some(SpecialApproval::PerItem) => {
            rules.push(RuleLine::SpecialPerItem {
                total_cost: case.total_cost,
            });
            return Priced::per_item(Category::Special, case, standard.ok());
        }
        Some(SpecialApproval::ExtraPoints(points)) => {
            let s = match standard {
                Ok(s) => s,
                Err(why) => {
                    return no_standard(
                        tariff,
                        case,
                        Category::Special,
                        case.total_cost,
                        why,
                        rules,
                    )
                }
            };
            let money_per_point = tariff.pricing.money_per_point();
            let payment = s.amount + points * money_per_point;
            rules.push(standard_line(tariff, s));
            rules.push(RuleLine::SpecialExtraPoints {
                standard: s.amount,
                points,
                money_per_point,
                payment,
            });
            return Priced::by_standard(Category::Special, s, payment);
        }
        None => {}
    }

    // 6. High, low, normal.
    rule_6(tariff, case, case.total_cost, standard, rules)
}

/// Rule 6 for a cost (the case's total_cost, or what remains after an excluded item): high,
/// low (or short stay), else normal. Without a standard the cost is paid per item.
fn rule_6(
    tariff: &Tariff,
    case: &PayInput,
    cost: Decimal,
    standard: Result<Standard, NoStandard>,
    rules: &mut Vec<RuleLine>,
) -> Priced {
    let s = match standard {
        Ok(s) => s,
        Err(why) => return no_standard(tariff, case, Category::Normal, cost, why, rules),
    };
    rules.push(standard_line(tariff, s));
    let outliers = &tariff.outliers;
    let multiple = outliers.high_multiple(s.weight);
    let threshold = multiple * s.amount;
    if cost > threshold {
        let payment = s.amount + (cost - threshold) * outliers.high_extra_share;
        rules.push(RuleLine::High {
            total_cost: cost,
            multiple,
            standard: s.amount,
            share: outliers.high_extra_share,
            payment,
        });
        return Priced::by_standard(Category::High, s, payment);
    }
    let short_stay = match case.los {
        Some(los) if outliers.short_stay_days > 0 && los < outliers.short_stay_days => {
            Some(LowReason::ShortStay {
                los,
                short_stay_days: outliers.short_stay_days,
            })
        }
        _ => None,
    };
    let low_cost = (cost < outliers.low_multiple * s.amount).then_some(LowReason::Cost {
        low_multiple: outliers.low_multiple,
    });
    if let Some(reason) = low_cost.or(short_stay) {
        let payment = match outliers.low_payment {
            LowPayment::Cost => cost,
            // standard × cost / standard as the parameter file defines it (multiplied first
            // so that the result is exact); a zero standard gives the formula's limit, cost.
            LowPayment::Ratio => (s.amount * cost).checked_div(s.amount).unwrap_or(cost),
        };
        rules.push(RuleLine::Low {
            reason,
            total_cost: cost,
            standard: s.amount,
            low_payment: outliers.low_payment,
            payment,
        });
        return Priced::by_standard(Category::Low, s, payment);
    }
    rules.push(RuleLine::Normal { standard: s.amount });
    Priced::by_standard(Category::Normal, s, s.amount)
}

/// The item (and form) that decides rule 4.
struct Decided {
    /// The item's code; `None` under the legacy flag rule.
    code: Option<String>,
    form: ExclusionForm,
    /// The item's cost (item_cost form).
    cost: Decimal,
    /// The bonus share (weight_bonus form).
    bonus: Decimal,
}

/// The item that decides rule 4, if any (the legacy flag rule without a catalogue); every
/// named item that fails, and every applicable item that does not decide, gets its rule line.
fn exclusion_item(tariff: &Tariff, case: &PayInput, rules: &mut Vec<RuleLine>) -> Option<Decided> {
    let catalogue = match &tariff.exclusion {
        ExclusionRule::Flag { form, bonus } => {
            if !case.new_tech_flag {
                return None;
            }
            rules.push(RuleLine::ExclusionLegacyFlag { form: *form });
            return Some(Decided {
                code: None,
                form: *form,
                cost: Decimal::ZERO,
                bonus: *bonus,
            });
        }
        ExclusionRule::Catalogue(catalogue) => catalogue,
    };
    if case.new_tech_items.is_empty() {
        if case.new_tech_flag {
            rules.push(RuleLine::ExclusionFlagWithoutItem);
        }
        return None;
    }
    let checks = catalogue.check(&case.new_tech_items, case.discharge_date, &case.adrg);
    for c in &checks.0 {
        if let Err(failure) = &c.outcome {
            rules.push(RuleLine::ExclusionItemFails {
                code: c.code.clone(),
                cost: c.cost,
                failure: failure.clone(),
            });
        }
    }
    let Some(index) = checks.decisive() else {
        rules.push(RuleLine::ExclusionNoApplicableItem);
        return None;
    };
    let check = &checks.0[index];
    let item = match &check.outcome {
        Ok(item) => item.clone(),
        Err(_) => return None,
    };
    for (i, other) in checks.0.iter().enumerate() {
        if let (true, Ok(o)) = (i != index, &other.outcome) {
            rules.push(RuleLine::ExclusionItemNotDeciding {
                code: other.code.clone(),
                form: o.form,
                decisive: item.code.clone(),
                why: if item.form == ExclusionForm::PerItem && o.form != ExclusionForm::PerItem {
                    NotDeciding::PerItemWins
                } else {
                    NotDeciding::FirstDecides
                },
            });
        }
    }
    let decided = Decided {
        code: Some(item.code.clone()),
        form: item.form,
        cost: check.cost,
        bonus: item.bonus.unwrap_or_default(),
    };
    if let Some(discharge) = case.discharge_date {
        rules.push(RuleLine::ExclusionItemApplies {
            item: Box::new(item),
            discharge,
            adrg: case.adrg.clone(),
            cost: check.cost,
        });
    }
    Some(decided)
}

/// Rule 4 for an applicable item: `max(ordinary, exclusion payment)`, category `excluded`.
fn excluded(
    tariff: &Tariff,
    case: &PayInput,
    standard: Result<Standard, NoStandard>,
    decided: Decided,
    rules: &mut Vec<RuleLine>,
) -> Priced {
    let ordinary = rule_6(tariff, case, case.total_cost, standard, rules);
    rules.push(RuleLine::ExclusionOrdinary {
        category: ordinary.category,
        payment: ordinary.payment,
    });
    let exclusion_payment = match decided.form {
        ExclusionForm::PerItem => {
            rules.push(RuleLine::ExcludedPerItem {
                total_cost: case.total_cost,
            });
            case.total_cost
        }
        ExclusionForm::ItemCost => {
            // An item cannot cost more than the whole case.
            let item_cost = decided
                .cost
                .clamp(Decimal::ZERO, case.total_cost.max(Decimal::ZERO));
            if item_cost != decided.cost {
                rules.push(RuleLine::ExclusionItemCostCapped {
                    item_cost: decided.cost,
                    total_cost: case.total_cost,
                });
            }
            let remaining = case.total_cost - item_cost;
            rules.push(RuleLine::ExclusionRemainingCost {
                total_cost: case.total_cost,
                item_cost,
                remaining,
            });
            let mut inner = Vec::with_capacity(2);
            let rest = rule_6(tariff, case, remaining, standard, &mut inner);
            rules.extend(
                inner
                    .into_iter()
                    .filter(|l| !matches!(l, RuleLine::Standard { .. }))
                    .map(|l| RuleLine::OnRemainingCost(Box::new(l))),
            );
            let payment = rest.payment + item_cost;
            rules.push(RuleLine::ExcludedItemCost {
                remaining_payment: rest.payment,
                item_cost,
                payment,
            });
            payment
        }
        ExclusionForm::WeightBonus => match standard {
            Ok(s) => {
                let payment = ordinary.payment + decided.bonus * s.amount;
                rules.push(RuleLine::ExcludedWeightBonus {
                    ordinary: ordinary.payment,
                    bonus: decided.bonus,
                    standard: s.amount,
                    payment,
                });
                payment
            }
            Err(_) => {
                rules.push(RuleLine::ExclusionBonusWithoutStandard);
                ordinary.payment
            }
        },
    };
    rules.push(RuleLine::ExclusionCompared {
        ordinary: ordinary.payment,
        exclusion: exclusion_payment,
    });
    if case.special.is_some() {
        rules.push(RuleLine::SpecialNotApplied);
    }
    Priced {
        category: Category::Excluded,
        weight: ordinary.weight,
        standard: ordinary.standard,
        payment: ordinary.payment.max(exclusion_payment),
        exclusion: Some(ExclusionOutcome {
            item: decided.code,
            form: decided.form,
            ordinary: ordinary.payment,
            ordinary_category: ordinary.category,
            exclusion_payment,
        }),
    }
}

fn standard_line(tariff: &Tariff, standard: Standard) -> RuleLine {
    RuleLine::Standard {
        standard,
        pricing: tariff.pricing,
    }
}

/// The case cannot be priced by a standard: `cost` is paid per item in `category`, with the
/// reason.
fn no_standard(
    tariff: &Tariff,
    case: &PayInput,
    category: Category,
    cost: Decimal,
    why: NoStandard,
    rules: &mut Vec<RuleLine>,
) -> Priced {
    let weight = match why {
        NoStandard::MissingWeight => {
            rules.push(RuleLine::MissingWeight {
                drg: case.drg.clone(),
                total_cost: cost,
            });
            None
        }
        NoStandard::MissingLevelCoefficient => {
            rules.push(RuleLine::MissingLevelCoefficient {
                level: case.hospital_level,
                total_cost: cost,
            });
            tariff.weight(&case.drg).map(|row| row.weight)
        }
    };
    Priced {
        weight,
        ..Priced::per_item_cost(category, cost, None)
    }
}

/// The MDC letter of `MDCF` or `F`.
fn mdc_letter(mdc: &str) -> Option<char> {
    let rest = mdc.trim();
    let rest = rest.strip_prefix("MDC").unwrap_or(rest);
    let mut chars = rest.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => Some(c.to_ascii_uppercase()),
        _ => None,
    }
}

/// The MDC letter of a QY code (`FQY` → `F`).
fn qy_letter(drg: &str) -> Option<char> {
    match drg.as_bytes() {
        [c, b'Q', b'Y'] if c.is_ascii_alphabetic() => Some(char::from(*c)),
        _ => None,
    }
}

/// Rule 3: a 0000 or QY case by the region's rule for it.
fn special_group(
    tariff: &Tariff,
    case: &PayInput,
    category: Category,
    rule: SpecialGroupRule,
    rules: &mut Vec<RuleLine>,
) -> Priced {
    let mut scope = match rule {
        SpecialGroupRule::PerItem => {
            rules.push(RuleLine::SpecialGroupPerItem {
                category,
                total_cost: case.total_cost,
            });
            return Priced::per_item(category, case, None);
        }
        SpecialGroupRule::LowestStandardAllMdcs => Scope::AllMdcs,
        SpecialGroupRule::LowestStandardInMdc => {
            match (mdc_letter(&case.mdc), qy_letter(&case.drg)) {
                (Some(mdc), Some(qy)) if mdc != qy => {
                    rules.push(RuleLine::MdcMismatch { mdc, qy });
                    Scope::Mdc(mdc)
                }
                (Some(letter), _) | (None, Some(letter)) => Scope::Mdc(letter),
                (None, None) => {
                    rules.push(RuleLine::MdcUnknown);
                    Scope::AllMdcs
                }
            }
        }
    };
    let mut lowest = tariff.lowest_standard(scope, case.hospital_level);
    if let (Ok(None), Scope::Mdc(mdc)) = (&lowest, scope) {
        rules.push(RuleLine::NoOwnWeightInMdc { mdc });
        scope = Scope::AllMdcs;
        lowest = tariff.lowest_standard(scope, case.hospital_level);
    }
    match lowest {
        Ok(Some(special)) => {
            rules.push(RuleLine::LowestStandard {
                category,
                scope,
                drg: special.drg,
            });
            rules.push(standard_line(tariff, special.standard));
            Priced::by_standard(category, special.standard, special.standard.amount)
        }
        Ok(None) => {
            rules.push(RuleLine::NoOwnWeight {
                total_cost: case.total_cost,
            });
            Priced::per_item(category, case, None)
        }
        Err(_) => {
            rules.push(RuleLine::MissingLevelCoefficient {
                level: case.hospital_level,
                total_cost: case.total_cost,
            });
            Priced::per_item(category, case, None)
        }
    }
}

#[cfg(test)]
mod tests;
