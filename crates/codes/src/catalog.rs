//! The code catalogs: every current code with its name and a dense id, plus the maps of
//! retired codes.

use rustc_hash::FxHashMap;

use crate::repair::{repair_code, Repair, RepairSet};

/// Which catalog a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// ICD-10 医保版 2.0 diagnosis (诊断).
    Diagnosis,
    /// ICD-9-CM-3 医保版 2.0 procedure (手术操作).
    Procedure,
}

impl CodeKind {
    /// `diagnosis` or `procedure`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Diagnosis => "diagnosis",
            CodeKind::Procedure => "procedure",
        }
    }
}

/// A problem in a catalog file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("{file}:{line}: expected `CODE NAME`, found {text:?}")]
    BadLine {
        file: String,
        line: usize,
        text: String,
    },
    #[error("{file}:{line}: map target {target:?} is not in the {kind} catalog")]
    UnknownMapTarget {
        file: String,
        line: usize,
        target: String,
        kind: &'static str,
    },
}

/// One catalog: the codes of one kind, their names, and the dense ids.
#[derive(Debug, Default, Clone)]
pub struct CodeTable {
    codes: Vec<Box<str>>,
    /// every code, one after the other (the text `code(id)` returns: a result row's codes
    /// are read from one place, not from 33,000 allocations)
    arena: String,
    /// where each code ends in `arena`
    ends: Vec<u32>,
    names: Vec<Box<str>>,
    ids: FxHashMap<Box<str>, u32>,
    /// retired or alternative code → current id (identity rows dropped)
    mapped: FxHashMap<Box<str>, u32>,
    /// all codes, sorted, for the truncated-code test
    sorted: Vec<Box<str>>,
    /// the codes and retired codes of up to 16 bytes, packed: the look-up of an uploaded
    /// code (the hot path of reading a row) compares integers, no string
    packed: PackedIndex,
}

/// A code of 1 to 12 bytes (none of them NUL) as a 96-bit integer, its bytes little-endian
/// and zero-padded: two codes are equal exactly when their integers are. (Catalog codes are
/// 7 or 11 bytes but for a few dagger-asterisk pairs, which the maps serve.)
#[inline]
fn pack(code: &[u8]) -> Option<(u64, u32)> {
    if code.is_empty() || code.len() > 12 {
        return None;
    }
    let mut b = [0u8; 16];
    b[..code.len()].copy_from_slice(code);
    if b[..code.len()].contains(&0) {
        return None;
    }
    let lo = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let hi = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    Some((lo, hi))
}

/// One slot of the packed index: 16 bytes, four to a cache line.
#[derive(Debug, Clone, Copy)]
struct Slot {
    lo: u64,
    hi: u32,
    /// The id ([`PackedIndex::EMPTY`]: a free slot).
    value: u32,
}

/// 代码索引 — an open-addressing table (linear probing, at most 3/4 full) from packed
/// codes to ids, key and id side by side (a look-up touches one cache line); a retired
/// code's id carries [`PackedIndex::MAPPED`].
#[derive(Debug, Default, Clone)]
struct PackedIndex {
    slots: Vec<Slot>,
    /// `log2` of the number of slots.
    bits: u32,
}

impl PackedIndex {
    const EMPTY: u32 = u32::MAX;
    const MAPPED: u32 = 1 << 31;

    #[inline]
    fn slot(&self, (lo, hi): (u64, u32)) -> usize {
        let x = lo ^ u64::from(hi).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (x.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> (64 - self.bits)) as usize
    }

    fn build<'a>(entries: impl Iterator<Item = (&'a str, u32)> + Clone) -> PackedIndex {
        let n = entries.clone().count();
        let bits = (n.max(4) * 4 / 3 + 1)
            .next_power_of_two()
            .trailing_zeros()
            .max(3);
        let free = Slot {
            lo: 0,
            hi: 0,
            value: Self::EMPTY,
        };
        let mut t = PackedIndex {
            slots: vec![free; 1 << bits],
            bits,
        };
        let mask = (1usize << bits) - 1;
        for (code, value) in entries {
            let Some(key) = pack(code.as_bytes()) else {
                continue;
            };
            let mut i = t.slot(key);
            loop {
                let s = &mut t.slots[i];
                if s.value == Self::EMPTY {
                    *s = Slot {
                        lo: key.0,
                        hi: key.1,
                        value,
                    };
                    break;
                }
                if (s.lo, s.hi) == key {
                    break; // the first entry of a key stays
                }
                i = (i + 1) & mask;
            }
        }
        t
    }

    /// Asks the processor to load `key`'s slot now (a hint: it changes nothing).
    #[inline]
    fn prefetch(&self, key: (u64, u32)) {
        if self.slots.is_empty() {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.slots[self.slot(key)..].as_ptr().cast::<i8>();
            // SAFETY: a prefetch is a hint: it reads nothing and faults on no address.
            unsafe { std::arch::x86_64::_mm_prefetch(p, std::arch::x86_64::_MM_HINT_T0) };
        }
    }

    #[inline]
    fn get(&self, key: (u64, u32)) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let s = self.slots[i];
            if s.value == Self::EMPTY {
                return None;
            }
            if (s.lo, s.hi) == key {
                return Some(s.value);
            }
            i = (i + 1) & mask;
        }
    }
}

/// Does this text look like a code of the kind (before any catalog look-up)?
fn looks_like_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3
        && (b[0].is_ascii_alphanumeric())
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'*' | b'-'))
}

impl CodeTable {
    /// Parses a catalog file (`CODE NAME` per line). Lines that do not start with a code are
    /// headers and are skipped. A code listed twice keeps its first id.
    pub fn parse(file: &str, text: &str) -> Result<CodeTable, CatalogError> {
        let mut t = CodeTable::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            let (code, name) = line.split_once(' ').unwrap_or((line, ""));
            if !looks_like_code(code) {
                if i == 0 {
                    continue; // header line
                }
                return Err(CatalogError::BadLine {
                    file: file.to_string(),
                    line: i + 1,
                    text: line.to_string(),
                });
            }
            t.add(code, name.trim());
        }
        t.finish();
        Ok(t)
    }

    fn add(&mut self, code: &str, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(code) {
            return id;
        }
        let id = self.codes.len() as u32;
        self.codes.push(code.into());
        self.arena.push_str(code);
        self.ends.push(self.arena.len() as u32);
        self.names.push(name.into());
        self.ids.insert(code.into(), id);
        id
    }

    fn finish(&mut self) {
        self.sorted = self.codes.clone();
        self.sorted.sort_unstable();
        self.index();
    }

    /// (Re)builds the packed index of the codes and the retired codes (a code first: a
    /// retired code never hides a current one).
    fn index(&mut self) {
        let codes = self.codes.iter().enumerate().map(|(i, c)| (&**c, i as u32));
        let mapped = self
            .mapped
            .iter()
            .map(|(c, &id)| (&**c, id | PackedIndex::MAPPED));
        self.packed = PackedIndex::build(codes.chain(mapped));
    }

    /// Adds the retired-code map (`OLD NEW` per line). Identity rows are skipped; a row whose
    /// target is not in the catalog is an error.
    pub fn add_map(
        &mut self,
        file: &str,
        text: &str,
        kind: CodeKind,
    ) -> Result<usize, CatalogError> {
        let mut n = 0;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            let mut parts = line.split_whitespace();
            let (Some(old), Some(new)) = (parts.next(), parts.next()) else {
                if line.trim().is_empty() || i == 0 {
                    continue;
                }
                return Err(CatalogError::BadLine {
                    file: file.to_string(),
                    line: i + 1,
                    text: line.to_string(),
                });
            };
            if old == new {
                continue;
            }
            let Some(&id) = self.ids.get(new) else {
                return Err(CatalogError::UnknownMapTarget {
                    file: file.to_string(),
                    line: i + 1,
                    target: new.to_string(),
                    kind: kind.as_str(),
                });
            };
            self.mapped.insert(old.into(), id);
            n += 1;
        }
        self.index();
        Ok(n)
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.codes.len()
    }
    /// Whether the catalog is empty.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
    /// The id of an exact catalog code.
    #[inline]
    pub fn id(&self, code: &str) -> Option<u32> {
        match pack(code.as_bytes()) {
            Some(key) => self
                .packed
                .get(key)
                .filter(|v| v & PackedIndex::MAPPED == 0),
            None => self.ids.get(code).copied(),
        }
    }
    /// The code of an id.
    pub fn code(&self, id: u32) -> &str {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }
    /// The name (Chinese) of an id.
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }
    /// Whether `prefix` is a proper prefix of some catalog code (a truncated code).
    pub fn is_prefix_of_some(&self, prefix: &str) -> bool {
        let i = self.sorted.partition_point(|c| &**c < prefix);
        self.sorted
            .get(i)
            .is_some_and(|c| c.len() > prefix.len() && c.starts_with(prefix))
            || self
                .sorted
                .get(i + 1)
                .is_some_and(|c| c.len() > prefix.len() && c.starts_with(prefix))
    }

    /// Starts loading the index slot where [`CodeTable::lookup`] will find each code of
    /// `list` (codes separated by `|`), so that the look-ups that follow, after other work,
    /// do not each wait on memory (the index of a full catalog does not stay in a core's
    /// cache beside a batch's rows: the look-ups were a tenth of a run, most of it waiting).
    /// A hint only: a code that needs more repair than trimming is not prefetched, and
    /// nothing changes.
    #[inline]
    pub fn prefetch(&self, list: &str) {
        for code in list.as_bytes().split(|&b| b == b'|') {
            if let Some(key) = pack(code.trim_ascii()) {
                self.packed.prefetch(key);
            }
        }
    }

    /// Repairs and looks up one uploaded code: exact code, else the retired-code map; else says
    /// whether the code is truncated or unknown.
    pub fn lookup(&self, raw: &str) -> Result<Lookup, LookupError> {
        let (code, mut repairs) = repair_code(raw);
        if code.is_empty() {
            return Err(LookupError::Empty);
        }
        match pack(code.as_bytes()) {
            Some(key) => match self.packed.get(key) {
                Some(v) if v & PackedIndex::MAPPED == 0 => return Ok(Lookup { id: v, repairs }),
                Some(v) => {
                    repairs.insert(Repair::Mapped);
                    return Ok(Lookup {
                        id: v & !PackedIndex::MAPPED,
                        repairs,
                    });
                }
                None => {}
            },
            None => {
                if let Some(&id) = self.ids.get(&*code) {
                    return Ok(Lookup { id, repairs });
                }
                if let Some(&id) = self.mapped.get(&*code) {
                    repairs.insert(Repair::Mapped);
                    return Ok(Lookup { id, repairs });
                }
            }
        }
        if self.is_prefix_of_some(&code) {
            return Err(LookupError::Truncated(code.into_owned()));
        }
        Err(LookupError::Unknown(code.into_owned()))
    }
}

/// A successful look-up: the id and the repairs made to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    pub id: u32,
    pub repairs: RepairSet,
}

/// Why an uploaded code is not a catalog code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("empty code")]
    Empty,
    #[error("truncated code {0:?} (only a prefix of catalog codes)")]
    Truncated(String),
    #[error("unknown code {0:?} (not in the catalog nor in the retired-code map)")]
    Unknown(String),
}

/// Both catalogs.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    pub diagnoses: CodeTable,
    pub procedures: CodeTable,
}

impl Catalog {
    /// The table of one kind.
    pub fn table(&self, kind: CodeKind) -> &CodeTable {
        match kind {
            CodeKind::Diagnosis => &self.diagnoses,
            CodeKind::Procedure => &self.procedures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> CodeTable {
        let mut t = CodeTable::parse(
            "diagnoses.dat",
            "K86.100 慢性胰腺炎\nK86.102 酒精性慢性胰腺炎\nA02.201+J17.0* 沙门菌肺炎\nA01.003 伤寒\n",
        )
        .unwrap();
        t.add_map(
            "map",
            "A01.000x002 A01.003\nK86.100 K86.100\n",
            CodeKind::Diagnosis,
        )
        .unwrap();
        t
    }

    #[test]
    fn exact_codes_are_found_and_ids_are_dense() {
        let t = table();
        assert_eq!(t.len(), 4);
        assert_eq!(t.id("K86.102"), Some(1));
        assert_eq!(t.code(2), "A02.201+J17.0*");
        assert_eq!(t.name(0), "慢性胰腺炎");
    }

    #[test]
    fn a_retired_code_is_mapped_and_the_repair_recorded() {
        let l = table().lookup("a01.000X002").unwrap();
        assert_eq!(l.id, 3);
        assert!(l.repairs.contains(Repair::Mapped));
        assert!(l.repairs.contains(Repair::LetterCase));
    }

    #[test]
    fn a_prefix_of_catalog_codes_is_truncated_not_unknown() {
        let t = table();
        assert_eq!(
            t.lookup("K86.1"),
            Err(LookupError::Truncated("K86.1".into()))
        );
        assert_eq!(
            t.lookup("Z99.999x999"),
            Err(LookupError::Unknown("Z99.999x999".into()))
        );
        assert_eq!(t.lookup("  "), Err(LookupError::Empty));
    }

    #[test]
    fn the_packed_index_finds_what_the_maps_hold() {
        // codes of 3 to 22 bytes (past the 12 packed ones), and a retired code for each third
        let codes: Vec<String> = (0..3000)
            .map(|i| format!("C{i:0w$}", w = i % 20 + 2))
            .collect();
        let text: String = codes.iter().map(|c| format!("{c} n\n")).collect();
        let mut t = CodeTable::parse("d", &text).unwrap();
        let map: String = (0..1000)
            .map(|i| format!("R{i:0w$} {}\n", codes[i * 3], w = i % 20 + 2))
            .collect();
        t.add_map("m", &map, CodeKind::Diagnosis).unwrap();
        for (i, c) in codes.iter().enumerate() {
            assert_eq!(t.id(c), Some(i as u32), "{c}");
            let l = t.lookup(c).unwrap();
            assert_eq!((l.id, l.repairs.is_empty()), (i as u32, true), "{c}");
        }
        for i in 0..1000 {
            let old = format!("R{i:0w$}", w = i % 20 + 2);
            assert_eq!(t.id(&old), None, "a retired code is no catalog code");
            let l = t.lookup(&old).unwrap();
            assert_eq!(l.id, (i * 3) as u32, "{old}");
            assert!(l.repairs.contains(Repair::Mapped));
        }
        for unknown in [
            "C9999",
            "C00000000000000000000009999",
            "Q12",
            "C00\0",
            "\0\0\0",
        ] {
            assert!(t.id(unknown).is_none(), "{unknown:?}");
            assert!(t.lookup(unknown).is_err(), "{unknown:?}");
        }
        // a code that is also some retired code's old name stays itself
        let mut t = table();
        t.add_map("m2", "K86.102 A01.003\n", CodeKind::Diagnosis)
            .unwrap();
        assert_eq!(t.lookup("K86.102").unwrap().id, 1);
    }

    #[test]
    fn a_map_to_a_missing_code_is_an_error() {
        let mut t = table();
        let e = t
            .add_map("m.dat", "OLD.1 NEW.2\n", CodeKind::Diagnosis)
            .unwrap_err();
        assert!(e.to_string().contains("m.dat:1"));
    }

    #[test]
    fn a_malformed_line_is_reported_with_file_and_line() {
        let e = CodeTable::parse("d.dat", "header\nK86.100 x\n慢性 胰腺炎\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "d.dat:3: expected `CODE NAME`, found \"慢性 胰腺炎\""
        );
    }
}
