//! The library as CSV files a bureau can read, and back. Pure: names and contents in and out;
//! the caller reads and writes the files.
//!
//! - `groups.csv`: `group_id,kind,diagnosis_key,procedure_key_or_class,cases,mean_cost,score`
//! - `aux_coefficients.csv`: `group_id,dimension,level,cases,coefficient` (ten rows per core
//!   group: severity 1–3, age `<1`/`1-14`/`15-64`/`>=65`, discharge death/transfer/other)
//! - `summary.csv`: `key,value` rows: the counts per kind, the core groups' share of the history,
//!   `mean_all` and the build parameters.
//!
//! Money is written half-up to the fen, scores and coefficients with 4 decimals.

use std::fmt::Display;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use thiserror::Error;

use crate::case::{AgeBand, AuxDimension, DischargeKind, Severity};
use crate::keys::{
    chapter_group_id, comprehensive_group_id, core_group_id, region_group_id, ProcedureClass,
    ProcedureKey,
};
use crate::library::{AuxCatalogue, AuxEntry, Group, GroupKind, Library, LibrarySummary};
use crate::params::Trim;
use crate::round::{fmt4, fmt_money};

/// File name of the groups.
pub const GROUPS_FILE: &str = "groups.csv";
/// File name of the auxiliary coefficients.
pub const AUX_FILE: &str = "aux_coefficients.csv";
/// File name of the summary.
pub const SUMMARY_FILE: &str = "summary.csv";

const GROUPS_HEADER: [&str; 7] = [
    "group_id",
    "kind",
    "diagnosis_key",
    "procedure_key_or_class",
    "cases",
    "mean_cost",
    "score",
];
const AUX_HEADER: [&str; 5] = ["group_id", "dimension", "level", "cases", "coefficient"];
const SUMMARY_HEADER: [&str; 2] = ["key", "value"];
const FORMAT: &str = "drgdip-dip library 1";

/// What is wrong with a set of library files; every variant names the file and, where there is
/// one, the line and field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LibraryError {
    /// A required file is absent.
    #[error("{file} is missing")]
    MissingFile {
        /// The file name expected.
        file: &'static str,
    },
    /// The same file name was given twice.
    #[error("{file} was given twice")]
    DuplicateFile {
        /// The file name.
        file: String,
    },
    /// The file is not CSV, or a row has the wrong number of fields.
    #[error("{file} line {line}: {message}")]
    Csv {
        /// The file.
        file: &'static str,
        /// 1-based line.
        line: u64,
        /// The reader's message.
        message: String,
    },
    /// The header is not the expected one.
    #[error("{file}: header is `{found}`, expected `{expected}`")]
    Header {
        /// The file.
        file: &'static str,
        /// What was found.
        found: String,
        /// What was expected.
        expected: String,
    },
    /// A field holds a value that does not read.
    #[error("{file} line {line}, field `{field}` = {value:?}: expected {expected}")]
    Field {
        /// The file.
        file: &'static str,
        /// 1-based line.
        line: u64,
        /// The column.
        field: &'static str,
        /// The value found.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// The files contradict each other or themselves.
    #[error("{file} line {line}: {message}")]
    Inconsistent {
        /// The file.
        file: &'static str,
        /// 1-based line (0: the file as a whole).
        line: u64,
        /// What does not agree.
        message: String,
    },
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> String {
    let bytes = w.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("all fields are UTF-8")
}

fn write_row<const N: usize>(w: &mut csv::Writer<Vec<u8>>, row: [&str; N]) {
    w.write_record(row).expect("writing to memory cannot fail");
}

/// The levels of each dimension with their entries, in file order.
fn aux_rows(
    aux: &AuxCatalogue,
) -> impl Iterator<Item = (AuxDimension, &'static str, AuxEntry)> + '_ {
    let severity = Severity::ALL
        .into_iter()
        .map(|l| (AuxDimension::Severity, l.as_str(), aux.severity[l.index()]));
    let age = AgeBand::ALL
        .into_iter()
        .map(|l| (AuxDimension::Age, l.as_str(), aux.age[l.index()]));
    let discharge = DischargeKind::ALL.into_iter().map(|l| {
        (
            AuxDimension::Discharge,
            l.as_str(),
            aux.discharge[l.index()],
        )
    });
    severity.chain(age).chain(discharge)
}

impl Library {
    /// The library as `(file name, contents)` pairs: `groups.csv`, `aux_coefficients.csv` and
    /// `summary.csv`. The same library always gives the same bytes.
    pub fn to_files(&self) -> Vec<(String, String)> {
        let mut groups = csv_writer();
        write_row(&mut groups, GROUPS_HEADER);
        let mut aux = csv_writer();
        write_row(&mut aux, AUX_HEADER);
        for g in self.groups() {
            let (cases, mean, score) = (g.cases.to_string(), fmt_money(g.mean_cost), fmt4(g.score));
            write_row(
                &mut groups,
                [
                    &g.id,
                    g.kind.as_str(),
                    &g.diagnosis_key,
                    &g.procedure,
                    &cases,
                    &mean,
                    &score,
                ],
            );
            if let Some(catalogue) = &g.aux {
                for (dimension, level, entry) in aux_rows(catalogue) {
                    let (n, c) = (entry.cases.to_string(), fmt4(entry.coefficient));
                    write_row(&mut aux, [&g.id, dimension.as_str(), level, &n, &c]);
                }
            }
        }

        let s = self.summary();
        let mut summary = csv_writer();
        write_row(&mut summary, SUMMARY_HEADER);
        let rows: [(&str, String); 15] = [
            ("format", FORMAT.to_owned()),
            ("history_cases", s.history_cases.to_string()),
            (
                "skipped_cases_without_diagnosis",
                s.skipped_cases.to_string(),
            ),
            ("core_groups", self.count(GroupKind::Core).to_string()),
            ("core_cases", self.cases(GroupKind::Core).to_string()),
            ("core_share", fmt4(self.core_share())),
            (
                "comprehensive_groups",
                self.count(GroupKind::Comprehensive).to_string(),
            ),
            (
                "comprehensive_cases",
                self.cases(GroupKind::Comprehensive).to_string(),
            ),
            ("chapter_groups", self.count(GroupKind::Chapter).to_string()),
            ("chapter_cases", self.cases(GroupKind::Chapter).to_string()),
            ("region_groups", self.count(GroupKind::Region).to_string()),
            ("mean_all", fmt_money(s.mean_all)),
            ("score_scale", s.score_scale.to_string()),
            ("core_min_cases", s.core_min_cases.to_string()),
            ("trim", s.trim.as_str().to_owned()),
        ];
        for (k, v) in &rows {
            write_row(&mut summary, [k, v.as_str()]);
        }

        vec![
            (GROUPS_FILE.to_owned(), finish(groups)),
            (AUX_FILE.to_owned(), finish(aux)),
            (SUMMARY_FILE.to_owned(), finish(summary)),
        ]
    }

    /// Reads a library written by [`Library::to_files`] (other file names are ignored). Every
    /// row is checked: ids must match their kind and keys, each core group needs its ten
    /// auxiliary rows, and the summary's counts must agree with the groups.
    pub fn from_files(files: &[(String, String)]) -> Result<Library, LibraryError> {
        let mut by_name: FxHashMap<&str, &str> = FxHashMap::default();
        for (name, contents) in files {
            if by_name.insert(name.as_str(), contents.as_str()).is_some() {
                return Err(LibraryError::DuplicateFile { file: name.clone() });
            }
        }
        let get = |file: &'static str| {
            by_name
                .get(file)
                .copied()
                .ok_or(LibraryError::MissingFile { file })
        };

        let mut groups = read_groups(get(GROUPS_FILE)?)?;
        read_aux(get(AUX_FILE)?, &mut groups)?;
        let summary = read_summary(get(SUMMARY_FILE)?)?;
        let groups: Vec<Group> = groups.into_values().map(|(_, g)| g).collect();
        for g in &groups {
            if g.kind == GroupKind::Core && g.aux.is_none() {
                return Err(LibraryError::Inconsistent {
                    file: AUX_FILE,
                    line: 0,
                    message: format!("core group {} has no auxiliary rows", g.id),
                });
            }
        }
        let library = Library::from_parts(groups, summary.summary.clone());
        summary.check(&library)?;
        Ok(library)
    }
}

/// The rows of one CSV file after its header was checked, each with its line.
fn records(
    file: &'static str,
    text: &str,
    header: &[&str],
) -> Result<Vec<(u64, csv::StringRecord)>, LibraryError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let csv_err = |e: csv::Error| LibraryError::Csv {
        file,
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    };
    let found = reader.headers().map_err(csv_err)?.clone();
    if found.iter().ne(header.iter().copied()) {
        return Err(LibraryError::Header {
            file,
            found: found.iter().collect::<Vec<_>>().join(","),
            expected: header.join(","),
        });
    }
    reader
        .records()
        .map(|r| {
            let r = r.map_err(csv_err)?;
            Ok((r.position().map_or(0, |p| p.line()), r))
        })
        .collect()
}

/// One row being read: file, line and record, for field errors.
struct Row<'a> {
    file: &'static str,
    line: u64,
    record: &'a csv::StringRecord,
    header: &'a [&'static str],
}

impl Row<'_> {
    fn field(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or("")
    }

    fn error(&self, i: usize, expected: impl Display) -> LibraryError {
        LibraryError::Field {
            file: self.file,
            line: self.line,
            field: self.header[i],
            value: self.field(i).to_owned(),
            expected: expected.to_string(),
        }
    }

    fn u64(&self, i: usize) -> Result<u64, LibraryError> {
        self.field(i)
            .parse()
            .map_err(|_| self.error(i, "a whole number of cases"))
    }

    fn decimal(&self, i: usize, expected: &str) -> Result<Decimal, LibraryError> {
        Decimal::from_str_exact(self.field(i)).map_err(|_| self.error(i, expected))
    }

    fn inconsistent(&self, message: String) -> LibraryError {
        LibraryError::Inconsistent {
            file: self.file,
            line: self.line,
            message,
        }
    }
}

/// The id a group of this kind and keys must have, if the keys read.
fn expected_id(kind: GroupKind, diagnosis_key: &str, procedure: &str) -> Option<String> {
    if kind == GroupKind::Core {
        let key = ProcedureKey::parse(procedure)?;
        let items: Vec<&str> = key.items().iter().map(String::as_str).collect();
        return (!diagnosis_key.is_empty()).then(|| core_group_id(diagnosis_key, &items));
    }
    let class = ProcedureClass::parse(procedure)?;
    match kind {
        GroupKind::Comprehensive => (diagnosis_key.chars().count() == 3)
            .then(|| comprehensive_group_id(diagnosis_key, class)),
        GroupKind::Chapter => {
            (diagnosis_key.chars().count() == 1).then(|| chapter_group_id(diagnosis_key, class))
        }
        GroupKind::Region => diagnosis_key.is_empty().then(|| region_group_id(class)),
        GroupKind::Core => None,
    }
}

fn read_groups(text: &str) -> Result<FxHashMap<String, (u64, Group)>, LibraryError> {
    let mut groups = FxHashMap::default();
    for (line, record) in records(GROUPS_FILE, text, &GROUPS_HEADER)? {
        let row = Row {
            file: GROUPS_FILE,
            line,
            record: &record,
            header: &GROUPS_HEADER,
        };
        let id = row.field(0).to_owned();
        let kind = GroupKind::parse(row.field(1))
            .ok_or_else(|| row.error(1, "core, comprehensive, chapter or region"))?;
        let diagnosis_key = row.field(2).to_owned();
        let procedure = row.field(3).to_owned();
        match expected_id(kind, &diagnosis_key, &procedure) {
            Some(expected) if expected == id => {}
            Some(expected) => {
                return Err(row.error(0, format_args!("{expected} (from kind and keys)")))
            }
            None => {
                return Err(row.inconsistent(format!(
                    "the keys {diagnosis_key:?} / {procedure:?} do not make a {} group",
                    kind.as_str()
                )))
            }
        }
        let group = Group {
            cases: row.u64(4)?,
            mean_cost: row.decimal(5, "an amount in CNY, e.g. 1234.56")?,
            score: row.decimal(6, "a score, e.g. 123.4567")?,
            id: id.clone(),
            kind,
            diagnosis_key,
            procedure,
            aux: None,
        };
        if let Some((first, _)) = groups.insert(id.clone(), (line, group)) {
            return Err(row.inconsistent(format!("group {id} already on line {first}")));
        }
    }
    Ok(groups)
}

fn read_aux(text: &str, groups: &mut FxHashMap<String, (u64, Group)>) -> Result<(), LibraryError> {
    // Which (dimension, level) rows each core group has had, as a bit set of the ten levels.
    let mut seen: FxHashMap<String, u16> = FxHashMap::default();
    for (line, record) in records(AUX_FILE, text, &AUX_HEADER)? {
        let row = Row {
            file: AUX_FILE,
            line,
            record: &record,
            header: &AUX_HEADER,
        };
        let id = row.field(0);
        let Some((_, group)) = groups.get_mut(id) else {
            return Err(row.error(0, format_args!("a group of {GROUPS_FILE}")));
        };
        if group.kind != GroupKind::Core {
            return Err(row.error(0, "a core group (only core groups have coefficients)"));
        }
        let level = row.field(2);
        let (slot, bit) = match row.field(1) {
            "severity" => Severity::parse(level)
                .map(|l| (0, l.index()))
                .ok_or_else(|| row.error(2, "1, 2 or 3"))?,
            "age" => AgeBand::parse(level)
                .map(|l| (1, 3 + l.index()))
                .ok_or_else(|| row.error(2, "<1, 1-14, 15-64 or >=65"))?,
            "discharge" => DischargeKind::parse(level)
                .map(|l| (2, 7 + l.index()))
                .ok_or_else(|| row.error(2, "death, transfer or other"))?,
            _ => return Err(row.error(1, "severity, age or discharge")),
        };
        let entry = AuxEntry {
            cases: row.u64(3)?,
            coefficient: row.decimal(4, "a coefficient, e.g. 1.2345")?,
        };
        let aux = group.aux.get_or_insert_with(AuxCatalogue::default);
        let local = match slot {
            0 => &mut aux.severity[bit],
            1 => &mut aux.age[bit - 3],
            _ => &mut aux.discharge[bit - 7],
        };
        *local = entry;
        let mask = seen.entry(id.to_owned()).or_default();
        if *mask & (1 << bit) != 0 {
            return Err(row.inconsistent(format!("{id} {} {level} is given twice", row.field(1))));
        }
        *mask |= 1 << bit;
    }
    for (id, mask) in seen {
        if mask != (1 << 10) - 1 {
            return Err(LibraryError::Inconsistent {
                file: AUX_FILE,
                line: 0,
                message: format!("{id} lacks some of its ten levels"),
            });
        }
    }
    Ok(())
}

/// The summary as read, with the derived figures to check against the groups.
struct SummaryFile {
    summary: LibrarySummary,
    derived: Vec<(u64, &'static str, String)>,
}

const DERIVED: [&str; 8] = [
    "core_groups",
    "core_cases",
    "core_share",
    "comprehensive_groups",
    "comprehensive_cases",
    "chapter_groups",
    "chapter_cases",
    "region_groups",
];

fn read_summary(text: &str) -> Result<SummaryFile, LibraryError> {
    let mut values: FxHashMap<String, (u64, String)> = FxHashMap::default();
    for (line, record) in records(SUMMARY_FILE, text, &SUMMARY_HEADER)? {
        let key = record.get(0).unwrap_or("").to_owned();
        let value = record.get(1).unwrap_or("").to_owned();
        if values.insert(key.clone(), (line, value)).is_some() {
            return Err(LibraryError::Inconsistent {
                file: SUMMARY_FILE,
                line,
                message: format!("key {key} is given twice"),
            });
        }
    }
    let mut take = |key: &'static str| {
        values.remove(key).ok_or(LibraryError::Inconsistent {
            file: SUMMARY_FILE,
            line: 0,
            message: format!("key {key} is missing"),
        })
    };
    let bad =
        |(line, value): (u64, String), field: &'static str, expected: &str| LibraryError::Field {
            file: SUMMARY_FILE,
            line,
            field,
            value,
            expected: expected.to_owned(),
        };
    let format = take("format")?;
    if format.1 != FORMAT {
        return Err(bad(format, "format", FORMAT));
    }
    let count = |v: (u64, String), field| v.1.parse::<u64>().map_err(|_| bad(v, field, "a count"));
    let decimal = |v: (u64, String), field, expected| {
        Decimal::from_str_exact(&v.1).map_err(|_| bad(v, field, expected))
    };
    let history_cases = count(take("history_cases")?, "history_cases")?;
    let skipped_cases = count(
        take("skipped_cases_without_diagnosis")?,
        "skipped_cases_without_diagnosis",
    )?;
    let mean_all = decimal(take("mean_all")?, "mean_all", "an amount in CNY")?;
    let score_scale = decimal(take("score_scale")?, "score_scale", "a number > 0")?;
    let v = take("core_min_cases")?;
    let core_min_cases =
        v.1.parse::<u32>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| bad(v.clone(), "core_min_cases", "an integer ≥ 1"))?;
    let v = take("trim")?;
    let trim = Trim::parse(&v.1).ok_or_else(|| bad(v.clone(), "trim", "none or iqr"))?;
    let mut derived = Vec::new();
    for key in DERIVED {
        let (line, value) = take(key)?;
        derived.push((line, key, value));
    }
    Ok(SummaryFile {
        summary: LibrarySummary {
            history_cases,
            skipped_cases,
            mean_all,
            score_scale,
            core_min_cases,
            trim,
        },
        derived,
    })
}

impl SummaryFile {
    fn check(&self, library: &Library) -> Result<(), LibraryError> {
        let core = GroupKind::Core;
        for (line, key, found) in &self.derived {
            let actual = match *key {
                "core_groups" => library.count(core).to_string(),
                "core_cases" => library.cases(core).to_string(),
                "core_share" => fmt4(library.core_share()),
                "comprehensive_groups" => library.count(GroupKind::Comprehensive).to_string(),
                "comprehensive_cases" => library.cases(GroupKind::Comprehensive).to_string(),
                "chapter_groups" => library.count(GroupKind::Chapter).to_string(),
                "chapter_cases" => library.cases(GroupKind::Chapter).to_string(),
                _ => library.count(GroupKind::Region).to_string(),
            };
            if *found != actual {
                return Err(LibraryError::Inconsistent {
                    file: SUMMARY_FILE,
                    line: *line,
                    message: format!("{key} = {found}, but {GROUPS_FILE} gives {actual}"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::DipCase;
    use crate::library::build_library;
    use crate::library::tests::{many, or_sets, params};
    use rust_decimal_macros::dec;

    fn history() -> Vec<DipCase> {
        let mut h = many(
            4,
            "K80.100x001",
            &["51.2300x001", "99.0401"],
            dec!(10000.10),
        );
        h[0].severity = Severity::Mcc;
        h[1].age_years = 0;
        h[2].discharge_way = "5".into();
        h.extend(many(3, "I10.x00", &[], dec!(3000)));
        h.extend(many(2, "K81.000", &["51.2200", "88.0101"], dec!(7000)));
        h.extend(many(1, "A02.201+J17.0*", &["88.0101"], dec!(1234.565)));
        h
    }

    fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
        &files.iter().find(|(n, _)| n == name).unwrap().1
    }

    fn replaced(
        files: &[(String, String)],
        name: &str,
        from: &str,
        to: &str,
    ) -> Vec<(String, String)> {
        files
            .iter()
            .map(|(n, c)| {
                if n == name {
                    assert!(c.contains(from), "{from} in {c}");
                    (n.clone(), c.replacen(from, to, 1))
                } else {
                    (n.clone(), c.clone())
                }
            })
            .collect()
    }

    #[test]
    fn the_files_read_back_to_the_same_library() {
        let lib = build_library(&history(), &params(2), &or_sets());
        let files = lib.to_files();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, [GROUPS_FILE, AUX_FILE, SUMMARY_FILE]);
        let back = Library::from_files(&files).unwrap();
        assert_eq!(back, lib);
        assert_eq!(back.to_files(), files);
    }

    #[test]
    fn the_groups_file_is_readable() {
        let lib = build_library(&history(), &params(2), &or_sets());
        let files = lib.to_files();
        let groups = file(&files, GROUPS_FILE);
        let expected = "\
group_id,kind,diagnosis_key,procedure_key_or_class,cases,mean_cost,score
C:I10.x|conservative,core,I10.x,conservative,3,3000.00,46.7035
C:K80.1|51.23,core,K80.1,51.23,4,10000.10,155.6800
C:K81.0|51.22+88.01,core,K81.0,51.22+88.01,2,7000.00,108.9749
H:A|diagnostic,chapter,A,diagnostic,1,1234.57,19.2195
R:conservative,region,,conservative,3,3000.00,46.7035
R:diagnostic,region,,diagnostic,1,1234.57,19.2195
R:surgery,region,,surgery,6,9000.07,140.1116
";
        assert_eq!(groups, expected);
        let aux = file(&files, AUX_FILE);
        assert!(aux.starts_with("group_id,dimension,level,cases,coefficient\nC:I10.x|conservative,severity,1,3,1.0000\n"), "{aux}");
        assert!(aux.contains("C:K80.1|51.23,age,<1,1,1.0000\n"), "{aux}");
        assert!(aux.contains("C:K80.1|51.23,age,15-64,3,1.0000\n"), "{aux}");
        assert_eq!(aux.lines().count(), 1 + 3 * 10);
        let summary = file(&files, SUMMARY_FILE);
        for line in [
            "core_groups,3",
            "core_cases,9",
            "core_share,0.9000",
            "mean_all,6423.50",
            "score_scale,100",
            "core_min_cases,2",
            "trim,none",
            "history_cases,10",
        ] {
            assert!(summary.lines().any(|l| l == line), "{line} in\n{summary}");
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let files = build_library(&history(), &params(2), &or_sets()).to_files();
        let err = Library::from_files(&files[..2]).unwrap_err();
        assert_eq!(err, LibraryError::MissingFile { file: SUMMARY_FILE });
    }

    #[test]
    fn a_bad_field_names_file_line_and_field() {
        let files = build_library(&history(), &params(2), &or_sets()).to_files();
        let bad = replaced(&files, GROUPS_FILE, "3000.00,46.7035", "3000.x,46.7035");
        let err = Library::from_files(&bad).unwrap_err();
        assert!(
            matches!(&err, LibraryError::Field { file: GROUPS_FILE, line: 2, field: "mean_cost", value, .. } if value == "3000.x"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("groups.csv line 2, field `mean_cost`"),
            "{err}"
        );
    }

    #[test]
    fn an_id_that_does_not_match_its_keys_is_refused() {
        let files = build_library(&history(), &params(2), &or_sets()).to_files();
        let bad = replaced(
            &files,
            GROUPS_FILE,
            "C:K80.1|51.23,core,K80.1",
            "C:K80.1|51.23,core,K80.2",
        );
        let err = Library::from_files(&bad).unwrap_err();
        assert!(err.to_string().contains("C:K80.2|51.23"), "{err}");
    }

    #[test]
    fn a_summary_count_that_disagrees_is_refused() {
        let files = build_library(&history(), &params(2), &or_sets()).to_files();
        let bad = replaced(&files, SUMMARY_FILE, "core_groups,3", "core_groups,4");
        let err = Library::from_files(&bad).unwrap_err();
        assert!(err.to_string().contains("core_groups = 4"), "{err}");
    }

    #[test]
    fn a_core_group_lacking_aux_rows_is_refused() {
        let files = build_library(&history(), &params(2), &or_sets()).to_files();
        let bad = replaced(&files, AUX_FILE, "C:K80.1|51.23,age,<1,1,1.0000\n", "");
        let err = Library::from_files(&bad).unwrap_err();
        assert!(err.to_string().contains("lacks"), "{err}");
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let files = build_library(&history(), &params(2), &or_sets()).to_files();
        let bad = replaced(&files, AUX_FILE, "coefficient", "coef");
        assert!(matches!(
            Library::from_files(&bad),
            Err(LibraryError::Header { file: AUX_FILE, .. })
        ));
    }
}
