//! Reading and writing speed of case and result files: the 20,000 dev cases read and
//! validated (CSV), read, grouped and written as result rows (CSV → CSV, the work of
//! `drgdip group` without the file system), an Arrow batch of the typed dev cases turned into
//! text (`text_column`), the code look-up, and result rows written as Parquet.
//!
//! `cargo bench -p drgdip-io --bench io` (needs the shared data: `DRGDIP_SHARED`, default
//! `../shared` beside the repository). End to end on 1,000,000 rows: `scripts/bench.sh`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use drgdip_drg::{group, Trace};
use drgdip_io::{push_csv_field, run_batch, OutputFormat, RowOutcome, TableWriter};
use drgdip_scheme::{DirFiles, Registry};

fn shared() -> PathBuf {
    std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// The dev cases as one batch: whole numbers as Int64, money as Decimal128(14, 2).
fn typed_batch(text: &str) -> RecordBatch {
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (j, &name) in head.iter().enumerate() {
        if matches!(name, "age" | "los" | "gender") {
            let mut b = Int64Builder::new();
            rows.iter().for_each(|r| b.append_option(r[j].parse().ok()));
            fields.push(Field::new(name, DataType::Int64, true));
            cols.push(Arc::new(b.finish()));
        } else if matches!(name, "total_cost" | "fund_paid") {
            let mut b = Decimal128Builder::new();
            rows.iter()
                .for_each(|r| b.append_option(r[j].replace('.', "").parse::<i128>().ok()));
            fields.push(Field::new(name, DataType::Decimal128(14, 2), true));
            cols.push(Arc::new(
                b.finish().with_precision_and_scale(14, 2).unwrap(),
            ));
        } else {
            let mut b = StringBuilder::new();
            rows.iter().for_each(|r| b.append_value(r[j]));
            fields.push(Field::new(name, DataType::Utf8, false));
            cols.push(Arc::new(b.finish()));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

fn bench(c: &mut Criterion) {
    let shared = shared();
    let Ok(files) = DirFiles::new(&shared) else {
        eprintln!(
            "no shared data at {} (set DRGDIP_SHARED): nothing measured",
            shared.display()
        );
        return;
    };
    let mut reg = Registry::new(&files).unwrap();
    let s = reg.get("chs-drg-2.0").unwrap();
    let input = std::fs::read(shared.join("testdata/chs-drg-2.0/dev/cases.csv")).unwrap();
    let rows = input.iter().filter(|&&b| b == b'\n').count() as u64 - 1;

    let mut g = c.benchmark_group("csv");
    g.throughput(Throughput::Elements(rows));
    g.bench_function("read/20k-dev-cases", |b| {
        b.iter(|| {
            run_batch(
                &input[..],
                b"",
                &mut std::io::sink(),
                None,
                |cols, row, _, _| match row.read(cols, &s.catalog) {
                    RowOutcome::Valid(r) => black_box(r).age_years as usize & 1,
                    RowOutcome::Invalid { .. } => 2,
                },
                |_| {},
            )
            .unwrap()
        })
    });
    let mut out = Vec::new();
    g.bench_function("read-group-write/20k-dev-cases", |b| {
        b.iter(|| {
            out.clear();
            run_batch(
                &input[..],
                b"case_id,status,mdc,adrg,drg\n",
                &mut out,
                None,
                |cols, row, buf, _| match row.read(cols, &s.catalog) {
                    RowOutcome::Valid(r) => {
                        let g = group(&s, &r.case(), &mut Trace::disabled());
                        push_csv_field(buf, &r.case_id);
                        for part in [
                            g.status.as_str(),
                            g.mdc_code(&s),
                            g.adrg_code(&s),
                            g.drg_code(&s),
                        ] {
                            buf.push(b',');
                            buf.extend_from_slice(part.as_bytes());
                        }
                        buf.push(b'\n');
                        0
                    }
                    RowOutcome::Invalid { case_id, .. } => {
                        push_csv_field(buf, &case_id);
                        buf.extend_from_slice(b",invalid,,,\n");
                        1
                    }
                },
                |_| {},
            )
            .unwrap();
            black_box(out.len())
        })
    });
    g.finish();

    let text = String::from_utf8_lossy(&input);
    let batch = typed_batch(&text);
    let mut g = c.benchmark_group("arrow");
    g.throughput(Throughput::Elements(batch.num_rows() as u64));
    g.bench_function("text_column/20k-dev-cases", |b| {
        b.iter(|| {
            batch
                .columns()
                .iter()
                .map(|col| drgdip_io::formats::text_column(col).map_or(0, |t| t.len()))
                .sum::<usize>()
        })
    });
    g.finish();

    let codes: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(11))
        .flat_map(|dx| dx.split('|'))
        .collect();
    let mut g = c.benchmark_group("codes");
    g.throughput(Throughput::Elements(codes.len() as u64));
    g.bench_function("lookup/dev-diagnoses", |b| {
        b.iter(|| {
            codes
                .iter()
                .filter(|c| s.catalog.diagnoses.lookup(c).is_ok())
                .count()
        })
    });
    g.finish();

    // result rows as `drgdip group` writes them, into Parquet
    let mut results = b"case_id,status,mdc,adrg,drg,mcc,cc,scheme,repairs,problems\n".to_vec();
    for (i, l) in text.lines().skip(1).enumerate() {
        let id = l.split(',').next().unwrap_or("");
        let _ = writeln!(
            results,
            "{id},grouped,MDCB,BB3,BB35,,,chs-drg-2.0,,{}",
            i % 3
        );
    }
    let mut g = c.benchmark_group("write");
    g.throughput(Throughput::Elements(rows));
    g.bench_function("parquet/20k-result-rows", |b| {
        b.iter(|| {
            let mut w = TableWriter::new(OutputFormat::Parquet, Box::new(std::io::sink()));
            w.write_all(&results).unwrap();
            w.finish().unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
