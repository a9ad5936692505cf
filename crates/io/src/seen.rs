//! The repeated-case-id check (病案号重复) of a batch run, in bounded memory.
//!
//! Each case id is kept as a 64-bit hash with the line of its first row, in a table of at
//! most [`IdCheckLimits::table_ids`] ids (32 MiB at the default). A file with more distinct
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
use std::path::PathBuf;

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
            // 7/8 of a table of 2^21 slots (32 MiB), so that it never grows past
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
    table: IdTable,
    limits: IdCheckLimits,
    id_pos: Option<usize>,
    reread: Option<Reread>,
    /// Rows checked so far.
    seq: u64,
    /// Past the table's bound: the repeats of the later rows, by row.
    later: Option<Repeats>,
    /// The hashes of the rows being marked (reused).
    hashes: Vec<Option<u64>>,
}

impl SeenIds {
    pub fn new(id_pos: Option<usize>, reread: Option<Reread>, limits: IdCheckLimits) -> SeenIds {
        // a named file's size tells how large the table will grow (no row of a case file
        // is shorter than about 64 bytes): made that size at once, the table is not copied
        // as it grows, and its memory is faulted in once
        let expected = reread
            .as_ref()
            .and_then(|r| std::fs::metadata(&r.path).ok())
            .map_or(0, |m| usize::try_from(m.len() / 64).unwrap_or(usize::MAX))
            .min(limits.table_ids);
        SeenIds {
            table: IdTable::with_capacity(expected),
            limits,
            id_pos,
            reread,
            seq: 0,
            later: None,
            hashes: Vec::new(),
        }
    }

    /// Marks each row of `rows`, the next rows of the input, with the line of an earlier row
    /// of its case id. An error (a temporary file) leaves the rows from the failed one on
    /// unmarked.
    pub fn mark(&mut self, rows: &mut [RowIn]) -> Result<(), BatchError> {
        let mut hashes = std::mem::take(&mut self.hashes);
        hashes.clear();
        hashes.extend(rows.iter().map(|r| row_id(r, self.id_pos)));
        let result = self.mark_hashed(rows, &hashes);
        self.hashes = hashes;
        result
    }

    fn mark_hashed(
        &mut self,
        rows: &mut [RowIn],
        hashes: &[Option<u64>],
    ) -> Result<(), BatchError> {
        // the slots a few rows ahead fetched while this row's is read: the table is larger
        // than the caches, and a row's look-up is otherwise one wait on memory
        const AHEAD: usize = 12;
        for h in hashes.iter().take(AHEAD).flatten() {
            self.table.prefetch(*h);
        }
        for (i, (row, h)) in rows.iter_mut().zip(hashes).enumerate() {
            if let Some(Some(next)) = hashes.get(i + AHEAD) {
                self.table.prefetch(*next);
            }
            let seq = self.seq;
            self.seq += 1;
            row.duplicate_of = match *h {
                None => None,
                Some(h) => self.check(seq, h, row.line)?,
            };
        }
        Ok(())
    }

    fn check(&mut self, seq: u64, h: u64, line: u64) -> Result<Option<u64>, BatchError> {
        let room = self.later.is_none()
            && (self.table.len() < self.limits.table_ids || self.reread.is_none());
        if room {
            return Ok(self.table.get_or_insert(h, line));
        }
        if let Some(first) = self.table.get(h) {
            return Ok(Some(first));
        }
        if self.later.is_none() {
            if let Some(reread) = &self.reread {
                self.later = Some(repeats_from(reread, seq, &self.table, self.limits)?);
            }
        }
        match &mut self.later {
            Some(later) => later.at(seq).map_err(temp_error),
            None => Ok(None),
        }
    }
}

/// `n` free slots, written now: memory the allocator has fresh from the system would be
/// faulted twice on a look-up then an insert (the zero page read, then copied on the write).
fn zeroed_slots(n: usize) -> Vec<[u64; 2]> {
    let mut v = Vec::with_capacity(n);
    v.resize(n, [0, 0]);
    v
}

/// The first line of each case id seen (by its hash): open addressing with linear probing,
/// at most 7/8 full, 16 bytes a slot.
#[derive(Default)]
struct IdTable {
    /// `(hash, line + 1)`; 0 in the second: free.
    slots: Vec<[u64; 2]>,
    len: usize,
}

impl IdTable {
    /// A table that holds `ids` before it grows.
    fn with_capacity(ids: usize) -> IdTable {
        let mut t = IdTable::default();
        if ids > 0 {
            // the fewest slots of which 7/8 hold `ids`
            let slots = (ids.saturating_mul(8).div_ceil(7))
                .next_power_of_two()
                .max(1 << 12);
            t.slots = zeroed_slots(slots);
        }
        t
    }

    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn home(&self, h: u64) -> usize {
        // the hash's high bits (foldhash mixes them all)
        (h >> (64 - self.slots.len().trailing_zeros())) as usize
    }

    #[inline]
    fn prefetch(&self, h: u64) {
        if self.slots.is_empty() {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let p = self.slots[self.home(h)..].as_ptr().cast::<i8>();
            // SAFETY: a prefetch is a hint: it reads nothing and faults on no address.
            unsafe { std::arch::x86_64::_mm_prefetch(p, std::arch::x86_64::_MM_HINT_T0) };
        }
    }

    fn get(&self, h: u64) -> Option<u64> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let [k, v] = self.slots[i];
            if v == 0 {
                return None;
            }
            if k == h {
                return Some(v - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// The line kept for `h`, or `None` when `h` is new (and kept now with `line`).
    fn get_or_insert(&mut self, h: u64, line: u64) -> Option<u64> {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let [k, v] = self.slots[i];
            if v == 0 {
                self.slots[i] = [h, line.saturating_add(1)];
                self.len += 1;
                return None;
            }
            if k == h {
                return Some(v - 1);
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(1 << 12);
        let old = std::mem::replace(&mut self.slots, zeroed_slots(n));
        let mask = n - 1;
        for [k, v] in old.into_iter().filter(|s| s[1] != 0) {
            let mut i = self.home(k);
            while self.slots[i][1] != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = [k, v];
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
    table: &IdTable,
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
            if let Some(h) = row_id(&row, id_pos).filter(|h| table.get(*h).is_none()) {
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
        if self.buf.capacity() == 0 {
            // at its full size at once: a doubling would hold the old buffer and the new
            self.buf.reserve_exact(self.cap);
        }
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
