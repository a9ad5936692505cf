//! The `group` and `explain` commands as a user runs them: standard input and output, JSON
//! lines, traces in both languages, explanations of one case.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;

const HEADER: &str = "case_id,gender,age,age_days,birth_weight,diagnoses,procedures,discharge_date,insured_region,total_cost";

fn run_stdin(shared: &std::path::Path, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(args)
        .arg("--shared")
        .arg(shared)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn stdin_to_stdout_csv_with_a_chinese_trace() {
    let Some(shared) = shared() else { return };
    let input = format!(
        "{HEADER}\nX1,1,72,,,C71.003,07.7202,2025-03-01,350100,100\nX2,2,30,,,C62.900,,2025-03-01,350100,100\nX3,2,30,,,K86.1,,2025-03-01,350100,100\n"
    );
    let (ok, out, err) = run_stdin(&shared, &["group", "-i", "-", "-o", "-", "--trace"], &input);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("case_id,status,mdc,adrg,drg,mcc,cc,scheme,repairs,problems,trace")
    );
    assert!(
        lines[1].starts_with("X1,grouped,MDCB,BB3,BB35,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains("符合BB3"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("X2,ambiguous,MDCM,QY,MQY,"),
        "{}",
        lines[2]
    );
    assert!(lines[3].starts_with("X3,invalid,,,,"), "{}", lines[3]);
    assert!(lines[3].contains("truncated"), "{}", lines[3]);
    assert!(
        err.contains("3 rows, 1 grouped, 1 ambiguous, 0 ungroupable, 1 invalid"),
        "{err}"
    );
}

#[test]
fn json_lines_with_an_english_trace_and_the_scheme_chosen_per_row() {
    let Some(shared) = shared() else { return };
    let input = format!(
        "{HEADER}\nF1,2,40,,,I10.x00x002,,2025-03-01,350100,100\nF2,2,40,,,I10.x00x002,,2024-12-31,350100,100\nF3,2,40,,,I10.x00x002,,2025-03-01,440100,100\n"
    );
    let (ok, out, err) = run_stdin(
        &shared,
        &[
            "group", "-i", "-", "-o", "-", "--format", "jsonl", "--trace", "--lang", "en",
            "--scheme", "auto",
        ],
        &input,
    );
    assert!(ok, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["scheme"], "fujian-2024");
    assert_eq!(rows[1]["scheme"], "chs-drg-2.0");
    assert_eq!(rows[2]["scheme"], "chs-drg-2.0");
    let trace = rows[0]["trace"].as_array().unwrap();
    assert!(
        trace[0]
            .as_str()
            .unwrap()
            .starts_with("scheme fujian-2024 (2024)"),
        "{trace:?}"
    );
    // --region fixes the treating region for every row
    let (ok, out, err_region) = run_stdin(
        &shared,
        &[
            "group", "-i", "-", "-o", "-", "--format", "jsonl", "--scheme", "auto", "--region",
            "350100",
        ],
        &input,
    );
    assert!(ok);
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[2]["scheme"], "fujian-2024");
    assert!(!err_region.contains("warning"), "{err_region}");
    // without a treating region, auto warns that the insured region stands in for it
    assert!(err.contains("without --region or --params"), "{err}");
}

/// payment-model §2 rule 2, dip-and-payment §21: the region running drgdip is the treating
/// region; its parameter file makes its scheme group every row, cross-province ones too.
#[test]
fn the_treating_regions_parameter_file_groups_every_row_with_its_scheme() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("group-params");
    let params = fixture::params(&shared, &dir, "params.toml");
    let input = format!(
        "{HEADER}\nF1,2,40,,,I10.x00x002,,2025-03-01,350100,100\nF2,2,40,,,I10.x00x002,,2025-03-01,350200,100\nF3,2,40,,,I10.x00x002,,2025-03-01,440100,100\n"
    );
    let schemes = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["group", "-i", "-", "-o", "-", "--format", "jsonl"];
        all.extend_from_slice(args);
        let (ok, out, err) = run_stdin(&shared, &all, &input);
        assert!(ok, "{err}");
        assert!(!err.contains("warning"), "{err}");
        out.lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["scheme"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let p = params.to_str().unwrap();
    assert_eq!(schemes(&["--params", p]), ["fujian-2024"; 3]);
    assert_eq!(
        schemes(&["--scheme", "auto", "--params", p]),
        ["fujian-2024"; 3]
    );
    // an explicit scheme still wins
    assert_eq!(
        schemes(&["--scheme", "chs-drg-2.0", "--params", p]),
        ["chs-drg-2.0"; 3]
    );
}

#[test]
fn explain_one_case_from_a_file_and_from_flags() {
    let Some(shared) = shared() else { return };
    let dev = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let o = drgdip(
        &shared,
        &[
            "explain",
            "-i",
            dev.to_str().unwrap(),
            "--case-id",
            "C0009248",
            "--lang",
            "en",
        ],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("grouped MDCL LS1 LS15"), "{text}");
    assert!(
        text.contains("excluded: same exclusion table 138"),
        "{text}"
    );
    let o = drgdip(
        &shared,
        &["explain", "--gender", "1", "--age", "46", "--dx", "S32.700"],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("分组成功 MDCI IR1 IR19"), "{text}");
    assert!(text.contains("不符合MDCZ要求"), "{text}");
    let o = drgdip(
        &shared,
        &["explain", "-i", dev.to_str().unwrap(), "--case-id", "NOPE"],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"NOPE\" is not in"));
}

#[test]
fn a_configuration_file_names_the_shared_directory_and_extra_schemes() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("config");
    let shared = std::fs::canonicalize(&shared).unwrap();
    // a renamed copy of the national manifest, registered through the configuration file
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemes/chs-drg-2.0.toml"),
    )
    .unwrap()
    .replace("name = \"chs-drg-2.0\"", "name = \"my-copy\"");
    std::fs::write(dir.join("my-copy.toml"), manifest).unwrap();
    std::fs::write(
        dir.join("drgdip.toml"),
        format!(
            "shared = {:?}\nschemes = [\"my-copy.toml\"]\n",
            shared.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("in.csv"),
        format!("{HEADER}\nX1,1,72,,,C71.003,07.7202,2025-03-01,350100,100\n"),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .current_dir(&dir)
        .env_remove("DRGDIP_SHARED")
        .args([
            "group", "-q", "-i", "in.csv", "-o", "-", "--scheme", "my-copy",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("X1,grouped,MDCB,BB3,BB35,,,my-copy"), "{out}");
}

/// `drgdip schemes | head -1`: the reader goes away after one line; drgdip ends quietly (no
/// panic message, no error), as any Unix filter does.
#[test]
fn a_closed_output_pipe_ends_schemes_quietly() {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::ExitStatusExt;
    let Some(shared) = common::shared() else {
        return;
    };
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(["schemes", "-v", "--shared"])
        .arg(&shared)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The pipe's reading end is closed here (dropped), like `head -1` exiting.
    assert!(!first.is_empty());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(
        status.success() || status.signal() == Some(libc_sigpipe()),
        "{status:?}: {stderr}"
    );
}

/// SIGPIPE's number on Linux and the BSDs.
fn libc_sigpipe() -> i32 {
    13
}
