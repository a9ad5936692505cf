//! End-to-end tests of `drgdip negotiate …` (谈判协商, payment-model §9): a round opened on the
//! dev cases with the shipped parameters as baseline, a proposal (base rate 39,000) and a
//! counter-proposal (38,500, floor and ceiling ±1 %) each simulated and stored — the stored
//! lines are, byte for byte, what `drgdip simulate` writes for the same files — the
//! counter-proposal agreed, exported byte for byte with its SHA-256, and a month settled with
//! the export naming that SHA-256. Nothing after the outcome, no unlisted party, no other case
//! file; every write audited; the tables refuse updates. On SQLite, and on PostgreSQL when
//! `DRGDIP_TEST_PG_URL` is set. Skipped with a note when the shared directory is absent.

use std::path::{Path, PathBuf};

use drgdip_engine::digest::sha256_hex;
use drgdip_store::Store;

mod common;

use common::ledger::{block_on, data, run_ok, s, Data};
use common::pg::PgScratch;
use common::{drgdip, tempdir};

fn refused(shared: &Path, args: &[&str]) -> String {
    let out = drgdip(shared, args);
    assert!(!out.status.success(), "drgdip {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The shipped parameters with another base rate (the catalogue's and the calendar's paths
/// made absolute, as they are relative to the parameter file).
fn proposal_file(d: &Data, dir: &Path, name: &str, rate: &str) -> PathBuf {
    let text = std::fs::read_to_string(&d.params).unwrap();
    let dir_of = d.params.parent().unwrap();
    let catalogue = dir_of.join("fujian-exclusion-catalogue-2025.csv");
    let calendar = dir_of.join("../calendar/cn-holidays.txt");
    let changed = text
        .replace(
            "base_rate = \"38000.00\"",
            &format!("base_rate = \"{rate}\""),
        )
        .replace(
            "catalogue = \"fujian-exclusion-catalogue-2025.csv\"",
            &format!("catalogue = \"{}\"", catalogue.display()),
        )
        .replace(
            "calendar = \"../calendar/cn-holidays.txt\"",
            &format!("calendar = \"{}\"", calendar.display()),
        );
    assert_ne!(changed, text);
    assert!(changed.contains(&format!("base_rate = \"{rate}\"")));
    let p = dir.join(name);
    std::fs::write(&p, changed).unwrap();
    p
}

/// The value after `key ` on the first line that has it.
fn after<'a>(text: &'a str, key: &str) -> &'a str {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("{key:?} not in {text}"))
        + key.len();
    text[at..].split_whitespace().next().unwrap()
}

fn simulate(d: &Data, proposal: &Path, weights: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "simulate",
        "--cases",
        s(&d.cases),
        "--baseline",
        s(&d.params),
        "--proposal",
        s(proposal),
        "--hospitals",
        s(&d.hospitals),
        "--weights",
        s(weights),
        "-o",
        s(out),
        "-q",
    ];
    args.extend_from_slice(extra);
    run_ok(&d.shared, &args);
}

fn csv_sum(path: &Path, column: &str) -> rust_decimal::Decimal {
    common::read_csv(path)
        .iter()
        .map(|r| r[column].parse::<rust_decimal::Decimal>().unwrap())
        .sum()
}

fn a_round(d: &Data, db: &str, dir: &Path, weights: &Path) {
    let sh = d.shared.as_path();
    let neg = |args: &[&str]| {
        let mut a = vec!["negotiate"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--db", db]);
        run_ok(sh, &a).0
    };
    let neg_refused = |args: &[&str]| {
        let mut a = vec!["negotiate"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--db", db]);
        refused(sh, &a)
    };
    let out = neg(&[
        "open",
        "--title",
        "2025 DRG rates (费率谈判)",
        "--elements",
        "rates,coefficients",
        "--cases",
        s(&d.cases),
        "--baseline",
        s(&d.params),
        "--hospitals",
        s(&d.hospitals),
        "--weights",
        s(weights),
    ]);
    assert!(out.starts_with("opened round 1 (350100 2025)"), "{out}");
    assert_eq!(
        Path::new(after(&out, "cases ")),
        std::fs::canonicalize(&d.cases).unwrap(),
        "the case file is named by its absolute path: {out}"
    );
    let cases_sha = sha256_hex(&std::fs::read(&d.cases).unwrap());
    assert!(out.contains(&cases_sha), "{out}");

    for (id, kind, hospitals) in [
        ("bureau", "bureau", ""),
        ("rep-a", "hospital_representative", "H001,H002"),
        ("rep-b", "hospital_representative", "H003"),
        ("assoc", "association", ""),
    ] {
        let mut a = vec![
            "party", "--round", "1", "--id", id, "--kind", kind, "--name", "名称",
        ];
        if !hospitals.is_empty() {
            a.extend_from_slice(&["--hospitals", hospitals]);
        }
        assert!(neg(&a).contains(&format!("listed {id}")));
    }
    let e = neg_refused(&[
        "party",
        "--round",
        "1",
        "--id",
        "rep-a",
        "--kind",
        "association",
        "--name",
        "x",
    ]);
    assert!(e.contains("listed already"), "{e}");
    let e = neg_refused(&[
        "party",
        "--round",
        "1",
        "--id",
        "rep-c",
        "--kind",
        "hospital_representative",
        "--name",
        "x",
    ]);
    assert!(e.contains("at least one hospital"), "{e}");

    let p1 = proposal_file(d, dir, "proposal-39000.toml", "39000.00");
    let p2 = proposal_file(d, dir, "counter-38500.toml", "38500.00");
    // a party must be listed to propose; a counter answers a proposal of the round
    let e = neg_refused(&[
        "propose",
        "--round",
        "1",
        "--party",
        "nobody",
        "--params",
        s(&p1),
    ]);
    assert!(e.contains("must be listed"), "{e}");
    let e = neg_refused(&[
        "propose",
        "--round",
        "1",
        "--party",
        "rep-a",
        "--params",
        s(&p1),
        "--counter-to",
        "1",
    ]);
    assert!(e.contains("has no proposal 1"), "{e}");

    let out = neg(&[
        "propose",
        "--round",
        "1",
        "--party",
        "bureau",
        "--params",
        s(&p1),
        "--note",
        "费率 39000",
    ]);
    assert!(out.contains("proposal 1 by bureau recorded"), "{out}");
    let sha1 = after(&out, "params sha256 ")
        .trim_end_matches([')', ';'])
        .to_string();
    assert_eq!(sha1, sha256_hex(&std::fs::read(&p1).unwrap()));
    let out = neg(&[
        "propose",
        "--round",
        "1",
        "--party",
        "rep-a",
        "--counter-to",
        "1",
        "--params",
        s(&p2),
        "--floor",
        "-0.01",
        "--ceiling",
        "0.01",
        "--note",
        "三级医院: 38500, 保底封顶 ±1%",
    ]);
    assert!(out.contains("proposal 2 by rep-a recorded"), "{out}");
    let sha2 = after(&out, "params sha256 ")
        .trim_end_matches([')', ';'])
        .to_string();
    assert_eq!(sha2, sha256_hex(&std::fs::read(&p2).unwrap()));

    // the stored simulations are `drgdip simulate`'s, read back without re-running
    for (k, p, extra) in [
        ("1", &p1, &[][..]),
        ("2", &p2, &["--floor", "-0.01", "--ceiling", "0.01"][..]),
    ] {
        let sim = dir.join(format!("simulate-{k}"));
        simulate(d, p, weights, &sim, extra);
        let stored = dir.join(format!("stored-{k}"));
        let out = neg(&[
            "show",
            "--round",
            "1",
            "--proposal",
            k,
            "--output",
            s(&stored),
        ]);
        for f in ["hospitals.csv", "groups.csv"] {
            let a = std::fs::read_to_string(sim.join(f)).unwrap();
            let b = std::fs::read_to_string(stored.join(f)).unwrap();
            assert!(a.lines().count() > 30, "{f}: {a}");
            assert_eq!(a, b, "proposal {k} {f}: stored ≠ drgdip simulate");
        }
        // the summary's totals are the sums of simulate's lines
        let h = sim.join("hospitals.csv");
        let (pb, pp) = (
            csv_sum(&h, "payment_baseline"),
            csv_sum(&h, "payment_proposal"),
        );
        assert!(
            out.contains(&format!("payment {pb:.2} → {pp:.2}")),
            "{out}\nexpected payment {pb} → {pp}"
        );
        let (fb, fp) = (
            csv_sum(&h, "fund_due_baseline"),
            csv_sum(&h, "fund_due_proposal"),
        );
        assert!(
            out.contains(&format!("fund due {fb:.2} → {fp:.2}")),
            "{out}"
        );
        assert!(out.contains("20000 cases (0 invalid"), "{out}");
        if k == "2" {
            assert!(out.contains("held at a bound: "), "{out}");
        }
    }

    // the agreed version: one of the round's proposals, its SHA-256 given again
    let e = neg_refused(&[
        "agree",
        "--round",
        "1",
        "--proposal",
        "2",
        "--sha256",
        &sha1,
        "--parties",
        "bureau,rep-a",
    ]);
    assert!(e.contains("is not the SHA-256 of proposal 2"), "{e}");
    let e = neg_refused(&[
        "agree",
        "--round",
        "1",
        "--proposal",
        "3",
        "--sha256",
        &sha2,
        "--parties",
        "bureau",
    ]);
    assert!(e.contains("one of the round's proposals"), "{e}");
    let e = neg_refused(&[
        "agree",
        "--round",
        "1",
        "--proposal",
        "2",
        "--sha256",
        &sha2,
        "--parties",
        "rep-a",
    ]);
    assert!(e.contains("bureau's party"), "{e}");
    let e = neg_refused(&["export", "--round", "1", "--output", s(&dir.join("x.toml"))]);
    assert!(e.contains("no agreed parameter version"), "{e}");
    neg(&[
        "minutes",
        "--round",
        "1",
        "--text",
        "第一轮: 医保局提出费率39000元",
    ]);
    let out = neg(&[
        "agree",
        "--round",
        "1",
        "--proposal",
        "2",
        "--sha256",
        &sha2,
        "--parties",
        "bureau,rep-a,rep-b",
        "--note",
        "协商一致",
    ]);
    assert!(
        out.contains("proposal 2 agreed by bureau,rep-a,rep-b — agreed"),
        "{out}"
    );
    // nothing after the outcome but the minutes
    let e = neg_refused(&[
        "propose",
        "--round",
        "1",
        "--party",
        "bureau",
        "--params",
        s(&p1),
    ]);
    assert!(e.contains("no proposal after the outcome"), "{e}");
    let e = neg_refused(&["close", "--round", "1", "--reason", "late"]);
    assert!(e.contains("after the outcome"), "{e}");
    let e = neg_refused(&[
        "party",
        "--round",
        "1",
        "--id",
        "ins",
        "--kind",
        "insured_representative",
        "--name",
        "x",
    ]);
    assert!(e.contains("after the outcome"), "{e}");
    neg(&["minutes", "--round", "1", "--text", "签署协议"]);

    let agreed = dir.join("agreed.toml");
    let out = neg(&["export", "--round", "1", "--output", s(&agreed)]);
    assert!(out.contains(&format!("sha256 {sha2}")), "{out}");
    assert_eq!(std::fs::read(&agreed).unwrap(), std::fs::read(&p2).unwrap());

    let out = neg(&["show", "--round", "1"]);
    assert!(out.contains("— agreed"), "{out}");
    assert!(
        out.contains("outcome: proposal 2 agreed by bureau,rep-a,rep-b"),
        "{out}"
    );
    assert!(
        out.contains("[1]") && out.contains("第一轮") && out.contains("[2]"),
        "{out}"
    );
    assert!(out.contains("2 (counter to 1) by rep-a"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&neg(&["show", "--round", "1", "--json"])).unwrap();
    assert_eq!(json["state"], "agreed");
    assert_eq!(json["proposals"].as_array().map(Vec::len), Some(2));
    let out = neg(&["list"]);
    assert!(out.contains("\n1,350100,2025,agreed,2,2,"), "{out}");

    // a round on a case file that then changes: its proposals are refused
    let copy = dir.join("cases-copy.csv");
    std::fs::copy(&d.cases, &copy).unwrap();
    let out = neg(&[
        "open",
        "--title",
        "second",
        "--elements",
        "weights",
        "--cases",
        s(&copy),
        "--baseline",
        s(&d.params),
        "--hospitals",
        s(&d.hospitals),
        "--weights",
        s(weights),
    ]);
    assert!(out.starts_with("opened round 2"), "{out}");
    neg(&[
        "party", "--round", "2", "--id", "bureau", "--kind", "bureau", "--name", "b",
    ]);
    let mut text = std::fs::read_to_string(&copy).unwrap();
    let first = text.lines().nth(1).unwrap().to_string();
    text.push_str(&first);
    text.push('\n');
    std::fs::write(&copy, text).unwrap();
    let e = neg_refused(&[
        "propose",
        "--round",
        "2",
        "--party",
        "bureau",
        "--params",
        s(&p1),
    ]);
    assert!(e.contains("is not the one round 2 was opened on"), "{e}");
    neg(&["close", "--round", "2", "--reason", "无法达成一致"]);
    let out = neg(&["list"]);
    assert!(out.contains("\n2,350100,2025,closed,0,,second"), "{out}");

    // the region settles with the agreed version: the run names its SHA-256
    run_ok(
        sh,
        &[
            "settle",
            "--month",
            "2025-01",
            "-i",
            s(&d.cases),
            "--params",
            s(&agreed),
            "--hospitals",
            s(&d.hospitals),
            "--weights",
            s(weights),
            "--db",
            db,
            "-q",
        ],
    );

    block_on(async {
        let store = Store::open(db).await.unwrap();
        let runs = store.settlement_runs(None).await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].inputs.params_sha256, sha2);
        // every write audited
        let actions: Vec<String> = store
            .audit_of("negotiation 1")
            .await
            .unwrap()
            .iter()
            .map(|r| r.event.action.as_str().to_string())
            .collect();
        let count = |a: &str| actions.iter().filter(|x| *x == a).count();
        assert_eq!(count("negotiation.opened"), 1, "{actions:?}");
        assert_eq!(count("negotiation.party_added"), 4, "{actions:?}");
        assert_eq!(count("negotiation.proposed"), 2, "{actions:?}");
        assert_eq!(count("negotiation.agreed"), 1, "{actions:?}");
        assert_eq!(count("negotiation.minutes_appended"), 2, "{actions:?}");
        assert_eq!(actions.len(), 10, "{actions:?}");
        // insert-only: what is stored is never rewritten
        for sql in [
            "UPDATE negotiation_proposals SET params_text = 'x'",
            "DELETE FROM negotiation_minutes",
            "UPDATE negotiation_sim_hospitals SET payment_proposal = '0'",
            "DELETE FROM negotiation_outcomes",
            "UPDATE negotiation_rounds SET region = 'x'",
        ] {
            let e = drgdip_store::sqlx::query(sql)
                .execute(&open_pool(db).await)
                .await
                .expect_err(sql);
            assert!(e.to_string().contains("insert-only"), "{sql}: {e}");
        }
        store.close().await;
    });
}

async fn open_pool(url: &str) -> drgdip_store::sqlx::AnyPool {
    drgdip_store::sqlx::any::install_default_drivers();
    drgdip_store::sqlx::AnyPool::connect(url).await.unwrap()
}

#[test]
fn a_round_records_simulated_proposals_the_agreed_version_and_its_minutes() {
    let Some(d) = data() else { return };
    let dir = tempdir("negotiate");
    let weights = dir.join("weights.csv");
    // the weights from the dev year itself (the 2024 history takes longer to read)
    run_ok(
        &d.shared,
        &[
            "weights",
            "--history",
            s(&d.cases),
            "--params",
            s(&d.params),
            "-o",
            s(&weights),
            "-q",
        ],
    );
    let lite = format!("sqlite://{}", dir.join("ledger.db").display());
    a_round(&d, &lite, &dir, &weights);
    match std::env::var("DRGDIP_TEST_PG_URL") {
        Ok(base) if !base.is_empty() => {
            let pg = PgScratch::new(&base, "negotiate");
            let pgdir = dir.join("pg");
            std::fs::create_dir_all(&pgdir).unwrap();
            a_round(&d, &pg.url, &pgdir, &weights);
        }
        _ => eprintln!(
            "note: DRGDIP_TEST_PG_URL not set: the negotiation rounds are not checked on PostgreSQL"
        ),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
