//! 医保数据工作组 — the data working group: a roster per year, with the checks the notices
//! imply (`payment-model.md` §11): at least 8 members, from hospitals of at least two levels
//! and two kinds (`hospitals.csv`), and not the same roster as the year before (members rotate
//! yearly).
//!
//! A roster file is CSV with a header naming at least `member_id,name,hospital_id` (in any
//! order; other columns, such as `title` or `discipline`, are kept as `note` when named so and
//! otherwise ignored).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use drgdip_pay::Hospitals;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The least members of a working group.
pub const MIN_MEMBERS: usize = 8;
/// The least distinct hospital levels and kinds among the members' hospitals.
pub const MIN_LEVELS: usize = 2;
/// See [`MIN_LEVELS`].
pub const MIN_KINDS: usize = 2;

/// The columns a roster file must have.
pub const ROSTER_COLUMNS: [&str; 3] = ["member_id", "name", "hospital_id"];

/// One member of the working group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's id (unique in the roster).
    pub member_id: String,
    /// The member's name.
    pub name: String,
    /// The hospital the member works at.
    pub hospital_id: String,
    /// The `title` or `role` column, if the file has one.
    pub note: String,
}

/// The roster of a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// The year.
    pub year: i32,
    /// The members, in file order.
    pub members: Vec<Member>,
}

/// A roster file that cannot be read: the line, the field, the value and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RosterError {
    /// The header lacks a column.
    #[error("{file}: no column {column:?} in the header (expected at least {})", ROSTER_COLUMNS.join(","))]
    Column {
        /// The file.
        file: String,
        /// The missing column.
        column: &'static str,
    },
    /// The CSV cannot be read.
    #[error("{file}: {message}")]
    Csv {
        /// The file.
        file: String,
        /// The reader's message.
        message: String,
    },
    /// A field is wrong.
    #[error("{file} line {line}, field {field} {value:?}: {message}")]
    Field {
        /// The file.
        file: String,
        /// Its line.
        line: u64,
        /// The field.
        field: &'static str,
        /// The value.
        value: String,
        /// What is wrong.
        message: String,
    },
}

impl Roster {
    /// Reads a roster file of `year`; every bad row is an error (all of them, in order).
    pub fn from_csv_str(year: i32, text: &str, file: &str) -> Result<Roster, Vec<RosterError>> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header = rdr
            .headers()
            .map_err(|e| {
                vec![RosterError::Csv {
                    file: file.to_string(),
                    message: e.to_string(),
                }]
            })?
            .clone();
        let mut at = HashMap::new();
        for column in ROSTER_COLUMNS {
            match header.iter().position(|h| h == column) {
                Some(i) => {
                    at.insert(column, i);
                }
                None => {
                    return Err(vec![RosterError::Column {
                        file: file.to_string(),
                        column,
                    }])
                }
            }
        }
        let note_at = header.iter().position(|h| h == "title" || h == "role");
        let mut members = Vec::new();
        let mut errors = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    errors.push(RosterError::Csv {
                        file: file.to_string(),
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            if rec.iter().all(str::is_empty) {
                continue;
            }
            let line = rec.position().map_or(i as u64 + 2, |p| p.line());
            let get = |c: &str| rec.get(at[c]).unwrap_or("").to_string();
            let field = |field: &'static str, value: String, message: &str| RosterError::Field {
                file: file.to_string(),
                line,
                field,
                value,
                message: message.to_string(),
            };
            let (member_id, name, hospital_id) =
                (get("member_id"), get("name"), get("hospital_id"));
            let mut ok = true;
            for (f, v) in [
                ("member_id", &member_id),
                ("name", &name),
                ("hospital_id", &hospital_id),
            ] {
                if v.is_empty() {
                    errors.push(field(f, String::new(), "empty"));
                    ok = false;
                }
            }
            if !member_id.is_empty() {
                if let Some(first) = seen.insert(member_id.clone(), line) {
                    errors.push(field(
                        "member_id",
                        member_id.clone(),
                        &format!("listed twice (first on line {first})"),
                    ));
                    ok = false;
                }
            }
            if ok {
                members.push(Member {
                    member_id,
                    name,
                    hospital_id,
                    note: note_at.and_then(|i| rec.get(i)).unwrap_or("").to_string(),
                });
            }
        }
        if errors.is_empty() {
            Ok(Roster { year, members })
        } else {
            Err(errors)
        }
    }
}

/// What the checks found: errors (the roster does not meet the notices) and warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RosterCheck {
    /// The year.
    pub year: i32,
    /// Members.
    pub members: usize,
    /// Members by hospital level.
    pub by_level: BTreeMap<u8, usize>,
    /// Members by hospital kind (`unknown` when the hospitals file has no `kind`).
    pub by_kind: BTreeMap<String, usize>,
    /// Members who were on the previous year's roster.
    pub stayed: Vec<String>,
    /// What makes the roster fall short of the notices.
    pub errors: Vec<String>,
    /// What a bureau should look at.
    pub warnings: Vec<String>,
}

impl RosterCheck {
    /// Whether the roster meets every rule.
    pub fn passed(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks `roster` against the hospitals and the previous year's roster.
pub fn check(roster: &Roster, hospitals: &Hospitals, previous: Option<&Roster>) -> RosterCheck {
    let mut c = RosterCheck {
        year: roster.year,
        members: roster.members.len(),
        ..RosterCheck::default()
    };
    if roster.members.len() < MIN_MEMBERS {
        c.errors.push(format!(
            "{} member(s): the data working group has at least {MIN_MEMBERS}",
            roster.members.len()
        ));
    }
    let mut per_hospital: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &roster.members {
        *per_hospital.entry(m.hospital_id.as_str()).or_default() += 1;
        match hospitals.get(&m.hospital_id) {
            Some(h) => {
                *c.by_level.entry(h.level).or_default() += 1;
                let kind = h.kind.map_or("unknown", |k| k.as_str());
                *c.by_kind.entry(kind.to_string()).or_default() += 1;
            }
            None => c.errors.push(format!(
                "member {} ({}): hospital {} is not in the hospitals file",
                m.member_id, m.name, m.hospital_id
            )),
        }
    }
    if c.by_level.len() < MIN_LEVELS {
        c.errors.push(format!(
            "the members' hospitals are of {} level(s) ({}): at least {MIN_LEVELS} levels",
            c.by_level.len(),
            c.by_level
                .keys()
                .map(|l| format!("level {l}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let known_kinds = c.by_kind.keys().filter(|k| *k != "unknown").count();
    if c.by_kind.contains_key("unknown") {
        c.warnings.push(
            "the hospitals file has no `kind` for some members' hospitals: the kinds cannot be checked for them"
                .to_string(),
        );
    }
    if known_kinds < MIN_KINDS {
        c.errors.push(format!(
            "the members' hospitals are of {known_kinds} kind(s) ({}): at least {MIN_KINDS} kinds",
            c.by_kind.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    for (h, n) in per_hospital.iter().filter(|(_, n)| **n > 2) {
        c.warnings.push(format!("{n} members from hospital {h}"));
    }
    match previous {
        None => c.warnings.push(format!(
            "no roster of {} to compare with: the rotation is not checked",
            roster.year - 1
        )),
        Some(p) => {
            let before: BTreeSet<&str> = p.members.iter().map(|m| m.member_id.as_str()).collect();
            let now: BTreeSet<&str> = roster
                .members
                .iter()
                .map(|m| m.member_id.as_str())
                .collect();
            c.stayed = now.intersection(&before).map(|s| s.to_string()).collect();
            if now == before {
                c.errors.push(format!(
                    "the same members as the roster of {}: the group changes every year",
                    p.year
                ));
            } else if c.stayed.len() * 2 > now.len() {
                c.warnings.push(format!(
                    "{} of {} members were on the roster of {} ({})",
                    c.stayed.len(),
                    now.len(),
                    p.year,
                    c.stayed.join(", ")
                ));
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSPITALS: &str = "hospital_id,name,level,credit_rating,performance_score,agreement_years,traceability_code_upload,kind\n\
        H001,a,3,A,80,5,1,general\n\
        H002,b,3,A,80,5,1,specialty\n\
        H003,c,2,A,80,5,1,general\n\
        H004,d,1,A,80,5,1,primary\n";

    fn hospitals() -> Hospitals {
        Hospitals::from_csv_str(HOSPITALS).unwrap()
    }

    fn roster(year: i32, members: &[(&str, &str)]) -> Roster {
        let mut text = String::from("member_id,name,hospital_id,title\n");
        for (id, h) in members {
            text.push_str(&format!("{id},name {id},{h},主任\n"));
        }
        Roster::from_csv_str(year, &text, "roster.csv").unwrap()
    }

    fn eight(prefix: &str) -> Vec<(String, &'static str)> {
        [
            "H001", "H002", "H003", "H004", "H001", "H002", "H003", "H004",
        ]
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("{prefix}{i}"), *h))
        .collect()
    }

    fn of<'a>(v: &'a [(String, &'static str)]) -> Vec<(&'a str, &'static str)> {
        v.iter().map(|(a, b)| (a.as_str(), *b)).collect()
    }

    #[test]
    fn a_roster_of_eight_from_two_levels_and_two_kinds_that_rotated_passes() {
        let last = roster(2024, &of(&eight("A")));
        let now = roster(2025, &of(&eight("B")));
        let c = check(&now, &hospitals(), Some(&last));
        assert!(c.passed(), "{:?}", c.errors);
        assert_eq!(c.members, 8);
        assert_eq!(c.by_level.len(), 3);
        assert_eq!(c.by_kind["general"], 4);
        assert!(c.stayed.is_empty());
        assert_eq!(now.members[0].note, "主任");
    }

    #[test]
    fn fewer_than_eight_members_is_an_error() {
        let v = eight("B");
        let c = check(&roster(2025, &of(&v[..7])), &hospitals(), None);
        assert_eq!(
            c.errors,
            ["7 member(s): the data working group has at least 8"]
        );
        assert!(c
            .warnings
            .iter()
            .any(|w| w.contains("rotation is not checked")));
    }

    #[test]
    fn one_level_or_one_kind_is_an_error() {
        let one: Vec<(String, &str)> = (0..8).map(|i| (format!("M{i}"), "H001")).collect();
        let c = check(&roster(2025, &of(&one)), &hospitals(), None);
        assert!(
            c.errors.iter().any(|e| e.contains("1 level(s) (level 3)")),
            "{:?}",
            c.errors
        );
        assert!(
            c.errors.iter().any(|e| e.contains("1 kind(s) (general)")),
            "{:?}",
            c.errors
        );
        assert!(c
            .warnings
            .iter()
            .any(|w| w == "8 members from hospital H001"));
    }

    #[test]
    fn the_same_roster_as_last_year_is_an_error_and_a_mostly_same_one_a_warning() {
        let last = roster(2024, &of(&eight("A")));
        let same = roster(2025, &of(&eight("A")));
        let c = check(&same, &hospitals(), Some(&last));
        assert!(c
            .errors
            .iter()
            .any(|e| e.contains("the same members as the roster of 2024")));
        let mut mostly = eight("A");
        mostly[0].0 = "NEW".into();
        let c = check(&roster(2025, &of(&mostly)), &hospitals(), Some(&last));
        assert!(c.passed(), "{:?}", c.errors);
        assert!(c.warnings.iter().any(|w| w.starts_with("7 of 8 members")));
    }

    #[test]
    fn an_unknown_hospital_is_an_error_naming_the_member() {
        let mut v = eight("B");
        v[3].1 = "H999";
        let c = check(&roster(2025, &of(&v)), &hospitals(), None);
        assert!(c
            .errors
            .iter()
            .any(|e| e == "member B3 (name B3): hospital H999 is not in the hospitals file"));
    }

    #[test]
    fn bad_rows_are_named_with_line_field_and_value() {
        let text = "name,member_id,hospital_id\nA,M1,H001\n,M2,H002\nC,M1,H003\n";
        let errors = Roster::from_csv_str(2025, text, "r.csv").unwrap_err();
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            [
                "r.csv line 3, field name \"\": empty",
                "r.csv line 4, field member_id \"M1\": listed twice (first on line 2)"
            ]
        );
        let e = Roster::from_csv_str(2025, "member_id,name\n", "r.csv").unwrap_err();
        assert!(e[0].to_string().contains("no column \"hospital_id\""));
    }
}
