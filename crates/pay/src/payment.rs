//! DRG payment of one case (`payment-model.md` §2).
//!
//! The first rule that applies decides the category; later rules are not applied:
//! 1. invalid → not paid;
//! 2. cross-region: an insured region outside `province_prefix` is cross-province (per item
//!    by default); inside the province but not the local code it is paid as a local case,
//!    with a rule line saying so;
//! 3. ungroupable (0000) / ambiguous (QY) → the Fujian special standard, nothing else;
//! 4. exclusion (`new_tech_flag`) → per item or standard × (1 + weight_bonus);
//! 5. approved special case → per item or standard + extra points;
//! 6. high-cost, else low-cost (or short stay), else normal.
//!
//! `own = total_cost − fund_paid` and `fund_due = max(0, payment − own)` in every category.
//! Amounts are exact; [`RuleLine`]s render them rounded to the fen.
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

use crate::money::{Fen, W4};
use crate::params::{CrossRegionRule, LowPayment, SpecialGroupRule};
use crate::tariff::{NoStandard, Pricing, Scope, Standard, Tariff};
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
    /// 除外 — a new drug, device or technique under the exclusion mechanism.
    pub new_tech_flag: bool,
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
    /// 除外 — paid per item.
    ExcludedPerItem {
        /// Paid amount.
        total_cost: Decimal,
    },
    /// 除外 — paid standard × (1 + bonus).
    ExcludedWeightBonus {
        /// The standard.
        standard: Decimal,
        /// The bonus share.
        bonus: Decimal,
        /// The payment.
        payment: Decimal,
    },
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
                Pricing::Rate { base_rate, .. } => write!(
                    f,
                    "standard: weight {} × base rate {base_rate} × level coefficient {} = {}",
                    W4(standard.weight),
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
            RuleLine::ExcludedPerItem { total_cost } => write!(
                f,
                "excluded (new drug, device or technique): paid per item {}",
                Fen(*total_cost)
            ),
            RuleLine::ExcludedWeightBonus {
                standard,
                bonus,
                payment,
            } => write!(
                f,
                "excluded (new drug, device or technique): paid {} × (1 + {bonus}) = {}",
                Fen(*standard),
                Fen(*payment)
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
}

impl Priced {
    /// Paid total_cost; the weight and standard are reported when known.
    fn per_item(category: Category, case: &PayInput, standard: Option<Standard>) -> Priced {
        Priced {
            category,
            weight: standard.map(|s| s.weight),
            standard: standard.map(|s| s.amount),
            payment: case.total_cost,
        }
    }

    fn by_standard(category: Category, standard: Standard, payment: Decimal) -> Priced {
        Priced {
            category,
            weight: Some(standard.weight),
            standard: Some(standard.amount),
            payment,
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
    if case.new_tech_flag {
        let Some(bonus) = tariff.exclusion_bonus else {
            rules.push(RuleLine::ExcludedPerItem {
                total_cost: case.total_cost,
            });
            return Priced::per_item(Category::Excluded, case, standard.ok());
        };
        let s = match standard {
            Ok(s) => s,
            Err(why) => return no_standard(tariff, case, Category::Excluded, why, rules),
        };
        let payment = s.amount * (Decimal::ONE + bonus);
        rules.push(standard_line(tariff, s));
        rules.push(RuleLine::ExcludedWeightBonus {
            standard: s.amount,
            bonus,
            payment,
        });
        return Priced::by_standard(Category::Excluded, s, payment);
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
                Err(why) => return no_standard(tariff, case, Category::Special, why, rules),
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
    let s = match standard {
        Ok(s) => s,
        Err(why) => return no_standard(tariff, case, Category::Normal, why, rules),
    };
    rules.push(standard_line(tariff, s));
    let outliers = &tariff.outliers;
    let multiple = outliers.high_multiple(s.weight);
    let threshold = multiple * s.amount;
    if case.total_cost > threshold {
        let payment = s.amount + (case.total_cost - threshold) * outliers.high_extra_share;
        rules.push(RuleLine::High {
            total_cost: case.total_cost,
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
    let low_cost =
        (case.total_cost < outliers.low_multiple * s.amount).then_some(LowReason::Cost {
            low_multiple: outliers.low_multiple,
        });
    if let Some(reason) = low_cost.or(short_stay) {
        let payment = match outliers.low_payment {
            LowPayment::Cost => case.total_cost,
            // standard × cost / standard as the parameter file defines it (multiplied first
            // so that the result is exact); a zero standard gives the formula's limit, cost.
            LowPayment::Ratio => (s.amount * case.total_cost)
                .checked_div(s.amount)
                .unwrap_or(case.total_cost),
        };
        rules.push(RuleLine::Low {
            reason,
            total_cost: case.total_cost,
            standard: s.amount,
            low_payment: outliers.low_payment,
            payment,
        });
        return Priced::by_standard(Category::Low, s, payment);
    }
    rules.push(RuleLine::Normal { standard: s.amount });
    Priced::by_standard(Category::Normal, s, s.amount)
}

fn standard_line(tariff: &Tariff, standard: Standard) -> RuleLine {
    RuleLine::Standard {
        standard,
        pricing: tariff.pricing,
    }
}

/// The case cannot be priced by a standard: paid per item in `category`, with the reason.
fn no_standard(
    tariff: &Tariff,
    case: &PayInput,
    category: Category,
    why: NoStandard,
    rules: &mut Vec<RuleLine>,
) -> Priced {
    let weight = match why {
        NoStandard::MissingWeight => {
            rules.push(RuleLine::MissingWeight {
                drg: case.drg.clone(),
                total_cost: case.total_cost,
            });
            None
        }
        NoStandard::MissingLevelCoefficient => {
            rules.push(RuleLine::MissingLevelCoefficient {
                level: case.hospital_level,
                total_cost: case.total_cost,
            });
            tariff.weight(&case.drg).map(|row| row.weight)
        }
    };
    Priced {
        weight,
        ..Priced::per_item(category, case, None)
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
