//! The input rules as a user meets them: a stray quote never swallows the file (rows in = rows
//! out), an absent cost is not an invalid row for grouping and is named once at the header
//! for the commands that need it, control characters in case ids, the money format, the
//! problems in Chinese with `--lang zh`, and every printed problem reading `field: message`.
//!
//! Every test prints a note and passes when the shared directory is absent.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Output;

use common::{drgdip, pay_inputs, read_csv, shared, tempdir};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn run_ok(shared: &Path, args: &[&str]) -> String {
    let o = drgdip(shared, args);
    assert!(
        o.status.success(),
        "drgdip {args:?} failed:\n{}",
        stderr(&o)
    );
    stderr(&o)
}

/// A CSV file as rows of fields (the header first).
fn rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect()
}

/// A small deterministic generator (SplitMix64): the damage is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The dev cases with one `"` put at the start of a random field of `n` random lines:
/// (the text, the damaged physical lines with the header name of the field).
fn damaged_dev_cases(dev: &str, n: usize, seed: u64) -> (String, BTreeMap<u64, String>) {
    let mut rng = Rng(seed);
    let lines: Vec<&str> = dev.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let mut damaged = BTreeMap::new();
    while damaged.len() < n {
        let i = 1 + rng.below(lines.len() - 1);
        let field = rng.below(header.len());
        damaged.insert(i as u64 + 1, (i, field));
    }
    let mut text = String::with_capacity(dev.len() + n);
    let mut names = BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        match damaged.get(&(i as u64 + 1)) {
            Some(&(_, field)) => {
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(l.match_indices(',').map(|(p, _)| p + 1))
                    .collect();
                let at = starts[field];
                text.push_str(&l[..at]);
                text.push('"');
                text.push_str(&l[at..]);
                names.insert(i as u64 + 1, header[field].to_string());
            }
            None => text.push_str(l),
        }
        text.push('\n');
    }
    (text, names)
}

/// Checks a damaged run against the clean one: one output row per input row, the damaged
/// rows invalid (status column `status_col` = `invalid`) with the quote problem on their
/// line, every other row as in the clean run.
fn check_damaged_run(
    clean: &Path,
    damaged: &Path,
    errors: &Path,
    names: &BTreeMap<u64, String>,
    status_col: usize,
) {
    let (clean, damaged) = (rows(clean), rows(damaged));
    assert_eq!(damaged.len(), clean.len(), "rows in = rows out");
    assert_eq!(damaged[0], clean[0]);
    for (i, (c, d)) in clean.iter().zip(&damaged).enumerate().skip(1) {
        let line = i as u64 + 1;
        if names.contains_key(&line) {
            assert_eq!(d[0], c[0], "line {line}: the case id is still reported");
            assert_eq!(d[status_col], "invalid", "line {line}: {d:?}");
        } else {
            assert_eq!(
                d, c,
                "line {line} is not damaged and must be as in the clean run"
            );
        }
    }
    let reported: BTreeMap<u64, (String, String)> = read_csv(errors)
        .into_iter()
        .map(|e| {
            (
                e["line"].parse().unwrap(),
                (e["field"].clone(), e["message"].clone()),
            )
        })
        .collect();
    let expected: BTreeMap<u64, (String, String)> = names
        .iter()
        .map(|(line, f)| (*line, (f.clone(), format!("unbalanced quote in field {f}"))))
        .collect();
    assert_eq!(reported, expected);
}

#[test]
fn a_stray_quote_never_swallows_the_file() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("stray-quote");
    let dev_path = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let dev = std::fs::read_to_string(&dev_path).unwrap();
    assert!(
        !dev.contains('"'),
        "the dev cases have no quote of their own"
    );
    let (text, names) = damaged_dev_cases(&dev, 150, 20250601);
    // line 102, the case of the bug report, is damaged too
    let mut names = names;
    let text = {
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        if let std::collections::btree_map::Entry::Vacant(e) = names.entry(102) {
            let at = lines[101].match_indices(',').nth(10).unwrap().0 + 1;
            lines[101].insert(at, '"');
            e.insert("diagnoses".to_string());
        }
        lines.join("\n") + "\n"
    };
    let damaged = dir.join("damaged.csv");
    std::fs::write(&damaged, &text).unwrap();
    let crlf = dir.join("damaged-crlf.csv");
    std::fs::write(&crlf, text.replace('\n', "\r\n")).unwrap();
    assert!(names.len() > 100);

    // group: clean, damaged, damaged with CRLF line ends
    let (clean_out, clean_err) = (dir.join("group-clean.csv"), dir.join("group-clean-e.csv"));
    run_ok(
        &shared,
        &[
            "group",
            "-q",
            "-i",
            s(&dev_path),
            "-o",
            s(&clean_out),
            "-e",
            s(&clean_err),
        ],
    );
    assert!(
        read_csv(&clean_err).is_empty(),
        "the dev cases are all valid"
    );
    for (input, name) in [(&damaged, "lf"), (&crlf, "crlf")] {
        let (out, err) = (
            dir.join(format!("group-{name}.csv")),
            dir.join(format!("group-{name}-e.csv")),
        );
        let summary = run_ok(
            &shared,
            &["group", "-i", s(input), "-o", s(&out), "-e", s(&err)],
        );
        assert!(
            summary.contains("20000 rows,")
                && summary.contains(&format!(
                    "{} invalid; {} problem(s)",
                    names.len(),
                    names.len()
                )),
            "{summary}"
        );
        check_damaged_run(&clean_out, &out, &err, &names, 1);
        let problems: Vec<String> = rows(&out).iter().skip(1).map(|r| r[9].clone()).collect();
        for (line, field) in &names {
            assert_eq!(
                problems[*line as usize - 2],
                format!("{field}: unbalanced quote in field {field}")
            );
        }
    }

    // pay: clean and damaged
    let (params, hospitals, weights) = pay_inputs(&shared, &dir);
    let pay = |input: &Path, out: &Path, err: &Path| {
        run_ok(
            &shared,
            &[
                "pay",
                "-q",
                "--params",
                s(&params),
                "--hospitals",
                s(&hospitals),
                "--weights",
                s(&weights),
                "-i",
                s(input),
                "-o",
                s(out),
                "-e",
                s(err),
            ],
        )
    };
    let (clean_pay, clean_pay_err) = (dir.join("pay-clean.csv"), dir.join("pay-clean-e.csv"));
    pay(&dev_path, &clean_pay, &clean_pay_err);
    assert!(read_csv(&clean_pay_err).is_empty());
    let (out, err) = (dir.join("pay-damaged.csv"), dir.join("pay-damaged-e.csv"));
    pay(&damaged, &out, &err);
    check_damaged_run(&clean_pay, &out, &err, &names, 1);
    for (i, r) in rows(&out).iter().enumerate().skip(1) {
        if names.contains_key(&(i as u64 + 1)) {
            assert_eq!(r[5], "invalid", "category of a damaged row");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn multiline_is_declared_and_a_record_is_one_line_otherwise() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("multiline");
    let input = dir.join("cases.csv");
    std::fs::write(
        &input,
        "case_id,gender,age,diagnoses,dept\n\
         M1,1,38,I24.001,\"cardio\nlogy\"\n\
         M2,1,38,I24.001,x\n",
    )
    .unwrap();
    let (out, err) = (dir.join("out.csv"), dir.join("e.csv"));
    run_ok(
        &shared,
        &[
            "group",
            "-q",
            "--multiline",
            "-i",
            s(&input),
            "-o",
            s(&out),
            "-e",
            s(&err),
        ],
    );
    let got: Vec<(String, String)> = rows(&out)
        .into_iter()
        .skip(1)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("M1".to_string(), "grouped".to_string()),
            ("M2".into(), "grouped".into())
        ]
    );
    assert!(read_csv(&err).is_empty());
    // without --multiline: line 2 has a quote left open, line 3 a stray one; M2 is line 4
    run_ok(
        &shared,
        &["group", "-q", "-i", s(&input), "-o", s(&out), "-e", s(&err)],
    );
    let got: Vec<(String, String)> = rows(&out)
        .into_iter()
        .skip(1)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("M1".to_string(), "invalid".to_string()),
            ("logy\"".into(), "invalid".into()),
            ("M2".into(), "grouped".into())
        ]
    );
    let lines: Vec<(String, String)> = read_csv(&err)
        .into_iter()
        .map(|e| (e["line"].clone(), e["field"].clone()))
        .collect();
    assert_eq!(
        lines,
        [
            ("2".to_string(), "dept".to_string()),
            ("3".into(), "row".into())
        ]
    );
    // explain --input reads the file the same way
    let o = drgdip(
        &shared,
        &[
            "explain",
            "--multiline",
            "-i",
            s(&input),
            "--case-id",
            "M1",
            "--lang",
            "en",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("grouped"));
    let o = drgdip(
        &shared,
        &[
            "explain",
            "-i",
            s(&input),
            "--case-id",
            "M1",
            "--lang",
            "en",
        ],
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.contains("invalid") && text.contains("unbalanced quote in field dept"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn absent_costs_do_not_stop_grouping_and_are_named_once_where_they_are_needed() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("absent");
    // no cost column at all: grouping needs none
    let no_costs = dir.join("no-costs.csv");
    std::fs::write(
        &no_costs,
        "case_id,hospital_id,gender,age,diagnoses,discharge_date\n\
         A1,H001,1,38,I24.001,2025-06-01\n\
         A2,H001,1,38,I24.001,2025-06-02\n",
    )
    .unwrap();
    let out = dir.join("out.csv");
    run_ok(&shared, &["group", "-q", "-i", s(&no_costs), "-o", s(&out)]);
    assert!(rows(&out).iter().skip(1).all(|r| r[1] == "grouped"));
    // the cost columns there but empty: still grouped
    let empty = dir.join("empty.csv");
    std::fs::write(
        &empty,
        "case_id,hospital_id,gender,age,diagnoses,discharge_date,total_cost,fund_paid,drug_cost\n\
         E1,H001,1,38,I24.001,2025-06-01,,,\n\
         E2,H001,1,38,I24.001,2025-06-02,100.00,,\n\
         E3,H001,1,38,I24.001,2025-06-03,,50.00,\n\
         E4,H001,1,38,I24.001,2025-06-04,100.00,50.00,\n",
    )
    .unwrap();
    let err = dir.join("e.csv");
    run_ok(
        &shared,
        &["group", "-q", "-i", s(&empty), "-o", s(&out), "-e", s(&err)],
    );
    assert!(rows(&out).iter().skip(1).all(|r| r[1] == "grouped"));
    assert!(read_csv(&err).is_empty());

    let (params, hospitals, weights) = pay_inputs(&shared, &dir);
    let pay = |input: &Path| {
        drgdip(
            &shared,
            &[
                "pay",
                "-q",
                "--params",
                s(&params),
                "--hospitals",
                s(&hospitals),
                "--weights",
                s(&weights),
                "-i",
                s(input),
                "-o",
                s(&out),
                "-e",
                s(&err),
            ],
        )
    };
    // pay without the columns: refused once, at the header
    let o = pay(&no_costs);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("the header lacks the column(s) total_cost, fund_paid, which pay needs"),
        "{e}"
    );
    assert_eq!(
        e.lines().filter(|l| l.contains("total_cost")).count(),
        1,
        "said once: {e}"
    );
    // pay with empty cells: a problem of each row
    let o = pay(&empty);
    assert!(o.status.success(), "{}", stderr(&o));
    let categories: Vec<String> = rows(&out).iter().skip(1).map(|r| r[5].clone()).collect();
    assert_eq!(categories[..3], ["invalid", "invalid", "invalid"]);
    assert_ne!(categories[3], "invalid");
    let problems: Vec<(String, String, String)> = read_csv(&err)
        .into_iter()
        .map(|e| {
            (
                e["case_id"].clone(),
                e["field"].clone(),
                e["message"].clone(),
            )
        })
        .collect();
    let cost = "missing: pay needs the case's per-item cost".to_string();
    let fund =
        "missing: pay needs what the fund paid per item (own share = total_cost − fund_paid)"
            .to_string();
    assert_eq!(
        problems,
        [
            ("E1".to_string(), "total_cost".to_string(), cost.clone()),
            ("E1".into(), "fund_paid".into(), fund.clone()),
            ("E2".into(), "fund_paid".into(), fund),
            ("E3".into(), "total_cost".into(), cost),
        ]
    );
    // weights needs total_cost in its history
    let o = drgdip(
        &shared,
        &[
            "weights",
            "--history",
            s(&no_costs),
            "--params",
            s(&params),
            "-o",
            s(&out),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "the header lacks the column(s) total_cost, which the weight computation needs"
        ),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_case_ids_and_money_are_named_problems_of_their_rows() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("money");
    let input = dir.join("cases.csv");
    let rows_in: Vec<(&str, &str, &str)> = vec![
        // case id, total_cost, vent_hours
        ("OK1", "1234", ""),
        ("OK2", "1234.5", "12.5"),
        ("OK3", "1234.56", "0"),
        ("EXP", "1e3", ""),
        ("PLUS", "+5", ""),
        ("NEG", "-5", ""),
        ("DEC3", "1.234", ""),
        ("SEP", "\"1,234.56\"", ""),
        ("NAN", "NaN", ""),
        ("INF", "inf", ""),
        ("BIG", "79228162514264337593543950335", ""),
        ("OVER", "100000000.01", ""),
        ("VENT", "100", "1e2"),
        ("VNEG", "100", "-1"),
        ("C\u{0}NUL", "100", ""),
        ("C\u{1b}ESC", "100", ""),
    ];
    let mut text = String::from("case_id,gender,age,diagnoses,vent_hours,total_cost\n");
    for (id, cost, vent) in &rows_in {
        text.push_str(&format!("{id},1,38,I24.001,{vent},{cost}\n"));
    }
    std::fs::write(&input, text).unwrap();
    let (out, err) = (dir.join("out.csv"), dir.join("e.csv"));
    run_ok(
        &shared,
        &["group", "-q", "-i", s(&input), "-o", s(&out), "-e", s(&err)],
    );
    let raw = std::fs::read(&out).unwrap();
    assert!(!raw.contains(&0), "no NUL reaches the output");
    let status: Vec<(String, String)> = rows(&out)
        .into_iter()
        .skip(1)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(status.len(), rows_in.len());
    let problems: HashMap<String, (String, String, String, String)> = read_csv(&err)
        .into_iter()
        .map(|e| {
            (
                e["case_id"].clone(),
                (
                    e["line"].clone(),
                    e["field"].clone(),
                    e["value"].clone(),
                    e["message"].clone(),
                ),
            )
        })
        .collect();
    for (i, (id, _, _)) in rows_in.iter().enumerate() {
        let shown = drgdip_io::escape_control(id);
        assert_eq!(status[i].0, shown);
        let valid = id.starts_with("OK");
        assert_eq!(status[i].1 == "grouped", valid, "{id}: {:?}", status[i]);
        if !valid {
            let (line, _, _, _) = &problems[&shown];
            assert_eq!(line, &(i + 2).to_string(), "{id}");
        }
    }
    let message = |id: &str| problems[id].3.clone();
    assert_eq!(problems["EXP"].1, "total_cost");
    assert!(message("EXP").starts_with("an exponent form"));
    assert!(message("PLUS").starts_with("a plus sign"));
    assert!(message("NEG").starts_with("negative amount"));
    assert_eq!(message("DEC3"), "3 decimals: at most 2");
    assert!(message("SEP").starts_with("a thousands separator"));
    assert!(message("NAN").starts_with("not a number"));
    assert!(message("INF").starts_with("not a number"));
    for id in ["BIG", "OVER"] {
        assert_eq!(
            message(id),
            "above the limit of 100000000.00 CNY for one case ([limits].max_case_cost)"
        );
    }
    assert_eq!(problems["VENT"].1, "vent_hours");
    assert!(message("VENT").starts_with("an exponent form"));
    assert!(message("VNEG").starts_with("negative"));
    let nul = &problems["C\\u{0}NUL"];
    assert_eq!(
        (nul.1.as_str(), nul.2.as_str()),
        ("case_id", "C\\u{0}NUL"),
        "the value is shown escaped"
    );
    assert!(nul.3.contains("control character"));
    assert!(problems.contains_key("C\\u{1b}ESC"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lang_zh_gives_the_problems_in_chinese_and_each_reads_field_colon_message() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("lang");
    let input = dir.join("cases.csv");
    std::fs::write(
        &input,
        "case_id,hospital_id,gender,age,diagnoses,los,total_cost,fund_paid\n\
         B1,H001,1,187,I24.001,5,100.00,50.00\n\
         B2,H001,1,38,I24.001,-1,100.00,50.00\n\
         B3,H001,3,38,I24.001,5,100.00,50.00\n",
    )
    .unwrap();
    let (out, err) = (dir.join("out.csv"), dir.join("e.csv"));
    let problems_of = |out: &Path, col: usize| -> Vec<String> {
        rows(out)
            .into_iter()
            .skip(1)
            .map(|r| r[col].clone())
            .collect()
    };
    // the default: problems in English, each `field: message` once
    run_ok(
        &shared,
        &["group", "-q", "-i", s(&input), "-o", s(&out), "-e", s(&err)],
    );
    assert_eq!(
        problems_of(&out, 9),
        [
            "age: expected a whole number of years from 0 to 150",
            "los: negative: expected a whole number of days",
            "gender: expected 1 (male) or 2 (female)",
        ]
    );
    let messages: Vec<String> = read_csv(&err)
        .into_iter()
        .map(|e| e["message"].clone())
        .collect();
    assert_eq!(
        messages[0],
        "expected a whole number of years from 0 to 150"
    );
    // --lang zh: the problems column, the errors file and the trace
    run_ok(
        &shared,
        &[
            "group",
            "-q",
            "--lang",
            "zh",
            "-i",
            s(&input),
            "-o",
            s(&out),
            "-e",
            s(&err),
        ],
    );
    assert_eq!(
        problems_of(&out, 9),
        [
            "age: 应为 0 至 150 的整数（岁）",
            "los: 住院天数为负数：应为整数天数",
            "gender: 应为 1（男）或 2（女）",
        ]
    );
    let messages: Vec<String> = read_csv(&err)
        .into_iter()
        .map(|e| e["message"].clone())
        .collect();
    assert_eq!(messages[2], "应为 1（男）或 2（女）");
    run_ok(
        &shared,
        &[
            "group",
            "-q",
            "--lang",
            "en",
            "-i",
            s(&input),
            "-o",
            s(&out),
            "-e",
            s(&err),
        ],
    );
    assert_eq!(
        problems_of(&out, 9)[2],
        "gender: expected 1 (male) or 2 (female)"
    );

    // pay --lang zh --trace: the errors file and the rules of an invalid row
    let (params, hospitals, weights) = pay_inputs(&shared, &dir);
    run_ok(
        &shared,
        &[
            "pay",
            "-q",
            "--trace",
            "--lang",
            "zh",
            "--params",
            s(&params),
            "--hospitals",
            s(&hospitals),
            "--weights",
            s(&weights),
            "-i",
            s(&input),
            "-o",
            s(&out),
            "-e",
            s(&err),
        ],
    );
    let rules = problems_of(&out, 12);
    assert_eq!(
        rules[0],
        "invalid: not paid (age: 应为 0 至 150 的整数（岁）)"
    );
    let messages: BTreeSet<String> = read_csv(&err)
        .into_iter()
        .map(|e| e["message"].clone())
        .collect();
    assert!(
        messages.contains("住院天数为负数：应为整数天数"),
        "{messages:?}"
    );

    // explain prints `field "value": message`, once
    let o = drgdip(
        &shared,
        &[
            "explain",
            "-i",
            s(&input),
            "--case-id",
            "B1",
            "--lang",
            "en",
        ],
    );
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.contains("age \"187\": expected a whole number of years from 0 to 150"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn settle_reports_a_damaged_row_on_its_line_of_the_input() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("settle-quote");
    let (params, hospitals, weights) = pay_inputs(&shared, &dir);
    let input = dir.join("cases.csv");
    std::fs::write(
        &input,
        "case_id,hospital_id,gender,age,diagnoses,discharge_date,total_cost,fund_paid\n\
         S1,H001,1,38,I24.001,2025-06-01,100.00,50.00\n\
         \n\
         S2,H001,1,\"38,I24.001,2025-06-02,100.00,50.00\n\
         S3,H001,1,38,I24.001,2025-06-03,100.00,50.00\n\
         S4,H001,1,38,I24.001,\"2025-06-04,100.00,50.00\n\
         S5,H001,1,187,I24.001,2025-06-05,100.00,50.00\n\
         S6,H001,1,38,I24.001,2025-06-06,100.00,50.00\n",
    )
    .unwrap();
    let err = dir.join("e.csv");
    let db = format!("sqlite://{}", dir.join("ledger.db").display());
    let o = drgdip(
        &shared,
        &[
            "settle",
            "--month",
            "2025-06",
            "--db",
            &db,
            "--params",
            s(&params),
            "--hospitals",
            s(&hospitals),
            "--weights",
            s(&weights),
            "-i",
            s(&input),
            "-e",
            s(&err),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(stdout.contains("6 rows read"), "{stdout}");
    assert!(
        stdout.contains("settled 2025-06: 1 hospitals, 3 cases"),
        "{stdout}"
    );
    let problems: Vec<(String, String, String, String)> = read_csv(&err)
        .into_iter()
        .map(|e| {
            (
                e["line"].clone(),
                e["case_id"].clone(),
                e["field"].clone(),
                e["message"].clone(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (
                "4".to_string(),
                "S2".to_string(),
                "age".to_string(),
                "unbalanced quote in field age".to_string()
            ),
            (
                "6".into(),
                "S4".into(),
                "discharge_date".into(),
                "unbalanced quote in field discharge_date".into()
            ),
            (
                "7".into(),
                "S5".into(),
                "age".into(),
                "expected a whole number of years from 0 to 150".into()
            ),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
