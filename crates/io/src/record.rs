//! One row of a case file: columns by header name, repair, validation.

use std::str::FromStr;

use drgdip_codes::{Catalog, CodeTable, LookupError, Repair, RepairSet};
use drgdip_scheme::Gender;
use rust_decimal::Decimal;
use smallvec::SmallVec;

use crate::new_tech::{parse_new_tech_items, NewTechItem};
use crate::problem::{
    escape_control, AmountError, AmountUnit, CodeList, Problem, ProblemKind, Purpose, Unit,
};

/// The columns drgdip reads from a case file (others are ignored).
pub const COLUMNS: &[&str] = &[
    "case_id",
    "hospital_id",
    "hospital_level",
    "gender",
    "age",
    "age_days",
    "birth_weight",
    "admission_weight",
    "dept",
    "los",
    "discharge_way",
    "diagnoses",
    "procedures",
    "vent_hours",
    "discharge_date",
    "insured_region",
    "insurance_type",
    "new_tech_flag",
    "new_tech_items",
    "total_cost",
    "fund_paid",
    "drug_cost",
    "material_cost",
];

/// The index of a known column in [`COLUMNS`] (evaluated at compile time where used with a
/// literal).
pub const fn col(name: &str) -> usize {
    let mut i = 0;
    while i < COLUMNS.len() {
        let c = COLUMNS[i].as_bytes();
        let n = name.as_bytes();
        if c.len() == n.len() {
            let mut j = 0;
            while j < c.len() && c[j] == n[j] {
                j += 1;
            }
            if j == c.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a known column")
}

/// Columns without which a file cannot be grouped.
const REQUIRED: &[&str] = &["case_id", "gender", "age", "diagnoses"];

/// Bounds on the figures of a row (`payment-model.md` §12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// The largest amount of money a case's field may hold (`[limits].max_case_cost`,
    /// default 100,000,000.00 CNY): `total_cost`, `fund_paid`, `drug_cost`, `material_cost`.
    pub max_case_cost: Decimal,
    /// The largest number of ventilation hours (default 100,000: eleven years).
    pub max_vent_hours: Decimal,
}

impl ReadLimits {
    /// 100,000,000.00 CNY.
    pub const DEFAULT_MAX_CASE_COST: Decimal = Decimal::from_parts(0x540B_E400, 2, 0, false, 2);
    /// 100,000 hours.
    pub const DEFAULT_MAX_VENT_HOURS: Decimal = Decimal::from_parts(100_000, 0, 0, false, 0);
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_case_cost: Self::DEFAULT_MAX_CASE_COST,
            max_vent_hours: Self::DEFAULT_MAX_VENT_HOURS,
        }
    }
}

/// How the rows of a file are read: for what (the columns and cells it requires) and with
/// which bounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    pub purpose: Purpose,
    pub limits: ReadLimits,
}

impl ReadOptions {
    /// Rows read for `purpose`, with the default limits.
    pub fn for_purpose(purpose: Purpose) -> ReadOptions {
        ReadOptions {
            purpose,
            limits: ReadLimits::default(),
        }
    }
}

/// Positions of the known columns in a file's header, and how its rows are read.
#[derive(Debug, Clone)]
pub struct Columns {
    idx: [Option<usize>; COLUMNS.len()],
    /// Number of fields in the header: every row must have as many.
    pub width: usize,
    /// The header's names, as written.
    pub names: Vec<String>,
    /// What the rows are read for and the bounds on their figures.
    pub options: ReadOptions,
}

/// A header that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ColumnsError {
    #[error("the header lacks the required column(s) {0}")]
    Missing(String),
    /// Columns that grouping does without but the purpose needs.
    #[error("the header lacks the column(s) {columns}, which {purpose} needs")]
    NeededBy { columns: String, purpose: Purpose },
    #[error("the header names column {0:?} twice")]
    Duplicate(String),
}

impl Columns {
    /// Maps header names (trimmed, case-insensitive) to positions, for grouping.
    pub fn from_header<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Columns, ColumnsError> {
        Columns::from_header_for(names, ReadOptions::default())
    }

    /// Maps header names (trimmed, case-insensitive) to positions; the header must have the
    /// columns grouping needs and those of `options.purpose`.
    pub fn from_header_for<'a>(
        names: impl IntoIterator<Item = &'a str>,
        options: ReadOptions,
    ) -> Result<Columns, ColumnsError> {
        let mut idx = [None; COLUMNS.len()];
        let mut width = 0;
        let mut header = Vec::new();
        for (i, n) in names.into_iter().enumerate() {
            width = i + 1;
            header.push(n.trim().to_string());
            let n = n.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
            if let Some(k) = COLUMNS.iter().position(|c| *c == n) {
                if idx[k].is_some() {
                    return Err(ColumnsError::Duplicate(n));
                }
                idx[k] = Some(i);
            }
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .filter(|c| idx[COLUMNS.iter().position(|x| x == *c).unwrap_or(0)].is_none())
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(ColumnsError::Missing(missing.join(", ")));
        }
        let needed: Vec<&str> = options
            .purpose
            .cost_columns()
            .iter()
            .filter(|c| idx[COLUMNS.iter().position(|x| x == *c).unwrap_or(0)].is_none())
            .copied()
            .collect();
        if !needed.is_empty() {
            return Err(ColumnsError::NeededBy {
                columns: needed.join(", "),
                purpose: options.purpose,
            });
        }
        Ok(Columns {
            idx,
            width,
            names: header,
            options,
        })
    }

    /// The position of a known column.
    pub fn pos(&self, name: &str) -> Option<usize> {
        COLUMNS
            .iter()
            .position(|c| *c == name)
            .and_then(|k| self.idx[k])
    }

    /// The position of the known column `k` (an index into [`COLUMNS`], see [`col`]).
    #[inline]
    pub fn at(&self, k: usize) -> Option<usize> {
        self.idx[k]
    }
}

/// A row that passed validation: every field typed, codes looked up.
#[derive(Debug, Clone, Default)]
pub struct CaseRecord {
    pub line: u64,
    pub case_id: String,
    pub hospital_id: String,
    pub hospital_level: Option<u8>,
    pub gender: Option<Gender>,
    pub age_years: u32,
    pub age_days: Option<u32>,
    pub birth_weight: Option<u32>,
    pub admission_weight: Option<u32>,
    pub dept: String,
    /// Length of stay in days.
    pub los: Option<u32>,
    /// 离院方式.
    pub discharge_way: String,
    pub diagnoses: SmallVec<[u32; 8]>,
    pub procedures: SmallVec<[u32; 8]>,
    pub vent_hours: Option<Decimal>,
    /// `YYYY-MM-DD`.
    pub discharge_date: String,
    pub insured_region: String,
    pub insurance_type: String,
    pub new_tech_flag: bool,
    /// 除外 — the exclusion-catalogue items the case names (`new_tech_items`,
    /// `CODE:COST|CODE:COST`), in order.
    pub new_tech_items: Vec<NewTechItem>,
    pub total_cost: Option<Decimal>,
    pub fund_paid: Option<Decimal>,
    pub drug_cost: Option<Decimal>,
    pub material_cost: Option<Decimal>,
    /// Silent repairs, per field (for the trace).
    pub repairs: Vec<(&'static str, RepairSet)>,
}

impl CaseRecord {
    /// The grouper's view of the record.
    pub fn gender(&self) -> Gender {
        self.gender.unwrap_or(Gender::Male)
    }

    /// The case as the grouper reads it.
    pub fn case(&self) -> drgdip_drg::Case<'_> {
        drgdip_drg::Case {
            gender: self.gender(),
            age_years: self.age_years,
            age_days: self.age_days,
            birth_weight: self.birth_weight,
            diagnoses: &self.diagnoses,
            procedures: &self.procedures,
        }
    }
    /// The repairs as text: `diagnoses: full-width, separator`.
    pub fn repairs_text(&self) -> String {
        self.repairs
            .iter()
            .map(|(f, r)| {
                format!(
                    "{f}: {}",
                    r.iter().map(Repair::as_str).collect::<Vec<_>>().join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The outcome of reading one row.
#[derive(Debug, Clone)]
pub enum RowOutcome {
    Valid(Box<CaseRecord>),
    /// The row cannot be grouped: its problems (at least one). The case id as read, if any.
    Invalid {
        case_id: String,
        problems: Vec<Problem>,
    },
}

/// Whether `y-m-d` is a real calendar date; returns it in `YYYY-MM-DD` form.
pub fn parse_date(s: &str) -> Option<String> {
    let mut it = s.trim().split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some()
        || y.len() != 4
        || m.is_empty()
        || m.len() > 2
        || d.is_empty()
        || d.len() > 2
    {
        return None;
    }
    let y: u32 = y.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    let d: u32 = d.parse().ok()?;
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1900..=2200).contains(&y) || d == 0 || d > days {
        return None;
    }
    // `YYYY-MM-DD` without the formatting machinery (a row's hot path)
    let digit = |v: u32| char::from(b'0' + (v % 10) as u8);
    let mut iso = String::with_capacity(10);
    for c in [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        '-',
        digit(m / 10),
        digit(m),
        '-',
        digit(d / 10),
        digit(d),
    ] {
        iso.push(c);
    }
    Some(iso)
}

/// Parses a plain non-negative decimal: digits, optionally `.` and one or two more digits,
/// at most `max`. Exponents, signs, separators, NaN/infinity, a third decimal and values
/// above `max` are each named.
pub fn parse_amount(s: &str, max: Decimal) -> Result<Decimal, AmountError> {
    let b = s.as_bytes();
    let (int, frac) = match memchr::memchr(b'.', b) {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    let digits = |x: &[u8]| !x.is_empty() && x.iter().all(u8::is_ascii_digit);
    let plain = digits(int) && frac.is_none_or(digits);
    if !plain {
        let lower = s.to_ascii_lowercase();
        let unsigned = lower.trim_start_matches(['+', '-']);
        let has_digit = b.iter().any(u8::is_ascii_digit);
        let error = if matches!(unsigned, "nan" | "inf" | "infinity") {
            AmountError::NotANumber
        } else if b.first().is_some_and(|c| matches!(c, b'+' | b'-')) || s.starts_with('−') {
            AmountError::Sign {
                negative: !s.starts_with('+'),
            }
        } else if has_digit
            && b.iter().any(|c| matches!(c, b'e' | b'E'))
            && b.iter()
                .all(|c| c.is_ascii_digit() || matches!(c, b'e' | b'E' | b'.' | b'+' | b'-'))
        {
            AmountError::Exponent
        } else if has_digit
            && s.contains([',', '_', ' ', '\'', '，', '\u{a0}'])
            && s.chars().all(|c| {
                c.is_ascii_digit() || matches!(c, '.' | ',' | '_' | ' ' | '\'' | '，' | '\u{a0}')
            })
        {
            AmountError::Separator
        } else {
            AmountError::NotDecimal
        };
        return Err(error);
    }
    if let Some(f) = frac {
        if f.len() > 2 {
            return Err(AmountError::TooManyDecimals { decimals: f.len() });
        }
    }
    // more whole digits than any limit allows (and than a Decimal holds)
    let whole = int.iter().skip_while(|&&c| c == b'0').count();
    if whole > 26 {
        return Err(AmountError::AboveLimit { limit: max });
    }
    let d = Decimal::from_str(s).map_err(|_| AmountError::NotDecimal)?;
    if d > max {
        return Err(AmountError::AboveLimit { limit: max });
    }
    Ok(d)
}

struct RowCtx<'a> {
    line: u64,
    /// The case id as reported (control characters escaped).
    case_id: std::borrow::Cow<'a, str>,
    problems: Vec<Problem>,
    fields: &'a [&'a str],
    cols: &'a Columns,
}

impl<'a> RowCtx<'a> {
    #[inline]
    fn get_at(&self, k: usize) -> Option<&'a str> {
        self.cols
            .at(k)
            .and_then(|i| self.fields.get(i))
            .map(|s| s.trim())
    }
    fn bad(&mut self, field: &str, value: &str, kind: ProblemKind) {
        self.problems.push(Problem::new(
            self.line,
            self.case_id.as_ref(),
            field,
            value,
            kind,
        ));
    }
    /// An optional whole number from 0 to `max` (empty or absent: `None`).
    fn uint(&mut self, k: usize, max: u32, unit: Unit) -> Option<u32> {
        let field = COLUMNS[k];
        let v = self.get_at(k)?;
        if v.is_empty() {
            return None;
        }
        match v.parse::<u32>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                self.bad(field, v, ProblemKind::WholeNumber { max, unit });
                None
            }
        }
    }
    /// An optional amount of money (empty or absent: `None`; empty where the purpose needs
    /// the column: a problem).
    fn money(&mut self, k: usize) -> Option<Decimal> {
        let field = COLUMNS[k];
        let v = self.get_at(k)?;
        if v.is_empty() {
            let purpose = self.cols.options.purpose;
            if purpose.needs(field) {
                let kind = if field == "fund_paid" {
                    ProblemKind::FundPaidMissing { purpose }
                } else {
                    ProblemKind::CostMissing { purpose }
                };
                self.bad(field, v, kind);
            }
            return None;
        }
        match parse_amount(v, self.cols.options.limits.max_case_cost) {
            Ok(d) => Some(d),
            Err(error) => {
                self.bad(
                    field,
                    v,
                    ProblemKind::Amount {
                        unit: AmountUnit::Yuan,
                        error,
                    },
                );
                None
            }
        }
    }
}

fn lookup_list(
    ctx: &mut RowCtx,
    table: &CodeTable,
    list: CodeList,
    raw: &str,
    repairs: &mut Vec<(&'static str, RepairSet)>,
) -> SmallVec<[u32; 8]> {
    let field = match list {
        CodeList::Diagnoses => "diagnoses",
        CodeList::Procedures => "procedures",
    };
    let principal_required = list == CodeList::Diagnoses;
    let mut set = RepairSet::default();
    let mut ids = SmallVec::new();
    let mut any = false;
    let other_sep = drgdip_codes::for_each_item(raw, |position, item| {
        any = true;
        match table.lookup(item) {
            Ok(l) => {
                set.extend(l.repairs);
                ids.push(l.id);
            }
            Err(e) => {
                let kind = match e {
                    LookupError::Empty if position == 0 && principal_required => {
                        ProblemKind::PrincipalDiagnosisEmpty
                    }
                    LookupError::Empty => ProblemKind::CodeEmpty { list, position },
                    LookupError::Truncated(code) => ProblemKind::CodeTruncated {
                        list,
                        position,
                        code,
                    },
                    LookupError::Unknown(code) => ProblemKind::CodeUnknown {
                        list,
                        position,
                        code,
                    },
                };
                ctx.bad(field, item, kind);
            }
        }
    });
    if !any && principal_required {
        ctx.bad(field, raw, ProblemKind::PrincipalDiagnosisEmpty);
    }
    if other_sep {
        set.insert(Repair::Separator);
    }
    if !set.is_empty() {
        repairs.push((field, set));
    }
    ids
}

/// Reads, repairs and validates one row (`fields` already split). `line` is the physical
/// line. Duplicate case ids are the caller's concern (it sees the whole file). What is
/// required and the bounds on figures are `cols.options`.
pub fn parse_row(fields: &[&str], line: u64, cols: &Columns, catalog: &Catalog) -> RowOutcome {
    let raw_id: &str = cols
        .at(const { col("case_id") })
        .and_then(|i| fields.get(i))
        .map_or("", |s| s.trim());
    let control = raw_id.chars().any(char::is_control);
    let case_id = if control {
        std::borrow::Cow::Owned(escape_control(raw_id))
    } else {
        std::borrow::Cow::Borrowed(raw_id)
    };
    let mut ctx = RowCtx {
        line,
        case_id,
        problems: Vec::new(),
        fields,
        cols,
    };
    if fields.len() != cols.width {
        let kind = ProblemKind::RowWidth {
            fields: fields.len(),
            header: cols.width,
        };
        ctx.bad("row", &escape_control(&fields.join(",")), kind);
        return RowOutcome::Invalid {
            case_id: ctx.case_id.into_owned(),
            problems: ctx.problems,
        };
    }
    // the codes' index slots load while the other fields are read
    if let Some(dx) = ctx.get_at(const { col("diagnoses") }) {
        catalog.diagnoses.prefetch(dx);
    }
    if let Some(px) = ctx.get_at(const { col("procedures") }) {
        catalog.procedures.prefetch(px);
    }
    if raw_id.is_empty() {
        ctx.bad("case_id", "", ProblemKind::CaseIdEmpty);
    }
    if control {
        let shown = ctx.case_id.to_string();
        ctx.bad("case_id", &shown, ProblemKind::CaseIdControl);
    }
    let mut r = CaseRecord {
        line,
        case_id: ctx.case_id.to_string(),
        ..Default::default()
    };
    let g = ctx.get_at(const { col("gender") }).unwrap_or("");
    r.gender = match g {
        "1" => Some(Gender::Male),
        "2" => Some(Gender::Female),
        "" => {
            ctx.bad("gender", g, ProblemKind::GenderEmpty);
            None
        }
        _ => {
            ctx.bad("gender", g, ProblemKind::GenderInvalid);
            None
        }
    };
    let age = ctx.get_at(const { col("age") }).unwrap_or("");
    match age.parse::<u32>() {
        Ok(a) if a <= 150 => r.age_years = a,
        _ => ctx.bad("age", age, ProblemKind::AgeInvalid),
    }
    r.age_days = ctx.uint(const { col("age_days") }, 366, Unit::Days);
    if age == "0" && r.age_days.is_none() && !ctx.problems.iter().any(|p| p.field == "age_days") {
        ctx.bad(
            "age_days",
            ctx.get_at(const { col("age_days") }).unwrap_or(""),
            ProblemKind::InfantWithoutAgeDays,
        );
    }
    r.birth_weight = ctx.uint(const { col("birth_weight") }, 10_000, Unit::Grams);
    r.admission_weight = ctx.uint(const { col("admission_weight") }, 300_000, Unit::Grams);
    if let Some(v) = ctx.get_at(const { col("hospital_level") }) {
        match v.parse::<u8>() {
            _ if v.is_empty() => {}
            Ok(n @ 1..=3) => r.hospital_level = Some(n),
            _ => ctx.bad("hospital_level", v, ProblemKind::HospitalLevelInvalid),
        }
    }
    if let Some(v) = ctx.get_at(const { col("los") }) {
        match v.parse::<i64>() {
            Ok(n) if (0..=36_500).contains(&n) => r.los = Some(n as u32),
            Ok(n) if n < 0 => ctx.bad("los", v, ProblemKind::LosNegative),
            _ => ctx.bad("los", v, ProblemKind::LosInvalid),
        }
    }
    let dx_raw = ctx.get_at(const { col("diagnoses") }).unwrap_or("");
    let mut repairs = Vec::new();
    r.diagnoses = lookup_list(
        &mut ctx,
        &catalog.diagnoses,
        CodeList::Diagnoses,
        dx_raw,
        &mut repairs,
    );
    let px_raw = ctx.get_at(const { col("procedures") }).unwrap_or("");
    r.procedures = lookup_list(
        &mut ctx,
        &catalog.procedures,
        CodeList::Procedures,
        px_raw,
        &mut repairs,
    );
    r.repairs = repairs;
    if let Some(d) = ctx.get_at(const { col("discharge_date") }) {
        match parse_date(d) {
            Some(iso) => r.discharge_date = iso,
            None => ctx.bad("discharge_date", d, ProblemKind::DateInvalid),
        }
    }
    if let Some(f) = ctx.get_at(const { col("new_tech_flag") }) {
        match f {
            "" | "0" => {}
            "1" => r.new_tech_flag = true,
            _ => ctx.bad("new_tech_flag", f, ProblemKind::FlagInvalid),
        }
    }
    if let Some(f) = ctx.get_at(const { col("new_tech_items") }) {
        match parse_new_tech_items(f, ctx.cols.options.limits.max_case_cost) {
            Ok(items) => r.new_tech_items = items,
            Err(bad) => {
                for (entry, error) in bad {
                    ctx.bad("new_tech_items", &entry, ProblemKind::NewTechItem { error });
                }
            }
        }
    }
    r.total_cost = ctx.money(const { col("total_cost") });
    r.fund_paid = ctx.money(const { col("fund_paid") });
    r.drug_cost = ctx.money(const { col("drug_cost") });
    r.material_cost = ctx.money(const { col("material_cost") });
    if let (Some(t), Some(f)) = (r.total_cost, r.fund_paid) {
        if f > t {
            ctx.bad(
                "fund_paid",
                &f.to_string(),
                ProblemKind::FundPaidAboveTotal { total_cost: t },
            );
        }
    }
    if let Some(v) = ctx.get_at(const { col("vent_hours") }) {
        if !v.is_empty() {
            match parse_amount(v, cols.options.limits.max_vent_hours) {
                Ok(d) => r.vent_hours = Some(d),
                Err(error) => ctx.bad(
                    "vent_hours",
                    v,
                    ProblemKind::Amount {
                        unit: AmountUnit::Hours,
                        error,
                    },
                ),
            }
        }
    }
    for (k, slot) in [
        (const { col("hospital_id") }, &mut r.hospital_id),
        (const { col("dept") }, &mut r.dept),
        (const { col("discharge_way") }, &mut r.discharge_way),
        (const { col("insured_region") }, &mut r.insured_region),
        (const { col("insurance_type") }, &mut r.insurance_type),
    ] {
        if let Some(v) = ctx.get_at(k) {
            *slot = v.to_string();
        }
    }
    if ctx.problems.is_empty() {
        RowOutcome::Valid(Box::new(r))
    } else {
        RowOutcome::Invalid {
            case_id: r.case_id,
            problems: ctx.problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use drgdip_codes::CodeKind;
    use drgdip_drg::Lang;

    fn catalog() -> Catalog {
        let mut diagnoses =
            CodeTable::parse("d", "K86.102 a\nI45.500x004 b\nP07.300 c\nA01.003 d\n").unwrap();
        diagnoses
            .add_map("m", "A01.000x002 A01.003\n", CodeKind::Diagnosis)
            .unwrap();
        let procedures = CodeTable::parse("p", "07.7202 a\n14.6x02 b\n").unwrap();
        Catalog {
            diagnoses,
            procedures,
        }
    }

    fn cols() -> Columns {
        Columns::from_header(COLUMNS.iter().copied()).unwrap()
    }

    fn row(over: &[(&str, &str)]) -> Vec<String> {
        let mut v: Vec<String> = COLUMNS
            .iter()
            .map(|c| match *c {
                "case_id" => "C1",
                "gender" => "1",
                "age" => "40",
                "los" => "5",
                "diagnoses" => "K86.102",
                "discharge_date" => "2025-03-01",
                "total_cost" => "100.00",
                _ => "",
            })
            .map(String::from)
            .collect();
        for (k, val) in over {
            let i = COLUMNS.iter().position(|c| c == k).unwrap();
            v[i] = val.to_string();
        }
        v
    }

    fn parse(over: &[(&str, &str)]) -> RowOutcome {
        parse_for(Purpose::Group, over)
    }

    fn parse_for(purpose: Purpose, over: &[(&str, &str)]) -> RowOutcome {
        let r = row(over);
        let f: Vec<&str> = r.iter().map(String::as_str).collect();
        let cols =
            Columns::from_header_for(COLUMNS.iter().copied(), ReadOptions::for_purpose(purpose))
                .unwrap();
        parse_row(&f, 2, &cols, &catalog())
    }

    fn problems(o: &RowOutcome) -> Vec<Problem> {
        match o {
            RowOutcome::Valid(_) => vec![],
            RowOutcome::Invalid { problems, .. } => problems.clone(),
        }
    }

    fn problem_fields(o: &RowOutcome) -> Vec<String> {
        match o {
            RowOutcome::Valid(_) => vec![],
            RowOutcome::Invalid { problems, .. } => {
                problems.iter().map(|p| p.field.clone()).collect()
            }
        }
    }

    #[test]
    fn a_clean_row_is_valid() {
        let RowOutcome::Valid(r) = parse(&[]) else {
            panic!()
        };
        assert_eq!(r.diagnoses.as_slice(), &[0]);
        assert!(r.repairs.is_empty());
    }

    #[test]
    fn cosmetic_defects_are_repaired_and_recorded() {
        let RowOutcome::Valid(r) = parse(&[
            ("diagnoses", " ｋ８６．１０２ ；i45.500X004 "),
            ("procedures", "07.7202;14.6X02"),
        ]) else {
            panic!()
        };
        assert_eq!(r.diagnoses.as_slice(), &[0, 1]);
        assert_eq!(r.procedures.as_slice(), &[0, 1]);
        let t = r.repairs_text();
        assert!(
            t.contains("full-width") && t.contains("separator") && t.contains("letter case"),
            "{t}"
        );
    }

    #[test]
    fn a_retired_code_is_mapped() {
        let RowOutcome::Valid(r) = parse(&[("diagnoses", "A01.000x002")]) else {
            panic!()
        };
        assert_eq!(r.diagnoses.as_slice(), &[3]);
        assert!(r.repairs_text().contains("mapped"));
    }

    #[test]
    fn each_reject_names_its_field() {
        for (over, field) in [
            (("diagnoses", ""), "diagnoses"),
            (("diagnoses", "K86.1"), "diagnoses"),
            (("diagnoses", "Z99.999x999"), "diagnoses"),
            (("procedures", "99.9999x999"), "procedures"),
            (("gender", "M?"), "gender"),
            (("gender", ""), "gender"),
            (("age", "187"), "age"),
            (("age", "-3"), "age"),
            (("age", "abc"), "age"),
            (("age", "0"), "age_days"),
            (("los", "-1"), "los"),
            (("los", "x"), "los"),
            (("total_cost", "12,3.4"), "total_cost"),
            (("total_cost", "NaN"), "total_cost"),
            (("total_cost", "-100.00"), "total_cost"),
            (("fund_paid", "1e3"), "fund_paid"),
            (("drug_cost", "1.234"), "drug_cost"),
            (("material_cost", "+5"), "material_cost"),
            (("vent_hours", "-1"), "vent_hours"),
            (("vent_hours", "1e2"), "vent_hours"),
            (("vent_hours", "100001"), "vent_hours"),
            (("hospital_level", "0"), "hospital_level"),
            (("hospital_level", "4"), "hospital_level"),
            (("age_days", "400"), "age_days"),
            (("new_tech_flag", "2"), "new_tech_flag"),
            (("case_id", ""), "case_id"),
            (("case_id", "C\u{0}1"), "case_id"),
            (("discharge_date", "2025-13-40"), "discharge_date"),
            (("discharge_date", "yesterday"), "discharge_date"),
            (("discharge_date", "2025-02-29"), "discharge_date"),
        ] {
            assert_eq!(
                problem_fields(&parse(&[over])),
                vec![field.to_string()],
                "{over:?}"
            );
        }
        assert!(problem_fields(&parse(&[("discharge_date", "2024-02-29")])).is_empty());
    }

    #[test]
    fn a_short_row_is_reported_as_a_whole() {
        let c = cols();
        let o = parse_row(&["C9", "H1", "2"], 8, &c, &catalog());
        let RowOutcome::Invalid { case_id, problems } = o else {
            panic!()
        };
        assert_eq!(case_id, "C9");
        assert_eq!(problems[0].field, "row");
        assert_eq!(problems[0].line, 8);
    }

    #[test]
    fn the_header_may_be_in_any_order_and_must_have_the_required_columns() {
        let c = Columns::from_header(["diagnoses", "x", "AGE", "gender", "case_id"]).unwrap();
        assert_eq!(c.pos("age"), Some(2));
        assert_eq!(c.width, 5);
        assert_eq!(
            Columns::from_header(["case_id", "age"]).unwrap_err(),
            ColumnsError::Missing("gender, diagnoses".into())
        );
    }

    proptest::proptest! {
        #[test]
        fn any_row_is_either_valid_or_reported(fields in proptest::collection::vec("\\PC{0,12}", 0..30)) {
            let f: Vec<&str> = fields.iter().map(String::as_str).collect();
            match parse_row(&f, 2, &cols(), &catalog()) {
                RowOutcome::Valid(_) => {}
                RowOutcome::Invalid { problems, .. } => proptest::prop_assert!(!problems.is_empty()),
            }
        }
    }

    #[test]
    fn money_is_a_plain_decimal_with_at_most_two_decimals_and_at_most_the_limit() {
        let max = ReadLimits::default().max_case_cost;
        assert_eq!(max.to_string(), "100000000.00");
        for ok in ["0", "1234", "1234.5", "1234.56", "0012.30", "100000000.00"] {
            assert_eq!(parse_amount(ok, max), Ok(ok.parse().unwrap()), "{ok}");
        }
        use AmountError as E;
        for (bad, want) in [
            ("1e3", E::Exponent),
            ("1.5E+3", E::Exponent),
            ("+5", E::Sign { negative: false }),
            ("-5", E::Sign { negative: true }),
            ("−5", E::Sign { negative: true }),
            ("1.234", E::TooManyDecimals { decimals: 3 }),
            ("1,234.56", E::Separator),
            ("1 234", E::Separator),
            ("1_234", E::Separator),
            ("NaN", E::NotANumber),
            ("inf", E::NotANumber),
            ("-Infinity", E::NotANumber),
            (".5", E::NotDecimal),
            ("5.", E::NotDecimal),
            ("1.2.3", E::NotDecimal),
            ("abc", E::NotDecimal),
            ("１２", E::NotDecimal),
            ("100000000.01", E::AboveLimit { limit: max }),
            (
                "79228162514264337593543950335",
                E::AboveLimit { limit: max },
            ),
            (
                "792281625142643375935439503350000",
                E::AboveLimit { limit: max },
            ),
        ] {
            assert_eq!(parse_amount(bad, max), Err(want), "{bad}");
        }
    }

    #[test]
    fn the_limit_is_a_reader_option() {
        let r = row(&[("total_cost", "5000.00"), ("fund_paid", "4000")]);
        let f: Vec<&str> = r.iter().map(String::as_str).collect();
        let limits = ReadLimits {
            max_case_cost: Decimal::from(4500),
            ..ReadLimits::default()
        };
        let options = ReadOptions {
            purpose: Purpose::Pay,
            limits,
        };
        let cols = Columns::from_header_for(COLUMNS.iter().copied(), options).unwrap();
        let p = problems(&parse_row(&f, 2, &cols, &catalog()));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].field, "total_cost");
        assert_eq!(
            p[0].message(Lang::En),
            "above the limit of 4500 CNY for one case ([limits].max_case_cost)"
        );
        assert!(matches!(
            parse_for(
                Purpose::Pay,
                &[("total_cost", "5000.00"), ("fund_paid", "4000")]
            ),
            RowOutcome::Valid(_)
        ));
    }

    #[test]
    fn an_empty_cost_is_absent_for_grouping_and_a_problem_where_it_is_needed() {
        let RowOutcome::Valid(r) = parse(&[("total_cost", "")]) else {
            panic!()
        };
        assert_eq!(r.total_cost, None);
        for purpose in [Purpose::Pay, Purpose::DipScore] {
            let p = problems(&parse_for(
                purpose,
                &[("total_cost", ""), ("fund_paid", "")],
            ));
            let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
            assert_eq!(fields, ["total_cost", "fund_paid"], "{purpose:?}");
        }
        let p = problems(&parse_for(
            Purpose::Pay,
            &[("total_cost", ""), ("fund_paid", "1")],
        ));
        assert_eq!(
            p[0].text(Lang::En),
            "total_cost: missing: pay needs the case's per-item cost"
        );
        // the weights and the DIP library use no fund_paid
        for purpose in [Purpose::Weights, Purpose::DipLibrary] {
            assert!(matches!(
                parse_for(purpose, &[("fund_paid", "")]),
                RowOutcome::Valid(_)
            ));
            assert_eq!(
                problem_fields(&parse_for(purpose, &[("total_cost", "")])),
                ["total_cost"]
            );
        }
    }

    #[test]
    fn a_header_without_the_cost_columns_a_purpose_needs_is_refused_once() {
        let head = ["case_id", "gender", "age", "diagnoses"];
        assert!(Columns::from_header(head).is_ok());
        let e = Columns::from_header_for(head, ReadOptions::for_purpose(Purpose::Pay)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the header lacks the column(s) total_cost, fund_paid, which pay needs"
        );
        let e =
            Columns::from_header_for(head, ReadOptions::for_purpose(Purpose::Weights)).unwrap_err();
        assert_eq!(
            e,
            ColumnsError::NeededBy {
                columns: "total_cost".into(),
                purpose: Purpose::Weights
            }
        );
    }

    #[test]
    fn a_control_character_in_the_case_id_is_named_and_shown_escaped() {
        let o = parse(&[("case_id", "C\u{0}01\u{1b}")]);
        let RowOutcome::Invalid { case_id, problems } = o else {
            panic!()
        };
        assert_eq!(case_id, "C\\u{0}01\\u{1b}");
        assert_eq!(problems.len(), 1);
        assert_eq!(
            (
                problems[0].line,
                problems[0].field.as_str(),
                problems[0].value.as_str()
            ),
            (2, "case_id", "C\\u{0}01\\u{1b}")
        );
        assert!(problems[0]
            .to_csv_line(Lang::En)
            .bytes()
            .all(|b| b >= b' ' || b == b'\n'));
    }

    /// Every problem prints as `field: message`, the field once: no message starts with a
    /// field name or a field's description, in either language.
    #[test]
    fn no_problem_repeats_its_field() {
        let mut all = Vec::new();
        for over in [
            ("age", "187"),
            ("age", "0"),
            ("age_days", "999"),
            ("birth_weight", "x"),
            ("admission_weight", "-1"),
            ("hospital_level", "9"),
            ("los", "-1"),
            ("los", "x"),
            ("gender", ""),
            ("gender", "3"),
            ("diagnoses", ""),
            ("diagnoses", "K86.1"),
            ("diagnoses", "K86.102|Z99.999x999"),
            ("procedures", "07.7202||x"),
            ("discharge_date", "2025-02-30"),
            ("new_tech_flag", "y"),
            ("total_cost", "1e3"),
            ("fund_paid", "200.00"),
            ("drug_cost", "NaN"),
            ("vent_hours", "1.234"),
            ("case_id", ""),
            ("case_id", "A\tB"),
        ] {
            all.extend(problems(&parse_for(Purpose::Pay, &[over])));
        }
        all.extend(problems(&parse_for(
            Purpose::Pay,
            &[("total_cost", ""), ("fund_paid", "")],
        )));
        let short = ["a"; 3];
        all.extend(problems(&parse_row(&short, 3, &cols(), &catalog())));
        assert!(all.len() >= 24, "{all:?}");
        let labels = [
            "age in days",
            "length of stay",
            "hospital level",
            "ventilation hours",
            "birth weight",
            "admission weight",
            "gender:",
            "age:",
        ];
        for p in &all {
            for lang in [Lang::En, Lang::Zh] {
                let m = p.message(lang);
                assert!(!m.starts_with(p.field.as_str()), "{p:?}: {m}");
                assert!(
                    !COLUMNS.iter().any(|c| m.starts_with(&format!("{c}:"))),
                    "{m}"
                );
                assert!(!labels.iter().any(|l| m.starts_with(l)), "{m}");
                assert_eq!(p.text(lang), format!("{}: {m}", p.field));
            }
        }
    }
}
