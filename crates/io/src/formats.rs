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
//! Parquet is read row group by row group and Arrow IPC batch by batch, as the CSV is read
//! chunk by chunk: the input is first copied, into memory when it holds at most 4 MiB, else
//! into an unnamed temporary file (Parquet and the Arrow IPC file format need to seek, and
//! the reader owns its copy). Memory is then one row group or batch,
//! whatever the file's size. JSON lines stream. An `.xlsx` workbook is read whole (its sheet
//! is held in memory: Excel's own limit is 1,048,576 rows; see docs/performance.md).
//!
//! [`text_column`] is the one function that turns an Arrow column into text, used here and by
//! the Python package.

use std::io::Read;

use arrow_array::builder::StringBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchReader, StringArray};
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

/// Rows of a file that is not CSV: the header, then the rows.
pub(crate) trait TableRows: Send {
    fn header(&mut self) -> Result<Option<Vec<String>>, BatchError>;
    /// Fills `record` with the next row's fields; its line, or `None` at the end.
    fn next_row_into(&mut self, record: &mut csv::ByteRecord) -> Result<Option<u64>, BatchError>;
}

/// Inputs up to this size are held in memory; a larger one is copied to a temporary file.
const SPOOL_BYTES: usize = 4 << 20;

/// A seekable copy of an input: in memory when small, else an unnamed temporary file.
enum Spool {
    Memory(bytes::Bytes),
    File(std::fs::File),
}

fn spool(mut input: impl Read) -> Result<Spool, BatchError> {
    let err = |e: std::io::Error| BatchError::Read(e.to_string());
    // read in pieces into a buffer of at most SPOOL_BYTES + 1 (read_to_end would double
    // its capacity past the bound)
    let mut buf = Vec::new();
    let mut piece = vec![0u8; 1 << 20];
    while buf.len() <= SPOOL_BYTES {
        let want = piece.len().min(SPOOL_BYTES + 1 - buf.len());
        match input.read(&mut piece[..want]) {
            Ok(0) => break,
            Ok(n) => {
                if buf.is_empty() && n == want {
                    buf.reserve_exact(SPOOL_BYTES + 1);
                }
                buf.extend_from_slice(&piece[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(err(e)),
        }
    }
    drop(piece);
    if buf.len() <= SPOOL_BYTES {
        return Ok(Spool::Memory(bytes::Bytes::from(buf)));
    }
    let mut file = tempfile::tempfile().map_err(err)?;
    std::io::Write::write_all(&mut file, &buf).map_err(err)?;
    drop(buf);
    std::io::copy(&mut input, &mut file).map_err(err)?;
    std::io::Seek::rewind(&mut file).map_err(err)?;
    Ok(Spool::File(file))
}

/// Rows per record batch read from Parquet.
const BATCH_ROWS: usize = 8192;

fn parquet_batches<T: parquet::file::reader::ChunkReader + 'static>(
    input: T,
) -> Result<Box<dyn TableRows>, BatchError> {
    let rdr = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(input)
        .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
        .map_err(|e| BatchError::Read(format!("Parquet: {e}")))?;
    let schema = rdr.schema();
    Ok(Box::new(Batches::new(
        schema,
        Box::new(rdr.map(|b| b.map_err(|e| e.to_string()))),
    )))
}

fn ipc_file_batches<T: Read + std::io::Seek + Send + 'static>(
    input: T,
) -> Result<Box<dyn TableRows>, BatchError> {
    let rdr = arrow_ipc::reader::FileReader::try_new(input, None)
        .map_err(|e| BatchError::Read(format!("Arrow IPC: {e}")))?;
    let schema = rdr.schema();
    Ok(Box::new(Batches::new(
        schema,
        Box::new(rdr.map(|b| b.map_err(|e| e.to_string()))),
    )))
}

fn read_all(mut input: impl Read) -> Result<Vec<u8>, BatchError> {
    let mut buf = Vec::new();
    input
        .read_to_end(&mut buf)
        .map_err(|e| BatchError::Read(e.to_string()))?;
    Ok(buf)
}

fn ipc_stream_batches<T: Read + Send + 'static>(
    input: T,
) -> Result<Box<dyn TableRows>, BatchError> {
    let rdr = arrow_ipc::reader::StreamReader::try_new(input, None)
        .map_err(|e| BatchError::Read(format!("Arrow IPC: {e}")))?;
    let schema = rdr.schema();
    Ok(Box::new(Batches::new(
        schema,
        Box::new(rdr.map(|b| b.map_err(|e| e.to_string()))),
    )))
}

/// The rows of a table format (Parquet, Arrow, xlsx).
pub(crate) fn open_table(
    format: InputFormat,
    input: impl Read,
) -> Result<Box<dyn TableRows>, BatchError> {
    match format {
        InputFormat::Parquet => match spool(input)? {
            Spool::Memory(b) => parquet_batches(b),
            Spool::File(f) => parquet_batches(f),
        },
        InputFormat::Arrow => {
            let spooled = spool(input)?;
            let file_format = match &spooled {
                Spool::Memory(b) => b.starts_with(b"ARROW1"),
                Spool::File(f) => {
                    let mut magic = [0u8; 6];
                    let mut f = f;
                    let n = std::io::Read::read(&mut f, &mut magic)
                        .map_err(|e| BatchError::Read(e.to_string()))?;
                    std::io::Seek::rewind(&mut f).map_err(|e| BatchError::Read(e.to_string()))?;
                    magic[..n] == *b"ARROW1"
                }
            };
            match (spooled, file_format) {
                (Spool::Memory(b), true) => ipc_file_batches(std::io::Cursor::new(b)),
                (Spool::Memory(b), false) => ipc_stream_batches(std::io::Cursor::new(b)),
                (Spool::File(f), true) => ipc_file_batches(std::io::BufReader::new(f)),
                (Spool::File(f), false) => {
                    ipc_stream_batches(std::io::BufReader::with_capacity(1 << 20, f))
                }
            }
        }
        InputFormat::Xlsx => Ok(Box::new(Sheet::open(read_all(input)?)?)),
        InputFormat::Csv | InputFormat::Jsonl => {
            Err(BatchError::Read("internal: not a table format".into()))
        }
    }
}

type BatchIter = Box<dyn Iterator<Item = Result<RecordBatch, String>> + Send>;

/// Rows of Arrow record batches (Parquet, Arrow IPC): each batch's columns turned into text
/// once ([`text_column`]), the rows then read off them.
struct Batches {
    schema: arrow_schema::SchemaRef,
    iter: BatchIter,
    /// The current batch's columns as text.
    text: Vec<StringArray>,
    /// Rows in the current batch.
    len: usize,
    /// The next row in the current batch.
    at: usize,
    /// Rows returned so far.
    rows: u64,
}

impl Batches {
    fn new(schema: arrow_schema::SchemaRef, iter: BatchIter) -> Batches {
        Batches {
            schema,
            iter,
            text: Vec::new(),
            len: 0,
            at: 0,
            rows: 0,
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

    fn next_row_into(&mut self, record: &mut csv::ByteRecord) -> Result<Option<u64>, BatchError> {
        while self.at == self.len {
            match self.iter.next() {
                None => return Ok(None),
                Some(Err(e)) => return Err(BatchError::Read(e)),
                Some(Ok(b)) => {
                    self.text = b
                        .columns()
                        .iter()
                        .zip(self.schema.fields())
                        .map(|(c, f)| {
                            text_column(c).map_err(|e| {
                                BatchError::Read(format!("column {:?}: {e}", f.name()))
                            })
                        })
                        .collect::<Result<_, _>>()?;
                    self.len = b.num_rows();
                    self.at = 0;
                }
            }
        }
        record.clear();
        for col in &self.text {
            record.push_field(if col.is_null(self.at) {
                b""
            } else {
                col.value(self.at).as_bytes()
            });
        }
        self.at += 1;
        self.rows += 1;
        Ok(Some(self.rows))
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

/// `v` in `width` digits, zeros in front (`v < 10^width`).
fn push_padded(v: impl itoa::Integer, width: usize, out: &mut Vec<u8>) {
    let mut f = itoa::Buffer::new();
    let digits = f.format(v).as_bytes();
    out.extend(std::iter::repeat_n(
        b'0',
        width.saturating_sub(digits.len()),
    ));
    out.extend_from_slice(digits);
}

fn push_datetime(secs: i64, out: &mut Vec<u8>) {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        push_padded(y as u64, 4, out);
    } else {
        // a year of more than four digits, or before year 0 (as `{:04}` writes it)
        use std::io::Write;
        let _ = write!(out, "{y:04}");
    }
    out.push(b'-');
    push_padded(u64::from(m), 2, out);
    out.push(b'-');
    push_padded(u64::from(d), 2, out);
    if rest != 0 {
        let rest = rest as u64;
        out.push(b' ');
        push_padded(rest / 3600, 2, out);
        out.push(b':');
        push_padded(rest / 60 % 60, 2, out);
        out.push(b':');
        push_padded(rest % 60, 2, out);
    }
}

fn push_decimal(v: i128, scale: i8, out: &mut Vec<u8>) {
    let mut f = itoa::Buffer::new();
    if scale <= 0 {
        // the digits, then one zero per place of the negative scale
        out.extend_from_slice(f.format(v).as_bytes());
        if v != 0 {
            out.extend(std::iter::repeat_n(b'0', usize::from(scale.unsigned_abs())));
        }
        return;
    }
    if v < 0 {
        out.push(b'-');
    }
    let a = v.unsigned_abs();
    let scale = scale as u32;
    // the costs of a case file fit in 64 bits: divide there (u128 division is slow)
    if let (Ok(a), true) = (u64::try_from(a), scale <= 19) {
        let p = 10u64.pow(scale);
        out.extend_from_slice(f.format(a / p).as_bytes());
        out.push(b'.');
        push_padded(a % p, scale as usize, out);
        return;
    }
    let p = 10u128.pow(scale);
    out.extend_from_slice(f.format(a / p).as_bytes());
    out.push(b'.');
    push_padded(a % p, scale as usize, out);
}

/// An Arrow column as text, as drgdip reads it (see the module's doc): strings as they are,
/// integers and decimals in plain notation, floating point in its shortest exact form,
/// booleans `1`/`0`, dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS` (midnight: the date
/// alone), lists of strings joined with `|`; a null stays null. A `Utf8` column is returned
/// as it is (no copy). The one Arrow → text conversion of drgdip (the CLI's readers and the
/// Python package). A column of another type is refused (its type named).
pub fn text_column(col: &ArrayRef) -> Result<StringArray, String> {
    if !readable(col.data_type()) {
        return Err(format!(
            "the type {}, which drgdip does not read (strings, integers, decimals, floating \
             point, booleans, dates, timestamps, lists of strings)",
            col.data_type()
        ));
    }
    match col.data_type() {
        DataType::Utf8 => return Ok(col.as_string::<i32>().clone()),
        DataType::Dictionary(_, _) => {
            let dict = col.as_any_dictionary();
            let values = text_column(dict.values())?;
            let keys = dict.normalized_keys();
            let mut b = StringBuilder::with_capacity(col.len(), col.len() * 8);
            for (i, &k) in keys.iter().enumerate() {
                if col.is_null(i) || values.is_null(k) {
                    b.append_null();
                } else {
                    b.append_value(values.value(k));
                }
            }
            return Ok(b.finish());
        }
        _ => {}
    }
    let mut b = StringBuilder::with_capacity(col.len(), col.len() * 8);
    let mut cellbuf = Vec::new();
    macro_rules! ints {
        ($t:ty) => {{
            let a = col.as_primitive::<$t>();
            let mut f = itoa::Buffer::new();
            for i in 0..a.len() {
                if a.is_null(i) {
                    b.append_null();
                } else {
                    b.append_value(f.format(a.value(i)));
                }
            }
        }};
    }
    match col.data_type() {
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        // the two typed columns of every case file (costs, the discharge date) without the
        // per-cell dispatch of `cell`
        DataType::Decimal128(_, scale) => {
            append_each(col.as_primitive::<Decimal128Type>(), &mut b, |v, out| {
                push_decimal(v, *scale, out)
            })
        }
        DataType::Date32 => append_each(col.as_primitive::<Date32Type>(), &mut b, |v, out| {
            push_datetime(i64::from(v) * 86_400, out)
        }),
        _ => {
            for i in 0..col.len() {
                if col.is_null(i) {
                    b.append_null();
                    continue;
                }
                cellbuf.clear();
                cell(col, i, &mut cellbuf);
                b.append_value(written_text(&cellbuf));
            }
        }
    }
    Ok(b.finish())
}

/// Appends the text `write` makes of each value of `a` to `b` (a null stays null).
fn append_each<T: ArrowPrimitiveType>(
    a: &arrow_array::PrimitiveArray<T>,
    b: &mut StringBuilder,
    mut write: impl FnMut(T::Native, &mut Vec<u8>),
) {
    let mut buf = Vec::new();
    for i in 0..a.len() {
        if a.is_null(i) {
            b.append_null();
        } else {
            buf.clear();
            write(a.value(i), &mut buf);
            b.append_value(written_text(&buf));
        }
    }
}

/// The text [`cell`] or a `push_*` function wrote, as `&str`: it is UTF-8 (the strings of
/// string arrays, ASCII else), borrowed without a copy; anything else would be replaced.
fn written_text(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => s.into(),
        Err(_) => String::from_utf8_lossy(b),
    }
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
            // (text_column reads a dictionary column whole, without coming here)
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

    fn next_row_into(&mut self, record: &mut csv::ByteRecord) -> Result<Option<u64>, BatchError> {
        Ok(self.next_nonblank().map(|(line, row)| {
            record.clear();
            for c in &row {
                record.push_field(c.as_bytes());
            }
            line
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
    first: Option<(u64, csv::ByteRecord)>,
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

    fn row(&self, m: serde_json::Map<String, serde_json::Value>) -> csv::ByteRecord {
        let mut fields: Vec<Vec<u8>> = vec![Vec::new(); self.names.len()];
        for (k, v) in m {
            let mut text = Vec::new();
            json_text(&v, &mut text);
            match self.pos.get(&k) {
                Some(&i) => fields[i] = text,
                None => fields.push(text),
            }
        }
        fields.into_iter().collect()
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
        self.first = Some((line, self.row(m)));
        Ok(Some(self.names.clone()))
    }

    pub(crate) fn next_row_into(
        &mut self,
        record: &mut csv::ByteRecord,
    ) -> Result<Option<u64>, BatchError> {
        if let Some((line, r)) = self.first.take() {
            *record = r;
            return Ok(Some(line));
        }
        match self.object()? {
            None => Ok(None),
            Some((line, m)) => {
                *record = self.row(m);
                Ok(Some(line))
            }
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

    proptest::proptest! {
        /// The hand-made decimal and date texts are those of `format!`.
        #[test]
        fn decimal_and_date_texts_are_the_formatted_ones(
            v in proptest::prelude::any::<i128>(),
            small in -10_000_000_000i64..10_000_000_000,
            scale in -5i8..=38,
            secs in -80_000_000_000i64..300_000_000_000,
        ) {
            for v in [v, i128::from(small)] {
                let mut b = Vec::new();
                push_decimal(v, scale, &mut b);
                let want = if scale <= 0 {
                    let s = v.to_string();
                    if v == 0 { s } else { s + &"0".repeat(usize::from(scale.unsigned_abs())) }
                } else {
                    let p = 10u128.pow(scale as u32);
                    let a = v.unsigned_abs();
                    format!("{}{}.{:0w$}", if v < 0 { "-" } else { "" }, a / p, a % p, w = scale as usize)
                };
                proptest::prop_assert_eq!(String::from_utf8(b).unwrap(), want);
            }
            let mut b = Vec::new();
            push_datetime(secs, &mut b);
            let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            let mut want = format!("{y:04}-{m:02}-{d:02}");
            if rest != 0 {
                want += &format!(" {:02}:{:02}:{:02}", rest / 3600, rest / 60 % 60, rest % 60);
            }
            proptest::prop_assert_eq!(String::from_utf8(b).unwrap(), want);
        }
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
