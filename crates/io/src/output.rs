//! Result files in other formats than CSV: a command writes its CSV (header first) into a
//! [`TableWriter`], which writes the same table as JSON lines (one object per row, every value
//! a string) or Parquet (every column a UTF-8 string, snappy-compressed, row groups of up to
//! 65,536 rows, no min/max statistics). Values are the CSV's, unchanged: money keeps its two
//! decimals.

use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::BinaryBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

/// The format of a result file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Csv,
    Jsonl,
    Parquet,
}

impl OutputFormat {
    pub fn parse(s: &str) -> Option<OutputFormat> {
        Some(match s.to_ascii_lowercase().as_str() {
            "csv" => OutputFormat::Csv,
            "jsonl" | "ndjson" => OutputFormat::Jsonl,
            "parquet" | "parq" | "pq" => OutputFormat::Parquet,
            _ => return None,
        })
    }

    /// The format a file name's extension says (CSV when it says none we write).
    pub fn from_path(path: &Path) -> OutputFormat {
        path.extension()
            .and_then(|e| e.to_str())
            .and_then(OutputFormat::parse)
            .unwrap_or_default()
    }
}

/// Rows per Parquet row group.
const GROUP_ROWS: usize = 65_536;
/// A Parquet batch's text in one column at most (its offsets are 32-bit).
const BATCH_BYTES: usize = 1 << 30;
/// CSV bytes handed to the writing thread at a time.
const SEND_BYTES: usize = 1 << 20;

/// Takes CSV text and writes it as JSON lines or Parquet, on a thread of its own. Call
/// [`TableWriter::finish`] at the end: it reports what went wrong while writing.
pub struct TableWriter {
    tx: Option<crossbeam_channel::Sender<Vec<u8>>>,
    /// Buffers the writing thread is done with, to be filled again (no allocation per send).
    spent: crossbeam_channel::Receiver<Vec<u8>>,
    handle: Option<std::thread::JoinHandle<io::Result<()>>>,
    buf: Vec<u8>,
}

struct ChannelReader {
    rx: crossbeam_channel::Receiver<Vec<u8>>,
    spent: crossbeam_channel::Sender<Vec<u8>>,
    cur: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.cur.len() {
            match self.rx.recv() {
                Ok(v) => {
                    let mut done = std::mem::replace(&mut self.cur, v);
                    done.clear();
                    // the sender may be gone or have enough: the buffer is then dropped
                    let _ = self.spent.try_send(done);
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len() - self.at);
        out[..n].copy_from_slice(&self.cur[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl TableWriter {
    /// A writer of `format` (JSON lines or Parquet) into `sink`.
    pub fn new(format: OutputFormat, sink: Box<dyn Write + Send>) -> TableWriter {
        let (tx, rx) = crossbeam_channel::bounded::<Vec<u8>>(4);
        let (spent_tx, spent) = crossbeam_channel::bounded::<Vec<u8>>(4);
        let handle = std::thread::spawn(move || {
            let input = ChannelReader {
                rx,
                spent: spent_tx,
                cur: Vec::new(),
                at: 0,
            };
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(input);
            match format {
                OutputFormat::Parquet => write_parquet(&mut rdr, sink),
                _ => write_jsonl(&mut rdr, sink),
            }
        });
        TableWriter {
            tx: Some(tx),
            spent,
            handle: Some(handle),
            buf: Vec::with_capacity(SEND_BYTES),
        }
    }

    /// A writer of `format` into the file at `path`.
    pub fn create(format: OutputFormat, path: &Path) -> io::Result<TableWriter> {
        let f = std::fs::File::create(path)?;
        Ok(TableWriter::new(
            format,
            Box::new(io::BufWriter::with_capacity(1 << 20, f)),
        ))
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let next = self
            .spent
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(SEND_BYTES));
        let chunk = std::mem::replace(&mut self.buf, next);
        match &self.tx {
            Some(tx) if tx.send(chunk).is_ok() => Ok(()),
            // the writing thread stopped: finish() tells why
            _ => Err(other("the output writer stopped")),
        }
    }

    /// Writes what is left and waits for the file to be complete.
    pub fn finish(mut self) -> io::Result<()> {
        let sent = self.send();
        self.tx = None;
        let done = match self.handle.take() {
            Some(h) => h.join().map_err(|_| other("the output writer panicked"))?,
            None => Ok(()),
        };
        done.and(sent)
    }
}

impl Write for TableWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= SEND_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

fn header<R: Read>(rdr: &mut csv::Reader<R>) -> io::Result<Option<Vec<String>>> {
    let mut rec = csv::StringRecord::new();
    if !rdr.read_record(&mut rec).map_err(other)? {
        return Ok(None);
    }
    Ok(Some(rec.iter().map(str::to_string).collect()))
}

fn write_jsonl<R: Read>(
    rdr: &mut csv::Reader<R>,
    mut sink: Box<dyn Write + Send>,
) -> io::Result<()> {
    let Some(names) = header(rdr)? else {
        return sink.flush();
    };
    let mut rec = csv::StringRecord::new();
    let mut line = Vec::new();
    while rdr.read_record(&mut rec).map_err(other)? {
        line.clear();
        line.push(b'{');
        for (i, v) in rec.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            let name = names
                .get(i)
                .map_or_else(|| format!("field_{}", i + 1), String::clone);
            serde_json::to_writer(&mut line, &name).map_err(other)?;
            line.push(b':');
            serde_json::to_writer(&mut line, v).map_err(other)?;
        }
        line.extend_from_slice(b"}\n");
        sink.write_all(&line)?;
    }
    sink.flush()
}

fn write_parquet<R: Read>(rdr: &mut csv::Reader<R>, sink: Box<dyn Write + Send>) -> io::Result<()> {
    let names = header(rdr)?.unwrap_or_default();
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|n| Field::new(n, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    // the fields as bytes, each column's text checked as UTF-8 once per batch
    // (`try_from_binary`), not field by field
    let mut builders: Vec<BinaryBuilder> = names.iter().map(|_| BinaryBuilder::new()).collect();
    let mut rows = 0usize;
    let mut pending = 0usize;
    let mut rec = csv::ByteRecord::new();
    // the writer is made at the first batch, whose values decide each column's encoding
    let mut sink = Some(sink);
    let mut writer = None;
    let mut flush = |builders: &mut Vec<BinaryBuilder>,
                     w: &mut Option<parquet::arrow::ArrowWriter<Box<dyn Write + Send>>>|
     -> io::Result<()> {
        let cols = builders
            .iter_mut()
            .zip(&names)
            .map(|(b, name)| {
                StringArray::try_from_binary(b.finish())
                    .map(|a| Arc::new(a) as ArrayRef)
                    .map_err(|e| other(format!("result column {name:?}: {e}")))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(other)?;
        let w = match w {
            Some(w) => w,
            None => w.insert(
                parquet::arrow::ArrowWriter::try_new(
                    sink.take().expect("the sink is taken once"),
                    schema.clone(),
                    Some(parquet_properties(&batch)),
                )
                .map_err(other)?,
            ),
        };
        w.write(&batch).map_err(other)
    };
    while rdr.read_byte_record(&mut rec).map_err(other)? {
        if rec.len() != names.len() {
            return Err(other(format!(
                "result row {} has {} fields, the header {}",
                rows + 1,
                rec.len(),
                names.len()
            )));
        }
        for (b, v) in builders.iter_mut().zip(rec.iter()) {
            b.append_value(v);
        }
        rows += 1;
        pending += 1;
        // a batch of 8,192 rows, or less when its text nears the 32-bit offsets' bound
        if pending == 8192
            || builders
                .iter()
                .any(|b| b.values_slice().len() > BATCH_BYTES)
        {
            flush(&mut builders, &mut writer)?;
            pending = 0;
        }
    }
    if pending > 0 || rows == 0 {
        flush(&mut builders, &mut writer)?;
    }
    let writer = writer.expect("a batch is always written");
    let mut sink = writer.into_inner().map_err(other)?;
    sink.flush()
}

/// How the Parquet file is written, from its first batch.
///
/// No min/max statistics: every column is text whose values recur in every row group (a
/// status, a group code, an amount), so they would prune nothing, and comparing each value
/// with the page's min and max was a tenth of a Parquet → Parquet run. A dictionary only for
/// the columns whose first batch has at most one distinct value for two rows (a status, a
/// group, a code): for a case id or an amount, nearly one value a row, it is a hash table
/// of every value for nothing (the writer's dictionary look-ups were a tenth of a run).
fn parquet_properties(first: &RecordBatch) -> parquet::file::properties::WriterProperties {
    let mut props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
        .set_max_row_group_row_count(Some(GROUP_ROWS));
    for (field, col) in first.schema().fields().iter().zip(first.columns()) {
        let Some(col) = col.as_any().downcast_ref::<StringArray>() else {
            continue;
        };
        // more distinct values than half the rows of the first batch
        let bound = col.len() / 2;
        let mut distinct = std::collections::HashSet::new();
        let many = col
            .iter()
            .any(|v| distinct.insert(v) && distinct.len() > bound);
        if many {
            props = props.set_column_dictionary_enabled(
                parquet::schema::types::ColumnPath::from(field.name().as_str()),
                false,
            );
        }
    }
    props.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn csv_becomes_json_lines_with_string_values() {
        let out = Shared::default();
        let mut w = TableWriter::new(OutputFormat::Jsonl, Box::new(out.clone()));
        w.write_all(b"case_id,total\nC1,\"1,5\"\nC2,2.00\n")
            .unwrap();
        w.finish().unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "{\"case_id\":\"C1\",\"total\":\"1,5\"}\n{\"case_id\":\"C2\",\"total\":\"2.00\"}\n"
        );
    }

    #[test]
    fn csv_becomes_parquet_that_reads_back() {
        let out = Shared::default();
        let mut w = TableWriter::new(OutputFormat::Parquet, Box::new(out.clone()));
        w.write_all(b"case_id,status,total\n").unwrap();
        for i in 0..10_000 {
            writeln!(w, "C{i},grouped,{i}.50").unwrap();
        }
        w.finish().unwrap();
        let bytes = bytes::Bytes::from(out.0.lock().unwrap().clone());
        let rdr = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap();
        let mut n = 0;
        for b in rdr {
            let b = b.unwrap();
            let ids = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
            let totals = b.column(2).as_any().downcast_ref::<StringArray>().unwrap();
            for i in 0..b.num_rows() {
                assert_eq!(ids.value(i), format!("C{}", n + i));
                assert_eq!(totals.value(i), format!("{}.50", n + i));
            }
            n += b.num_rows();
        }
        assert_eq!(n, 10_000);
    }

    #[test]
    fn a_column_of_few_values_has_a_dictionary_one_of_many_has_none() {
        use parquet::file::reader::FileReader;
        let out = Shared::default();
        let mut w = TableWriter::new(OutputFormat::Parquet, Box::new(out.clone()));
        w.write_all(b"case_id,status,total\n").unwrap();
        for i in 0..10_000 {
            let status = ["grouped", "invalid", "ungroupable"][i % 3];
            writeln!(w, "C{i},{status},{i}.50").unwrap();
        }
        w.finish().unwrap();
        let bytes = bytes::Bytes::from(out.0.lock().unwrap().clone());
        let file = parquet::file::serialized_reader::SerializedFileReader::new(bytes).unwrap();
        let group = file.metadata().row_group(0);
        let dictionary = |i: usize| group.column(i).dictionary_page_offset().is_some();
        assert!(!dictionary(0), "case_id");
        assert!(dictionary(1), "status");
        assert!(!dictionary(2), "total");
    }
}
