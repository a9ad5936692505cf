//! Scheme-change impact (分组方案切换, `payment-model.md` §10) and local weights against the
//! national reference.
//!
//! [`compare_schemes`] groups the same cases under two schemes: the crosswalk (every pair
//! `from DRG → to DRG` with its cases), the cases whose ADRG changed (each with the rule of
//! the grouping trace that placed it under each scheme), and per changed group the rule that
//! moved its cases. The payment and CMI change comes from [`crate::simulate`] over two
//! regions that differ only in their scheme (and the weights of each).
//!
//! The rule that placed a case is read from the grouping trace ([`drgdip_drg::Trace`]): the
//! line of the last ADRG decision (`AdrgMatched`, or the ambiguous / ungroupable outcome) when
//! the ADRG differs, else the line of the DRG choice (`DrgChosen`: the split condition). Only
//! the cases whose DRG code differs are grouped a second time with the trace on.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use drgdip_drg::{explain, Event, Grouping, Lang, Trace};
use drgdip_io::{run_batch_with, BatchOptions, BatchStats, RowOutcome};
use drgdip_pay::WeightTable;
use drgdip_scheme::Scheme;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::batch::{group_record, Shards};
use crate::error::{Context, Result};
use crate::region::read_text;

/// A case whose ADRG is not the same under the two schemes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdrgChange {
    /// Its line in the case file.
    pub line: u64,
    /// The case.
    pub case_id: String,
    /// The hospital.
    pub hospital_id: String,
    /// ADRG and DRG under the first scheme.
    pub from: (String, String),
    /// ADRG and DRG under the second.
    pub to: (String, String),
    /// The trace line that placed it under the first scheme.
    pub rule_from: String,
    /// The trace line that placed it under the second.
    pub rule_to: String,
}

/// A pair of groups with cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossPair {
    /// The DRG under the first scheme.
    pub from_drg: String,
    /// The DRG under the second.
    pub to_drg: String,
    /// Cases.
    pub cases: u64,
    /// For a pair whose codes differ: the rules that moved its cases (trace line under the
    /// second scheme → cases), most frequent first.
    pub rules: Vec<(String, u64)>,
    /// A case of the pair (the first in the file), as an example.
    pub example: String,
}

/// Per hospital: cases whose group changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HospitalChange {
    /// Valid cases.
    pub cases: u64,
    /// Cases whose DRG code differs.
    pub drg_changed: u64,
    /// Cases whose ADRG differs.
    pub adrg_changed: u64,
}

/// The same cases under two schemes.
#[derive(Debug, Clone)]
pub struct SchemeComparison {
    /// The first scheme.
    pub from: String,
    /// The second.
    pub to: String,
    /// Every pair with at least one case, sorted by codes.
    pub pairs: Vec<CrossPair>,
    /// Cases whose ADRG changed, in input order.
    pub adrg_changes: Vec<AdrgChange>,
    /// Per hospital, by id.
    pub hospitals: BTreeMap<String, HospitalChange>,
    /// Rows read (bucket 0 valid, 1 invalid).
    pub stats: BatchStats,
    /// Invalid rows (in neither scheme).
    pub invalid: u64,
}

impl SchemeComparison {
    /// Valid cases.
    pub fn cases(&self) -> u64 {
        self.pairs.iter().map(|p| p.cases).sum()
    }
    /// Cases whose DRG code differs.
    pub fn drg_changed(&self) -> u64 {
        self.pairs
            .iter()
            .filter(|p| p.from_drg != p.to_drg)
            .map(|p| p.cases)
            .sum()
    }
}

/// The trace line of the decision that placed a case: the ADRG decision (`adrg = true`) or
/// the DRG choice.
fn decisive_line(s: &Scheme, g: &Grouping, trace: &Trace, adrg: bool, lang: Lang) -> String {
    let lines = explain(s, g, trace, lang);
    let pick = trace.events.iter().rposition(|e| match e {
        Event::AdrgMatched { .. } | Event::Ambiguous { .. } | Event::Ungroupable => adrg,
        Event::DrgChosen { .. } => !adrg,
        _ => false,
    });
    let pick = pick.or_else(|| {
        // a DRG choice asked for where there is none (0000, QY): the ADRG decision
        trace.events.iter().rposition(|e| {
            matches!(
                e,
                Event::AdrgMatched { .. } | Event::Ambiguous { .. } | Event::Ungroupable
            )
        })
    });
    pick.and_then(|i| lines.get(i + 1).cloned())
        .or_else(|| lines.first().cloned())
        .unwrap_or_default()
}

/// A pair's cases, the rules that moved them (rule → cases) and its first case.
type PairTally = (u64, FxHashMap<String, u64>, String);

struct Row {
    line: u64,
    case_id: String,
    hospital_id: String,
    from_drg: String,
    to_drg: String,
    adrg: Option<AdrgChange>,
    rule: Option<String>,
}

/// Groups every valid row of `input` under `from` and `to` (see the module's documentation).
/// Rule lines are in `lang`.
pub fn compare_schemes<R: Read + Send>(
    from: &Scheme,
    to: &Scheme,
    input: R,
    options: BatchOptions,
    errors: Option<&mut dyn Write>,
    lang: Lang,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<SchemeComparison> {
    let shards: Shards<Vec<Row>> = Shards::new();
    let invalid = AtomicU64::new(0);
    let stats = run_batch_with(
        input,
        &options,
        b"",
        &mut std::io::sink(),
        errors,
        |cols, row, _buf, probs| {
            let r = match row.read(cols, &from.catalog) {
                RowOutcome::Invalid { problems, .. } => {
                    probs.extend(problems);
                    invalid.fetch_add(1, Ordering::Relaxed);
                    return 1;
                }
                RowOutcome::Valid(r) => *r,
            };
            let ga = group_record(from, &r, &mut Trace::disabled());
            let gb = group_record(to, &r, &mut Trace::disabled());
            let (fd, td) = (ga.drg_code(from), gb.drg_code(to));
            let (fa, ta) = (ga.adrg_code(from), gb.adrg_code(to));
            let (mut adrg, mut rule) = (None, None);
            if fd != td || fa != ta {
                let (mut t1, mut t2) = (Trace::enabled(), Trace::enabled());
                let g1 = group_record(from, &r, &mut t1);
                let g2 = group_record(to, &r, &mut t2);
                let adrg_moved = fa != ta;
                rule = Some(decisive_line(to, &g2, &t2, adrg_moved, lang));
                if adrg_moved {
                    adrg = Some(AdrgChange {
                        line: r.line,
                        case_id: r.case_id.clone(),
                        hospital_id: r.hospital_id.clone(),
                        from: (fa.to_string(), fd.to_string()),
                        to: (ta.to_string(), td.to_string()),
                        rule_from: decisive_line(from, &g1, &t1, true, lang),
                        rule_to: rule.clone().unwrap_or_default(),
                    });
                }
            }
            let out = Row {
                line: r.line,
                case_id: r.case_id,
                hospital_id: r.hospital_id,
                from_drg: fd.to_string(),
                to_drg: td.to_string(),
                adrg,
                rule,
            };
            shards.with(|v| v.push(out));
            0
        },
        progress,
    )?;
    let mut rows: Vec<Row> = shards.into_vec().into_iter().flatten().collect();
    rows.sort_unstable_by_key(|r| r.line);
    let mut pairs: BTreeMap<(String, String), PairTally> = BTreeMap::new();
    let mut hospitals: BTreeMap<String, HospitalChange> = BTreeMap::new();
    let mut adrg_changes = Vec::new();
    for r in rows {
        let h = hospitals.entry(r.hospital_id.clone()).or_default();
        h.cases += 1;
        h.drg_changed += u64::from(r.from_drg != r.to_drg);
        h.adrg_changed += u64::from(r.adrg.is_some());
        let e = pairs
            .entry((r.from_drg, r.to_drg))
            .or_insert_with(|| (0, FxHashMap::default(), r.case_id.clone()));
        e.0 += 1;
        if let Some(rule) = r.rule {
            *e.1.entry(rule).or_default() += 1;
        }
        if let Some(a) = r.adrg {
            adrg_changes.push(a);
        }
    }
    let pairs = pairs
        .into_iter()
        .map(|((from_drg, to_drg), (cases, rules, example))| {
            let mut rules: Vec<(String, u64)> = if from_drg != to_drg {
                rules.into_iter().collect()
            } else {
                Vec::new()
            };
            rules.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            CrossPair {
                from_drg,
                to_drg,
                cases,
                rules,
                example,
            }
        })
        .collect();
    Ok(SchemeComparison {
        from: from.name.clone(),
        to: to.name.clone(),
        pairs,
        adrg_changes,
        hospitals,
        stats,
        invalid: invalid.load(Ordering::Relaxed),
    })
}

/// `crosswalk.csv`: `from_drg,to_drg,cases` (every pair with at least one case), and the
/// rule that moved most of them and an example case.
pub fn crosswalk_csv(c: &SchemeComparison) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("from_drg,to_drg,cases,changed,rule,rule_cases,example_case\n");
    for p in &c.pairs {
        let (rule, n) = p
            .rules
            .first()
            .map(|(r, n)| (r.as_str(), n.to_string()))
            .unwrap_or(("", String::new()));
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{}",
            p.from_drg,
            p.to_drg,
            p.cases,
            u8::from(p.from_drg != p.to_drg),
            drgdip_io::csv_field(rule),
            n,
            drgdip_io::csv_field(&p.example)
        );
    }
    out
}

/// `adrg_changes.csv`: every case whose ADRG changed, with the rule under each scheme.
pub fn adrg_changes_csv(c: &SchemeComparison) -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "line,case_id,hospital_id,from_adrg,from_drg,to_adrg,to_drg,rule_from,rule_to\n",
    );
    for a in &c.adrg_changes {
        let f = drgdip_io::csv_field;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            a.line,
            f(&a.case_id),
            f(&a.hospital_id),
            a.from.0,
            a.from.1,
            a.to.0,
            a.to.1,
            f(&a.rule_from),
            f(&a.rule_to)
        );
    }
    out
}

// ---------------------------------------------------------------------------------------
// Local weights against the national reference

/// One DRG of the national reference weights (`drg,name,weight`; empty weight: none
/// published).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceWeight {
    /// DRG code.
    pub drg: String,
    /// Its name.
    pub name: String,
    /// The published weight.
    pub weight: Option<Decimal>,
}

/// Reads the reference weights; a malformed row names its line and field.
pub fn read_reference(path: &Path) -> Result<Vec<ReferenceWeight>> {
    let text = read_text(path, "reference weights")?;
    let name = path.display().to_string();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().with_context(|| name.clone())?.clone();
    let pos = |f: &str| {
        header
            .iter()
            .position(|h| h.trim() == f)
            .ok_or_else(|| crate::invalid!("{name}: no column {f:?} (need drg,name,weight)"))
    };
    let (cd, cn, cw) = (pos("drg")?, pos("name").ok(), pos("weight")?);
    let mut out: Vec<ReferenceWeight> = Vec::new();
    let mut seen: FxHashMap<String, usize> = FxHashMap::default();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("{name}: line {line}"))?;
        let drg = rec.get(cd).unwrap_or("").trim().to_string();
        if drg.is_empty() {
            return Err(crate::invalid!("{name}: line {line}, drg: empty"));
        }
        let raw = rec.get(cw).unwrap_or("").trim();
        let weight = if raw.is_empty() {
            None
        } else {
            match Decimal::from_str(raw) {
                Ok(w) if w > Decimal::ZERO => Some(w),
                _ => {
                    return Err(crate::invalid!(
                        "{name}: line {line}, weight: {raw:?} is not a positive number"
                    ))
                }
            }
        };
        if let Some(first) = seen.insert(drg.clone(), line) {
            return Err(crate::invalid!(
                "{name}: line {line}, drg: {drg} is listed twice (first on line {first})"
            ));
        }
        out.push(ReferenceWeight {
            drg,
            name: cn.and_then(|c| rec.get(c)).unwrap_or("").trim().to_string(),
            weight,
        });
    }
    Ok(out)
}

/// One DRG: the local weight and the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightCompare {
    /// DRG code.
    pub drg: String,
    /// Its name (from the reference).
    pub name: String,
    /// The local weight.
    pub local: Option<Decimal>,
    /// Where the local weight comes from (`own`, `adrg`, `default`).
    pub source: Option<&'static str>,
    /// Local history cases (before trimming).
    pub cases: u32,
    /// The reference weight.
    pub reference: Option<Decimal>,
    /// local / reference (4 decimals).
    pub ratio: Option<Decimal>,
    /// The local weight rests on fewer than the threshold's cases.
    pub few_cases: bool,
}

/// The comparison of a weight table with the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightsComparison {
    /// Per DRG: the union of both, sorted by code.
    pub rows: Vec<WeightCompare>,
    /// The threshold of `few_cases`.
    pub min_cases: u32,
    /// Σ cases × local / Σ cases × reference over the DRGs with both (the level of the local
    /// weights against the reference: 1 when the local case mix is priced as the national).
    pub weighted_ratio: Option<Decimal>,
}

impl WeightsComparison {
    /// DRGs with both weights.
    pub fn both(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.local.is_some() && r.reference.is_some())
            .count()
    }
    /// DRGs flagged for few cases.
    pub fn flagged(&self) -> usize {
        self.rows.iter().filter(|r| r.few_cases).count()
    }
}

/// Compares `local` with `reference`; a DRG with a local weight on fewer than `min_cases`
/// history cases is flagged (whatever the source of its weight).
pub fn compare_weights(
    local: &WeightTable,
    reference: &[ReferenceWeight],
    min_cases: u32,
) -> WeightsComparison {
    let mut by: BTreeMap<&str, WeightCompare> = BTreeMap::new();
    for r in reference {
        by.insert(
            &r.drg,
            WeightCompare {
                drg: r.drg.clone(),
                name: r.name.clone(),
                local: None,
                source: None,
                cases: 0,
                reference: r.weight,
                ratio: None,
                few_cases: false,
            },
        );
    }
    for w in local.rows() {
        let e = by.entry(&w.drg).or_insert_with(|| WeightCompare {
            drg: w.drg.clone(),
            name: String::new(),
            local: None,
            source: None,
            cases: 0,
            reference: None,
            ratio: None,
            few_cases: false,
        });
        e.local = Some(w.weight);
        e.source = Some(w.source.as_str());
        e.cases = w.cases;
        e.few_cases = w.cases < min_cases;
    }
    let (mut num, mut den) = (Decimal::ZERO, Decimal::ZERO);
    let rows: Vec<WeightCompare> = by
        .into_values()
        .map(|mut r| {
            if let (Some(l), Some(f)) = (r.local, r.reference) {
                r.ratio = Some((l / f).round_dp(4));
                let n = Decimal::from(r.cases);
                num += n * l;
                den += n * f;
            }
            r
        })
        .collect();
    WeightsComparison {
        rows,
        min_cases,
        weighted_ratio: (!den.is_zero()).then(|| (num / den).round_dp(4)),
    }
}

/// The comparison as CSV: `drg,name,local_weight,source,cases,reference_weight,ratio,flag`
/// (`flag`: `few_cases`, `no_reference`, `no_local`, joined with `|`).
pub fn weights_comparison_csv(c: &WeightsComparison) -> String {
    use drgdip_pay::money::W4;
    use std::fmt::Write as _;
    let mut out = String::from("drg,name,local_weight,source,cases,reference_weight,ratio,flag\n");
    let opt = |d: Option<Decimal>| d.map(|d| W4(d).to_string()).unwrap_or_default();
    for r in &c.rows {
        let mut flags = Vec::new();
        if r.few_cases {
            flags.push("few_cases");
        }
        if r.local.is_some() && r.reference.is_none() {
            flags.push("no_reference");
        }
        if r.local.is_none() {
            flags.push("no_local");
        }
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            r.drg,
            drgdip_io::csv_field(&r.name),
            opt(r.local),
            r.source.unwrap_or(""),
            r.cases,
            opt(r.reference),
            opt(r.ratio),
            flags.join("|")
        );
    }
    out
}
