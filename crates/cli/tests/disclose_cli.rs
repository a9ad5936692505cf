//! End-to-end tests of `drgdip disclose` (亮家底): the dev year settled month by month,
//! prepayments decided, cleared, two opinions submitted; then the yearly pack, every figure of
//! which is recomputed here from the ledger (read through the store) and the fund file (read
//! here by header name), and a hospital's monthly pack, in which no other hospital appears.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;

use common::ledger::{block_on, data, dev_months, run_ok, s, settle_month, Data};
use common::{read_csv, tempdir};
use drgdip_pay::money::round_fen;
use drgdip_settle::{Balance, Period};
use drgdip_store::Store;
use rust_decimal::Decimal;

/// The dev year's ledger, made once per test run: (data, its directory, its URL).
fn ledger() -> Option<&'static (Data, PathBuf, String)> {
    static LEDGER: OnceLock<Option<(Data, PathBuf, String)>> = OnceLock::new();
    LEDGER
        .get_or_init(|| {
            let d = data()?;
            let dir = tempdir("disclose-ledger");
            let db = format!("sqlite://{}", dir.join("ledger.db").display());
            let weights = dir.join("weights.csv");
            run_ok(
                &d.shared,
                &[
                    "weights",
                    "--history",
                    s(&d.history),
                    "--params",
                    s(&d.params),
                    "-o",
                    s(&weights),
                    "-q",
                ],
            );
            for month in dev_months() {
                settle_month(&d, &d.params, &weights, &db, &month, &d.cases);
            }
            let applications = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../docs/examples/prepay-applications-2025.csv");
            let fund = fund_file(&d);
            run_ok(
                &d.shared,
                &[
                    "prepay",
                    "decide",
                    "--year",
                    "2025",
                    "--db",
                    &db,
                    "--params",
                    s(&d.params),
                    "--hospitals",
                    s(&d.hospitals),
                    "--weights",
                    s(&weights),
                    "--previous-year",
                    s(&d.history),
                    "--applications",
                    s(&applications),
                    "--fund",
                    s(&fund),
                ],
            );
            run_ok(
                &d.shared,
                &[
                    "clear",
                    "--year",
                    "2025",
                    "--db",
                    &db,
                    "--params",
                    s(&d.params),
                    "--hospitals",
                    s(&d.hospitals),
                    "--output",
                    s(&dir.join("clearing.txt")),
                ],
            );
            for args in [
                &[
                    "opinions",
                    "submit",
                    "--hospital",
                    "H002",
                    "--topic",
                    "grouping",
                    "--about",
                    "GB25",
                    "--text",
                    "胃切除术病例多入组GB25",
                    "--today",
                    "2025-03-04",
                ][..],
                &[
                    "opinions",
                    "submit",
                    "--hospital",
                    "H003",
                    "--topic",
                    "pricing",
                    "--text",
                    "耗材价格联动",
                    "--today",
                    "2025-09-10",
                ],
                &[
                    "opinions",
                    "classify",
                    "OP-000001",
                    "--topic",
                    "grouping",
                    "--level",
                    "provincial",
                    "--today",
                    "2025-03-05",
                ],
            ] {
                let out = Command::new(env!("CARGO_BIN_EXE_drgdip"))
                    .args(args)
                    .args(["--db", &db])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Some((d, dir, db))
        })
        .as_ref()
}

/// Hospitals, cases, Σ cost, Σ payment of one level and kind.
type ClassSums = (std::collections::BTreeSet<String>, u64, Decimal, Decimal);

fn fund_file(d: &Data) -> PathBuf {
    d.shared.join("testdata/chs-drg-2.0/fund-2025.csv")
}

fn disclose(l: &(Data, PathBuf, String), period: &[&str], out: &Path) -> Vec<PathBuf> {
    disclose_db(&l.0, &l.2, period, out)
}

fn disclose_db(d: &Data, db: &str, period: &[&str], out: &Path) -> Vec<PathBuf> {
    let mut args = vec!["disclose"];
    args.extend_from_slice(period);
    let fund = fund_file(d);
    args.extend_from_slice(&[
        "--db",
        db,
        "--fund",
        s(&fund),
        "--params",
        s(&d.params),
        "--hospitals",
        s(&d.hospitals),
        "--output",
        s(out),
    ]);
    let (stdout, _) = run_ok(&d.shared, &args);
    stdout.lines().map(PathBuf::from).collect()
}

fn dec(text: &str) -> Decimal {
    text.parse()
        .unwrap_or_else(|_| panic!("not a decimal: {text:?}"))
}

fn pct(part: Decimal, whole: Decimal) -> String {
    let p = (part / whole * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{p:.2}")
}

/// The fund file read here, by header name: (direction, item) → Σ amount of 2025, and the
/// opening balance.
fn fund_sums(path: &Path) -> (BTreeMap<(String, String), Decimal>, Decimal) {
    let mut sums = BTreeMap::new();
    let mut opening = None;
    for row in read_csv(path) {
        let amount = dec(&row["amount"]);
        if row["direction"] == "balance" {
            opening = Some(amount);
        } else if row["month"].starts_with("2025-") {
            *sums
                .entry((row["direction"].clone(), row["item"].clone()))
                .or_insert(Decimal::ZERO) += amount;
        }
    }
    (sums, opening.unwrap())
}

#[test]
fn the_yearly_pack_of_the_dev_year_is_recomputed_from_the_ledger_and_the_fund_file() {
    let Some(l) = ledger() else { return };
    let (d, dir, db) = l;
    let out = dir.join("year");
    let files = disclose(l, &["--year", "2025"], &out);
    assert!(
        files.iter().any(|f| f.ends_with("disclose-year-2025.html")),
        "{files:?}"
    );

    let (statements, cases, clearings, prepayments, runs, opinions) = block_on(async {
        let store = Store::open(db).await.unwrap();
        let r = (
            store.statements_in(Period::Year(2025), None).await.unwrap(),
            store
                .settled_cases_in(Period::Year(2025), None)
                .await
                .unwrap(),
            store.clearings(2025, None).await.unwrap(),
            store.prepayments(2025).await.unwrap(),
            store.settlement_runs(None).await.unwrap(),
            store.opinions(None, None).await.unwrap(),
        );
        store.close().await;
        r
    });
    let drg: Decimal = statements.iter().map(|s| s.fund_due_total).sum();
    let run_list: Vec<String> = runs
        .iter()
        .map(|r| format!("{} ({} {})", r.run_id, r.month, r.inputs.method))
        .collect();
    let runs_source = format!("settlement runs {}", run_list.join(", "));
    assert_eq!(runs.len(), 12);

    // fund income and expenditure by item, and the balance
    let (fund, opening) = fund_sums(&fund_file(d));
    let rows = read_csv(&out.join("disclose-year-2025-fund.csv"));
    let mut seen = 0;
    for row in &rows {
        let key = (row["direction"].clone(), row["item"].clone());
        if let Some(expected) = fund.get(&key) {
            assert_eq!(dec(&row["amount"]), *expected, "{key:?}");
            assert!(
                row["source"].starts_with("fund file fund-2025.csv (sha256 "),
                "{row:?}"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, fund.len(), "every item of the fund file has its line");
    let line = |item: &str| rows.iter().find(|r| r["item"] == item).unwrap();
    assert_eq!(dec(&line("drg_payments")["amount"]), drg);
    assert_eq!(line("drg_payments")["source"], runs_source);
    let income: Decimal = fund
        .iter()
        .filter(|(k, _)| k.0 == "income")
        .map(|(_, v)| v)
        .sum();
    let outgo: Decimal = fund
        .iter()
        .filter(|(k, _)| k.0 == "expenditure")
        .map(|(_, v)| v)
        .sum::<Decimal>()
        + drg;
    assert_eq!(dec(&line("opening")["amount"]), opening);
    assert_eq!(dec(&line("income")["amount"]), income);
    assert_eq!(dec(&line("expenditure")["amount"]), outgo);
    assert_eq!(dec(&line("closing")["amount"]), opening + income - outgo);
    // the dev year's figures as docs/disclosure.md gives them
    assert_eq!(drg, dec("415602223.92"));
    assert_eq!(opening + income - outgo, dec("2031427210.47"));

    // budget execution against the parameter file's [budget] (version 1)
    let params: toml::Table = std::fs::read_to_string(&d.params).unwrap().parse().unwrap();
    let budget = params["budget"].as_table().unwrap();
    let b = |key: &str| -> Decimal {
        let v = budget
            .get(key)
            .or_else(|| budget["inpatient"].get(key))
            .unwrap();
        dec(v.as_str().unwrap())
    };
    let f = |item: &str| fund[&("expenditure".to_string(), item.to_string())];
    let other = outgo - drg - f("outpatient") - f("inpatient_per_diem") - f("inpatient_per_item");
    let rows = read_csv(&out.join("disclose-year-2025-budget.csv"));
    for (line, budget, executed) in [
        ("total", b("total"), outgo),
        ("outpatient", b("outpatient"), f("outpatient")),
        ("drg", b("drg"), drg),
        ("per_diem", b("per_diem"), f("inpatient_per_diem")),
        ("per_item", b("per_item"), f("inpatient_per_item")),
        ("other", b("other"), other),
    ] {
        let row = rows.iter().find(|r| r["line"] == line).unwrap();
        assert_eq!(dec(&row["annual_budget"]), budget, "{line}");
        assert_eq!(dec(&row["period_budget"]), budget, "{line}");
        assert_eq!(dec(&row["executed"]), executed, "{line}");
        assert_eq!(row["execution_rate_pct"], pct(executed, budget), "{line}");
        assert!(
            row["source"].contains("budget v1, approved 2025-01-15"),
            "{row:?}"
        );
    }

    // payment by method
    let rows = read_csv(&out.join("disclose-year-2025-methods.csv"));
    let drg_row = rows.iter().find(|r| r["method"] == "drg").unwrap();
    assert_eq!(drg_row["cases"], cases.len().to_string());
    assert_eq!(dec(&drg_row["amount"]), drg);
    let per_item = rows.iter().find(|r| r["method"] == "per_item").unwrap();
    assert_eq!(dec(&per_item["amount"]), f("inpatient_per_item"));

    // the distribution per level and kind, from the cases and hospitals.csv
    let hospitals: HashMap<String, (String, String)> = read_csv(&d.hospitals)
        .into_iter()
        .map(|h| {
            (
                h["hospital_id"].clone(),
                (h["level"].clone(), h["kind"].clone()),
            )
        })
        .collect();
    let mut by_class: BTreeMap<(String, String), ClassSums> = BTreeMap::new();
    for c in &cases {
        let class = hospitals[&c.hospital_id].clone();
        let e = by_class.entry(class).or_default();
        e.0.insert(c.hospital_id.clone());
        e.1 += 1;
        e.2 += round_fen(c.total_cost);
        e.3 += round_fen(c.payment);
    }
    let rows = read_csv(&out.join("disclose-year-2025-distribution.csv"));
    for ((level, kind), (ids, n, cost, payment)) in &by_class {
        let row = rows
            .iter()
            .find(|r| &r["level"] == level && &r["kind"] == kind)
            .unwrap_or_else(|| panic!("no row of level {level} kind {kind}"));
        assert_eq!(row["hospitals"], ids.len().to_string());
        assert_eq!(row["cases"], n.to_string());
        assert_eq!(dec(&row["total_cost"]), *cost);
        assert_eq!(dec(&row["payment"]), *payment);
        assert_eq!(row["payment_to_cost_pct"], pct(*payment, *cost));
        assert_eq!(row["source"], runs_source);
    }
    assert_eq!(
        rows.len(),
        by_class.len() + 1,
        "one row per class and the region's"
    );

    // clearing results and prepayments
    let rows = read_csv(&out.join("disclose-year-2025-clearing.csv"));
    assert_eq!(rows.len(), 1);
    let c = &rows[0];
    let sum = |f: fn(&drgdip_settle::ClearingStatement) -> Decimal| -> Decimal {
        clearings.iter().map(f).sum()
    };
    assert_eq!(c["hospitals"], clearings.len().to_string());
    let surplus = clearings
        .iter()
        .filter(|c| c.balance == Balance::Surplus)
        .count();
    assert_eq!(c["surplus"], surplus.to_string());
    assert_eq!(dec(&c["entitled"]), sum(|c| c.entitled));
    assert_eq!(dec(&c["settled"]), sum(|c| c.settled));
    assert_eq!(dec(&c["final_amount"]), sum(|c| c.final_amount));
    assert_eq!(
        dec(&c["prepayment_recovered"]),
        sum(|c| c.prepayment_outstanding)
    );
    assert!(
        c["source"].starts_with("clearing 2025, run closed at "),
        "{c:?}"
    );
    let rows = read_csv(&out.join("disclose-year-2025-prepayment.csv"));
    let granted: Vec<_> = prepayments.iter().filter(|p| p.is_granted()).collect();
    assert_eq!(rows[0]["decided"], prepayments.len().to_string());
    assert_eq!(rows[0]["granted"], granted.len().to_string());
    assert_eq!(
        dec(&rows[0]["granted_amount"]),
        granted.iter().map(|p| p.amount).sum::<Decimal>()
    );
    assert_eq!(
        dec(&rows[0]["recovered"]),
        sum(|c| c.prepayment_outstanding)
    );

    // the special-case notice (no application in this ledger) and the opinions
    let rows = read_csv(&out.join("disclose-year-2025-special-cases.csv"));
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["applications"] == "0"));
    let rows = read_csv(&out.join("disclose-year-2025-opinions.csv"));
    let counted = |dim: &str, value: &str| {
        rows.iter()
            .find(|r| r["dimension"] == dim && r["value"] == value)
            .map_or("0".to_string(), |r| r["count"].clone())
    };
    assert_eq!(counted("total", "all"), opinions.len().to_string());
    assert_eq!(counted("topic", "grouping"), "1");
    assert_eq!(counted("topic", "pricing"), "1");
    assert_eq!(counted("level", "provincial"), "1");
    assert_eq!(counted("status", "submitted"), "1");

    // every figure names its source, the budget its version
    let sources = read_csv(&out.join("disclose-year-2025-sources.csv"));
    assert!(sources
        .iter()
        .any(|r| r["what"] == "budget" && r["source"].starts_with("budget v1")));
    let html = std::fs::read_to_string(out.join("disclose-year-2025.html")).unwrap();
    for text in [
        "基金收支",
        "预算执行",
        "budget v1",
        "settlement runs 1 (2025-01 drg)",
        "<svg",
        "@media print",
    ] {
        assert!(html.contains(text), "{text} not in the page");
    }
}

#[test]
fn a_hospitals_monthly_pack_holds_no_other_hospital() {
    let Some(l) = ledger() else { return };
    let (d, dir, _) = l;
    let out = dir.join("month-H001");
    let files = disclose(l, &["--month", "2025-06", "--hospital", "H001"], &out);
    assert!(files.len() > 5, "{files:?}");
    let others: Vec<(String, String)> = read_csv(&d.hospitals)
        .into_iter()
        .filter(|h| h["hospital_id"] != "H001")
        .map(|h| (h["hospital_id"].clone(), h["name"].clone()))
        .collect();
    assert_eq!(others.len(), 39);
    let mut own_seen = false;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (id, name) in &others {
            assert!(!text.contains(id.as_str()), "{} holds {id}", f.display());
            assert!(
                !text.contains(name.as_str()),
                "{} holds {name}",
                f.display()
            );
        }
        own_seen |= text.contains("H001");
    }
    assert!(own_seen);
    let rows = read_csv(&out.join("disclose-month-2025-06-H001-distribution.csv"));
    assert!(rows.iter().any(|r| r["scope"] == "hospital H001"));
    // no level and kind so small that its row is another hospital's figures
    for r in rows.iter().filter(|r| r["scope"] == "region") {
        assert!(dec(&r["hospitals"]) >= Decimal::from(3), "{r:?}");
    }
    let total: u64 = rows
        .iter()
        .filter(|r| r["scope"] == "region" && r["level"] != "all")
        .map(|r| r["hospitals"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 40, "every hospital of June counted once");
}

#[test]
fn a_bad_fund_file_is_refused_with_its_line_and_field() {
    let Some(l) = ledger() else { return };
    let (d, dir, _) = l;
    let bad = dir.join("bad-fund.csv");
    let text =
        std::fs::read_to_string(fund_file(d))
            .unwrap()
            .replacen("69517252.82", "6951725x.82", 1);
    std::fs::write(&bad, text).unwrap();
    let out = common::drgdip(
        &d.shared,
        &[
            "disclose",
            "--year",
            "2025",
            "--db",
            &l.2,
            "--fund",
            s(&bad),
            "--params",
            s(&d.params),
            "--hospitals",
            s(&d.hospitals),
            "--output",
            s(&dir.join("bad")),
        ],
    );
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("line 3"), "{e}");
    assert!(e.contains("field"), "{e}");
}

/// Whether poppler-utils and a CJK font are here; without them the PDF test is skipped with a
/// note, unless `DRGDIP_REQUIRE_PDF_TOOLS` is set (CI sets it), when it fails.
fn pdf_tools() -> bool {
    let tool = |name: &str| Command::new(name).arg("-v").output().is_ok();
    let tools = ["pdffonts", "pdftoppm", "pdftotext"]
        .iter()
        .all(|t| tool(t));
    let font = Path::new("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").is_file()
        || std::env::var_os("DRGDIP_FONT").is_some();
    if tools && font {
        return true;
    }
    let missing = "poppler-utils (pdffonts, pdftoppm, pdftotext) or fonts-wqy-microhei";
    assert!(
        std::env::var_os("DRGDIP_REQUIRE_PDF_TOOLS").is_none(),
        "DRGDIP_REQUIRE_PDF_TOOLS is set but {missing} is missing: apt-get install -y poppler-utils fonts-wqy-microhei"
    );
    eprintln!("note: {missing} not installed: PDF test skipped");
    false
}

fn tool_output(name: &str, args: &[&str]) -> String {
    let out = Command::new(name).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn the_yearly_pack_as_a_pdf_embeds_its_chinese_font_and_draws_it() {
    let Some(l) = ledger() else { return };
    if !pdf_tools() {
        return;
    }
    let (d, dir, db) = l;
    let out = dir.join("pdf");
    let fund = fund_file(d);
    let (stdout, _) = run_ok(
        &d.shared,
        &[
            "disclose",
            "--year",
            "2025",
            "--db",
            db,
            "--fund",
            s(&fund),
            "--params",
            s(&d.params),
            "--hospitals",
            s(&d.hospitals),
            "--output",
            s(&out),
            "--pdf",
        ],
    );
    let pdf = out.join("disclose-year-2025.pdf");
    assert!(stdout.contains(s(&pdf)), "{stdout}");

    // the font is embedded (as a subset), with a ToUnicode map
    let fonts = tool_output("pdffonts", &[s(&pdf)]);
    let line = fonts
        .lines()
        .nth(2)
        .unwrap_or_else(|| panic!("no font: {fonts}"));
    assert!(line.contains("CID TrueType"), "{fonts}");
    let fields: Vec<&str> = line.split_whitespace().collect();
    let n = fields.len();
    assert_eq!(
        &fields[n - 5..n - 2],
        ["yes", "yes", "yes"],
        "emb sub uni: {fonts}"
    );
    assert_eq!(fonts.lines().count(), 3, "one font: {fonts}");

    // the Chinese text comes back
    let text = tool_output("pdftotext", &[s(&pdf), "-"]);
    for t in [
        "基金收支",
        "预算执行",
        "年度清算",
        "意见收集反馈",
        "415,602,223.92",
        "budget v1",
    ] {
        assert!(text.contains(t), "{t} not in the PDF text");
    }

    // the pages are drawn: PNG pages, and dark pixels on each
    let info = tool_output("pdfinfo", &[s(&pdf)]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|p| p.trim().parse().unwrap())
        .unwrap();
    assert!(pages >= 5, "{info}");
    assert!(info.contains("595.28 x 841.89"), "A4: {info}");
    let png = out.join("page");
    tool_output("pdftoppm", &["-png", "-r", "30", s(&pdf), s(&png)]);
    let pngs: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert_eq!(pngs.len(), pages);
    for p in &pngs {
        assert!(
            std::fs::read(p).unwrap().starts_with(b"\x89PNG"),
            "{}",
            p.display()
        );
    }
    let gray = out.join("gray");
    tool_output("pdftoppm", &["-gray", "-r", "50", s(&pdf), s(&gray)]);
    for entry in std::fs::read_dir(&out).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "pgm") {
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        // P5 header: magic, width, height, maxval, then one byte per pixel
        let mut fields = 0;
        let mut at = 0;
        while fields < 4 {
            while bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            while !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            fields += 1;
        }
        let pixels = &bytes[at + 1..];
        let dark = pixels.iter().filter(|&&v| v < 160).count();
        assert!(
            dark > 200,
            "{}: {dark} dark pixels of {}",
            p.display(),
            pixels.len()
        );
    }

    // a font that is not there is named
    let out = common::drgdip(
        &d.shared,
        &[
            "disclose",
            "--year",
            "2025",
            "--db",
            db,
            "--fund",
            s(&fund),
            "--params",
            s(&d.params),
            "--hospitals",
            s(&d.hospitals),
            "--output",
            s(&dir.join("pdf2")),
            "--pdf",
            "--font",
            "/nonexistent/font.ttf",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/font.ttf: no such file"));
}

#[test]
fn a_registered_and_adjusted_budget_is_the_one_the_pack_executes() {
    let Some(l) = ledger() else { return };
    let (d, dir, _) = l;
    // A copy of the dev year's ledger (the other tests read the original with no budget).
    let copy = tempdir("disclose-budget");
    for suffix in ["", "-wal", "-shm"] {
        let from = dir.join(format!("ledger.db{suffix}"));
        if from.exists() {
            std::fs::copy(&from, copy.join(format!("ledger.db{suffix}"))).unwrap();
        }
    }
    let db = format!("sqlite://{}", copy.join("ledger.db").display());
    run_ok(
        &d.shared,
        &["budget", "register", "--params", s(&d.params), "--db", &db],
    );
    run_ok(
        &d.shared,
        &[
            "budget",
            "adjust",
            "--year",
            "2025",
            "--reason",
            "年中调整",
            "--approved-by",
            "示例统筹区医保局",
            "--approved-on",
            "2025-07-01",
            "--document",
            "示医保〔2025〕9号",
            "--drg",
            "500000000.00",
            "--per-diem",
            "70000000.00",
            "--db",
            &db,
        ],
    );
    let out = copy.join("pack");
    disclose_db(d, &db, &["--year", "2025"], &out);
    let rows = read_csv(&out.join("disclose-year-2025-budget.csv"));
    let drg = rows
        .iter()
        .find(|r| r["line"] == "drg")
        .expect("a drg line");
    assert_eq!(dec(&drg["annual_budget"]), dec("500000000.00"));
    assert!(
        drg["source"]
            .contains("budget v2 (ledger), approved 2025-07-01 示例统筹区医保局 示医保〔2025〕9号"),
        "{}",
        drg["source"]
    );
}
