//! Negotiation rounds over HTTP (谈判协商) on the real store (SQLite in memory): two rounds
//! opened by the engine on 3,000 of the dev cases, one proposal simulated in each; a hospital
//! sees only the round a representative of it is party to, and in it only the lines of the
//! hospitals that representative speaks for plus the region's totals; another hospital's
//! round is 403 (audited), an unknown one 404; a write by a hospital is refused (403) and
//! audited; the bureau lists a party, appends to the minutes, agrees (the SHA-256 checked)
//! and nothing but the minutes follows the outcome.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use drgdip_engine::negotiation::{
    add_party, open_round, record_proposal, simulate_proposal, OpenRound, ProposalInput,
};
use drgdip_governance::negotiation::{Element, Party, PartyKind, ProposalOptions};
use drgdip_io::{BatchOptions, Purpose, ReadOptions};
use drgdip_scheme::{DirFiles, Registry};
use drgdip_server::Backend;
use drgdip_settle::{Action, Actor};
use drgdip_store::Store;
use serde_json::json;

fn party(id: &str, kind: PartyKind, hospitals: &[&str]) -> Party {
    Party {
        party_id: id.into(),
        kind,
        name: format!("{id} 代表"),
        hospital_ids: hospitals.iter().map(|h| h.to_string()).collect(),
    }
}

async fn refusals_of(store: &Store, actor: &str) -> usize {
    store
        .audit_log(10_000)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.event.action == Action::AccessRefused && r.event.actor == actor)
        .count()
}

#[tokio::test]
async fn hospitals_see_their_round_and_their_hospitals_lines_and_only_the_bureau_writes() {
    let Some(engine) = engine() else { return };
    let shared = shared().unwrap();
    let data = shared.join("testdata/chs-drg-2.0");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("negotiation-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // 3,000 of the dev cases, the engine's weights, a proposal with another base rate
    let text = std::fs::read_to_string(data.join("dev/cases.csv")).unwrap();
    let cases = dir.join("cases.csv");
    std::fs::write(
        &cases,
        text.lines().take(3001).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let weights = dir.join("weights.csv");
    std::fs::write(&weights, engine.region().weights.table.to_csv_string()).unwrap();
    let baseline = shared.join("params/region-350100-2025.toml");
    let params = std::fs::read_to_string(&baseline).unwrap();
    let proposal_text = params.replace("base_rate = \"38000.00\"", "base_rate = \"39000.00\"");
    assert_ne!(proposal_text, params);

    let store = Store::open("sqlite::memory:").await.unwrap();
    let files = DirFiles::new(&shared).unwrap();
    let mut registry = Registry::new(&files).unwrap();
    let bureau = Actor::bureau("chief");
    let open = |title: &str| OpenRound {
        title: title.into(),
        elements: vec![Element::Rates],
        cases: cases.clone(),
        baseline: baseline.clone(),
        hospitals: data.join("hospitals.csv"),
        weights: weights.clone(),
    };
    let r1 = open_round(&store, &mut registry, &bureau, &open("rates"))
        .await
        .unwrap();
    let r2 = open_round(&store, &mut registry, &bureau, &open("weights"))
        .await
        .unwrap();
    assert_eq!((r1.round.header.id, r2.round.header.id), (1, 2));
    for p in [
        party("bureau", PartyKind::Bureau, &[]),
        party(
            "rep-a",
            PartyKind::HospitalRepresentative,
            &["H001", "H003"],
        ),
        party("assoc", PartyKind::Association, &[]),
    ] {
        add_party(&store, &bureau, 1, &p).await.unwrap();
    }
    for p in [
        party("bureau", PartyKind::Bureau, &[]),
        party("rep-b", PartyKind::HospitalRepresentative, &["H002"]),
    ] {
        add_party(&store, &bureau, 2, &p).await.unwrap();
    }
    let mut sha = String::new();
    for round in [1, 2] {
        let record = drgdip_engine::negotiation::load_round(&store, round)
            .await
            .unwrap();
        let input = ProposalInput {
            party_id: "bureau".into(),
            counter_to: None,
            params_text: proposal_text.clone(),
            // the catalogue's path is relative to the shipped file
            params_origin: baseline.clone(),
            weights: None,
            note: "费率 39000".into(),
            options: ProposalOptions::default(),
        };
        let batch = BatchOptions {
            read: ReadOptions::for_purpose(Purpose::Pay),
            ..BatchOptions::default()
        };
        let simulated =
            simulate_proposal(&mut registry, &bureau, &record, &input, batch, None).unwrap();
        assert_eq!(simulated.summary.cases, 3000);
        sha = simulated.head.params_sha256.clone();
        record_proposal(&store, &bureau, &simulated).await.unwrap();
    }

    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    let app = app_with(backend).unwrap();
    let get = |token: &'static str, uri: String| {
        let app = app.clone();
        async move { call(&app, "GET", &uri, Some(token), None).await }
    };
    let post = |token: &'static str, uri: String, body: serde_json::Value| {
        let app = app.clone();
        async move { call(&app, "POST", &uri, Some(token), Some(&body.to_string())).await }
    };

    // the bureau sees both rounds and every hospital's line
    let all = get(BUREAU, "/v1/negotiations".into()).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json["rounds"].as_array().map(Vec::len), Some(2));
    let sim = get(BUREAU, "/v1/negotiations/1/proposals/1/simulation".into()).await;
    assert_eq!(sim.status, StatusCode::OK, "{}", sim.text);
    let bureau_lines = sim.json["hospitals"].as_array().unwrap().len();
    assert!(bureau_lines > 10, "{}", sim.text);
    assert!(sim.json["visible_hospitals"].is_null());

    // H001 sees round 1 only, and in it the lines of H001 and H003 with the region's totals
    let mine = get(H001, "/v1/negotiations".into()).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    let rounds = mine.json["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 1, "{}", mine.text);
    assert_eq!(rounds[0]["id"], 1);
    assert_eq!(rounds[0]["visible_hospitals"], json!(["H001", "H003"]));
    let lines = get(H001, "/v1/negotiations/1/proposals/1/simulation".into()).await;
    assert_eq!(lines.status, StatusCode::OK, "{}", lines.text);
    let seen: Vec<&str> = lines.json["hospitals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hospital_id"].as_str().unwrap())
        .collect();
    assert_eq!(seen, ["H001", "H003"], "{}", lines.text);
    for total in [
        "cases",
        "payment_baseline",
        "payment_proposal",
        "fund_due_baseline",
        "fund_due_proposal",
        "balance_baseline",
        "balance_proposal",
    ] {
        assert_eq!(
            lines.json["summary"][total], sim.json["summary"][total],
            "{total}"
        );
    }
    assert_eq!(
        lines.json["groups"], sim.json["groups"],
        "the groups are the region's"
    );
    for m in ["gainers", "losers"] {
        for h in lines.json["summary"][m].as_array().unwrap() {
            assert!(
                ["H001", "H003"].contains(&h["hospital_id"].as_str().unwrap()),
                "{m}: {h}"
            );
        }
    }

    // another round: 403, audited; an unknown one: 404; a malformed number: 400
    let before = refusals_of(&store, "h001-clerk").await;
    let r = get(H001, "/v1/negotiations/2".into()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = get(H001, "/v1/negotiations/2/proposals/1/simulation".into()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(refusals_of(&store, "h001-clerk").await, before + 2);
    assert_eq!(
        get(H001, "/v1/negotiations/9".into()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(BUREAU, "/v1/negotiations/1/proposals/7/simulation".into())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for bad in ["0", "abc", "01"] {
        let r = get(BUREAU, format!("/v1/negotiations/{bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
    }
    // H002 sees round 2 and not round 1
    let r = get(H002, "/v1/negotiations/1".into()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = get(H002, "/v1/negotiations/2".into()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // a reviewer sees none
    assert_eq!(
        get(R1, "/v1/negotiations".into()).await.status,
        StatusCode::FORBIDDEN
    );

    // a hospital writes nothing: 403, audited
    let before = refusals_of(&store, "h001-clerk").await;
    for (uri, body) in [
        ("/v1/negotiations/1/minutes", json!({"text": "我院不同意"})),
        ("/v1/negotiations/1/closing", json!({"reason": "x"})),
        (
            "/v1/negotiations/1/agreement",
            json!({"proposal": "1", "sha256": sha, "parties": ["rep-a"]}),
        ),
        (
            "/v1/negotiations/1/parties",
            json!({"party_id": "x", "kind": "association", "name": "x"}),
        ),
    ] {
        let r = post(H001, uri.into(), body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}: {}", r.text);
    }
    assert_eq!(refusals_of(&store, "h001-clerk").await, before + 4);
    let round = get(BUREAU, "/v1/negotiations/1".into()).await;
    assert_eq!(round.json["minutes"].as_array().map(Vec::len), Some(0));
    assert_eq!(round.json["state"], "proposals");

    // the bureau's writes
    let r = post(
        BUREAU,
        "/v1/negotiations/1/parties".into(),
        json!({"party_id": "ins", "kind": "insured_representative", "name": "参保人代表"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["parties"].as_array().map(Vec::len), Some(4));
    let r = post(
        BUREAU,
        "/v1/negotiations/1/parties".into(),
        json!({"party_id": "rep-c", "kind": "hospital_representative", "name": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = post(
        BUREAU,
        "/v1/negotiations/1/parties".into(),
        json!({"party_id": "rep-c", "kind": "mayor", "name": "x"}),
    )
    .await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("kind"))
    );
    let r = post(
        BUREAU,
        "/v1/negotiations/1/minutes".into(),
        json!({"text": "第一轮谈判"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["minutes"][0]["text"], "第一轮谈判");
    let wrong = "0".repeat(64);
    let r = post(
        BUREAU,
        "/v1/negotiations/1/agreement".into(),
        json!({"proposal": "1", "sha256": wrong, "parties": ["bureau", "rep-a"]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = post(
        BUREAU,
        "/v1/negotiations/1/agreement".into(),
        json!({"proposal": "1", "sha256": sha, "parties": ["bureau", "rep-a"], "note": "一致"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["state"], "agreed");
    assert_eq!(r.json["outcome"]["params_sha256"], sha.as_str());
    let r = post(
        BUREAU,
        "/v1/negotiations/1/closing".into(),
        json!({"reason": "late"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = post(
        BUREAU,
        "/v1/negotiations/1/minutes".into(),
        json!({"text": "签署"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // H001 reads the outcome of its round
    let r = get(H001, "/v1/negotiations/1".into()).await;
    assert_eq!(r.json["outcome"]["kind"], "agreed");
    assert_eq!(r.json["minutes"].as_array().map(Vec::len), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
