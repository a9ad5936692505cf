//! Loading fails with a message naming the file, line or key when the tables are inconsistent.

use crate::{MemFiles, Registry, SchemeError};

const MANIFEST: &str = r#"
name = "tiny"
version = "1"
tables = "t"
mdc_order = ["A", "B"]
no_ambiguous = ["MDCA"]
[entry]
MDCA = { kind = "always" }
"#;

fn files() -> MemFiles {
    MemFiles::new()
        .with("codes/diagnoses.dat", "B00.000 a\nB00.001 b\n")
        .with("codes/procedures.dat", "01.0001 a\n02.0001 b\n")
        .with("codes/diagnosis_map.dat", "")
        .with("codes/procedure_map.dat", "")
        .with("t/MDC.dat", "MDCA 先期\nMDCB 神经\n")
        .with("t/MDC/MDCA_先期.dat", "")
        .with(
            "t/MDC/MDCB_神经.dat",
            "包含以下主要诊断：\nB00.000 a\nB00.001 b\n",
        )
        .with("t/ADRG.dat", "AA1 移植\nBR1 脑病\n")
        .with("t/DRG.dat", "AA19 a\nBR13 a\nBR15 b\n")
        .with(
            "t/ADRG/AA1_移植.dat",
            "包含以下主要手术或操作：\n02.0001 a\n",
        )
        .with("t/ADRG/BR1_脑病.dat", "包含以下主要诊断：\nB00.000 a\n")
        .with("t/CCE.dat", "B00.000 1\n")
        .with("t/MCC.dat", "")
        .with("t/CC.dat", "B00.001 2\n")
        .with("t/SEX_SHARED.dat", "header\n")
        .with("t/SS_VALID.dat", "header\n01.0001 a\n02.0001 b\n")
        .with("t/ZD_INVALID.dat", "")
        .with("t/SS_INVALID.dat", "")
}

fn load(files: &MemFiles, manifest: &str) -> Result<String, SchemeError> {
    let mut r = Registry::empty(files);
    let name = r.add_manifest_text("tiny.toml", manifest)?;
    let s = r.get(&name)?;
    Ok(format!(
        "{} {} {} {}",
        s.mdcs.len(),
        s.adrgs.len(),
        s.drgs.len(),
        s.warnings.join("; ")
    ))
}

#[test]
fn a_consistent_scheme_loads() {
    assert_eq!(load(&files(), MANIFEST).unwrap(), "2 2 3 ");
}

#[test]
fn an_adrg_without_its_condition_file_is_reported() {
    let f = files().with("t/ADRG.dat", "AA1 移植\nBR1 脑病\nBR2 另一\n");
    let e = load(&f, MANIFEST).unwrap_err().to_string();
    assert!(
        e.contains("BR2 has no condition file ADRG/BR2_*.dat"),
        "{e}"
    );
}

#[test]
fn a_drg_of_an_unknown_adrg_is_reported() {
    let f = files().with("t/DRG.dat", "AA19 a\nBR13 a\nBR15 b\nBX19 c\n");
    let e = load(&f, MANIFEST).unwrap_err().to_string();
    assert!(
        e.contains("DRG.dat:4: BX19 belongs to no known ADRG"),
        "{e}"
    );
}

#[test]
fn a_code_missing_from_the_catalog_is_a_warning_naming_file_and_line() {
    let f = files().with(
        "t/ADRG/BR1_脑病.dat",
        "包含以下主要诊断：\nB00.000 a\nB99.999 z\n",
    );
    let w = load(&f, MANIFEST).unwrap();
    assert!(
        w.contains("B99.999 (line 3)") && w.contains("BR1_脑病.dat"),
        "{w}"
    );
}

#[test]
fn a_glued_or_unknown_line_is_an_error_with_file_and_line() {
    let f = files().with(
        "t/ADRG/BR1_脑病.dat",
        "包含以下主要诊断：\nB00.000 a\n莫名其妙的一行\n",
    );
    let e = load(&f, MANIFEST).unwrap_err().to_string();
    assert!(e.contains("BR1_脑病.dat:3"), "{e}");
}

#[test]
fn manifest_errors_name_the_key() {
    let e = load(&files(), &MANIFEST.replace("\"always\"", "\"sometimes\""))
        .unwrap_err()
        .to_string();
    assert!(e.contains("entry.MDCA.kind \"sometimes\""), "{e}");
    let e = load(
        &files(),
        &format!("{MANIFEST}\n[order]\nMDCB = {{ after = \"BR9\", adrgs = [\"BR1\"] }}\n"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("order.MDCB"), "{e}");
    let e = load(&files(), &MANIFEST.replace("version", "versoin"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("versoin"), "{e}");
}

#[test]
fn a_missing_shared_directory_is_named() {
    let e = crate::DirFiles::new("/nonexistent/shared")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/nonexistent/shared") && e.contains("--shared"),
        "{e}"
    );
}
