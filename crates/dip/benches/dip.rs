//! Build a DIP library from, and score, 1,000,000 synthetic cases.
//!
//! The input is generated here, deterministically (SplitMix64, seed 2025): 3,000 diagnosis codes
//! and 1,500 procedure codes drawn with a skew (a few combinations are common, most rare),
//! costs 500–50,500 CNY. Run with
//! `CARGO_TARGET_DIR=/work/target-dip cargo bench -p drgdip-dip --bench dip`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use drgdip_dip::{build_library, score_case, DipCase, DipParams, ProcedureSets, Severity};
use rust_decimal::Decimal;

const CASES: usize = 1_000_000;

const PARAMS: &str = r#"
[budget]
inpatient_fund_budget = "480000000.00"

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

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// The minimum of three draws: heavily skewed towards small indices.
    fn skewed(&mut self, n: u64) -> usize {
        self.below(n).min(self.below(n)).min(self.below(n)) as usize
    }
}

fn diagnosis_codes(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let letter = char::from(b'A' + (i % 26) as u8);
            format!("{letter}{:02}.{}{:02}", (i / 26) % 100, i % 10, i % 7)
        })
        .collect()
}

fn procedure_codes(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{:02}.{:02}{:02}", i % 100, (i / 100) % 100, i % 13))
        .collect()
}

fn synthetic(n: usize, diagnoses: &[String], procedures: &[String]) -> Vec<DipCase> {
    let mut rng = Rng(2025);
    (0..n)
        .map(|i| {
            let total_cost = Decimal::new(50_000 + rng.below(5_000_000) as i64, 2);
            DipCase {
                case_id: format!("B{i:07}"),
                diagnoses: vec![
                    diagnoses[rng.skewed(diagnoses.len() as u64)].clone(),
                    diagnoses[rng.below(diagnoses.len() as u64) as usize].clone(),
                ],
                procedures: (0..rng.below(4))
                    .map(|_| procedures[rng.skewed(procedures.len() as u64)].clone())
                    .collect(),
                severity: Severity::ALL[rng.below(3) as usize],
                age_years: rng.below(95) as u32,
                discharge_way: ["1", "1", "1", "2", "5", "9"][rng.below(6) as usize].to_owned(),
                total_cost,
                fund_paid: total_cost * Decimal::new(70, 2),
                hospital_level: 1 + rng.below(3) as u8,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let params = DipParams::from_toml_str(PARAMS).expect("bench parameters");
    let procedures = procedure_codes(1_500);
    let sets = ProcedureSets {
        ss_invalid: procedures.iter().step_by(17).cloned().collect(),
        or_valid: procedures.iter().skip(1).step_by(3).cloned().collect(),
    };
    let history = synthetic(CASES, &diagnosis_codes(3_000), &procedures);

    let mut group = c.benchmark_group("dip_1m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CASES as u64));
    group.bench_function("build_library", |b| {
        b.iter(|| build_library(black_box(&history), &params, &sets))
    });
    let library = build_library(&history, &params, &sets);
    group.bench_function("score_case", |b| {
        b.iter(|| {
            let mut total = Decimal::ZERO;
            for case in black_box(&history) {
                total += score_case(&library, &params, &sets, case).case_score;
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
