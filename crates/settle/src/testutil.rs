//! Fixtures shared by the unit tests.

use drgdip_pay::{Category, Hospital, Params};
use rust_decimal::Decimal;

use crate::monthly::SettledCase;

/// A complete parameter file for hand computation: deposit 5%, special-case quota 5% / 5‰
/// per quarter, surplus kept 100% capped at 15%, overspend bands 10% → 0.70, 20% → 0.50,
/// rest → 0, performance weighting on, prepayment of 1 month for A/B hospitals of ≥ 2 years.
const PARAMS_TOML: &str = r#"
[region]
code = "350100"
name = "test region"
province_prefix = "35"
year = 2025
method = "drg"
scheme = "fujian-2024"

[budget]
inpatient_fund_budget = "480000000.00"
monthly_quality_deposit_rate = "0.05"

[drg]
weights = "history"
trim = "iqr"
min_cases_for_own_weight = 5
base_rate = "40000.00"
point_scale = 100
payment = "rate"

[drg.hospital_level_coefficient]
"3" = "1.00"
"2" = "0.90"
"1" = "0.80"

[drg.outliers]
high_multiple_bands = [ { max_weight = "1.0", multiple = "3.0" }, { multiple = "2.0" } ]
high_extra_share = "0.90"
low_multiple = "0.4"
low_payment = "cost"
short_stay_days = 0

[drg.special_groups]
ungroupable = "lowest_standard_all_mdcs"
ambiguous = "lowest_standard_in_mdc"

[exclusion]
mode = "per_item"

[special_case]
max_share_drg = "0.05"
max_share_dip = "0.005"
review_period = "quarter"
outcome_default = "per_item"

[cross_region]
in_province = "local_standard"
cross_province = "per_item"

[clearing]
surplus_retained_share = "1.00"
surplus_cap_rate = "0.15"
overspend_bands = [ { up_to_rate = "0.10", fund_share = "0.70" }, { up_to_rate = "0.20", fund_share = "0.50" }, { fund_share = "0.00" } ]
performance_weight = true

[prepayment]
months = "1.0"
eligible_credit = ["A", "B"]
min_agreement_years = 2
recovered_at = "clearing"
"#;

/// The test parameters.
pub fn params() -> Params {
    Params::from_toml_str(PARAMS_TOML).unwrap()
}

/// A case with `fund_due` given and round other amounts: total_cost 20000, own 3000,
/// fund_paid 17000, payment 15000.
pub fn case(
    case_id: &str,
    hospital_id: &str,
    month: &str,
    category: Category,
    fund_due: Decimal,
) -> SettledCase {
    SettledCase {
        case_id: case_id.to_string(),
        hospital_id: hospital_id.to_string(),
        discharge_month: month.parse().unwrap(),
        category,
        payment: Decimal::from(15000),
        own: Decimal::from(3000),
        fund_due,
        fund_paid: Decimal::from(17000),
        total_cost: Decimal::from(20000),
        weight: None,
        dip_score: None,
        pricing: Default::default(),
    }
}

/// A hospital of level 3.
pub fn hospital(id: &str, credit: &str, score: Decimal, agreement_years: u32) -> Hospital {
    Hospital {
        hospital_id: id.to_string(),
        name: format!("hospital {id}"),
        level: 3,
        credit_rating: credit.to_string(),
        performance_score: score,
        agreement_years,
        traceability_code_upload: true,
        kind: None,
        extra: Default::default(),
    }
}
