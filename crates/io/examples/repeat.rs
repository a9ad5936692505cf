//! Makes a large case file by repeating the rows of a small one with fresh case ids, for the
//! end-to-end benchmarks: `cargo run --release -p drgdip-io --example repeat -- IN OUT ROWS`.
//!
//! `OUT` ending in `.parquet` (snappy, row groups of 65,536 rows) or `.arrow` (Arrow IPC file,
//! batches of 8,192 rows) writes the cases typed as a data platform holds them: whole numbers
//! as `Int64`, `discharge_date` as `Date32`, the four costs as `Decimal128(14, 2)`, the rest as
//! strings (an empty cell is null). `.xlsx` writes a workbook of strings. Any other name
//! writes CSV.

use std::io::{BufRead, BufWriter, Write};
use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};

const INTS: &[&str] = &[
    "hospital_level",
    "gender",
    "age",
    "age_days",
    "birth_weight",
    "admission_weight",
    "los",
];
const MONEY: &[&str] = &["total_cost", "fund_paid", "drug_cost", "material_cost"];

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output, rows] = args.as_slice() else {
        eprintln!("usage: repeat IN OUT ROWS");
        std::process::exit(2);
    };
    let rows: usize = rows.parse().unwrap_or(1_000_000);
    let text = std::io::BufReader::new(std::fs::File::open(input)?);
    let mut lines = text.lines();
    let header = lines.next().transpose()?.unwrap_or_default();
    let body: Vec<String> = lines.collect::<Result<_, _>>()?;
    let line = |i: usize| {
        let l = &body[i % body.len()];
        let rest = l.find(',').map_or("", |p| &l[p..]);
        format!("B{i:08}{rest}")
    };
    let kind = std::path::Path::new(output)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    if kind == "xlsx" {
        // every cell a string, as many exports hold them (the sheet is read whole)
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let err = |e: rust_xlsxwriter::XlsxError| std::io::Error::other(e.to_string());
        for (j, h) in header.split(',').enumerate() {
            sheet.write_string(0, j as u16, h).map_err(err)?;
        }
        for i in 0..rows {
            for (j, v) in line(i).split(',').enumerate() {
                if !v.is_empty() {
                    sheet.write_string(i as u32 + 1, j as u16, v).map_err(err)?;
                }
            }
        }
        return book.save(output).map_err(err);
    }
    if kind != "parquet" && kind != "arrow" {
        let mut out = BufWriter::new(std::fs::File::create(output)?);
        writeln!(out, "{header}")?;
        for i in 0..rows {
            writeln!(out, "{}", line(i))?;
        }
        return out.flush();
    }
    let names: Vec<&str> = header.split(',').collect();
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .map(|&n| {
                let t = if INTS.contains(&n) {
                    DataType::Int64
                } else if MONEY.contains(&n) {
                    DataType::Decimal128(14, 2)
                } else if n == "discharge_date" {
                    DataType::Date32
                } else {
                    DataType::Utf8
                };
                Field::new(n, t, true)
            })
            .collect::<Vec<_>>(),
    ));
    let file = std::fs::File::create(output)?;
    let mut pq = None;
    let mut ipc = None;
    if kind == "parquet" {
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .set_max_row_group_row_count(Some(65_536))
            .build();
        pq = Some(
            parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props))
                .map_err(std::io::Error::other)?,
        );
    } else {
        ipc = Some(
            arrow_ipc::writer::FileWriter::try_new(file, &schema).map_err(std::io::Error::other)?,
        );
    }
    let mut start = 0;
    while start < rows {
        let n = (rows - start).min(8192);
        let lines: Vec<String> = (start..start + n).map(line).collect();
        let cells: Vec<Vec<&str>> = lines.iter().map(|l| l.split(',').collect()).collect();
        let cols: Vec<ArrayRef> = names
            .iter()
            .enumerate()
            .map(|(j, &name)| column(name, cells.iter().map(|r| r[j])))
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(std::io::Error::other)?;
        if let Some(w) = pq.as_mut() {
            w.write(&batch).map_err(std::io::Error::other)?;
        }
        if let Some(w) = ipc.as_mut() {
            w.write(&batch).map_err(std::io::Error::other)?;
        }
        start += n;
    }
    if let Some(w) = pq {
        w.close().map_err(std::io::Error::other)?;
    }
    if let Some(mut w) = ipc {
        w.finish().map_err(std::io::Error::other)?;
    }
    Ok(())
}

fn column<'a>(name: &str, values: impl Iterator<Item = &'a str>) -> ArrayRef {
    if INTS.contains(&name) {
        let mut b = Int64Builder::new();
        values.for_each(|v| b.append_option(v.parse().ok()));
        Arc::new(b.finish())
    } else if MONEY.contains(&name) {
        let mut b = Decimal128Builder::new();
        values.for_each(|v| {
            let cents = match v.split_once('.') {
                Some((i, f)) if f.len() <= 2 => format!("{i}{f:0<2}").parse().ok(),
                Some(_) => None,
                None => v.parse::<i128>().ok().map(|x| x * 100),
            };
            b.append_option(cents)
        });
        Arc::new(b.finish().with_precision_and_scale(14, 2).expect("scale"))
    } else if name == "discharge_date" {
        let mut b = Date32Builder::new();
        values.for_each(|v| b.append_option(days(v)));
        Arc::new(b.finish())
    } else {
        let mut b = StringBuilder::new();
        values.for_each(|v| b.append_value(v));
        Arc::new(b.finish())
    }
}

/// Days since 1970-01-01 of `YYYY-MM-DD`.
fn days(v: &str) -> Option<i32> {
    let mut it = v.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i32::try_from(era * 146_097 + doe - 719_468).ok()
}
