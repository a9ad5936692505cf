//! 除外机制 — the exclusion mechanism by the province's approved catalogue
//! (`payment-model.md` §2 rule 4, revision 2).
//!
//! The catalogue is a CSV `code,kind,name,valid_from,valid_to,form,bonus,adrgs` read from text
//! by [`Catalogue::from_csv_str`]; every problem of it names its line, field and value, and all
//! problems are reported at once. Whether its ADRG codes are ADRGs of the scheme is checked by
//! the caller that has the scheme ([`Catalogue::unknown_adrgs`]).
//!
//! A case names the listed items it used (`new_tech_items`, `CODE:COST|CODE:COST`, read by the
//! case-file reader into [`ItemUse`]s). [`Catalogue::check`] says for each named item whether it
//! applies — its code is in the catalogue, the discharge date lies in `[valid_from, valid_to]`
//! (both inclusive) and the case's ADRG is in its scope (an empty scope is every group) — or
//! why not ([`ItemFailure`]). [`ItemChecks::decisive`] picks the item that decides the payment:
//! the first applicable `per_item` item, else the first applicable item.
//!
//! Choices where the rule book is silent:
//! - the header must name the eight columns (any order); an unknown column is refused (a typo
//!   such as `adrg` would otherwise silently widen an item's scope to every group);
//! - `name` must not be empty; `code` must not contain `:` `|` `,` or spaces (the separators of
//!   the case column); codes are compared exactly (after trimming);
//! - `bonus` is a plain decimal > 0 (a share of the standard: `0.20` = 20 %), required for
//!   `weight_bonus` and refused for the other forms;
//! - an ADRG code is three characters, a letter then two letters or digits (`FM1`, `GB2`);
//!   the same ADRG twice in one scope is refused;
//! - a case without a discharge date cannot show that an item was valid: the item fails with
//!   [`ItemFailure::NoDischargeDate`].

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use thiserror::Error;

text_enum! {
    /// What a catalogue item is (`kind`).
    pub enum ItemKind {
        /// 新药 — a drug.
        Drug = "drug",
        /// 新耗材 — a device or consumable.
        Device = "device",
        /// 新技术 — a technique or service.
        Technique = "technique",
    }
}

text_enum! {
    /// How an applicable item is paid (`form`).
    pub enum ExclusionForm {
        /// 按项目付费 — the whole case per item: `total_cost`.
        PerItem = "per_item",
        /// 除外支付 — rule 6 applied to `total_cost − item cost`, plus the item cost.
        ItemCost = "item_cost",
        /// 权重加成 — the ordinary payment plus `bonus × standard`.
        WeightBonus = "weight_bonus",
    }
}

/// A calendar date (`YYYY-MM-DD`), ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Reads a real calendar date written `YYYY-MM-DD` (four, two and two digits).
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if !text.is_ascii() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u16> {
            let part = &text[range];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if year == 0 || day == 0 || day > days {
            return None;
        }
        Some(Date {
            year,
            month: month as u8,
            day: day as u8,
        })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// One item of the approved catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueItem {
    /// The line of the catalogue file (the header is line 1).
    pub line: u64,
    /// The item's code, as cases name it.
    pub code: String,
    /// Drug, device or technique.
    pub kind: ItemKind,
    /// Its name.
    pub name: String,
    /// First day of validity (inclusive).
    pub valid_from: Date,
    /// Last day of validity (inclusive).
    pub valid_to: Date,
    /// How an applicable item is paid.
    pub form: ExclusionForm,
    /// The bonus share of `weight_bonus` (> 0); `None` for the other forms.
    pub bonus: Option<Decimal>,
    /// The ADRGs in scope; empty = every group.
    pub adrgs: Vec<String>,
}

impl CatalogueItem {
    /// Whether the case's ADRG is in the item's scope.
    pub fn covers_adrg(&self, adrg: &str) -> bool {
        self.adrgs.is_empty() || self.adrgs.iter().any(|a| a == adrg)
    }

    /// The scope as written: `FM1|FM2`, or `every group`.
    pub fn scope_text(&self) -> String {
        if self.adrgs.is_empty() {
            "every group".to_string()
        } else {
            self.adrgs.join("|")
        }
    }
}

/// One problem of a catalogue file: its line, the field, the value and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueProblem {
    /// The physical line (the header is line 1).
    pub line: u64,
    /// The column (`valid_to`), or `row` / `header`.
    pub field: String,
    /// The value as written.
    pub value: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for CatalogueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, {} {:?}: {}",
            self.line, self.field, self.value, self.message
        )
    }
}

/// A catalogue that does not validate: every problem found, in line order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{} problem(s) in the exclusion catalogue: {}", problems.len(), render(problems))]
pub struct CatalogueError {
    /// The problems, at least one.
    pub problems: Vec<CatalogueProblem>,
}

fn render(problems: &[CatalogueProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The columns of a catalogue file.
pub const CATALOGUE_COLUMNS: [&str; 8] = [
    "code",
    "kind",
    "name",
    "valid_from",
    "valid_to",
    "form",
    "bonus",
    "adrgs",
];

/// A scheme's name and the test of whether a code is one of its ADRGs.
type SchemeAdrgs<'a> = (&'a str, &'a dyn Fn(&str) -> bool);

/// The province's approved exclusion catalogue (除外目录), validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Catalogue {
    items: Vec<CatalogueItem>,
    by_code: FxHashMap<String, usize>,
}

/// Whether `code` may name an item: non-empty, none of the case column's separators.
fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && !code
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ':' | '|' | ',' | '"'))
}

/// An ADRG code's shape: a letter, then two letters or digits.
fn adrg_shape(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 3 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_alphanumeric)
}

/// A plain decimal: digits, at most one point, no sign, no exponent.
fn plain_decimal(text: &str) -> Option<Decimal> {
    let mut points = 0;
    let ok = !text.is_empty()
        && text.bytes().all(|b| match b {
            b'0'..=b'9' => true,
            b'.' => {
                points += 1;
                points == 1
            }
            _ => false,
        })
        && text != ".";
    if !ok {
        return None;
    }
    Decimal::from_str(text).ok()
}

impl Catalogue {
    /// Reads and validates a catalogue from its CSV text. All problems are collected: a
    /// catalogue with any problem is refused as a whole (it is the province's rule book).
    pub fn from_csv_str(text: &str) -> Result<Catalogue, CatalogueError> {
        Self::parse(text, None)
    }

    /// As [`Catalogue::from_csv_str`], and every scope code must be an ADRG of the scheme
    /// `scheme` (`is_adrg` says which are): those problems are reported with the others.
    pub fn from_csv_str_for_scheme(
        text: &str,
        scheme: &str,
        is_adrg: &dyn Fn(&str) -> bool,
    ) -> Result<Catalogue, CatalogueError> {
        Self::parse(text, Some((scheme, is_adrg)))
    }

    fn parse(text: &str, scheme: Option<SchemeAdrgs<'_>>) -> Result<Catalogue, CatalogueError> {
        let mut problems = Vec::new();
        let text = text.trim_start_matches('\u{feff}');
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(text.as_bytes());
        // The physical line of a byte offset (the CSV reader does not count blank lines).
        let mut counted = (0usize, 1u64);
        let mut line_at = |byte: u64| -> u64 {
            let mut byte = (byte as usize).min(text.len());
            // A record's position may be that of the blank lines skipped before it.
            while matches!(text.as_bytes().get(byte), Some(b'\n' | b'\r')) {
                byte += 1;
            }
            if byte < counted.0 {
                counted = (0, 1);
            }
            let newlines = text.as_bytes()[counted.0..byte]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            counted = (byte, counted.1 + newlines);
            counted.1
        };
        let header: Vec<String> = match rdr.headers() {
            Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
            Err(e) => {
                return Err(CatalogueError {
                    problems: vec![CatalogueProblem {
                        line: 1,
                        field: "header".into(),
                        value: String::new(),
                        message: format!("not a CSV header: {e}"),
                    }],
                })
            }
        };
        let header_problem = |value: &str, message: String| CatalogueProblem {
            line: 1,
            field: "header".into(),
            value: value.to_string(),
            message,
        };
        let mut pos = [usize::MAX; 8];
        for (i, name) in header.iter().enumerate() {
            match CATALOGUE_COLUMNS.iter().position(|c| c == name) {
                Some(k) if pos[k] != usize::MAX => {
                    problems.push(header_problem(name, "the column is named twice".into()))
                }
                Some(k) => pos[k] = i,
                None => problems.push(header_problem(
                    name,
                    format!(
                        "unknown column; expected the columns {}",
                        CATALOGUE_COLUMNS.join(",")
                    ),
                )),
            }
        }
        for (k, name) in CATALOGUE_COLUMNS.iter().enumerate() {
            if pos[k] == usize::MAX {
                problems.push(header_problem(
                    &header.join(","),
                    format!("the column {name} is missing"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(CatalogueError { problems });
        }

        let mut catalogue = Catalogue::default();
        let mut record = csv::StringRecord::new();
        loop {
            match rdr.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(0, |p| line_at(p.byte()));
                    problems.push(CatalogueProblem {
                        line,
                        field: "row".into(),
                        value: String::new(),
                        message: format!("not readable as CSV: {e}"),
                    });
                    break;
                }
            }
            let line = record.position().map_or(0, |p| line_at(p.byte()));
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if record.len() != header.len() {
                problems.push(CatalogueProblem {
                    line,
                    field: "row".into(),
                    value: record.iter().collect::<Vec<_>>().join(","),
                    message: format!(
                        "the row has {} fields, the header {}",
                        record.len(),
                        header.len()
                    ),
                });
                continue;
            }
            let get = |k: usize| record.get(pos[k]).unwrap_or("").trim();
            if let Some(item) = read_item(line, get, scheme, &mut problems) {
                match catalogue.by_code.get(&item.code) {
                    Some(&first) => problems.push(CatalogueProblem {
                        line,
                        field: "code".into(),
                        value: item.code.clone(),
                        message: format!(
                            "duplicate code: already listed on line {}",
                            catalogue.items[first].line
                        ),
                    }),
                    None => {
                        catalogue
                            .by_code
                            .insert(item.code.clone(), catalogue.items.len());
                        catalogue.items.push(item);
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(catalogue)
        } else {
            problems.sort_by_key(|p| p.line);
            Err(CatalogueError { problems })
        }
    }

    /// The items, in file order.
    pub fn items(&self) -> &[CatalogueItem] {
        &self.items
    }

    /// The item listed under `code`.
    pub fn get(&self, code: &str) -> Option<&CatalogueItem> {
        self.by_code.get(code).map(|&i| &self.items[i])
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the catalogue lists no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The scope codes that are not ADRGs of the scheme (`is_adrg` says which are), one problem
    /// each, naming the line; `scheme` names the scheme in the message.
    pub fn unknown_adrgs(
        &self,
        scheme: &str,
        is_adrg: impl Fn(&str) -> bool,
    ) -> Vec<CatalogueProblem> {
        self.items
            .iter()
            .flat_map(|item| {
                item.adrgs
                    .iter()
                    .filter(|a| !is_adrg(a))
                    .map(|a| CatalogueProblem {
                        line: item.line,
                        field: "adrgs".into(),
                        value: a.clone(),
                        message: format!("{a} is not an ADRG of the scheme {scheme}"),
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Checks every item a case names, in the case's order.
    pub fn check(&self, items: &[ItemUse], discharge: Option<Date>, adrg: &str) -> ItemChecks {
        let checks = items
            .iter()
            .map(|used| {
                let outcome = match self.get(&used.code) {
                    None => Err(ItemFailure::Unlisted),
                    Some(item) => match discharge {
                        None => Err(ItemFailure::NoDischargeDate),
                        Some(d) if d < item.valid_from => Err(ItemFailure::NotYetValid {
                            valid_from: item.valid_from,
                            discharge: d,
                        }),
                        Some(d) if d > item.valid_to => Err(ItemFailure::Expired {
                            valid_to: item.valid_to,
                            discharge: d,
                        }),
                        Some(_) if !item.covers_adrg(adrg) => Err(ItemFailure::OutOfScope {
                            adrg: adrg.to_string(),
                            scope: item.scope_text(),
                        }),
                        Some(_) => Ok(item.clone()),
                    },
                };
                ItemCheck {
                    code: used.code.clone(),
                    cost: used.cost,
                    outcome,
                }
            })
            .collect();
        ItemChecks(checks)
    }
}

/// Reads one data row; pushes its problems and returns the item when it has none.
fn read_item<'a>(
    line: u64,
    get: impl Fn(usize) -> &'a str,
    scheme: Option<SchemeAdrgs<'_>>,
    problems: &mut Vec<CatalogueProblem>,
) -> Option<CatalogueItem> {
    let before = problems.len();
    let mut bad = |k: usize, value: &str, message: String| {
        problems.push(CatalogueProblem {
            line,
            field: CATALOGUE_COLUMNS[k].to_string(),
            value: value.to_string(),
            message,
        })
    };
    let code = get(0);
    if !valid_code(code) {
        bad(
            0,
            code,
            "expected a non-empty code without spaces, ':', '|', ',' or quotes".into(),
        );
    }
    let kind = ItemKind::parse(get(1));
    if kind.is_none() {
        bad(1, get(1), "expected one of drug, device, technique".into());
    }
    let name = get(2);
    if name.is_empty() {
        bad(2, name, "expected the item's name".into());
    }
    let valid_from = Date::parse(get(3));
    if valid_from.is_none() {
        bad(3, get(3), "not a real date (expected YYYY-MM-DD)".into());
    }
    let valid_to = Date::parse(get(4));
    if valid_to.is_none() {
        bad(4, get(4), "not a real date (expected YYYY-MM-DD)".into());
    }
    if let (Some(from), Some(to)) = (valid_from, valid_to) {
        if to < from {
            bad(
                4,
                get(4),
                format!("valid_to is before valid_from {from}: the item would never be valid"),
            );
        }
    }
    let form = ExclusionForm::parse(get(5));
    if form.is_none() {
        bad(
            5,
            get(5),
            "expected one of per_item, item_cost, weight_bonus".into(),
        );
    }
    let bonus_text = get(6);
    let bonus = match (form, bonus_text.is_empty()) {
        (Some(ExclusionForm::WeightBonus), true) => {
            bad(
                6,
                bonus_text,
                "missing: the weight_bonus form needs a bonus, a decimal > 0 such as 0.20".into(),
            );
            None
        }
        (Some(ExclusionForm::WeightBonus), false) => match plain_decimal(bonus_text) {
            Some(b) if b > Decimal::ZERO => Some(b),
            _ => {
                bad(
                    6,
                    bonus_text,
                    "expected a decimal > 0 such as 0.20 (the share of the standard added)".into(),
                );
                None
            }
        },
        (Some(f), false) => {
            bad(
                6,
                bonus_text,
                format!("the {f} form takes no bonus: leave it empty"),
            );
            None
        }
        (_, _) => None,
    };
    let adrgs_text = get(7);
    let mut adrgs: Vec<String> = Vec::new();
    if !adrgs_text.is_empty() {
        for part in adrgs_text.split('|').map(str::trim) {
            if !adrg_shape(part) {
                bad(
                    7,
                    part,
                    format!(
                        "expected ADRG codes such as FM1, separated by '|' (in {adrgs_text:?})"
                    ),
                );
            } else if adrgs.iter().any(|a| a == part) {
                bad(
                    7,
                    part,
                    format!("the ADRG is listed twice in {adrgs_text:?}"),
                );
            } else if let Some((name, _)) = scheme.filter(|(_, is_adrg)| !is_adrg(part)) {
                bad(
                    7,
                    part,
                    format!("{part} is not an ADRG of the scheme {name}"),
                );
            } else {
                adrgs.push(part.to_string());
            }
        }
    }
    if problems.len() > before {
        return None;
    }
    Some(CatalogueItem {
        line,
        code: code.to_string(),
        kind: kind?,
        name: name.to_string(),
        valid_from: valid_from?,
        valid_to: valid_to?,
        form: form?,
        bonus,
        adrgs,
    })
}

/// One item a case names: its code and its own cost (CNY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemUse {
    /// The catalogue code.
    pub code: String,
    /// The item's own cost, CNY.
    pub cost: Decimal,
}

/// Why a named item does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemFailure {
    /// The code is not in the catalogue (a region may not add items).
    Unlisted,
    /// The discharge date is after the item's last valid day.
    Expired {
        /// The last valid day.
        valid_to: Date,
        /// The case's discharge date.
        discharge: Date,
    },
    /// The discharge date is before the item's first valid day.
    NotYetValid {
        /// The first valid day.
        valid_from: Date,
        /// The case's discharge date.
        discharge: Date,
    },
    /// The case's ADRG is not in the item's scope.
    OutOfScope {
        /// The case's ADRG.
        adrg: String,
        /// The item's scope (`FM1|FM2`).
        scope: String,
    },
    /// The case has no discharge date: the validity cannot be checked.
    NoDischargeDate,
}

impl ItemFailure {
    /// A short name for counts and CSV columns: `unlisted`, `expired`, `not_yet_valid`,
    /// `out_of_scope`, `no_discharge_date`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ItemFailure::Unlisted => "unlisted",
            ItemFailure::Expired { .. } => "expired",
            ItemFailure::NotYetValid { .. } => "not_yet_valid",
            ItemFailure::OutOfScope { .. } => "out_of_scope",
            ItemFailure::NoDischargeDate => "no_discharge_date",
        }
    }

    /// Every short name, in the order reports list them.
    pub const NAMES: [&'static str; 5] = [
        "unlisted",
        "expired",
        "not_yet_valid",
        "out_of_scope",
        "no_discharge_date",
    ];
}

impl fmt::Display for ItemFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemFailure::Unlisted => f.write_str("not in the approved catalogue (unlisted)"),
            ItemFailure::Expired {
                valid_to,
                discharge,
            } => write!(f, "expired: valid to {valid_to}, discharged {discharge}"),
            ItemFailure::NotYetValid {
                valid_from,
                discharge,
            } => write!(
                f,
                "not yet valid: valid from {valid_from}, discharged {discharge}"
            ),
            ItemFailure::OutOfScope { adrg, scope } => {
                write!(f, "outside its scope: ADRG {adrg} is not in {scope}")
            }
            ItemFailure::NoDischargeDate => {
                f.write_str("the case has no discharge date to check the item's validity")
            }
        }
    }
}

/// The check of one named item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCheck {
    /// The code the case named.
    pub code: String,
    /// The cost the case gave for it.
    pub cost: Decimal,
    /// The catalogue item when it applies, else why not.
    pub outcome: Result<CatalogueItem, ItemFailure>,
}

/// The checks of every item a case names, in the case's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemChecks(pub Vec<ItemCheck>);

impl ItemChecks {
    /// The index of the item that decides the payment: the first applicable `per_item`
    /// item, else the first applicable item; `None` when no item applies.
    pub fn decisive(&self) -> Option<usize> {
        let applicable = |form: Option<ExclusionForm>| {
            self.0.iter().position(|c| match &c.outcome {
                Ok(item) => match form {
                    Some(f) => item.form == f,
                    None => true,
                },
                Err(_) => false,
            })
        };
        applicable(Some(ExclusionForm::PerItem)).or_else(|| applicable(None))
    }

    /// Whether no item was named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests;
