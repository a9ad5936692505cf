//! Reading a case file into raw rows.
//!
//! By default a record is one physical line (LF or CRLF), so that one stray quote can never
//! swallow the rest of the file: within the line, RFC 4180 quoting (`"a,b"`, `""` for a quote
//! inside quotes); a quoted field still open at the end of the line makes that row, and only
//! it, invalid (`unbalanced quote in field …`), and reading goes on at the next line. Lines
//! are split with `memchr`, and only a line that holds a `"` goes through the quote analysis.
//!
//! A file declared to have quoted line breaks (`--multiline`) is read with the csv crate
//! instead: a quoted field may then span lines, and a stray quote runs to the next quote.

use std::io::{Cursor, Read};
use std::sync::Arc;

use memchr::memchr;

use crate::batch::{BatchError, RowIn};
use crate::formats::{InputFormat, JsonLines, TableRows};
use crate::mapping::{BoundMapping, Mapping};
use crate::record::{Columns, ReadOptions};

/// Bytes read from the input at a time (the buffer grows for a longer line).
const BUF_BYTES: usize = 1 << 20;

/// The input with the bytes read to tell its format put back in front.
type Src<R> = std::io::Chain<Cursor<Vec<u8>>, R>;

/// How a case file is read: its format (`None`: told by its first bytes, see
/// [`InputFormat::sniff`]), whether a CSV record may span lines, and the column mapping.
#[derive(Debug, Clone, Default)]
pub struct InputSpec {
    pub format: Option<InputFormat>,
    pub multiline: bool,
    pub mapping: Option<Arc<Mapping>>,
}

/// A reader of the rows of a case file: the header first ([`CaseReader::columns`] or
/// [`CaseReader::header`]), then [`CaseReader::next_row`] until `None`. Blank lines are no
/// row; line numbers are physical lines (the header is line 1) for CSV; for the other
/// formats see [`crate::formats`].
pub struct CaseReader<R: Read> {
    src: Source<R>,
    mapping: Option<Arc<Mapping>>,
    bound: Option<BoundMapping>,
    /// The raw row a mapping reads from (reused).
    scratch: RowIn,
}

enum Source<R: Read> {
    Lines(Lines<Src<R>>),
    Csv(Box<csv::Reader<Src<R>>>),
    Json(Box<JsonLines<Src<R>>>),
    Table(Box<dyn TableRows>),
}

impl<R: Read> CaseReader<R> {
    /// A reader of the CSV `input`: one record per line, or, with `multiline`, records as
    /// the csv crate reads them (quoted line breaks allowed).
    pub fn new(input: R, multiline: bool) -> CaseReader<R> {
        CaseReader::csv(Cursor::new(Vec::new()).chain(input), multiline, None)
    }

    fn csv(input: Src<R>, multiline: bool, mapping: Option<Arc<Mapping>>) -> CaseReader<R> {
        let src = if multiline {
            Source::Csv(Box::new(
                csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(false)
                    .from_reader(input),
            ))
        } else {
            Source::Lines(Lines::new(input))
        };
        CaseReader {
            src,
            mapping,
            bound: None,
            scratch: RowIn::from_fields(0, []),
        }
    }

    /// A reader of `input` as `spec` says (the format told by the first bytes when the spec
    /// names none).
    pub fn open(mut input: R, spec: &InputSpec) -> Result<CaseReader<R>, BatchError> {
        let mut head = Vec::new();
        let format = match spec.format {
            Some(f) => f,
            None => {
                let mut buf = [0u8; 8];
                let mut n = 0;
                while n < buf.len() {
                    match input.read(&mut buf[n..]) {
                        Ok(0) => break,
                        Ok(k) => n += k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(read_error(e)),
                    }
                }
                head.extend_from_slice(&buf[..n]);
                InputFormat::sniff(&head)
            }
        };
        let input = Cursor::new(head).chain(input);
        let mapping = spec.mapping.clone();
        Ok(match format {
            InputFormat::Csv => CaseReader::csv(input, spec.multiline, mapping),
            InputFormat::Jsonl => CaseReader {
                src: Source::Json(Box::new(JsonLines::new(Lines::new(input)))),
                mapping,
                bound: None,
                scratch: RowIn::from_fields(0, []),
            },
            other => CaseReader {
                src: Source::Table(crate::formats::open_table(other, input)?),
                mapping,
                bound: None,
                scratch: RowIn::from_fields(0, []),
            },
        })
    }

    /// The header's fields (the first non-blank line; a UTF-8 byte-order mark removed), in
    /// drgdip's names when a mapping applies; `None` for an empty input.
    pub fn header(&mut self) -> Result<Option<csv::ByteRecord>, BatchError> {
        let names: Vec<String> = match &mut self.src {
            Source::Json(j) => match j.header()? {
                Some(n) => n,
                None => return Ok(None),
            },
            Source::Table(t) => match t.header()? {
                Some(n) => n,
                None => return Ok(None),
            },
            Source::Lines(_) | Source::Csv(_) => {
                let Some(rec) = self.csv_header()? else {
                    return Ok(None);
                };
                if self.mapping.is_none() {
                    return Ok(Some(rec));
                }
                rec.iter()
                    .map(|f| std::str::from_utf8(f).map(str::to_string))
                    .collect::<Result<_, _>>()
                    .map_err(|_| BatchError::HeaderNotUtf8)?
            }
        };
        let names = match &self.mapping {
            Some(m) => {
                let bound = m.bind(&names)?;
                let names = bound.names.clone();
                self.bound = Some(bound);
                names
            }
            None => names,
        };
        Ok(Some(names.iter().map(String::as_bytes).collect()))
    }

    fn csv_header(&mut self) -> Result<Option<csv::ByteRecord>, BatchError> {
        let mut row = RowIn::from_fields(0, []);
        if !self.next_raw_into(&mut row)? {
            return Ok(None);
        }
        if let Some(i) = row.open_quote {
            return Err(BatchError::HeaderQuote(i + 1));
        }
        let mut rec = row.record;
        if rec.get(0).is_some_and(|f| f.starts_with(b"\xef\xbb\xbf")) {
            let fields: Vec<Vec<u8>> = rec
                .iter()
                .enumerate()
                .map(|(i, f)| if i == 0 { f[3..].to_vec() } else { f.to_vec() })
                .collect();
            rec = csv::ByteRecord::from(fields);
        }
        Ok(Some(rec))
    }

    /// Reads the header and maps it for `options` (the required columns of its purpose).
    pub fn columns(&mut self, options: ReadOptions) -> Result<Columns, BatchError> {
        let head = self.header()?.ok_or(BatchError::NoHeader)?;
        let names: Vec<&str> = head
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<_, _>>()
            .map_err(|_| BatchError::HeaderNotUtf8)?;
        Ok(Columns::from_header_for(names.iter().copied(), options)?)
    }

    /// The next row (blank lines skipped), `None` at the end of the input; in drgdip's
    /// layout when a mapping applies.
    pub fn next_row(&mut self) -> Result<Option<RowIn>, BatchError> {
        let mut row = RowIn::from_fields(0, []);
        Ok(self.next_row_into(&mut row)?.then_some(row))
    }

    /// [`CaseReader::next_row`] into a row already allocated (its buffers are reused: the
    /// batch runner recycles its chunks, so that reading allocates nothing per row). Returns
    /// `false` at the end of the input, `row` then unspecified.
    pub fn next_row_into(&mut self, row: &mut RowIn) -> Result<bool, BatchError> {
        row.duplicate_of = None;
        row.source_width = None;
        if self.bound.is_none() {
            return self.next_raw_into(row);
        }
        let mut raw = std::mem::take(&mut self.scratch);
        let more = self.next_raw_into(&mut raw);
        let result = match more {
            Ok(true) => {
                if let Some(bound) = &self.bound {
                    bound.apply(&raw.record, &mut row.record);
                    row.source_width = (raw.record.len() != bound.source_width)
                        .then_some((raw.record.len(), bound.source_width));
                    row.open_quote = raw.open_quote.map(|k| bound.mapped_at_or_after(k));
                }
                row.line = raw.line;
                Ok(true)
            }
            other => other,
        };
        self.scratch = raw;
        result
    }

    fn next_raw_into(&mut self, row: &mut RowIn) -> Result<bool, BatchError> {
        row.open_quote = None;
        match &mut self.src {
            Source::Json(j) => j.next_row_into(&mut row.record).map(|l| match l {
                Some(line) => {
                    row.line = line;
                    true
                }
                None => false,
            }),
            Source::Table(t) => t.next_row_into(&mut row.record).map(|l| match l {
                Some(line) => {
                    row.line = line;
                    true
                }
                None => false,
            }),
            Source::Lines(lines) => loop {
                let Some((line, text)) = lines.next_line().map_err(read_error)? else {
                    return Ok(false);
                };
                if text.trim_ascii().is_empty() {
                    continue;
                }
                row.line = line;
                row.open_quote = split_line(text, &mut row.record);
                return Ok(true);
            },
            Source::Csv(rdr) => loop {
                if !rdr
                    .read_byte_record(&mut row.record)
                    .map_err(|e| BatchError::Read(e.to_string()))?
                {
                    return Ok(false);
                }
                if row.record.len() == 1 && row.record[0].trim_ascii().is_empty() {
                    continue;
                }
                row.line = row.record.position().map_or(0, |p| p.line());
                return Ok(true);
            },
        }
    }
}

fn read_error(e: std::io::Error) -> BatchError {
    BatchError::Read(e.to_string())
}

/// Physical lines of an input, without their terminator (`\n`, or `\r\n`).
pub(crate) struct Lines<R> {
    input: R,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    start: usize,
    /// Bytes of `buf` from `start` already searched for a line end.
    scanned: usize,
    /// End of the bytes read into `buf`.
    end: usize,
    eof: bool,
    /// The number of the last line returned.
    line: u64,
}

impl<R: Read> Lines<R> {
    pub(crate) fn new(input: R) -> Lines<R> {
        Lines {
            input,
            buf: vec![0; BUF_BYTES],
            start: 0,
            scanned: 0,
            end: 0,
            eof: false,
            line: 0,
        }
    }

    pub(crate) fn next_line(&mut self) -> std::io::Result<Option<(u64, &[u8])>> {
        loop {
            if let Some(p) = memchr(b'\n', &self.buf[self.scanned..self.end]) {
                let (s, e) = (self.start, self.scanned + p);
                self.start = e + 1;
                self.scanned = self.start;
                self.line += 1;
                return Ok(Some((self.line, strip_cr(&self.buf[s..e]))));
            }
            self.scanned = self.end;
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let s = self.start;
                self.start = self.end;
                self.line += 1;
                return Ok(Some((self.line, strip_cr(&self.buf[s..self.end]))));
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.scanned -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                let len = self.buf.len() * 2;
                self.buf.resize(len, 0);
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The bytes of `word` equal to `b`, as the high bit of each byte of the result (exact: no
/// borrow runs from one byte into the next).
#[inline]
fn bytes_equal(word: u64, b: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (u64::from(b) * 0x0101_0101_0101_0101);
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Splits a line without quotes at its commas into `record`; `false` (the record then
/// partly filled) when the line has a quote. One pass, eight bytes at a time: the fields
/// are a few bytes each, too short for a vectorised search to pay for itself on every comma.
fn split_unquoted(line: &[u8], record: &mut csv::ByteRecord) -> bool {
    record.clear();
    let mut s = 0;
    let mut words = line.chunks_exact(8);
    let mut base = 0;
    for w in &mut words {
        let word = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        if bytes_equal(word, b'"') != 0 {
            return false;
        }
        let mut commas = bytes_equal(word, b',');
        while commas != 0 {
            let c = base + (commas.trailing_zeros() / 8) as usize;
            record.push_field(&line[s..c]);
            s = c + 1;
            commas &= commas - 1;
        }
        base += 8;
    }
    for (k, &b) in words.remainder().iter().enumerate() {
        if b == b',' {
            record.push_field(&line[s..base + k]);
            s = base + k + 1;
        } else if b == b'"' {
            return false;
        }
    }
    record.push_field(&line[s..]);
    true
}

/// Splits one line into `record`'s fields (RFC 4180 quoting, as the csv crate reads it: a
/// quote opens a quoted field only at the start of the field, `""` inside is one quote, the
/// bytes after the closing quote up to the next comma are kept). Returns the index of a
/// field whose quote is still open at the end of the line: the fields from it on are then
/// the rest of the line split at every comma, quotes kept.
pub(crate) fn split_line(line: &[u8], record: &mut csv::ByteRecord) -> Option<usize> {
    if split_unquoted(line, record) {
        return None;
    }
    record.clear();
    let mut field = Vec::new();
    let mut i = 0;
    loop {
        if line.get(i) != Some(&b'"') {
            match memchr(b',', &line[i..]) {
                Some(c) => {
                    record.push_field(&line[i..i + c]);
                    i += c + 1;
                }
                None => {
                    record.push_field(&line[i..]);
                    return None;
                }
            }
            continue;
        }
        // a quoted field
        field.clear();
        let mut j = i + 1;
        loop {
            let Some(q) = memchr(b'"', &line[j..]).map(|q| j + q) else {
                let open = record.len();
                for piece in line[i..].split(|&b| b == b',') {
                    record.push_field(piece);
                }
                return Some(open);
            };
            field.extend_from_slice(&line[j..q]);
            if line.get(q + 1) == Some(&b'"') {
                field.push(b'"');
                j = q + 2;
                continue;
            }
            let rest = &line[q + 1..];
            match memchr(b',', rest) {
                Some(c) => {
                    field.extend_from_slice(&rest[..c]);
                    record.push_field(&field);
                    i = q + 1 + c + 1;
                    break;
                }
                None => {
                    field.extend_from_slice(rest);
                    record.push_field(&field);
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> (Vec<String>, Option<usize>) {
        let mut r = csv::ByteRecord::new();
        let open = split_line(line.as_bytes(), &mut r);
        (
            r.iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
            open,
        )
    }

    /// The csv crate's reading of one line without line breaks in it.
    fn csv_crate(line: &str) -> Vec<String> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line.as_bytes());
        let mut rec = csv::ByteRecord::new();
        assert!(rdr.read_byte_record(&mut rec).unwrap());
        rec.iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    }

    #[test]
    fn quoting_within_a_line_is_rfc_4180() {
        for (line, fields) in [
            ("a,b,c", vec!["a", "b", "c"]),
            ("a,,", vec!["a", "", ""]),
            ("\"a,b\",c", vec!["a,b", "c"]),
            ("x,\"say \"\"hi\"\"\",y", vec!["x", "say \"hi\"", "y"]),
            ("\"\",z", vec!["", "z"]),
            ("ab\"cd,e", vec!["ab\"cd", "e"]),
            ("\"ab\"cd,e", vec!["abcd", "e"]),
            ("a,\"K86.102|I10\"", vec!["a", "K86.102|I10"]),
        ] {
            let fields: Vec<String> = fields.into_iter().map(String::from).collect();
            assert_eq!(split(line), (fields.clone(), None), "{line}");
            assert_eq!(split(""), (vec![String::new()], None));
            assert_eq!(csv_crate(line), fields, "{line}: as the csv crate reads it");
        }
    }

    proptest::proptest! {
        /// Any line of commas, quotes and other bytes splits as the csv crate reads it (a
        /// line without quotes: at every comma), whatever the word boundaries fall on.
        #[test]
        fn lines_split_as_the_csv_crate_reads_them(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'a', b',', b'"', b' ', 0xc3, 0xa9, b'7']), 0..70)
        ) {
            let line = String::from_utf8_lossy(&bytes).into_owned();
            let (fields, open) = split(&line);
            if !line.contains('"') {
                proptest::prop_assert_eq!(open, None);
                let want: Vec<String> = line.split(',').map(String::from).collect();
                proptest::prop_assert_eq!(&fields, &want);
            }
            // (the csv crate reads no record in an empty line)
            if open.is_none() && !line.is_empty() {
                proptest::prop_assert_eq!(fields, csv_crate(&line));
            }
        }
    }

    #[test]
    fn a_quote_left_open_names_its_field_and_keeps_the_rest_split() {
        assert_eq!(
            split("C1,2,\"K86.102,x,y"),
            (
                vec!["C1", "2", "\"K86.102", "x", "y"]
                    .into_iter()
                    .map(String::from)
                    .collect(),
                Some(2)
            )
        );
        assert_eq!(split("\"a\"\",b").1, Some(0));
        assert_eq!(split("a,\"").1, Some(1));
    }

    fn rows(input: &str, multiline: bool) -> Vec<(u64, Vec<String>, Option<usize>)> {
        let mut r = CaseReader::new(input.as_bytes(), multiline);
        let head = r.header().unwrap().unwrap();
        assert_eq!(&head[0], b"h1");
        let mut v = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            v.push((
                row.line,
                row.record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
                row.open_quote,
            ));
        }
        v
    }

    #[test]
    fn one_record_per_line_blank_lines_skipped_crlf_and_a_last_line_without_end() {
        let got = rows(
            "\u{feff}h1,h2\r\na,b\r\n\r\n  \n\"c,\nd,e\nf,\"g\nh,i",
            false,
        );
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (2, s(&["a", "b"]), None),
                (5, s(&["\"c", ""]), Some(0)),
                (6, s(&["d", "e"]), None),
                (7, s(&["f", "\"g"]), Some(1)),
                (8, s(&["h", "i"]), None),
            ]
        );
    }

    #[test]
    fn multiline_keeps_quoted_line_breaks() {
        let got = rows("h1,h2\na,\"b\nc\"\nd,e\n", true);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1[1], "b\nc");
        assert_eq!((got[1].0, got[1].1[0].as_str()), (4, "d"));
    }

    #[test]
    fn a_line_longer_than_the_buffer_is_read_whole() {
        let long = "x".repeat(BUF_BYTES * 2 + 17);
        let input = format!("h1\n{long}\nshort\n");
        let got = rows(&input, false);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1[0].len(), long.len());
        assert_eq!((got[1].0, got[1].1[0].as_str()), (3, "short"));
    }

    proptest::proptest! {
        /// Without a quote that stays open, a line reads as the csv crate reads it.
        #[test]
        fn a_balanced_line_reads_as_the_csv_crate_reads_it(line in "[a-c\",]{0,24}") {
            let (fields, open) = split(&line);
            if open.is_none() && !line.is_empty() {
                proptest::prop_assert_eq!(fields, csv_crate(&line));
            }
        }
    }
}
