//! drgdip-python — the extension module `drgdip._drgdip` of the Python package.
//!
//! What goes in: an Arrow table through the Arrow C data interface (a pyarrow `Table` or
//! `RecordBatch`, a polars or pandas `DataFrame`: anything with `__arrow_c_stream__`; the
//! Python layer `python/drgdip/__init__.py` converts the rest). What comes out: Arrow tables
//! of results and problems. No row passes through Python: the columns are read as text by
//! Arrow's cast kernels, then each row is read, validated, grouped and paid by the same
//! engine functions as `drgdip group` and `drgdip pay` (`drgdip_io::RowIn::read`,
//! `drgdip_engine::batch::group_record`, `drgdip_engine::pricing::Pricer`), on all cores
//! with the interpreter released.
//!
//! Invariants:
//! - one result row per input row, in input order; a row that cannot be read is a result
//!   row with status `invalid` and its problems, never an exception (unless `strict`);
//! - the text of every result column is the text of the CLI's CSV for the same rows
//!   (money and weights are exact decimals, `decimal128`, rounded as the CLI writes them);
//! - row numbers: `line` is the row's line in the CSV file of the table (header line 1,
//!   first row line 2), so the problems read as the CLI's errors file for that file.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, StringBuilder, UInt64Builder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use drgdip_drg::{explain, Lang, Trace};
use drgdip_engine::batch::{diagnosis_codes, group_record};
use drgdip_engine::pricing::{PricedRow, Pricer, SpecialCases, PAY_HEADER};
use drgdip_engine::{Region, RegionFiles, WeightsFrom};
use drgdip_io::{
    problems_text, BatchOptions, Columns, ColumnsError, Problem, Purpose, ReadLimits, ReadOptions,
    RowIn, RowOutcome,
};
use drgdip_pay::money::{round_fen, round_weight};
use drgdip_scheme::{DirFiles, Registry, Scheme};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use rayon::prelude::*;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

create_exception!(_drgdip, DrgdipError, PyException, "Every error of drgdip.");
create_exception!(
    _drgdip,
    DataError,
    DrgdipError,
    "The shared data, a parameter, hospitals or weights file cannot be used."
);
create_exception!(
    _drgdip,
    InputError,
    DrgdipError,
    "The table cannot be read: a required column is missing or named twice."
);
create_exception!(
    _drgdip,
    RowError,
    InputError,
    "A row is invalid (strict=True): attributes row, line, case_id, field, value, message."
);

fn data_error(e: impl std::fmt::Display) -> PyErr {
    DataError::new_err(format!("{e:#}"))
}

fn parse_lang(lang: &str) -> PyResult<Lang> {
    match lang {
        "zh" => Ok(Lang::Zh),
        "en" => Ok(Lang::En),
        other => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "lang {other:?}: expected \"zh\" or \"en\""
        ))),
    }
}

/// The input table with every column as text (null → empty), batch by batch.
struct TextTable {
    names: Vec<String>,
    batches: Vec<Vec<StringArray>>,
}

impl TextTable {
    fn from_table(table: PyTable) -> PyResult<TextTable> {
        let (batches, schema) = table.into_inner();
        let names = schema.fields().iter().map(|f| f.name().clone()).collect();
        let mut out = Vec::with_capacity(batches.len());
        for batch in &batches {
            let mut cols = Vec::with_capacity(batch.num_columns());
            for (k, col) in batch.columns().iter().enumerate() {
                // the CLI's reading of an Arrow column (drgdip_io::formats::text_column)
                let text = drgdip_io::formats::text_column(col).map_err(|e| {
                    InputError::new_err(format!(
                        "column {:?} cannot be read as text: {e}",
                        schema.field(k).name()
                    ))
                })?;
                cols.push(text);
            }
            out.push(cols);
        }
        Ok(TextTable {
            names,
            batches: out,
        })
    }

    fn columns(&self, options: ReadOptions) -> PyResult<Columns> {
        Columns::from_header_for(self.names.iter().map(String::as_str), options).map_err(|e| {
            let msg = match &e {
                ColumnsError::Missing(_)
                | ColumnsError::NeededBy { .. }
                | ColumnsError::Duplicate(_) => e.to_string(),
            };
            InputError::new_err(format!("the table cannot be read: {msg}"))
        })
    }

    /// The rows, in order, as the batch runner hands them to a worker: `line` as in the CSV
    /// file of the table, a case id repeated from an earlier row marked.
    fn rows(&self, cols: &Columns) -> Vec<RowIn> {
        let id = cols.pos("case_id");
        let mut seen: FxHashMap<String, u64> = FxHashMap::default();
        let mut rows = Vec::new();
        let mut line = 1u64;
        for batch in &self.batches {
            let n = batch.first().map_or(0, |c| c.len());
            for i in 0..n {
                line += 1;
                let mut row = RowIn::from_fields(line, batch.iter().map(|c| cell(c, i)));
                if let Some(k) = id {
                    let case_id = cell(&batch[k], i).trim();
                    if !case_id.is_empty() {
                        match seen.get(case_id) {
                            Some(&first) => row.duplicate_of = Some(first),
                            None => {
                                seen.insert(case_id.to_string(), line);
                            }
                        }
                    }
                }
                rows.push(row);
            }
        }
        rows
    }
}

/// A cell's text (null → empty).
fn cell(c: &StringArray, i: usize) -> &str {
    if c.is_null(i) {
        ""
    } else {
        c.value(i)
    }
}

/// What one row gave: its result columns and its problems.
struct Out {
    cells: Vec<Option<String>>,
    money: [Option<Decimal>; 6],
    problems: Vec<Problem>,
}

fn raise_first(problems: &[Problem], first_line: u64) -> PyErr {
    let Some(p) = problems.first() else {
        return RowError::new_err("no problem");
    };
    let message = p.message(Lang::En);
    let err = RowError::new_err(format!(
        "row {} (line {}), case {:?}, field {}: {:?}: {message}",
        p.line - first_line,
        p.line,
        p.case_id,
        p.field,
        p.value
    ));
    Python::attach(|py| {
        let v = err.value(py);
        let _ = v.setattr("row", p.line - first_line);
        let _ = v.setattr("line", p.line);
        let _ = v.setattr("case_id", p.case_id.clone());
        let _ = v.setattr("field", p.field.clone());
        let _ = v.setattr("value", p.value.clone());
        let _ = v.setattr("message", message);
    });
    err
}

/// The problems as the CLI's errors file: `line,case_id,field,value,message`.
fn problems_batch(outs: &[Out], lang: Lang) -> PyResult<RecordBatch> {
    let mut line = UInt64Builder::new();
    let (mut case_id, mut field, mut value, mut message) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    for p in outs.iter().flat_map(|o| o.problems.iter()) {
        line.append_value(p.line);
        case_id.append_value(&p.case_id);
        field.append_value(&p.field);
        value.append_value(&p.value);
        message.append_value(p.message(lang));
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("line", DataType::UInt64, false),
        Field::new("case_id", DataType::Utf8, false),
        Field::new("field", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
        Field::new("message", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(line.finish()),
        Arc::new(case_id.finish()),
        Arc::new(field.finish()),
        Arc::new(value.finish()),
        Arc::new(message.finish()),
    ];
    RecordBatch::try_new(schema, columns).map_err(|e| DrgdipError::new_err(e.to_string()))
}

fn text_column(name: &str, k: usize, outs: &[Out]) -> (Field, ArrayRef) {
    let mut b = StringBuilder::with_capacity(outs.len(), outs.len() * 8);
    for o in outs {
        b.append_option(o.cells[k].as_deref());
    }
    (Field::new(name, DataType::Utf8, true), Arc::new(b.finish()))
}

/// Result columns: text columns, then (pay) decimal columns, then a last text column
/// (`rules` of a pay run with trace: the cells after `text_names`).
fn results_batch(
    text_names: &[&str],
    decimal_names: &[(&str, u8)],
    last: Option<&str>,
    outs: &[Out],
) -> PyResult<(RecordBatch, SchemaRef)> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (k, name) in text_names.iter().enumerate() {
        let (f, c) = text_column(name, k, outs);
        fields.push(f);
        columns.push(c);
    }
    for (k, (name, scale)) in decimal_names.iter().enumerate() {
        let precision = 28;
        let mut b = Decimal128Builder::with_capacity(outs.len());
        for o in outs {
            b.append_option(o.money[k].map(|d| {
                let mut d = d;
                d.rescale(u32::from(*scale));
                d.mantissa()
            }));
        }
        let array = b
            .finish()
            .with_precision_and_scale(precision, *scale as i8)
            .map_err(|e| DrgdipError::new_err(e.to_string()))?;
        fields.push(Field::new(
            *name,
            DataType::Decimal128(precision, *scale as i8),
            true,
        ));
        columns.push(Arc::new(array));
    }
    if let Some(name) = last {
        let (f, c) = text_column(name, text_names.len(), outs);
        fields.push(f);
        columns.push(c);
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| DrgdipError::new_err(e.to_string()))?;
    Ok((batch, schema))
}

fn to_tables(
    py: Python<'_>,
    results: (RecordBatch, SchemaRef),
    outs: &[Out],
    lang: Lang,
) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
    let (batch, schema) = results;
    let results = PyTable::try_new(vec![batch], schema)?;
    let problems = problems_batch(outs, lang)?;
    let problems_schema = problems.schema();
    let problems = PyTable::try_new(vec![problems], problems_schema)?;
    Ok((
        results.into_pyarrow(py)?.unbind(),
        problems.into_pyarrow(py)?.unbind(),
    ))
}

fn load_registry_scheme(shared: &PathBuf, scheme: &str) -> PyResult<Arc<Scheme>> {
    let files = DirFiles::new(shared).map_err(data_error)?;
    let mut registry = Registry::new(&files).map_err(data_error)?;
    registry.get(scheme).map_err(data_error)
}

/// The columns of a grouping result, as `drgdip group` writes them.
const GROUP_COLUMNS: [&str; 11] = [
    "case_id", "status", "mdc", "adrg", "drg", "mcc", "cc", "scheme", "repairs", "problems",
    "trace",
];

/// Groups tables of discharges with one scheme (分组器).
#[pyclass(frozen, module = "drgdip._drgdip")]
struct Grouper {
    scheme: Arc<Scheme>,
}

#[pymethods]
impl Grouper {
    /// A grouper over the scheme `scheme` of the shared data directory `shared`.
    #[new]
    #[pyo3(signature = (shared, scheme = "chs-drg-2.0"))]
    fn new(py: Python<'_>, shared: PathBuf, scheme: &str) -> PyResult<Grouper> {
        let scheme = py.detach(|| load_registry_scheme(&shared, scheme))?;
        Ok(Grouper { scheme })
    }

    /// The scheme's name and version, e.g. `chs-drg-2.0 2.0`.
    #[getter]
    fn scheme(&self) -> String {
        format!("{} {}", self.scheme.name, self.scheme.version)
    }

    /// Groups every row of `table`: returns `(results, problems)`, two pyarrow tables.
    #[pyo3(signature = (table, *, trace = false, lang = "zh", problems_lang = "en", strict = false))]
    fn group(
        &self,
        py: Python<'_>,
        table: PyTable,
        trace: bool,
        lang: &str,
        problems_lang: &str,
        strict: bool,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        let (lang, problems_lang) = (parse_lang(lang)?, parse_lang(problems_lang)?);
        let text = TextTable::from_table(table)?;
        let cols = text.columns(ReadOptions::for_purpose(Purpose::Group))?;
        let s = &*self.scheme;
        let outs: Vec<Out> = py.detach(|| {
            let rows = text.rows(&cols);
            rows.par_iter()
                .with_min_len(256)
                .map(|row| group_one(s, &cols, row, trace, lang, problems_lang))
                .collect()
        });
        if strict {
            if let Some(o) = outs.iter().find(|o| !o.problems.is_empty()) {
                return Err(raise_first(&o.problems, 2));
            }
        }
        let names = if trace {
            &GROUP_COLUMNS[..]
        } else {
            &GROUP_COLUMNS[..10]
        };
        let results = results_batch(names, &[], None, &outs)?;
        to_tables(py, results, &outs, problems_lang)
    }
}

fn group_one(
    s: &Scheme,
    cols: &Columns,
    row: &RowIn,
    trace: bool,
    lang: Lang,
    problems_lang: Lang,
) -> Out {
    let empty = || Some(String::new());
    match row.read(cols, &s.catalog) {
        RowOutcome::Invalid { case_id, problems } => {
            let mut cells = vec![Some(case_id), Some("invalid".into())];
            cells.extend(std::iter::repeat_with(empty).take(7));
            cells.push(Some(problems_text(&problems, problems_lang)));
            if trace {
                cells.push(empty());
            }
            Out {
                cells,
                money: [None; 6],
                problems,
            }
        }
        RowOutcome::Valid(r) => {
            let mut t = if trace {
                Trace::enabled()
            } else {
                Trace::disabled()
            };
            let g = group_record(s, &r, &mut t);
            let repairs = if r.repairs.is_empty() {
                String::new()
            } else {
                r.repairs_text()
            };
            let mut cells = vec![
                Some(r.case_id.clone()),
                Some(g.status.as_str().to_string()),
                Some(g.mdc_code(s).to_string()),
                Some(g.adrg_code(s).to_string()),
                Some(g.drg_code(s).to_string()),
                Some(diagnosis_codes(s, &g.mcc)),
                Some(diagnosis_codes(s, &g.cc)),
                Some(s.name.clone()),
                Some(repairs),
                empty(),
            ];
            if trace {
                cells.push(Some(explain(s, &g, &t, lang).join(" | ")));
            }
            Out {
                cells,
                money: [None; 6],
                problems: Vec::new(),
            }
        }
    }
}

/// Pays tables of discharges under a region's parameters (DRG): the `drgdip pay` of a table.
#[pyclass(frozen, module = "drgdip._drgdip")]
struct Payer {
    region: Region,
    special: SpecialCases,
}

#[pymethods]
impl Payer {
    /// A payer for the region of `params` (TOML), with its `hospitals` (CSV) and the DRG
    /// weights of `weights` (CSV, as `drgdip weights` writes) or computed from `history` (a
    /// case file of past years), or named by the parameters.
    #[new]
    #[pyo3(signature = (shared, params, hospitals, *, weights = None, history = None))]
    fn new(
        py: Python<'_>,
        shared: PathBuf,
        params: PathBuf,
        hospitals: PathBuf,
        weights: Option<PathBuf>,
        history: Option<PathBuf>,
    ) -> PyResult<Payer> {
        let region = py.detach(|| -> PyResult<Region> {
            let files = DirFiles::new(&shared).map_err(data_error)?;
            let mut registry = Registry::new(&files).map_err(data_error)?;
            let weights = match (weights, history) {
                (Some(w), _) => WeightsFrom::File(w),
                (None, Some(h)) => WeightsFrom::History(h),
                (None, None) => WeightsFrom::Params,
            };
            let files = RegionFiles {
                params,
                hospitals,
                weights,
                point_value: None,
            };
            let options = BatchOptions {
                read: ReadOptions::for_purpose(Purpose::Weights),
                ..BatchOptions::default()
            };
            Region::load(&mut registry, &files, options).map_err(data_error)
        })?;
        Ok(Payer {
            region,
            special: SpecialCases::default(),
        })
    }

    /// The scheme that groups and pays, e.g. `fujian-2024 2024`.
    #[getter]
    fn scheme(&self) -> String {
        format!("{} {}", self.region.scheme.name, self.region.scheme.version)
    }

    /// Warnings about the weights and the parameters (nothing refused).
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.region.warnings.clone()
    }

    /// Pays every row of `table`: returns `(results, problems)`, two pyarrow tables. The
    /// results have the columns of `drgdip pay` (`rules` with `trace`); weight, standard
    /// and the amounts are exact decimals.
    #[pyo3(signature = (table, *, trace = false, lang = "en", strict = false))]
    fn pay(
        &self,
        py: Python<'_>,
        table: PyTable,
        trace: bool,
        lang: &str,
        strict: bool,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        let lang = parse_lang(lang)?;
        let text = TextTable::from_table(table)?;
        let limits = ReadLimits {
            max_case_cost: self.region.params.limits.max_case_cost,
            ..ReadLimits::default()
        };
        let options = ReadOptions {
            purpose: Purpose::Pay,
            limits,
        };
        let cols = text.columns(options)?;
        let pricer = Pricer::new(&self.region, &self.special);
        let outs: Vec<Out> = py.detach(|| {
            let rows = text.rows(&cols);
            rows.par_iter()
                .with_min_len(256)
                .map(|row| pay_one(&pricer.price(&cols, row), trace, lang))
                .collect()
        });
        if strict {
            if let Some(o) = outs.iter().find(|o| !o.problems.is_empty()) {
                return Err(raise_first(&o.problems, 2));
            }
        }
        let header: Vec<&str> = PAY_HEADER.split(',').collect();
        let text_names: Vec<&str> = header[..6].to_vec();
        let decimals: Vec<(&str, u8)> = header[6..]
            .iter()
            .map(|&n| (n, if n == "weight" { 4 } else { 2 }))
            .collect();
        let results = results_batch(&text_names, &decimals, trace.then_some("rules"), &outs)?;
        to_tables(py, results, &outs, lang)
    }
}

fn pay_one(row: &PricedRow, trace: bool, lang: Lang) -> Out {
    match row {
        PricedRow::Invalid {
            case_id, problems, ..
        } => {
            let mut cells = vec![Some(case_id.clone()), Some("invalid".into())];
            cells.extend(std::iter::repeat_with(|| Some(String::new())).take(3));
            cells.push(Some("invalid".into()));
            if trace {
                let text = problems_text(problems, lang);
                cells.push(Some(format!("invalid: not paid ({text})")));
            }
            Out {
                cells,
                money: [None; 6],
                problems: problems.clone(),
            }
        }
        PricedRow::Paid(c) => {
            let p = &c.payment;
            let mut cells = vec![
                Some(c.case_id.clone()),
                Some(c.status.as_str().to_string()),
                Some(c.mdc.clone()),
                Some(c.adrg.clone()),
                Some(c.drg.clone()),
                Some(p.category.to_string()),
            ];
            if trace {
                cells.push(Some(c.rule_lines().join(" | ")));
            }
            Out {
                cells,
                money: [
                    p.weight.map(round_weight),
                    p.standard.map(round_fen),
                    Some(round_fen(p.total_cost)),
                    Some(round_fen(p.payment)),
                    Some(round_fen(p.own)),
                    Some(round_fen(p.fund_due)),
                ],
                problems: Vec::new(),
            }
        }
    }
}

/// The version of the package (the workspace's).
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _drgdip(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Grouper>()?;
    m.add_class::<Payer>()?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    let py = m.py();
    m.add("DrgdipError", py.get_type::<DrgdipError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("RowError", py.get_type::<RowError>())?;
    Ok(())
}
