//! `drgdip special-cases` on the shipped data (`$DRGDIP_SHARED`): a DIP region's quarter
//! settled through the engine (`drgdip settle --library`), an application beyond 5‰ of the
//! region's DIP-settled cases refused with the numbers and one within it accepted with the
//! cases' DIP records; and a DRG round from the command line — submit, the experts' reviews,
//! the spot check whose reversal is an adjustment, the notice. Passes with a note when the
//! shared directory is absent.

use std::path::Path;

use drgdip_settle::Period;
use drgdip_store::Store;

mod common;

use common::ledger::{block_on, data, run_ok, s};
use common::{drgdip, shared, tempdir};

/// Runs drgdip and expects a refusal (exit 2); stderr.
fn run_refused(shared: &Path, args: &[&str]) -> String {
    let out = drgdip(shared, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "drgdip {args:?}: {stderr}");
    stderr
}

/// The settled, paid cases of `hospital` in `period`, sorted, and the region's count.
fn ledger_cases(db: &str, period: &str, hospital: &str) -> (Vec<String>, u64) {
    block_on(async {
        let store = Store::open(db).await.unwrap();
        let p: Period = period.parse().unwrap();
        let all = store.settled_cases_in(p, None).await.unwrap();
        store.close().await;
        let valid: Vec<_> = all
            .iter()
            .filter(|c| c.category != drgdip_pay::Category::Invalid)
            .collect();
        let mut mine: Vec<String> = valid
            .iter()
            .filter(|c| c.hospital_id == hospital && c.category == drgdip_pay::Category::Normal)
            .map(|c| c.case_id.clone())
            .collect();
        mine.sort();
        (mine, valid.len() as u64)
    })
}

#[test]
fn a_dip_application_beyond_five_per_mille_of_the_regions_dip_cases_is_refused_with_the_numbers() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("special-dip");
    let library = dir.join("lib-2025");
    let params = shared.join("params/region-350100-2025-dip.toml");
    let data_dir = shared.join("testdata/chs-drg-2.0");
    let hospitals = data_dir.join("hospitals.csv");
    let cases = data_dir.join("dev/cases.csv");
    run_ok(
        &shared,
        &[
            "dip",
            "build",
            "--history",
            s(&data_dir.join("history-2024/cases.csv")),
            "--params",
            s(&params),
            "--output",
            s(&library),
            "-q",
        ],
    );
    let db = format!("sqlite://{}", dir.join("dip.db").display());
    for month in ["2025-04", "2025-05"] {
        run_ok(
            &shared,
            &[
                "settle",
                "--month",
                month,
                "--params",
                s(&params),
                "--hospitals",
                s(&hospitals),
                "--library",
                s(&library),
                "--input",
                s(&cases),
                "--db",
                &db,
                "-q",
            ],
        );
    }
    let (mine, region) = ledger_cases(&db, "2025Q2", "H001");
    let cap = region * 5 / 1000; // floor(5‰ × the region's DIP-settled cases so far)
    assert!(cap >= 2 && mine.len() as u64 > cap, "{cap} {}", mine.len());
    let common = [
        "special-cases",
        "--params",
        s(&params),
        "--hospitals",
        s(&hospitals),
        "--library",
        s(&library),
        "--db",
        &db,
    ];
    let submit = |ids: &[String]| {
        let mut args: Vec<&str> = common.to_vec();
        args.extend([
            "submit",
            "--as-hospital",
            "H001",
            "--period",
            "2025Q2",
            "--reason",
            "complex_critical",
            "--text",
            "multi-organ failure, 30 days in ICU",
            "--records",
            s(&cases),
        ]);
        for id in ids {
            args.extend(["--case", id.as_str()]);
        }
        args.into_iter()
            .map(str::to_string)
            .collect::<Vec<String>>()
    };
    let args = submit(&mine[..cap as usize + 1]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = run_refused(&shared, &args);
    for part in [
        "quota exceeded".to_string(),
        format!("{} cases requested", cap + 1),
        format!("{cap} remaining of the cap {cap}"),
        format!("floor(0.5% × the region's {region} DIP-settled cases) = {cap}"),
    ] {
        assert!(err.contains(&part), "{part}: {err}");
    }
    // within the quota: accepted, each case with its DIP record
    let args = submit(&mine[..2]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, _) = run_ok(&shared, &args);
    assert!(
        out.starts_with("SC-000001 H001 2025Q2 complex_critical: 2 cases, submitted"),
        "{out}"
    );
    assert!(
        out.contains(&format!("used 0, remaining {cap}, requested 2")),
        "{out}"
    );
    let mut args = common.to_vec();
    args.extend(["show", "--id", "SC-000001"]);
    let (json, _) = run_ok(&shared, &args);
    let app: serde_json::Value = serde_json::from_str(&json).unwrap();
    let record = &app["cases"][0]["record"];
    assert!(!record["group"].as_str().unwrap().is_empty(), "{record}");
    assert!(record["standard"].is_string(), "{record}");
    // the rest of Q2 settled: the cap grows with the cases settled so far
    run_ok(
        &shared,
        &[
            "settle",
            "--month",
            "2025-06",
            "--params",
            s(&params),
            "--hospitals",
            s(&hospitals),
            "--library",
            s(&library),
            "--input",
            s(&cases),
            "--db",
            &db,
            "-q",
        ],
    );
    let (_, quarter) = ledger_cases(&db, "2025Q2", "H001");
    assert!(quarter > region);
    let args = submit(&mine[2..(quarter * 5 / 1000) as usize]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(&shared, &args);
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_drg_review_round_from_the_command_line() {
    let Some(d) = data() else { return };
    let dir = tempdir("special-drg");
    let weights = dir.join("weights.csv");
    run_ok(
        &d.shared,
        &[
            "weights",
            "--history",
            s(&d.history),
            "--params",
            s(&d.params),
            "--output",
            s(&weights),
            "-q",
        ],
    );
    let db = format!("sqlite://{}", dir.join("ledger.db").display());
    let settle = |month: &str| {
        run_ok(
            &d.shared,
            &[
                "settle",
                "--month",
                month,
                "--params",
                s(&d.params),
                "--hospitals",
                s(&d.hospitals),
                "--weights",
                s(&weights),
                "--input",
                s(&d.cases),
                "--db",
                &db,
                "-q",
            ],
        )
    };
    settle("2025-04");
    let (mine, _) = ledger_cases(&db, "2025Q2", "H001");
    let experts = d.shared.join("testdata/chs-drg-2.0/experts.csv");
    let sc = |rest: &[&str]| {
        let mut args = vec![
            "special-cases",
            "--params",
            s(&d.params),
            "--hospitals",
            s(&d.hospitals),
            "--weights",
            s(&weights),
            "--experts",
            s(&experts),
            "--db",
            &db,
        ];
        args.extend_from_slice(rest);
        run_ok(&d.shared, &args).0
    };
    let out = sc(&[
        "submit",
        "--as-hospital",
        "H001",
        "--period",
        "2025Q2",
        "--reason",
        "high_cost",
        "--text",
        "ECMO for 21 days",
        "--records",
        s(&d.cases),
        "--case",
        &mine[0],
        "--case",
        &mine[1],
    ]);
    assert!(
        out.contains("pooled quota: cap floor(5% × the region's"),
        "{out}"
    );
    assert!(
        out.contains(&format!("SC-000001-01 = case {}", mine[0])),
        "{out}"
    );
    // a conflict of interest: E020 works at H001
    let mut args = vec![
        "special-cases",
        "--params",
        s(&d.params),
        "--hospitals",
        s(&d.hospitals),
        "--weights",
        s(&weights),
        "--experts",
        s(&experts),
        "--db",
        &db,
    ];
    args.extend([
        "assign",
        "--id",
        "SC-000001",
        "--reviewer",
        "E020",
        "--reviewer",
        "E003",
    ]);
    let err = run_refused(&d.shared, &args);
    assert!(
        err.contains("expert E020 works at the applying hospital"),
        "{err}"
    );
    sc(&[
        "assign",
        "--id",
        "SC-000001",
        "--reviewer",
        "E001",
        "--reviewer",
        "E003",
    ]);
    let agree = write(
        &dir,
        "e001.csv",
        "case,outcome,points,reason\nSC-000001-01,per_item,,ECMO justified\nSC-000001-02,per_item,,devices justified\n",
    );
    let differ = write(
        &dir,
        "e003.csv",
        "case,outcome,points,reason\nSC-000001-01,per_item,,ECMO justified\nSC-000001-02,rejected,,within the group's range\n",
    );
    sc(&[
        "review",
        "--id",
        "SC-000001",
        "--as-reviewer",
        "E001",
        "--opinions",
        &agree,
    ]);
    let out = sc(&[
        "review",
        "--id",
        "SC-000001",
        "--as-reviewer",
        "E003",
        "--opinions",
        &differ,
    ]);
    assert!(
        out.contains("disagree on SC-000001-02: the second review decides"),
        "{out}"
    );
    let blind = sc(&["show", "--id", "SC-000001", "--as-reviewer", "E001"]);
    assert!(
        !blind.contains("H001") && !blind.contains(&mine[0]),
        "{blind}"
    );
    sc(&["assign", "--id", "SC-000001", "--reviewer", "E009"]);
    let decide = write(
        &dir,
        "e009.csv",
        "case,outcome,points,reason\nSC-000001-01,per_item,,agreed\nSC-000001-02,extra_points,50,devices beyond the standard\n",
    );
    let out = sc(&[
        "review",
        "--id",
        "SC-000001",
        "--as-reviewer",
        "E009",
        "--opinions",
        &decide,
    ]);
    assert!(out.contains("decided"), "{out}");
    settle("2025-04"); // the approvals flow into the month
    let out = sc(&["spot-check", "draw", "--half", "2025H1", "--seed", "7"]);
    assert!(
        out.starts_with("2025H1: 1 of 2 decided cases drawn"),
        "{out}"
    );
    let token = out
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    sc(&[
        "spot-check",
        "assign",
        "--id",
        "SC-000001",
        "--case",
        &token,
        "--reviewer",
        "E027",
    ]);
    let reverse = write(
        &dir,
        "e027.csv",
        &format!("case,outcome,points,reason\n{token},rejected,,not beyond the group\n"),
    );
    let out = sc(&[
        "review",
        "--id",
        "SC-000001",
        "--as-reviewer",
        "E027",
        "--opinions",
        &reverse,
    ]);
    assert!(out.contains("pending for the next statement"), "{out}");
    settle("2025-05");
    let out = sc(&["notice", "--half", "2025H1"]);
    assert!(
        out.contains("H001 2025H1: 2 cases applied for in 1 applications; 1 approved, 1 rejected, 0 withdrawn, 0 pending; spot checks: 1 drawn, 1 re-reviewed, 1 reversed"),
        "{out}"
    );
    assert!(out.contains("spot-check seeds: 7"), "{out}");
    let out = sc(&["rounds", "--period", "2025Q2", "--today", "2025-07-20"]);
    assert!(
        out.contains("round 2025Q2 (cases through 2025-06): applications 2025-07-11 – 2025-07-31, reviewed by 2025-08-31"),
        "{out}"
    );
}
