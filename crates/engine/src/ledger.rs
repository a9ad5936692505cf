//! The book of record as tables: the settled cases with what priced them and the run that
//! settled them, and the runs with what they read (`drgdip ledger cases|runs`, the API).

use drgdip_pay::money::{Fen, W4};
use drgdip_store::{LedgerCase, SettlementRun};

/// The columns of a settled case.
pub const CASE_COLUMNS: [&str; 19] = [
    "case_id",
    "hospital_id",
    "month",
    "scheme",
    "scheme_version",
    "status",
    "mdc",
    "adrg",
    "group",
    "insured",
    "category",
    "weight",
    "dip_score",
    "total_cost",
    "payment",
    "own",
    "fund_due",
    "fund_paid",
    "run_id",
];

/// A settled case as a row of [`CASE_COLUMNS`] (amounts to the fen, weights to 4 decimals).
pub fn case_row(c: &LedgerCase) -> Vec<String> {
    let (k, p) = (&c.case, &c.case.pricing);
    vec![
        k.case_id.clone(),
        k.hospital_id.clone(),
        k.discharge_month.to_string(),
        p.scheme.clone(),
        p.scheme_version.clone(),
        p.status.clone(),
        p.mdc.clone(),
        p.adrg.clone(),
        p.group.clone(),
        p.insured.to_string(),
        k.category.to_string(),
        k.weight.map(|w| W4(w).to_string()).unwrap_or_default(),
        k.dip_score.map(|s| s.to_string()).unwrap_or_default(),
        Fen(k.total_cost).to_string(),
        Fen(k.payment).to_string(),
        Fen(k.own).to_string(),
        Fen(k.fund_due).to_string(),
        Fen(k.fund_paid).to_string(),
        c.run_id.to_string(),
    ]
}

/// The columns of a settlement run.
pub const RUN_COLUMNS: [&str; 19] = [
    "run_id",
    "month",
    "at",
    "actor",
    "role",
    "cases",
    "statements",
    "fund_due_total",
    "amount_due_total",
    "replaced_cases",
    "replaced_statements",
    "program_version",
    "method",
    "case_file",
    "case_file_sha256",
    "params_file",
    "params_sha256",
    "weights_file",
    "weights_sha256",
];

/// A run as a row of [`RUN_COLUMNS`].
pub fn run_row(r: &SettlementRun) -> Vec<String> {
    let i = &r.inputs;
    vec![
        r.run_id.to_string(),
        r.month.to_string(),
        r.at.clone(),
        r.actor.clone(),
        r.role.clone(),
        r.cases.to_string(),
        r.statements.to_string(),
        Fen(r.fund_due_total).to_string(),
        Fen(r.amount_due_total).to_string(),
        r.replaced_cases.to_string(),
        r.replaced_statements.to_string(),
        i.program_version.clone(),
        i.method.clone(),
        i.case_file.clone(),
        i.case_file_sha256.clone(),
        i.params_file.clone(),
        i.params_sha256.clone(),
        i.weights_file.clone(),
        i.weights_sha256.clone(),
    ]
}

/// A row as one JSON object, the columns as keys, every value text (amounts stay exact).
pub fn json_object(columns: &[&str], row: &[String]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = columns
        .iter()
        .zip(row)
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_object_escapes_what_json_requires() {
        let row = vec!["a\"b\\c\n".to_string(), "医保\u{1}".to_string()];
        assert_eq!(
            json_object(&["k", "v"], &row),
            r#"{"k":"a\"b\\c\n","v":"医保\u0001"}"#
        );
    }
}
