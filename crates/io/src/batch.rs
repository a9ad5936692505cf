//! The streaming batch runner: a reader thread parses the CSV into chunks of rows, the rows
//! of a chunk are processed on all cores, and the results are written in input order. Memory
//! is bounded by the chunk size and the repeated-id check's bounds ([`crate::seen`]).

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use std::path::PathBuf;

use drgdip_drg::Lang;

use crate::problem::{escape_control, Problem, ProblemKind};
use std::sync::Arc;

use crate::formats::InputFormat;
use crate::mapping::Mapping;
use crate::reader::{CaseReader, InputSpec};
use crate::record::{Columns, ColumnsError, ReadOptions, RowOutcome};
use crate::seen::{IdCheckLimits, Reread, SeenIds};

/// Rows per chunk handed to the workers.
const CHUNK_ROWS: usize = 8192;
/// Rows per unit of parallel work inside a chunk.
const TASK_ROWS: usize = 256;

/// One raw row of the input.
#[derive(Debug, Clone, Default)]
pub struct RowIn {
    /// Physical line where the row starts (the header is line 1).
    pub line: u64,
    pub record: csv::ByteRecord,
    /// The line of an earlier row with the same case id.
    pub duplicate_of: Option<u64>,
    /// The field (its index) whose opening quote is still open at the end of the line: the
    /// row is invalid, and `record` holds the fields from that one on as the line split at
    /// every comma, quotes kept.
    pub open_quote: Option<usize>,
    /// `(fields, header)` of the row as the file has it, when a column mapping rewrote a row
    /// whose width differs from its header's: the row is invalid.
    pub source_width: Option<(usize, usize)>,
}

impl RowIn {
    /// A row of the given fields (tools and tests).
    pub fn from_fields<'a>(line: u64, fields: impl IntoIterator<Item = &'a str>) -> RowIn {
        RowIn {
            line,
            record: fields.into_iter().collect(),
            duplicate_of: None,
            open_quote: None,
            source_width: None,
        }
    }

    /// The fields as text; `Err(i)` names the first field that is not UTF-8.
    pub fn fields(&self) -> Result<smallvec::SmallVec<[&str; 32]>, usize> {
        // the record's bytes validated once, each field then a slice of that text (a field
        // boundary inside a character fails `get`, and the fields are checked one by one)
        if let Ok(all) = simdutf8::basic::from_utf8(self.record.as_slice()) {
            // the fields lie end to end in the record's bytes
            let mut fields = smallvec::SmallVec::new();
            let mut start = 0;
            'split: {
                for f in &self.record {
                    let end = start + f.len();
                    let Some(t) = all.get(start..end) else {
                        break 'split;
                    };
                    fields.push(t);
                    start = end;
                }
                return Ok(fields);
            }
        }
        self.record
            .iter()
            .enumerate()
            .map(|(i, f)| std::str::from_utf8(f).map_err(|_| i))
            .collect()
    }
    /// A field as text, invalid bytes replaced (for error messages).
    pub fn lossy(&self, i: usize) -> String {
        self.record
            .get(i)
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .unwrap_or_default()
    }

    /// The row as one line of a case file (without its line end) that reads back as the
    /// same row: fields quoted where they need it, and for a row with an open quote the
    /// fields from that one on as they were on the line.
    pub fn to_line(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.record.as_slice().len() + 16);
        for (i, f) in self.record.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let raw = self.open_quote.is_some_and(|k| i >= k);
            if !raw && f.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
                out.push(b'"');
                for &b in f {
                    if b == b'"' {
                        out.push(b'"');
                    }
                    out.push(b);
                }
                out.push(b'"');
            } else {
                out.extend_from_slice(f);
            }
        }
        out
    }

    /// The case id to report (control characters escaped), for a row not parsed.
    fn shown_case_id(&self, cols: &Columns) -> String {
        let id = cols
            .pos("case_id")
            .map(|p| self.lossy(p))
            .unwrap_or_default();
        let id = match (self.open_quote, cols.pos("case_id")) {
            (Some(k), Some(p)) if k == p => id.trim_start_matches('"').trim().to_string(),
            _ => id,
        };
        escape_control(&id)
    }
}

impl RowIn {
    /// Reads, repairs and validates the row: an unbalanced quote, not-UTF-8 bytes, the
    /// checks of [`parse_row`](crate::parse_row), and a case id repeated from an earlier row.
    pub fn read(&self, cols: &Columns, catalog: &drgdip_codes::Catalog) -> RowOutcome {
        let field_name = |i: usize| {
            cols.names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("field {}", i + 1))
        };
        let outcome = if let Some((fields, header)) = self.source_width {
            let case_id = self.shown_case_id(cols);
            let value = escape_control(&String::from_utf8_lossy(&self.to_line()));
            RowOutcome::Invalid {
                problems: vec![Problem::new(
                    self.line,
                    case_id.clone(),
                    "row",
                    value,
                    ProblemKind::RowWidth { fields, header },
                )],
                case_id,
            }
        } else if let Some(k) = self.open_quote {
            let case_id = self.shown_case_id(cols);
            let field = field_name(k);
            RowOutcome::Invalid {
                problems: vec![Problem::new(
                    self.line,
                    case_id.clone(),
                    field.clone(),
                    self.lossy(k),
                    ProblemKind::UnbalancedQuote { field },
                )],
                case_id,
            }
        } else {
            match self.fields() {
                Ok(fields) => crate::record::parse_row(&fields, self.line, cols, catalog),
                Err(i) => {
                    let case_id = self.shown_case_id(cols);
                    RowOutcome::Invalid {
                        problems: vec![Problem::new(
                            self.line,
                            case_id.clone(),
                            field_name(i),
                            escape_control(&self.lossy(i)),
                            ProblemKind::NotUtf8,
                        )],
                        case_id,
                    }
                }
            }
        };
        let Some(first) = self.duplicate_of else {
            return outcome;
        };
        let (case_id, mut problems) = match outcome {
            RowOutcome::Valid(r) => (r.case_id, Vec::new()),
            RowOutcome::Invalid { case_id, problems } => (case_id, problems),
        };
        problems.insert(
            0,
            Problem::new(
                self.line,
                case_id.clone(),
                "case_id",
                case_id.clone(),
                ProblemKind::CaseIdRepeated { first_line: first },
            ),
        );
        RowOutcome::Invalid { case_id, problems }
    }
}

/// A chunk of rows, in input order.
pub type Chunk = Vec<RowIn>;

/// What one task of a chunk wrote: its output, its problems, its counts per status.
type Part = (Vec<u8>, Vec<Problem>, [u64; 16]);

/// A chunk processed: its parts in order, and its number of rows.
struct Done {
    parts: Vec<Part>,
    rows: u64,
}

/// Why a batch could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("cannot read the input: {0}")]
    Read(String),
    #[error("cannot write the output: {0}")]
    Write(#[from] std::io::Error),
    #[error("the input has no header row")]
    NoHeader,
    #[error("the header is not UTF-8")]
    HeaderNotUtf8,
    #[error("the header has an unbalanced quote in field {0}")]
    HeaderQuote(usize),
    #[error(transparent)]
    Columns(#[from] ColumnsError),
    #[error(transparent)]
    Mapping(#[from] crate::mapping::MappingError),
}

/// What a batch run did.
#[derive(Debug, Clone, Default)]
pub struct BatchStats {
    pub rows: u64,
    /// Rows per status bucket, as returned by the row function.
    pub by_status: [u64; 16],
    pub problems: u64,
    pub elapsed: Duration,
}

impl BatchStats {
    /// Rows per second over the whole run.
    pub fn rows_per_sec(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// How a batch reads its input and writes its errors file.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// The input has quoted line breaks: a record may span lines (the csv crate reads it).
    /// Otherwise a record is one physical line.
    pub multiline: bool,
    /// The input's format; `None`: told by its first bytes ([`InputFormat::sniff`]).
    pub format: Option<InputFormat>,
    /// The column mapping of the input's layout onto drgdip's fields.
    pub mapping: Option<Arc<Mapping>>,
    /// What the rows are read for, and the bounds on their figures.
    pub read: ReadOptions,
    /// The language of the errors file's messages.
    pub lang: Lang,
    /// The input's file, when it is one: a file with more distinct case ids than
    /// `id_check.table_ids` is read a second time for its ids, so that the repeated-id check
    /// stays within bounded memory ([`crate::seen`]). `None` (standard input, memory): the
    /// check's table grows with the ids.
    pub source: Option<PathBuf>,
    /// The bounds of the repeated-id check.
    pub id_check: IdCheckLimits,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            multiline: false,
            format: None,
            mapping: None,
            read: ReadOptions::default(),
            lang: Lang::En,
            source: None,
            id_check: IdCheckLimits::default(),
        }
    }
}

impl BatchOptions {
    /// These options for reading the file at `path` (`-`: standard input), which the
    /// repeated-id check may read a second time ([`BatchOptions::source`]).
    pub fn with_source(mut self, path: &std::path::Path) -> BatchOptions {
        self.source = (path != std::path::Path::new("-")).then(|| path.to_path_buf());
        self
    }

    /// How the input is read.
    pub fn input_spec(&self) -> InputSpec {
        InputSpec {
            format: self.format,
            multiline: self.multiline,
            mapping: self.mapping.clone(),
        }
    }
}

/// [`run_batch_with`] with the default options: one record per line, rows read for
/// grouping, messages in English.
pub fn run_batch<R, F>(
    input: R,
    header: &[u8],
    out: &mut dyn Write,
    errors: Option<&mut dyn Write>,
    row_fn: F,
    progress: impl FnMut(u64),
) -> Result<BatchStats, BatchError>
where
    R: Read + Send,
    F: Fn(&Columns, &RowIn, &mut Vec<u8>, &mut Vec<Problem>) -> usize + Sync,
{
    run_batch_with(
        input,
        &BatchOptions::default(),
        header,
        out,
        errors,
        row_fn,
        progress,
    )
}

/// Runs `row_fn` over every row of `input`, writing `header` then each row's output to `out`
/// and each problem to `errors`, in input order.
///
/// `row_fn(columns, row, out, problems)` appends the row's output line(s) to `out`, pushes its
/// problems, and returns a status bucket (< 16) for the counts. `progress(rows_done)` is called
/// after each chunk. The header must have the columns `options.read.purpose` requires.
pub fn run_batch_with<R, F>(
    input: R,
    options: &BatchOptions,
    header: &[u8],
    out: &mut dyn Write,
    mut errors: Option<&mut dyn Write>,
    row_fn: F,
    mut progress: impl FnMut(u64),
) -> Result<BatchStats, BatchError>
where
    R: Read + Send,
    F: Fn(&Columns, &RowIn, &mut Vec<u8>, &mut Vec<Problem>) -> usize + Sync,
{
    let start = Instant::now();
    let mut rdr = CaseReader::open(input, &options.input_spec())?;
    let cols = rdr.columns(options.read)?;
    let id_pos = cols.pos("case_id");
    let reread = options.source.clone().map(|path| Reread {
        path,
        spec: options.input_spec(),
        read: options.read,
    });
    out.write_all(header)?;
    let mut stats = BatchStats::default();
    let lang = options.lang;

    // Three stages: the reader thread parses chunks of rows (into the buffers of recycled
    // chunks), the worker thread has each chunk processed on every core, and this thread
    // writes the results in order while the next chunks are read and processed.
    std::thread::scope(|scope| -> Result<(), BatchError> {
        let (tx, rx) = crossbeam_channel::bounded::<Result<Chunk, BatchError>>(2);
        let (free_tx, free_rx) = crossbeam_channel::bounded::<Chunk>(4);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<Result<Done, BatchError>>(2);
        scope.spawn(move || {
            let mut seen = SeenIds::new(id_pos, reread, options.id_check);
            loop {
                let mut chunk = free_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(CHUNK_ROWS));
                let mut filled = 0;
                let mut failed = None;
                while filled < CHUNK_ROWS {
                    if filled == chunk.len() {
                        chunk.push(RowIn::from_fields(0, []));
                    }
                    let row = &mut chunk[filled];
                    match rdr.next_row_into(row) {
                        Ok(true) => filled += 1,
                        Ok(false) => break,
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                if let Err(e) = seen.mark(&mut chunk[..filled]) {
                    let _ = tx.send(Err(e));
                    return;
                }
                chunk.truncate(filled);
                let done = filled < CHUNK_ROWS || failed.is_some();
                if !chunk.is_empty() && tx.send(Ok(chunk)).is_err() {
                    return;
                }
                if let Some(e) = failed {
                    let _ = tx.send(Err(e));
                    return;
                }
                if done {
                    return;
                }
            }
        });
        let (cols, row_fn) = (&cols, &row_fn);
        scope.spawn(move || {
            for chunk in rx {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = done_tx.send(Err(e));
                        return;
                    }
                };
                let parts: Vec<Part> = chunk
                    .par_chunks(TASK_ROWS)
                    .map(|rows| {
                        let mut buf = Vec::with_capacity(rows.len() * 128);
                        let mut probs = Vec::new();
                        let mut counts = [0u64; 16];
                        for r in rows {
                            let k = row_fn(cols, r, &mut buf, &mut probs);
                            counts[k.min(15)] += 1;
                        }
                        (buf, probs, counts)
                    })
                    .collect();
                let rows = chunk.len() as u64;
                let _ = free_tx.try_send(chunk);
                if done_tx.send(Ok(Done { parts, rows })).is_err() {
                    return;
                }
            }
        });
        for done in done_rx {
            let done = done?;
            for (buf, probs, counts) in done.parts {
                out.write_all(&buf)?;
                stats.problems += probs.len() as u64;
                if let Some(e) = errors.as_deref_mut() {
                    for p in &probs {
                        e.write_all(p.to_csv_line(lang).as_bytes())?;
                    }
                }
                for (a, b) in stats.by_status.iter_mut().zip(counts) {
                    *a += b;
                }
            }
            stats.rows += done.rows;
            progress(stats.rows);
        }
        Ok(())
    })?;
    out.flush()?;
    if let Some(e) = errors {
        e.flush()?;
    }
    stats.elapsed = start.elapsed();
    Ok(stats)
}

/// Reads a whole case file held in memory and returns its valid records, in input order
/// (benchmarks and tools; a batch run streams instead).
pub fn read_valid_records(
    input: &[u8],
    catalog: &drgdip_codes::Catalog,
) -> Result<Vec<crate::CaseRecord>, BatchError> {
    let records = std::sync::Mutex::new(Vec::new());
    run_batch(
        input,
        b"",
        &mut std::io::sink(),
        None,
        |cols, row, _, _| {
            if let RowOutcome::Valid(r) = row.read(cols, catalog) {
                if let Ok(mut v) = records.lock() {
                    v.push(*r);
                }
            }
            0
        },
        |_| {},
    )?;
    let mut v = records.into_inner().unwrap_or_default();
    v.sort_by_key(|r| r.line);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_their_order_lines_and_duplicates() {
        let mut input = String::from("case_id,gender,age,diagnoses\n");
        for i in 0..20_000 {
            input.push_str(&format!("C{},1,30,K86.102\n", i % 15_000));
        }
        let mut out = Vec::new();
        let mut errs = Vec::new();
        let stats = run_batch(
            input.as_bytes(),
            b"case_id,line,dup\n",
            &mut out,
            Some(&mut errs),
            |_c, r, buf, probs| {
                let f = r.fields().unwrap();
                buf.extend_from_slice(
                    format!("{},{},{}\n", f[0], r.line, r.duplicate_of.unwrap_or(0)).as_bytes(),
                );
                if r.duplicate_of.is_some() {
                    probs.push(Problem::new(
                        r.line,
                        f[0],
                        "case_id",
                        f[0],
                        ProblemKind::CaseIdRepeated { first_line: 0 },
                    ));
                    1
                } else {
                    0
                }
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(stats.rows, 20_000);
        assert_eq!(stats.by_status[1], 5_000);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20_001);
        assert_eq!(lines[1], "C0,2,0");
        assert_eq!(lines[15_001], "C0,15002,2");
        assert_eq!(String::from_utf8(errs).unwrap().lines().count(), 5_000);
    }

    #[test]
    fn fields_are_text_each_and_a_character_split_between_two_is_not() {
        let mut r = RowIn::from_fields(2, ["C1", "胆囊", "", "K86.102"]);
        assert_eq!(
            r.fields().unwrap().as_slice(),
            ["C1", "胆囊", "", "K86.102"]
        );
        // "中" (e4 b8 ad) cut across two fields: the whole record is UTF-8, neither field is
        r.record = csv::ByteRecord::from(vec![&b"a"[..], &b"\xe4"[..], &b"\xb8\xad"[..]]);
        assert_eq!(r.fields().unwrap_err(), 1);
        r.record = csv::ByteRecord::from(vec![&b"a"[..], &b"b\xff"[..]]);
        assert_eq!(r.fields().unwrap_err(), 1);
    }

    #[test]
    fn a_header_without_required_columns_stops_the_run() {
        let mut out = Vec::new();
        let e = run_batch(
            "a,b\n1,2\n".as_bytes(),
            b"",
            &mut out,
            None,
            |_, _, _, _| 0,
            |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("case_id"));
    }

    proptest::proptest! {
        /// Arbitrary bytes after a header: the run never fails or panics, and every row the
        /// reader sees gives exactly one output line and is either valid or reported.
        #[test]
        fn arbitrary_bytes_give_one_output_line_per_row(body in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            let catalog = drgdip_codes::Catalog {
                diagnoses: drgdip_codes::CodeTable::parse("d", "K86.102 a\n").unwrap(),
                procedures: drgdip_codes::CodeTable::parse("p", "07.7202 a\n").unwrap(),
            };
            let mut input = b"case_id,gender,age,diagnoses,procedures\n".to_vec();
            input.extend_from_slice(&body);
            let mut out = Vec::new();
            let stats = run_batch(&input[..], b"", &mut out, None, |cols, row, buf, probs| {
                match row.read(cols, &catalog) {
                    RowOutcome::Valid(_) => {}
                    RowOutcome::Invalid { problems, .. } => {
                        assert!(!problems.is_empty());
                        probs.extend(problems);
                    }
                }
                buf.push(b'\n');
                0
            }, |_| {}).unwrap();
            proptest::prop_assert_eq!(stats.rows as usize, out.len());
        }
    }

    fn tiny_catalog() -> drgdip_codes::Catalog {
        drgdip_codes::Catalog {
            diagnoses: drgdip_codes::CodeTable::parse("d", "K86.102 a\n").unwrap(),
            procedures: drgdip_codes::CodeTable::parse("p", "07.7202 a\n").unwrap(),
        }
    }

    /// Runs a file through `RowIn::read`, one output line `case_id,status` per row; returns
    /// the output and the errors file.
    fn read_all(input: &str, options: &BatchOptions) -> (Vec<String>, Vec<String>) {
        let catalog = tiny_catalog();
        let (mut out, mut errs) = (Vec::new(), Vec::new());
        run_batch_with(
            input.as_bytes(),
            options,
            b"",
            &mut out,
            Some(&mut errs),
            |cols, row, buf, probs| match row.read(cols, &catalog) {
                RowOutcome::Valid(r) => {
                    buf.extend_from_slice(format!("{},valid\n", r.case_id).as_bytes());
                    0
                }
                RowOutcome::Invalid { case_id, problems } => {
                    buf.extend_from_slice(format!("{case_id},invalid\n").as_bytes());
                    probs.extend(problems);
                    1
                }
            },
            |_| {},
        )
        .unwrap();
        (text_lines(out), text_lines(errs))
    }

    #[test]
    fn a_stray_quote_makes_its_row_invalid_and_the_next_lines_are_read() {
        let input = "case_id,gender,age,diagnoses\n\
                     C1,1,30,K86.102\n\
                     C2,1,30,\"K86.102\n\
                     C3,1,30,K86.102\r\n\
                     \n\
                     C4,1,\"30\",\"K86.102\"\n";
        let (out, errs) = read_all(input, &BatchOptions::default());
        assert_eq!(out, ["C1,valid", "C2,invalid", "C3,valid", "C4,valid"]);
        assert_eq!(
            errs,
            ["3,C2,diagnoses,\"\"\"K86.102\",unbalanced quote in field diagnoses"]
        );
        // the case id itself opened the quote: it is still reported
        let (out, errs) = read_all(
            "case_id,gender,age,diagnoses\n\"C1,1,30,K86.102\nC2,1,30,K86.102\n",
            &BatchOptions::default(),
        );
        assert_eq!(out, ["C1,invalid", "C2,valid"]);
        assert!(errs[0].starts_with("2,C1,case_id,"), "{errs:?}");
        // in Chinese
        let zh = BatchOptions {
            lang: Lang::Zh,
            ..BatchOptions::default()
        };
        let (_, errs) = read_all(input, &zh);
        assert!(
            errs[0].ends_with(",字段 diagnoses 的引号未闭合"),
            "{errs:?}"
        );
    }

    #[test]
    fn multiline_reads_quoted_line_breaks_as_the_csv_crate_does() {
        let input = "case_id,gender,age,diagnoses\nC1,1,30,\"K86.102\n\"\nC2,1,30,K86.102\n";
        let multi = BatchOptions {
            multiline: true,
            ..BatchOptions::default()
        };
        let (out, errs) = read_all(input, &multi);
        assert_eq!(out, ["C1,valid", "C2,valid"], "{errs:?}");
        // line by line, the same file has an open quote on line 2 and a stray one on line 3
        let (out, _) = read_all(input, &BatchOptions::default());
        assert_eq!(out, ["C1,invalid", ",invalid", "C2,valid"]);
    }

    #[test]
    fn a_header_the_purpose_cannot_use_stops_the_run_once() {
        let options = BatchOptions {
            read: ReadOptions::for_purpose(crate::Purpose::Pay),
            ..BatchOptions::default()
        };
        let e = run_batch_with(
            "case_id,gender,age,diagnoses,total_cost\nC1,1,30,K86.102,1\n".as_bytes(),
            &options,
            b"",
            &mut Vec::new(),
            None,
            |_, _, _, _| 0,
            |_| {},
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the header lacks the column(s) fund_paid, which pay needs"
        );
    }

    #[test]
    fn a_row_writes_back_as_a_line_that_reads_as_the_same_row() {
        let mut rdr = CaseReader::new(
            "h\nC1,\"a,b\",\"say \"\"x\"\"\",plain\nC2,\"a,b\",\"open,x,y\n".as_bytes(),
            false,
        );
        rdr.header().unwrap();
        while let Some(row) = rdr.next_row().unwrap() {
            let line = row.to_line();
            let mut again = csv::ByteRecord::new();
            let open = crate::reader::split_line(&line, &mut again);
            assert_eq!((again, open), (row.record.clone(), row.open_quote));
        }
    }

    proptest::proptest! {
        /// Lines of anything but line breaks, quotes included: one row per non-blank line,
        /// each valid or reported, with its physical line.
        #[test]
        fn every_non_blank_line_is_one_row(lines in proptest::collection::vec("[a-z0-9,\" .|\r]{0,30}", 0..40)) {
            let catalog = tiny_catalog();
            let mut input = "case_id,gender,age,diagnoses\n".to_string();
            for l in &lines {
                input.push_str(l);
                input.push('\n');
            }
            let expected: Vec<u64> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| !l.trim_end_matches('\r').trim_ascii().is_empty())
                .map(|(i, _)| i as u64 + 2)
                .collect();
            let mut out = Vec::new();
            let stats = run_batch(input.as_bytes(), b"", &mut out, None, |cols, row, buf, _| {
                if let RowOutcome::Invalid { problems, .. } = row.read(cols, &catalog) {
                    assert!(!problems.is_empty());
                    assert!(problems.iter().all(|p| p.line == row.line));
                }
                buf.extend_from_slice(format!("{}\n", row.line).as_bytes());
                0
            }, |_| {}).unwrap();
            let got: Vec<u64> = String::from_utf8(out).unwrap().lines().map(|l| l.parse().unwrap()).collect();
            proptest::prop_assert_eq!(stats.rows as usize, expected.len());
            proptest::prop_assert_eq!(got, expected);
        }
    }

    fn text_lines(b: Vec<u8>) -> Vec<String> {
        String::from_utf8(b)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    /// The output and errors of `input` (CSV) read from a file with the given bounds.
    fn from_file(input: &str, options: &BatchOptions) -> (Vec<String>, Vec<String>) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, input.as_bytes()).unwrap();
        let options = options.clone().with_source(file.path());
        let catalog = tiny_catalog();
        let (mut out, mut errs) = (Vec::new(), Vec::new());
        run_batch_with(
            std::fs::File::open(file.path()).unwrap(),
            &options,
            b"",
            &mut out,
            Some(&mut errs),
            |cols, row, buf, probs| {
                let id = row
                    .record
                    .get(0)
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                buf.extend_from_slice(
                    format!("{id},{},{:?}\n", row.line, row.duplicate_of).as_bytes(),
                );
                if let RowOutcome::Invalid { problems, .. } = row.read(cols, &catalog) {
                    probs.extend(problems);
                }
                0
            },
            |_| {},
        )
        .unwrap();
        (text_lines(out), text_lines(errs))
    }

    fn bounded(table_ids: usize, sort_ids: usize) -> BatchOptions {
        BatchOptions {
            id_check: IdCheckLimits {
                table_ids,
                sort_ids,
            },
            ..BatchOptions::default()
        }
    }

    #[test]
    fn a_file_past_the_id_table_s_bound_is_checked_as_with_every_id_in_memory() {
        // ids repeating near and far, blanks, spaces around an id, a row without its id field
        let mut input = String::from("case_id,gender,age,diagnoses\n");
        let mut x = 7u64;
        for i in 0..30_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match i % 1000 {
                17 => input.push_str(",1,30,K86.102\n"),
                18 => input.push_str(&format!(" C{} ,1,30,K86.102\n", (x >> 33) % 9000)),
                19 => input.push('\n'),
                20 => input.push_str("C5\n"),
                _ => input.push_str(&format!("C{},1,30,K86.102\n", (x >> 33) % 9000)),
            }
        }
        let memory = from_file(&input, &bounded(usize::MAX, 1 << 20));
        assert!(
            memory.1.iter().any(|e| e.contains("C5")),
            "{:?}",
            &memory.1[..3]
        );
        for (table, sort) in [(1, 2), (100, 7), (4000, 1000), (8999, 3), (9000, 50)] {
            assert_eq!(
                from_file(&input, &bounded(table, sort)),
                memory,
                "{table} {sort}"
            );
        }
        // standard input (no second reading): the table grows past its bound
        let (out, errs) = read_all(&input, &bounded(10, 10));
        assert_eq!(out.len(), memory.0.len());
        assert_eq!(errs, memory.1);
    }

    proptest::proptest! {
        #[test]
        fn the_bounded_check_agrees_with_the_table_of_every_id(
            ids in proptest::collection::vec(0u32..40, 0..300),
            table in 0usize..45,
            sort in 2usize..20,
        ) {
            let mut input = String::from("case_id,gender,age,diagnoses\n");
            for id in &ids {
                input.push_str(&format!("C{id},1,30,K86.102\n"));
            }
            let memory = from_file(&input, &bounded(usize::MAX, 1 << 20));
            proptest::prop_assert_eq!(from_file(&input, &bounded(table, sort)), memory);
        }
    }
}
