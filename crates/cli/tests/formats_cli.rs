//! Case files in every format and layout give the same results: the dev cases converted (here,
//! in the test) to JSON lines, Parquet, Arrow IPC and Excel `.xlsx`, and rewritten in the
//! settlement list's Chinese layout, group to result CSVs byte-identical to the CSV's, with
//! the same row accounting; results written as Parquet and JSON lines hold the CSV's rows.
//!
//! Every test prints a note and passes when the shared directory is absent.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use common::{drgdip, pay_inputs, shared, tempdir};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run_ok(shared: &Path, args: &[&str]) -> String {
    let o = drgdip(shared, args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "drgdip {args:?} failed:\n{err}");
    err
}

/// The dev cases: header and rows.
fn dev(shared: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(shared.join("testdata/chs-drg-2.0/dev/cases.csv")).unwrap();
    let head = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (head, rows)
}

/// The dev cases as one Arrow batch: `age` as integers, `total_cost` as decimal(14,2), the
/// rest as strings (empty = null for the typed ones).
fn batch(head: &[String], rows: &[Vec<String>]) -> RecordBatch {
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (j, name) in head.iter().enumerate() {
        match name.as_str() {
            "age" => {
                let mut b = Int64Builder::new();
                for r in rows {
                    b.append_option(r[j].parse::<i64>().ok());
                }
                fields.push(Field::new(name, DataType::Int64, true));
                cols.push(Arc::new(b.finish()));
            }
            "total_cost" => {
                let mut b = Decimal128Builder::new();
                for r in rows {
                    b.append_option(
                        (!r[j].is_empty()).then(|| r[j].replace('.', "").parse::<i128>().unwrap()),
                    );
                }
                let a = b.finish().with_precision_and_scale(14, 2).unwrap();
                fields.push(Field::new(name, DataType::Decimal128(14, 2), true));
                cols.push(Arc::new(a));
            }
            _ => {
                let mut b = StringBuilder::new();
                for r in rows {
                    b.append_value(&r[j]);
                }
                fields.push(Field::new(name, DataType::Utf8, false));
                cols.push(Arc::new(b.finish()));
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

/// Writes the dev cases in every format; returns the files.
fn convert(shared: &Path, dir: &Path) -> Vec<PathBuf> {
    let (head, rows) = dev(shared);
    assert!(
        rows.iter()
            .all(|r| r[head.iter().position(|h| h == "total_cost").unwrap()]
                .split_once('.')
                .is_none_or(|(_, f)| f.len() == 2)),
        "the dev costs have two decimals"
    );
    let b = batch(&head, &rows);
    // JSON lines: every value a string, except age as a number
    let jsonl = dir.join("cases.jsonl");
    let mut text = String::new();
    for r in &rows {
        let mut m = serde_json::Map::new();
        for (h, v) in head.iter().zip(r) {
            let value = match (h.as_str(), v.parse::<u64>()) {
                ("age", Ok(n)) => serde_json::Value::from(n),
                _ => serde_json::Value::from(v.as_str()),
            };
            m.insert(h.clone(), value);
        }
        text.push_str(&serde_json::Value::Object(m).to_string());
        text.push('\n');
    }
    std::fs::write(&jsonl, text).unwrap();
    // Parquet, in row groups of 8,000 rows
    let parquet = dir.join("cases.parquet");
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(8_000))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&parquet).unwrap(),
        b.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&b).unwrap();
    w.close().unwrap();
    // Arrow IPC, file and stream
    let arrow = dir.join("cases.arrow");
    let mut w =
        arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&arrow).unwrap(), &b.schema())
            .unwrap();
    w.write(&b).unwrap();
    w.finish().unwrap();
    let stream = dir.join("cases.arrows");
    let mut w = arrow_ipc::writer::StreamWriter::try_new(
        std::fs::File::create(&stream).unwrap(),
        &b.schema(),
    )
    .unwrap();
    w.write(&b).unwrap();
    w.finish().unwrap();
    // xlsx: age and total_cost as numbers, the rest as text
    let xlsx = dir.join("cases.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (j, h) in head.iter().enumerate() {
        sheet.write_string(0, j as u16, h).unwrap();
    }
    for (i, r) in rows.iter().enumerate() {
        for (j, v) in r.iter().enumerate() {
            let (row, col) = (i as u32 + 1, j as u16);
            match (head[j].as_str(), v.parse::<f64>()) {
                ("age" | "total_cost", Ok(x)) => sheet.write_number(row, col, x).unwrap(),
                _ if v.is_empty() => sheet,
                _ => sheet.write_string(row, col, v).unwrap(),
            };
        }
    }
    book.save(&xlsx).unwrap();
    vec![jsonl, parquet, arrow, stream, xlsx]
}

fn group(shared: &Path, input: &Path, out: &Path, errors: &Path, extra: &[&str]) -> String {
    let mut args = vec!["group", "-i", s(input), "-o", s(out), "-e", s(errors)];
    args.extend_from_slice(extra);
    run_ok(shared, &args)
}

/// The summary line without its timing (rows, statuses, problems).
fn accounting(stderr: &str) -> String {
    let line = stderr.lines().last().unwrap_or_default();
    line.split("; ").take(2).collect::<Vec<_>>().join("; ")
}

/// The errors file without its line numbers (those are per format).
fn problems(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

#[test]
fn every_format_groups_to_the_same_result_csv() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("formats");
    let csv = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let (want, want_err) = (dir.join("want.csv"), dir.join("want-errors.csv"));
    let summary = group(&shared, &csv, &want, &want_err, &[]);
    let want_bytes = std::fs::read(&want).unwrap();
    assert_eq!(want_bytes.iter().filter(|&&b| b == b'\n').count(), 20_001);
    for file in convert(&shared, &dir) {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let (got, got_err) = (
            dir.join(format!("{name}.out.csv")),
            dir.join(format!("{name}.err.csv")),
        );
        let stderr = group(&shared, &file, &got, &got_err, &[]);
        assert!(
            std::fs::read(&got).unwrap() == want_bytes,
            "{name}: results differ from the CSV's"
        );
        assert_eq!(accounting(&stderr), accounting(&summary), "{name}");
        assert_eq!(problems(&got_err), problems(&want_err), "{name}");
    }
    // told by --input-format instead of the content: the same
    let jsonl = dir.join("cases.jsonl");
    let got = dir.join("told.csv");
    group(
        &shared,
        &jsonl,
        &got,
        &dir.join("told-err.csv"),
        &["--input-format", "jsonl"],
    );
    assert!(std::fs::read(&got).unwrap() == want_bytes);
}

#[test]
fn results_written_as_parquet_and_json_lines_hold_the_csv_rows() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("outputs");
    let csv = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let want = dir.join("want.csv");
    group(&shared, &csv, &want, &dir.join("e1.csv"), &[]);
    let mut r = csv::Reader::from_path(&want).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    // Parquet by the extension
    let pq = dir.join("out.parquet");
    group(&shared, &csv, &pq, &dir.join("e2.csv"), &[]);
    let rdr = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&pq).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let mut got: Vec<Vec<String>> = Vec::new();
    let mut names = Vec::new();
    for b in rdr {
        let b = b.unwrap();
        names = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for i in 0..b.num_rows() {
            got.push(
                b.columns()
                    .iter()
                    .map(|c| {
                        arrow_array::cast::AsArray::as_string::<i32>(c.as_ref())
                            .value(i)
                            .to_string()
                    })
                    .collect(),
            );
        }
    }
    assert_eq!(names, head);
    assert!(got == rows, "the Parquet results differ from the CSV's");
    // the Parquet results read back as a case file's columns would: another round trip
    // through `--format parquet` on a JSON-lines input
    let jsonl = dir.join("out.jsonl");
    group(&shared, &csv, &jsonl, &dir.join("e3.csv"), &[]);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows.len());
    assert_eq!(lines[0]["case_id"], rows[0][0]);
}

#[test]
fn pay_reads_parquet_and_writes_parquet_like_csv() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("pay-formats");
    let (params, hospitals, weights) = pay_inputs(&shared, &dir);
    let csv = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let files = convert(&shared, &dir);
    let pay = |input: &Path, out: &Path| {
        run_ok(
            &shared,
            &[
                "pay",
                "-q",
                "--params",
                s(&params),
                "--hospitals",
                s(&hospitals),
                "--weights",
                s(&weights),
                "-i",
                s(input),
                "-o",
                s(out),
            ],
        )
    };
    let (want, got) = (dir.join("pay.csv"), dir.join("pay-pq.csv"));
    pay(&csv, &want);
    pay(&files[1], &got);
    assert!(std::fs::read(&want).unwrap() == std::fs::read(&got).unwrap());
    // and the Parquet results hold as many rows
    let pq = dir.join("pay.parquet");
    pay(&files[1], &pq);
    let meta = parquet::file::reader::FileReader::metadata(
        &parquet::file::serialized_reader::SerializedFileReader::new(
            std::fs::File::open(&pq).unwrap(),
        )
        .unwrap(),
    )
    .file_metadata()
    .num_rows();
    assert_eq!(meta, 20_000);
}

fn mapping(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../mappings")
        .join(name)
}

/// The dev cases in the settlement list's layout: Chinese item names, the principal
/// diagnosis and procedure apart from the others (`;`-separated), gender as 男/女, dates as
/// `YYYYMMDD`.
fn settlement_list(shared: &Path, path: &Path, drop: Option<&str>) {
    let (head, rows) = dev(shared);
    let name = |h: &str| -> &str {
        match h {
            "case_id" => "病案号",
            "hospital_id" => "定点医疗机构代码",
            "hospital_level" => "医疗机构级别",
            "gender" => "性别",
            "age" => "年龄",
            "age_days" => "年龄不足1周岁的年龄(天)",
            "birth_weight" => "新生儿出生体重",
            "admission_weight" => "新生儿入院体重",
            "dept" => "出院科别",
            "los" => "实际住院天数",
            "discharge_way" => "离院方式",
            "vent_hours" => "呼吸机使用时间(小时)",
            "discharge_date" => "出院时间",
            "insured_region" => "参保地",
            "insurance_type" => "医保类型",
            "new_tech_flag" => "新技术标志",
            "new_tech_items" => "新技术项目",
            "total_cost" => "金额合计",
            "fund_paid" => "医保统筹基金支付",
            "drug_cost" => "药品费",
            "material_cost" => "耗材费",
            other => panic!("no settlement-list name for {other}"),
        }
    };
    let mut w = csv::Writer::from_path(path).unwrap();
    let mut out_head: Vec<String> = Vec::new();
    for h in &head {
        match h.as_str() {
            "diagnoses" => out_head.extend(["主要诊断代码".into(), "其他诊断代码".into()]),
            "procedures" => {
                out_head.extend(["主要手术及操作代码".into(), "其他手术及操作代码".into()])
            }
            h => out_head.push(name(h).into()),
        }
    }
    let keep: Vec<bool> = out_head.iter().map(|h| Some(h.as_str()) != drop).collect();
    let pick = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(x, _)| x)
            .collect()
    };
    w.write_record(pick(out_head.clone())).unwrap();
    for r in &rows {
        let mut out = Vec::new();
        for (h, v) in head.iter().zip(r) {
            match h.as_str() {
                "diagnoses" | "procedures" => {
                    let (first, rest) = v.split_once('|').unwrap_or((v, ""));
                    out.push(first.to_string());
                    out.push(rest.replace('|', ";"));
                }
                "gender" => out.push(
                    match v.as_str() {
                        "1" => "男",
                        "2" => "女",
                        x => x,
                    }
                    .to_string(),
                ),
                "discharge_date" => out.push(v.replace('-', "")),
                _ => out.push(v.clone()),
            }
        }
        w.write_record(pick(out)).unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn the_settlement_list_mapping_reads_its_layout_as_the_dev_file() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("settlement-list");
    let csv = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let want = dir.join("want.csv");
    let summary = group(&shared, &csv, &want, &dir.join("want-err.csv"), &[]);
    let list = dir.join("list.csv");
    settlement_list(&shared, &list, None);
    let map = mapping("settlement-list.toml");
    let got = dir.join("got.csv");
    let stderr = group(
        &shared,
        &list,
        &got,
        &dir.join("got-err.csv"),
        &["--mapping", s(&map)],
    );
    assert!(std::fs::read(&got).unwrap() == std::fs::read(&want).unwrap());
    assert_eq!(accounting(&stderr), accounting(&summary));
    assert_eq!(
        problems(&dir.join("got-err.csv")),
        problems(&dir.join("want-err.csv"))
    );
    // drgdip's own mapping reads drgdip's file as it is
    let same = dir.join("same.csv");
    group(
        &shared,
        &csv,
        &same,
        &dir.join("same-err.csv"),
        &["--mapping", s(&mapping("drgdip.toml"))],
    );
    assert!(std::fs::read(&same).unwrap() == std::fs::read(&want).unwrap());
    // a mapped column the file lacks: the error names the mapping file's line
    let lacking = dir.join("lacking.csv");
    settlement_list(&shared, &lacking, Some("性别"));
    let o = drgdip(
        &shared,
        &[
            "group",
            "-i",
            s(&lacking),
            "-o",
            s(&dir.join("x.csv")),
            "--mapping",
            s(&map),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let text = std::fs::read_to_string(&map).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("gender ="))
        .unwrap()
        + 1;
    assert!(
        err.contains(&format!(
            "line {line}: the input has no column \"性别\" (mapped to gender)"
        )),
        "{err}"
    );
}
