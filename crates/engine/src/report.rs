//! The published reports over the ledger: the monthly feedback (月告知) of a month, for one
//! hospital or all of them, read from the settled cases and statements, with the grouping the
//! ledger kept with each case (or the one given). The CLI's `drgdip report monthly`, the
//! API's `GET /v1/reports/monthly` and the web app's 月告知 page all make it here.

use drgdip_report::{monthly_feedback, Groups, HospitalNames, MonthlyReport};
use drgdip_settle::YearMonth;
use drgdip_store::Store;

use crate::{invalid, Result};

/// The monthly feedback of `month` (of `hospital` only, when given) from the ledger. A month
/// with no settled case and no statement (of that hospital) is an error that says so.
pub async fn monthly(
    store: &Store,
    month: YearMonth,
    hospital: Option<&str>,
    groups: &Groups,
    names: &HospitalNames,
) -> Result<MonthlyReport> {
    let cases = store.settled_cases(Some(month), hospital).await?;
    let statements = store.statements(Some(month), hospital).await?;
    if cases.is_empty() && statements.is_empty() {
        return Err(match hospital {
            Some(h) => invalid!("no settled case and no statement of hospital {h} in {month}"),
            None => invalid!("no settled case and no statement of {month}"),
        });
    }
    monthly_feedback(month, hospital, &cases, &statements, groups, names)
        .map_err(|e| invalid!("the monthly feedback of {month}: {e}"))
}
