#![no_main]
//! Arbitrary bytes as the rows of a case file: never a panic, one output line per row.

use drgdip_drg::{group, Trace};
use drgdip_io::{run_batch, RowOutcome};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &str = "case_id,hospital_id,hospital_level,gender,age,age_days,birth_weight,admission_weight,dept,los,discharge_way,diagnoses,procedures,vent_hours,discharge_date,insured_region,insurance_type,new_tech_flag,total_cost,fund_paid,drug_cost,material_cost\n";

fuzz_target!(|data: &[u8]| {
    let (national, _) = common::schemes();
    let mut input = HEADER.as_bytes().to_vec();
    input.extend_from_slice(data);
    let mut out = Vec::new();
    let stats = run_batch(
        &input[..],
        b"",
        &mut out,
        None,
        |cols, row, buf, probs| {
            match row.read(cols, &national.catalog) {
                RowOutcome::Valid(r) => {
                    group(national, &r.case(), &mut Trace::enabled());
                }
                RowOutcome::Invalid { problems, .. } => {
                    assert!(!problems.is_empty());
                    probs.extend(problems);
                }
            }
            buf.push(b'\n');
            0
        },
        |_| {},
    );
    if let Ok(stats) = stats {
        assert_eq!(stats.rows as usize, out.len());
    }
});
