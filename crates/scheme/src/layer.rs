//! Local layers (地方细分方案): a base scheme plus data that replaces its valid-procedure list,
//! moves or removes ambiguous steps, overrides ADRG conditions and replaces every ADRG's DRG
//! chain with the layer's split table.

use std::collections::BTreeMap;

use drgdip_codes::CodeKind;
use rustc_hash::FxHashMap;

use crate::bitset::BitSet;
use crate::files::SchemeFiles;
use crate::load::apply_adrg_spec;
use crate::manifest::Manifest;
use crate::model::*;
use crate::tables::parse_code_lines;
use crate::SchemeError;

/// A CSV row by header name, with its line number.
type CsvRow = (usize, BTreeMap<String, String>);

fn csv_rows(file: &str, text: &str) -> Result<Vec<CsvRow>, SchemeError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| SchemeError::Line {
            file: file.into(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| SchemeError::Line {
            file: file.into(),
            line: i + 2,
            message: e.to_string(),
        })?;
        let row = headers
            .iter()
            .zip(rec.iter())
            .map(|(h, v)| (h.to_string(), v.trim().to_string()))
            .collect();
        out.push((i + 2, row));
    }
    Ok(out)
}

fn col<'a>(row: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    row.get(name).map(String::as_str).unwrap_or("")
}

/// Applies the layer described by `m` to `base`.
pub(crate) fn apply_layer(
    files: &dyn SchemeFiles,
    base: &Scheme,
    m: &Manifest,
) -> Result<Scheme, SchemeError> {
    let l = m.layer.as_ref().ok_or_else(|| SchemeError::Manifest {
        name: m.name.clone(),
        message: "a scheme with `base` needs a [layer] table".into(),
    })?;
    let dir = &l.dir;
    let read = |f: &str| files.read(&format!("{dir}/{f}"));
    let mut s = base.clone();
    s.name = m.name.clone();
    s.version = m.version.clone();
    s.title = m.title.clone();
    s.base = Some(base.name.clone());
    s.ungroupable_code = m.ungroupable_code.clone();
    let mut problems: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = base.warnings.clone();
    let catalog = base.catalog.clone();

    let read_px_set = |file: &str, warnings: &mut Vec<String>| -> Result<BitSet, SchemeError> {
        let text = read(file)?;
        let mut set = BitSet::new(catalog.procedures.len());
        let mut missing = Vec::new();
        for (line, code, _) in parse_code_lines(file, &text, true)?
            .into_iter()
            .filter(|r| !r.1.is_empty())
        {
            match catalog.procedures.id(&code) {
                Some(id) => set.insert(id),
                None => missing.push(format!("{code} (line {line})")),
            }
        }
        if !missing.is_empty() {
            warnings.push(format!(
                "{dir}/{file}: {} code(s) not in the catalog: {}",
                missing.len(),
                missing.join(", ")
            ));
        }
        Ok(set)
    };

    // 1. valid procedures
    if let Some(v) = &l.valid_procedures {
        s.valid_px = read_px_set(v, &mut warnings)?;
    }

    // 2. ambiguous steps
    if let Some(a) = &l.ambiguous {
        let rows = csv_rows(a, &read(a)?)?;
        for (line, row) in rows {
            let mdc_code = col(&row, "mdc");
            let rule = col(&row, "qy_rule");
            let Some(mi) = s.mdcs.iter().position(|x| x.code == mdc_code) else {
                problems.push(format!("{a}:{line}: unknown MDC {mdc_code:?}"));
                continue;
            };
            let had = s.mdcs[mi].steps.contains(&Step::Ambiguous);
            match rule {
                "as_national" => {
                    if !had {
                        problems.push(format!(
                            "{a}:{line}: {mdc_code} has no ambiguous step in {}",
                            base.name
                        ));
                    }
                }
                "none" => s.mdcs[mi].steps.retain(|x| *x != Step::Ambiguous),
                r if r.starts_with("after_") => {
                    let after = &r["after_".len()..];
                    let steps = &mut s.mdcs[mi].steps;
                    steps.retain(|x| *x != Step::Ambiguous);
                    let adrgs = &s.adrgs;
                    match steps.iter().position(
                        |x| matches!(x, Step::Adrg(i) if adrgs[*i as usize].code == after),
                    ) {
                        Some(p) => steps.insert(p + 1, Step::Ambiguous),
                        None => problems
                            .push(format!("{a}:{line}: {after} is not an ADRG of {mdc_code}")),
                    }
                }
                other => problems.push(format!(
                    "{a}:{line}: qy_rule {other:?}: expected as_national, none or after_<ADRG>"
                )),
            }
        }
    }

    // 3. ADRG condition overrides
    if let Some(o) = &l.adrg_overrides {
        for (line, row) in csv_rows(o, &read(o)?)? {
            let code = col(&row, "adrg");
            match (s.adrg_by_code(code), m.adrg.get(code)) {
                (Some(ai), Some(spec)) => {
                    let a = &mut s.adrgs[ai as usize];
                    apply_adrg_spec(&m.name, code, spec, &mut a.alternatives)?;
                }
                (None, _) => problems.push(format!("{o}:{line}: unknown ADRG {code:?}")),
                (_, None) => problems.push(format!(
                    "{o}:{line}: {code} is overridden but the manifest has no [adrg.{code}] saying how"
                )),
            }
        }
    }

    // 4. the split table: new DRGs and chains
    let rows = csv_rows(&l.drgs, &read(&l.drgs)?)?;
    let mut drgs: Vec<Drg> = Vec::new();
    let mut chains: Vec<Vec<(u32, DrgRow)>> = vec![Vec::new(); s.adrgs.len()];
    let mut list_ids: FxHashMap<String, ListId> = FxHashMap::default();
    let mut declared_reachable: Vec<bool> = Vec::new();
    for (line, row) in rows {
        let code = col(&row, "drg").to_string();
        let adrg = col(&row, "adrg");
        let at = |field: &str, msg: String| format!("{}:{line}: {field}: {msg}", l.drgs);
        let Some(rule) = SplitRule::parse(col(&row, "rule")) else {
            problems.push(at("rule", format!("unknown rule {:?}", col(&row, "rule"))));
            continue;
        };
        let adrg_idx = match adrg {
            "QY" | "00" => None,
            a => match s.adrg_by_code(a) {
                Some(i) => Some(i),
                // a code outside every chain (an unused code of the province's list) may name
                // an ADRG the base scheme lacks
                None if matches!(rule, SplitRule::Unused) && col(&row, "order").is_empty() => {
                    warnings.push(at(
                        "adrg",
                        format!(
                            "unused code {code} names ADRG {a:?}, which {} lacks",
                            base.name
                        ),
                    ));
                    None
                }
                None => {
                    problems.push(at("adrg", format!("{code} belongs to unknown ADRG {a:?}")));
                    continue;
                }
            },
        };
        let mut conds = Vec::new();
        let ppx = col(&row, "principal_procedure_in");
        if !ppx.is_empty() {
            let id = match list_ids.get(ppx) {
                Some(id) => *id,
                None => {
                    let file = format!("{}/{ppx}.dat", l.lists);
                    let set = read_px_set(&file, &mut warnings)?;
                    s.lists.push(CodeList {
                        kind: CodeKind::Procedure,
                        codes: set,
                        source: format!("{dir}/{file}"),
                    });
                    let id = (s.lists.len() - 1) as ListId;
                    list_ids.insert(ppx.to_string(), id);
                    id
                }
            };
            conds.push(DrgCond::PpxIn(id));
        }
        match col(&row, "bilateral") {
            "" | "no" => {}
            "yes" => conds.push(DrgCond::Bilateral),
            v => problems.push(at("bilateral", format!("{v:?}: expected yes or empty"))),
        }
        match col(&row, "max_age") {
            "" => {}
            v => match v.parse() {
                Ok(n) => conds.push(DrgCond::MaxAge(n)),
                Err(_) => problems.push(at("max_age", format!("{v:?} is not a whole number"))),
            },
        }
        match col(&row, "complication") {
            "" => {}
            "mcc" => conds.push(DrgCond::Mcc),
            "mcc_or_cc" => conds.push(DrgCond::MccOrCc),
            "mcc_any" => conds.push(DrgCond::MccAny),
            "cc_any" => conds.push(DrgCond::CcAny),
            v => problems.push(at(
                "complication",
                format!("{v:?}: expected mcc, mcc_or_cc, mcc_any or cc_any"),
            )),
        }
        let reachable = match col(&row, "reachable") {
            "yes" | "" => true,
            "no" => false,
            v => {
                problems.push(at("reachable", format!("{v:?}: expected yes or no")));
                true
            }
        };
        let di = drgs.len() as DrgIdx;
        if drgs.iter().any(|d| d.code == code) {
            problems.push(at("drg", format!("{code} is listed twice")));
        }
        drgs.push(Drg {
            code: code.clone(),
            name: col(&row, "name").to_string(),
            adrg: adrg_idx,
            rule,
            reachable,
        });
        declared_reachable.push(reachable);
        let order = col(&row, "order");
        if !order.is_empty() {
            let Some(ai) = adrg_idx else {
                problems.push(at("order", format!("{code} has an order but no ADRG")));
                continue;
            };
            match order.parse::<u32>() {
                Ok(o) => chains[ai as usize].push((
                    o,
                    DrgRow {
                        drg: di,
                        rule,
                        conds,
                    },
                )),
                Err(_) => problems.push(at("order", format!("{order:?} is not a whole number"))),
            }
        }
    }
    for (ai, mut chain) in chains.into_iter().enumerate() {
        chain.sort_by_key(|(o, _)| *o);
        let code = &s.adrgs[ai].code;
        if chain.windows(2).any(|w| w[0].0 == w[1].0) {
            problems.push(format!(
                "{}: two rows of {code} have the same order",
                l.drgs
            ));
        }
        if chain.is_empty() {
            problems.push(format!(
                "{}: ADRG {code} of {} has no DRG in the layer",
                l.drgs, base.name
            ));
        }
        s.adrgs[ai].chain = chain.into_iter().map(|(_, r)| r).collect();
    }
    s.drgs = drgs;

    // 5. overlap and reachability: a row is unreachable when a list it needs is empty or an
    //    earlier row of the chain asks for a subset of its conditions
    for a in &s.adrgs {
        for (i, row) in a.chain.iter().enumerate() {
            let empty_list = row
                .conds
                .iter()
                .any(|c| matches!(c, DrgCond::PpxIn(id) if s.lists[*id as usize].codes.is_empty()));
            let shadowed_by = a.chain[..i]
                .iter()
                .find(|prev| prev.conds.iter().all(|c| row.conds.contains(c)));
            let reachable = !empty_list && shadowed_by.is_none();
            let d = &s.drgs[row.drg as usize];
            if reachable != d.reachable {
                let why = match shadowed_by {
                    Some(p) => format!("overlaps the earlier {}", s.drgs[p.drg as usize].code),
                    None if empty_list => "its procedure list is empty".to_string(),
                    None => "no earlier row covers it".to_string(),
                };
                problems.push(format!(
                    "{}: {} is declared reachable={} but {why}",
                    l.drgs,
                    d.code,
                    if d.reachable { "yes" } else { "no" }
                ));
            }
        }
        if let Some(last) = a.chain.last() {
            if !last.conds.is_empty() {
                warnings.push(format!(
                    "{}: the chain of {} ends with a conditional row ({}); a case that meets no row goes on to the next ADRG",
                    l.drgs, a.code, s.drgs[last.drg as usize].code
                ));
            }
        }
    }
    // QY codes of the layer exist for every ambiguous step
    if s.drgs.iter().any(|d| d.rule == SplitRule::Ambiguous) {
        for mdc in &s.mdcs {
            if mdc.steps.contains(&Step::Ambiguous) && s.drg_by_code(&mdc.qy_code).is_none() {
                problems.push(format!(
                    "{}: {} has an ambiguous step but no {} row",
                    l.drgs, mdc.code, mdc.qy_code
                ));
            }
        }
    }
    if !s.drgs.iter().any(|d| d.code == s.ungroupable_code) {
        problems.push(format!(
            "{}: no row for the ungroupable code {}",
            l.drgs, s.ungroupable_code
        ));
    }
    // the official code list agrees with the split table
    if let Some(cl) = &l.code_list {
        let rows = csv_rows(cl, &files.read(cl)?)?;
        let listed: std::collections::BTreeSet<&str> =
            rows.iter().map(|(_, r)| col(r, "drg")).collect();
        let ours: std::collections::BTreeSet<&str> =
            s.drgs.iter().map(|d| d.code.as_str()).collect();
        for c in listed.difference(&ours) {
            problems.push(format!("{cl} lists {c}, which {} lacks", l.drgs));
        }
        for c in ours.difference(&listed) {
            problems.push(format!("{} has {c}, which {cl} lacks", l.drgs));
        }
    }
    if !problems.is_empty() {
        return Err(SchemeError::Invalid {
            scheme: m.name.clone(),
            problems,
        });
    }
    s.warnings = warnings;
    Ok(s)
}
