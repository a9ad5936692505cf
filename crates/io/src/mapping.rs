//! Column mappings (列映射): another layout's column names, the separators of its multi-value
//! code fields, its code values and its date formats, mapped onto drgdip's fields.
//!
//! A mapping is a TOML file (`mappings/*.toml` in the repository, `docs/input.md`):
//!
//! ```toml
//! [columns]                        # drgdip field = the file's column(s)
//! case_id = "病案号"
//! diagnoses = ["主要诊断代码", "其他诊断代码"]   # joined in order with '|'
//! dept = { from = "出院科别", optional = true }  # may be absent from the file
//!
//! [separators]                     # separators inside a column, besides '|'
//! diagnoses = [";", "；"]
//!
//! [values.gender]                  # a whole value replaced by drgdip's code
//! "男" = "1"
//!
//! [dates]                          # formats tried in order; `%Y %m %d %H %M %S`
//! discharge_date = ["%Y-%m-%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S"]
//! ```
//!
//! A mapping is bound to a file's header ([`Mapping::bind`]): a mapped column that the header
//! lacks (and is not `optional`) is an error naming the mapping file's line. The bound
//! mapping rewrites each row into drgdip's layout: the mapped fields first, then the file's
//! other columns under their own names (unless a mapped field has that name).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::record::COLUMNS;

/// A mapping file, parsed and checked.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// Where it was read from (for messages).
    pub path: String,
    fields: Vec<FieldMap>,
}

#[derive(Debug, Clone)]
struct FieldMap {
    /// drgdip's field name (one of [`COLUMNS`]).
    target: &'static str,
    /// The file's columns, joined in order.
    sources: Vec<String>,
    optional: bool,
    /// The mapping file's line of the entry.
    line: usize,
    separators: Vec<String>,
    values: FxHashMap<String, String>,
    dates: Vec<Vec<DatePart>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DatePart {
    Year,
    Month,
    Day,
    /// An hour, minute or second: digits, checked for range, dropped.
    Time(u32),
    Lit(char),
}

/// A mapping that cannot be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MappingError {
    #[error("mapping file {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("mapping file {path} line {line}: {message}")]
    AtLine {
        path: String,
        line: usize,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    columns: BTreeMap<String, toml::Spanned<SourceToml>>,
    #[serde(default)]
    separators: BTreeMap<String, toml::Spanned<Vec<String>>>,
    #[serde(default)]
    values: BTreeMap<String, toml::Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    dates: BTreeMap<String, toml::Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SourceToml {
    One(String),
    Many(Vec<String>),
    Table {
        from: OneOrMany,
        #[serde(default)]
        optional: bool,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn parse_date_format(f: &str) -> Option<Vec<DatePart>> {
    let mut parts = Vec::new();
    let mut chars = f.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            parts.push(DatePart::Lit(c));
            continue;
        }
        parts.push(match chars.next()? {
            'Y' => DatePart::Year,
            'm' => DatePart::Month,
            'd' => DatePart::Day,
            'H' => DatePart::Time(23),
            'M' => DatePart::Time(59),
            'S' => DatePart::Time(60),
            '%' => DatePart::Lit('%'),
            _ => return None,
        });
    }
    let count = |p: &DatePart| parts.iter().filter(|x| *x == p).count();
    (count(&DatePart::Year) == 1 && count(&DatePart::Month) == 1 && count(&DatePart::Day) == 1)
        .then_some(parts)
}

/// `s` read with `format`: the date as `YYYY-MM-DD` (the calendar check is the reader's).
fn apply_date(format: &[DatePart], s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    let (mut y, mut m, mut d) = (None, None, None);
    for (k, part) in format.iter().enumerate() {
        match part {
            DatePart::Lit(c) => {
                let mut buf = [0u8; 4];
                let lit = c.encode_utf8(&mut buf).as_bytes();
                if !b[i..].starts_with(lit) {
                    return None;
                }
                i += lit.len();
            }
            _ => {
                // digits: a year takes 4; the others 1–2, or exactly 2 next to another
                // number with no separator
                let number = |p: Option<&DatePart>| !matches!(p, None | Some(DatePart::Lit(_)));
                let next_is_number = number(format.get(k + 1))
                    || number(k.checked_sub(1).and_then(|j| format.get(j)));
                let (min, max) = match part {
                    DatePart::Year => (4, 4),
                    _ if next_is_number => (2, 2),
                    _ => (1, 2),
                };
                let n = b[i..]
                    .iter()
                    .take(max)
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if n < min {
                    return None;
                }
                let v: u32 = s[i..i + n].parse().ok()?;
                i += n;
                match part {
                    DatePart::Year => y = Some(v),
                    DatePart::Month => m = Some(v),
                    DatePart::Day => d = Some(v),
                    DatePart::Time(most) if v > *most => return None,
                    _ => {}
                }
            }
        }
    }
    if i != b.len() {
        return None;
    }
    Some(format!("{:04}-{:02}-{:02}", y?, m?, d?))
}

impl Mapping {
    /// Parses a mapping file's text; `path` names it in messages.
    pub fn parse(text: &str, path: &str) -> Result<Mapping, MappingError> {
        let invalid = |message: String| MappingError::Invalid {
            path: path.to_string(),
            message,
        };
        let at = |offset: usize, message: String| MappingError::AtLine {
            path: path.to_string(),
            line: line_of(text, offset),
            message,
        };
        let file: FileToml = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut fields = Vec::new();
        for (name, source) in file.columns {
            let span = source.span();
            let target = COLUMNS
                .iter()
                .find(|c| **c == name)
                .ok_or_else(|| at(span.start, format!("{name:?} is not a drgdip field")))?;
            let (sources, optional) = match source.into_inner() {
                SourceToml::One(s) => (vec![s], false),
                SourceToml::Many(v) => (v, false),
                SourceToml::Table { from, optional } => (from.into_vec(), optional),
            };
            if sources.is_empty() || sources.iter().any(|s| s.trim().is_empty()) {
                return Err(at(span.start, format!("{name}: an empty column name")));
            }
            fields.push(FieldMap {
                target,
                sources: sources.into_iter().map(|s| s.trim().to_string()).collect(),
                optional,
                line: line_of(text, span.start),
                separators: Vec::new(),
                values: FxHashMap::default(),
                dates: Vec::new(),
            });
        }
        if !fields.iter().any(|f| f.target == "case_id") {
            return Err(invalid("[columns] maps no case_id".into()));
        }
        let find = |fields: &mut Vec<FieldMap>, name: &str, offset: usize, table: &str| {
            let i = fields.iter().position(|f| f.target == name);
            i.ok_or_else(|| {
                at(
                    offset,
                    format!("[{table}] names {name:?}, which [columns] does not map"),
                )
            })
        };
        for (name, seps) in file.separators {
            let i = find(&mut fields, &name, seps.span().start, "separators")?;
            let start = seps.span().start;
            let seps = seps.into_inner();
            if seps.iter().any(|s| s.is_empty()) {
                return Err(at(start, format!("{name}: an empty separator")));
            }
            fields[i].separators = seps;
        }
        for (name, values) in file.values {
            let i = find(&mut fields, &name, values.span().start, "values")?;
            fields[i].values = values
                .into_inner()
                .into_iter()
                .map(|(k, v)| (k.trim().to_string(), v))
                .collect();
        }
        for (name, dates) in file.dates {
            let start = dates.span().start;
            let i = find(&mut fields, &name, start, "dates")?;
            for f in dates.into_inner() {
                let parts = parse_date_format(&f).ok_or_else(|| {
                    at(
                        start,
                        format!("{name}: date format {f:?} needs one each of %Y, %m, %d (and may have %H, %M, %S)"),
                    )
                })?;
                fields[i].dates.push(parts);
            }
        }
        // the order of drgdip's columns
        fields.sort_by_key(|f| COLUMNS.iter().position(|c| *c == f.target));
        Ok(Mapping {
            path: path.to_string(),
            fields,
        })
    }

    /// Binds the mapping to a file's header: every mapped column must be there (unless
    /// optional).
    pub fn bind(&self, header: &[String]) -> Result<BoundMapping, MappingError> {
        let norm = |s: &str| s.trim().trim_start_matches('\u{feff}').to_lowercase();
        let pos: FxHashMap<String, usize> = header
            .iter()
            .enumerate()
            .rev()
            .map(|(i, n)| (norm(n), i))
            .collect();
        let mut used = vec![false; header.len()];
        let mut plans = Vec::new();
        let mut names = Vec::new();
        for f in &self.fields {
            let mut sources = Vec::new();
            for s in &f.sources {
                match pos.get(&norm(s)) {
                    Some(&i) => {
                        used[i] = true;
                        sources.push(i);
                    }
                    None if f.optional => {}
                    None => {
                        return Err(MappingError::AtLine {
                            path: self.path.clone(),
                            line: f.line,
                            message: format!(
                                "the input has no column {s:?} (mapped to {}); its columns: {}",
                                f.target,
                                header.join(", ")
                            ),
                        })
                    }
                }
            }
            if sources.is_empty() {
                continue;
            }
            names.push(f.target.to_string());
            plans.push(Plan {
                sources,
                separators: f.separators.clone(),
                values: f.values.clone(),
                dates: f.dates.clone(),
            });
        }
        for (i, n) in header.iter().enumerate() {
            if !used[i] && !names.iter().any(|t| *t == norm(n)) {
                names.push(n.trim().to_string());
                plans.push(Plan {
                    sources: vec![i],
                    separators: Vec::new(),
                    values: FxHashMap::default(),
                    dates: Vec::new(),
                });
            }
        }
        Ok(BoundMapping {
            names,
            plans,
            source_width: header.len(),
        })
    }
}

/// A mapping bound to one file's header.
#[derive(Debug, Clone)]
pub struct BoundMapping {
    /// The header in drgdip's names.
    pub names: Vec<String>,
    plans: Vec<Plan>,
    /// Fields in the file's header.
    pub source_width: usize,
}

#[derive(Debug, Clone)]
struct Plan {
    sources: Vec<usize>,
    separators: Vec<String>,
    values: FxHashMap<String, String>,
    dates: Vec<Vec<DatePart>>,
}

impl BoundMapping {
    /// The position in the file of the column mapped to field `k` of the mapped header, when
    /// it comes from one column.
    pub fn source_of(&self, k: usize) -> Option<usize> {
        self.plans
            .get(k)
            .and_then(|p| (p.sources.len() == 1).then_some(p.sources[0]))
    }

    /// The first field of the mapped header that comes from column `k` of the file or a
    /// later one (for a row whose fields from `k` on are not to be trusted).
    pub fn mapped_at_or_after(&self, k: usize) -> usize {
        self.plans
            .iter()
            .position(|p| p.sources.iter().any(|&s| s >= k))
            .unwrap_or(0)
    }

    /// Rewrites a row of the file (`raw`) into drgdip's layout (`out`). A field that is not
    /// UTF-8 is kept as it is (the reader reports it).
    pub fn apply(&self, raw: &csv::ByteRecord, out: &mut csv::ByteRecord) {
        out.clear();
        let mut field = Vec::new();
        for p in &self.plans {
            if p.sources.len() == 1
                && p.separators.is_empty()
                && p.values.is_empty()
                && p.dates.is_empty()
            {
                out.push_field(raw.get(p.sources[0]).unwrap_or_default());
                continue;
            }
            field.clear();
            for &s in &p.sources {
                let v = raw.get(s).unwrap_or_default().trim_ascii();
                if v.is_empty() {
                    continue;
                }
                if !field.is_empty() {
                    field.push(b'|');
                }
                match std::str::from_utf8(v) {
                    Ok(text) if !p.separators.is_empty() => {
                        let mut t = text.to_string();
                        for sep in &p.separators {
                            t = t.replace(sep.as_str(), "|");
                        }
                        field.extend_from_slice(t.as_bytes());
                    }
                    _ => field.extend_from_slice(v),
                }
            }
            if let Ok(text) = std::str::from_utf8(&field) {
                if let Some(v) = p.values.get(text.trim()) {
                    out.push_field(v.as_bytes());
                    continue;
                }
                if let Some(iso) = p.dates.iter().find_map(|f| apply_date(f, text.trim())) {
                    out.push_field(iso.as_bytes());
                    continue;
                }
            }
            out.push_field(&field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# a test mapping\n[columns]\ncase_id = \"病案号\"\ngender = \"性别\"\n\
        diagnoses = [\"主要诊断代码\", \"其他诊断代码\"]\ndept = { from = \"出院科别\", optional = true }\n\
        discharge_date = \"出院时间\"\n\
        [separators]\ndiagnoses = [\";\"]\n[values.gender]\n\"男\" = \"1\"\n\"女\" = \"2\"\n\
        [dates]\ndischarge_date = [\"%Y%m%d\", \"%Y-%m-%d %H:%M:%S\"]\n";

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_row_is_rewritten_into_drgdips_layout() {
        let m = Mapping::parse(TEXT, "t.toml").unwrap();
        let b = m
            .bind(&header(&[
                "性别",
                "病案号",
                "主要诊断代码",
                "其他诊断代码",
                "出院时间",
                "备注",
            ]))
            .unwrap();
        assert_eq!(
            b.names,
            ["case_id", "gender", "diagnoses", "discharge_date", "备注"]
        );
        let mut out = csv::ByteRecord::new();
        let raw: csv::ByteRecord = [
            "女",
            "C1",
            "K86.102",
            "I10;E11.900",
            "2025-03-04 10:00:00",
            "x",
        ]
        .into_iter()
        .collect();
        b.apply(&raw, &mut out);
        let got: Vec<&str> = out
            .iter()
            .map(|f| std::str::from_utf8(f).unwrap())
            .collect();
        assert_eq!(got, ["C1", "2", "K86.102|I10|E11.900", "2025-03-04", "x"]);
        // unmapped values and unreadable dates pass unchanged (the reader reports them)
        let raw: csv::ByteRecord = ["X", "C2", "", "K86.102", "20250231", ""]
            .into_iter()
            .collect();
        b.apply(&raw, &mut out);
        let got: Vec<&str> = out
            .iter()
            .map(|f| std::str::from_utf8(f).unwrap())
            .collect();
        assert_eq!(got, ["C2", "X", "K86.102", "2025-02-31", ""]);
        assert_eq!(b.source_of(0), Some(1));
        assert_eq!(b.source_of(2), None);
    }

    #[test]
    fn a_mapped_column_missing_from_the_file_names_the_mapping_line() {
        let m = Mapping::parse(TEXT, "t.toml").unwrap();
        let e = m
            .bind(&header(&["病案号", "性别", "主要诊断代码"]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "mapping file t.toml line 5: the input has no column \"其他诊断代码\" (mapped to \
             diagnoses); its columns: 病案号, 性别, 主要诊断代码"
        );
    }

    #[test]
    fn bad_mapping_files_are_refused_with_their_line() {
        let e = Mapping::parse("[columns]\ncase_id = \"a\"\nsex = \"b\"\n", "m").unwrap_err();
        assert_eq!(
            e.to_string(),
            "mapping file m line 3: \"sex\" is not a drgdip field"
        );
        let e = Mapping::parse(
            "[columns]\ncase_id = \"a\"\n[dates]\ncase_id = [\"%Y\"]\n",
            "m",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("mapping file m line 4: case_id: date format"),
            "{e}"
        );
        let e = Mapping::parse("[columns]\ngender = \"a\"\n", "m").unwrap_err();
        assert_eq!(e.to_string(), "mapping file m: [columns] maps no case_id");
        assert!(Mapping::parse("[colums]\n", "m").is_err());
    }

    #[test]
    fn date_formats() {
        let f = parse_date_format("%Y%m%d").unwrap();
        assert_eq!(apply_date(&f, "20250304").as_deref(), Some("2025-03-04"));
        assert_eq!(apply_date(&f, "2025034"), None);
        let f = parse_date_format("%Y/%m/%d").unwrap();
        assert_eq!(apply_date(&f, "2025/3/4").as_deref(), Some("2025-03-04"));
        assert_eq!(apply_date(&f, "2025/3/4x"), None);
        let f = parse_date_format("%Y年%m月%d日").unwrap();
        assert_eq!(
            apply_date(&f, "2025年3月14日").as_deref(),
            Some("2025-03-14")
        );
        let f = parse_date_format("%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(apply_date(&f, "2025-03-04 25:00:00"), None);
        assert!(parse_date_format("%Y-%m").is_none());
        assert!(parse_date_format("%Y-%m-%d %q").is_none());
    }

    #[test]
    fn the_shipped_mappings_parse() {
        for name in ["drgdip.toml", "settlement-list.toml"] {
            let path = format!("{}/../../mappings/{name}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            Mapping::parse(&text, name).unwrap();
        }
    }
}
