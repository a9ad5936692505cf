//! DRG relative weights (相对权重) from a year of history cases (`payment-model.md` §1).
//!
//! Only [`GroupStatus::Grouped`] cases count. Per DRG the costs are trimmed (IQR fences with
//! type-7 quartiles, groups of fewer than 4 cases untrimmed), `mean_g` is the trimmed mean,
//! `mean_all` the mean of all trimmed cases of all groups, and `RW = mean_g / mean_all`
//! rounded half-up to 4 decimals. A group with fewer than `min_cases_for_own_weight` cases
//! (counted before trimming) takes the case-weighted mean of the own weights of the other
//! groups of its ADRG (`adrg`), else `1.0000` (`default`).

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// The largest relative weight a weights file may give (a group 1,000 times the average
/// case): a bound that keeps every standard far from a decimal overflow.
const MAX_WEIGHT: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);
use rustc_hash::FxHashMap;
use thiserror::Error;

use crate::money::{round_fen, round_weight};
use crate::params::{DrgParams, Trim};

text_enum! {
    /// The grouping status of a case, as the grouper reports it.
    pub enum GroupStatus {
        /// 分组成功 — the case has a DRG.
        Grouped = "grouped",
        /// 歧义病案 — a QY group (`<MDC letter>QY`).
        Ambiguous = "ambiguous",
        /// 无法入组 — the 0000 group.
        Ungroupable = "ungroupable",
        /// 信息校验不通过 — the case failed validation.
        Invalid = "invalid",
    }
}

impl GroupStatus {
    /// Reads a status written in English (`grouped`) or as the grouper's Chinese label
    /// (`分组成功`, `歧义病案`, `无法入组`, `信息校验不通过`).
    pub fn from_label(label: &str) -> Option<GroupStatus> {
        let label = label.trim();
        GroupStatus::parse(label).or(match label {
            "分组成功" => Some(GroupStatus::Grouped),
            "歧义病案" => Some(GroupStatus::Ambiguous),
            "无法入组" => Some(GroupStatus::Ungroupable),
            "信息校验不通过" => Some(GroupStatus::Invalid),
            _ => None,
        })
    }
}

text_enum! {
    /// Where a DRG's weight comes from.
    pub enum WeightSource {
        /// The group's own history (or a weight given in a weights file).
        Own = "own",
        /// Too few cases: the case-weighted mean of the own weights of its ADRG's other groups.
        Adrg = "adrg",
        /// Too few cases and no other group of the ADRG has an own weight: 1.0000.
        Default = "default",
    }
}

/// One case of the history year, as grouped with the region's scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCase {
    /// DRG code (`FR11`).
    pub drg: String,
    /// ADRG code (`FR1`).
    pub adrg: String,
    /// Grouping status; only grouped cases count.
    pub status: GroupStatus,
    /// The case's per-item total cost.
    pub total_cost: Decimal,
}

/// The two parameters of the weight computation, from `[drg]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightOptions {
    /// IQR trimming or none.
    pub trim: Trim,
    /// Groups with fewer history cases (before trimming) do not get an own weight.
    pub min_cases_for_own_weight: u32,
}

impl From<&DrgParams> for WeightOptions {
    fn from(drg: &DrgParams) -> Self {
        WeightOptions {
            trim: drg.trim,
            min_cases_for_own_weight: drg.min_cases_for_own_weight,
        }
    }
}

/// The weight of one DRG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightRow {
    /// DRG code.
    pub drg: String,
    /// ADRG code (empty when read from a plain `drg,weight` file).
    pub adrg: String,
    /// Grouped history cases, before trimming.
    pub cases: u32,
    /// Mean cost of the trimmed group; `None` without history cases.
    pub mean_cost: Option<Decimal>,
    /// Relative weight, 4 decimals.
    pub weight: Decimal,
    /// Where the weight comes from.
    pub source: WeightSource,
}

/// A malformed weights CSV.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WeightsCsvError {
    /// A required column is absent from the header.
    #[error("weights CSV: missing column `{column}` in the header (need at least drg,weight)")]
    MissingColumn {
        /// The column name.
        column: &'static str,
    },
    /// A field could not be read.
    #[error("weights CSV line {line}, field {field}: expected {expected}, found \"{found}\"")]
    Field {
        /// 1-based line number.
        line: u64,
        /// Column name.
        field: &'static str,
        /// What should be there.
        expected: &'static str,
        /// What is there.
        found: String,
    },
    /// The same DRG appears twice.
    #[error("weights CSV line {line}, field drg: DRG {drg} appears twice")]
    Duplicate {
        /// 1-based line number of the second occurrence (0 when built from rows).
        line: u64,
        /// The DRG code.
        drg: String,
    },
    /// The CSV itself is malformed.
    #[error("weights CSV line {line}: {message}")]
    Csv {
        /// 1-based line number.
        line: u64,
        /// The CSV reader's message.
        message: String,
    },
}

/// The weight of every DRG of a scheme, sorted by DRG code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeightTable {
    rows: Vec<WeightRow>,
    index: FxHashMap<String, usize>,
    /// `mean_all` of the history the weights were computed from (`None` for a table read from
    /// a file, or without history costs).
    mean_all: Option<Decimal>,
}

/// The header written by [`WeightTable::to_csv_string`].
pub const WEIGHTS_CSV_HEADER: [&str; 6] = ["drg", "adrg", "cases", "mean_cost", "weight", "source"];

impl WeightTable {
    /// Computes the weights of §1 from the history.
    ///
    /// `scheme_drgs` lists every `(drg, adrg)` of the scheme so that DRGs without history get
    /// a row (weight from their ADRG, else 1.0000). A grouped history case whose DRG is not
    /// in that list still counts (in `mean_all` and in a row of its own, with the ADRG of its
    /// first case); for listed DRGs the list's ADRG wins over the cases'.
    pub fn from_history<D: AsRef<str>, A: AsRef<str>>(
        history: &[HistoryCase],
        scheme_drgs: &[(D, A)],
        options: WeightOptions,
    ) -> WeightTable {
        struct Group<'a> {
            adrg: &'a str,
            costs: Vec<Decimal>,
        }
        let mut groups: BTreeMap<&str, Group<'_>> = BTreeMap::new();
        for (drg, adrg) in scheme_drgs {
            groups.insert(
                drg.as_ref(),
                Group {
                    adrg: adrg.as_ref(),
                    costs: Vec::new(),
                },
            );
        }
        for case in history.iter().filter(|c| c.status == GroupStatus::Grouped) {
            groups
                .entry(case.drg.as_str())
                .or_insert_with(|| Group {
                    adrg: case.adrg.as_str(),
                    costs: Vec::new(),
                })
                .costs
                .push(case.total_cost);
        }

        // Trimmed means per group, then the overall mean of all trimmed cases.
        let mut all_sum = Decimal::ZERO;
        let mut all_count = 0u64;
        let mut means: Vec<Option<Decimal>> = Vec::with_capacity(groups.len());
        for group in groups.values_mut() {
            let kept = match options.trim {
                Trim::Iqr => iqr_trim(&mut group.costs),
                Trim::None => &group.costs[..],
            };
            let sum: Decimal = kept.iter().sum();
            all_sum += sum;
            all_count += kept.len() as u64;
            means.push((!kept.is_empty()).then(|| sum / Decimal::from(kept.len() as u64)));
        }
        let mean_all =
            (all_count > 0 && !all_sum.is_zero()).then(|| all_sum / Decimal::from(all_count));

        // Own weights of the groups with enough cases.
        let own: Vec<Option<Decimal>> = groups
            .values()
            .zip(&means)
            .map(|(group, mean)| {
                let enough =
                    group.costs.len() as u64 >= u64::from(options.min_cases_for_own_weight.max(1));
                match (enough, mean, mean_all) {
                    (true, Some(mean), Some(all)) => Some(round_weight(mean / all)),
                    _ => None,
                }
            })
            .collect();

        // Per ADRG: Σ cases × own weight and Σ cases over the groups with an own weight.
        let mut by_adrg: FxHashMap<&str, (Decimal, u64)> = FxHashMap::default();
        for (group, weight) in groups.values().zip(&own) {
            if let Some(weight) = weight {
                let n = group.costs.len() as u64;
                let entry = by_adrg.entry(group.adrg).or_default();
                entry.0 += *weight * Decimal::from(n);
                entry.1 += n;
            }
        }

        let rows = groups
            .iter()
            .zip(own.iter().zip(&means))
            .map(|((drg, group), (own_weight, mean))| {
                let (weight, source) = match own_weight {
                    Some(w) => (*w, WeightSource::Own),
                    None => match by_adrg.get(group.adrg) {
                        // The group itself has no own weight, so these are the *other* groups.
                        Some(&(sum, n)) if n > 0 => {
                            (round_weight(sum / Decimal::from(n)), WeightSource::Adrg)
                        }
                        _ => (Decimal::new(10000, 4), WeightSource::Default),
                    },
                };
                WeightRow {
                    drg: drg.to_string(),
                    adrg: group.adrg.to_string(),
                    cases: u32::try_from(group.costs.len()).unwrap_or(u32::MAX),
                    mean_cost: *mean,
                    weight,
                    source,
                }
            })
            .collect();
        WeightTable {
            mean_all,
            ..WeightTable::from_sorted_unique(rows)
        }
    }

    /// Builds a table from rows given by the caller (sorted here by DRG code).
    pub fn from_rows(mut rows: Vec<WeightRow>) -> Result<WeightTable, WeightsCsvError> {
        rows.sort_by(|a, b| a.drg.cmp(&b.drg));
        if let Some(pair) = rows.windows(2).find(|p| p[0].drg == p[1].drg) {
            return Err(WeightsCsvError::Duplicate {
                line: 0,
                drg: pair[0].drg.clone(),
            });
        }
        Ok(WeightTable::from_sorted_unique(rows))
    }

    fn from_sorted_unique(rows: Vec<WeightRow>) -> WeightTable {
        let index = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.drg.clone(), i))
            .collect();
        WeightTable {
            rows,
            index,
            mean_all: None,
        }
    }

    /// The mean cost of all trimmed history cases of all groups (`mean_all` of §1), when the
    /// table was computed from history.
    pub fn mean_all(&self) -> Option<Decimal> {
        self.mean_all
    }

    /// The row of a DRG, if the table has one.
    pub fn get(&self, drg: &str) -> Option<&WeightRow> {
        self.index.get(drg).map(|&i| &self.rows[i])
    }

    /// Every row, sorted by DRG code.
    pub fn rows(&self) -> &[WeightRow] {
        &self.rows
    }

    /// Number of DRGs.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no DRG.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as CSV with the header `drg,adrg,cases,mean_cost,weight,source`; mean cost
    /// rounded half-up to the fen (empty without cases), weight with 4 decimals.
    pub fn to_csv_string(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        // Writing to a Vec<u8> cannot fail.
        writer
            .write_record(WEIGHTS_CSV_HEADER)
            .expect("write to memory");
        for row in &self.rows {
            let mean = row
                .mean_cost
                .map(|m| format!("{:.2}", round_fen(m)))
                .unwrap_or_default();
            writer
                .write_record([
                    row.drg.as_str(),
                    row.adrg.as_str(),
                    &row.cases.to_string(),
                    &mean,
                    &format!("{:.4}", round_weight(row.weight)),
                    row.source.as_str(),
                ])
                .expect("write to memory");
        }
        let bytes = writer.into_inner().expect("flush to memory");
        String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
    }

    /// Reads a weights CSV: either the format of [`WeightTable::to_csv_string`] or any CSV
    /// with at least the columns `drg` and `weight` (other columns, such as `name`, are
    /// ignored). Without a `source` column a weight counts as the DRG's own (a published
    /// weight); a row with an empty weight is skipped (no weight published, so the DRG is
    /// paid as a DRG with a missing weight). Weights are taken as written, not re-rounded.
    pub fn from_csv_str(text: &str) -> Result<WeightTable, WeightsCsvError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let csv_error = |e: csv::Error| WeightsCsvError::Csv {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        };
        let headers = reader.headers().map_err(csv_error)?.clone();
        let column = |name: &str| headers.iter().position(|h| h == name);
        let drg_col = column("drg").ok_or(WeightsCsvError::MissingColumn { column: "drg" })?;
        let weight_col =
            column("weight").ok_or(WeightsCsvError::MissingColumn { column: "weight" })?;
        let (adrg_col, cases_col, mean_col, source_col) = (
            column("adrg"),
            column("cases"),
            column("mean_cost"),
            column("source"),
        );

        let mut rows = Vec::new();
        let mut seen: FxHashMap<String, ()> = FxHashMap::default();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("");
            let bad =
                |field: &'static str, expected: &'static str, found: &str| WeightsCsvError::Field {
                    line,
                    field,
                    expected,
                    found: found.to_string(),
                };
            let drg = field(Some(drg_col));
            if drg.is_empty() {
                return Err(bad("drg", "a DRG code", drg));
            }
            let weight_text = field(Some(weight_col));
            if weight_text.is_empty() {
                continue;
            }
            let weight = Decimal::from_str(weight_text)
                .ok()
                .filter(|w| !w.is_sign_negative() && *w <= MAX_WEIGHT)
                .ok_or_else(|| bad("weight", "a decimal from 0 to 1000", weight_text))?;
            let cases = match field(cases_col) {
                "" => 0,
                text => text
                    .parse::<u32>()
                    .map_err(|_| bad("cases", "a count of cases", text))?,
            };
            let mean_cost = match field(mean_col) {
                "" => None,
                text => Some(
                    Decimal::from_str(text)
                        .map_err(|_| bad("mean_cost", "a decimal amount", text))?,
                ),
            };
            let source = match field(source_col) {
                "" => WeightSource::Own,
                text => WeightSource::parse(text)
                    .ok_or_else(|| bad("source", "own, adrg or default", text))?,
            };
            if seen.insert(drg.to_string(), ()).is_some() {
                return Err(WeightsCsvError::Duplicate {
                    line,
                    drg: drg.to_string(),
                });
            }
            rows.push(WeightRow {
                drg: drg.to_string(),
                adrg: field(adrg_col).to_string(),
                cases,
                mean_cost,
                weight,
                source,
            });
        }
        rows.sort_by(|a, b| a.drg.cmp(&b.drg));
        Ok(WeightTable::from_sorted_unique(rows))
    }
}

/// The quantile `p` (0..1) of sorted values by the type-7 definition: linear interpolation
/// between the closest ranks, `h = (n − 1)·p`, `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`.
///
/// # Panics
/// If `sorted` is empty.
pub fn quantile_type7(sorted: &[Decimal], p: Decimal) -> Decimal {
    assert!(!sorted.is_empty(), "quantile of no values");
    let h = Decimal::from(sorted.len() as u64 - 1) * p;
    let lower = h.floor();
    // 0 ≤ lower ≤ n − 1, so it fits in usize.
    let i = lower.to_usize().unwrap_or(0);
    match sorted.get(i + 1) {
        Some(&next) => sorted[i] + (h - lower) * (next - sorted[i]),
        None => sorted[i],
    }
}

/// Sorts `costs` and returns the ones within [Q1 − 1.5·IQR, Q3 + 1.5·IQR] (type-7
/// quartiles, bounds inclusive). Groups of fewer than 4 cases are returned whole.
pub fn iqr_trim(costs: &mut [Decimal]) -> &[Decimal] {
    costs.sort_unstable();
    if costs.len() < 4 {
        return costs;
    }
    let q1 = quantile_type7(costs, Decimal::new(25, 2));
    let q3 = quantile_type7(costs, Decimal::new(75, 2));
    let fence = (q3 - q1) * Decimal::new(15, 1);
    let (low, high) = (q1 - fence, q3 + fence);
    let start = costs.partition_point(|&c| c < low);
    let end = costs.partition_point(|&c| c <= high);
    &costs[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn case(drg: &str, cost: Decimal) -> HistoryCase {
        HistoryCase {
            drg: drg.to_string(),
            adrg: drg[..3].to_string(),
            status: GroupStatus::Grouped,
            total_cost: cost,
        }
    }

    fn cases(drg: &str, costs: &[Decimal]) -> Vec<HistoryCase> {
        costs.iter().map(|&c| case(drg, c)).collect()
    }

    fn options(trim: Trim, min_cases: u32) -> WeightOptions {
        WeightOptions {
            trim,
            min_cases_for_own_weight: min_cases,
        }
    }

    #[test]
    fn type_7_quartiles_interpolate_between_closest_ranks() {
        // R: quantile(c(1, 2, 3, 4, 100), c(.25, .75), type = 7) → 2, 4
        let xs = [dec!(1), dec!(2), dec!(3), dec!(4), dec!(100)];
        assert_eq!(quantile_type7(&xs, dec!(0.25)), dec!(2));
        assert_eq!(quantile_type7(&xs, dec!(0.75)), dec!(4));
        // n = 4: h = 0.75 and 2.25 → 10 + 0.75·10 = 17.5; 30 + 0.25·60 = 45
        let ys = [dec!(10), dec!(20), dec!(30), dec!(90)];
        assert_eq!(quantile_type7(&ys, dec!(0.25)), dec!(17.5));
        assert_eq!(quantile_type7(&ys, dec!(0.75)), dec!(45));
        assert_eq!(quantile_type7(&ys, dec!(1)), dec!(90));
        assert_eq!(quantile_type7(&ys, dec!(0)), dec!(10));
    }

    #[test]
    fn iqr_trimming_drops_costs_outside_the_fences_inclusive_bounds_kept() {
        // Q1 = 2, Q3 = 4, IQR = 2: fences [−1, 7]; 100 goes, 7 would stay.
        let mut xs = vec![dec!(100), dec!(3), dec!(1), dec!(4), dec!(2)];
        assert_eq!(iqr_trim(&mut xs), &[dec!(1), dec!(2), dec!(3), dec!(4)]);
        let mut ys = vec![dec!(1), dec!(2), dec!(3), dec!(4), dec!(7)];
        // Q1 = 2, Q3 = 4 → high fence 7: kept.
        assert_eq!(iqr_trim(&mut ys).len(), 5);
    }

    #[test]
    fn groups_of_fewer_than_four_cases_are_not_trimmed() {
        let mut xs = vec![dec!(1), dec!(2), dec!(1000)];
        assert_eq!(iqr_trim(&mut xs).len(), 3);
    }

    #[test]
    fn weights_are_group_mean_over_trimmed_overall_mean_rounded_half_up() {
        // AA11: 1, 2, 3, 4, 100 → trimmed 1..4, mean 2.5. BB11: 6, 6, 6, 6 → mean 6.
        // mean_all = (10 + 24) / 8 = 4.25; RW_A = 2.5/4.25 = 0.588235… → 0.5882,
        // RW_B = 6/4.25 = 1.411764… → 1.4118.
        let mut history = cases("AA11", &[dec!(1), dec!(2), dec!(3), dec!(4), dec!(100)]);
        history.extend(cases("BB11", &[dec!(6), dec!(6), dec!(6), dec!(6)]));
        let table = WeightTable::from_history(
            &history,
            &[("AA11", "AA1"), ("BB11", "BB1")],
            options(Trim::Iqr, 4),
        );
        let a = table.get("AA11").unwrap();
        assert_eq!(
            (a.cases, a.mean_cost, a.weight, a.source),
            (5, Some(dec!(2.5)), dec!(0.5882), WeightSource::Own)
        );
        let b = table.get("BB11").unwrap();
        assert_eq!(
            (b.cases, b.weight, b.source),
            (4, dec!(1.4118), WeightSource::Own)
        );
        // Without trimming: mean_all = (110 + 24) / 9, RW_A = 22 / (134/9) = 1.4776…
        let untrimmed =
            WeightTable::from_history(&history, &[] as &[(&str, &str)], options(Trim::None, 4));
        assert_eq!(untrimmed.get("AA11").unwrap().weight, dec!(1.4776));
    }

    #[test]
    fn the_rounding_is_half_up_at_the_fifth_decimal() {
        // A: 100005 (1 case), B: 99995 (1 case): mean_all = 100000.
        // 1.00005 → 1.0001 (half-up; banker's rounding would give 1.0000); 0.99995 → 1.0000.
        let mut history = cases("AA11", &[dec!(100005)]);
        history.extend(cases("BB11", &[dec!(99995)]));
        let table =
            WeightTable::from_history(&history, &[] as &[(&str, &str)], options(Trim::Iqr, 1));
        assert_eq!(table.get("AA11").unwrap().weight, dec!(1.0001));
        assert_eq!(table.get("BB11").unwrap().weight, dec!(1.0000));
    }

    #[test]
    fn small_groups_take_the_case_weighted_mean_of_their_adrg_else_the_default() {
        // FR11: 6 cases at 100, FR13: 3 cases at 400 → own weights; FR15 has 1 case.
        // GB11: 1 case, alone in its ADRG → default 1.0000. ZZ11: listed, no history.
        let mut history = cases("FR11", &[dec!(100); 6]);
        history.extend(cases("FR13", &[dec!(400); 3]));
        history.extend(cases("FR15", &[dec!(9999)]));
        history.extend(cases("GB11", &[dec!(50)]));
        let scheme = [
            ("FR11", "FR1"),
            ("FR13", "FR1"),
            ("FR15", "FR1"),
            ("GB11", "GB1"),
            ("ZZ11", "ZZ1"),
        ];
        let table = WeightTable::from_history(&history, &scheme, options(Trim::Iqr, 3));
        // mean_all = (600 + 1200 + 9999 + 50) / 11 = 11849 / 11
        let all = dec!(11849) / dec!(11);
        let fr11 = round_weight(dec!(100) / all);
        let fr13 = round_weight(dec!(400) / all);
        assert_eq!(table.get("FR11").unwrap().weight, fr11);
        assert_eq!(fr11, dec!(0.0928));
        assert_eq!(fr13, dec!(0.3713));
        // (6 × 0.0928 + 3 × 0.3713) / 9 = 1.6707 / 9 = 0.18563… → 0.1856
        let fr15 = table.get("FR15").unwrap();
        assert_eq!(
            (fr15.weight, fr15.source, fr15.cases),
            (dec!(0.1856), WeightSource::Adrg, 1)
        );
        assert_eq!(fr15.mean_cost, Some(dec!(9999)));
        let gb11 = table.get("GB11").unwrap();
        assert_eq!(
            (gb11.weight, gb11.source),
            (dec!(1.0000), WeightSource::Default)
        );
        let zz11 = table.get("ZZ11").unwrap();
        assert_eq!(
            (zz11.cases, zz11.mean_cost, zz11.weight, zz11.source),
            (0, None, dec!(1.0000), WeightSource::Default)
        );
    }

    #[test]
    fn only_grouped_cases_count() {
        let mut history = cases("AA11", &[dec!(100), dec!(100)]);
        history.extend(cases("BB11", &[dec!(300), dec!(300)]));
        for status in [
            GroupStatus::Ambiguous,
            GroupStatus::Ungroupable,
            GroupStatus::Invalid,
        ] {
            history.push(HistoryCase {
                status,
                ..case("BB11", dec!(1000000))
            });
        }
        let table =
            WeightTable::from_history(&history, &[] as &[(&str, &str)], options(Trim::None, 1));
        assert_eq!(table.get("BB11").unwrap().cases, 2);
        assert_eq!(table.get("AA11").unwrap().weight, dec!(0.5000));
        assert_eq!(table.get("BB11").unwrap().weight, dec!(1.5000));
    }

    #[test]
    fn csv_round_trips_and_plain_drg_weight_files_are_read() {
        let mut history = cases("AA11", &[dec!(100); 5]);
        history.extend(cases("AA13", &[dec!(300)]));
        let table = WeightTable::from_history(
            &history,
            &[("AA11", "AA1"), ("AA13", "AA1")],
            options(Trim::Iqr, 5),
        );
        let text = table.to_csv_string();
        assert_eq!(
            text,
            "drg,adrg,cases,mean_cost,weight,source\nAA11,AA1,5,100.00,0.7500,own\nAA13,AA1,1,300.00,0.7500,adrg\n"
        );
        // the file carries the rows, not the history's mean_all
        assert_eq!(
            WeightTable::from_csv_str(&text).unwrap().rows(),
            table.rows()
        );
        assert_eq!(table.mean_all(), Some(dec!(400) / dec!(3)));

        let plain = WeightTable::from_csv_str("drg,name,weight\nBB11,x,1.2345\nBB13,y,\n").unwrap();
        assert_eq!(plain.len(), 1);
        let row = plain.get("BB11").unwrap();
        assert_eq!(
            (row.weight, row.source, row.cases),
            (dec!(1.2345), WeightSource::Own, 0)
        );
    }

    #[test]
    fn csv_errors_name_the_line_and_field() {
        let err = WeightTable::from_csv_str("drg,weight\nAA11,1.0\nAA13,heavy\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "weights CSV line 3, field weight: expected a decimal from 0 to 1000, found \"heavy\""
        );
        let err = WeightTable::from_csv_str("drg,weight\nAA11,1.0\nAA11,2.0\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "weights CSV line 3, field drg: DRG AA11 appears twice"
        );
        let err = WeightTable::from_csv_str("code,weight\n").unwrap_err();
        assert_eq!(err, WeightsCsvError::MissingColumn { column: "drg" });
    }

    #[test]
    fn grouping_status_reads_english_and_chinese_labels() {
        assert_eq!(
            GroupStatus::from_label("分组成功"),
            Some(GroupStatus::Grouped)
        );
        assert_eq!(
            GroupStatus::from_label("歧义病案"),
            Some(GroupStatus::Ambiguous)
        );
        assert_eq!(
            GroupStatus::from_label("无法入组"),
            Some(GroupStatus::Ungroupable)
        );
        assert_eq!(
            GroupStatus::from_label("信息校验不通过"),
            Some(GroupStatus::Invalid)
        );
        assert_eq!(
            GroupStatus::from_label("invalid"),
            Some(GroupStatus::Invalid)
        );
        assert_eq!(GroupStatus::from_label("other"), None);
    }
}
