//! Pricing a case file under a DRG region (`payment-model.md` §1–§2): every row read,
//! validated, grouped with the region's scheme and paid, on every core, in input order.
//! A valid row becomes a [`PricedCase`] (its group, its payment with the rule lines, what
//! priced it); an invalid row keeps its problems and is never paid.

use std::io::{Read, Write};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use drgdip_drg::{Lang, Status, Trace};
use drgdip_io::{
    problems_text, push_csv_field, run_batch_with, BatchOptions, BatchStats, CaseRecord, Columns,
    Problem, ProblemKind, Purpose, RowIn, RowOutcome,
};
use drgdip_pay::money::{write_fixed, Fen};
use drgdip_pay::{
    pay_case, Category, Date, GroupStatus, InsuredClass, ItemUse, PayInput, PaySummary, Payment,
    RuleLine, SpecialApproval,
};
use drgdip_settle::{CasePricing, SettledCase, YearMonth};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::batch::{group_record, group_status, problem, Shards};
use crate::error::{Context, EngineError, Result};
use crate::region::Region;

/// The header of a pay run's output (`drgdip pay`).
pub const PAY_HEADER: &str =
    "case_id,status,mdc,adrg,drg,category,weight,standard,total_cost,payment,own,fund_due";

/// Where a case's hospital level came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelFrom {
    /// The hospitals file.
    File,
    /// The row's `hospital_level` (the hospital is not in the file).
    Row,
}

/// A valid case, grouped and paid.
#[derive(Debug, Clone)]
pub struct PricedCase {
    /// Its line in the case file.
    pub line: u64,
    /// The case.
    pub case_id: String,
    /// The treating hospital.
    pub hospital_id: String,
    /// 出院月份 — the discharge month, when the date is a real one.
    pub discharge_month: Option<YearMonth>,
    /// The grouping status.
    pub status: Status,
    /// MDC, ADRG and DRG codes (`0000`, `<L>QY` for the special groups).
    pub mdc: String,
    /// The ADRG.
    pub adrg: String,
    /// The DRG.
    pub drg: String,
    /// The hospital level used, and where it came from.
    pub level: u8,
    /// Where the level came from.
    pub level_from: LevelFrom,
    /// The level the row gave, if any.
    pub row_level: Option<u8>,
    /// 参保地 class.
    pub insured: InsuredClass,
    /// What the fund would pay per item.
    pub fund_paid: Decimal,
    /// The payment, exact, with its rule lines.
    pub payment: Payment,
}

impl PricedCase {
    /// The rule line saying where the hospital level came from.
    pub fn level_line(&self) -> String {
        match self.level_from {
            LevelFrom::File => match self.row_level {
                Some(l) if l != self.level => format!(
                    "hospital {}: level {} from the hospitals file (the row says {l})",
                    self.hospital_id, self.level
                ),
                _ => format!(
                    "hospital {}: level {} from the hospitals file",
                    self.hospital_id, self.level
                ),
            },
            LevelFrom::Row => format!(
                "hospital {} is not in the hospitals file: level {} from the row's hospital_level",
                self.hospital_id, self.level
            ),
        }
    }

    /// Every rule line, the level's first.
    pub fn rule_lines(&self) -> Vec<String> {
        let mut lines = vec![self.level_line()];
        lines.extend(self.payment.rules.iter().map(ToString::to_string));
        lines
    }

    /// The case as the ledger keeps it: the published amounts (each rounded to the fen, as
    /// the statement's case lines are), `fund_paid = total_cost − own`, and what priced it.
    pub fn settled(&self, month: YearMonth, scheme: &drgdip_scheme::Scheme) -> SettledCase {
        let p = &self.payment;
        // as the published text reads back: two decimals, a weight four
        let fen = |d: Decimal| {
            let mut d = drgdip_pay::money::round_fen(d);
            d.rescale(2);
            d
        };
        let (total_cost, own) = (fen(p.total_cost), fen(p.own));
        SettledCase {
            case_id: self.case_id.clone(),
            hospital_id: self.hospital_id.clone(),
            discharge_month: month,
            category: p.category,
            payment: fen(p.payment),
            own,
            fund_due: fen(p.fund_due),
            fund_paid: total_cost - own,
            total_cost,
            weight: p.weight.map(|w| {
                let mut w = drgdip_pay::money::round_weight(w);
                w.rescale(4);
                w
            }),
            dip_score: None,
            pricing: CasePricing {
                scheme: scheme.name.clone(),
                scheme_version: scheme.version.clone(),
                status: self.status.as_str().to_string(),
                mdc: self.mdc.clone(),
                adrg: self.adrg.clone(),
                group: self.drg.clone(),
                insured: self.insured,
            },
        }
    }
}

/// One row of a pay run.
#[derive(Debug, Clone)]
pub enum PricedRow {
    /// A valid row, paid.
    Paid(Box<PricedCase>),
    /// An invalid row: not paid.
    Invalid {
        /// Its line.
        line: u64,
        /// Its case id as read.
        case_id: String,
        /// Why.
        problems: Vec<Problem>,
    },
}

/// What rule 4 did over a run, for the summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExclusionTally {
    /// Cases paid as `excluded`.
    pub excluded: u64,
    /// Of those, paid the exclusion payment (it was larger than the ordinary one).
    pub exclusion_larger: u64,
    /// Σ (payment − ordinary payment) of the excluded cases.
    pub extra_payment: Decimal,
    /// Cases that named items, none of which applied.
    pub no_applicable_item: u64,
    /// Cases flagged `new_tech_flag = 1` that named no item (catalogue in force).
    pub flag_without_item: u64,
}

impl ExclusionTally {
    /// Counts one payment.
    pub fn add(&mut self, p: &Payment) {
        if let Some(e) = &p.exclusion {
            self.excluded += 1;
            self.exclusion_larger += u64::from(e.exclusion_larger());
            self.extra_payment += p.payment - e.ordinary;
        }
        for rule in &p.rules {
            match rule {
                RuleLine::ExclusionNoApplicableItem => self.no_applicable_item += 1,
                RuleLine::ExclusionFlagWithoutItem => self.flag_without_item += 1,
                _ => {}
            }
        }
    }

    /// Adds another tally.
    pub fn merge(&mut self, o: &ExclusionTally) {
        self.excluded += o.excluded;
        self.exclusion_larger += o.exclusion_larger;
        self.extra_payment += o.extra_payment;
        self.no_applicable_item += o.no_applicable_item;
        self.flag_without_item += o.flag_without_item;
    }

    /// The summary line of a run's exclusions, after `desc` (which rules applied).
    pub fn summary(&self, desc: &str) -> String {
        format!(
            "{desc}\nexclusions (除外): {} case(s) excluded, {} paid the exclusion payment and {} their ordinary payment (the larger), Σ payment − ordinary {}; {} case(s) named items none of which applied; {} case(s) flagged new_tech_flag = 1 without an item (no exclusion)",
            self.excluded,
            self.exclusion_larger,
            self.excluded - self.exclusion_larger,
            Fen(self.extra_payment),
            self.no_applicable_item,
            self.flag_without_item
        )
    }
}

/// The payment input of a valid record, grouped: the record's money, region, flags, items
/// and discharge date.
#[allow(clippy::too_many_arguments)]
pub fn pay_input(
    r: CaseRecord,
    hospital_level: u8,
    total_cost: Decimal,
    fund_paid: Decimal,
    status: GroupStatus,
    (mdc, adrg, drg): (&str, &str, &str),
    special: Option<SpecialApproval>,
) -> PayInput {
    PayInput {
        discharge_date: Date::parse(&r.discharge_date),
        new_tech_items: r
            .new_tech_items
            .into_iter()
            .map(|i| ItemUse {
                code: i.code,
                cost: i.cost,
            })
            .collect(),
        case_id: r.case_id,
        hospital_level,
        insured_region: r.insured_region,
        new_tech_flag: r.new_tech_flag,
        los: r.los,
        total_cost,
        fund_paid,
        status,
        mdc: mdc.to_string(),
        adrg: adrg.to_string(),
        drg: drg.to_string(),
        special,
    }
}

/// Approved special cases (特例单议): the ledger's, by hospital and case id (case ids are the
/// hospital's own numbering, so two hospitals may use one); a file's, by hospital and case id
/// when it has a `hospital_id` column, else by case id alone (any hospital).
#[derive(Debug, Clone, Default)]
pub struct SpecialCases {
    /// hospital id → case id → approval.
    by_hospital: FxHashMap<String, FxHashMap<String, SpecialApproval>>,
    any_hospital: FxHashMap<String, SpecialApproval>,
}

impl SpecialCases {
    /// Approves `case_id` of `hospital_id`; false when it was approved already.
    pub fn insert(&mut self, hospital_id: &str, case_id: &str, approval: SpecialApproval) -> bool {
        self.by_hospital
            .entry(hospital_id.to_string())
            .or_default()
            .insert(case_id.to_string(), approval)
            .is_none()
    }

    /// Approves `case_id` whatever its hospital (a file without `hospital_id`); false when it
    /// was approved already.
    pub fn insert_any(&mut self, case_id: &str, approval: SpecialApproval) -> bool {
        self.any_hospital
            .insert(case_id.to_string(), approval)
            .is_none()
    }

    /// The approval of `case_id` of `hospital_id`, if any.
    pub fn get(&self, hospital_id: &str, case_id: &str) -> Option<SpecialApproval> {
        self.by_hospital
            .get(hospital_id)
            .and_then(|cases| cases.get(case_id))
            .or_else(|| self.any_hospital.get(case_id))
            .copied()
    }

    /// How many approvals.
    pub fn len(&self) -> usize {
        self.by_hospital.values().map(|c| c.len()).sum::<usize>() + self.any_hospital.len()
    }

    /// No approval.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads approved special cases from a CSV text `[hospital_id,]case_id,outcome,points`
/// (outcome `per_item` or `extra_points`). With a `hospital_id` column an approval is the
/// case of that hospital, without one the case id of any hospital. A malformed row names its
/// line and field; `name` is the file's name in messages.
pub fn parse_special(text: &str, name: &str) -> Result<SpecialCases> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().with_context(|| name.to_string())?.clone();
    let find = |field: &str| header.iter().position(|h| h.trim() == field);
    let pos =
        |field: &str| find(field).ok_or_else(|| crate::invalid!("{name}: no column {field:?}"));
    let (c_id, c_out, c_pts) = (pos("case_id")?, pos("outcome")?, find("points"));
    let c_hosp = find("hospital_id");
    let mut map = SpecialCases::default();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{name}: line {}", i + 2))?;
        let at =
            |field: &str, msg: String| crate::invalid!("{name}: line {}, {field}: {msg}", i + 2);
        let id = rec.get(c_id).unwrap_or("").trim().to_string();
        if id.is_empty() {
            return Err(at("case_id", "empty".into()));
        }
        let approval = match rec.get(c_out).unwrap_or("").trim() {
            "per_item" => SpecialApproval::PerItem,
            "extra_points" => {
                let raw = c_pts.and_then(|c| rec.get(c)).unwrap_or("").trim();
                match Decimal::from_str(raw) {
                    Ok(p) if !p.is_sign_negative() => SpecialApproval::ExtraPoints(p),
                    _ => return Err(at("points", format!("{raw:?}: expected a number ≥ 0"))),
                }
            }
            other => {
                return Err(at(
                    "outcome",
                    format!("{other:?}: expected per_item or extra_points"),
                ))
            }
        };
        let fresh = match c_hosp {
            Some(c) => {
                let hospital = rec.get(c).unwrap_or("").trim();
                if hospital.is_empty() {
                    return Err(at("hospital_id", "empty".into()));
                }
                map.insert(hospital, &id, approval)
            }
            None => map.insert_any(&id, approval),
        };
        if !fresh {
            return Err(at("case_id", format!("{id} is listed twice")));
        }
    }
    Ok(map)
}

/// An unpaid (invalid) row, as the summary counts it: no amount.
fn unpaid() -> Payment {
    Payment {
        category: Category::Invalid,
        status: GroupStatus::Invalid,
        weight: None,
        standard: None,
        total_cost: Decimal::ZERO,
        payment: Decimal::ZERO,
        own: Decimal::ZERO,
        fund_due: Decimal::ZERO,
        rules: Vec::new(),
        exclusion: None,
    }
}

/// What paying a valid record needs and it lacks: its total cost, its fund paid (the reader
/// reports an empty one, `Purpose::Pay`), a hospital level (`has_level`: from the hospitals
/// file or the row). Empty when it can be paid.
pub fn missing_for_pay(r: &CaseRecord, has_level: bool) -> Vec<Problem> {
    let mut missing = Vec::new();
    if r.total_cost.is_none() {
        let kind = ProblemKind::CostMissing {
            purpose: Purpose::Pay,
        };
        missing.push(problem(r, "total_cost", "", kind));
    }
    if r.fund_paid.is_none() {
        let kind = ProblemKind::FundPaidMissing {
            purpose: Purpose::Pay,
        };
        missing.push(problem(r, "fund_paid", "", kind));
    }
    if !has_level {
        let kind = ProblemKind::HospitalUnknown {
            hospital_id: r.hospital_id.clone(),
        };
        missing.push(problem(r, "hospital_level", &r.hospital_id, kind));
    }
    missing
}

/// Prices rows under a region: read-only, shared by every worker.
pub struct Pricer<'a> {
    region: &'a Region,
    special: &'a SpecialCases,
}

impl<'a> Pricer<'a> {
    /// A pricer for `region`, with the approved special cases.
    pub fn new(region: &'a Region, special: &'a SpecialCases) -> Pricer<'a> {
        Pricer { region, special }
    }

    /// Reads, validates, groups and pays one row.
    pub fn price(&self, cols: &Columns, row: &RowIn) -> PricedRow {
        let r = match row.read(cols, &self.region.scheme.catalog) {
            RowOutcome::Invalid { case_id, problems } => {
                return PricedRow::Invalid {
                    line: row.line,
                    case_id,
                    problems,
                }
            }
            RowOutcome::Valid(r) => *r,
        };
        self.price_record(r)
    }

    /// Groups and pays one valid record.
    pub fn price_record(&self, r: CaseRecord) -> PricedRow {
        let level = match self.region.hospitals.get(&r.hospital_id) {
            Some(h) => Some((h.level, LevelFrom::File)),
            None => r.hospital_level.map(|l| (l, LevelFrom::Row)),
        };
        let missing = missing_for_pay(&r, level.is_some());
        let (Some(total_cost), Some(fund_paid), Some((level, level_from))) =
            (r.total_cost, r.fund_paid, level)
        else {
            return PricedRow::Invalid {
                line: r.line,
                case_id: r.case_id.clone(),
                problems: missing,
            };
        };
        let s = &*self.region.scheme;
        let g = group_record(s, &r, &mut Trace::disabled());
        let (mdc, adrg, drg) = (g.mdc_code(s), g.adrg_code(s), g.drg_code(s));
        let special = self.special.get(&r.hospital_id, &r.case_id);
        let (line, hospital_id, row_level) = (r.line, r.hospital_id.clone(), r.hospital_level);
        let discharge_month = drgdip_io::parse_date(&r.discharge_date)
            .and_then(|iso| iso.get(..7).and_then(|m| m.parse::<YearMonth>().ok()));
        let insured = self.region.params.region.insured_class(&r.insured_region);
        let input = pay_input(
            r,
            level,
            total_cost,
            fund_paid,
            group_status(g.status),
            (mdc, adrg, drg),
            special,
        );
        let payment = pay_case(&self.region.tariff, &input);
        PricedRow::Paid(Box::new(PricedCase {
            line,
            case_id: input.case_id,
            hospital_id,
            discharge_month,
            status: g.status,
            mdc: mdc.to_string(),
            adrg: adrg.to_string(),
            drg: drg.to_string(),
            level,
            level_from,
            row_level,
            insured,
            fund_paid,
            payment,
        }))
    }
}

/// Writes one output row of a pay run ([`PAY_HEADER`], and a `rules` column with `trace`).
pub fn write_pay_row(out: &mut Vec<u8>, row: &PricedRow, trace: bool, lang: Lang) {
    match row {
        PricedRow::Invalid {
            case_id, problems, ..
        } => {
            push_csv_field(out, case_id);
            out.extend_from_slice(b",invalid,,,,invalid,,,,,,");
            if trace {
                let text = problems_text(problems, lang);
                out.push(b',');
                push_csv_field(out, &format!("invalid: not paid ({text})"));
            }
        }
        PricedRow::Paid(c) => {
            let p = &c.payment;
            push_csv_field(out, &c.case_id);
            for part in [
                c.status.as_str(),
                &c.mdc,
                &c.adrg,
                &c.drg,
                p.category.as_str(),
            ] {
                out.push(b',');
                out.extend_from_slice(part.as_bytes());
            }
            out.push(b',');
            if let Some(w) = p.weight {
                write_fixed(out, w, 4);
            }
            out.push(b',');
            if let Some(st) = p.standard {
                write_fixed(out, st, 2);
            }
            for amount in [p.total_cost, p.payment, p.own, p.fund_due] {
                out.push(b',');
                write_fixed(out, amount, 2);
            }
            if trace {
                out.push(b',');
                push_csv_field(out, &c.rule_lines().join(" | "));
            }
        }
    }
    out.push(b'\n');
}

/// What a pay run did.
#[derive(Debug, Clone)]
pub struct PayRun {
    /// The batch's counts (by payment category).
    pub stats: BatchStats,
    /// Totals by category (sums of the published lines).
    pub summary: PaySummary,
    /// What the exclusion rule did.
    pub exclusions: ExclusionTally,
    /// Cases whose level came from their row (hospital not in the file).
    pub level_from_row: u64,
}

/// How a pay run writes.
#[derive(Debug, Clone)]
pub struct PayOptions {
    /// How the case file is read.
    pub batch: BatchOptions,
    /// Add the `rules` column.
    pub trace: bool,
}

/// Prices every row of `input`, writing one row per input row to `out` (in order) and every
/// problem to `errors`. Refuses totals that overflow (every row is written before).
pub fn pay_file<R: Read + Send>(
    region: &Region,
    special: &SpecialCases,
    input: R,
    out: &mut dyn Write,
    errors: Option<&mut dyn Write>,
    options: PayOptions,
    progress: &dyn Fn(u64),
) -> Result<PayRun> {
    let header = if options.trace {
        format!("{PAY_HEADER},rules\n")
    } else {
        format!("{PAY_HEADER}\n")
    };
    let pricer = Pricer::new(region, special);
    // the summary and the exclusions' tally of a worker under one lock (one per row)
    let tallies: Shards<(PaySummary, ExclusionTally)> = Shards::new();
    let level_from_row = AtomicU64::new(0);
    let lang = options.batch.lang;
    let stats = run_batch_with(
        input,
        &options.batch,
        header.as_bytes(),
        out,
        errors,
        |cols, row, buf, probs| {
            let priced = pricer.price(cols, row);
            write_pay_row(buf, &priced, options.trace, lang);
            match priced {
                PricedRow::Invalid { problems, .. } => {
                    probs.extend(problems);
                    tallies.with(|(s, _)| s.add(&unpaid()));
                    Category::Invalid as usize
                }
                PricedRow::Paid(c) => {
                    if c.level_from == LevelFrom::Row {
                        level_from_row.fetch_add(1, Ordering::Relaxed);
                    }
                    tallies.with(|(s, t)| {
                        s.add(&c.payment);
                        t.add(&c.payment);
                    });
                    c.payment.category as usize
                }
            }
        },
        progress,
    )?;
    let mut total = PaySummary::new();
    let mut tally = ExclusionTally::default();
    for (part, excluded) in tallies.into_vec() {
        total.merge(&part);
        tally.merge(&excluded);
    }
    if total.overflowed() {
        return Err(EngineError::Refused(
            "the totals overflowed (amounts beyond what can be added); the output has every case, its totals are not valid".to_string(),
        ));
    }
    Ok(PayRun {
        stats,
        summary: total,
        exclusions: tally,
        level_from_row: level_from_row.load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_approval_is_the_case_of_its_hospital_when_the_file_names_one() {
        let text =
            "hospital_id,case_id,outcome,points\nH001,C1,per_item,\nH002,C2,extra_points,12.5\n";
        let special = parse_special(text, "special.csv").unwrap();
        assert_eq!(special.len(), 2);
        assert_eq!(special.get("H001", "C1"), Some(SpecialApproval::PerItem));
        // Another hospital's case with the same id is not approved.
        assert_eq!(special.get("H002", "C1"), None);
        assert_eq!(
            special.get("H002", "C2"),
            Some(SpecialApproval::ExtraPoints(Decimal::new(125, 1)))
        );
    }

    #[test]
    fn without_a_hospital_column_an_approval_is_the_case_id_of_any_hospital() {
        let special = parse_special("case_id,outcome\nC1,per_item\n", "s.csv").unwrap();
        assert_eq!(special.get("H001", "C1"), Some(SpecialApproval::PerItem));
        assert_eq!(special.get("H009", "C1"), Some(SpecialApproval::PerItem));
        assert_eq!(special.get("H001", "C2"), None);
    }

    #[test]
    fn a_bad_row_names_its_line_and_field() {
        let dup = parse_special(
            "hospital_id,case_id,outcome\nH1,C1,per_item\nH1,C1,per_item\n",
            "s.csv",
        );
        let msg = format!("{:#}", dup.unwrap_err());
        assert!(msg.contains("line 3, case_id: C1 is listed twice"), "{msg}");
        // The same case id at two hospitals is two approvals.
        let two = parse_special(
            "hospital_id,case_id,outcome\nH1,C1,per_item\nH2,C1,per_item\n",
            "s.csv",
        );
        assert_eq!(two.unwrap().len(), 2);
        let empty = parse_special("hospital_id,case_id,outcome\n,C1,per_item\n", "s.csv");
        let msg = format!("{:#}", empty.unwrap_err());
        assert!(msg.contains("line 2, hospital_id: empty"), "{msg}");
        let points = parse_special("case_id,outcome,points\nC1,extra_points,-1\n", "s.csv");
        let msg = format!("{:#}", points.unwrap_err());
        assert!(msg.contains("line 2, points"), "{msg}");
    }
}
