//! End-to-end tests of the exclusion mechanism (除外机制, `payment-model.md` §2 rule 4,
//! revision 2) with the built binary: the dev cases paid with the province's catalogue
//! against the same cases paid with an empty catalogue (no excluded case is paid less than
//! its ordinary payment, every other case is paid the same), `drgdip exclusions check` on the
//! shipped catalogue, on a broken one, and over the dev cases, and `pay` refusing a broken
//! catalogue. The parameter and hospitals files are copies this build reads
//! (`common::fixture`). Every test prints a note and passes when the shared data is absent.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use rust_decimal::Decimal;

mod common;

use common::{drgdip, fixture, read_csv, shared, tempdir};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("not a decimal: {text:?}"))
}

fn run_ok(shared: &Path, args: &[&str]) -> (String, String) {
    let out = drgdip(shared, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "drgdip {args:?} failed:\n{stderr}");
    (String::from_utf8_lossy(&out.stdout).to_string(), stderr)
}

const CATALOGUE: &str = "params/fujian-exclusion-catalogue-2025.csv";

#[test]
fn no_excluded_dev_case_is_paid_less_than_its_ordinary_payment_and_check_counts_the_same() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("exclusion-dev");
    let params = fixture::params(&shared, &dir, "params.toml");
    let hospitals = fixture::hospitals(&shared, &dir);
    let t = shared.join("testdata/chs-drg-2.0");
    let dev = t.join("dev/cases.csv");
    let weights = dir.join("weights.csv");
    run_ok(
        &shared,
        &[
            "weights",
            "--history",
            s(&t.join("history-2024/cases.csv")),
            "--params",
            s(&params),
            "-o",
            s(&weights),
            "-q",
        ],
    );
    // The same parameters with an empty catalogue: every case is paid by the ordinary rules.
    let empty = dir.join("empty-catalogue.csv");
    std::fs::write(
        &empty,
        "code,kind,name,valid_from,valid_to,form,bonus,adrgs\n",
    )
    .unwrap();
    let text = std::fs::read_to_string(&params).unwrap();
    let catalogue = shared.join(CATALOGUE).display().to_string();
    assert!(text.contains(&catalogue), "the fixture names the catalogue");
    let plain_params = dir.join("plain.toml");
    std::fs::write(&plain_params, text.replace(&catalogue, s(&empty))).unwrap();

    let pay = |params: &Path, out: &Path| {
        run_ok(
            &shared,
            &[
                "pay",
                "--params",
                s(params),
                "--hospitals",
                s(&hospitals),
                "--weights",
                s(&weights),
                "-i",
                s(&dev),
                "-o",
                s(out),
                "--trace",
            ],
        )
        .1
    };
    let with = dir.join("with.csv");
    let without = dir.join("without.csv");
    let stderr = pay(&params, &with);
    pay(&plain_params, &without);
    let with = read_csv(&with);
    let without = read_csv(&without);
    assert_eq!(with.len(), 20_000);
    assert_eq!(with.len(), without.len());

    let (mut excluded, mut larger) = (0u64, 0u64);
    let (mut extra_payment, mut extra_fund_due) = (Decimal::ZERO, Decimal::ZERO);
    for (e, o) in with.iter().zip(&without) {
        assert_eq!(e["case_id"], o["case_id"]);
        let (payment, ordinary) = (dec(&e["payment"]), dec(&o["payment"]));
        let (due, ordinary_due) = (dec(&e["fund_due"]), dec(&o["fund_due"]));
        if e["category"] != "excluded" {
            // A case without an applicable item is paid exactly as with no exclusion.
            assert_eq!(
                (&e["category"], payment, due),
                (&o["category"], ordinary, ordinary_due),
                "{}",
                e["rules"]
            );
            continue;
        }
        excluded += 1;
        assert!(payment >= ordinary, "{}: {}", e["case_id"], e["rules"]);
        assert!(due >= ordinary_due, "{}: {}", e["case_id"], e["rules"]);
        // The rule lines name the ordinary payment of the run without the catalogue.
        assert!(
            e["rules"].contains(&format!("max(ordinary {ordinary}, exclusion ")),
            "{}: {}",
            e["case_id"],
            e["rules"]
        );
        larger += u64::from(payment > ordinary);
        extra_payment += payment - ordinary;
        extra_fund_due += due - ordinary_due;
    }
    assert_eq!((excluded, larger), (110, 103), "{stderr}");
    assert!(
        stderr.contains(
            "exclusions (除外): 110 case(s) excluded, 103 paid the exclusion payment and 7 their ordinary payment"
        ),
        "{stderr}"
    );
    // 65 cases name items none of which applies; 8 are flagged without an item (one of them
    // cross-province, so 7 reach rule 4).
    assert!(
        stderr.contains("65 case(s) named items none of which applied; 7 case(s) flagged"),
        "{stderr}"
    );

    // `exclusions check` over the same cases counts the same cases and the same cost.
    let (report, _) = run_ok(
        &shared,
        &[
            "exclusions",
            "check",
            "--catalogue",
            s(&shared.join(CATALOGUE)),
            "--params",
            s(&params),
            "--hospitals",
            s(&hospitals),
            "--weights",
            s(&weights),
            "--input",
            s(&dev),
            "--format",
            "csv",
            "-q",
        ],
    );
    let path = dir.join("check.csv");
    std::fs::write(&path, &report).unwrap();
    let rows = read_csv(&path);
    let by_code: HashMap<&str, &HashMap<String, String>> =
        rows.iter().map(|r| (r["code"].as_str(), r)).collect();
    // The ten items in catalogue order, then the three codes the cases name that it lacks.
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str()).collect();
    assert_eq!(
        codes,
        [
            "XL01XX-EX001",
            "XL01EX-EX002",
            "C0301-EX003",
            "C0302-EX004",
            "C0303-EX005",
            "T-EX006",
            "T-EX007",
            "XL04AX-EX008",
            "C0304-EX009",
            "XB01AX-EX010",
            "C0399-ZZ902",
            "T-ZZ903",
            "XL01XX-ZZ901"
        ]
    );
    let sum = |column: &str| -> Decimal { rows.iter().map(|r| dec(&r[column])).sum() };
    assert_eq!(sum("decided"), Decimal::from(excluded));
    assert_eq!(sum("exclusion_larger"), Decimal::from(larger));
    // The per-case amounts are rounded one by one in the pay output, the report's once.
    let tolerance = Decimal::new(1, 2) * Decimal::from(excluded);
    assert!((sum("extra_payment") - extra_payment).abs() <= tolerance);
    assert!((sum("extra_fund_due") - extra_fund_due).abs() <= tolerance);
    // Every naming is counted once: decided, also applicable, failed or an earlier rule.
    for r in &rows {
        let parts: Decimal = [
            "decided",
            "also_applicable",
            "unlisted",
            "expired",
            "not_yet_valid",
            "out_of_scope",
            "no_discharge_date",
            "earlier_rule",
        ]
        .iter()
        .map(|c| dec(&r[*c]))
        .sum();
        assert_eq!(parts, dec(&r["named"]), "{r:?}");
    }
    // What the shipped cases do: XL04AX-EX008 expired on 2025-06-30 for 3 cases,
    // C0304-EX009 was not yet valid before 2025-07-01 for 7, the TAVI device and the
    // anticoagulant are named outside their ADRGs, the ZZ codes are not listed.
    assert_eq!(by_code["XL04AX-EX008"]["expired"], "3");
    assert_eq!(by_code["C0304-EX009"]["not_yet_valid"], "7");
    assert_eq!(by_code["C0301-EX003"]["out_of_scope"], "21");
    assert_eq!(by_code["XB01AX-EX010"]["out_of_scope"], "21");
    assert_eq!(by_code["T-ZZ903"]["unlisted"], "6");
    assert_eq!(by_code["T-ZZ903"]["form"], "");
    assert_eq!(by_code["XL01EX-EX002"]["bonus"], "0.30");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_lists_a_valid_catalogue_and_every_problem_of_a_broken_one() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("exclusion-check");
    let shipped = shared.join(CATALOGUE);
    let (table, _) = run_ok(
        &shared,
        &[
            "exclusions",
            "check",
            "--catalogue",
            s(&shipped),
            "--scheme",
            "fujian-2024",
        ],
    );
    assert!(
        table.contains("valid; 10 items: 3 per_item, 3 item_cost, 4 weight_bonus; ADRG codes known to fujian-2024"),
        "{table}"
    );
    assert!(table.contains("XL04AX-EX008"), "{table}");

    // Broken lines, one kind of problem each, and an ADRG the scheme does not have.
    let text = std::fs::read_to_string(&shipped).unwrap();
    let broken = text
        .replace(
            "2025-01-01,2025-12-31,weight_bonus,0.30",
            "2025-01-01,2025-12-31,weight_bonus,",
        )
        .replace(
            "2024-01-01,2025-06-30,per_item",
            "2025-07-01,2025-06-30,per_item",
        )
        .replace("T-EX007,technique", "T-EX007,procedure")
        .replace("FM1|FM2|FL1|FB1|FB2|FC1", "FM1|FM2|FL1|FB1|FB2|ZZ9")
        .replace("C0304-EX009,device", "C0302-EX004,device");
    assert_ne!(broken, text);
    let path = dir.join("broken.csv");
    std::fs::write(&path, &broken).unwrap();
    for format in ["table", "csv"] {
        let out = drgdip(
            &shared,
            &[
                "exclusions",
                "check",
                "--catalogue",
                s(&path),
                "--scheme",
                "fujian-2024",
                "--format",
                format,
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{format}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("has 5 problem(s)"), "{stderr}");
        let expected: [&str; 5] = match format {
            "table" => [
                "line 3, bonus \"\": missing: the weight_bonus form needs a bonus",
                "line 4, adrgs \"ZZ9\": ZZ9 is not an ADRG of the scheme fujian-2024",
                "line 8, kind \"procedure\": expected one of drug, device, technique",
                "line 9, valid_to \"2025-06-30\": valid_to is before valid_from 2025-07-01",
                "line 10, code \"C0302-EX004\": duplicate code: already listed on line 5",
            ],
            _ => [
                "3,bonus,,\"missing: the weight_bonus form needs a bonus",
                "4,adrgs,ZZ9,ZZ9 is not an ADRG of the scheme fujian-2024",
                "8,kind,procedure,\"expected one of drug, device, technique\"",
                "9,valid_to,2025-06-30,valid_to is before valid_from 2025-07-01",
                "10,code,C0302-EX004,duplicate code: already listed on line 5",
            ],
        };
        for e in expected {
            assert!(stdout.contains(e), "{format}: {e}\n{stdout}");
        }
    }

    // pay refuses to pay with a broken catalogue, naming the file and the lines.
    let params = fixture::params(&shared, &dir, "params.toml");
    let text = std::fs::read_to_string(&params).unwrap();
    let bad_params = dir.join("bad.toml");
    std::fs::write(
        &bad_params,
        text.replace(&shipped.display().to_string(), s(&path)),
    )
    .unwrap();
    let hospitals = fixture::hospitals(&shared, &dir);
    let weights = dir.join("w.csv");
    std::fs::write(&weights, "drg,weight\nFR59,1.0000\n").unwrap();
    let pay = |params: &Path| {
        drgdip(
            &shared,
            &[
                "pay",
                "--params",
                s(params),
                "--hospitals",
                s(&hospitals),
                "--weights",
                s(&weights),
                "-i",
                s(&shared.join("testdata/chs-drg-2.0/dev/cases.csv")),
                "-o",
                s(&dir.join("out.csv")),
                "-q",
            ],
        )
    };
    let o = pay(&bad_params);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("exclusion.catalogue"), "{stderr}");
    assert!(stderr.contains("broken.csv: 5 problem(s)"), "{stderr}");
    assert!(stderr.contains("line 10, code \"C0302-EX004\""), "{stderr}");
    // A catalogue that is not there is named.
    let missing = dir.join("missing.toml");
    std::fs::write(
        &missing,
        text.replace(
            &shipped.display().to_string(),
            s(&dir.join("no-such-catalogue.csv")),
        ),
    )
    .unwrap();
    let o = pay(&missing);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-catalogue.csv"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_new_tech_items_entry_is_a_named_problem_of_its_row_only() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("exclusion-items");
    let params = fixture::params(&shared, &dir, "params.toml");
    let hospitals = fixture::hospitals(&shared, &dir);
    let weights = dir.join("w.csv");
    std::fs::write(&weights, "drg,weight\nFR59,1.0000\n").unwrap();
    let header = "case_id,hospital_id,gender,age,los,diagnoses,discharge_date,insured_region,new_tech_flag,new_tech_items,total_cost,fund_paid";
    let cases = dir.join("cases.csv");
    std::fs::write(
        &cases,
        format!(
            "{header}\n\
             A1,H001,1,38,5,I24.001,2025-03-01,350100,1,T-EX006:5000.00,30000.00,20000.00\n\
             A2,H001,1,38,5,I24.001,2025-03-01,350100,1,T-EX006:5000.001,30000.00,20000.00\n\
             A3,H001,1,38,5,I24.001,2025-03-01,350100,1,T-EX006,30000.00,20000.00\n"
        ),
    )
    .unwrap();
    let out = dir.join("pay.csv");
    let errors = dir.join("errors.csv");
    run_ok(
        &shared,
        &[
            "pay",
            "--params",
            s(&params),
            "--hospitals",
            s(&hospitals),
            "--weights",
            s(&weights),
            "-i",
            s(&cases),
            "-o",
            s(&out),
            "-e",
            s(&errors),
            "-q",
        ],
    );
    let rows = read_csv(&out);
    let categories: Vec<&str> = rows.iter().map(|r| r["category"].as_str()).collect();
    assert_eq!(categories, ["excluded", "invalid", "invalid"]);
    let problems = read_csv(&errors);
    let got: Vec<(&str, &str, &str)> = problems
        .iter()
        .map(|p| (p["line"].as_str(), p["field"].as_str(), p["value"].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("3", "new_tech_items", "T-EX006:5000.001"),
            ("4", "new_tech_items", "T-EX006")
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
