//! End-to-end tests of `drgdip opinions …` (意见收集反馈) and `drgdip working-group …`
//! (医保数据工作组) over a fresh SQLite ledger, with the shipped hospitals file
//! (`$DRGDIP_SHARED`, default `../shared`; skipped with a note when absent).

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::{shared, tempdir};

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(args)
        .args(["--db", db])
        .output()
        .expect("run drgdip")
}

fn ok(db: &str, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "drgdip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn refused(db: &str, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(!out.status.success(), "drgdip {args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn an_opinion_is_submitted_classified_forwarded_answered_closed_and_counted() {
    let dir = tempdir("opinions");
    let db = format!("sqlite://{}", dir.join("ledger.db").display());
    let out = ok(
        &db,
        &[
            "opinions",
            "submit",
            "--hospital",
            "H001",
            "--user",
            "h001-office",
            "--topic",
            "grouping",
            "--about",
            "GB25",
            "--text",
            "胃切除术病例多入组GB25",
            "--author",
            "林医生",
            "--today",
            "2025-07-02",
        ],
    );
    assert_eq!(
        out.trim(),
        "OP-000001 submitted by H001 (h001-office) on 2025-07-02"
    );
    // a grouping opinion names its group or case
    let e = refused(
        &db,
        &[
            "opinions",
            "submit",
            "--hospital",
            "H002",
            "--topic",
            "grouping",
            "--text",
            "x",
        ],
    );
    assert!(e.contains("about: empty"), "{e}");
    ok(
        &db,
        &[
            "opinions",
            "classify",
            "OP-000001",
            "--topic",
            "grouping",
            "--level",
            "provincial",
            "--today",
            "2025-07-03",
        ],
    );
    // the province's business is forwarded before an answer is recorded
    let e = refused(
        &db,
        &[
            "opinions",
            "answer",
            "OP-000001",
            "--text",
            "no",
            "--today",
            "2025-07-04",
        ],
    );
    assert!(e.contains("forwarded before its answer"), "{e}");
    ok(
        &db,
        &[
            "opinions",
            "forward",
            "OP-000001",
            "--channel",
            "闽医保函〔2025〕12号",
            "--today",
            "2025-07-05",
        ],
    );
    ok(
        &db,
        &[
            "opinions",
            "answer",
            "OP-000001",
            "--text",
            "省局答复",
            "--today",
            "2025-08-01",
        ],
    );
    ok(
        &db,
        &["opinions", "close", "OP-000001", "--today", "2025-08-02"],
    );
    let show = ok(&db, &["opinions", "show", "OP-000001"]);
    assert!(
        show.contains("forwarded to the provincial bureau on 2025-07-05"),
        "{show}"
    );
    assert!(
        show.contains("answered (provincial) on 2025-08-01 by bureau: 省局答复"),
        "{show}"
    );
    let csv = ok(&db, &["opinions", "list", "--format", "csv"]);
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("id,hospital_id,submitted_on,topic"));
    let row = lines.next().unwrap();
    assert!(row.starts_with("OP-000001,H001,2025-07-02,grouping,GB25,closed,provincial,provincial,2025-07-05,2025-08-01"), "{row}");
    assert!(lines.next().is_none());
    let counts = ok(
        &db,
        &[
            "opinions",
            "counts",
            "--from",
            "2025-07-01",
            "--to",
            "2025-09-30",
        ],
    );
    assert!(counts.contains("by status: closed 1"), "{counts}");
    let none = ok(
        &db,
        &[
            "opinions",
            "counts",
            "--from",
            "2025-10-01",
            "--to",
            "2025-12-31",
        ],
    );
    assert!(
        none.starts_with("opinions submitted 2025-10-01 – 2025-12-31: 0"),
        "{none}"
    );
    // an unknown topic is named
    let e = refused(
        &db,
        &[
            "opinions",
            "classify",
            "OP-000001",
            "--topic",
            "grouping2",
            "--level",
            "local",
        ],
    );
    assert!(
        e.contains("--topic \"grouping2\": expected one of grouping, technical, pricing, other"),
        "{e}"
    );
}

fn roster(dir: &Path, name: &str, members: &[(&str, &str)]) -> String {
    let mut text = String::from("member_id,name,hospital_id,title\n");
    for (id, h) in members {
        text.push_str(&format!("{id},成员{id},{h},主任医师\n"));
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_roster_is_checked_against_levels_kinds_and_last_year_and_recorded() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("working-group");
    let db = format!("sqlite://{}", dir.join("ledger.db").display());
    let hospitals = shared.join("testdata/chs-drg-2.0/hospitals.csv");
    let hospitals = hospitals.to_str().unwrap();
    // H001 general level 3, H003 specialty 3, H009 general 2, H014 tcm 2, H025 primary 1
    let hs = [
        "H001", "H003", "H009", "H014", "H025", "H001", "H003", "H009",
    ];
    let a: Vec<(String, &str)> = hs
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("A{i}"), *h))
        .collect();
    let a: Vec<(&str, &str)> = a.iter().map(|(x, h)| (x.as_str(), *h)).collect();
    let y2024 = roster(&dir, "2024.csv", &a);
    let out = ok(
        &db,
        &[
            "working-group",
            "record",
            "--year",
            "2024",
            "--roster",
            &y2024,
            "--hospitals",
            hospitals,
        ],
    );
    assert!(
        out.contains("working group 2024: 8 members; levels 1: 1, 2: 3, 3: 4"),
        "{out}"
    );
    assert!(out.contains("warning: no roster of 2023"), "{out}");
    // the same members in 2025: refused, nothing recorded
    let same = roster(&dir, "2025-same.csv", &a);
    let out = run(
        &db,
        &[
            "working-group",
            "record",
            "--year",
            "2025",
            "--roster",
            &same,
            "--hospitals",
            hospitals,
        ],
    );
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("the same members as the roster of 2024"), "{e}");
    let e = refused(&db, &["working-group", "show", "--year", "2025"]);
    assert!(e.contains("no roster of 2025 is recorded"), "{e}");
    // seven members of one level and kind: every shortfall named
    let few = roster(
        &dir,
        "2025-few.csv",
        &[("B1", "H001"), ("B2", "H001"), ("B3", "H002")],
    );
    let out = run(
        &db,
        &[
            "working-group",
            "check",
            "--year",
            "2025",
            "--roster",
            &few,
            "--hospitals",
            hospitals,
        ],
    );
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("error: 3 member(s): the data working group has at least 8"),
        "{text}"
    );
    assert!(
        text.contains("error: the members' hospitals are of 1 level(s) (level 3)"),
        "{text}"
    );
    // a rotated roster is recorded
    let b: Vec<(String, &str)> = hs
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("B{i}"), *h))
        .collect();
    let b: Vec<(&str, &str)> = b.iter().map(|(x, h)| (x.as_str(), *h)).collect();
    let y2025 = roster(&dir, "2025.csv", &b);
    let out = ok(
        &db,
        &[
            "working-group",
            "record",
            "--year",
            "2025",
            "--roster",
            &y2025,
            "--hospitals",
            hospitals,
        ],
    );
    assert!(out.contains("recorded: the roster of 2025"), "{out}");
    let show = ok(&db, &["working-group", "show", "--year", "2025"]);
    assert!(show.starts_with("working group 2025: 8 members"), "{show}");
    assert!(show.contains("B0        成员B0"), "{show}");
    // a bad row names its line, field and value
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "member_id,name,hospital_id\nC1,,H001\n").unwrap();
    let e = refused(
        &db,
        &[
            "working-group",
            "check",
            "--year",
            "2026",
            "--roster",
            bad.to_str().unwrap(),
            "--hospitals",
            hospitals,
        ],
    );
    assert!(e.contains("bad.csv line 2, field name \"\": empty"), "{e}");
}
