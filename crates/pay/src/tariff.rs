//! Payment standards (支付标准) per DRG and hospital level (`payment-model.md` §1).
//!
//! Rate method: `standard = RW × base_rate × level_coefficient`. Point method:
//! `points = RW × point_scale × level_coefficient`, `standard = points × point_value`, with
//! the point value handed to [`Tariff::new`] (the provisional or final value of the year).
//! Standards are exact (not rounded); the weight is the 4-decimal weight of the table.
//!
//! Fujian special standards: an ungroupable (`0000`) case gets the lowest standard over all
//! DRGs, an ambiguous (QY) case the lowest standard over the DRGs of its MDC; both over the
//! DRGs whose weight is their own ([`WeightSource::Own`]) and at the hospital's coefficient.
//! As every coefficient is positive, the lowest standard is the one of the lowest own
//! weight; ties go to the smaller DRG code.

use std::sync::Arc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use thiserror::Error;

use crate::exclusion::{Catalogue, ExclusionForm};
use crate::params::{CrossRegion, ExclusionMode, Outliers, Params, PaymentMethod, SpecialGroups};
use crate::weights::{WeightRow, WeightSource, WeightTable};

/// A tariff that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TariffError {
    /// `drg.payment = "point"` needs the point value of the year.
    #[error("drg.payment = \"point\": a point value is required to turn points into money")]
    PointValueRequired,
    /// `drg.payment = "rate"` has no use for a point value.
    #[error("drg.payment = \"rate\": a point value was given ({0}) but the rate method does not use one")]
    PointValueUnused(Decimal),
    /// The point value must be positive and at most 1,000,000 CNY per point (a bound that keeps
    /// every standard far from a decimal overflow).
    #[error("point value: expected a value > 0 and at most 1000000, found {0}")]
    PointValueNotPositive(Decimal),
    /// The parameters name an exclusion catalogue that the caller did not hand in.
    #[error("exclusion.catalogue = {0:?}: the catalogue must be read and given to the tariff (Tariff::with_catalogue)")]
    CatalogueNotLoaded(String),
    /// `drg.base_rate = "budget"` and the rate was not derived (no history was given).
    #[error("drg.base_rate = \"budget\": the rate is derived from the DRG budget and the expected weights of a history, and none was given (give the history the weights are computed from)")]
    BaseRateNotDerived,
}

/// Which exclusions (除外机制, §2 rule 4) a tariff grants.
#[derive(Debug, Clone)]
pub enum ExclusionRule {
    /// Revision 2: only items of the approved catalogue, named by the case, applicable on its
    /// discharge date and in its ADRG.
    Catalogue(Arc<Catalogue>),
    /// The first reading's keys, for a parameter file without a catalogue: a case flagged
    /// `new_tech_flag = 1` takes `form` (`per_item` or `weight_bonus` with `bonus`).
    Flag {
        /// The form of `exclusion.mode`.
        form: ExclusionForm,
        /// `exclusion.weight_bonus` (0 when absent).
        bonus: Decimal,
    },
}

/// How a weight turns into money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pricing {
    /// 费率法: standard = weight × base_rate × coefficient.
    Rate {
        /// CNY per unit of weight.
        base_rate: Decimal,
        /// Points per unit of weight (to value approved extra points).
        point_scale: Decimal,
        /// The rate was derived from the budget (`drg.base_rate = "budget"`, payment-model §8).
        derived: bool,
    },
    /// 点数法: points = weight × point_scale × coefficient; standard = points × point_value.
    Point {
        /// Points per unit of weight.
        point_scale: Decimal,
        /// CNY per point.
        point_value: Decimal,
    },
}

impl Pricing {
    /// CNY per unit of weight at coefficient 1.
    pub fn money_per_weight(self) -> Decimal {
        match self {
            Pricing::Rate { base_rate, .. } => base_rate,
            Pricing::Point {
                point_scale,
                point_value,
            } => point_scale * point_value,
        }
    }

    /// CNY per point: the point value, or `base_rate / point_scale` under the rate method
    /// (a point is `1 / point_scale` of a weight unit).
    pub fn money_per_point(self) -> Decimal {
        match self {
            Pricing::Rate {
                base_rate,
                point_scale,
                ..
            } => base_rate / point_scale,
            Pricing::Point { point_value, .. } => point_value,
        }
    }
}

/// The standard of one DRG at one hospital level, with what it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standard {
    /// The DRG's weight (4 decimals).
    pub weight: Decimal,
    /// The level coefficient.
    pub coefficient: Decimal,
    /// The standard in CNY, exact.
    pub amount: Decimal,
}

/// Why a DRG has no standard at a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoStandard {
    /// The DRG is not in the weight table.
    MissingWeight,
    /// The region has no coefficient for the hospital level.
    MissingLevelCoefficient,
}

/// A Fujian special standard: the DRG that gives the lowest standard and that standard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialStandard {
    /// The DRG with the lowest own weight in scope.
    pub drg: String,
    /// Its standard at the hospital's level.
    pub standard: Standard,
}

/// Which DRG weights to scan for a lowest standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// All MDCs.
    AllMdcs,
    /// The DRGs of one MDC (first letter of the DRG code).
    Mdc(char),
}

/// Everything needed to pay DRG cases of one region and year.
#[derive(Debug, Clone)]
pub struct Tariff {
    pub(crate) region_code: String,
    pub(crate) province_prefix: String,
    pub(crate) pricing: Pricing,
    /// Indexed by hospital level.
    coefficients: Vec<Option<Decimal>>,
    weights: WeightTable,
    /// Index into `weights` of the lowest own weight overall.
    lowest_all: Option<usize>,
    /// Index into `weights` of the lowest own weight per MDC letter.
    lowest_by_mdc: FxHashMap<char, usize>,
    pub(crate) outliers: Outliers,
    pub(crate) exclusion: ExclusionRule,
    pub(crate) special_groups: SpecialGroups,
    pub(crate) cross_region: CrossRegion,
}

impl Tariff {
    /// Builds the tariff of a region from its parameters and weight table. `point_value`
    /// is required under the point method and refused under the rate method. Parameters that
    /// name an exclusion catalogue need [`Tariff::with_catalogue`]
    /// ([`TariffError::CatalogueNotLoaded`] here), so that no caller pays without it.
    pub fn new(
        params: &Params,
        weights: &WeightTable,
        point_value: Option<Decimal>,
    ) -> Result<Tariff, TariffError> {
        if let Some(path) = &params.exclusion.catalogue {
            return Err(TariffError::CatalogueNotLoaded(path.clone()));
        }
        let rule = ExclusionRule::Flag {
            form: match params.exclusion.mode {
                Some(ExclusionMode::PerItem) => ExclusionForm::PerItem,
                Some(ExclusionMode::WeightBonus) | None => ExclusionForm::WeightBonus,
            },
            bonus: params.exclusion.weight_bonus.unwrap_or_default(),
        };
        Self::build(params, weights, point_value, rule)
    }

    /// Builds the tariff with the approved exclusion catalogue (the one `exclusion.catalogue`
    /// names, read and validated by the caller): only its items give an exclusion, whatever
    /// the legacy keys say.
    pub fn with_catalogue(
        params: &Params,
        weights: &WeightTable,
        point_value: Option<Decimal>,
        catalogue: Arc<Catalogue>,
    ) -> Result<Tariff, TariffError> {
        Self::build(
            params,
            weights,
            point_value,
            ExclusionRule::Catalogue(catalogue),
        )
    }

    fn build(
        params: &Params,
        weights: &WeightTable,
        point_value: Option<Decimal>,
        exclusion: ExclusionRule,
    ) -> Result<Tariff, TariffError> {
        let drg = &params.drg;
        let pricing = match (drg.payment, point_value) {
            (PaymentMethod::Rate, None) => Pricing::Rate {
                base_rate: drg
                    .base_rate
                    .value()
                    .ok_or(TariffError::BaseRateNotDerived)?,
                point_scale: drg.point_scale,
                derived: drg.base_rate.from_budget(),
            },
            (PaymentMethod::Rate, Some(value)) => return Err(TariffError::PointValueUnused(value)),
            (PaymentMethod::Point, None) => return Err(TariffError::PointValueRequired),
            (PaymentMethod::Point, Some(value))
                if value <= Decimal::ZERO || value > Decimal::from(1_000_000) =>
            {
                return Err(TariffError::PointValueNotPositive(value))
            }
            (PaymentMethod::Point, Some(point_value)) => Pricing::Point {
                point_scale: drg.point_scale,
                point_value,
            },
        };
        let max_level = drg
            .hospital_level_coefficient
            .keys()
            .max()
            .copied()
            .unwrap_or(0);
        let mut coefficients = vec![None; usize::from(max_level) + 1];
        for (&level, &coefficient) in &drg.hospital_level_coefficient {
            coefficients[usize::from(level)] = Some(coefficient);
        }

        let mut lowest_all: Option<usize> = None;
        let mut lowest_by_mdc: FxHashMap<char, usize> = FxHashMap::default();
        let rows = weights.rows();
        // Rows are sorted by DRG code, so keeping the first minimum breaks ties by code.
        let lower = |candidate: usize, current: Option<usize>| match current {
            Some(i) => rows[candidate].weight < rows[i].weight,
            None => true,
        };
        for (i, row) in rows.iter().enumerate() {
            if row.source != WeightSource::Own {
                continue;
            }
            if lower(i, lowest_all) {
                lowest_all = Some(i);
            }
            if let Some(letter) = row.drg.chars().next() {
                let current = lowest_by_mdc.get(&letter).copied();
                if lower(i, current) {
                    lowest_by_mdc.insert(letter, i);
                }
            }
        }

        Ok(Tariff {
            region_code: params.region.code.clone(),
            province_prefix: params.region.province_prefix.clone(),
            pricing,
            coefficients,
            weights: weights.clone(),
            lowest_all,
            lowest_by_mdc,
            outliers: drg.outliers.clone(),
            exclusion,
            special_groups: drg.special_groups,
            cross_region: params.cross_region,
        })
    }

    /// The exclusions the tariff grants.
    pub fn exclusion(&self) -> &ExclusionRule {
        &self.exclusion
    }

    /// How weights turn into money.
    pub fn pricing(&self) -> Pricing {
        self.pricing
    }

    /// The weight table the tariff uses.
    pub fn weights(&self) -> &WeightTable {
        &self.weights
    }

    /// The weight row of a DRG.
    pub fn weight(&self, drg: &str) -> Option<&WeightRow> {
        self.weights.get(drg)
    }

    /// The level coefficient of a hospital level.
    pub fn level_coefficient(&self, level: u8) -> Option<Decimal> {
        self.coefficients.get(usize::from(level)).copied().flatten()
    }

    /// The standard of a weight at a hospital level.
    pub fn standard_of_weight(&self, weight: Decimal, level: u8) -> Option<Standard> {
        let coefficient = self.level_coefficient(level)?;
        Some(Standard {
            weight,
            coefficient,
            amount: weight * self.pricing.money_per_weight() * coefficient,
        })
    }

    /// The standard of a DRG at a hospital level.
    pub fn standard(&self, drg: &str, level: u8) -> Result<Standard, NoStandard> {
        let row = self.weights.get(drg).ok_or(NoStandard::MissingWeight)?;
        self.standard_of_weight(row.weight, level)
            .ok_or(NoStandard::MissingLevelCoefficient)
    }

    /// Points of a DRG at a hospital level (`RW × point_scale × coefficient`), either method.
    pub fn points(&self, drg: &str, level: u8) -> Result<Decimal, NoStandard> {
        let standard = self.standard(drg, level)?;
        let point_scale = match self.pricing {
            Pricing::Rate { point_scale, .. } | Pricing::Point { point_scale, .. } => point_scale,
        };
        Ok(standard.weight * point_scale * standard.coefficient)
    }

    /// The lowest standard over the DRGs with an own weight in `scope`, at a hospital level.
    /// `Ok(None)` when no DRG in scope has an own weight.
    pub fn lowest_standard(
        &self,
        scope: Scope,
        level: u8,
    ) -> Result<Option<SpecialStandard>, NoStandard> {
        let index = match scope {
            Scope::AllMdcs => self.lowest_all,
            Scope::Mdc(letter) => self.lowest_by_mdc.get(&letter).copied(),
        };
        let Some(row) = index.map(|i| &self.weights.rows()[i]) else {
            return Ok(None);
        };
        let standard = self
            .standard_of_weight(row.weight, level)
            .ok_or(NoStandard::MissingLevelCoefficient)?;
        Ok(Some(SpecialStandard {
            drg: row.drg.clone(),
            standard,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{params, weight_table, BASE_TOML};
    use rust_decimal_macros::dec;

    #[test]
    fn rate_standard_is_weight_times_base_rate_times_level_coefficient() {
        let tariff = Tariff::new(&params(BASE_TOML), &weight_table(), None).unwrap();
        // FB21: 1.5 × 40000 × 0.90 = 54000
        let s = tariff.standard("FB21", 2).unwrap();
        assert_eq!(
            (s.weight, s.coefficient, s.amount),
            (dec!(1.5000), dec!(0.90), dec!(54000.0000))
        );
        assert_eq!(tariff.standard("NOPE", 3), Err(NoStandard::MissingWeight));
        assert_eq!(
            tariff.standard("FB21", 7),
            Err(NoStandard::MissingLevelCoefficient)
        );
    }

    #[test]
    fn point_standard_is_points_times_point_value() {
        let p = params(&BASE_TOML.replace("payment = \"rate\"", "payment = \"point\""));
        assert_eq!(
            Tariff::new(&p, &weight_table(), None).unwrap_err(),
            TariffError::PointValueRequired
        );
        assert_eq!(
            Tariff::new(&p, &weight_table(), Some(dec!(0))).unwrap_err(),
            TariffError::PointValueNotPositive(dec!(0))
        );
        let tariff = Tariff::new(&p, &weight_table(), Some(dec!(420.50))).unwrap();
        // FB21 at level 2: points 1.5 × 100 × 0.90 = 135; 135 × 420.50 = 56767.50
        assert_eq!(tariff.points("FB21", 2).unwrap(), dec!(135));
        assert_eq!(tariff.standard("FB21", 2).unwrap().amount, dec!(56767.50));
        let rate = params(BASE_TOML);
        assert_eq!(
            Tariff::new(&rate, &weight_table(), Some(dec!(1))).unwrap_err(),
            TariffError::PointValueUnused(dec!(1))
        );
    }

    #[test]
    fn lowest_standards_count_only_own_weights() {
        let tariff = Tariff::new(&params(BASE_TOML), &weight_table(), None).unwrap();
        // Own weights: GC11 0.2500 is the lowest overall (XX19 0.1000 is a default weight,
        // BC19 0.2000 an ADRG weight: neither counts); in MDC F, FT21 0.3000.
        let all = tariff.lowest_standard(Scope::AllMdcs, 3).unwrap().unwrap();
        assert_eq!(
            (all.drg.as_str(), all.standard.amount),
            ("GC11", dec!(10000.0000))
        );
        let f = tariff.lowest_standard(Scope::Mdc('F'), 1).unwrap().unwrap();
        assert_eq!(
            (f.drg.as_str(), f.standard.amount),
            ("FT21", dec!(9600.0000))
        );
        assert_eq!(tariff.lowest_standard(Scope::Mdc('X'), 3).unwrap(), None);
    }
}
