//! Copies of the shipped parameter and hospitals files that this build reads, written into a
//! test's temporary directory at run time (nothing of the shared data is committed).
//!
//! The shared data may be ahead of the code on a branch: the parameter file gains sections
//! (`[settlement]`, `[limits]`, …) and the hospitals file columns that another change teaches
//! the readers. The copies leave out exactly what this build's readers refuse as unknown —
//! nothing once the readers know it — and make `exclusion.catalogue` absolute so that the
//! copy still finds the shipped catalogue.

use std::path::{Path, PathBuf};

use drgdip_pay::{Hospitals, Params, ParamsError};

/// The shipped parameter file as this build reads it, written to `dir/name`: the text is
/// kept as it is (comments and layout too) but for the keys and tables removed.
pub fn params(shared: &Path, dir: &Path, name: &str) -> PathBuf {
    let source = shared.join("params/region-350100-2025.toml");
    let mut text = std::fs::read_to_string(&source).unwrap();
    for _ in 0..100 {
        match Params::from_toml_str(&text) {
            Ok(_) => break,
            Err(ParamsError::UnknownKey { key, .. }) => {
                let shorter = without_key(&text, &key);
                assert_ne!(shorter, text, "{}: cannot remove {key}", source.display());
                text = shorter;
            }
            Err(e) => panic!("{}: {e}", source.display()),
        }
    }
    let table: toml::Table = text.parse().unwrap();
    if let Some(toml::Value::String(c)) = table.get("exclusion").and_then(|e| e.get("catalogue")) {
        let absolute = shared.join("params").join(c).display().to_string();
        text = text.replace(&format!("\"{c}\""), &format!("\"{absolute}\""));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `text` without the key `a.b.c`: the line `c = …` of the table `[a.b]`, or the table
/// `[a.b.c]` with its subtables.
fn without_key(text: &str, key: &str) -> String {
    let (table, name) = key.rsplit_once('.').unwrap_or(("", key));
    let mut out = String::new();
    let mut current = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(header) = t.strip_prefix('[') {
            current = header.split(']').next().unwrap_or("").trim().to_string();
            skipping = current == key || current.starts_with(&format!("{key}."));
        } else if current == table && t.split_once('=').map(|(k, _)| k.trim()) == Some(name) {
            continue;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The shipped hospitals file as this build reads it, written to `dir/hospitals.csv`.
pub fn hospitals(shared: &Path, dir: &Path) -> PathBuf {
    let source = shared.join("testdata/chs-drg-2.0/hospitals.csv");
    let mut rows: Vec<Vec<String>> = csv::Reader::from_path(&source)
        .unwrap()
        .into_records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let mut header: Vec<String> = csv::Reader::from_path(&source)
        .unwrap()
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect();
    let write = |header: &[String], rows: &[Vec<String>]| {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(header).unwrap();
        for r in rows {
            w.write_record(r).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    };
    for _ in 0..header.len() {
        let text = write(&header, &rows);
        match Hospitals::from_csv_str(&text) {
            Ok(_) => break,
            Err(e) => {
                let message = e.to_string();
                let unknown = message
                    .split_once("unknown field `")
                    .and_then(|(_, rest)| rest.split_once('`'))
                    .map(|(name, _)| name.to_string())
                    .unwrap_or_else(|| panic!("{}: {message}", source.display()));
                let i = header.iter().position(|h| *h == unknown).unwrap();
                header.remove(i);
                for r in &mut rows {
                    r.remove(i);
                }
            }
        }
    }
    let path = dir.join("hospitals.csv");
    std::fs::write(&path, write(&header, &rows)).unwrap();
    path
}
