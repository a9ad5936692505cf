//! Prepayment (预付金, `payment-model.md` §6, `dip-and-payment.md` §20): the hospitals that
//! applied (the applications file, [`parse_applications`]), each one's amount from its monthly
//! fund payments of the previous year — a case file priced as `pay` prices it, or the
//! ledger's statements — decided in one run under the fund's cap (the fund file's opening
//! balance, [`fund_opening_balance`]), saved with its audit event, and the year's public list.

use std::collections::BTreeMap;
use std::str::FromStr;

use drgdip_io::BatchOptions;
use drgdip_pay::money::round_fen;
use drgdip_pay::{Hospitals, Params};
use drgdip_settle::{
    decide_applications, parse_amount, Actor, Applicant, Date, Period, PrepaymentApplication,
    PrepaymentCap, PrepaymentDecision, Uplift, YearMonth,
};
use drgdip_store::Store;
use rust_decimal::Decimal;

use crate::error::{Context, Result};
use crate::pricing::SpecialCases;
use crate::settle::{price_months, CaseInput};
use crate::Region;

/// Where the previous year's monthly fund payments come from.
pub enum PrepaySource<'a> {
    /// A case file of the previous year, priced under `region`.
    Cases {
        /// The region that prices it.
        region: &'a Region,
        /// The file.
        input: CaseInput<'a>,
        /// How it is read.
        batch: BatchOptions,
    },
    /// The ledger's monthly statements of the previous year.
    Ledger,
}

/// What a prepayment run decides.
pub struct PrepayRequest<'a> {
    /// The year the prepayments are for.
    pub year: i32,
    /// The applications (only hospitals that applied are decided).
    pub applications: Vec<PrepaymentApplication>,
    /// The fund's opening balance of the year (the fund file), when the cap needs it.
    pub fund_balance: Option<Decimal>,
    /// The previous year's payments.
    pub source: PrepaySource<'a>,
    /// Who decides.
    pub actor: Actor,
}

/// What a prepayment run did.
#[derive(Debug)]
pub struct PrepayOutcome {
    /// The decisions of this run.
    pub decided: Vec<PrepaymentDecision>,
    /// Every decision of the year (the public list).
    pub all: Vec<PrepaymentDecision>,
    /// Where the previous year's payments came from, in words.
    pub source: String,
    /// What the fund could spare (`None`: the parameters set no cap).
    pub cap: Option<PrepaymentCap>,
}

/// Each hospital's monthly fund payments, all twelve months of `year`, a month without cases
/// as zero.
fn twelve_months(year: i32, sums: &BTreeMap<YearMonth, Decimal>) -> Vec<(YearMonth, Decimal)> {
    (1..=12)
        .filter_map(|m| YearMonth::new(year, m))
        .map(|m| (m, sums.get(&m).copied().unwrap_or(Decimal::ZERO)))
        .collect()
}

/// Decides the year's prepayments of the applicants and saves each with its audit event.
pub async fn decide_prepayments(
    store: &Store,
    params: &Params,
    hospitals: &Hospitals,
    request: PrepayRequest<'_>,
) -> Result<PrepayOutcome> {
    let previous = request.year - 1;
    if request.applications.is_empty() {
        return Err(crate::EngineError::Refused(format!(
            "no application for a prepayment in {}: only hospitals that applied are decided",
            request.year
        )));
    }
    for a in &request.applications {
        if hospitals.get(&a.hospital_id).is_none() {
            return Err(crate::invalid!(
                "application of {}: not in the hospitals file",
                a.hospital_id
            ));
        }
    }
    // Σ fund_due per hospital and month of the previous year.
    let mut sums: BTreeMap<String, BTreeMap<YearMonth, Decimal>> = BTreeMap::new();
    let mut add = |hospital: &str, month: YearMonth, amount: Decimal| -> Result<()> {
        let slot = sums
            .entry(hospital.to_string())
            .or_default()
            .entry(month)
            .or_default();
        *slot = slot.checked_add(amount).ok_or_else(|| {
            crate::invalid!("the fund payments of {hospital} in {month} overflow")
        })?;
        Ok(())
    };
    let source = match request.source {
        PrepaySource::Cases {
            region,
            input,
            batch,
        } => {
            let paid = price_months(
                region,
                &SpecialCases::default(),
                input.open()?,
                |m| m.year() == previous,
                batch,
                &|_| {},
            )
            .with_context(|| format!("the case file {}", input.name()))?;
            for c in &paid.cases {
                add(&c.hospital_id, c.discharge_month, round_fen(c.fund_due))?;
            }
            format!(
                "{}: {} cases of {previous} paid ({} rows of other years, {} invalid, not counted)",
                input.name(),
                paid.cases.len(),
                paid.other + paid.undated,
                paid.invalid
            )
        }
        PrepaySource::Ledger => {
            let statements = store.statements_in(Period::Year(previous), None).await?;
            for s in &statements {
                add(&s.hospital_id, s.month, s.fund_due_total)?;
            }
            format!(
                "the ledger: {} monthly statements of {previous}",
                statements.len()
            )
        }
    };
    let empty = BTreeMap::new();
    let applicants: Vec<Applicant<'_>> = request
        .applications
        .iter()
        .filter_map(|a| {
            hospitals.get(&a.hospital_id).map(|h| Applicant {
                hospital: h,
                application: a,
                previous_year_monthly: twelve_months(
                    previous,
                    sums.get(&a.hospital_id).unwrap_or(&empty),
                ),
            })
        })
        .collect();
    // what the fund can spare, less what hospitals outside this run were granted this year
    let granted_before = store
        .prepayments(request.year)
        .await?
        .iter()
        .filter(|d| {
            !request
                .applications
                .iter()
                .any(|a| a.hospital_id == d.hospital_id)
        })
        .try_fold(Decimal::ZERO, |sum, d| sum.checked_add(d.amount))
        .ok_or_else(|| crate::invalid!("the prepayments granted in {} overflow", request.year))?;
    let cap = PrepaymentCap::of(&params.prepayment, request.fund_balance, granted_before)
        .map_err(|e| crate::invalid!("{e}: give --fund FILE"))?;
    let run = decide_applications(
        request.year,
        &applicants,
        params,
        cap.as_ref(),
        &request.actor,
    )
    .map_err(|e| crate::invalid!("prepayments of {}: {e}", request.year))?;
    for (d, event) in run.value.iter().zip(&run.events) {
        store
            .save_prepayment(request.year, d, std::slice::from_ref(event))
            .await
            .with_context(|| format!("cannot save the prepayment of {}", d.hospital_id))?;
    }
    let all = store.prepayments(request.year).await?;
    Ok(PrepayOutcome {
        decided: run.value,
        all,
        source,
        cap,
    })
}

/// A problem of the applications file (预付金申请), named by line, field and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationProblem {
    /// 1-based line (the header is line 1).
    pub line: u64,
    /// The column.
    pub field: String,
    /// The value found.
    pub value: String,
    /// What was expected.
    pub message: String,
}

impl std::fmt::Display for ApplicationProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, field {}, value {:?}: {}",
            self.line, self.field, self.value, self.message
        )
    }
}

/// The columns of the applications file: `hospital_id` and `applied_on` required; the others
/// optional (`requested_amount`; the uplift's `uplift_months`, `approved_by`, `approved_on`,
/// `approval_reference`, all four or none).
pub const APPLICATION_COLUMNS: [&str; 7] = [
    "hospital_id",
    "applied_on",
    "requested_amount",
    "uplift_months",
    "approved_by",
    "approved_on",
    "approval_reference",
];

/// Reads the applications for prepayments of `year` (CSV with a header, columns
/// [`APPLICATION_COLUMNS`]). Every problem is listed with its line, field and value: an unknown
/// or missing column, a hospital not in `hospitals` or applying twice, a date that is not
/// `YYYY-MM-DD` or not in `year − 1` or `year`, an amount that is not a positive amount in
/// CNY with at most 2 decimals, an uplift without its approval (who, when, reference) or an
/// approval before the application.
pub fn parse_applications(
    text: &str,
    year: i32,
    hospitals: &Hospitals,
) -> std::result::Result<Vec<PrepaymentApplication>, Vec<ApplicationProblem>> {
    let mut problems = Vec::new();
    let problem = |line: u64, field: &str, value: &str, message: String| ApplicationProblem {
        line,
        field: field.to_string(),
        value: value.to_string(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
        Err(e) => return Err(vec![problem(1, "header", "", e.to_string())]),
    };
    for name in &header {
        if !APPLICATION_COLUMNS.contains(&name.as_str()) {
            problems.push(problem(
                1,
                name,
                name,
                format!(
                    "unknown column; expected {}",
                    APPLICATION_COLUMNS.join(", ")
                ),
            ));
        }
    }
    for required in &APPLICATION_COLUMNS[..2] {
        if !header.iter().any(|h| h == required) {
            problems.push(problem(1, required, "", "required column missing".into()));
        }
    }
    let uplift_columns = &APPLICATION_COLUMNS[3..];
    let uplift_given = uplift_columns
        .iter()
        .filter(|c| header.iter().any(|h| h == *c))
        .count();
    if uplift_given != 0 && uplift_given != uplift_columns.len() {
        problems.push(problem(
            1,
            "uplift_months",
            "",
            format!(
                "an uplift needs all of {} (who approved it, when, the reference)",
                uplift_columns.join(", ")
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let pos = |name: &str| header.iter().position(|h| h == name);
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(problem(line, "row", "", e.to_string()));
                continue;
            }
        };
        let get = |name: &str| {
            pos(name)
                .and_then(|p| record.get(p))
                .map(str::trim)
                .unwrap_or("")
        };
        let before = problems.len();
        let hospital_id = get("hospital_id").to_string();
        if hospital_id.is_empty() {
            problems.push(problem(
                line,
                "hospital_id",
                "",
                "a hospital id is required".into(),
            ));
        } else if hospitals.get(&hospital_id).is_none() {
            problems.push(problem(
                line,
                "hospital_id",
                &hospital_id,
                "not in the hospitals file".into(),
            ));
        } else if let Some(first) = seen.get(&hospital_id) {
            problems.push(problem(
                line,
                "hospital_id",
                &hospital_id,
                format!("applies twice (first on line {first})"),
            ));
        } else {
            seen.insert(hospital_id.clone(), line);
        }
        let date = |field: &str, problems: &mut Vec<ApplicationProblem>| -> Option<Date> {
            let text = get(field);
            match text.parse::<Date>() {
                Ok(d) => Some(d),
                Err(_) => {
                    problems.push(problem(
                        line,
                        field,
                        text,
                        "expected a date YYYY-MM-DD".into(),
                    ));
                    None
                }
            }
        };
        let applied_on = date("applied_on", &mut problems);
        if let Some(d) = applied_on {
            if d.year() != year && d.year() != year - 1 {
                problems.push(problem(
                    line,
                    "applied_on",
                    get("applied_on"),
                    format!(
                        "an application for {year} is made in {} or {year}",
                        year - 1
                    ),
                ));
            }
        }
        let requested_amount = match get("requested_amount") {
            "" => None,
            text => match parse_amount(text) {
                Ok(a) => Some(a),
                Err(_) => {
                    problems.push(problem(
                        line,
                        "requested_amount",
                        text,
                        "expected an amount in CNY > 0 with at most 2 decimals, e.g. 500000.00"
                            .into(),
                    ));
                    None
                }
            },
        };
        let uplift = match get("uplift_months") {
            "" => {
                for field in &uplift_columns[1..] {
                    if !get(field).is_empty() {
                        problems.push(problem(
                            line,
                            field,
                            get(field),
                            "an approval without uplift_months".into(),
                        ));
                    }
                }
                None
            }
            text => {
                let months = match Decimal::from_str(text) {
                    Ok(m)
                        if m > Decimal::ZERO && m <= Decimal::TEN && !text.contains(['e', 'E']) =>
                    {
                        Some(m)
                    }
                    _ => {
                        problems.push(problem(
                            line,
                            "uplift_months",
                            text,
                            "expected a number of months > 0 and at most 10, e.g. 1.5".into(),
                        ));
                        None
                    }
                };
                for field in ["approved_by", "approval_reference"] {
                    if get(field).is_empty() {
                        problems.push(problem(
                            line,
                            field,
                            "",
                            "an uplift needs its approval: who approved it and the reference"
                                .into(),
                        ));
                    }
                }
                let approved_on = date("approved_on", &mut problems);
                if let (Some(a), Some(d)) = (approved_on, applied_on) {
                    if a < d {
                        problems.push(problem(
                            line,
                            "approved_on",
                            get("approved_on"),
                            format!("before the application ({d})"),
                        ));
                    }
                }
                match (months, approved_on) {
                    (Some(months), Some(approved_on)) => Some(Uplift {
                        months,
                        approved_by: get("approved_by").to_string(),
                        approved_on,
                        reference: get("approval_reference").to_string(),
                    }),
                    _ => None,
                }
            }
        };
        if problems.len() == before {
            if let Some(applied_on) = applied_on {
                out.push(PrepaymentApplication {
                    hospital_id,
                    applied_on,
                    requested_amount,
                    uplift,
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The fund's opening balance of `year` (年初滚存) from the fund file
/// (`month,direction,item,name,amount`): its one `balance` row, of a month of `year`.
pub fn fund_opening_balance(text: &str, year: i32) -> Result<Decimal> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| crate::invalid!("fund file, line 1: {e}"))?
        .iter()
        .map(|c| c.trim().to_string())
        .collect();
    let pos = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| crate::invalid!("fund file, line 1: column {name} missing (expected month,direction,item,name,amount)"))
    };
    let (month_at, direction_at, amount_at) = (pos("month")?, pos("direction")?, pos("amount")?);
    let mut found: Option<(u64, Decimal)> = None;
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = record.map_err(|e| crate::invalid!("fund file, line {line}: {e}"))?;
        if record.get(direction_at).map(str::trim) != Some("balance") {
            continue;
        }
        let month = record.get(month_at).unwrap_or("").trim();
        let m: YearMonth = month.parse().map_err(|_| {
            crate::invalid!(
                "fund file, line {line}, field month, value {month:?}: expected YYYY-MM"
            )
        })?;
        if m.year() != year {
            return Err(crate::invalid!(
                "fund file, line {line}, field month, value {month:?}: the opening balance of {year} is needed"
            ));
        }
        let text = record.get(amount_at).unwrap_or("").trim();
        let amount = Decimal::from_str(text)
            .ok()
            .filter(|a| !a.is_sign_negative() && a.scale() <= 2)
            .ok_or_else(|| {
                crate::invalid!(
                    "fund file, line {line}, field amount, value {text:?}: expected an amount ≥ 0 with at most 2 decimals"
                )
            })?;
        if let Some((first, _)) = found {
            return Err(crate::invalid!(
                "fund file, line {line}, field direction, value \"balance\": a second balance row (the first on line {first})"
            ));
        }
        found = Some((line, amount));
    }
    found.map(|(_, a)| a).ok_or_else(|| {
        crate::invalid!(
            "fund file: no row with direction \"balance\" (the opening balance of {year})"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn hospitals() -> Hospitals {
        Hospitals::from_csv_str(
            "hospital_id,name,level,credit_rating,performance_score,agreement_years,traceability_code_upload\n\
             H001,a,3,A,85.9,8,0\nH002,b,3,A,75.7,7,1\nH003,c,3,A,76.8,1,1\n",
        )
        .unwrap()
    }

    fn problems(text: &str) -> Vec<String> {
        parse_applications(text, 2025, &hospitals())
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn applications_are_read_with_their_optional_request_and_uplift() {
        let text = "hospital_id,applied_on,requested_amount,uplift_months,approved_by,approved_on,approval_reference\n\
                    H001,2025-01-06,,,,,\n\
                    H002,2024-12-20,500000.00,1.5,示例统筹区医保局,2025-01-15,示医保〔2025〕7号\n";
        let apps = parse_applications(text, 2025, &hospitals()).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].hospital_id, "H001");
        assert_eq!((apps[0].requested_amount, &apps[0].uplift), (None, &None));
        assert_eq!(apps[1].requested_amount, Some(dec!(500000.00)));
        let u = apps[1].uplift.as_ref().unwrap();
        assert_eq!(
            u.to_string(),
            "1.5 months approved by 示例统筹区医保局 on 2025-01-15 (示医保〔2025〕7号)"
        );
        // the two required columns alone
        let apps = parse_applications(
            "hospital_id,applied_on\nH003,2025-02-01\n",
            2025,
            &hospitals(),
        )
        .unwrap();
        assert_eq!(apps[0].applied_on.to_string(), "2025-02-01");
    }

    #[test]
    fn every_bad_row_is_named_by_line_field_and_value() {
        let text = "hospital_id,applied_on,requested_amount\n\
                    H009,2025-01-06,\n\
                    H001,2025-13-01,\n\
                    H002,2023-12-31,-5\n\
                    H002,2025-01-02,1.234\n";
        assert_eq!(
            problems(text),
            [
                "line 2, field hospital_id, value \"H009\": not in the hospitals file",
                "line 3, field applied_on, value \"2025-13-01\": expected a date YYYY-MM-DD",
                "line 4, field applied_on, value \"2023-12-31\": an application for 2025 is made in 2024 or 2025",
                "line 4, field requested_amount, value \"-5\": expected an amount in CNY > 0 with at most 2 decimals, e.g. 500000.00",
                "line 5, field hospital_id, value \"H002\": applies twice (first on line 4)",
                "line 5, field requested_amount, value \"1.234\": expected an amount in CNY > 0 with at most 2 decimals, e.g. 500000.00",
            ]
        );
    }

    #[test]
    fn the_header_and_the_uplifts_approval_are_checked() {
        assert_eq!(
            problems("hospital,applied_on\nH001,2025-01-06\n"),
            [
                "line 1, field hospital, value \"hospital\": unknown column; expected hospital_id, applied_on, requested_amount, uplift_months, approved_by, approved_on, approval_reference",
                "line 1, field hospital_id, value \"\": required column missing",
            ]
        );
        assert_eq!(
            problems("hospital_id,applied_on,uplift_months\nH001,2025-01-06,1.5\n"),
            ["line 1, field uplift_months, value \"\": an uplift needs all of uplift_months, approved_by, approved_on, approval_reference (who approved it, when, the reference)"]
        );
        let header =
            "hospital_id,applied_on,uplift_months,approved_by,approved_on,approval_reference\n";
        assert_eq!(
            problems(&format!("{header}H001,2025-01-06,1.5,,2025-01-01,\n")),
            [
                "line 2, field approved_by, value \"\": an uplift needs its approval: who approved it and the reference",
                "line 2, field approval_reference, value \"\": an uplift needs its approval: who approved it and the reference",
                "line 2, field approved_on, value \"2025-01-01\": before the application (2025-01-06)",
            ]
        );
        assert_eq!(
            problems(&format!("{header}H001,2025-01-06,1e1,x,2025-01-07,y\n")),
            ["line 2, field uplift_months, value \"1e1\": expected a number of months > 0 and at most 10, e.g. 1.5"]
        );
        assert_eq!(
            problems(&format!("{header}H001,2025-01-06,,x,,\n")),
            ["line 2, field approved_by, value \"x\": an approval without uplift_months"]
        );
    }

    #[test]
    fn the_opening_balance_is_the_fund_files_balance_row_of_the_year() {
        let text = "month,direction,item,name,amount\n\
                    2025-01,balance,opening_balance,上年末累计结余（年初滚存）,1860000000.00\n\
                    2025-01,income,interest,利息收入,901985.41\n";
        assert_eq!(
            fund_opening_balance(text, 2025).unwrap(),
            dec!(1860000000.00)
        );
        let e = fund_opening_balance(text, 2026).unwrap_err().to_string();
        assert_eq!(
            e,
            "fund file, line 2, field month, value \"2025-01\": the opening balance of 2026 is needed"
        );
        let e = fund_opening_balance(&text.replace("1860000000.00", "lots"), 2025)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("fund file, line 2, field amount, value \"lots\""),
            "{e}"
        );
        let e = fund_opening_balance("month,direction,item,name,amount\n", 2025)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no row with direction \"balance\""), "{e}");
    }
}
