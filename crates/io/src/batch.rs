//! The streaming batch runner: a reader thread parses the CSV into chunks of rows, the rows
//! of a chunk are processed on all cores, and the results are written in input order. Memory
//! is bounded by the chunk size (plus 16 bytes per row for the duplicate-id check).

use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::record::{Columns, ColumnsError, Problem, RowOutcome};

/// Rows per chunk handed to the workers.
const CHUNK_ROWS: usize = 8192;
/// Rows per unit of parallel work inside a chunk.
const TASK_ROWS: usize = 256;

/// One raw row of the input.
#[derive(Debug, Clone)]
pub struct RowIn {
    /// Physical line where the row starts (the header is line 1).
    pub line: u64,
    pub record: csv::ByteRecord,
    /// The line of an earlier row with the same case id.
    pub duplicate_of: Option<u64>,
}

impl RowIn {
    /// The fields as text; `Err(i)` names the first field that is not UTF-8.
    pub fn fields(&self) -> Result<smallvec::SmallVec<[&str; 32]>, usize> {
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
}

impl RowIn {
    /// Reads, repairs and validates the row: not-UTF-8 bytes, the checks of
    /// [`parse_row`](crate::parse_row), and a case id repeated from an earlier row.
    pub fn read(&self, cols: &Columns, catalog: &drgdip_codes::Catalog) -> RowOutcome {
        let fields = match self.fields() {
            Ok(f) => f,
            Err(i) => {
                let case_id = cols
                    .pos("case_id")
                    .map(|p| self.lossy(p))
                    .unwrap_or_default();
                let field = cols
                    .names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("field {}", i + 1));
                return RowOutcome::Invalid {
                    problems: vec![Problem {
                        line: self.line,
                        case_id: case_id.clone(),
                        field,
                        value: self.lossy(i),
                        message: "bytes that are not UTF-8".into(),
                    }],
                    case_id,
                };
            }
        };
        let outcome = crate::record::parse_row(&fields, self.line, cols, catalog);
        let Some(first) = self.duplicate_of else {
            return outcome;
        };
        let (case_id, mut problems) = match outcome {
            RowOutcome::Valid(r) => (r.case_id, Vec::new()),
            RowOutcome::Invalid { case_id, problems } => (case_id, problems),
        };
        problems.insert(
            0,
            Problem {
                line: self.line,
                case_id: case_id.clone(),
                field: "case_id".into(),
                value: case_id.clone(),
                message: format!("case id repeats the row on line {first}"),
            },
        );
        RowOutcome::Invalid { case_id, problems }
    }
}

/// A chunk of rows, in input order.
pub type Chunk = Vec<RowIn>;

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
    #[error(transparent)]
    Columns(#[from] ColumnsError),
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

fn id_hash(field: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    field.trim_ascii().hash(&mut h);
    h.finish()
}

/// Runs `row_fn` over every row of `input`, writing `header` then each row's output to `out`
/// and each problem to `errors`, in input order.
///
/// `row_fn(columns, row, out, problems)` appends the row's output line(s) to `out`, pushes its
/// problems, and returns a status bucket (< 16) for the counts. `progress(rows_done)` is called
/// after each chunk.
pub fn run_batch<R, F>(
    input: R,
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
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(input);
    let mut head = csv::ByteRecord::new();
    if !rdr
        .read_byte_record(&mut head)
        .map_err(|e| BatchError::Read(e.to_string()))?
    {
        return Err(BatchError::NoHeader);
    }
    let names: Vec<&str> = head
        .iter()
        .map(std::str::from_utf8)
        .collect::<Result<_, _>>()
        .map_err(|_| BatchError::HeaderNotUtf8)?;
    let cols = Columns::from_header(names.iter().copied())?;
    let id_pos = cols.pos("case_id");
    out.write_all(header)?;
    let mut stats = BatchStats::default();

    std::thread::scope(|scope| -> Result<(), BatchError> {
        let (tx, rx) = crossbeam_channel::bounded::<Result<Chunk, String>>(2);
        scope.spawn(move || {
            let mut seen: FxHashMap<u64, u64> = FxHashMap::default();
            loop {
                let mut chunk = Vec::with_capacity(CHUNK_ROWS);
                let mut failed = None;
                while chunk.len() < CHUNK_ROWS {
                    let mut rec = csv::ByteRecord::new();
                    match rdr.read_byte_record(&mut rec) {
                        Ok(true) => {
                            let line = rec.position().map_or(0, |p| p.line());
                            // a blank line is no row
                            if rec.len() == 1 && rec[0].trim_ascii().is_empty() {
                                continue;
                            }
                            let duplicate_of = id_pos
                                .and_then(|i| rec.get(i))
                                .filter(|f| !f.trim_ascii().is_empty())
                                .and_then(|f| {
                                    let h = id_hash(f);
                                    match seen.get(&h) {
                                        Some(&first) => Some(first),
                                        None => {
                                            seen.insert(h, line);
                                            None
                                        }
                                    }
                                });
                            chunk.push(RowIn {
                                line,
                                record: rec,
                                duplicate_of,
                            });
                        }
                        Ok(false) => break,
                        Err(e) => {
                            failed = Some(e.to_string());
                            break;
                        }
                    }
                }
                let done = chunk.len() < CHUNK_ROWS || failed.is_some();
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
        for chunk in rx {
            let chunk = chunk.map_err(BatchError::Read)?;
            let parts: Vec<(Vec<u8>, Vec<Problem>, [u64; 16])> = chunk
                .par_chunks(TASK_ROWS)
                .map(|rows| {
                    let mut buf = Vec::with_capacity(rows.len() * 64);
                    let mut probs = Vec::new();
                    let mut counts = [0u64; 16];
                    for r in rows {
                        let k = row_fn(&cols, r, &mut buf, &mut probs);
                        counts[k.min(15)] += 1;
                    }
                    (buf, probs, counts)
                })
                .collect();
            for (buf, probs, counts) in parts {
                out.write_all(&buf)?;
                stats.problems += probs.len() as u64;
                if let Some(e) = errors.as_deref_mut() {
                    for p in &probs {
                        e.write_all(p.to_csv_line().as_bytes())?;
                    }
                }
                for (a, b) in stats.by_status.iter_mut().zip(counts) {
                    *a += b;
                }
            }
            stats.rows += chunk.len() as u64;
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
                    probs.push(Problem {
                        line: r.line,
                        case_id: f[0].into(),
                        field: "case_id".into(),
                        value: f[0].into(),
                        message: "dup".into(),
                    });
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
}
