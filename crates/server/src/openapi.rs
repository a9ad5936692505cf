//! The OpenAPI 3.1 document of the API (utoipa), served at `/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{backend, engine, error, routes, views};

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
        routes::submit,
        routes::list,
        routes::get_one,
        routes::assign,
        routes::review,
        routes::withdraw,
        routes::audit,
    ),
    components(schemas(
        engine::CaseFields,
        engine::Cell,
        engine::GroupResult,
        engine::PayResult,
        engine::ProblemOut,
        error::ErrorBody,
        routes::WhoAmI,
        routes::SubmitBody,
        routes::AssignBody,
        routes::ReviewBody,
        routes::WithdrawBody,
        views::OpinionJson,
        views::OutcomeJson,
        views::HospitalApplication,
        views::ReviewerApplication,
        views::BureauApplication,
        views::ApplicationView,
        views::ApplicationList,
        views::StatementJson,
        views::TotalsJson,
        backend::AuditEntry,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "who the token is"),
        (name = "cases", description = "group and pay one case"),
        (name = "settlement", description = "monthly statements"),
        (name = "special cases", description = "特例单议: apply, assign, review (double-blind), withdraw"),
        (name = "audit", description = "the audit log"),
    )
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn document_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\":\"internal\",\"message\":\"{e}\"}}"))
}
