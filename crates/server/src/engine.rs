//! The pure part of the API: one case in (the case-file columns as JSON fields), its grouping
//! with the explanation, or its payment with the rule lines, out. Loaded once at start-up and
//! shared by every request; nothing here touches the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use drgdip_drg::{explain, group, Lang, Trace};
use drgdip_engine::pricing::{PricedRow, Pricer, SpecialCases};
use drgdip_engine::Region;
use drgdip_io::{parse_row, CaseRecord, Columns, RowOutcome};
use drgdip_pay::money::{Fen, W4};
use drgdip_pay::params::Method;
use drgdip_pay::{Hospitals, Params};
use drgdip_scheme::selection::Selection;
use drgdip_scheme::Scheme;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// One cell of a case: text as in the CSV file; a number or a boolean is taken as its text
/// (`true` → `1`), a list of codes is joined with `|`, `null` is an empty cell.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Cell {
    /// The cell as text (`"C18.900|K63.101"`).
    Text(String),
    /// A number (`45`); money should be sent as text (`"7293.75"`) to stay exact.
    #[schema(value_type = f64)]
    Number(serde_json::Number),
    /// A flag (`new_tech_flag`).
    Flag(bool),
    /// A list of codes, principal first (`["C18.900", "K63.101"]`).
    Codes(Vec<String>),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Flag(b) => if *b { "1" } else { "0" }.to_string(),
            Cell::Codes(v) => v.join("|"),
        }
    }
}

macro_rules! case_fields {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {
        /// One discharge record: the columns of the case file (`shared/README.md`) as JSON
        /// fields. `gender`, `age` and `diagnoses` are required (`case_id` defaults to `-`);
        /// paying a case also needs `total_cost`, `fund_paid` and a hospital level (from the
        /// hospitals file by `hospital_id`, else `hospital_level`). Unknown fields are refused.
        #[derive(Debug, Clone, Default, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct CaseFields {
            $( $(#[$doc])* #[serde(default)] pub $name: Option<Cell>, )+
        }

        impl CaseFields {
            /// The given cells, by column name, in the order of `drgdip_io::COLUMNS`.
            pub fn cells(&self) -> Vec<(&'static str, &Cell)> {
                let mut v = Vec::new();
                $( if let Some(c) = &self.$name { v.push((stringify!($name), c)); } )+
                v
            }

            /// The column names this type knows (for the test that they are `drgdip_io::COLUMNS`).
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),+];
        }
    };
}

case_fields! {
    /// 病案号 — the case id.
    case_id,
    /// The treating hospital (`H001`); selects the level from the hospitals file.
    hospital_id,
    /// 1, 2 or 3, when the hospital is not in the hospitals file.
    hospital_level,
    /// 1 male, 2 female.
    #[schema(required = true, value_type = Cell)]
    gender,
    /// Age in years.
    #[schema(required = true, value_type = Cell)]
    age,
    /// Age in days (infants).
    age_days,
    /// Birth weight in grams (newborns).
    birth_weight,
    /// Admission weight in grams (newborns).
    admission_weight,
    /// Department.
    dept,
    /// Length of stay in days.
    los,
    /// 离院方式.
    discharge_way,
    /// Diagnoses (ICD-10 医保版), principal first, `|`-separated or a list.
    #[schema(required = true, value_type = Cell)]
    diagnoses,
    /// Procedures (ICD-9-CM-3 医保版), principal first, `|`-separated or a list.
    procedures,
    /// Hours of mechanical ventilation.
    vent_hours,
    /// `YYYY-MM-DD`.
    discharge_date,
    /// The insured person's region code (参保地).
    insured_region,
    /// Insurance type.
    insurance_type,
    /// 除外 — a new drug, device or technique (`0`/`1`); with an exclusion catalogue it gives
    /// nothing by itself.
    new_tech_flag,
    /// 除外 — the exclusion-catalogue items used, `CODE:COST|CODE:COST` (the item's own cost,
    /// CNY).
    new_tech_items,
    /// Per-item total cost, CNY (as text).
    total_cost,
    /// What the fund pays per item, CNY (as text).
    fund_paid,
    /// Drug cost, CNY.
    drug_cost,
    /// Material cost, CNY.
    material_cost,
}

/// A row problem: the field, the value as given, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemOut {
    /// The column.
    pub field: String,
    /// The value given.
    pub value: String,
    /// What is wrong.
    pub message: String,
}

/// The grouping of one case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupResult {
    /// The case id.
    pub case_id: String,
    /// `grouped`, `ambiguous`, `ungroupable` or `invalid` (信息校验不通过: not grouped).
    pub status: String,
    /// The status in Chinese (分组成功, 歧义病案, 无法入组, 信息校验不通过).
    pub status_zh: String,
    /// The MDC (`MDCG`), `0000` when ungroupable, empty when invalid.
    pub mdc: String,
    /// The ADRG, `QY` when ambiguous, `00` when ungroupable.
    pub adrg: String,
    /// The DRG, `<L>QY` when ambiguous, `0000` when ungroupable.
    pub drg: String,
    /// Diagnoses counted as MCC (严重合并症或并发症).
    pub mcc: Vec<String>,
    /// Diagnoses counted as CC (合并症或并发症).
    pub cc: Vec<String>,
    /// The scheme that grouped the case (empty when invalid).
    pub scheme: String,
    /// Silent repairs of the input (`diagnoses: full-width`), empty if none.
    pub repairs: String,
    /// Why the case is invalid (empty otherwise).
    pub problems: Vec<ProblemOut>,
    /// The explanation: the result first, then every rule that decided it.
    pub explanation: Vec<String>,
}

/// The DRG payment of one case. Amounts in CNY as text, rounded half-up to the fen.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayResult {
    /// The case id.
    pub case_id: String,
    /// Grouping status (`grouped`, `ambiguous`, `ungroupable`, `invalid`).
    pub status: String,
    /// The MDC.
    pub mdc: String,
    /// The ADRG.
    pub adrg: String,
    /// The DRG.
    pub drg: String,
    /// The scheme the case was grouped with (the parameters' `region.scheme`).
    pub scheme: String,
    /// Payment category: normal, high, low, ungroupable, ambiguous, excluded, special,
    /// cross_province, invalid.
    pub category: String,
    /// The relative weight used (4 decimals), if any.
    pub weight: Option<String>,
    /// The standard used, if any.
    pub standard: Option<String>,
    /// The hospital level used.
    pub hospital_level: Option<u8>,
    /// Per-item total cost.
    pub total_cost: String,
    /// What the case is worth under DRG payment.
    pub payment: String,
    /// The patient's own share, total_cost − fund_paid.
    pub own: String,
    /// The fund's share, max(0, payment − own).
    pub fund_due: String,
    /// How the payment was reached, in order (the hospital level's origin first).
    pub rules: Vec<String>,
    /// Why the case is invalid (empty otherwise).
    pub problems: Vec<ProblemOut>,
}

/// Everything a request needs to group or pay a case, loaded once: the schemes `?scheme=`
/// may name, the selection of `?scheme=auto`, and the region ([`drgdip_engine::Region`]:
/// parameters, the scheme that pays, hospitals, weights, tariff) that pays a case and
/// settles a month.
pub struct Engine {
    schemes: BTreeMap<String, Arc<Scheme>>,
    selection: Selection,
    region: Arc<Region>,
    /// No approved special case: one case paid over the API is paid as `drgdip pay` pays it.
    no_special: SpecialCases,
}

/// Why an engine cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The parameters name a scheme that is not loaded.
    #[error("the parameters' region.scheme {0:?} is not among the loaded schemes ({1})")]
    MissingScheme(String, String),
    /// The selection names a scheme that is not loaded.
    #[error("the scheme selection names {0:?}, which is not loaded ({1})")]
    SelectionScheme(String, String),
}

/// Every grouping status, with its Chinese name.
pub const STATUSES: [(&str, &str); 4] = [
    ("grouped", "分组成功"),
    ("ambiguous", "歧义病案"),
    ("ungroupable", "无法入组"),
    ("invalid", "信息校验不通过"),
];

fn status_zh(status: &str) -> &'static str {
    STATUSES
        .iter()
        .find(|(en, _)| *en == status)
        .map_or(STATUSES[3].1, |(_, zh)| zh)
}

/// The case as a one-row file: its columns and fields.
fn one_row(case: &CaseFields) -> Result<(Columns, Vec<String>), ApiError> {
    let mut names: Vec<&str> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for (name, cell) in case.cells() {
        names.push(name);
        fields.push(cell.text());
    }
    if case.case_id.is_none() {
        names.push("case_id");
        fields.push("-".to_string());
    }
    let cols = Columns::from_header(names.iter().copied()).map_err(|e| match e {
        drgdip_io::ColumnsError::Missing(list) => {
            let first = list.split(", ").next().unwrap_or("").to_string();
            ApiError::bad_request(
                first,
                format!("the case lacks the required field(s) {list}"),
            )
        }
        other => ApiError::bad_request("", other.to_string()),
    })?;
    Ok((cols, fields))
}

fn problems_out(problems: Vec<drgdip_io::Problem>) -> Vec<ProblemOut> {
    problems
        .into_iter()
        .map(|p| ProblemOut {
            message: p.message(Lang::En),
            field: p.field,
            value: p.value,
        })
        .collect()
}

fn codes(s: &Scheme, ids: &[u32]) -> Vec<String> {
    ids.iter()
        .map(|&d| s.catalog.diagnoses.code(d).to_string())
        .collect()
}

impl Engine {
    /// An engine over the loaded `schemes` (every scheme `?scheme=` may name; the region's
    /// own scheme pays), the `selection` for `?scheme=auto` and the loaded `region`.
    pub fn new(
        schemes: Vec<Arc<Scheme>>,
        selection: Selection,
        region: Arc<Region>,
    ) -> Result<Engine, EngineError> {
        let mut schemes: BTreeMap<String, Arc<Scheme>> =
            schemes.into_iter().map(|s| (s.name.clone(), s)).collect();
        let known = || schemes.keys().cloned().collect::<Vec<_>>().join(", ");
        if !schemes.contains_key(&region.scheme.name) {
            return Err(EngineError::MissingScheme(
                region.scheme.name.clone(),
                known(),
            ));
        }
        for name in selection.schemes() {
            if !schemes.contains_key(name) {
                return Err(EngineError::SelectionScheme(name.to_string(), known()));
            }
        }
        // the region's scheme is the one that prices: `?scheme=` of its name groups with it
        schemes.insert(region.scheme.name.clone(), region.scheme.clone());
        Ok(Engine {
            schemes,
            selection,
            region,
            no_special: SpecialCases::default(),
        })
    }

    /// The region: what pays a case, settles a month and clears a year.
    pub fn region(&self) -> &Arc<Region> {
        &self.region
    }

    /// The region's parameters.
    pub fn params(&self) -> &Params {
        &self.region.params
    }

    /// The hospitals.
    pub fn hospitals(&self) -> &Hospitals {
        &self.region.hospitals
    }

    /// The scheme that pays (the parameters' `region.scheme`).
    fn pay_scheme(&self) -> &Scheme {
        &self.region.scheme
    }

    /// The names of the loaded schemes.
    pub fn scheme_names(&self) -> Vec<&str> {
        self.schemes.keys().map(String::as_str).collect()
    }

    /// The scheme `?scheme=` names (`None`: the region's scheme; `auto`: by the treating
    /// region — the server's region, whatever the case's insured region (payment-model §2
    /// rule 2, dip-and-payment §21) — and the discharge date).
    fn scheme_for(&self, name: Option<&str>, r: &CaseRecord) -> Result<&Scheme, ApiError> {
        let name = match name {
            None => return Ok(self.pay_scheme()),
            Some("auto") => self
                .selection
                .select(&self.region.params.region.code, &r.discharge_date),
            Some(n) => n,
        };
        self.schemes.get(name).map(|s| s.as_ref()).ok_or_else(|| {
            ApiError::bad_request(
                "scheme",
                format!(
                    "unknown scheme {name:?}: expected auto or one of {}",
                    self.scheme_names().join(", ")
                ),
            )
        })
    }

    /// Checks `?scheme=` before the case is read.
    pub fn check_scheme(&self, name: Option<&str>) -> Result<(), ApiError> {
        match name {
            None | Some("auto") => Ok(()),
            Some(n) => self.scheme_for(Some(n), &CaseRecord::default()).map(|_| ()),
        }
    }

    /// Groups one case and explains the result in `lang`.
    pub fn group(
        &self,
        case: &CaseFields,
        scheme: Option<&str>,
        lang: Lang,
    ) -> Result<GroupResult, ApiError> {
        self.check_scheme(scheme)?;
        let (cols, fields) = one_row(case)?;
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        // a named scheme reads the case with its own catalog; `auto` reads it with the
        // region's, picks, and reads it again if the scheme picked has another catalog
        let first: &Scheme = match scheme {
            None | Some("auto") => self.pay_scheme(),
            Some(_) => self.scheme_for(scheme, &CaseRecord::default())?,
        };
        let mut outcome = parse_row(&refs, 2, &cols, &first.catalog);
        let mut s = first;
        if let (Some("auto"), RowOutcome::Valid(r)) = (scheme, &outcome) {
            s = self.scheme_for(scheme, r)?;
            if !Arc::ptr_eq(&s.catalog, &first.catalog) {
                outcome = parse_row(&refs, 2, &cols, &s.catalog);
            }
        }
        let r = match outcome {
            RowOutcome::Invalid { case_id, problems } => {
                let problems = problems_out(problems);
                let explanation = problems
                    .iter()
                    .map(|p| format!("{} {:?}: {}", p.field, p.value, p.message))
                    .collect();
                return Ok(GroupResult {
                    case_id,
                    status: "invalid".into(),
                    status_zh: status_zh("invalid").into(),
                    mdc: String::new(),
                    adrg: String::new(),
                    drg: String::new(),
                    mcc: Vec::new(),
                    cc: Vec::new(),
                    scheme: String::new(),
                    repairs: String::new(),
                    problems,
                    explanation,
                });
            }
            RowOutcome::Valid(r) => r,
        };
        let mut trace = Trace::enabled();
        let g = group(s, &r.case(), &mut trace);
        Ok(GroupResult {
            case_id: r.case_id.clone(),
            status: g.status.as_str().into(),
            status_zh: g.status.as_zh().into(),
            mdc: g.mdc_code(s).into(),
            adrg: g.adrg_code(s).into(),
            drg: g.drg_code(s).into(),
            mcc: codes(s, &g.mcc),
            cc: codes(s, &g.cc),
            scheme: s.name.clone(),
            repairs: if r.repairs.is_empty() {
                String::new()
            } else {
                r.repairs_text()
            },
            problems: Vec::new(),
            explanation: explain(s, &g, &trace, lang),
        })
    }

    /// Pays one case under the region's DRG parameters (grouped with `region.scheme`), with
    /// the engine's pricer (`drgdip_engine::pricing::Pricer::price_record`, as `drgdip pay`
    /// and `drgdip settle` price a row). A case that fails validation, or that cannot be paid
    /// — no `total_cost`, no `fund_paid`, a hospital neither in the hospitals file nor with a
    /// `hospital_level` — is answered `invalid` with its problems, as `drgdip pay` writes
    /// such a row.
    pub fn pay(&self, case: &CaseFields) -> Result<PayResult, ApiError> {
        let (cols, fields) = one_row(case)?;
        let refs: Vec<&str> = fields.iter().map(String::as_str).collect();
        let s = self.pay_scheme();
        let r = match parse_row(&refs, 2, &cols, &s.catalog) {
            RowOutcome::Invalid { case_id, problems } => {
                return Ok(self.not_paid(case_id, problems_out(problems)));
            }
            RowOutcome::Valid(r) => *r,
        };
        let c = match Pricer::new(&self.region, &self.no_special).price_record(r) {
            PricedRow::Invalid {
                case_id, problems, ..
            } => return Ok(self.not_paid(case_id, problems_out(problems))),
            PricedRow::Paid(c) => c,
        };
        let mut lines = c.rule_lines();
        if self.region.params.region.method == Method::Dip {
            lines.insert(
                1,
                "region.method is dip: paid by DRG here all the same".into(),
            );
        }
        let p = &c.payment;
        Ok(PayResult {
            status: c.status.as_str().into(),
            scheme: s.name.clone(),
            category: p.category.as_str().into(),
            weight: p.weight.map(|w| W4(w).to_string()),
            standard: p.standard.map(|x| Fen(x).to_string()),
            hospital_level: Some(c.level),
            total_cost: Fen(p.total_cost).to_string(),
            payment: Fen(p.payment).to_string(),
            own: Fen(p.own).to_string(),
            fund_due: Fen(p.fund_due).to_string(),
            rules: lines,
            problems: Vec::new(),
            case_id: c.case_id,
            mdc: c.mdc,
            adrg: c.adrg,
            drg: c.drg,
        })
    }
}

impl Engine {
    /// The answer for a case that is not paid: category `invalid`, zero amounts, the
    /// problems.
    fn not_paid(&self, case_id: String, problems: Vec<ProblemOut>) -> PayResult {
        let zero = Fen(Decimal::ZERO).to_string();
        PayResult {
            case_id,
            status: "invalid".into(),
            mdc: String::new(),
            adrg: String::new(),
            drg: String::new(),
            scheme: self.pay_scheme().name.clone(),
            category: "invalid".into(),
            weight: None,
            standard: None,
            hospital_level: None,
            total_cost: zero.clone(),
            payment: zero.clone(),
            own: zero.clone(),
            fund_due: zero,
            rules: vec!["invalid case (failed validation or cannot be paid): not paid".into()],
            problems,
        }
    }
}

/// The language of `?lang=`: `zh` (the default) or `en`.
pub fn lang(text: Option<&str>) -> Result<Lang, ApiError> {
    match text {
        None | Some("zh") => Ok(Lang::Zh),
        Some("en") => Ok(Lang::En),
        Some(t) => Err(ApiError::bad_request(
            "lang",
            format!("lang {t:?}: expected zh or en"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_case_fields_are_the_case_file_columns_in_order() {
        assert_eq!(CaseFields::NAMES, drgdip_io::COLUMNS);
    }

    #[test]
    fn cells_are_text_numbers_flags_or_code_lists() {
        let case: CaseFields = serde_json::from_str(
            r#"{"age": 45, "new_tech_flag": true, "diagnoses": ["C18.900", "K63.101"], "dept": null, "gender": "1"}"#,
        )
        .unwrap();
        let cells: Vec<(&str, String)> = case
            .cells()
            .into_iter()
            .map(|(n, c)| (n, c.text()))
            .collect();
        assert_eq!(
            cells,
            [
                ("gender", "1".to_string()),
                ("age", "45".to_string()),
                ("diagnoses", "C18.900|K63.101".to_string()),
                ("new_tech_flag", "1".to_string()),
            ]
        );
        let (cols, fields) = one_row(&case).unwrap();
        assert_eq!(cols.pos("case_id"), Some(4));
        assert_eq!(fields[4], "-");
        let err = one_row(&CaseFields::default()).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("gender"));
    }
}
