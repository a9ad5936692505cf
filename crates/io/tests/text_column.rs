//! `drgdip_io::formats::text_column`, the one Arrow → text conversion (the CLI's Parquet and
//! Arrow readers, the Python package), gives for the dev cases the same text as the Arrow
//! cast to strings that the Python package used before: strings, whole numbers, decimals
//! (`Decimal128(14, 2)`) and dates (`Date32`), nulls included.
//!
//! Prints a note and passes when the shared directory is absent.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{Date32Builder, Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, StringArray};
use arrow_schema::DataType;

fn shared() -> PathBuf {
    std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// Days since 1970-01-01 of `YYYY-MM-DD`.
fn days(v: &str) -> Option<i32> {
    let mut it = v.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * m + 2) / 5 + d - 1;
    i32::try_from(era * 146_097 + doe - 719_468).ok()
}

#[test]
fn text_column_reads_the_dev_cases_as_the_arrow_cast_does() {
    let path = shared().join("testdata/chs-drg-2.0/dev/cases.csv");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("note: no shared data at {}: nothing tested", path.display());
        return;
    };
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut checked = Vec::new();
    for (j, &name) in head.iter().enumerate() {
        let cells = rows.iter().map(|r| r[j]);
        let col: ArrayRef = match name {
            "hospital_level" | "gender" | "age" | "age_days" | "birth_weight" | "los" => {
                let mut b = Int64Builder::new();
                cells.for_each(|v| b.append_option(v.parse().ok()));
                Arc::new(b.finish())
            }
            "total_cost" | "fund_paid" | "drug_cost" | "material_cost" => {
                let mut b = Decimal128Builder::new();
                cells.for_each(|v| b.append_option(v.replace('.', "").parse::<i128>().ok()));
                Arc::new(b.finish().with_precision_and_scale(14, 2).unwrap())
            }
            "discharge_date" => {
                let mut b = Date32Builder::new();
                cells.for_each(|v| b.append_option(days(v)));
                Arc::new(b.finish())
            }
            _ => {
                let mut b = StringBuilder::new();
                cells.for_each(|v| b.append_option((!v.is_empty()).then_some(v)));
                Arc::new(b.finish())
            }
        };
        let ours = drgdip_io::formats::text_column(&col).unwrap();
        let cast = arrow_cast::cast(&col, &DataType::Utf8).unwrap();
        let cast = cast.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(ours.len(), rows.len());
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(ours.is_null(i), cast.is_null(i), "{name} row {i}: null");
            if !ours.is_null(i) {
                assert_eq!(ours.value(i), cast.value(i), "{name} row {i}");
                // and it is the CSV's text
                assert_eq!(ours.value(i), row[j], "{name} row {i}: the CSV's text");
            }
        }
        checked.push(col.data_type().clone());
    }
    for t in [
        DataType::Int64,
        DataType::Decimal128(14, 2),
        DataType::Date32,
        DataType::Utf8,
    ] {
        assert!(checked.contains(&t), "{t} checked");
    }
}
