//! Pays 1,000,000 synthetic cases in memory and sums them into a `PaySummary`.
//!
//! Run: `cargo bench -p drgdip-pay --bench pay`. The input is generated here, from a fixed
//! seed: 640 DRGs over 26 MDCs with weights 0.2..5, and cases with 97 % grouped status,
//! 1 % each ambiguous / ungroupable / invalid, 10 % cross-region, 1 % new technology,
//! 0.5 % approved special cases, and costs between 0.2 and 4 times their DRG's standard.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use drgdip_pay::weights::{WeightRow, WeightSource};
use drgdip_pay::{
    pay_case, GroupStatus, Params, PayInput, PaySummary, SpecialApproval, Tariff, WeightTable,
};
use rust_decimal::Decimal;

const CASES: usize = 1_000_000;

const PARAMS: &str = r#"
[region]
code = "350100"
name = "bench"
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
base_rate = "38000.00"
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
short_stay_days = 2
[drg.special_groups]
ungroupable = "lowest_standard_all_mdcs"
ambiguous = "lowest_standard_in_mdc"
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

/// A small deterministic generator (64-bit LCG), so the input is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn weights(rng: &mut Lcg) -> WeightTable {
    let mut rows = Vec::new();
    for mdc in b'A'..=b'Z' {
        for i in 0..25 {
            let drg = format!(
                "{}{}{:02}",
                mdc as char,
                (b'A' + (i / 5) as u8) as char,
                10 + i % 5
            );
            let weight = Decimal::new(2000 + rng.below(48000) as i64, 4);
            rows.push(WeightRow {
                adrg: drg[..3].to_string(),
                drg,
                cases: 100,
                mean_cost: None,
                weight,
                source: WeightSource::Own,
            });
        }
    }
    WeightTable::from_rows(rows).expect("unique codes")
}

fn cases(rng: &mut Lcg, table: &WeightTable) -> Vec<PayInput> {
    let rows = table.rows();
    (0..CASES)
        .map(|i| {
            let row = &rows[rng.below(rows.len() as u64) as usize];
            let letter = &row.drg[..1];
            let (status, drg) = match rng.below(100) {
                0 => (GroupStatus::Ambiguous, format!("{letter}QY")),
                1 => (GroupStatus::Ungroupable, "0000".to_string()),
                2 => (GroupStatus::Invalid, String::new()),
                _ => (GroupStatus::Grouped, row.drg.clone()),
            };
            let insured_region = match rng.below(100) {
                0..=89 => "350100",
                90..=96 => "350200",
                _ => "110100",
            };
            // Cost: 0.2..4 × the weight × 38000, in fen.
            let factor = 20 + rng.below(380) as i64;
            let total_cost = row.weight * Decimal::new(38000 * factor, 2);
            let fund_paid = (total_cost * Decimal::new(50 + rng.below(40) as i64, 2)).round_dp(2);
            PayInput {
                case_id: format!("B{i:07}"),
                hospital_level: 1 + rng.below(3) as u8,
                insured_region: insured_region.to_string(),
                new_tech_flag: rng.below(100) == 0,
                new_tech_items: Vec::new(),
                discharge_date: None,
                los: Some(1 + rng.below(30) as u32),
                total_cost: total_cost.round_dp(2),
                fund_paid,
                status,
                mdc: format!("MDC{letter}"),
                adrg: row.adrg.clone(),
                drg,
                special: match rng.below(200) {
                    0 => Some(SpecialApproval::PerItem),
                    1 => Some(SpecialApproval::ExtraPoints(Decimal::from(20))),
                    _ => None,
                },
            }
        })
        .collect()
}

fn bench_pay(c: &mut Criterion) {
    let params = Params::from_toml_str(PARAMS).expect("bench parameters");
    let mut rng = Lcg(20250101);
    let table = weights(&mut rng);
    let tariff = Tariff::new(&params, &table, None).expect("rate tariff");
    let inputs = cases(&mut rng, &table);

    let mut group = c.benchmark_group("pay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CASES as u64));
    group.bench_function("pay_1m_cases_into_summary", |b| {
        b.iter(|| {
            let mut summary = PaySummary::new();
            for case in &inputs {
                summary.add(&pay_case(&tariff, black_box(case)));
            }
            black_box(summary)
        })
    });
    group.finish();
}

criterion_group!(benches, bench_pay);
criterion_main!(benches);
