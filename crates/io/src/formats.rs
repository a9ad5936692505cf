//! Case files in other formats than CSV: JSON lines, Parquet, Arrow IPC and Excel `.xlsx`.
//!
//! Each is read into the same raw rows as a CSV file (every value as text), so that the same
//! validation, the same errors file and the same row accounting apply. What a row's `line`
//! is: JSON lines, the physical line; `.xlsx`, the sheet's row number (the header's row
//! counts); Parquet and Arrow, the row's number in the file, the first row being 1.
//!
//! Values as text: strings as they are; integers and decimals in plain decimal notation;
//! floating-point numbers in their shortest exact form (`7293.75`); booleans `1`/`0`; dates
//! `YYYY-MM-DD`; timestamps `YYYY-MM-DD HH:MM:SS` (as stored, no time zone applied; midnight
//! gives the date alone); a list of strings joined with `|`; null or empty cells as empty.
//! Parquet and Arrow IPC are read whole into memory (they are compressed and columnar);
//! JSON lines stream.

use std::io::Read;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader};
use arrow_schema::{DataType, TimeUnit};

use crate::batch::BatchError;

/// The format of a case file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    #[default]
    Csv,
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    Jsonl,
    Parquet,
    /// Arrow IPC, file (`.arrow`, `.feather`) or stream (`.arrows`).
    Arrow,
    /// An Excel workbook (`.xlsx`): its first sheet, the header in its first non-empty row.
    Xlsx,
}

impl InputFormat {
    /// The names `--input-format` takes.
    pub const NAMES: &'static [&'static str] = &["csv", "jsonl", "parquet", "arrow", "xlsx"];

    pub fn parse(s: &str) -> Option<InputFormat> {
        Some(match s.to_ascii_lowercase().as_str() {
            "csv" | "txt" => InputFormat::Csv,
            "jsonl" | "ndjson" | "json" => InputFormat::Jsonl,
            "parquet" | "parq" | "pq" => InputFormat::Parquet,
            "arrow" | "arrows" | "ipc" | "feather" => InputFormat::Arrow,
            "xlsx" | "xlsm" => InputFormat::Xlsx,
            _ => return None,
        })
    }

    /// The format a file name's extension says, if it says one.
    pub fn from_path(path: &std::path::Path) -> Option<InputFormat> {
        InputFormat::parse(path.extension()?.to_str()?)
    }

    /// The format the first bytes of an input show: the magic numbers of Parquet (`PAR1`),
    /// Arrow IPC (`ARROW1`, or a stream's `0xFFFFFFFF`), a zip archive (`.xlsx`), a `{`
    /// (JSON lines); anything else is CSV.
    pub fn sniff(head: &[u8]) -> InputFormat {
        if head.starts_with(b"PAR1") {
            InputFormat::Parquet
        } else if head.starts_with(b"ARROW1") || head.starts_with(&[0xff, 0xff, 0xff, 0xff]) {
            InputFormat::Arrow
        } else if head.starts_with(b"PK\x03\x04") {
            InputFormat::Xlsx
        } else if head
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'{')
        {
            InputFormat::Jsonl
        } else {
            InputFormat::Csv
        }
    }
}

/// One raw row of a table source.
pub(crate) struct TableRow {
    pub line: u64,
    pub record: csv::ByteRecord,
}

/// Rows of a file that is not CSV: the header, then the rows.
pub(crate) trait TableRows: Send {
    fn header(&mut self) -> Result<Option<Vec<String>>, BatchError>;
    fn next_row(&mut self) -> Result<Option<TableRow>, BatchError>;
}

fn read_all(mut input: impl Read) -> Result<Vec<u8>, BatchError> {
    let mut buf = Vec::new();
    input
        .read_to_end(&mut buf)
        .map_err(|e| BatchError::Read(e.to_string()))?;
    Ok(buf)
}

/// The rows of an in-memory format (Parquet, Arrow, xlsx).
pub(crate) fn open_table(
    format: InputFormat,
    input: impl Read,
) -> Result<Box<dyn TableRows>, BatchError> {
    let buf = read_all(input)?;
    match format {
        InputFormat::Parquet => {
            let bytes = bytes::Bytes::from(buf);
            let rdr = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
                .and_then(|b| b.with_batch_size(8192).build())
                .map_err(|e| BatchError::Read(format!("Parquet: {e}")))?;
            let schema = rdr.schema();
            Ok(Box::new(Batches::new(
                schema,
                Box::new(rdr.map(|b| b.map_err(|e| e.to_string()))),
            )))
        }
        InputFormat::Arrow => {
            let cursor = std::io::Cursor::new(buf);
            if cursor.get_ref().starts_with(b"ARROW1") {
                let rdr = arrow_ipc::reader::FileReader::try_new(cursor, None)
                    .map_err(|e| BatchError::Read(format!("Arrow IPC: {e}")))?;
                let schema = rdr.schema();
                Ok(Box::new(Batches::new(
                    schema,
                    Box::new(rdr.map(|b| b.map_err(|e| e.to_string()))),
                )))
            } else {
                let rdr = arrow_ipc::reader::StreamReader::try_new(cursor, None)
                    .map_err(|e| BatchError::Read(format!("Arrow IPC: {e}")))?;
                let schema = rdr.schema();
                Ok(Box::new(Batches::new(
                    schema,
                    Box::new(rdr.map(|b| b.map_err(|e| e.to_string()))),
                )))
            }
        }
        InputFormat::Xlsx => Ok(Box::new(Sheet::open(buf)?)),
        InputFormat::Csv | InputFormat::Jsonl => {
            Err(BatchError::Read("internal: not an in-memory format".into()))
        }
    }
}

type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch, String>> + Send>;

/// Rows of Arrow record batches (Parquet, Arrow IPC).
struct Batches {
    schema: arrow_schema::SchemaRef,
    iter: BatchIter,
    batch: Option<RecordBatch>,
    /// The next row in `batch`.
    at: usize,
    /// Rows returned so far.
    rows: u64,
    cell: Vec<u8>,
}

impl Batches {
    fn new(schema: arrow_schema::SchemaRef, iter: BatchIter) -> Batches {
        Batches {
            schema,
            iter,
            batch: None,
            at: 0,
            rows: 0,
            cell: Vec::new(),
        }
    }
}

impl TableRows for Batches {
    fn header(&mut self) -> Result<Option<Vec<String>>, BatchError> {
        for f in self.schema.fields() {
            if !readable(f.data_type()) {
                return Err(BatchError::Read(format!(
                    "column {:?} has the type {}, which drgdip does not read (strings, \
                     integers, decimals, floating point, booleans, dates, timestamps, lists \
                     of strings)",
                    f.name(),
                    f.data_type()
                )));
            }
        }
        Ok(Some(
            self.schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
        ))
    }

    fn next_row(&mut self) -> Result<Option<TableRow>, BatchError> {
        loop {
            if let Some(b) = &self.batch {
                if self.at < b.num_rows() {
                    let mut record =
                        csv::ByteRecord::with_capacity(b.num_columns() * 8, b.num_columns());
                    for col in b.columns() {
                        self.cell.clear();
                        cell(col, self.at, &mut self.cell);
                        record.push_field(&self.cell);
                    }
                    self.at += 1;
                    self.rows += 1;
                    return Ok(Some(TableRow {
                        line: self.rows,
                        record,
                    }));
                }
            }
            match self.iter.next() {
                None => return Ok(None),
                Some(Err(e)) => return Err(BatchError::Read(e)),
                Some(Ok(b)) => {
                    self.batch = Some(b);
                    self.at = 0;
                }
            }
        }
    }
}

fn readable(t: &DataType) -> bool {
    match t {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(_, _)
        | DataType::Decimal128(_, _) => true,
        DataType::List(f) | DataType::LargeList(f) => {
            matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        }
        DataType::Dictionary(k, v) => {
            matches!(
                **k,
                DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
            ) && readable(v)
                && !matches!(**v, DataType::List(_) | DataType::LargeList(_))
        }
        _ => false,
    }
}

/// Days since 1970-01-01 as a civil date (proleptic Gregorian).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn push_datetime(secs: i64, out: &mut Vec<u8>) {
    use std::io::Write;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let _ = write!(out, "{y:04}-{m:02}-{d:02}");
    if rest != 0 {
        let _ = write!(
            out,
            " {:02}:{:02}:{:02}",
            rest / 3600,
            rest / 60 % 60,
            rest % 60
        );
    }
}

fn push_decimal(v: i128, scale: i8, out: &mut Vec<u8>) {
    use std::io::Write;
    if scale <= 0 {
        let _ = write!(out, "{}", v * 10i128.pow(u32::from(scale.unsigned_abs())));
        return;
    }
    let p = 10i128.pow(scale as u32);
    let sign = if v < 0 { "-" } else { "" };
    let (i, f) = ((v / p).abs(), (v % p).abs());
    let _ = write!(out, "{sign}{i}.{f:0w$}", w = scale as usize);
}

/// The text of row `i` of `col` (see the module's doc); null is empty.
fn cell(col: &ArrayRef, i: usize, out: &mut Vec<u8>) {
    use std::io::Write;
    if col.is_null(i) {
        return;
    }
    macro_rules! num {
        ($t:ty) => {{
            let _ = write!(out, "{}", col.as_primitive::<$t>().value(i));
        }};
    }
    match col.data_type() {
        DataType::Boolean => out.push(if col.as_boolean().value(i) {
            b'1'
        } else {
            b'0'
        }),
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Float32 => num!(Float32Type),
        DataType::Float64 => num!(Float64Type),
        DataType::Utf8 => out.extend_from_slice(col.as_string::<i32>().value(i).as_bytes()),
        DataType::LargeUtf8 => out.extend_from_slice(col.as_string::<i64>().value(i).as_bytes()),
        DataType::Utf8View => out.extend_from_slice(col.as_string_view().value(i).as_bytes()),
        DataType::Date32 => push_datetime(
            i64::from(col.as_primitive::<Date32Type>().value(i)) * 86_400,
            out,
        ),
        DataType::Date64 => push_datetime(
            col.as_primitive::<Date64Type>().value(i).div_euclid(1000),
            out,
        ),
        DataType::Timestamp(unit, _) => {
            let (v, per_sec) = match unit {
                TimeUnit::Second => (col.as_primitive::<TimestampSecondType>().value(i), 1),
                TimeUnit::Millisecond => (
                    col.as_primitive::<TimestampMillisecondType>().value(i),
                    1000,
                ),
                TimeUnit::Microsecond => (
                    col.as_primitive::<TimestampMicrosecondType>().value(i),
                    1_000_000,
                ),
                TimeUnit::Nanosecond => (
                    col.as_primitive::<TimestampNanosecondType>().value(i),
                    1_000_000_000,
                ),
            };
            push_datetime(v.div_euclid(per_sec), out)
        }
        DataType::Decimal128(_, scale) => {
            push_decimal(col.as_primitive::<Decimal128Type>().value(i), *scale, out)
        }
        DataType::List(_) => push_list(&col.as_list::<i32>().value(i), out),
        DataType::LargeList(_) => push_list(&col.as_list::<i64>().value(i), out),
        DataType::Dictionary(_, _) => {
            let dict = col.as_any_dictionary();
            let key = dict.normalized_keys()[i];
            cell(dict.values(), key, out)
        }
        _ => {}
    }
}

fn push_list(items: &ArrayRef, out: &mut Vec<u8>) {
    let mut first = true;
    for j in 0..items.len() {
        if items.is_null(j) {
            continue;
        }
        if !first {
            out.push(b'|');
        }
        first = false;
        cell(items, j, out);
    }
}

/// The first sheet of a workbook.
struct Sheet {
    range: calamine::Range<calamine::Data>,
    /// The next row (an index into the range).
    at: usize,
    /// The sheet row number of the range's first row.
    first_row: u64,
}

impl Sheet {
    fn open(buf: Vec<u8>) -> Result<Sheet, BatchError> {
        use calamine::Reader;
        let err = |e: calamine::XlsxError| BatchError::Read(format!("xlsx: {e}"));
        let mut wb: calamine::Xlsx<_> =
            calamine::Xlsx::new(std::io::Cursor::new(buf)).map_err(err)?;
        let range = wb
            .worksheet_range_at(0)
            .ok_or_else(|| BatchError::Read("xlsx: the workbook has no sheet".into()))?
            .map_err(err)?;
        let first_row = range.start().map_or(1, |(r, _)| u64::from(r) + 1);
        Ok(Sheet {
            range,
            at: 0,
            first_row,
        })
    }

    fn next_nonblank(&mut self) -> Option<(u64, Vec<String>)> {
        let (height, width) = (self.range.height(), self.range.width());
        while self.at < height {
            let i = self.at;
            self.at += 1;
            let row: Vec<String> = (0..width)
                .map(|j| self.range.get((i, j)).map(cell_text).unwrap_or_default())
                .collect();
            if row.iter().any(|c| !c.trim().is_empty()) {
                return Some((self.first_row + i as u64, row));
            }
        }
        None
    }
}

fn excel_serial(v: f64, out: &mut String) {
    // days since 1899-12-30; the fraction is the time of day
    let secs = ((v - 25_569.0) * 86_400.0).round() as i64;
    let mut b = Vec::new();
    push_datetime(secs, &mut b);
    out.push_str(&String::from_utf8_lossy(&b));
}

/// A cell as text (see the module's doc).
fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data as D;
    match c {
        D::Empty => String::new(),
        D::String(s) | D::DateTimeIso(s) | D::DurationIso(s) => s.clone(),
        D::Int(n) => n.to_string(),
        D::Float(f) => f.to_string(),
        D::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        D::DateTime(d) => {
            let mut s = String::new();
            excel_serial(d.as_f64(), &mut s);
            s
        }
        D::Error(e) => format!("#{e}"),
    }
}

impl TableRows for Sheet {
    fn header(&mut self) -> Result<Option<Vec<String>>, BatchError> {
        Ok(self.next_nonblank().map(|(_, row)| row))
    }

    fn next_row(&mut self) -> Result<Option<TableRow>, BatchError> {
        Ok(self.next_nonblank().map(|(line, row)| TableRow {
            line,
            record: row.into_iter().collect(),
        }))
    }
}

type JsonObject = serde_json::Map<String, serde_json::Value>;

/// JSON lines: one object per line; the header is the first object's keys, a later object's
/// keys are placed by name (a missing one is empty, one the first object lacks is an extra
/// field, which makes the row's width wrong).
pub(crate) struct JsonLines<R: Read> {
    lines: crate::reader::Lines<R>,
    names: Vec<String>,
    pos: rustc_hash::FxHashMap<String, usize>,
    /// The first object, read for the header.
    first: Option<TableRow>,
}

fn json_text(v: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value as V;
    match v {
        V::Null => {}
        V::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
        V::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        V::String(s) => out.extend_from_slice(s.as_bytes()),
        V::Array(items) => {
            for (k, x) in items.iter().enumerate() {
                if k > 0 {
                    out.push(b'|');
                }
                json_text(x, out);
            }
        }
        V::Object(_) => out.extend_from_slice(v.to_string().as_bytes()),
    }
}

impl<R: Read> JsonLines<R> {
    pub(crate) fn new(lines: crate::reader::Lines<R>) -> JsonLines<R> {
        JsonLines {
            lines,
            names: Vec::new(),
            pos: Default::default(),
            first: None,
        }
    }

    fn object(&mut self) -> Result<Option<(u64, JsonObject)>, BatchError> {
        loop {
            let Some((line, text)) = self
                .lines
                .next_line()
                .map_err(|e| BatchError::Read(e.to_string()))?
            else {
                return Ok(None);
            };
            if text.trim_ascii().is_empty() {
                continue;
            }
            return match serde_json::from_slice::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(m)) => Ok(Some((line, m))),
                Ok(_) => Err(BatchError::Read(format!(
                    "JSON lines: line {line} is not an object"
                ))),
                Err(e) => Err(BatchError::Read(format!("JSON lines: line {line}: {e}"))),
            };
        }
    }

    fn row(&self, line: u64, m: serde_json::Map<String, serde_json::Value>) -> TableRow {
        let mut fields: Vec<Vec<u8>> = vec![Vec::new(); self.names.len()];
        for (k, v) in m {
            let mut text = Vec::new();
            json_text(&v, &mut text);
            match self.pos.get(&k) {
                Some(&i) => fields[i] = text,
                None => fields.push(text),
            }
        }
        TableRow {
            line,
            record: fields.into_iter().collect(),
        }
    }

    pub(crate) fn header(&mut self) -> Result<Option<Vec<String>>, BatchError> {
        let Some((line, m)) = self.object()? else {
            return Ok(None);
        };
        self.names = m.keys().cloned().collect();
        self.pos = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        self.first = Some(self.row(line, m));
        Ok(Some(self.names.clone()))
    }

    pub(crate) fn next_row(&mut self) -> Result<Option<TableRow>, BatchError> {
        if let Some(r) = self.first.take() {
            return Ok(Some(r));
        }
        match self.object()? {
            None => Ok(None),
            Some((line, m)) => Ok(Some(self.row(line, m))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_161), (2025, 3, 14));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn decimals_and_sniffing() {
        let mut b = Vec::new();
        push_decimal(729_375, 2, &mut b);
        assert_eq!(b, b"7293.75");
        b.clear();
        push_decimal(-5, 2, &mut b);
        assert_eq!(b, b"-0.05");
        assert_eq!(InputFormat::sniff(b"PAR1xx"), InputFormat::Parquet);
        assert_eq!(InputFormat::sniff(b" {\"a\":1}"), InputFormat::Jsonl);
        assert_eq!(InputFormat::sniff(b"case_id,"), InputFormat::Csv);
        assert_eq!(InputFormat::sniff(b"PK\x03\x04"), InputFormat::Xlsx);
        let mut s = String::new();
        excel_serial(45_730.0, &mut s);
        assert_eq!(s, "2025-03-14");
    }
}
