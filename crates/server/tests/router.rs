//! Every endpoint through the router (`tower::ServiceExt::oneshot`, no network), and role
//! isolation: a hospital sees and applies only for its own cases, a reviewer never sees the
//! hospital, the bureau sees all, every refusal is a 403 written to the audit log, and a
//! request without a known token is a 401.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

macro_rules! setup {
    () => {{
        let backend = seeded_or_return!();
        match app(backend.clone()) {
            Some(app) => (app, backend),
            None => return,
        }
    }};
}

macro_rules! seeded_or_return {
    () => {{
        if engine().is_none() {
            return;
        }
        seeded()
    }};
}

const CASE: &str = r#"{"case_id":"C0000002","hospital_id":"H032","hospital_level":"1","gender":"1","age":"72","los":"11","discharge_way":"1","diagnoses":"C71.003","procedures":"07.7202","discharge_date":"2025-06-08","insured_region":"350100","insurance_type":"resident","new_tech_flag":"0","total_cost":"50060.28","fund_paid":"32451.29"}"#;

fn refusals_of(backend: &MemBackend, actor: &str) -> Vec<drgdip_server::AuditEntry> {
    backend
        .refusals()
        .into_iter()
        .filter(|e| e.actor == actor)
        .collect()
}

#[tokio::test]
async fn no_token_or_an_unknown_one_is_401_with_a_json_error() {
    let (app, backend) = setup!();
    for (uri, method) in [
        ("/v1/group", "POST"),
        ("/v1/statements", "GET"),
        ("/v1/special-cases", "GET"),
        ("/v1/audit", "GET"),
    ] {
        let a = call(&app, method, uri, None, Some(CASE)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(a.json["error"], "unauthorized");
        assert_eq!(a.headers["www-authenticate"], "Bearer");
        let a = call(&app, method, uri, Some("not-a-token-at-all"), Some(CASE)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(a.json["message"], "unknown token");
    }
    assert!(
        backend.audit().is_empty(),
        "a 401 is not an audited refusal"
    );
}

#[tokio::test]
async fn the_index_the_openapi_document_and_health_are_public() {
    let (app, _) = setup!();
    let a = call(&app, "GET", "/api", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.text.contains("/v1/special-cases/{id}/review") && a.text.contains("/openapi.json"));
    let a = call(&app, "GET", "/openapi.json", None, None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json["openapi"].as_str().unwrap().starts_with("3."));
    // every route of the access policy is documented with its method, and nothing else
    let paths = a.json["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let m = method.to_uppercase();
            assert!(
                drgdip_server::auth::ROUTES
                    .iter()
                    .any(|r| r.method == m && r.path == path),
                "{m} {path} is documented but has no access rule"
            );
            documented += 1;
        }
    }
    assert_eq!(documented, drgdip_server::auth::ROUTES.len());
    assert!(a.json["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(call(&app, "GET", "/health", None, None).await.text, "ok");
    let a = call(&app, "GET", "/nope", None, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json["error"], "not_found");
    let a = call(&app, "DELETE", "/v1/group", Some(BUREAU), None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn whoami_names_the_actor_and_role() {
    let (app, _) = setup!();
    let a = call(&app, "GET", "/v1/whoami", Some(H001), None).await;
    assert_eq!(
        a.json,
        json!({"actor": "h001-clerk", "role": "hospital", "hospital_id": "H001"})
    );
    let a = call(&app, "GET", "/v1/whoami", Some(R1), None).await;
    assert_eq!(
        a.json,
        json!({"actor": "R1", "role": "reviewer", "hospital_id": null})
    );
    let a = call(&app, "GET", "/v1/whoami", Some(BUREAU), None).await;
    assert_eq!(a.json["role"], "bureau");
}

#[tokio::test]
async fn group_gives_the_official_groups_of_the_dev_cases_and_explains_them() {
    let (app, _) = setup!();
    let shared = shared().unwrap();
    let dir = shared.join("testdata/chs-drg-2.0/dev");
    let mut cases = csv::Reader::from_path(dir.join("cases.csv")).unwrap();
    let header = cases.headers().unwrap().clone();
    let mut expected = csv::Reader::from_path(dir.join("expected_fujian_2024.csv")).unwrap();
    let status_en = |zh: &str| match zh {
        "分组成功" => "grouped",
        "歧义病案" => "ambiguous",
        "无法入组" => "ungroupable",
        _ => "invalid",
    };
    let mut n = 0;
    for (row, exp) in cases.records().zip(expected.records()).take(150) {
        let (row, exp) = (row.unwrap(), exp.unwrap());
        let body: serde_json::Map<String, Value> = header
            .iter()
            .zip(row.iter())
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        let a = call(
            &app,
            "POST",
            "/v1/group",
            Some(H001),
            Some(&Value::Object(body).to_string()),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.json["case_id"], exp[0]);
        assert_eq!(a.json["status"], status_en(&exp[1]), "{}", a.text);
        assert_eq!(a.json["status_zh"], exp[1]);
        if a.json["status"] != "invalid" {
            assert_eq!(a.json["mdc"], exp[2], "{}", a.text);
            assert_eq!(a.json["adrg"], exp[3], "{}", a.text);
            assert_eq!(a.json["drg"], exp[4], "{}", a.text);
            assert_eq!(a.json["scheme"], "fujian-2024");
            assert!(!a.json["explanation"].as_array().unwrap().is_empty());
        }
        n += 1;
    }
    assert_eq!(n, 150);

    // English, another scheme, auto
    let a = call(
        &app,
        "POST",
        "/v1/group?lang=en&scheme=chs-drg-2.0",
        Some(R1),
        Some(CASE),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["scheme"], "chs-drg-2.0");
    assert_eq!(a.json["drg"], "BB35");
    let lines = a.json["explanation"].as_array().unwrap();
    assert!(
        lines.iter().any(|l| l
            .as_str()
            .unwrap()
            .starts_with("principal diagnosis C71.003")),
        "{lines:?}"
    );
    let a = call(
        &app,
        "POST",
        "/v1/group?scheme=auto",
        Some(BUREAU),
        Some(CASE),
    )
    .await;
    assert_eq!(
        a.json["scheme"], "fujian-2024",
        "350100 in 2025 selects fujian-2024"
    );
    // the treating region decides, not the insured one: a cross-province case too
    let cross = CASE.replace(
        "\"insured_region\":\"350100\"",
        "\"insured_region\":\"440100\"",
    );
    assert_ne!(cross, CASE);
    let a = call(
        &app,
        "POST",
        "/v1/group?scheme=auto",
        Some(BUREAU),
        Some(cross.as_str()),
    )
    .await;
    assert_eq!(
        a.json["scheme"], "fujian-2024",
        "the server's region 350100 treats the 440100 patient"
    );
    let a = call(&app, "POST", "/v1/group?lang=zh", Some(BUREAU), Some(CASE)).await;
    let lines = a.json["explanation"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("主诊断 C71.003")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn group_takes_numbers_flags_and_code_lists_and_reports_an_invalid_case() {
    let (app, _) = setup!();
    let body = json!({"gender": 1, "age": 72, "diagnoses": ["C71.003"], "procedures": ["07.7202"], "new_tech_flag": false});
    let a = call(
        &app,
        "POST",
        "/v1/group",
        Some(H001),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["case_id"], "-");
    assert_eq!(a.json["status"], "grouped");
    // a code that is not in the catalog: the case is invalid, with the field
    let body = json!({"case_id": "X1", "gender": "1", "age": "40", "diagnoses": "ZZZ.999"});
    let a = call(
        &app,
        "POST",
        "/v1/group",
        Some(H001),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["status"], "invalid");
    assert_eq!(a.json["status_zh"], "信息校验不通过");
    assert_eq!(a.json["problems"][0]["field"], "diagnoses");
    // full-width codes are repaired and the repair is shown
    let body = json!({"gender": "1", "age": "72", "diagnoses": "Ｃ７１．００３"});
    let a = call(
        &app,
        "POST",
        "/v1/group",
        Some(H001),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(a.json["status"], "grouped", "{}", a.text);
    assert!(a.json["repairs"].as_str().unwrap().contains("diagnoses"));
}

#[tokio::test]
async fn bad_input_is_400_naming_the_field() {
    let (app, _) = setup!();
    let cases: &[(&str, &str, &str)] = &[
        (
            "/v1/group",
            r#"{"gender":"1","age":"40","diagnosis":"C71.003"}"#,
            "diagnosis",
        ),
        (
            "/v1/group",
            r#"{"age":"40","diagnoses":"C71.003"}"#,
            "gender",
        ),
        (
            "/v1/group",
            r#"{"gender":{"x":1},"age":"40","diagnoses":"C71.003"}"#,
            "gender",
        ),
        ("/v1/group?lang=fr", CASE, "lang"),
        // exactly the values the document lists: no aliases, no empty value
        ("/v1/group?lang=cn", CASE, "lang"),
        ("/v1/group?lang=", CASE, "lang"),
        ("/v1/group?scheme=nope", CASE, "scheme"),
        ("/v1/group?scheme=", CASE, "scheme"),
        ("/v1/group?color=red", CASE, "color"),
    ];
    for (uri, body, field) in cases {
        let a = call(&app, "POST", uri, Some(H001), Some(body)).await;
        assert_eq!(
            a.status,
            StatusCode::BAD_REQUEST,
            "{uri} {body}: {}",
            a.text
        );
        assert_eq!(a.json["error"], "bad_request");
        assert_eq!(a.json["field"], *field, "{uri} {body}: {}", a.text);
    }
    for body in [
        "",
        "not json",
        "[1,2]",
        "null",
        "{\"gender\":\"1\"} trailing",
        "{\"a\":",
    ] {
        let a = call(&app, "POST", "/v1/group", Some(H001), Some(body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body:?}: {}", a.text);
        assert_eq!(a.json["error"], "bad_request");
    }
    let a = call(
        &app,
        "GET",
        "/v1/statements?month=2025-13",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.json["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("month"))
    );
    for query in [
        "?month=",
        "?month=%202025-06",
        "?hospital=",
        "?hospital=H%20001",
    ] {
        let a = call(
            &app,
            "GET",
            &format!("/v1/statements{query}"),
            Some(BUREAU),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}: {}", a.text);
    }
    for limit in ["0", "10001", "+5", "%205", "5.0", ""] {
        let a = call(
            &app,
            "GET",
            &format!("/v1/audit?limit={limit}"),
            Some(BUREAU),
            None,
        )
        .await;
        assert_eq!(
            (a.status, a.json["field"].clone()),
            (StatusCode::BAD_REQUEST, json!("limit")),
            "{limit}"
        );
    }
    let a = call(
        &app,
        "GET",
        "/v1/special-cases?period=2025Q5",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.json["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("period"))
    );
}

#[tokio::test]
async fn a_case_that_cannot_be_paid_is_answered_invalid_with_its_problems() {
    // as `drgdip pay` writes such a row: a schema-valid case is never a 400
    let (app, _) = setup!();
    let cases: &[(&str, &[&str])] = &[
        (
            r#"{"gender":"1","age":"40","diagnoses":"C71.003","hospital_id":"H001","fund_paid":"1.00"}"#,
            &["total_cost"],
        ),
        (
            r#"{"gender":"1","age":"40","diagnoses":"C71.003","hospital_id":"H001","total_cost":"1.00"}"#,
            &["fund_paid"],
        ),
        (
            r#"{"gender":"1","age":"40","diagnoses":"C71.003","hospital_id":"H999","total_cost":"9.00","fund_paid":"1.00"}"#,
            &["hospital_level"],
        ),
        (
            r#"{"gender":"1","age":"40","diagnoses":"C71.003"}"#,
            &["total_cost", "fund_paid", "hospital_level"],
        ),
    ];
    for (body, fields) in cases {
        let a = call(&app, "POST", "/v1/pay", Some(H001), Some(body)).await;
        assert_eq!(a.status, StatusCode::OK, "{body}: {}", a.text);
        assert_eq!(
            (a.json["category"].as_str(), a.json["payment"].as_str()),
            (Some("invalid"), Some("0.00")),
            "{}",
            a.text
        );
        let named: Vec<&str> = a.json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["field"].as_str().unwrap())
            .collect();
        assert_eq!(named, *fields, "{}", a.text);
    }
}

#[tokio::test]
async fn pay_gives_the_category_weight_standard_and_shares() {
    let (app, _) = setup!();
    let a = call(&app, "POST", "/v1/pay", Some(H001), Some(CASE)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let j = &a.json;
    assert_eq!(j["drg"], "BB35");
    assert_eq!(j["scheme"], "fujian-2024");
    assert_eq!(j["hospital_level"], 1);
    assert!(j["weight"].as_str().is_some());
    let dec = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    let (payment, own, fund_due) = (dec(&j["payment"]), dec(&j["own"]), dec(&j["fund_due"]));
    assert_eq!(own, dec(&json!("17608.99")), "own = total_cost − fund_paid");
    assert_eq!(fund_due, (payment - own).max(rust_decimal::Decimal::ZERO));
    let rules = j["rules"].as_array().unwrap();
    assert!(
        rules[0].as_str().unwrap().contains("hospitals file"),
        "{rules:?}"
    );
    assert!(["normal", "high", "low"].contains(&j["category"].as_str().unwrap()));
    // an invalid case is not paid
    let body = json!({"case_id": "X1", "gender": "1", "age": "40", "diagnoses": "ZZZ.999", "total_cost": "10", "fund_paid": "5", "hospital_id": "H001"});
    let a = call(&app, "POST", "/v1/pay", Some(H001), Some(&body.to_string())).await;
    assert_eq!(a.json["category"], "invalid");
    assert_eq!(a.json["fund_due"], "0.00");
}

#[tokio::test]
async fn statements_the_bureau_sees_all_a_hospital_its_own_a_reviewer_none() {
    let (app, backend) = setup!();
    let a = call(&app, "GET", "/v1/statements", Some(BUREAU), None).await;
    assert_eq!(a.status, StatusCode::OK);
    let hospitals: Vec<&str> = a
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["hospital_id"].as_str().unwrap())
        .collect();
    assert_eq!(hospitals, ["H001", "H002"]);
    let s = &a.json[0];
    assert_eq!(s["month"], "2025-06");
    assert_eq!(s["cases"], 61);
    assert_eq!(s["by_category"]["invalid"]["cases"], 1);
    assert!(s["amount_due"].is_string() && s["due_by"].is_string());
    let a = call(
        &app,
        "GET",
        "/v1/statements?month=2025-06&hospital=H002",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(a.json.as_array().unwrap().len(), 1);
    assert_eq!(a.json[0]["hospital_id"], "H002");
    let a = call(
        &app,
        "GET",
        "/v1/statements?month=2025-05",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(a.json, json!([]));

    // a hospital: its own, by default and by name
    for uri in [
        "/v1/statements",
        "/v1/statements?hospital=H001&month=2025-06",
    ] {
        let a = call(&app, "GET", uri, Some(H001), None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.json.as_array().unwrap().len(), 1);
        assert_eq!(a.json[0]["hospital_id"], "H001");
    }
    assert!(backend.refusals().is_empty());
    // another hospital's: 403, audited
    let a = call(
        &app,
        "GET",
        "/v1/statements?hospital=H002",
        Some(H001),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.json["error"], "forbidden");
    assert!(!a.text.contains("B06-"));
    let r = refusals_of(&backend, "h001-clerk");
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].role.as_str(), r[0].hospital_id.as_deref()),
        ("hospital", Some("H001"))
    );
    assert_eq!(r[0].subject, "statements of H002");
    assert!(r[0].reason.contains("view statements") && r[0].reason.contains("its own"));
    // a reviewer: not its role, 403, audited
    let a = call(&app, "GET", "/v1/statements", Some(R1), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let r = refusals_of(&backend, "R1");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].subject, "/v1/statements");
    assert!(r[0].reason.contains("GET /v1/statements"), "{r:?}");
}

fn submit_body(period: &str, cases: &[&str]) -> String {
    json!({"period": period, "case_ids": cases, "reason": "high_cost", "text": "cost far above the group", "records": "case_id\n"}).to_string()
}

#[tokio::test]
async fn a_bad_application_is_400_naming_the_field() {
    let (app, backend) = setup!();
    let long = "字".repeat(drgdip_server::contract::TEXT_MAX + 1);
    let many: Vec<String> = (0..=drgdip_server::contract::CASES_MAX)
        .map(|i| format!("A06-{i:04}"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    // the form (400): what the document does not allow
    let cases: &[(String, &str)] = &[
        (submit_body("2025-06", &["A06-0001"]), "period"),
        (submit_body("2025Q9", &["A06-0001"]), "period"),
        (submit_body(" 2025Q2", &["A06-0001"]), "period"),
        (submit_body("2025Q2", &[]), "case_ids"),
        (submit_body("2025Q2", &many), "case_ids"),
        (submit_body("2025Q2", &["A06-0001", "A06-0001"]), "case_ids[1]"),
        (submit_body("2025Q2", &["A06-0001", " "]), "case_ids[1]"),
        (submit_body("2025Q2", &["A06-0001", " A06-0002"]), "case_ids[1]"),
        (json!({"period":"2025Q2","case_ids":["A06-0001"],"reason":"because","text":"x","records":"case_id\n"}).to_string(), "reason"),
        (json!({"period":"2025Q2","case_ids":["A06-0001"],"reason":" high_cost","text":"x","records":"case_id\n"}).to_string(), "reason"),
        (json!({"period":"2025Q2","case_ids":["A06-0001"],"reason":"high_cost","text":"  ","records":"case_id\n"}).to_string(), "text"),
        (json!({"period":"2025Q2","case_ids":["A06-0001"],"reason":"high_cost","text":long,"records":"case_id\n"}).to_string(), "text"),
        (json!({"period":"2025Q2","case_ids":"A06-0001","reason":"high_cost","text":"x","records":"case_id\n"}).to_string(), "case_ids"),
        (json!({"period":"2025Q2","case_ids":["A06-0001"],"reason":"high_cost","records":"case_id\n"}).to_string(), "text"),
        (json!({"period":"2025Q2","case_ids":["A06-0001"],"reason":"high_cost","text":"x"}).to_string(), "records"),
        (json!({"period":"2025Q2","case_ids":["A06-0001"],"reason":"high_cost","text":"x","records":" "}).to_string(), "records"),
        (json!({"period":"2025Q2","case_ids":["A06-0001"],"reason":"high_cost","text":"x","records":"case_id\n","urgent":true}).to_string(), "urgent"),
        (json!({"period":"2025Q2","case_ids":["A06-0001"],"reason":"high_cost","text":"x","records":"case_id\n","hospital_id":"H 1"}).to_string(), "hospital_id"),
    ];
    for (body, field) in cases {
        let a = call(&app, "POST", "/v1/special-cases", Some(H001), Some(body)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {}", a.text);
        assert_eq!(a.json["field"], *field, "{body}: {}", a.text);
    }
    // the data (404, 409, 422) needs the ledger: tests/special_cases.rs
    let a = call(
        &app,
        "POST",
        "/v1/special-cases",
        Some(H001),
        Some(&submit_body("2025Q2", &["A06-0001"])),
    )
    .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert_eq!(backend.applications_count(), 0);
    assert!(backend.audit().is_empty());
}

#[tokio::test]
async fn nothing_panics_on_odd_input() {
    let (app, _) = setup!();
    let deep = "[".repeat(10_000);
    let odd = [
        "{}",
        "[]",
        "0",
        "\"x\"",
        "{\"gender\":\"1\",\"age\":\"99999999999999999999\",\"diagnoses\":\"C71.003\"}",
        "{\"gender\":\"9\",\"age\":\"-1\",\"diagnoses\":\"C71.003\",\"total_cost\":\"1e400\",\"fund_paid\":\"NaN\",\"hospital_level\":\"7\"}",
        "{\"gender\":1.5e308,\"age\":[],\"diagnoses\":[\"\"]}",
        "{\"opinions\":[{\"case_id\":\"x\",\"outcome\":{\"kind\":\"approved_extra_points\",\"points\":\"-99999999999999999999999999999\"},\"reason\":\"r\"}]}",
        "{\"reviewer_id\":\"\"}",
        "{\"reviewer_ids\":[\"\"]}",
        "{\"half\":\"2025H9\",\"seed\":\"-1\"}",
        "{\"case\":\"SC-1\",\"reviewer_id\":\"E1\"}",
        "{\"reason\":\"\"}",
        deep.as_str(),
        "\u{0}\u{1}",
    ];
    let uris = [
        ("POST", "/v1/group"),
        ("POST", "/v1/group?scheme=auto"),
        ("POST", "/v1/pay"),
        ("POST", "/v1/special-cases"),
        ("POST", "/v1/special-cases/SC-000001/assign"),
        ("POST", "/v1/special-cases/SC-000001/review"),
        ("POST", "/v1/special-cases/SC-000001/withdraw"),
        ("POST", "/v1/special-cases/SC-000001/spot-check"),
        ("POST", "/v1/special-cases/spot-checks"),
        ("GET", "/v1/special-cases/notice?half=2025H7"),
        ("GET", "/v1/statements?month=%FF%FE"),
        ("GET", "/v1/special-cases?period=%00"),
        ("GET", "/v1/audit?limit=99999999999999999999"),
    ];
    for (method, uri) in uris {
        for body in odd {
            for token in [BUREAU, H001, R1] {
                let a = call(&app, method, uri, Some(token), Some(body)).await;
                assert!(
                    a.status.is_success() || a.status.is_client_error(),
                    "{method} {uri} {body:?}: {} {}",
                    a.status,
                    a.text
                );
                if !a.status.is_success() {
                    assert!(a.json["error"].is_string(), "{method} {uri}: {}", a.text);
                }
            }
        }
    }
}

#[tokio::test]
async fn settling_clearing_and_the_runs_are_the_bureau_s_and_every_refusal_is_audited() {
    let (app, backend) = setup!();
    let calls: [(&str, &str, Option<&str>); 3] = [
        ("POST", "/v1/settlements?month=2025-06", Some("case_id\n")),
        ("POST", "/v1/clearings?year=2025", None),
        ("GET", "/v1/ledger/runs", None),
    ];
    for token in [H001, R1] {
        for (method, uri, body) in calls {
            let a = call(&app, method, uri, Some(token), body).await;
            assert_eq!(
                (a.status, a.json["error"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{method} {uri}: {}",
                a.text
            );
        }
    }
    assert_eq!(refusals_of(&backend, "h001-clerk").len(), 3);
    assert_eq!(refusals_of(&backend, "R1").len(), 3);
    let a = call(&app, "GET", "/v1/ledger/cases", Some(R1), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(refusals_of(&backend, "R1").len(), 4);

    // the form first (400 naming the field); then the double, which is not a ledger: 503
    for (uri, field) in [
        ("/v1/settlements?month=2025-13", "month"),
        ("/v1/settlements?month=202506", "month"),
        ("/v1/settlements", "month"),
        ("/v1/settlements?month=2025-06&force=yes", "force"),
        ("/v1/settlements?month=2025-06&dry_run=true", "dry_run"),
        ("/v1/clearings?year=25", "year"),
        ("/v1/clearings", "year"),
        ("/v1/clearings?year=2025&point_value=-1", "point_value"),
        ("/v1/clearings?year=2025&point_value=0", "point_value"),
    ] {
        let a = call(&app, "POST", uri, Some(BUREAU), Some("case_id\n")).await;
        assert_eq!(
            (a.status, a.json["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{uri}: {}",
            a.text
        );
    }
    for uri in [
        "/v1/settlements?month=2025-06&force=true",
        "/v1/clearings?year=2025&point_value=12.5",
    ] {
        let a = call(&app, "POST", uri, Some(BUREAU), Some("case_id\n")).await;
        assert_eq!(
            (a.status, a.json["error"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")),
            "{uri}: {}",
            a.text
        );
    }
    let a = call(
        &app,
        "GET",
        "/v1/ledger/runs?month=2025-06",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.json.as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
}

#[tokio::test]
async fn the_ledger_cases_a_hospital_its_own_the_bureau_all() {
    let (app, backend) = setup!();
    let rows = |a: &Answer| a.json.as_array().cloned().unwrap_or_default();
    // H001: 40 of April, 60 + 1 of June
    let a = call(&app, "GET", "/v1/ledger/cases", Some(H001), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let own = rows(&a);
    assert_eq!(own.len(), 101);
    assert!(own.iter().all(|c| c["hospital_id"] == "H001"));
    let mut keys: Vec<&str> = own[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut columns = drgdip_engine::ledger::CASE_COLUMNS.to_vec();
    columns.sort_unstable();
    assert_eq!(keys, columns, "the engine's columns");
    assert_eq!(own[0]["payment"], "10000.00");
    assert_eq!(own[0]["weight"], "1.0000");
    assert_eq!(own[0]["dip_score"], "");
    let a = call(
        &app,
        "GET",
        "/v1/ledger/cases?month=2025-06&hospital=H001",
        Some(H001),
        None,
    )
    .await;
    assert_eq!(rows(&a).len(), 61);
    let a = call(&app, "GET", "/v1/ledger/cases?year=2025", Some(H002), None).await;
    assert_eq!(rows(&a).len(), 40);
    // another hospital: 403, audited
    let a = call(
        &app,
        "GET",
        "/v1/ledger/cases?hospital=H002",
        Some(H001),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    let refused = refusals_of(&backend, "h001-clerk");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].subject, "ledger cases of H002");
    // the bureau: all, or one hospital; a month outside the year: nothing
    let a = call(
        &app,
        "GET",
        "/v1/ledger/cases?year=2025",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(rows(&a).len(), 141);
    let a = call(
        &app,
        "GET",
        "/v1/ledger/cases?month=2025-04&hospital=H001",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(rows(&a).len(), 40);
    let a = call(
        &app,
        "GET",
        "/v1/ledger/cases?year=2024&month=2025-06",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!((a.status, rows(&a).len()), (StatusCode::OK, 0));
    for (uri, field) in [
        ("/v1/ledger/cases?month=June", "month"),
        ("/v1/ledger/cases?year=MMXXV", "year"),
        ("/v1/ledger/cases?hospital=%20", "hospital"),
        ("/v1/ledger/runs?month=2025", "month"),
    ] {
        let a = call(&app, "GET", uri, Some(BUREAU), None).await;
        assert_eq!(
            (a.status, a.json["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{uri}: {}",
            a.text
        );
    }
}
