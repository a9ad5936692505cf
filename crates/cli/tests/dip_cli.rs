//! `drgdip dip build|score|point-value` end to end, with the built binary: a library from the
//! 2024 history (files, core groups, byte-identical across builds), the 2025 dev cases scored
//! with the budget point value (one row per input row; Σ fund_due of the local and in-province
//! cases at the year's value = the DIP budget within one yuan; cross-province cases outside it,
//! per item; fund_due = max(0, payment − own)), every fallback on a small crafted library, and
//! a bad parameter file. The tests skip with a note when the shared data is absent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::str::FromStr;
use std::sync::OnceLock;

mod common;

use common::{drgdip, read_csv, shared, tempdir};

use rust_decimal::Decimal;

fn testdata(shared: &Path, rel: &str) -> String {
    shared
        .join("testdata/chs-drg-2.0")
        .join(rel)
        .display()
        .to_string()
}

fn params(shared: &Path) -> String {
    shared
        .join("params/region-350100-2025-dip.toml")
        .display()
        .to_string()
}

fn ok(o: Output, what: &str) -> Output {
    assert!(
        o.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

type Row = HashMap<String, String>;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("not a decimal: {s:?}"))
}

/// `key → value` of a library's summary.csv.
fn summary(lib: &Path) -> HashMap<String, String> {
    read_csv(&lib.join("summary.csv"))
        .into_iter()
        .map(|r| (r["key"].clone(), r["value"].clone()))
        .collect()
}

fn build(shared: &Path, history: &str, dir: &Path) -> Output {
    ok(
        drgdip(
            shared,
            &[
                "dip",
                "build",
                "--history",
                history,
                "--params",
                &params(shared),
                "--output",
                p(dir),
            ],
        ),
        "dip build",
    )
}

/// The library built once from the 2024 history, shared by the tests.
fn library_2024(shared: &Path) -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = tempdir("lib-2024");
        build(shared, &testdata(shared, "history-2024/cases.csv"), &dir);
        dir
    })
}

#[test]
fn the_library_from_the_2024_history_is_written_and_deterministic() {
    let Some(shared) = shared() else { return };
    let a = library_2024(&shared);
    let b = tempdir("lib-2024-again");
    let o = build(&shared, &testdata(&shared, "history-2024/cases.csv"), &b);
    let printed = String::from_utf8_lossy(&o.stdout);
    assert!(printed.contains("core groups"), "{printed}");
    for f in ["groups.csv", "aux_coefficients.csv", "summary.csv"] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(!x.is_empty(), "{f} is empty");
        assert!(x == y, "{f} differs between two builds of the same history");
    }
    let s = summary(a);
    assert_eq!(s["history_cases"], "100000");
    let core: usize = s["core_groups"].parse().unwrap();
    assert!(core > 0, "no core group");
    let groups = read_csv(&a.join("groups.csv"));
    assert_eq!(groups.iter().filter(|g| g["kind"] == "core").count(), core);
    // Ten auxiliary rows per core group.
    assert_eq!(read_csv(&a.join("aux_coefficients.csv")).len(), 10 * core);
    // Every used case is in exactly one payment group.
    let cases: u64 = groups
        .iter()
        .filter(|g| g["kind"] != "region")
        .map(|g| g["cases"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(cases, 100_000);
}

/// Scores `input` with `lib` and the budget point value; checks the end-to-end
/// properties and returns the rows.
fn score_with_budget(shared: &Path, lib: &Path, input: &str, name: &str) -> Vec<Row> {
    let dir = tempdir(name);
    let out = dir.join("scores.csv");
    let o = ok(
        drgdip(
            shared,
            &[
                "dip",
                "score",
                "--library",
                p(lib),
                "--params",
                &params(shared),
                "--hospitals",
                &testdata(shared, "hospitals.csv"),
                "--input",
                input,
                "--output",
                p(&out),
            ],
        ),
        "dip score",
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("Σ max(0, s × pv − own) = budget 480000000.00"),
        "{stderr}"
    );
    assert!(stderr.contains("cross-province (跨省异地"), "{stderr}");
    let rows = read_csv(&out);
    let input_rows = read_csv(Path::new(input));
    assert_eq!(rows.len(), input_rows.len(), "one output row per input row");
    for (r, i) in rows.iter().zip(&input_rows) {
        assert_eq!(r["case_id"], i["case_id"], "input order");
        // Cross-province (insured outside the province prefix 35): outside the point value.
        let cross = !i["insured_region"].is_empty() && !i["insured_region"].starts_with("35");
        let expected = if cross { "cross_province" } else { "scored" };
        assert_eq!(r["status"], expected, "{}", r["case_id"]);
        if cross {
            assert_eq!(r["point_value"], "", "{}", r["case_id"]);
            assert_eq!(dec(&r["payment"]), dec(&i["total_cost"]), "per item");
        }
    }

    let budget = dec("480000000.00");
    let scored: Vec<&Row> = rows.iter().filter(|r| r["status"] == "scored").collect();
    assert!(!scored.is_empty());
    let pv = &scored[0]["point_value"];
    let pv_exact = dec(pv);
    let (mut written, mut exact, mut own_total) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut clamped = 0usize;
    for r in &rows {
        let (payment, own, fund_due) = (dec(&r["payment"]), dec(&r["own"]), dec(&r["fund_due"]));
        assert_eq!(
            fund_due,
            (payment - own).max(Decimal::ZERO),
            "fund_due of {}",
            r["case_id"]
        );
        own_total += own;
        if r["status"] != "scored" {
            continue;
        }
        assert_eq!(&r["point_value"], pv, "one point value for the year");
        let score = dec(&r["case_score"]);
        assert!(score >= Decimal::ZERO);
        written += fund_due;
        // the written score (4 decimals) and own (fen) are exact: Σ fund_due at pv, exact
        exact += (score * pv_exact - own).max(Decimal::ZERO);
        clamped += usize::from(score * pv_exact < own);
    }
    // Σ own over the input: total_cost − fund_paid.
    let own_in: Decimal = input_rows
        .iter()
        .map(|r| dec(&r["total_cost"]) - dec(&r["fund_paid"]))
        .sum();
    assert_eq!(own_total, own_in);
    // Σ fund_due at the year's value is the DIP budget within one yuan (the rounding of pv) …
    let gap = (exact - budget).abs();
    assert!(
        gap < Decimal::ONE,
        "Σ fund_due {exact} vs budget {budget}: gap {gap}"
    );
    // … and the summary says so, with the clamped cases.
    assert!(
        stderr.contains(&format!("{clamped} clamped (s × pv < own)")),
        "{clamped} clamped: {stderr}"
    );
    // Each written fund_due is rounded to the fen: at most half a fen more per case.
    let tolerance = gap + Decimal::new(5, 3) * Decimal::from(scored.len());
    let written_gap = (written - budget).abs();
    assert!(
        written_gap <= tolerance,
        "written Σ fund_due {written} vs budget {budget}: gap {written_gap} > {tolerance}"
    );
    rows
}

#[test]
fn the_dev_cases_scored_at_the_year_s_point_value_spend_the_dip_budget() {
    let Some(shared) = shared() else { return };
    let lib = library_2024(&shared);
    let dev = testdata(&shared, "dev/cases.csv");
    let rows = score_with_budget(&shared, lib, &dev, "score-dev");
    assert_eq!(rows.len(), 20_000);
    let cross = rows
        .iter()
        .filter(|r| r["status"] == "cross_province")
        .count();
    assert!(cross > 0, "the dev cases have cross-province cases");
    for kind in ["core", "comprehensive", "chapter"] {
        assert!(rows.iter().any(|r| r["kind"] == kind), "no {kind} case");
    }
    // The kind agrees with the fallback and the group id.
    for r in &rows {
        let (kind, prefix) = match r["fallback"].as_str() {
            "none" => ("core", "C:"),
            "comprehensive" => ("comprehensive", "Z:"),
            "chapter" => ("chapter", "H:"),
            "region_class" => ("region", "R:"),
            "average" => ("", ""),
            other => panic!("fallback {other:?}"),
        };
        assert_eq!(r["kind"], kind, "{}", r["case_id"]);
        assert!(r["group_id"].starts_with(prefix), "{}", r["case_id"]);
    }
    for d in ["normal", "high", "low"] {
        assert!(rows.iter().any(|r| r["deviation"] == d), "no {d} case");
    }

    // `point-value` prints the same value and how it was computed.
    let o = ok(
        drgdip(
            &shared,
            &[
                "dip",
                "point-value",
                "--library",
                p(lib),
                "--params",
                &params(&shared),
                "--hospitals",
                &testdata(&shared, "hospitals.csv"),
                "--input",
                &dev,
            ],
        ),
        "dip point-value",
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let pv = &rows.iter().find(|r| r["status"] == "scored").unwrap()["point_value"];
    assert!(
        text.contains(&format!(
            "year's point value {pv}: Σ max(0, s × pv − own) = budget 480000000.00"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "cross-province (跨省异地): {cross} case(s), outside the point value"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("over {} case(s)", 20_000 - cross)),
        "{text}"
    );
    let o = ok(
        drgdip(
            &shared,
            &[
                "dip",
                "point-value",
                "--library",
                p(lib),
                "--params",
                &params(&shared),
                "--hospitals",
                &testdata(&shared, "hospitals.csv"),
                "--input",
                &dev,
                "--monthly",
            ],
        ),
        "dip point-value --monthly",
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        text.matches("= budget 480000000.00 / 12 = 40000000.00 over")
            .count(),
        12,
        "{text}"
    );
}

#[test]
fn the_dev_cases_scored_against_their_own_library_spend_the_dip_budget() {
    let Some(shared) = shared() else { return };
    let dev = testdata(&shared, "dev/cases.csv");
    let lib = tempdir("lib-dev");
    build(&shared, &dev, &lib);
    let rows = score_with_budget(&shared, &lib, &dev, "score-dev-own");
    // Scoring its own history, no case needs more than its payment group.
    assert!(rows
        .iter()
        .all(|r| ["none", "comprehensive", "chapter"].contains(&r["fallback"].as_str())));
    let core = rows.iter().filter(|r| r["kind"] == "core").count();
    assert_eq!(core.to_string(), summary(&lib)["core_cases"]);
}

const HEADER: &str = "case_id,hospital_id,hospital_level,gender,age,age_days,birth_weight,admission_weight,dept,los,discharge_way,diagnoses,procedures,vent_hours,discharge_date,insured_region,insurance_type,new_tech_flag,total_cost,fund_paid,drug_cost,material_cost";

fn row(id: &str, hospital: &str, dx: &str, px: &str, cost: &str, fund: &str) -> String {
    format!(
        "{id},{hospital},3,1,50,,,,,5,1,{dx},{px},,2024-06-01,350100,employee,0,{cost},{fund},,\n"
    )
}

#[test]
fn every_fallback_is_named_on_a_small_library() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("fallbacks");
    // History: K80.1 conservative is a core group (20 cases, core_min_cases = 15); K80.2 and
    // K80.3 (8 each) make the comprehensive group K80 conservative; I10 (3) merges into the
    // chapter group I conservative; no surgery at all.
    let mut history = format!("{HEADER}\n");
    for i in 0..20 {
        history.push_str(&row(
            &format!("A{i}"),
            "H001",
            "K80.100",
            "",
            "10000.00",
            "7000.00",
        ));
    }
    for i in 0..8 {
        history.push_str(&row(
            &format!("B{i}"),
            "H001",
            "K80.200",
            "",
            "8000.00",
            "6000.00",
        ));
        history.push_str(&row(
            &format!("C{i}"),
            "H001",
            "K80.300",
            "",
            "12000.00",
            "9000.00",
        ));
    }
    for i in 0..3 {
        history.push_str(&row(
            &format!("D{i}"),
            "H001",
            "I10.x00",
            "",
            "5000.00",
            "4000.00",
        ));
    }
    let history_csv = dir.join("history.csv");
    std::fs::write(&history_csv, history).unwrap();
    let lib = dir.join("lib");
    build(&shared, p(&history_csv), &lib);
    let ids: Vec<String> = read_csv(&lib.join("groups.csv"))
        .into_iter()
        .map(|g| g["group_id"].clone())
        .collect();
    assert_eq!(
        ids,
        [
            "C:K80.1|conservative",
            "Z:K80|conservative",
            "H:I|conservative",
            "R:conservative"
        ]
    );

    let cases = format!(
        "{HEADER}\n{}{}{}{}{}{}{}",
        row("S1", "H001", "K80.100", "", "10000.00", "7000.00"),
        row("S2", "H001", "K80.500", "", "10000.00", "7000.00"),
        row("S3", "H001", "I10.x00x002", "", "5000.00", "4000.00"),
        row("S4", "H001", "J18.900", "", "6000.00", "4000.00"),
        row("S5", "H001", "K80.100", "51.2300", "10000.00", "5000.00"),
        row("S6", "H001", "ZZZ.999", "", "1000.00", "500.00"),
        row("S7", "H999", "K80.100", "", "100000.00", "50000.00"),
    );
    let input = dir.join("cases.csv");
    std::fs::write(&input, cases).unwrap();
    let (out, errors) = (dir.join("scores.csv"), dir.join("errors.csv"));
    ok(
        drgdip(
            &shared,
            &[
                "dip",
                "score",
                "--library",
                p(&lib),
                "--params",
                &params(&shared),
                "--hospitals",
                &testdata(&shared, "hospitals.csv"),
                "--input",
                p(&input),
                "--output",
                p(&out),
                "--errors",
                p(&errors),
                "--point-value",
                "10",
                "--trace",
            ],
        ),
        "dip score on the small library",
    );
    let rows = read_csv(&out);
    let got: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["status"].as_str(),
                r["group_id"].as_str(),
                r["kind"].as_str(),
                r["fallback"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("scored", "C:K80.1|conservative", "core", "none"),
            (
                "scored",
                "Z:K80|conservative",
                "comprehensive",
                "comprehensive"
            ),
            ("scored", "H:I|conservative", "chapter", "chapter"),
            ("scored", "R:conservative", "region", "region_class"),
            ("scored", "", "", "average"),
            ("invalid", "", "", ""),
            ("scored", "C:K80.1|conservative", "core", "none"),
        ]
    );
    // The trace says what was missing.
    assert!(
        rows[1]["reasons"].contains("no group C:K80.5|conservative in the library"),
        "{}",
        rows[1]["reasons"]
    );
    assert!(
        rows[4]["reasons"].contains("no group R:surgery in the library"),
        "{}",
        rows[4]["reasons"]
    );
    // The average fallback scores score_scale; the fixed point value pays score × 10.
    assert_eq!(rows[4]["base_score"], "100.0000");
    assert_eq!(rows[4]["case_score"], "100.0000");
    assert_eq!(rows[4]["payment"], "1000.00");
    assert_eq!(rows[4]["own"], "5000.00");
    assert_eq!(rows[4]["fund_due"], "0.00");
    assert_eq!(rows[0]["point_value"], "10.000000");
    // S7: cost 10 × the group mean is a high-cost case; an unknown hospital with a level in
    // the row takes it.
    assert_eq!(rows[6]["deviation"], "high");
    // Invalid rows are never paid and are reported by line and field.
    assert_eq!(rows[5]["payment"], "");
    assert_eq!(rows[5]["case_score"], "");
    let errs = read_csv(&errors);
    assert_eq!(errs.len(), 1);
    assert_eq!(
        (errs[0]["line"].as_str(), errs[0]["case_id"].as_str()),
        ("7", "S6")
    );
    assert_eq!(errs[0]["field"], "diagnoses");
}

#[test]
fn a_bad_parameter_file_stops_with_the_key_named() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("bad-params");
    let text = std::fs::read_to_string(params(&shared)).unwrap();
    assert!(text.contains("core_min_cases = 15"));
    let bad = dir.join("params.toml");
    std::fs::write(
        &bad,
        text.replace("core_min_cases = 15", "core_min_cases = 0"),
    )
    .unwrap();
    let o = drgdip(
        &shared,
        &[
            "dip",
            "build",
            "--history",
            &testdata(&shared, "dev/cases.csv"),
            "--params",
            p(&bad),
            "--output",
            p(&dir.join("lib")),
        ],
    );
    assert!(!o.status.success(), "a bad parameter file must fail");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("dip.core_min_cases"), "{stderr}");
    assert!(!dir.join("lib").exists(), "nothing written");

    // The budget point value over standard input is fine (one pass, then the temporary file),
    // but a point value needs scores: an empty input is an error that says so.
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, format!("{HEADER}\n")).unwrap();
    let lib = library_2024(&shared);
    let o = drgdip(
        &shared,
        &[
            "dip",
            "score",
            "--library",
            p(lib),
            "--params",
            &params(&shared),
            "--hospitals",
            &testdata(&shared, "hospitals.csv"),
            "--input",
            p(&empty),
            "--output",
            p(&dir.join("scores.csv")),
        ],
    );
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("Σ case scores"), "{stderr}");
}
