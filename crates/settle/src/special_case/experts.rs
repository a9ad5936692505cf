//! 专家组 — the registry of review experts (`experts.csv`): id, name, discipline, the
//! hospital the expert works at (empty: none) and title. A reviewer's user id is its
//! expert id.
//!
//! The text is read by its header (`expert_id,name,discipline,hospital_id,title`; extra
//! columns are ignored, `title` may be absent); every defect names the line, the field and
//! the value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One expert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expert {
    /// The expert's id, also the reviewer's user id (`E001`).
    pub id: String,
    /// The name.
    pub name: String,
    /// The discipline (心血管内科).
    pub discipline: String,
    /// The hospital the expert works at (`None`: not affiliated).
    pub hospital_id: Option<String>,
    /// The title (主任医师), possibly empty.
    pub title: String,
}

/// A defect of the experts file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("experts file line {line}: field {field} {value:?}: {problem}")]
pub struct ExpertsError {
    /// The line (1 = the header).
    pub line: u64,
    /// The field.
    pub field: &'static str,
    /// The value found.
    pub value: String,
    /// What was expected.
    pub problem: String,
}

/// The registry of experts, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Experts {
    by_id: BTreeMap<String, Expert>,
}

/// Whether `id` is an id the tokens file and the API accept: 1–32 letters, digits, `_`, `.`
/// or `-`.
fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl Experts {
    /// Reads the registry from the text of `experts.csv`.
    pub fn parse(text: &str) -> Result<Experts, ExpertsError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let err = |line: u64, field: &'static str, value: &str, problem: &str| ExpertsError {
            line,
            field,
            value: value.to_string(),
            problem: problem.to_string(),
        };
        let header = rdr
            .headers()
            .map_err(|e| err(1, "header", "", &e.to_string()))?
            .clone();
        let col = |name: &'static str| header.iter().position(|h| h.trim() == name);
        let need = |name: &'static str| {
            col(name).ok_or_else(|| {
                err(
                    1,
                    name,
                    &header.iter().collect::<Vec<_>>().join(","),
                    "a required column is missing from the header",
                )
            })
        };
        let (c_id, c_name, c_disc, c_hosp) = (
            need("expert_id")?,
            need("name")?,
            need("discipline")?,
            need("hospital_id")?,
        );
        let c_title = col("title");
        let mut by_id = BTreeMap::new();
        for (i, record) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            let record = record.map_err(|e| err(line, "row", "", &e.to_string()))?;
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let get = |c: usize| record.get(c).unwrap_or("").trim().to_string();
            let id = get(c_id);
            if !is_id(&id) {
                return Err(err(
                    line,
                    "expert_id",
                    &id,
                    "expected 1–32 letters, digits, '_', '.' or '-'",
                ));
            }
            let name = get(c_name);
            if name.is_empty() {
                return Err(err(line, "name", &name, "expected the expert's name"));
            }
            let discipline = get(c_disc);
            if discipline.is_empty() {
                return Err(err(
                    line,
                    "discipline",
                    &discipline,
                    "expected a discipline",
                ));
            }
            let hospital = get(c_hosp);
            if !hospital.is_empty() && !is_id(&hospital) {
                return Err(err(
                    line,
                    "hospital_id",
                    &hospital,
                    "expected a hospital id (1–32 letters, digits, '_', '.' or '-') or nothing",
                ));
            }
            let expert = Expert {
                id: id.clone(),
                name,
                discipline,
                hospital_id: (!hospital.is_empty()).then_some(hospital),
                title: c_title.map(get).unwrap_or_default(),
            };
            if by_id.insert(id.clone(), expert).is_some() {
                return Err(err(line, "expert_id", &id, "the expert appears twice"));
            }
        }
        Ok(Experts { by_id })
    }

    /// A registry of the given experts (a later one of the same id replaces an earlier).
    pub fn from_experts(experts: impl IntoIterator<Item = Expert>) -> Experts {
        Experts {
            by_id: experts.into_iter().map(|e| (e.id.clone(), e)).collect(),
        }
    }

    /// The expert `id`, if registered.
    pub fn get(&self, id: &str) -> Option<&Expert> {
        self.by_id.get(id)
    }

    /// The experts, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Expert> {
        self.by_id.values()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}
