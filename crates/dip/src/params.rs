//! DIP parameters of a region: the `[dip]` table, `[dip.hospital_level_coefficient]` and the
//! DIP budget of a region parameter file (`[budget.inpatient].dip`, or in a file without that
//! split `[budget].inpatient_fund_budget`, payment-model §4). Other tables are left to the
//! crates that own them (and validated there).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;
use thiserror::Error;
use toml::{Table, Value};

/// Outlier trimming before the group means (`payment-model.md` §1, which §3 refers to).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trim {
    /// No trimming: every history case enters the means (the default: `[dip]` has no `trim`).
    #[default]
    None,
    /// Keep costs within [Q1 − 1.5·IQR, Q3 + 1.5·IQR] of each group (type-7 quartiles); groups
    /// of fewer than 4 cases are not trimmed.
    Iqr,
}

impl Trim {
    /// The name used in the parameter file and `summary.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trim::None => "none",
            Trim::Iqr => "iqr",
        }
    }

    /// Reads a name written by [`Trim::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(Trim::None),
            "iqr" => Some(Trim::Iqr),
            _ => None,
        }
    }
}

/// 结算点值 — where the year's point value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PointValueSource {
    /// `"budget"`: (fund budget + Σ own) / Σ case scores of the year (`payment-model.md` §4).
    Budget,
    /// A fixed point value (CNY per point) set by the region.
    Fixed(Decimal),
}

impl fmt::Display for PointValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointValueSource::Budget => f.write_str("budget"),
            PointValueSource::Fixed(v) => write!(f, "{v}"),
        }
    }
}

/// The DIP parameters of one region and year, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DipParams {
    /// 分值 scale: a group's score is its mean cost / the overall mean × `score_scale`.
    pub score_scale: Decimal,
    /// 临界值 — a diagnosis + procedure combination with at least this many history cases is a
    /// core group; also the minimum cases of a comprehensive group and of an auxiliary level.
    pub core_min_cases: u32,
    /// 偏差病例 (high): `total_cost > high_multiple × mean_g`.
    pub high_multiple: Decimal,
    /// 偏差病例 (low): `total_cost < low_multiple × mean_g`.
    pub low_multiple: Decimal,
    /// Where the year's point value comes from.
    pub point_value: PointValueSource,
    /// 医疗机构等级系数 by hospital level.
    pub hospital_level_coefficient: BTreeMap<u8, Decimal>,
    /// The DIP budget `B` the point value spends (CNY): `[budget.inpatient].dip`, or
    /// `[budget].inpatient_fund_budget` in a file without the split.
    pub inpatient_fund_budget: Decimal,
    /// The key `inpatient_fund_budget` was read from.
    pub budget_key: &'static str,
    /// Trimming before the means: optional key `[dip].trim`, `"none"` (default) or `"iqr"`.
    pub trim: Trim,
    /// `[region].province_prefix`, when the file has it: a case whose insured region does not
    /// start with it is cross-province (跨省异地), outside the point value (§4 Scope).
    pub province_prefix: Option<String>,
}

/// What is wrong with a parameter file; every variant names the key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DipParamsError {
    /// The text is not TOML.
    #[error("the parameter file is not valid TOML: {0}")]
    Syntax(String),
    /// A required key or table is absent.
    #[error("`{key}` is missing: expected {expected}")]
    Missing {
        /// Dotted key, e.g. `dip.core_min_cases`.
        key: String,
        /// What should be there.
        expected: String,
    },
    /// A key has a value of the wrong type or outside its range.
    #[error("`{key}` = {found}: expected {expected}")]
    Invalid {
        /// Dotted key.
        key: String,
        /// The value found, as written.
        found: String,
        /// What was expected instead.
        expected: String,
    },
    /// `[dip]` holds a key this crate does not know (a typo would otherwise go unnoticed).
    #[error("`{key}` is not a DIP parameter: expected one of {expected}")]
    UnknownKey {
        /// Dotted key.
        key: String,
        /// The known keys.
        expected: String,
    },
}

const DIP_KEYS: [&str; 7] = [
    "score_scale",
    "core_min_cases",
    "high_multiple",
    "low_multiple",
    "point_value",
    "hospital_level_coefficient",
    "trim",
];

const DECIMAL_EXPECTED: &str = "a decimal written as a string, e.g. \"2.0\"";

fn invalid(key: &str, found: impl fmt::Display, expected: impl Into<String>) -> DipParamsError {
    DipParamsError::Invalid {
        key: key.to_owned(),
        found: found.to_string(),
        expected: expected.into(),
    }
}

fn missing(key: &str, expected: impl Into<String>) -> DipParamsError {
    DipParamsError::Missing {
        key: key.to_owned(),
        expected: expected.into(),
    }
}

fn table<'a>(parent: &'a Table, name: &str, key: &str) -> Result<&'a Table, DipParamsError> {
    match parent.get(name) {
        Some(Value::Table(t)) => Ok(t),
        Some(other) => Err(invalid(key, other, "a table")),
        None => Err(missing(key, "a table")),
    }
}

/// A decimal from a string (`"2.0"`) or an integer (`100`); floats are refused so that no binary
/// float ever touches a figure.
fn decimal(value: &Value, key: &str) -> Result<Decimal, DipParamsError> {
    match value {
        Value::String(s) => {
            Decimal::from_str_exact(s.trim()).map_err(|_| invalid(key, value, DECIMAL_EXPECTED))
        }
        Value::Integer(i) => Ok(Decimal::from(*i)),
        Value::Float(_) => Err(invalid(
            key,
            value,
            format!("{DECIMAL_EXPECTED} (floats are not accepted)"),
        )),
        other => Err(invalid(key, other, DECIMAL_EXPECTED)),
    }
}

fn required<'a>(
    t: &'a Table,
    name: &str,
    key: &str,
    expected: &str,
) -> Result<&'a Value, DipParamsError> {
    t.get(name).ok_or_else(|| missing(key, expected))
}

impl DipParams {
    /// Reads and validates the DIP parameters from the text of a region parameter file.
    ///
    /// Required: `[dip]` `score_scale` (> 0), `core_min_cases` (integer ≥ 1), `high_multiple`,
    /// `low_multiple` (decimals ≥ 0, low < high), `point_value` (`"budget"` or a decimal > 0),
    /// `[dip.hospital_level_coefficient]` (level 0–255 → decimal ≥ 0, at least one level) and
    /// `[budget].inpatient_fund_budget` (decimal ≥ 0). Optional: `[dip].trim`.
    pub fn from_toml_str(text: &str) -> Result<DipParams, DipParamsError> {
        let root: Table = text
            .parse()
            .map_err(|e: toml::de::Error| DipParamsError::Syntax(e.to_string()))?;
        let dip = table(&root, "dip", "dip")?;
        if let Some(unknown) = dip.keys().find(|k| !DIP_KEYS.contains(&k.as_str())) {
            return Err(DipParamsError::UnknownKey {
                key: format!("dip.{unknown}"),
                expected: DIP_KEYS.join(", "),
            });
        }

        let key = "dip.score_scale";
        let v = required(dip, "score_scale", key, "a number > 0, e.g. 100")?;
        let score_scale = decimal(v, key)?;
        if score_scale <= Decimal::ZERO {
            return Err(invalid(key, v, "a number > 0, e.g. 100"));
        }

        let key = "dip.core_min_cases";
        let expected = "an integer ≥ 1, e.g. 15";
        let v = required(dip, "core_min_cases", key, expected)?;
        let core_min_cases = match v {
            Value::Integer(i) if *i >= 1 => {
                u32::try_from(*i).map_err(|_| invalid(key, v, expected))?
            }
            _ => return Err(invalid(key, v, expected)),
        };

        let multiple = |name: &str| -> Result<Decimal, DipParamsError> {
            let key = format!("dip.{name}");
            let expected = format!("{DECIMAL_EXPECTED} ≥ 0");
            let v = required(dip, name, &key, &expected)?;
            let d = decimal(v, &key)?;
            if d < Decimal::ZERO {
                return Err(invalid(&key, v, expected));
            }
            Ok(d)
        };
        let high_multiple = multiple("high_multiple")?;
        let low_multiple = multiple("low_multiple")?;
        if low_multiple >= high_multiple {
            return Err(invalid(
                "dip.low_multiple",
                low_multiple,
                format!("a multiple below dip.high_multiple = {high_multiple}"),
            ));
        }

        let key = "dip.point_value";
        let expected = "\"budget\" or a fixed point value > 0 written as a string, e.g. \"12.34\"";
        let v = required(dip, "point_value", key, expected)?;
        let point_value = match v {
            Value::String(s) if s.trim() == "budget" => PointValueSource::Budget,
            Value::String(s) => match Decimal::from_str_exact(s.trim()) {
                Ok(d) if d > Decimal::ZERO => PointValueSource::Fixed(d),
                _ => return Err(invalid(key, v, expected)),
            },
            _ => return Err(invalid(key, v, expected)),
        };

        let trim = match dip.get("trim") {
            None => Trim::None,
            Some(v) => match v.as_str().and_then(Trim::parse) {
                Some(t) => t,
                None => return Err(invalid("dip.trim", v, "\"none\" or \"iqr\"")),
            },
        };

        let levels = table(
            dip,
            "hospital_level_coefficient",
            "dip.hospital_level_coefficient",
        )?;
        if levels.is_empty() {
            return Err(missing(
                "dip.hospital_level_coefficient",
                "at least one level, e.g. \"3\" = \"1.00\"",
            ));
        }
        let mut hospital_level_coefficient = BTreeMap::new();
        for (level, v) in levels {
            let key = format!("dip.hospital_level_coefficient.{level}");
            let level = u8::from_str(level).map_err(|_| {
                invalid(&key, level, "a hospital level 0–255 as the key, e.g. \"3\"")
            })?;
            let c = decimal(v, &key)?;
            if c < Decimal::ZERO {
                return Err(invalid(&key, v, format!("{DECIMAL_EXPECTED} ≥ 0")));
            }
            hospital_level_coefficient.insert(level, c);
        }

        let budget = table(&root, "budget", "budget")?;
        let expected = format!("an amount ≥ 0 in CNY, {DECIMAL_EXPECTED}");
        let (key, v) = match budget.get("inpatient").and_then(Value::as_table) {
            Some(split) => (
                "budget.inpatient.dip",
                required(split, "dip", "budget.inpatient.dip", &expected)?,
            ),
            None => (
                "budget.inpatient_fund_budget",
                required(
                    budget,
                    "inpatient_fund_budget",
                    "budget.inpatient_fund_budget",
                    &expected,
                )?,
            ),
        };
        let inpatient_fund_budget = decimal(v, key)?;
        if inpatient_fund_budget < Decimal::ZERO {
            return Err(invalid(key, v, expected));
        }

        let prefix_key = "region.province_prefix";
        let province_prefix = match root
            .get("region")
            .and_then(Value::as_table)
            .and_then(|r| r.get("province_prefix"))
        {
            None => None,
            Some(Value::String(p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.clone())
            }
            Some(v) => return Err(invalid(prefix_key, v, "the digits every insured region of the province starts with, as a string, e.g. \"35\"")),
        };

        // payment-model §4, scope: cross-province cases are outside the point value and settled
        // per item; a file that says otherwise is refused rather than silently not followed
        if let Some(v) = root
            .get("cross_region")
            .and_then(Value::as_table)
            .and_then(|c| c.get("cross_province"))
        {
            if v.as_str() != Some("per_item") {
                return Err(invalid(
                    "cross_region.cross_province",
                    v,
                    "\"per_item\" (DIP pays cross-province cases per item, outside the point value)",
                ));
            }
        }

        Ok(DipParams {
            score_scale,
            core_min_cases,
            high_multiple,
            low_multiple,
            point_value,
            hospital_level_coefficient,
            inpatient_fund_budget,
            budget_key: key,
            trim,
            province_prefix,
        })
    }

    /// Whether a case of `insured_region` is cross-province (跨省异地: outside the point value
    /// and local clearing, settled per item): the region is given, the parameters name the
    /// province's prefix and the region does not start with it. An empty region counts as
    /// local, as in DRG payment.
    pub fn is_cross_province(&self, insured_region: &str) -> bool {
        match &self.province_prefix {
            Some(prefix) => {
                !insured_region.is_empty() && !insured_region.starts_with(prefix.as_str())
            }
            None => false,
        }
    }

    /// The coefficient of a hospital level, if the region set one.
    pub fn level_coefficient(&self, level: u8) -> Option<Decimal> {
        self.hospital_level_coefficient.get(&level).copied()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    pub(crate) const REGION: &str = r#"
[region]
code = "350100"
method = "drg"

[budget]
inpatient_fund_budget = "480000000.00"
monthly_quality_deposit_rate = "0.05"

[drg]
trim = "iqr"

[dip]
score_scale = 100
core_min_cases = 15
high_multiple = "2.0"
low_multiple = "0.5"
point_value = "budget"

[dip.hospital_level_coefficient]
"3" = "1.00"
"2" = "0.90"
"1" = "0.80"
"#;

    fn with(from: &str, to: &str) -> Result<DipParams, DipParamsError> {
        assert!(REGION.contains(from), "{from}");
        DipParams::from_toml_str(&REGION.replace(from, to))
    }

    fn err_key(e: DipParamsError) -> String {
        match e {
            DipParamsError::Missing { key, .. }
            | DipParamsError::Invalid { key, .. }
            | DipParamsError::UnknownKey { key, .. } => key,
            DipParamsError::Syntax(s) => panic!("syntax: {s}"),
        }
    }

    #[test]
    fn the_region_file_reads() {
        let p = DipParams::from_toml_str(REGION).unwrap();
        assert_eq!(p.score_scale, dec!(100));
        assert_eq!(p.core_min_cases, 15);
        assert_eq!(p.high_multiple, dec!(2.0));
        assert_eq!(p.low_multiple, dec!(0.5));
        assert_eq!(p.point_value, PointValueSource::Budget);
        assert_eq!(p.level_coefficient(2), Some(dec!(0.90)));
        assert_eq!(p.level_coefficient(4), None);
        assert_eq!(p.inpatient_fund_budget, dec!(480000000.00));
        assert_eq!(p.trim, Trim::None);
    }

    #[test]
    fn a_fixed_point_value_and_iqr_trim_read() {
        let p = with(
            "point_value = \"budget\"",
            "point_value = \"12.34\"\ntrim = \"iqr\"",
        )
        .unwrap();
        assert_eq!(p.point_value, PointValueSource::Fixed(dec!(12.34)));
        assert_eq!(p.trim, Trim::Iqr);
    }

    #[test]
    fn a_negative_multiple_is_refused_with_its_key() {
        let e = with("high_multiple = \"2.0\"", "high_multiple = \"-2.0\"").unwrap_err();
        assert_eq!(err_key(e.clone()), "dip.high_multiple");
        assert!(e.to_string().contains("≥ 0"), "{e}");
        let e = with("low_multiple = \"0.5\"", "low_multiple = \"-0.5\"").unwrap_err();
        assert_eq!(err_key(e), "dip.low_multiple");
    }

    #[test]
    fn low_at_or_above_high_is_refused() {
        let e = with("low_multiple = \"0.5\"", "low_multiple = \"2.0\"").unwrap_err();
        assert_eq!(err_key(e.clone()), "dip.low_multiple");
        assert!(e.to_string().contains("below dip.high_multiple"), "{e}");
        assert!(with("low_multiple = \"0.5\"", "low_multiple = \"1.99\"").is_ok());
    }

    #[test]
    fn cross_province_cases_are_paid_per_item_in_dip() {
        // payment-model §4 scope: a file asking for the local standard is refused, not ignored
        let per_item = with(
            "method = \"drg\"",
            "method = \"drg\"\n\n[cross_region]\ncross_province = \"per_item\"\n",
        );
        assert!(per_item.is_ok());
        let e = with(
            "method = \"drg\"",
            "method = \"drg\"\n\n[cross_region]\ncross_province = \"local_standard\"\n",
        )
        .unwrap_err();
        assert_eq!(err_key(e.clone()), "cross_region.cross_province");
        assert!(e.to_string().contains("per item"), "{e}");
    }

    #[test]
    fn the_province_prefix_decides_what_is_cross_province() {
        let none = DipParams::from_toml_str(REGION).unwrap();
        assert_eq!(none.province_prefix, None);
        assert!(
            !none.is_cross_province("110100"),
            "no prefix: nothing is cross-province"
        );
        let p = with(
            "code = \"350100\"",
            "code = \"350100\"\nprovince_prefix = \"35\"",
        )
        .unwrap();
        assert_eq!(p.province_prefix.as_deref(), Some("35"));
        assert!(!p.is_cross_province("350100"));
        assert!(!p.is_cross_province("350200"), "in-province");
        assert!(!p.is_cross_province(""), "no region: local");
        assert!(p.is_cross_province("110100"));
        let e = with(
            "code = \"350100\"",
            "code = \"350100\"\nprovince_prefix = 35",
        )
        .unwrap_err();
        assert_eq!(err_key(e), "region.province_prefix");
        let e = with(
            "code = \"350100\"",
            "code = \"350100\"\nprovince_prefix = \"3a\"",
        )
        .unwrap_err();
        assert_eq!(err_key(e), "region.province_prefix");
    }

    #[test]
    fn the_dip_budget_is_the_inpatient_split_s_dip_part_when_the_file_has_the_split() {
        let p = DipParams::from_toml_str(REGION).unwrap();
        assert_eq!(p.budget_key, "budget.inpatient_fund_budget");
        assert_eq!(p.inpatient_fund_budget, dec!(480000000.00));
        let split = with(
            "inpatient_fund_budget = \"480000000.00\"",
            "inpatient_fund_budget = \"480000000.00\"\n[budget.inpatient]\ndrg = \"0\"\ndip = \"470000000.00\"",
        )
        .unwrap();
        assert_eq!(split.budget_key, "budget.inpatient.dip");
        assert_eq!(split.inpatient_fund_budget, dec!(470000000.00));
        let e = with(
            "inpatient_fund_budget = \"480000000.00\"",
            "inpatient_fund_budget = \"480000000.00\"\n[budget.inpatient]\ndrg = \"0\"",
        )
        .unwrap_err();
        assert_eq!(err_key(e), "budget.inpatient.dip");
    }

    #[test]
    fn core_min_cases_zero_is_refused() {
        let e = with("core_min_cases = 15", "core_min_cases = 0").unwrap_err();
        assert_eq!(err_key(e.clone()), "dip.core_min_cases");
        assert!(e.to_string().contains("integer ≥ 1"), "{e}");
        let e = with("core_min_cases = 15", "core_min_cases = \"15\"").unwrap_err();
        assert_eq!(err_key(e), "dip.core_min_cases");
    }

    #[test]
    fn a_bad_point_value_is_refused() {
        for bad in ["\"budgets\"", "\"0\"", "\"-1\"", "12.34", "\"abc\""] {
            let e = with("point_value = \"budget\"", &format!("point_value = {bad}")).unwrap_err();
            assert_eq!(err_key(e.clone()), "dip.point_value", "{bad}");
            assert!(e.to_string().contains("\"budget\""), "{e}");
        }
    }

    #[test]
    fn floats_are_refused_for_money_and_multiples() {
        let e = with("high_multiple = \"2.0\"", "high_multiple = 2.0").unwrap_err();
        assert!(e.to_string().contains("floats are not accepted"), "{e}");
    }

    #[test]
    fn missing_keys_and_tables_are_named() {
        let e = with("score_scale = 100\n", "").unwrap_err();
        assert_eq!(err_key(e), "dip.score_scale");
        let e = with(
            "inpatient_fund_budget = \"480000000.00\"",
            "inpatient_fund_budget = \"-1\"",
        )
        .unwrap_err();
        assert_eq!(err_key(e), "budget.inpatient_fund_budget");
        let e = with("[budget]", "[budget_x]").unwrap_err();
        assert_eq!(err_key(e), "budget");
        let e = with("\"1\" = \"0.80\"", "\"x\" = \"0.80\"").unwrap_err();
        assert_eq!(err_key(e), "dip.hospital_level_coefficient.x");
    }

    #[test]
    fn an_unknown_dip_key_is_refused() {
        let e = with("score_scale = 100", "score_scale = 100\ncore_min_case = 3").unwrap_err();
        assert_eq!(err_key(e), "dip.core_min_case");
    }

    #[test]
    fn broken_toml_is_a_syntax_error() {
        assert!(matches!(
            DipParams::from_toml_str("[dip"),
            Err(DipParamsError::Syntax(_))
        ));
    }
}
