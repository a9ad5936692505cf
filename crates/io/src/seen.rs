//! The repeated-case-id check (病案号重复) of a batch run, in bounded memory.
//!
//! Each case id is kept as a 64-bit hash with the line of its first row, in a table of at
//! most [`IdCheckLimits::table_ids`] ids (36 MB at the default). A file with more distinct
//! ids, when it is a named file, is read a second time for its ids alone when the table
//! fills: the ids of the rows from there on are sorted on disk (runs of
//! [`IdCheckLimits::sort_ids`] entries, merged), which gives each later repeat the line of
//! its first row, and the run goes on from the table and that sorted list. The memory no
//! longer grows with the file; the answers are the same as a table of every id would give.
//! Standard input cannot be read twice: past the table's bound its table goes on growing
//! (16 bytes an id).

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::batch::{BatchError, RowIn};
use crate::reader::{CaseReader, InputSpec};
use crate::record::ReadOptions;

/// The bounds of the repeated-id check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdCheckLimits {
    /// Distinct ids held in memory (16 bytes each, plus the table's slack) before a named
    /// file is read a second time for its ids.
    pub table_ids: usize,
    /// Entries (24 bytes each) sorted in memory at a time in that second reading.
    pub sort_ids: usize,
}

impl Default for IdCheckLimits {
    fn default() -> Self {
        IdCheckLimits {
            // the capacity of a table of 2^21 slots (7/8 of them), so it never grows past
            table_ids: 1_835_008,
            sort_ids: 1 << 20,
        }
    }
}

/// The 64-bit hash of a case id (its surrounding blanks ignored): foldhash's quality variant
/// with a fixed seed, so that a run is repeatable (a false "repeated" needs two ids of one
/// file colliding on 64 bits).
pub(crate) fn id_hash(field: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    const SEED: foldhash::quality::FixedState =
        foldhash::quality::FixedState::with_seed(0x6472_6764);
    SEED.hash_one(field.trim_ascii())
}

/// The hash of a row's case id, `None` when it has none (or a blank one).
fn row_id(row: &RowIn, id_pos: Option<usize>) -> Option<u64> {
    id_pos
        .and_then(|i| row.record.get(i))
        .filter(|f| !f.trim_ascii().is_empty())
        .map(id_hash)
}

/// Where the input can be read again, and how.
pub(crate) struct Reread {
    pub path: PathBuf,
    pub spec: InputSpec,
    pub read: ReadOptions,
}

/// The check over the rows of one run, in input order.
pub(crate) struct SeenIds {
    table: FxHashMap<u64, u64>,
    limits: IdCheckLimits,
    id_pos: Option<usize>,
    reread: Option<Reread>,
    /// Rows checked so far.
    seq: u64,
    /// Past the table's bound: the repeats of the later rows, by row.
    later: Option<Repeats>,
}

impl SeenIds {
    pub fn new(id_pos: Option<usize>, reread: Option<Reread>, limits: IdCheckLimits) -> SeenIds {
        SeenIds {
            table: FxHashMap::default(),
            limits,
            id_pos,
            reread,
            seq: 0,
            later: None,
        }
    }

    /// The line of an earlier row with the case id of `row`, the next row of the input.
    pub fn check(&mut self, row: &RowIn) -> Result<Option<u64>, BatchError> {
        let seq = self.seq;
        self.seq += 1;
        let Some(h) = row_id(row, self.id_pos) else {
            return Ok(None);
        };
        if let Some(&first) = self.table.get(&h) {
            return Ok(Some(first));
        }
        if let Some(later) = &mut self.later {
            return later.at(seq).map_err(temp_error);
        }
        if self.table.len() < self.limits.table_ids {
            self.table.insert(h, row.line);
            return Ok(None);
        }
        match &self.reread {
            None => {
                self.table.insert(h, row.line);
                Ok(None)
            }
            Some(reread) => {
                let mut later = repeats_from(reread, seq, &self.table, self.limits)?;
                let first = later.at(seq).map_err(temp_error)?;
                self.later = Some(later);
                Ok(first)
            }
        }
    }
}

fn temp_error(e: std::io::Error) -> BatchError {
    BatchError::Read(format!(
        "the repeated-case-id check's temporary file: {e} (set TMPDIR to a disk with room)"
    ))
}

/// Reads the input again and lists, in row order, each row from row `from` on whose id
/// (not one of `table`'s) an earlier row from `from` on has, with that row's line.
fn repeats_from(
    reread: &Reread,
    from: u64,
    table: &FxHashMap<u64, u64>,
    limits: IdCheckLimits,
) -> Result<Repeats, BatchError> {
    let file = File::open(&reread.path).map_err(|e| {
        BatchError::Read(format!(
            "cannot read {} again for the repeated-case-id check: {e}",
            reread.path.display()
        ))
    })?;
    let mut rdr = CaseReader::open(BufReader::with_capacity(1 << 20, file), &reread.spec)?;
    let id_pos = rdr.columns(reread.read)?.pos("case_id");
    let mut ids = ExternalSort::new(limits.sort_ids);
    let mut row = RowIn::default();
    let mut seq = 0u64;
    // a read error ends the list where the run itself will stop with it
    while let Ok(true) = rdr.next_row_into(&mut row) {
        if seq >= from {
            if let Some(h) = row_id(&row, id_pos).filter(|h| !table.contains_key(h)) {
                ids.push([h, seq, row.line]).map_err(temp_error)?;
            }
        }
        seq += 1;
    }
    drop(rdr);
    // by id, then row: the first entry of each id is its first row
    let mut repeats = ExternalSort::new(limits.sort_ids);
    let mut current: Option<(u64, u64)> = None;
    for entry in ids.finish().map_err(temp_error)? {
        let [h, seq, line] = entry.map_err(temp_error)?;
        match current {
            Some((id, first)) if id == h => repeats.push([seq, first, 0]).map_err(temp_error)?,
            _ => current = Some((h, line)),
        }
    }
    Ok(Repeats {
        iter: repeats.finish().map_err(temp_error)?,
        next: None,
    })
}

/// The repeats of the later rows, `[row, first line, 0]` in row order.
struct Repeats {
    iter: Sorted,
    next: Option<[u64; 3]>,
}

impl Repeats {
    /// The first line of row `seq`'s id when the row repeats it (rows asked in order).
    fn at(&mut self, seq: u64) -> std::io::Result<Option<u64>> {
        loop {
            if self.next.is_none() {
                match self.iter.next() {
                    Some(e) => self.next = Some(e?),
                    None => return Ok(None),
                }
            }
            match self.next {
                Some([s, first, _]) if s == seq => {
                    self.next = None;
                    return Ok(Some(first));
                }
                Some([s, ..]) if s < seq => self.next = None,
                _ => return Ok(None),
            }
        }
    }
}

/// Runs merged at a time (each an open file with a 64 KiB buffer).
const FAN_IN: usize = 64;
const ENTRY_BYTES: usize = 24;

/// An external sort of `[u64; 3]` entries: runs sorted in memory, written to unnamed
/// temporary files, merged.
struct ExternalSort {
    buf: Vec<[u64; 3]>,
    cap: usize,
    runs: Vec<File>,
}

impl ExternalSort {
    fn new(cap: usize) -> ExternalSort {
        ExternalSort {
            buf: Vec::new(),
            cap: cap.max(2),
            runs: Vec::new(),
        }
    }

    fn push(&mut self, entry: [u64; 3]) -> std::io::Result<()> {
        self.buf.push(entry);
        if self.buf.len() >= self.cap {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        self.buf.sort_unstable();
        let mut w = BufWriter::with_capacity(1 << 16, tempfile::tempfile()?);
        for e in &self.buf {
            write_entry(&mut w, e)?;
        }
        self.buf.clear();
        self.runs.push(finish_run(w)?);
        if self.runs.len() >= FAN_IN {
            // the runs so far merged into one, so that no more than FAN_IN are open
            let merged = Merge::new(std::mem::take(&mut self.runs))?;
            let mut w = BufWriter::with_capacity(1 << 16, tempfile::tempfile()?);
            for e in merged {
                write_entry(&mut w, &e?)?;
            }
            self.runs.push(finish_run(w)?);
        }
        Ok(())
    }

    /// The entries in order.
    fn finish(mut self) -> std::io::Result<Sorted> {
        if self.runs.is_empty() {
            self.buf.sort_unstable();
            return Ok(Sorted::Memory(std::mem::take(&mut self.buf).into_iter()));
        }
        if !self.buf.is_empty() {
            self.spill()?;
        }
        self.buf = Vec::new();
        Ok(Sorted::Merge(Merge::new(std::mem::take(&mut self.runs))?))
    }
}

fn write_entry(w: &mut impl Write, e: &[u64; 3]) -> std::io::Result<()> {
    let mut b = [0u8; ENTRY_BYTES];
    for (chunk, v) in b.chunks_exact_mut(8).zip(e) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    w.write_all(&b)
}

fn finish_run(w: BufWriter<File>) -> std::io::Result<File> {
    let mut f = w.into_inner().map_err(|e| e.into_error())?;
    f.rewind()?;
    Ok(f)
}

fn read_entry(r: &mut impl Read) -> std::io::Result<Option<[u64; 3]>> {
    let mut b = [0u8; ENTRY_BYTES];
    match r.read_exact(&mut b) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut e = [0u64; 3];
    for (v, chunk) in e.iter_mut().zip(b.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *v = u64::from_le_bytes(word);
    }
    Ok(Some(e))
}

enum Sorted {
    Memory(std::vec::IntoIter<[u64; 3]>),
    Merge(Merge),
}

impl Iterator for Sorted {
    type Item = std::io::Result<[u64; 3]>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Sorted::Memory(it) => it.next().map(Ok),
            Sorted::Merge(m) => m.next(),
        }
    }
}

/// A k-way merge of sorted runs.
struct Merge {
    runs: Vec<BufReader<File>>,
    heap: BinaryHeap<std::cmp::Reverse<([u64; 3], usize)>>,
}

impl Merge {
    fn new(files: Vec<File>) -> std::io::Result<Merge> {
        let mut runs: Vec<BufReader<File>> = files
            .into_iter()
            .map(|f| BufReader::with_capacity(1 << 16, f))
            .collect();
        let mut heap = BinaryHeap::with_capacity(runs.len());
        for (i, r) in runs.iter_mut().enumerate() {
            if let Some(e) = read_entry(r)? {
                heap.push(std::cmp::Reverse((e, i)));
            }
        }
        Ok(Merge { runs, heap })
    }
}

impl Iterator for Merge {
    type Item = std::io::Result<[u64; 3]>;

    fn next(&mut self) -> Option<Self::Item> {
        let std::cmp::Reverse((e, i)) = self.heap.pop()?;
        match read_entry(&mut self.runs[i]) {
            Ok(Some(n)) => self.heap.push(std::cmp::Reverse((n, i))),
            Ok(None) => {}
            Err(err) => return Some(Err(err)),
        }
        Some(Ok(e))
    }
}

/// The named file a batch reads, when it has one (`-` is standard input).
pub fn file_source(path: &Path) -> Option<PathBuf> {
    (path != Path::new("-")).then(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(cap: usize, entries: &[[u64; 3]]) -> Vec<[u64; 3]> {
        let mut s = ExternalSort::new(cap);
        for e in entries {
            s.push(*e).unwrap();
        }
        s.finish().unwrap().map(|e| e.unwrap()).collect()
    }

    proptest! {
        #[test]
        fn the_external_sort_sorts(entries in proptest::collection::vec(
            (0u64..50, any::<u64>(), any::<u64>()).prop_map(|(a, b, c)| [a, b, c]), 0..3000),
            cap in 2usize..200) {
            let mut want = entries.clone();
            want.sort_unstable();
            prop_assert_eq!(sorted(cap, &entries), want);
        }
    }

    #[test]
    fn more_runs_than_the_fan_in_are_merged_in_steps() {
        let entries: Vec<[u64; 3]> = (0..10_000u64).rev().map(|i| [i % 97, i, 0]).collect();
        let mut want = entries.clone();
        want.sort_unstable();
        // 10,000 / 7 runs: the fan-in merge runs many times
        assert_eq!(sorted(7, &entries), want);
    }
}
