//! DIP keys of a case: the diagnosis key (亚目), its category (类目) and chapter, the procedure key
//! (a set of 细目) and the procedure class, plus the readable group ids built from them
//! (`payment-model.md` §3, "Keys" and "Comprehensive groups").

use std::fmt;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use crate::case::DipCase;

/// The two procedure lists of the DRG scheme that DIP needs. The caller loads them (the CLI reads
/// the scheme's `SS_INVALID.dat` and `SS_VALID.dat`); codes are matched exactly, as full codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcedureSets {
    /// Procedures that take no part in grouping (`SS_INVALID`): left out of the procedure key
    /// and of the procedure class.
    pub ss_invalid: FxHashSet<String>,
    /// 有效手术操作 — valid operating-room procedures of the DRG scheme (`SS_VALID`).
    pub or_valid: FxHashSet<String>,
}

impl ProcedureSets {
    /// Whether a procedure takes part in DIP (it is not in `SS_INVALID`).
    pub fn counts(&self, procedure: &str) -> bool {
        !self.ss_invalid.contains(procedure)
    }
}

/// The treatment class of a comprehensive group (治疗方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcedureClass {
    /// 相关手术 — some procedure is a valid operating-room procedure (`SS_VALID`).
    Surgery,
    /// 治疗性操作 — else some procedure lies in ICD-9-CM-3 chapters 00–86 or 93–99.
    Therapeutic,
    /// 诊断性操作 — else some procedure remains (chapters 87–92, or a code whose chapter
    /// cannot be read).
    Diagnostic,
    /// 保守治疗 — no procedure takes part in DIP.
    Conservative,
}

impl ProcedureClass {
    /// All classes, in priority order.
    pub const ALL: [ProcedureClass; 4] = [
        ProcedureClass::Surgery,
        ProcedureClass::Therapeutic,
        ProcedureClass::Diagnostic,
        ProcedureClass::Conservative,
    ];

    /// The name used in group ids and files.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcedureClass::Surgery => "surgery",
            ProcedureClass::Therapeutic => "therapeutic",
            ProcedureClass::Diagnostic => "diagnostic",
            ProcedureClass::Conservative => "conservative",
        }
    }

    /// Reads a name written by [`ProcedureClass::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ProcedureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The code of one diagnosis without the asterisk part of a dagger/asterisk pair and without a
/// trailing `*` or `†` mark.
fn diagnosis_main_code(code: &str) -> &str {
    let main = code.split('+').next().unwrap_or("").trim();
    main.trim_end_matches(['*', '†'])
}

/// 亚目 — the diagnosis key: the code up to and including the first character after the dot,
/// taken from the part before `+` of a dagger/asterisk pair (`K80.100x001` → `K80.1`,
/// `A02.201+J17.0*` → `A02.2`, `B99.x01` → `B99.x`). A code without a dot is its own key.
pub fn diagnosis_key(code: &str) -> &str {
    let main = diagnosis_main_code(code);
    match main.find('.') {
        Some(dot) => match main[dot + 1..].chars().next() {
            Some(c) => &main[..dot + 1 + c.len_utf8()],
            None => &main[..dot],
        },
        None => main,
    }
}

/// The first `n` characters of `s` (all of it when shorter).
fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// 类目 — the diagnosis' 3-character category (`K80.100x001` → `K80`).
pub fn diagnosis_category(code: &str) -> &str {
    prefix_chars(diagnosis_key(code), 3)
}

/// The diagnosis chapter as the project defines it: the first letter of the code (`K80.1` → `K`).
pub fn diagnosis_chapter(code: &str) -> &str {
    prefix_chars(diagnosis_key(code), 1)
}

/// 细目 — a procedure cut to `xx.xx`, its first five characters (`37.5100x001` → `37.51`).
pub fn procedure_item(code: &str) -> &str {
    prefix_chars(code.trim(), 5)
}

/// The procedures that take part in DIP (not in `SS_INVALID`).
fn counted<'a>(
    procedures: &'a [String],
    sets: &'a ProcedureSets,
) -> impl Iterator<Item = &'a str> + 'a {
    procedures
        .iter()
        .map(|p| p.trim())
        .filter(move |p| !p.is_empty() && sets.counts(p))
}

/// The procedure key as borrowed 细目: sorted, de-duplicated, `SS_INVALID` left out.
pub fn procedure_items<'a>(procedures: &'a [String], sets: &'a ProcedureSets) -> Vec<&'a str> {
    let mut items: Vec<&str> = counted(procedures, sets).map(procedure_item).collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// The procedure key of a DIP combination: the sorted, de-duplicated 细目 of the procedures not
/// in `SS_INVALID`; empty means 保守治疗 (conservative treatment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcedureKey {
    items: Vec<String>,
}

/// How an empty procedure key is written.
pub const CONSERVATIVE_KEY: &str = "conservative";
/// The separator between the 细目 of a written procedure key.
pub const ITEM_SEPARATOR: char = '+';

impl ProcedureKey {
    /// The key of a case's procedures.
    pub fn of(procedures: &[String], sets: &ProcedureSets) -> Self {
        ProcedureKey {
            items: procedure_items(procedures, sets)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }

    /// The 细目, sorted and unique.
    pub fn items(&self) -> &[String] {
        &self.items
    }

    /// Whether this is the conservative-treatment key.
    pub fn is_conservative(&self) -> bool {
        self.items.is_empty()
    }

    /// Reads a key written by `Display` (`51.22+51.23`, or `conservative`).
    pub fn parse(s: &str) -> Option<Self> {
        if s == CONSERVATIVE_KEY {
            return Some(ProcedureKey::default());
        }
        let items: Vec<String> = s.split(ITEM_SEPARATOR).map(str::to_owned).collect();
        let canonical = items
            .iter()
            .all(|i| !i.is_empty() && i.as_str() != CONSERVATIVE_KEY)
            && items.windows(2).all(|w| w[0] < w[1]);
        canonical.then_some(ProcedureKey { items })
    }
}

impl fmt::Display for ProcedureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_items(f, self.items.iter().map(String::as_str))
    }
}

fn write_items<'a, W: fmt::Write>(
    out: &mut W,
    mut items: impl Iterator<Item = &'a str>,
) -> fmt::Result {
    match items.next() {
        None => out.write_str(CONSERVATIVE_KEY),
        Some(first) => {
            out.write_str(first)?;
            for item in items {
                out.write_char(ITEM_SEPARATOR)?;
                out.write_str(item)?;
            }
            Ok(())
        }
    }
}

/// The ICD-9-CM-3 chapter of a procedure (its first two digits), if it has one.
fn procedure_chapter(code: &str) -> Option<u8> {
    let b = code.as_bytes();
    match b {
        [a, c, ..] if a.is_ascii_digit() && c.is_ascii_digit() => {
            Some((a - b'0') * 10 + (c - b'0'))
        }
        _ => None,
    }
}

/// The procedure class of a case, over its procedures not in `SS_INVALID` (so that an empty
/// procedure key is always `conservative`): `surgery` if one is in `SS_VALID`, else
/// `therapeutic` if one lies in chapters 00–86 or 93–99, else `diagnostic` if any remains,
/// else `conservative`.
pub fn procedure_class(procedures: &[String], sets: &ProcedureSets) -> ProcedureClass {
    let mut therapeutic = false;
    let mut any = false;
    for p in counted(procedures, sets) {
        if sets.or_valid.contains(p) {
            return ProcedureClass::Surgery;
        }
        any = true;
        if matches!(procedure_chapter(p), Some(0..=86 | 93..=99)) {
            therapeutic = true;
        }
    }
    match (therapeutic, any) {
        (true, _) => ProcedureClass::Therapeutic,
        (false, true) => ProcedureClass::Diagnostic,
        (false, false) => ProcedureClass::Conservative,
    }
}

/// All keys of one case, borrowed from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseKeys<'a> {
    /// 亚目 of the principal diagnosis.
    pub diagnosis_key: &'a str,
    /// 类目 (3 characters).
    pub category: &'a str,
    /// First letter.
    pub chapter: &'a str,
    /// The procedure key's 细目, sorted and unique (empty: conservative).
    pub procedure_items: Vec<&'a str>,
    /// The procedure class.
    pub class: ProcedureClass,
}

/// The keys of a case, or `None` when it has no principal diagnosis.
pub fn case_keys<'a>(case: &'a DipCase, sets: &'a ProcedureSets) -> Option<CaseKeys<'a>> {
    let principal = case.diagnoses.first()?;
    let diagnosis_key = diagnosis_key(principal);
    if diagnosis_key.is_empty() {
        return None;
    }
    Some(CaseKeys {
        diagnosis_key,
        category: prefix_chars(diagnosis_key, 3),
        chapter: prefix_chars(diagnosis_key, 1),
        procedure_items: procedure_items(&case.procedures, sets),
        class: procedure_class(&case.procedures, sets),
    })
}

/// Group-id prefixes, one per kind.
pub(crate) mod prefix {
    pub const CORE: &str = "C:";
    pub const COMPREHENSIVE: &str = "Z:";
    pub const CHAPTER: &str = "H:";
    pub const REGION: &str = "R:";
}

/// Id of a core group: `C:<亚目>|<procedure key>` (`C:K80.1|51.22+51.23`, `C:I10.x|conservative`).
pub fn core_group_id(diagnosis_key: &str, procedure_items: &[&str]) -> String {
    let mut id = String::with_capacity(16 + 8 * procedure_items.len());
    id.push_str(prefix::CORE);
    id.push_str(diagnosis_key);
    id.push('|');
    // Writing to a String cannot fail.
    let _ = write_items(&mut id, procedure_items.iter().copied());
    id
}

/// Id of a comprehensive group: `Z:<类目>|<class>` (`Z:K80|surgery`).
pub fn comprehensive_group_id(category: &str, class: ProcedureClass) -> String {
    format!("{}{category}|{class}", prefix::COMPREHENSIVE)
}

/// Id of a chapter group: `H:<letter>|<class>` (`H:K|surgery`).
pub fn chapter_group_id(chapter: &str, class: ProcedureClass) -> String {
    format!("{}{chapter}|{class}", prefix::CHAPTER)
}

/// Id of a region-wide class group: `R:<class>` (`R:surgery`).
pub fn region_group_id(class: ProcedureClass) -> String {
    format!("{}{class}", prefix::REGION)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sets(invalid: &[&str], or_valid: &[&str]) -> ProcedureSets {
        ProcedureSets {
            ss_invalid: invalid.iter().map(|s| s.to_string()).collect(),
            or_valid: or_valid.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn v(codes: &[&str]) -> Vec<String> {
        codes.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_diagnosis_key_is_the_sub_category_up_to_the_first_character_after_the_dot() {
        assert_eq!(diagnosis_key("K80.100x001"), "K80.1");
        assert_eq!(diagnosis_key("K80.1"), "K80.1");
        assert_eq!(diagnosis_key("B99.x01"), "B99.x");
        assert_eq!(diagnosis_key("I10.x00x002"), "I10.x");
        assert_eq!(diagnosis_key("R69"), "R69");
        assert_eq!(diagnosis_key("R69."), "R69");
        assert_eq!(diagnosis_key(""), "");
    }

    #[test]
    fn a_dagger_asterisk_pair_is_keyed_by_the_part_before_the_plus() {
        assert_eq!(diagnosis_key("A02.201+J17.0*"), "A02.2");
        assert_eq!(diagnosis_category("A02.201+J17.0*"), "A02");
        assert_eq!(diagnosis_chapter("A02.201+J17.0*"), "A");
        assert_eq!(diagnosis_key("A60.000x003+N77.1*"), "A60.0");
        assert_eq!(diagnosis_key("G63*"), "G63");
    }

    #[test]
    fn category_is_three_characters_and_chapter_the_first_letter() {
        assert_eq!(diagnosis_category("K80.100x001"), "K80");
        assert_eq!(diagnosis_chapter("K80.100x001"), "K");
        assert_eq!(diagnosis_category("B99.x01"), "B99");
    }

    #[test]
    fn the_procedure_item_is_the_first_five_characters() {
        assert_eq!(procedure_item("07.7202"), "07.72");
        assert_eq!(procedure_item("14.6x02"), "14.6x");
        assert_eq!(procedure_item("37.5100x001"), "37.51");
        assert_eq!(procedure_item("99.0"), "99.0");
    }

    #[test]
    fn the_procedure_key_is_sorted_de_duplicated_and_drops_ss_invalid() {
        let s = sets(&["99.0401"], &[]);
        let procs = v(&["51.2300x001", "07.7202", "51.2301", "99.0401", "07.7203"]);
        assert_eq!(procedure_items(&procs, &s), vec!["07.72", "51.23"]);
        let key = ProcedureKey::of(&procs, &s);
        assert_eq!(key.to_string(), "07.72+51.23");
        assert_eq!(ProcedureKey::parse("07.72+51.23"), Some(key));
    }

    #[test]
    fn only_ss_invalid_procedures_make_a_conservative_key() {
        let s = sets(&["99.0401", "00.5800"], &["00.5800"]);
        let procs = v(&["99.0401", "00.5800"]);
        let key = ProcedureKey::of(&procs, &s);
        assert!(key.is_conservative());
        assert_eq!(key.to_string(), "conservative");
        assert_eq!(ProcedureKey::parse("conservative"), Some(key));
        assert_eq!(procedure_class(&procs, &s), ProcedureClass::Conservative);
    }

    #[test]
    fn a_procedure_key_that_is_not_canonical_does_not_parse() {
        assert_eq!(ProcedureKey::parse("51.23+07.72"), None);
        assert_eq!(ProcedureKey::parse("07.72+07.72"), None);
        assert_eq!(ProcedureKey::parse(""), None);
    }

    #[test]
    fn a_valid_or_procedure_anywhere_makes_surgery() {
        let s = sets(&[], &["51.2300x001"]);
        assert_eq!(
            procedure_class(&v(&["88.0101", "51.2300x001"]), &s),
            ProcedureClass::Surgery
        );
    }

    #[test]
    fn chapters_00_to_86_and_93_to_99_are_therapeutic() {
        let s = sets(&[], &[]);
        for code in ["00.1000", "14.6x02", "86.2200x011", "93.3900", "99.2501"] {
            assert_eq!(
                procedure_class(&v(&["88.0101", code]), &s),
                ProcedureClass::Therapeutic,
                "{code}"
            );
        }
    }

    #[test]
    fn chapters_87_to_92_alone_are_diagnostic() {
        let s = sets(&[], &[]);
        for code in ["87.0300", "88.0101", "89.5200", "92.0100"] {
            assert_eq!(procedure_class(&v(&[code]), &s), ProcedureClass::Diagnostic);
        }
        assert_eq!(procedure_class(&v(&["?"]), &s), ProcedureClass::Diagnostic);
    }

    #[test]
    fn no_procedure_is_conservative() {
        assert_eq!(
            procedure_class(&[], &sets(&[], &[])),
            ProcedureClass::Conservative
        );
    }

    #[test]
    fn group_ids_are_readable() {
        assert_eq!(core_group_id("K80.1", &["51.23"]), "C:K80.1|51.23");
        assert_eq!(
            core_group_id("K80.1", &["51.22", "51.23"]),
            "C:K80.1|51.22+51.23"
        );
        assert_eq!(core_group_id("I10.x", &[]), "C:I10.x|conservative");
        assert_eq!(
            comprehensive_group_id("K80", ProcedureClass::Surgery),
            "Z:K80|surgery"
        );
        assert_eq!(
            chapter_group_id("K", ProcedureClass::Surgery),
            "H:K|surgery"
        );
        assert_eq!(region_group_id(ProcedureClass::Diagnostic), "R:diagnostic");
    }

    #[test]
    fn case_keys_need_a_principal_diagnosis() {
        let s = sets(&[], &["51.2300x001"]);
        let mut case = DipCase {
            case_id: "1".into(),
            diagnoses: v(&["K80.100x001", "I10.x00"]),
            procedures: v(&["51.2300x001"]),
            severity: crate::Severity::None,
            age_years: 40,
            discharge_way: "1".into(),
            total_cost: rust_decimal::Decimal::ONE,
            fund_paid: rust_decimal::Decimal::ONE,
            hospital_level: 3,
        };
        let keys = case_keys(&case, &s).unwrap();
        assert_eq!(keys.diagnosis_key, "K80.1");
        assert_eq!(keys.category, "K80");
        assert_eq!(keys.chapter, "K");
        assert_eq!(keys.procedure_items, vec!["51.23"]);
        assert_eq!(keys.class, ProcedureClass::Surgery);
        case.diagnoses.clear();
        assert_eq!(case_keys(&case, &s), None);
    }
}
