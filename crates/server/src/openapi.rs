//! The OpenAPI 3.1 document of the API (utoipa), served at `/openapi.json`.
//!
//! The types give the shapes; [`document`] then states what the handlers accept beyond the
//! shapes — the patterns, enums and limits of [`crate::contract`], the scheme names and the
//! review-period kind of this server ([`Facts`]) — and the answers every `/v1` operation may
//! give (400, 401, 408, 413, 429, 503). A value the document allows is not refused for its
//! form; one it does not allow is a 400.

use drgdip_pay::params::ReviewPeriod;
use drgdip_pay::Category;
use drgdip_settle::{Band, ReasonKind};
use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::limits::Limits;
use crate::{
    auth, backend, budget, contract, engine, error, ledger, negotiation, opinions, payments,
    reports, routes, special, views,
};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token of the server's tokens file; its role (bureau, hospital H, reviewer R) decides what the call may do",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "drgdip API",
        description = "CHS-DRG 2.0 grouping and payment of one case, monthly statements, the special-case review (特例单议) and the audit log of one pooling region. Every /v1 call needs `Authorization: Bearer TOKEN`. Errors are `{error, message, field?}`: 400 names the field, 401 without a known token, 403 for another role or another hospital's data (written to the audit log)."
    ),
    paths(
        routes::whoami,
        routes::group_case,
        routes::pay_case,
        routes::statements,
        special::submit,
        special::list,
        special::notice,
        special::draw,
        special::get_one,
        special::assign,
        special::review,
        special::withdraw,
        special::assign_spot_check,
        routes::audit,
        payments::record,
        payments::arrears_as_of,
        budget::list_versions,
        budget::get_execution,
        reports::monthly,
        opinions::submit,
        opinions::list,
        opinions::get_one,
        opinions::step,
        negotiation::list,
        negotiation::get_one,
        negotiation::simulation,
        negotiation::add_party_to,
        negotiation::add_minutes,
        negotiation::agree_on,
        negotiation::close_round,
        ledger::settle,
        ledger::clear,
        ledger::cases,
        ledger::runs,
    ),
    components(schemas(
        engine::CaseFields,
        engine::Cell,
        engine::GroupResult,
        engine::PayResult,
        engine::ProblemOut,
        error::ErrorBody,
        routes::WhoAmI,
        special::SubmitBody,
        special::AssignBody,
        special::ReviewBody,
        special::WithdrawBody,
        special::DrawBody,
        special::SpotCheckBody,
        views::OpinionJson,
        views::OutcomeJson,
        views::CodeNameJson,
        views::CaseRecordJson,
        views::HospitalApplication,
        views::ReviewerCaseJson,
        views::ReviewerApplication,
        views::BureauCaseJson,
        views::ReviewJson,
        views::SpotCheckJson,
        views::BureauApplication,
        views::ApplicationView,
        views::RoundJson,
        views::ApplicationList,
        views::NoticeRowJson,
        views::NoticeJson,
        views::DrawnJson,
        views::DrawJson,
        views::StatementJson,
        views::AdjustmentJson,
        views::StandingJson,
        views::TotalsJson,
        backend::AuditEntry,
        payments::PaymentJson,
        payments::PaymentsBody,
        payments::PaymentOutcomeJson,
        payments::PaymentsAnswer,
        payments::ArrearsRowJson,
        payments::ArrearsTotalsJson,
        payments::ArrearsJson,
        budget::BudgetVersionJson,
        budget::BudgetVersionsJson,
        budget::ExecutionLineJson,
        budget::ExecutionJson,
        opinions::OpinionView,
        opinions::OpinionBody,
        opinions::StepBody,
        opinions::OpinionList,
        negotiation::NegotiationFileJson,
        negotiation::NegotiationPartyJson,
        negotiation::NegotiationMoverJson,
        negotiation::NegotiationSummaryJson,
        negotiation::NegotiationProposalJson,
        negotiation::NegotiationMinuteJson,
        negotiation::NegotiationOutcomeJson,
        negotiation::NegotiationRoundJson,
        negotiation::NegotiationRoundList,
        negotiation::NegotiationSimHospitalJson,
        negotiation::NegotiationSimGroupJson,
        negotiation::NegotiationSimulationJson,
        negotiation::NegotiationPartyBody,
        negotiation::NegotiationMinutesBody,
        negotiation::NegotiationAgreeBody,
        negotiation::NegotiationCloseBody,
        ledger::RowProblem,
        ledger::SettlementCounts,
        ledger::StatementTotals,
        ledger::SettlementTotals,
        ledger::SettlementResult,
        ledger::ClearingJson,
        ledger::ClearingResult,
        ledger::LedgerCaseJson,
        ledger::SettlementRunJson,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "who the token is"),
        (name = "cases", description = "group and pay one case"),
        (name = "settlement", description = "monthly statements"),
        (name = "special cases", description = "特例单议: apply within the region's quota, assign experts without conflicts of interest, review (double-blind), withdraw, spot checks, the half-yearly notice"),
        (name = "audit", description = "the audit log"),
        (name = "payments", description = "拨付 and 应付未付: payments against the statements, the arrears as of a date"),
        (name = "opinions", description = "意见收集反馈: hospitals' opinions, classified, forwarded or answered by the bureau"),
        (name = "negotiations", description = "谈判协商: negotiation rounds — parties, proposals each simulated on the round's cases, the agreed parameter version, the minutes"),
        (name = "ledger", description = "the book of record: a month settled from its uploaded case file, a year cleared, the settled cases and the runs"),
    )
)]
pub struct ApiDoc;

/// What the document states that is known only when the server starts: the loaded schemes
/// (for `?scheme=`), the kind of review period of the region's parameters (for an
/// application's `period`) and the body limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The names of the loaded schemes.
    pub schemes: Vec<String>,
    /// `special_case.review_period` of the parameters.
    pub review_period: ReviewPeriod,
    /// The body limit, in bytes.
    pub max_body: usize,
    /// The upload limit of a settlement's case file, in bytes.
    pub max_upload: usize,
}

impl Facts {
    /// The facts of a server.
    pub fn of(engine: &engine::Engine, limits: &Limits) -> Facts {
        Facts {
            schemes: engine
                .scheme_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            review_period: engine.params().special_case.review_period,
            max_body: limits.max_body,
            max_upload: limits.max_upload,
        }
    }
}

/// The document as JSON.
pub fn document_json(facts: &Facts) -> String {
    let (doc, missing) = document(facts);
    if !missing.is_empty() {
        // a test checks that every constraint finds its place; the server still starts
        eprintln!(
            "drgdip serve: warning: the OpenAPI document lacks {}",
            missing.join(", ")
        );
    }
    serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| format!("{{\"error\":\"internal\",\"message\":\"{e}\"}}"))
}

/// The document, and the places of the constraints that it did not have (none, unless a
/// type changed without this file).
pub fn document(facts: &Facts) -> (Value, Vec<String>) {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    let mut p = Patcher {
        doc: &mut doc,
        missing: Vec::new(),
    };
    p.request_constraints(facts);
    p.payment_constraints();
    p.opinion_constraints();
    p.negotiation_constraints();
    p.response_enums();
    p.common_responses(facts);
    p.roles();
    let missing = p.missing;
    (doc, missing)
}

fn strings(v: impl IntoIterator<Item = impl Into<String>>) -> Value {
    Value::Array(v.into_iter().map(|s| Value::String(s.into())).collect())
}

struct Patcher<'a> {
    doc: &'a mut Value,
    missing: Vec<String>,
}

/// A JSON pointer token (`/v1/group` → `~1v1~1group`).
fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn merge(target: &mut Value, patch: Value) {
    if let (Some(t), Value::Object(p)) = (target.as_object_mut(), patch) {
        for (k, v) in p {
            t.insert(k, v);
        }
    }
}

impl Patcher<'_> {
    /// Merges `patch` into the schema at `pointer`.
    fn at(&mut self, pointer: &str, patch: Value) {
        match self.doc.pointer_mut(pointer) {
            Some(target) if target.is_object() => merge(target, patch),
            _ => self.missing.push(pointer.to_string()),
        }
    }

    /// Merges `patch` into the schema of a property of a component.
    fn property(&mut self, component: &str, property: &str, patch: Value) {
        self.at(
            &format!("/components/schemas/{component}/properties/{property}"),
            patch,
        );
    }

    /// Replaces the schema of the parameter `name` of `method path`.
    fn parameter(&mut self, method: &str, path: &str, name: &str, schema: Value) {
        let pointer = format!("/paths/{}/{method}/parameters", token(path));
        let found = self
            .doc
            .pointer_mut(&pointer)
            .and_then(Value::as_array_mut)
            .and_then(|ps| ps.iter_mut().find(|p| p["name"] == name));
        match found {
            Some(param) => param["schema"] = schema,
            None => self.missing.push(format!("{pointer}/{name}")),
        }
    }

    fn request_constraints(&mut self, facts: &Facts) {
        let id = || json!({"type": "string", "pattern": contract::ID_PATTERN, "maxLength": contract::ID_MAX});
        let text = || json!({"pattern": contract::NON_BLANK_PATTERN, "minLength": 1, "maxLength": contract::TEXT_MAX});
        let case_id = || json!({"type": "string", "pattern": contract::CASE_ID_PATTERN, "maxLength": contract::CASE_ID_MAX});
        // POST /v1/group?lang=&scheme=
        self.parameter(
            "post",
            "/v1/group",
            "lang",
            json!({"type": "string", "enum": LANGS}),
        );
        let mut schemes = vec!["auto".to_string()];
        schemes.extend(facts.schemes.iter().cloned());
        self.parameter(
            "post",
            "/v1/group",
            "scheme",
            json!({"type": "string", "enum": schemes}),
        );
        // GET /v1/statements?month=&hospital=
        self.parameter(
            "get",
            "/v1/statements",
            "month",
            json!({"type": "string", "pattern": contract::MONTH_PATTERN}),
        );
        self.parameter("get", "/v1/statements", "hospital", id());
        // GET /v1/special-cases?period=&hospital=
        self.parameter(
            "get",
            "/v1/special-cases",
            "period",
            json!({"type": "string", "pattern": contract::PERIOD_PATTERN}),
        );
        self.parameter("get", "/v1/special-cases", "hospital", id());
        // the ledger: POST /v1/settlements?month=&force=, POST /v1/clearings?year=&point_value=,
        // GET /v1/ledger/cases?month=&year=&hospital=, GET /v1/ledger/runs?month=
        let month = || json!({"type": "string", "pattern": contract::MONTH_PATTERN});
        let year = || json!({"type": "string", "pattern": contract::YEAR_PATTERN});
        self.parameter("post", "/v1/settlements", "month", month());
        self.parameter(
            "post",
            "/v1/settlements",
            "force",
            json!({"type": "string", "enum": ["true", "false"]}),
        );
        self.parameter("post", "/v1/clearings", "year", year());
        for path in ["/v1/budget/versions", "/v1/budget/execution"] {
            self.parameter("get", path, "year", year());
        }
        self.parameter(
            "get",
            "/v1/budget/execution",
            "version",
            json!({"type": "string", "pattern": budget::VERSION_PATTERN}),
        );
        self.parameter("get", "/v1/budget/execution", "hospital", id());
        self.parameter("get", "/v1/reports/monthly", "month", month());
        self.parameter("get", "/v1/reports/monthly", "hospital", id());
        self.parameter(
            "post",
            "/v1/clearings",
            "point_value",
            json!({"type": "string", "pattern": contract::POINTS_PATTERN, "maxLength": contract::POINTS_MAX}),
        );
        self.parameter("get", "/v1/ledger/cases", "month", month());
        self.parameter("get", "/v1/ledger/cases", "year", year());
        self.parameter("get", "/v1/ledger/cases", "hospital", id());
        self.parameter("get", "/v1/ledger/runs", "month", month());
        self.at(
            "/paths/~1v1~1settlements/post/requestBody/content/text~1csv/schema",
            json!({"pattern": contract::case_file_pattern()}),
        );
        self.at(
            "/paths/~1v1~1settlements/post/responses/413",
            json!({"description": format!(
                "a case file larger than the server's upload limit of {} bytes (--max-upload)",
                facts.max_upload
            )}),
        );
        let app_id = json!({"type": "string", "pattern": contract::APPLICATION_ID_PATTERN, "maxLength": contract::APPLICATION_ID_MAX});
        for (method, path) in [
            ("get", "/v1/special-cases/{id}"),
            ("post", "/v1/special-cases/{id}/assign"),
            ("post", "/v1/special-cases/{id}/review"),
            ("post", "/v1/special-cases/{id}/withdraw"),
            ("post", "/v1/special-cases/{id}/spot-check"),
        ] {
            self.parameter(method, path, "id", app_id.clone());
        }
        // the bodies
        self.property(
            "SubmitBody",
            "period",
            json!({"pattern": contract::period_pattern(facts.review_period)}),
        );
        self.property(
            "SubmitBody",
            "case_ids",
            json!({"minItems": 1, "maxItems": contract::CASES_MAX, "uniqueItems": true, "items": case_id()}),
        );
        self.property(
            "SubmitBody",
            "reason",
            json!({"enum": strings(ReasonKind::ALL.map(ReasonKind::as_str))}),
        );
        self.property("SubmitBody", "text", text());
        self.property(
            "SubmitBody",
            "records",
            json!({"pattern": contract::NON_BLANK_PATTERN, "minLength": 1, "maxLength": contract::RECORDS_MAX}),
        );
        self.property(
            "SubmitBody",
            "hospital_id",
            json!({"pattern": contract::ID_PATTERN, "maxLength": contract::ID_MAX}),
        );
        self.property(
            "AssignBody",
            "reviewer_ids",
            json!({"minItems": 1, "maxItems": contract::CASES_MAX, "items": id()}),
        );
        let token = || json!({"type": "string", "pattern": contract::TOKEN_PATTERN, "maxLength": contract::TOKEN_MAX});
        self.property("SpotCheckBody", "case", token());
        self.property("SpotCheckBody", "reviewer_id", id());
        let half = || json!({"type": "string", "pattern": contract::HALF_YEAR_PATTERN});
        self.property("DrawBody", "half", half());
        self.property(
            "DrawBody",
            "seed",
            json!({"pattern": contract::SEED_PATTERN}),
        );
        self.parameter("get", "/v1/special-cases/notice", "half", half());
        self.property(
            "ReviewBody",
            "opinions",
            json!({"minItems": 1, "maxItems": contract::CASES_MAX}),
        );
        self.property("OpinionJson", "case", token());
        self.property("OpinionJson", "reason", text());
        self.property("WithdrawBody", "reason", text());
        // the outcomes: no other field than their own (serde refuses them), and the points
        // of `approved_extra_points`
        let mut variants = self
            .doc
            .pointer_mut("/components/schemas/OutcomeJson/oneOf")
            .and_then(Value::as_array_mut);
        match variants.as_deref_mut() {
            Some(vs) if vs.len() == 3 => {
                for v in vs.iter_mut() {
                    merge(v, json!({"additionalProperties": false}));
                }
            }
            _ => self
                .missing
                .push("/components/schemas/OutcomeJson/oneOf (3 variants)".into()),
        }
        let points = variants.and_then(|vs| {
            vs.iter_mut()
                .find_map(|v| v.pointer_mut("/properties/points"))
        });
        match points {
            Some(points) => merge(
                points,
                json!({"pattern": contract::POINTS_PATTERN, "maxLength": contract::POINTS_MAX}),
            ),
            None => self
                .missing
                .push("/components/schemas/OutcomeJson/oneOf/*/properties/points".into()),
        }
    }

    /// `POST /v1/payments` and `GET /v1/arrears` ([`payments`]).
    fn payment_constraints(&mut self) {
        let date =
            || json!({"type": "string", "format": "date", "pattern": payments::DATE_PATTERN});
        self.property(
            "PaymentsBody",
            "payments",
            json!({"minItems": 1, "maxItems": payments::PAYMENTS_MAX}),
        );
        self.property(
            "PaymentJson",
            "hospital_id",
            json!({"pattern": contract::ID_PATTERN, "maxLength": contract::ID_MAX}),
        );
        self.property(
            "PaymentJson",
            "month",
            json!({"pattern": contract::MONTH_PATTERN}),
        );
        self.property(
            "PaymentJson",
            "date",
            json!({"format": "date", "pattern": payments::DATE_PATTERN}),
        );
        self.property(
            "PaymentJson",
            "amount",
            json!({"pattern": payments::AMOUNT_PATTERN}),
        );
        self.property(
            "PaymentJson",
            "reference",
            json!({"pattern": payments::REFERENCE_PATTERN, "maxLength": 64}),
        );
        self.parameter("get", "/v1/arrears", "as_of", date());
        self.parameter(
            "get",
            "/v1/arrears",
            "hospital",
            json!({"type": "string", "pattern": contract::ID_PATTERN, "maxLength": contract::ID_MAX}),
        );
        self.parameter(
            "get",
            "/v1/arrears",
            "all",
            json!({"type": "string", "enum": ["true", "false"]}),
        );
        let bands = strings(Band::ALL.map(Band::as_str));
        self.property("ArrearsRowJson", "band", json!({"enum": bands}));
        self.property(
            "PaymentOutcomeJson",
            "outcome",
            json!({"enum": ["recorded", "refused"]}),
        );
    }

    fn opinion_constraints(&mut self) {
        use drgdip_governance::{Level, Topic};
        let clean = |max: usize| json!({"pattern": opinions::CLEAN_TEXT_PATTERN, "maxLength": max});
        let required = |max: usize| {
            json!({"allOf": [{"pattern": opinions::CLEAN_TEXT_PATTERN}, {"pattern": contract::NON_BLANK_PATTERN}],
                   "minLength": 1, "maxLength": max})
        };
        let long = drgdip_governance::opinion::MAX_TEXT;
        let topics = strings(Topic::ALL.iter().map(|t| t.as_str()));
        let levels = strings(Level::ALL.iter().map(|l| l.as_str()));
        self.property("OpinionBody", "topic", json!({"enum": topics.clone()}));
        self.property("OpinionBody", "text", required(long));
        self.property("OpinionBody", "about", clean(opinions::SHORT_MAX));
        self.property("OpinionBody", "author", clean(opinions::SHORT_MAX));
        self.property(
            "StepBody",
            "step",
            json!({"enum": ["classify", "forward", "answer", "close"]}),
        );
        self.property("StepBody", "topic", json!({"enum": topics}));
        self.property("StepBody", "level", json!({"enum": levels}));
        self.property("StepBody", "channel", required(opinions::SHORT_MAX));
        self.property("StepBody", "text", clean(long));
        let date =
            || json!({"type": "string", "format": "date", "pattern": payments::DATE_PATTERN});
        self.parameter("get", "/v1/opinions", "from", date());
        self.parameter("get", "/v1/opinions", "to", date());
        self.parameter(
            "get",
            "/v1/opinions",
            "hospital",
            json!({"type": "string", "pattern": contract::ID_PATTERN, "maxLength": contract::ID_MAX}),
        );
        self.parameter("get", "/v1/statements", "as_of", date());
    }

    /// The negotiation rounds ([`negotiation`]): path numbers, ids, texts, the SHA-256.
    fn negotiation_constraints(&mut self) {
        use drgdip_governance::negotiation::{PartyKind, MAX_TEXT};
        let round = || json!({"type": "string", "pattern": negotiation::ROUND_PATTERN});
        let number = || json!({"type": "string", "pattern": negotiation::NUMBER_PATTERN});
        let id = || json!({"type": "string", "pattern": contract::ID_PATTERN, "maxLength": contract::ID_MAX});
        for (method, path) in [
            ("get", "/v1/negotiations/{id}"),
            ("get", "/v1/negotiations/{id}/proposals/{number}/simulation"),
            ("post", "/v1/negotiations/{id}/parties"),
            ("post", "/v1/negotiations/{id}/minutes"),
            ("post", "/v1/negotiations/{id}/agreement"),
            ("post", "/v1/negotiations/{id}/closing"),
        ] {
            self.parameter(method, path, "id", round());
        }
        self.parameter(
            "get",
            "/v1/negotiations/{id}/proposals/{number}/simulation",
            "number",
            number(),
        );
        let clean = json!({"pattern": opinions::CLEAN_TEXT_PATTERN, "maxLength": MAX_TEXT});
        let required = json!({"allOf": [{"pattern": opinions::CLEAN_TEXT_PATTERN}, {"pattern": contract::NON_BLANK_PATTERN}],
               "minLength": 1, "maxLength": MAX_TEXT});
        self.property("NegotiationPartyBody", "party_id", id());
        self.property(
            "NegotiationPartyBody",
            "kind",
            json!({"enum": strings(PartyKind::ALL.iter().map(|k| k.as_str()))}),
        );
        self.property("NegotiationPartyBody", "name", required.clone());
        self.property(
            "NegotiationPartyBody",
            "hospital_ids",
            json!({"maxItems": negotiation::LIST_MAX, "uniqueItems": true, "items": id()}),
        );
        self.property("NegotiationMinutesBody", "text", required.clone());
        self.property("NegotiationCloseBody", "reason", required);
        self.property("NegotiationAgreeBody", "proposal", number());
        self.property(
            "NegotiationAgreeBody",
            "sha256",
            json!({"pattern": negotiation::SHA256_PATTERN}),
        );
        self.property(
            "NegotiationAgreeBody",
            "parties",
            json!({"minItems": 1, "maxItems": negotiation::LIST_MAX, "uniqueItems": true, "items": id()}),
        );
        self.property("NegotiationAgreeBody", "note", clean);
    }

    /// States on every `/v1` operation the roles that may call it (`x-roles`, from
    /// [`auth::ROUTES`]), and says it in its description.
    fn roles(&mut self) {
        for r in auth::ROUTES {
            let pointer = format!("/paths/{}/{}", token(r.path), r.method.to_lowercase());
            match self
                .doc
                .pointer_mut(&pointer)
                .and_then(Value::as_object_mut)
            {
                Some(op) => {
                    op.insert("x-roles".into(), strings(r.roles.iter().copied()));
                    let roles = format!("Roles: {}.", r.roles.join(", "));
                    let text = match op.get("description").and_then(Value::as_str) {
                        Some(d) => format!("{d}\n\n{roles}"),
                        None => roles,
                    };
                    op.insert("description".into(), Value::String(text));
                }
                None => self.missing.push(pointer),
            }
        }
    }

    fn response_enums(&mut self) {
        let statuses = strings(engine::STATUSES.map(|(en, _)| en));
        self.property("GroupResult", "status", json!({"enum": statuses.clone()}));
        self.property(
            "GroupResult",
            "status_zh",
            json!({"enum": strings(engine::STATUSES.map(|(_, zh)| zh))}),
        );
        self.property("PayResult", "status", json!({"enum": statuses}));
        self.property(
            "PayResult",
            "category",
            json!({"enum": strings(Category::ALL.iter().map(|c| c.as_str()))}),
        );
        let states = strings(views::STATES.map(|s| s.as_str()));
        let reasons = strings(ReasonKind::ALL.map(ReasonKind::as_str));
        for (component, view) in [
            ("HospitalApplication", "hospital"),
            ("ReviewerApplication", "reviewer"),
            ("BureauApplication", "bureau"),
        ] {
            self.property(component, "view", json!({"enum": [view]}));
            self.property(component, "state", json!({"enum": states.clone()}));
            self.property(component, "reason", json!({"enum": reasons.clone()}));
        }
        self.property(
            "ApplicationList",
            "view",
            json!({"enum": ["hospital", "reviewer", "bureau"]}),
        );
        self.property("WhoAmI", "role", json!({"enum": auth::ROLES}));
        let mut audit_roles = auth::ROLES.to_vec();
        audit_roles.push("system");
        self.property("AuditEntry", "role", json!({"enum": audit_roles}));
        self.property("ErrorBody", "error", json!({"enum": error::CODES}));
        self.property("ClearingJson", "balance", json!({"enum": ledger::BALANCES}));
    }

    /// The answers any `/v1` operation may give besides its own: 400 (two `Authorization`
    /// headers, or a value the operation refuses), 401, 408, 413 (with a body), 429 and 503.
    fn common_responses(&mut self, facts: &Facts) {
        let error = |description: String| {
            json!({"description": description,
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
        };
        let retry_after = json!({"Retry-After": {"description": "seconds to wait before retrying",
                                                 "schema": {"type": "integer", "minimum": 1}}});
        let Some(paths) = self.doc.get_mut("paths").and_then(Value::as_object_mut) else {
            self.missing.push("/paths".into());
            return;
        };
        for (path, item) in paths.iter_mut() {
            if !path.starts_with("/v1/") {
                continue;
            }
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (_, op) in item.iter_mut() {
                let has_body = op.get("requestBody").is_some();
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                    continue;
                };
                let mut add = |status: &str, v: Value| {
                    responses.entry(status.to_string()).or_insert(v);
                };
                add("400", error("a request the operation refuses: a value of the wrong form (the field is named), or two Authorization headers".into()));
                let mut unauthorized =
                    error("no Authorization: Bearer header, or an unknown token".into());
                unauthorized["headers"] =
                    json!({"WWW-Authenticate": {"schema": {"type": "string"}}});
                add("401", unauthorized);
                add("408", error("the answer took longer than the server's request timeout (the connection is closed)".into()));
                if has_body {
                    add(
                        "413",
                        error(format!(
                            "a body larger than the server's limit of {} bytes",
                            facts.max_body
                        )),
                    );
                }
                let mut limited = error("over the request rate of the token (of the peer address without a known token)".into());
                limited["headers"] = retry_after.clone();
                add("429", limited);
                let mut full = error("the server has reached its limit of open connections".into());
                full["headers"] = retry_after.clone();
                add("503", full);
            }
        }
    }
}

/// The languages of `?lang=`.
pub const LANGS: [&str; 2] = ["zh", "en"];

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            schemes: vec!["chs-drg-2.0".into(), "fujian-2024".into()],
            review_period: ReviewPeriod::Quarter,
            max_body: 4096,
            max_upload: 8192,
        }
    }

    #[test]
    fn every_constraint_finds_its_place_in_the_document() {
        let (_, missing) = document(&facts());
        assert!(missing.is_empty(), "{missing:?}");
    }

    fn param<'a>(doc: &'a Value, method: &str, path: &str, name: &str) -> &'a Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| &p["schema"])
            .unwrap_or_else(|| panic!("{method} {path} {name}"))
    }

    #[test]
    fn the_document_states_what_the_server_accepts() {
        let (doc, _) = document(&facts());
        assert_eq!(
            param(&doc, "post", "/v1/group", "scheme")["enum"],
            json!(["auto", "chs-drg-2.0", "fujian-2024"])
        );
        assert_eq!(
            param(&doc, "post", "/v1/group", "lang")["enum"],
            json!(["zh", "en"])
        );
        assert_eq!(
            param(&doc, "get", "/v1/statements", "month")["pattern"],
            contract::MONTH_PATTERN
        );
        assert_eq!(
            param(&doc, "get", "/v1/special-cases/{id}", "id")["pattern"],
            contract::APPLICATION_ID_PATTERN
        );
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["AssignBody"]["properties"]["reviewer_ids"]["items"]["pattern"],
            contract::ID_PATTERN
        );
        assert_eq!(
            schemas["OpinionJson"]["properties"]["case"]["pattern"],
            contract::TOKEN_PATTERN
        );
        assert_eq!(
            param(&doc, "get", "/v1/special-cases/notice", "half")["pattern"],
            contract::HALF_YEAR_PATTERN
        );
        assert_eq!(
            schemas["SubmitBody"]["properties"]["period"]["pattern"],
            contract::QUARTER_PATTERN
        );
        assert_eq!(
            schemas["SubmitBody"]["properties"]["reason"]["enum"][0],
            "long_stay"
        );
        assert_eq!(
            schemas["SubmitBody"]["properties"]["text"]["maxLength"],
            contract::TEXT_MAX
        );
        assert_eq!(
            schemas["PayResult"]["properties"]["category"]["enum"][8],
            "invalid"
        );
        assert_eq!(
            schemas["WhoAmI"]["properties"]["role"]["enum"],
            json!(["bureau", "hospital", "reviewer"])
        );
        // unknown fields are refused, and the document says so
        for c in [
            "CaseFields",
            "SubmitBody",
            "AssignBody",
            "ReviewBody",
            "WithdrawBody",
            "OpinionJson",
            "DrawBody",
            "SpotCheckBody",
        ] {
            assert_eq!(schemas[c]["additionalProperties"], json!(false), "{c}");
        }
        for v in schemas["OutcomeJson"]["oneOf"].as_array().unwrap() {
            assert_eq!(v["additionalProperties"], json!(false), "{v}");
        }
        // every /v1 operation declares the answers of the guard
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for status in ["400", "401", "408", "429", "503"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
                assert_eq!(
                    op["responses"]["413"].is_object(),
                    op["requestBody"].is_object(),
                    "{method} {path}"
                );
            }
        }
        let month = Facts {
            review_period: ReviewPeriod::Month,
            ..facts()
        };
        let (doc, _) = document(&month);
        assert_eq!(
            doc["components"]["schemas"]["SubmitBody"]["properties"]["period"]["pattern"],
            contract::MONTH_PATTERN
        );
    }
}
