//! Prepayment (预付金, `payment-model.md` §6): each applicant's amount from its monthly fund
//! payments of the previous year — a case file priced as `pay` prices it, or the ledger's
//! statements — decided, saved with its audit event, and the year's public list.

use std::collections::BTreeMap;

use drgdip_io::BatchOptions;
use drgdip_pay::money::round_fen;
use drgdip_pay::{Hospital, Hospitals, Params};
use drgdip_settle::{decide_prepayment, Actor, Period, PrepaymentDecision, YearMonth};
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
    /// The applicants (hospital ids); empty: every hospital of the file.
    pub applicants: Vec<String>,
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
    let applicants: Vec<&Hospital> = if request.applicants.is_empty() {
        hospitals.iter().collect()
    } else {
        request
            .applicants
            .iter()
            .map(|id| {
                hospitals
                    .get(id)
                    .ok_or_else(|| crate::invalid!("applicant {id}: not in the hospitals file"))
            })
            .collect::<Result<_>>()?
    };
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
    let mut decided = Vec::new();
    for h in applicants {
        let months = twelve_months(
            previous,
            sums.get(&h.hospital_id).unwrap_or(&BTreeMap::new()),
        );
        let d = decide_prepayment(request.year, h, &months, params, &request.actor)
            .map_err(|e| crate::invalid!("prepayment of {}: {e}", h.hospital_id))?;
        store
            .save_prepayment(request.year, &d.value, &d.events)
            .await
            .with_context(|| format!("cannot save the prepayment of {}", h.hospital_id))?;
        decided.push(d.value);
    }
    let all = store.prepayments(request.year).await?;
    Ok(PrepayOutcome {
        decided,
        all,
        source,
    })
}
