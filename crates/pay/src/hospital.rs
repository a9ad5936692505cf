//! Hospitals (定点医疗机构): level, credit rating and performance score, from CSV text.
//!
//! Columns: `hospital_id,name,level,credit_rating,performance_score,agreement_years,
//! traceability_code_upload` and, optional, `kind`. Columns are read by header name; other
//! columns are kept as text ([`Hospital::extra`]), unread unless a parameter names one (a
//! prepayment preference, `prepayment.priority = ["column:NAME"]`). Parsing works on a `&str`; reading the file
//! is the caller's.

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::Deserialize;
use thiserror::Error;

text_enum! {
    /// 医疗机构类别 — the kind of hospital (`kind` column), for the disclosures and the data
    /// working group's make-up.
    pub enum HospitalKind {
        /// 综合医院.
        General = "general",
        /// 专科医院.
        Specialty = "specialty",
        /// 中医医院.
        Tcm = "tcm",
        /// 妇幼保健院.
        MaternalChild = "maternal_child",
        /// 基层医疗机构.
        Primary = "primary",
    }
}

/// One hospital of the region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hospital {
    /// Identifier used in the case data (`H001`).
    pub hospital_id: String,
    /// Display name.
    pub name: String,
    /// 医院等级 — 1, 2 or 3; selects the level coefficient.
    pub level: u8,
    /// 信用等级 — credit rating (`A`, `B`, `C`), for prepayment eligibility.
    pub credit_rating: String,
    /// 绩效考核得分 — performance score 0..100, for clearing.
    pub performance_score: Decimal,
    /// Years of agreement with the fund (协议年限), for prepayment eligibility.
    pub agreement_years: u32,
    /// 追溯码上传 — whether the hospital uploads drug traceability codes (`0`/`1`).
    pub traceability_code_upload: bool,
    /// 医疗机构类别; `None` when the file has no `kind` column.
    pub kind: Option<HospitalKind>,
    /// The file's other columns, by header, as written (trimmed).
    pub extra: std::collections::BTreeMap<String, String>,
}

impl Hospital {
    /// The value of another column of the hospitals file, if the file has it.
    pub fn extra_column(&self, column: &str) -> Option<&str> {
        self.extra.get(column).map(String::as_str)
    }
}

/// The columns [`Hospitals::from_csv_str`] reads itself.
const KNOWN_COLUMNS: [&str; 8] = [
    "hospital_id",
    "name",
    "level",
    "credit_rating",
    "performance_score",
    "agreement_years",
    "traceability_code_upload",
    "kind",
];

/// A hospitals CSV that cannot be read. Every variant names the line and the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HospitalsError {
    /// A field has the wrong form or is out of range.
    #[error("hospitals CSV line {line}, field {field}: {message}")]
    Field {
        /// 1-based line number.
        line: u64,
        /// Column name.
        field: String,
        /// What was expected and found.
        message: String,
    },
    /// The CSV itself is malformed (wrong number of fields, bad quoting).
    #[error("hospitals CSV line {line}: {message}")]
    Csv {
        /// 1-based line number.
        line: u64,
        /// The CSV reader's message.
        message: String,
    },
}

/// The region's hospitals, looked up by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hospitals {
    list: Vec<Hospital>,
    index: FxHashMap<String, usize>,
}

/// A CSV row with every field as text, so that each field's error names its column. Unknown
/// columns are ignored.
#[derive(Deserialize)]
struct RawHospital {
    hospital_id: String,
    name: String,
    level: String,
    credit_rating: String,
    performance_score: String,
    agreement_years: String,
    traceability_code_upload: String,
    #[serde(default)]
    kind: Option<String>,
}

impl RawHospital {
    fn parse(self, line: u64) -> Result<Hospital, HospitalsError> {
        let error = |field: &str, expected: &str, found: &str| HospitalsError::Field {
            line,
            field: field.to_string(),
            message: format!("expected {expected}, found \"{found}\""),
        };
        if self.hospital_id.is_empty() {
            return Err(error("hospital_id", "an id", ""));
        }
        let level = self
            .level
            .parse::<u8>()
            .ok()
            .filter(|l| (1..=9).contains(l))
            .ok_or_else(|| error("level", "a level 1..9", &self.level))?;
        if self.credit_rating.is_empty() {
            return Err(error("credit_rating", "a rating such as A", ""));
        }
        let performance_score = self
            .performance_score
            .parse::<Decimal>()
            .ok()
            .filter(|s| (Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(s))
            .ok_or_else(|| {
                error(
                    "performance_score",
                    "a score 0..100",
                    &self.performance_score,
                )
            })?;
        let agreement_years = self.agreement_years.parse::<u32>().map_err(|_| {
            error(
                "agreement_years",
                "a whole number of years",
                &self.agreement_years,
            )
        })?;
        let traceability_code_upload = match self.traceability_code_upload.as_str() {
            "0" => false,
            "1" => true,
            other => return Err(error("traceability_code_upload", "0 or 1", other)),
        };
        let kind = match self.kind.as_deref() {
            None => None,
            Some(text) => Some(HospitalKind::parse(text).ok_or_else(|| {
                let names: Vec<&str> = HospitalKind::ALL.iter().map(|k| k.as_str()).collect();
                error("kind", &format!("one of {}", names.join(", ")), text)
            })?),
        };
        Ok(Hospital {
            hospital_id: self.hospital_id,
            name: self.name,
            level,
            credit_rating: self.credit_rating,
            performance_score,
            agreement_years,
            traceability_code_upload,
            kind,
            extra: Default::default(),
        })
    }
}

impl Hospitals {
    /// Reads the hospitals CSV text. Checks: level 1..9, performance score 0..100, a
    /// non-empty unique id and credit rating; unknown or missing columns are refused.
    pub fn from_csv_str(text: &str) -> Result<Hospitals, HospitalsError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let csv_error = |e: csv::Error| HospitalsError::Csv {
            line: e.position().map_or(1, |p| p.line()),
            message: e.to_string(),
        };
        let headers = reader.headers().map_err(csv_error)?.clone();
        let mut hospitals = Hospitals::default();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            let raw: RawHospital = record.deserialize(Some(&headers)).map_err(csv_error)?;
            let mut hospital = raw.parse(line)?;
            hospital.extra = headers
                .iter()
                .zip(record.iter())
                .filter(|(h, _)| !KNOWN_COLUMNS.contains(h))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect();
            if hospitals.index.contains_key(&hospital.hospital_id) {
                return Err(HospitalsError::Field {
                    line,
                    field: "hospital_id".to_string(),
                    message: format!("hospital {} appears twice", hospital.hospital_id),
                });
            }
            hospitals
                .index
                .insert(hospital.hospital_id.clone(), hospitals.list.len());
            hospitals.list.push(hospital);
        }
        Ok(hospitals)
    }

    /// The hospital with this id.
    pub fn get(&self, hospital_id: &str) -> Option<&Hospital> {
        self.index.get(hospital_id).map(|&i| &self.list[i])
    }

    /// Every hospital, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Hospital> {
        self.list.iter()
    }

    /// Number of hospitals.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there is no hospital.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl<'a> IntoIterator for &'a Hospitals {
    type Item = &'a Hospital;
    type IntoIter = std::slice::Iter<'a, Hospital>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::shared_file;
    use rust_decimal_macros::dec;

    const HEADER: &str =
        "hospital_id,name,level,credit_rating,performance_score,agreement_years,traceability_code_upload\n";

    #[test]
    fn other_columns_are_kept_for_a_parameter_to_name() {
        let text = format!(
            "{}\n",
            "hospital_id,name,level,credit_rating,performance_score,agreement_years,traceability_code_upload,anti_fraud_score\nH001,a,3,A,85.9,8,0, 92.5"
        );
        let h = Hospitals::from_csv_str(&text).unwrap();
        let h = h.get("H001").unwrap();
        assert_eq!(h.extra_column("anti_fraud_score"), Some("92.5"));
        assert_eq!(
            h.extra_column("level"),
            None,
            "a column read is not an extra"
        );
        assert_eq!(h.extra_column("enrolment"), None);
    }

    #[test]
    fn reads_hospitals_and_looks_them_up_by_id() {
        let text =
            format!("{HEADER}H001,示例三级医院01,3,A,85.9,8,0\nH009,示例二级医院09,2,B,71.0,1,1\n");
        let hospitals = Hospitals::from_csv_str(&text).unwrap();
        assert_eq!(hospitals.len(), 2);
        let h = hospitals.get("H009").unwrap();
        assert_eq!(
            (h.level, h.credit_rating.as_str(), h.performance_score),
            (2, "B", dec!(71.0))
        );
        assert!(h.traceability_code_upload);
        assert!(!hospitals.get("H001").unwrap().traceability_code_upload);
        assert!(hospitals.get("H404").is_none());
    }

    #[test]
    fn errors_name_the_line_and_the_field() {
        let text = format!("{HEADER}H001,a,3,A,85.9,8,0\nH002,b,3,A,high,8,0\n");
        let err = Hospitals::from_csv_str(&text).unwrap_err().to_string();
        assert_eq!(err, "hospitals CSV line 3, field performance_score: expected a score 0..100, found \"high\"");

        let text = format!("{HEADER}H001,a,3,A,85.9,8,2\n");
        let err = Hospitals::from_csv_str(&text).unwrap_err().to_string();
        assert_eq!(
            err,
            "hospitals CSV line 2, field traceability_code_upload: expected 0 or 1, found \"2\""
        );

        let text = format!("{HEADER}H001,a,3,A,185.9,8,1\n");
        let err = Hospitals::from_csv_str(&text).unwrap_err().to_string();
        assert_eq!(err, "hospitals CSV line 2, field performance_score: expected a score 0..100, found \"185.9\"");

        let text = format!("{HEADER}H001,a,3,A,85.9,8\n");
        let err = Hospitals::from_csv_str(&text).unwrap_err().to_string();
        assert!(err.starts_with("hospitals CSV line 2:"), "{err}");

        let text = format!("{HEADER}H001,a,3,A,85.9,8,1\nH001,b,2,A,85.9,8,1\n");
        let err = Hospitals::from_csv_str(&text).unwrap_err().to_string();
        assert_eq!(
            err,
            "hospitals CSV line 3, field hospital_id: hospital H001 appears twice"
        );
    }

    #[test]
    fn the_shipped_hospitals_file_reads() {
        let Some(text) = shared_file("testdata/chs-drg-2.0/hospitals.csv") else {
            return;
        };
        let hospitals = Hospitals::from_csv_str(&text).unwrap();
        assert_eq!(hospitals.len(), 40);
        assert!(hospitals.iter().all(|h| (1..=3).contains(&h.level)));
        assert_eq!(hospitals.get("H001").unwrap().performance_score, dec!(85.9));
        assert_eq!(
            hospitals.get("H001").unwrap().kind,
            Some(HospitalKind::General)
        );
        assert!(hospitals.iter().all(|h| h.kind.is_some()));
    }

    #[test]
    fn the_kind_column_is_optional_checked_when_present_and_extra_columns_are_ignored() {
        let text = format!("{HEADER}H001,a,3,A,85.9,8,0\n");
        assert_eq!(
            Hospitals::from_csv_str(&text)
                .unwrap()
                .get("H001")
                .unwrap()
                .kind,
            None
        );
        let text = "hospital_id,name,level,credit_rating,performance_score,agreement_years,traceability_code_upload,kind,beds\nH001,a,3,A,85.9,8,0,tcm,500\n";
        let h = Hospitals::from_csv_str(text).unwrap();
        assert_eq!(h.get("H001").unwrap().kind, Some(HospitalKind::Tcm));
        let text = "hospital_id,name,level,credit_rating,performance_score,agreement_years,traceability_code_upload,kind\nH001,a,3,A,85.9,8,0,clinic\n";
        let err = Hospitals::from_csv_str(text).unwrap_err().to_string();
        assert_eq!(
            err,
            "hospitals CSV line 2, field kind: expected one of general, specialty, tcm, maternal_child, primary, found \"clinic\""
        );
    }
}
