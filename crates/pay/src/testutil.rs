//! Fixtures shared by the unit tests.

use std::path::PathBuf;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::params::Params;
use crate::weights::{WeightRow, WeightSource, WeightTable};

/// A complete parameter file with round numbers for hand computation
/// (base rate 40000.00; the example region's bands, shares and coefficients).
pub const BASE_TOML: &str = r#"
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
high_multiple_bands = [ { max_weight = "1.0", multiple = "3.0" }, { max_weight = "2.0", multiple = "2.5" }, { multiple = "2.0" } ]
high_extra_share = "0.90"
low_multiple = "0.4"
low_payment = "cost"
short_stay_days = 0

[drg.special_groups]
ungroupable = "lowest_standard_all_mdcs"
ambiguous = "lowest_standard_in_mdc"

[dip]
score_scale = 100
anything = "the DIP crate's business"

[exclusion]
mode = "weight_bonus"
weight_bonus = "0.20"

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

/// Parses a parameter text that the test knows to be valid.
pub fn params(text: &str) -> Params {
    Params::from_toml_str(text).unwrap_or_else(|e| panic!("test parameters: {e}"))
}

fn row(drg: &str, weight: Decimal, source: WeightSource) -> WeightRow {
    WeightRow {
        drg: drg.to_string(),
        adrg: drg[..3].to_string(),
        cases: 10,
        mean_cost: None,
        weight,
        source,
    }
}

/// Weights for hand computation: one DRG per high band, the lowest own weights of MDC F
/// (FT21 0.3) and overall (GC11 0.25), and lower weights that are not own (BC19, XX19).
pub fn weight_table() -> WeightTable {
    use WeightSource::*;
    WeightTable::from_rows(vec![
        row("FR11", dec!(0.8000), Own),
        row("FR13", dec!(1.0000), Own),
        row("FB23", dec!(1.2500), Own),
        row("FB21", dec!(1.5000), Own),
        row("BB11", dec!(2.5000), Own),
        row("FT21", dec!(0.3000), Own),
        row("GC11", dec!(0.2500), Own),
        row("BC19", dec!(0.2000), Adrg),
        row("XX19", dec!(0.1000), Default),
    ])
    .expect("unique DRGs")
}

/// Reads a file of the shared data directory (`$DRGDIP_SHARED`, else `../shared` beside the
/// repository). `None`, with a note on stderr, when it is not there: the test is skipped.
pub fn shared_file(relative: &str) -> Option<String> {
    let root = std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = root.join(relative);
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            eprintln!("note: skipped, {} not readable ({e})", path.display());
            None
        }
    }
}

/// A small approved exclusion catalogue for hand computation: a per-item technique, an
/// item-cost device limited to ADRGs FR1 and FB2, and a weight-bonus drug (bonus 0.30) valid
/// from 2025-03-01 to 2025-06-30 only.
pub const CATALOGUE_CSV: &str = "code,kind,name,valid_from,valid_to,form,bonus,adrgs
T-PER,technique,per-item technique,2025-01-01,2025-12-31,per_item,,
D-COST,device,item-cost device,2025-01-01,2025-12-31,item_cost,,FR1|FB2
M-BONUS,drug,bonus drug,2025-03-01,2025-06-30,weight_bonus,0.30,
";

/// [`CATALOGUE_CSV`], parsed.
pub fn catalogue() -> crate::exclusion::Catalogue {
    crate::exclusion::Catalogue::from_csv_str(CATALOGUE_CSV)
        .unwrap_or_else(|e| panic!("test catalogue: {e}"))
}
