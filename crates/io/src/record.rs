//! One row of a case file: columns by header name, repair, validation.

use std::str::FromStr;

use drgdip_codes::{Catalog, CodeTable, LookupError, Repair, RepairSet};
use drgdip_scheme::Gender;
use rust_decimal::Decimal;
use smallvec::SmallVec;

use crate::new_tech::{parse_new_tech_items, NewTechItem};

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

/// Positions of the known columns in a file's header.
#[derive(Debug, Clone)]
pub struct Columns {
    idx: [Option<usize>; COLUMNS.len()],
    /// Number of fields in the header: every row must have as many.
    pub width: usize,
    /// The header's names, as written.
    pub names: Vec<String>,
}

/// A header that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ColumnsError {
    #[error("the header lacks the required column(s) {0}")]
    Missing(String),
    #[error("the header names column {0:?} twice")]
    Duplicate(String),
}

impl Columns {
    /// Maps header names (trimmed, case-insensitive) to positions.
    pub fn from_header<'a>(
        names: impl IntoIterator<Item = &'a str>,
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
        Ok(Columns {
            idx,
            width,
            names: header,
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

/// One problem of one row, as written to the errors file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Physical line of the row (the header is line 1).
    pub line: u64,
    pub case_id: String,
    pub field: String,
    pub value: String,
    pub message: String,
}

impl Problem {
    /// The errors-file row `line,case_id,field,value,message`.
    pub fn to_csv_line(&self) -> String {
        format!(
            "{},{},{},{},{}\n",
            self.line,
            csv_field(&self.case_id),
            csv_field(&self.field),
            csv_field(&self.value),
            csv_field(&self.message)
        )
    }
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
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
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

struct RowCtx<'a> {
    line: u64,
    case_id: &'a str,
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
    fn bad(&mut self, field: &str, value: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            line: self.line,
            case_id: self.case_id.to_string(),
            field: field.to_string(),
            value: value.to_string(),
            message: message.into(),
        });
    }
    /// An optional whole number within a range (empty or absent: `None`).
    fn uint(&mut self, k: usize, max: u32, what: &str) -> Option<u32> {
        let field = COLUMNS[k];
        let v = self.get_at(k)?;
        if v.is_empty() {
            return None;
        }
        match v.parse::<u32>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                self.bad(
                    field,
                    v,
                    format!("{what}: expected a whole number from 0 to {max}"),
                );
                None
            }
        }
    }
    /// An optional non-negative decimal. `required`: present column must not be empty.
    fn money(&mut self, k: usize, required: bool) -> Option<Decimal> {
        let field = COLUMNS[k];
        let v = self.get_at(k)?;
        if v.is_empty() && !required {
            return None;
        }
        match Decimal::from_str(v) {
            Ok(d) if !d.is_sign_negative() || d.is_zero() => Some(d),
            Ok(_) => {
                self.bad(field, v, "negative amount: expected a non-negative decimal");
                None
            }
            Err(_) => {
                self.bad(field, v, "not a decimal number (expected e.g. 1234.56)");
                None
            }
        }
    }
}

fn lookup_list(
    ctx: &mut RowCtx,
    table: &CodeTable,
    field: &'static str,
    raw: &str,
    principal_required: bool,
    repairs: &mut Vec<(&'static str, RepairSet)>,
) -> SmallVec<[u32; 8]> {
    let (items, other_sep) = drgdip_codes::split_list(raw);
    let mut set = RepairSet::default();
    if other_sep {
        set.insert(Repair::Separator);
    }
    let mut ids = SmallVec::new();
    if items.is_empty() && principal_required {
        ctx.bad(field, raw, "the principal diagnosis is empty");
    }
    for (pos, item) in items.iter().enumerate() {
        match table.lookup(item) {
            Ok(l) => {
                set.extend(l.repairs);
                ids.push(l.id);
            }
            Err(e) => {
                let which = match (pos, principal_required) {
                    (0, true) => "principal diagnosis".to_string(),
                    (0, false) => "principal procedure".to_string(),
                    (n, _) => format!("code {} of the list", n + 1),
                };
                let msg = match &e {
                    LookupError::Empty if pos == 0 && principal_required => {
                        "the principal diagnosis is empty".to_string()
                    }
                    LookupError::Empty => format!("{which} is empty (stray separator)"),
                    LookupError::Truncated(c) => {
                        format!("{which} {c:?} is truncated: only a prefix of catalog codes")
                    }
                    LookupError::Unknown(c) => {
                        format!("{which} {c:?} is not in the catalog nor in the retired-code map")
                    }
                };
                ctx.bad(field, item, msg);
            }
        }
    }
    if !set.is_empty() {
        repairs.push((field, set));
    }
    ids
}

/// Reads, repairs and validates one row (`fields` already split). `line` is the physical
/// line. Duplicate case ids are the caller's concern (it sees the whole file).
pub fn parse_row(fields: &[&str], line: u64, cols: &Columns, catalog: &Catalog) -> RowOutcome {
    let case_id: &str = cols
        .at(const { col("case_id") })
        .and_then(|i| fields.get(i))
        .map_or("", |s| s.trim());
    let mut ctx = RowCtx {
        line,
        case_id,
        problems: Vec::new(),
        fields,
        cols,
    };
    if fields.len() != cols.width {
        let msg = format!(
            "the row has {} fields, the header {}",
            fields.len(),
            cols.width
        );
        ctx.bad("row", &fields.join(","), msg);
        return RowOutcome::Invalid {
            case_id: case_id.to_string(),
            problems: ctx.problems,
        };
    }
    if case_id.is_empty() {
        ctx.bad("case_id", "", "empty case id");
    }
    let mut r = CaseRecord {
        line,
        case_id: case_id.to_string(),
        ..Default::default()
    };
    let g = ctx.get_at(const { col("gender") }).unwrap_or("");
    r.gender = match g {
        "1" => Some(Gender::Male),
        "2" => Some(Gender::Female),
        "" => {
            ctx.bad("gender", g, "empty gender (病人性别为空): expected 1 or 2");
            None
        }
        _ => {
            ctx.bad("gender", g, "gender must be 1 (male) or 2 (female)");
            None
        }
    };
    let age = ctx.get_at(const { col("age") }).unwrap_or("");
    match age.parse::<u32>() {
        Ok(a) if a <= 150 => r.age_years = a,
        _ => ctx.bad(
            "age",
            age,
            "age: expected a whole number of years from 0 to 150",
        ),
    }
    r.age_days = ctx.uint(const { col("age_days") }, 366, "age in days");
    if age == "0" && r.age_days.is_none() && !ctx.problems.iter().any(|p| p.field == "age_days") {
        ctx.bad(
            "age_days",
            ctx.get_at(const { col("age_days") }).unwrap_or(""),
            "an infant (age 0) needs age_days",
        );
    }
    r.birth_weight = ctx.uint(
        const { col("birth_weight") },
        10_000,
        "birth weight in grams",
    );
    r.admission_weight = ctx.uint(
        const { col("admission_weight") },
        300_000,
        "admission weight in grams",
    );
    r.hospital_level = ctx
        .uint(const { col("hospital_level") }, 3, "hospital level")
        .map(|n| n as u8);
    if r.hospital_level == Some(0) {
        ctx.bad("hospital_level", "0", "hospital level: expected 1, 2 or 3");
    }
    if let Some(v) = ctx.get_at(const { col("los") }) {
        match v.parse::<i64>() {
            Ok(n) if (0..=36_500).contains(&n) => r.los = Some(n as u32),
            Ok(n) if n < 0 => ctx.bad("los", v, "negative length of stay"),
            _ => ctx.bad("los", v, "length of stay: expected a whole number of days"),
        }
    }
    let dx_raw = ctx.get_at(const { col("diagnoses") }).unwrap_or("");
    let mut repairs = Vec::new();
    r.diagnoses = lookup_list(
        &mut ctx,
        &catalog.diagnoses,
        "diagnoses",
        dx_raw,
        true,
        &mut repairs,
    );
    let px_raw = ctx.get_at(const { col("procedures") }).unwrap_or("");
    r.procedures = lookup_list(
        &mut ctx,
        &catalog.procedures,
        "procedures",
        px_raw,
        false,
        &mut repairs,
    );
    r.repairs = repairs;
    if let Some(d) = ctx.get_at(const { col("discharge_date") }) {
        match parse_date(d) {
            Some(iso) => r.discharge_date = iso,
            None => ctx.bad("discharge_date", d, "not a real date (expected YYYY-MM-DD)"),
        }
    }
    if let Some(f) = ctx.get_at(const { col("new_tech_flag") }) {
        match f {
            "" | "0" => {}
            "1" => r.new_tech_flag = true,
            _ => ctx.bad("new_tech_flag", f, "expected 0 or 1"),
        }
    }
    if let Some(f) = ctx.get_at(const { col("new_tech_items") }) {
        match parse_new_tech_items(f) {
            Ok(items) => r.new_tech_items = items,
            Err(bad) => {
                for (entry, message) in bad {
                    ctx.bad("new_tech_items", &entry, message);
                }
            }
        }
    }
    r.total_cost = ctx.money(const { col("total_cost") }, true);
    r.fund_paid = ctx.money(const { col("fund_paid") }, false);
    r.drug_cost = ctx.money(const { col("drug_cost") }, false);
    r.material_cost = ctx.money(const { col("material_cost") }, false);
    if let (Some(t), Some(f)) = (r.total_cost, r.fund_paid) {
        if f > t {
            ctx.bad(
                "fund_paid",
                &f.to_string(),
                format!("fund_paid exceeds total_cost {t}"),
            );
        }
    }
    if let Some(v) = ctx.get_at(const { col("vent_hours") }) {
        if !v.is_empty() {
            match Decimal::from_str(v) {
                Ok(d) if !d.is_sign_negative() => r.vent_hours = Some(d),
                _ => ctx.bad(
                    "vent_hours",
                    v,
                    "ventilation hours: expected a non-negative number",
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
        let r = row(over);
        let f: Vec<&str> = r.iter().map(String::as_str).collect();
        parse_row(&f, 2, &cols(), &catalog())
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
            (("total_cost", ""), "total_cost"),
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
}
