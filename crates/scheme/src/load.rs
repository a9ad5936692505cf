//! Building a national scheme from its tables and manifest.

use std::collections::BTreeMap;
use std::sync::Arc;

use drgdip_codes::{Catalog, CodeKind, CodeTable};
use rustc_hash::FxHashMap;

use crate::bitset::BitSet;
use crate::files::SchemeFiles;
use crate::manifest::Manifest;
use crate::model::*;
use crate::tables::{
    parse_adrg_file, parse_code_lines, parse_name_table, parse_strict, HeaderKind, RawList,
};
use crate::SchemeError;

/// Loads both code catalogs and their retired-code maps from `dir` (relative to the root).
pub fn load_catalog(files: &dyn SchemeFiles, dir: &str) -> Result<Catalog, SchemeError> {
    let read = |f: &str| files.read(&format!("{dir}/{f}"));
    let mut diagnoses = CodeTable::parse("diagnoses.dat", &read("diagnoses.dat")?)?;
    diagnoses.add_map(
        "diagnosis_map.dat",
        &read("diagnosis_map.dat")?,
        CodeKind::Diagnosis,
    )?;
    let mut procedures = CodeTable::parse("procedures.dat", &read("procedures.dat")?)?;
    procedures.add_map(
        "procedure_map.dat",
        &read("procedure_map.dat")?,
        CodeKind::Procedure,
    )?;
    Ok(Catalog {
        diagnoses,
        procedures,
    })
}

/// The schemes a run may use: manifests by name, and the schemes loaded so far.
pub struct Registry<'f> {
    files: &'f dyn SchemeFiles,
    manifests: BTreeMap<String, Manifest>,
    catalogs: FxHashMap<String, Arc<Catalog>>,
    loaded: BTreeMap<String, Arc<Scheme>>,
}

impl<'f> Registry<'f> {
    /// A registry with the built-in manifests.
    pub fn new(files: &'f dyn SchemeFiles) -> Result<Registry<'f>, SchemeError> {
        let mut r = Registry::empty(files);
        for (name, text) in crate::BUILTIN_MANIFESTS {
            r.add_manifest_text(name, text)?;
        }
        Ok(r)
    }

    /// A registry with no manifest (add them with [`Registry::add_manifest_text`]).
    pub fn empty(files: &'f dyn SchemeFiles) -> Registry<'f> {
        Registry {
            files,
            manifests: BTreeMap::new(),
            catalogs: FxHashMap::default(),
            loaded: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) a manifest from its TOML text.
    pub fn add_manifest_text(&mut self, origin: &str, text: &str) -> Result<String, SchemeError> {
        let m = Manifest::from_toml_str(text).map_err(|e| SchemeError::Manifest {
            name: origin.to_string(),
            message: e.to_string(),
        })?;
        let name = m.name.clone();
        self.manifests.insert(name.clone(), m);
        self.loaded.remove(&name);
        Ok(name)
    }

    /// The names of the known schemes.
    pub fn names(&self) -> Vec<String> {
        self.manifests.keys().cloned().collect()
    }

    /// The manifest of a scheme.
    pub fn manifest(&self, name: &str) -> Option<&Manifest> {
        self.manifests.get(name)
    }

    /// Loads (once) and returns a scheme by name.
    pub fn get(&mut self, name: &str) -> Result<Arc<Scheme>, SchemeError> {
        if let Some(s) = self.loaded.get(name) {
            return Ok(s.clone());
        }
        let m = self
            .manifests
            .get(name)
            .cloned()
            .ok_or_else(|| SchemeError::UnknownScheme {
                name: name.to_string(),
                known: self.names().join(", "),
            })?;
        let scheme = if let Some(base) = &m.base {
            let base = self.get(base)?;
            crate::layer::apply_layer(self.files, &base, &m)?
        } else {
            let catalog = match self.catalogs.get(&m.codes) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(load_catalog(self.files, &m.codes)?);
                    self.catalogs.insert(m.codes.clone(), c.clone());
                    c
                }
            };
            load_scheme(self.files, &m, catalog)?
        };
        let scheme = Arc::new(scheme);
        self.loaded.insert(name.to_string(), scheme.clone());
        Ok(scheme)
    }
}

struct Builder<'a> {
    scheme_name: String,
    catalog: &'a Catalog,
    lists: Vec<CodeList>,
    problems: Vec<String>,
    warnings: Vec<String>,
    missing: BTreeMap<String, Vec<String>>,
}

impl Builder<'_> {
    fn table(&self, kind: CodeKind) -> &CodeTable {
        self.catalog.table(kind)
    }

    /// Compiles a list of codes into a bit set; codes missing from the catalog are reported.
    fn list(&mut self, kind: CodeKind, source: String, codes: &[(usize, String)]) -> ListId {
        let table = self.table(kind);
        let mut set = BitSet::new(table.len());
        let mut missing = Vec::new();
        for (line, code) in codes {
            match table.id(code) {
                Some(id) => set.insert(id),
                None => missing.push(format!("{code} (line {line})")),
            }
        }
        if !missing.is_empty() {
            self.missing
                .entry(source.clone())
                .or_default()
                .extend(missing);
        }
        self.lists.push(CodeList {
            kind,
            codes: set,
            source,
        });
        (self.lists.len() - 1) as ListId
    }

    fn code_set(&mut self, kind: CodeKind, file: &str, text: &str, skip_first: bool) -> BitSet {
        let table = self.table(kind);
        let mut set = BitSet::new(table.len());
        let mut missing = Vec::new();
        match parse_code_lines(file, text, skip_first) {
            Ok(rows) => {
                for (line, code, _) in rows.iter().filter(|r| !r.1.is_empty()) {
                    match table.id(code) {
                        Some(id) => set.insert(id),
                        None => missing.push(format!("{code} (line {line})")),
                    }
                }
            }
            Err(e) => self.problems.push(e.to_string()),
        }
        if !missing.is_empty() {
            self.missing
                .entry(file.to_string())
                .or_default()
                .extend(missing);
        }
        set
    }
}

fn kind_of(h: HeaderKind) -> CodeKind {
    match h {
        HeaderKind::Pdx | HeaderKind::Odx | HeaderKind::Adx | HeaderKind::AltOdx => {
            CodeKind::Diagnosis
        }
        _ => CodeKind::Procedure,
    }
}

fn parse_gender(s: &str) -> Option<Gender> {
    match s {
        "1" => Some(Gender::Male),
        "2" => Some(Gender::Female),
        _ => None,
    }
}

/// Builds the national chain of an ADRG from its DRG codes' suffixes: `1` MCC, `3` MCC or CC,
/// `5` otherwise, `9` no split.
pub(crate) fn suffix_rule(code: &str) -> Option<(SplitRule, Vec<DrgCond>)> {
    match code.as_bytes().get(3)? {
        b'1' => Some((SplitRule::Mcc, vec![DrgCond::Mcc])),
        b'3' => Some((SplitRule::MccOrCc, vec![DrgCond::MccOrCc])),
        b'5' => Some((SplitRule::Otherwise, vec![])),
        b'9' => Some((SplitRule::NoSplit, vec![])),
        _ => None,
    }
}

/// Loads a national scheme: its tables, compiled and validated.
pub fn load_scheme(
    files: &dyn SchemeFiles,
    m: &Manifest,
    catalog: Arc<Catalog>,
) -> Result<Scheme, SchemeError> {
    let dir = m.tables.clone().ok_or_else(|| SchemeError::Manifest {
        name: m.name.clone(),
        message: "a national scheme needs `tables`".into(),
    })?;
    let read = |f: &str| files.read(&format!("{dir}/{f}"));
    let mut b = Builder {
        scheme_name: m.name.clone(),
        catalog: &catalog,
        lists: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
        missing: BTreeMap::new(),
    };
    let manifest_err = |message: String| SchemeError::Manifest {
        name: m.name.clone(),
        message,
    };

    // --- MDCs -----------------------------------------------------------------------------
    let mdc_rows = parse_name_table("MDC.dat", &read("MDC.dat")?)?;
    let mdc_names: FxHashMap<String, String> = mdc_rows
        .iter()
        .map(|(_, c, n)| (c.clone(), n.clone()))
        .collect();
    let mdc_files = files.list(&format!("{dir}/MDC"))?;
    let mut mdcs: Vec<Mdc> = Vec::new();
    for letter in &m.mdc_order {
        let code = format!("MDC{letter}");
        let name = mdc_names
            .get(&code)
            .cloned()
            .ok_or_else(|| manifest_err(format!("mdc_order names {code}, not in MDC.dat")))?;
        mdcs.push(Mdc {
            letter: letter.chars().next().unwrap_or('?'),
            qy_code: format!("{letter}QY"),
            code,
            name,
            entry: Entry::Always,
            steps: Vec::new(),
        });
    }
    for (_, code, _) in &mdc_rows {
        if !mdcs.iter().any(|x| &x.code == code) {
            b.problems
                .push(format!("MDC.dat lists {code}, which mdc_order leaves out"));
        }
    }
    if mdcs.len() > 32 {
        return Err(manifest_err("more than 32 MDCs".into()));
    }
    let dx_len = catalog.diagnoses.len();
    let mut dx = vec![DxAttr::default(); dx_len];
    let mut trauma_sites: Vec<String> = Vec::new();
    let mut newborn_prefix: Option<String> = None;
    for (mi, mdc) in mdcs.iter_mut().enumerate() {
        let file = mdc_files
            .iter()
            .find(|f| f.starts_with(&format!("{}_", mdc.code)))
            .cloned();
        let spec = m.entry.get(&mdc.code);
        let kind = spec.map(|s| s.kind.as_str()).unwrap_or("principal");
        let text = match &file {
            Some(f) => read(&format!("MDC/{f}"))?,
            None if kind == "always" => String::new(),
            None => {
                b.problems.push(format!(
                    "{}: no diagnosis list file MDC/{}_*.dat",
                    mdc.code, mdc.code
                ));
                String::new()
            }
        };
        let fname = file.unwrap_or_default();
        let rows = parse_code_lines(&fname, &text, false)?;
        // codes with their site (header index) for MDCZ
        let mut site = 0u8;
        let mut codes = Vec::new();
        for (line, code, rest) in &rows {
            if code.is_empty() {
                if kind == "multi_site_trauma" && !rest.starts_with("包含") {
                    trauma_sites.push(rest.trim_end_matches(['：', ':']).to_string());
                    site = trauma_sites.len() as u8;
                }
                continue;
            }
            codes.push((*line, code.clone()));
            if let Some(id) = catalog.diagnoses.id(code) {
                dx[id as usize].mdc_mask |= 1 << mi;
                if kind == "multi_site_trauma" {
                    let a = &mut dx[id as usize];
                    if a.trauma_site != 0 && a.trauma_site != site {
                        b.warnings.push(format!(
                            "{fname}:{line}: {code} is listed under two body sites"
                        ));
                    }
                    a.trauma_site = site;
                }
            }
        }
        let list = b.list(CodeKind::Diagnosis, format!("{fname} 主诊表"), &codes);
        mdc.entry = match kind {
            "always" => Entry::Always,
            "principal" => Entry::Principal {
                list,
                gender: match spec.and_then(|s| s.gender.as_deref()) {
                    None => None,
                    Some(g) => Some(parse_gender(g).ok_or_else(|| {
                        manifest_err(format!("entry.{}.gender must be \"1\" or \"2\"", mdc.code))
                    })?),
                },
                conflict: None, // resolved below, once all MDCs are known
            },
            "any_diagnosis" => Entry::AnyDiagnosis { list },
            "multi_site_trauma" => Entry::MultiSiteTrauma {
                min_sites: spec.and_then(|s| s.min_sites).unwrap_or(2),
            },
            "newborn" => {
                newborn_prefix = spec.and_then(|s| s.prefix.clone());
                Entry::Newborn {
                    list,
                    max_days: spec.and_then(|s| s.max_days).unwrap_or(28),
                    late_list: ListId::MAX, // resolved once ADRG lists exist
                }
            }
            other => {
                return Err(manifest_err(format!(
                    "entry.{}.kind {other:?}: expected always, principal, any_diagnosis, multi_site_trauma or newborn",
                    mdc.code
                )))
            }
        };
    }
    // sex-conflict targets
    let letters: Vec<(String, char)> = mdcs.iter().map(|x| (x.code.clone(), x.letter)).collect();
    for mdc in mdcs.iter_mut() {
        if let Entry::Principal { conflict, .. } = &mut mdc.entry {
            if let Some(c) = m.entry.get(&mdc.code).and_then(|s| s.conflict.as_deref()) {
                let idx = letters
                    .iter()
                    .position(|(code, l)| code == c || c.starts_with(*l) && c.len() <= 3)
                    .ok_or_else(|| {
                        manifest_err(format!("entry.{}.conflict: unknown MDC {c:?}", mdc.code))
                    })?;
                *conflict = Some(idx as MdcIdx);
            }
        }
    }
    if let Some(p) = &newborn_prefix {
        for id in 0..dx_len as u32 {
            if catalog.diagnoses.code(id).starts_with(p.as_str()) {
                dx[id as usize].newborn_prefix = true;
            }
        }
    }

    // --- complications and exclusion tables ------------------------------------------------
    for (line, code, rest) in parse_strict("CCE.dat", &read("CCE.dat")?, false)? {
        let t: u16 = rest.parse().map_err(|_| SchemeError::Line {
            file: "CCE.dat".into(),
            line,
            message: format!("exclusion table {rest:?} is not a number"),
        })?;
        match catalog.diagnoses.id(&code) {
            Some(id) => dx[id as usize].cce = t,
            None => b
                .missing
                .entry("CCE.dat".into())
                .or_default()
                .push(format!("{code} (line {line})")),
        }
    }
    for (file, sev) in [("MCC.dat", 2u8), ("CC.dat", 1u8)] {
        for (line, code, rest) in parse_strict(file, &read(file)?, false)? {
            let t: u16 = rest.parse().map_err(|_| SchemeError::Line {
                file: file.into(),
                line,
                message: format!("exclusion table {rest:?} is not a number"),
            })?;
            match catalog.diagnoses.id(&code) {
                Some(id) => {
                    let a = &mut dx[id as usize];
                    if a.severity != 0 {
                        b.problems.push(format!(
                            "{file}:{line}: {code} is in both MCC.dat and CC.dat"
                        ));
                    }
                    a.severity = sev;
                    a.severity_table = t;
                }
                None => b
                    .missing
                    .entry(file.into())
                    .or_default()
                    .push(format!("{code} (line {line})")),
            }
        }
    }
    let zd_invalid = b.code_set(
        CodeKind::Diagnosis,
        "ZD_INVALID.dat",
        &read("ZD_INVALID.dat")?,
        false,
    );
    for id in zd_invalid.iter() {
        dx[id as usize].invalid_for_grouping = true;
    }
    let invalid_px = b.code_set(
        CodeKind::Procedure,
        "SS_INVALID.dat",
        &read("SS_INVALID.dat")?,
        false,
    );
    let valid_px = b.code_set(
        CodeKind::Procedure,
        "SS_VALID.dat",
        &read("SS_VALID.dat")?,
        true,
    );
    let sex_shared = b.code_set(
        CodeKind::Diagnosis,
        "SEX_SHARED.dat",
        &read("SEX_SHARED.dat")?,
        true,
    );

    // --- ADRGs ----------------------------------------------------------------------------
    let adrg_rows = parse_name_table("ADRG.dat", &read("ADRG.dat")?)?;
    let adrg_files = files.list(&format!("{dir}/ADRG"))?;
    let mut adrgs: Vec<Adrg> = Vec::new();
    for (line, code, name) in &adrg_rows {
        let letter = code.chars().next().unwrap_or('?');
        let Some(mdc) = mdcs.iter().position(|x| x.letter == letter) else {
            b.problems.push(format!(
                "ADRG.dat:{line}: {code} belongs to no MDC of mdc_order"
            ));
            continue;
        };
        let base = adrg_files
            .iter()
            .find(|f| {
                f.strip_prefix(code.as_str())
                    .and_then(|r| r.strip_prefix('_'))
                    .is_some_and(|r| !r.starts_with(|c: char| c.is_ascii_digit()))
            })
            .cloned();
        let splits: Vec<&String> = adrg_files
            .iter()
            .filter(|f| {
                f.strip_prefix(code.as_str())
                    .and_then(|r| r.strip_prefix('_'))
                    .is_some_and(|r| {
                        r.split('_')
                            .next()
                            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                    })
            })
            .collect();
        let spec = m.adrg.get(code).cloned().unwrap_or_default();
        let mut alternatives: Vec<CondSet> = Vec::new();
        let sources: Vec<(String, String)> = if !splits.is_empty() {
            // split files: one alternative each, in the order _1, _2, …
            let mut s: Vec<(u32, String)> = splits
                .iter()
                .map(|f| {
                    let n = f[code.len() + 1..]
                        .split('_')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    (n, (*f).clone())
                })
                .collect();
            s.sort();
            s.into_iter()
                .map(|(n, f)| (format!("{code}_{n}"), f))
                .collect()
        } else if let Some(f) = base {
            vec![(code.clone(), f)]
        } else {
            b.problems
                .push(format!("{code} has no condition file ADRG/{code}_*.dat"));
            continue;
        };
        for (label, f) in sources {
            let raw = parse_adrg_file(&f, &read(&format!("ADRG/{f}"))?)?;
            let raw: Vec<RawList> = raw
                .into_iter()
                .filter(|l| l.kind != HeaderKind::Description)
                .collect();
            if raw.iter().any(|l| l.kind == HeaderKind::AltOdx) {
                b.problems.push(format!(
                    "{f}: an `或包含以下其他诊断` list outside split files needs an `alternatives` entry in the manifest"
                ));
            }
            let mut conds_by_kind: Vec<(HeaderKind, Cond)> = Vec::new();
            for l in &raw {
                let cond = match l.kind {
                    HeaderKind::ValidPpx => Cond::ValidPpx,
                    HeaderKind::NoValidPpx => Cond::NoValidPpx,
                    k => {
                        let id = b.list(kind_of(k), format!("{f} {}", l.header), &l.codes);
                        match k {
                            HeaderKind::Pdx => Cond::Pdx(id),
                            HeaderKind::Ppx => Cond::Ppx(id),
                            HeaderKind::Odx | HeaderKind::AltOdx => Cond::Odx(id),
                            HeaderKind::Adx => Cond::Adx(id),
                            _ => Cond::Px(id),
                        }
                    }
                };
                conds_by_kind.push((l.kind, cond));
            }
            if let Some(alts) = &spec.alternatives {
                for (n, alt) in alts.iter().enumerate() {
                    let mut conds = Vec::new();
                    for k in alt {
                        let found: Vec<&Cond> = conds_by_kind
                            .iter()
                            .filter(|(hk, _)| hk.short() == k)
                            .map(|(_, c)| c)
                            .collect();
                        if found.len() != 1 {
                            return Err(manifest_err(format!(
                                "adrg.{code}.alternatives: {f} has {} lists of kind {k}",
                                found.len()
                            )));
                        }
                        conds.push(found[0].clone());
                    }
                    alternatives.push(CondSet {
                        label: format!("{code}_{}", n + 1),
                        conds,
                    });
                }
            } else {
                if conds_by_kind.is_empty() {
                    b.problems.push(format!("{f}: no condition"));
                }
                alternatives.push(CondSet {
                    label,
                    conds: conds_by_kind.into_iter().map(|(_, c)| c).collect(),
                });
            }
        }
        apply_adrg_spec(&m.name, code, &spec, &mut alternatives)?;
        let surgical = alternatives.iter().any(|a| {
            a.conds
                .iter()
                .any(|c| matches!(c, Cond::Ppx(_) | Cond::Px(_) | Cond::ValidPpx))
        });
        adrgs.push(Adrg {
            code: code.clone(),
            name: name.clone(),
            mdc: mdc as MdcIdx,
            alternatives,
            surgical,
            chain: Vec::new(),
        });
    }
    for code in m.adrg.keys() {
        if !adrgs.iter().any(|a| &a.code == code) {
            b.problems
                .push(format!("manifest [adrg.{code}] names an unknown ADRG"));
        }
    }

    // --- DRGs and their national chains ------------------------------------------------------
    let mut drgs: Vec<Drg> = Vec::new();
    for (line, code, name) in parse_name_table("DRG.dat", &read("DRG.dat")?)? {
        let code = code.as_str();
        let Some(ai) = adrgs
            .iter()
            .position(|a| code.get(..3) == Some(a.code.as_str()))
        else {
            b.problems
                .push(format!("DRG.dat:{line}: {code} belongs to no known ADRG"));
            continue;
        };
        let Some((rule, conds)) = suffix_rule(code) else {
            b.problems.push(format!(
                "DRG.dat:{line}: {code} has no known suffix (1, 3, 5, 9)"
            ));
            continue;
        };
        let di = drgs.len() as DrgIdx;
        drgs.push(Drg {
            code: code.to_string(),
            name,
            adrg: Some(ai as AdrgIdx),
            rule,
            reachable: true,
        });
        adrgs[ai].chain.push(DrgRow {
            drg: di,
            rule,
            conds,
        });
    }
    for a in adrgs.iter_mut() {
        // x1 before x3 before x5; x9 alone
        a.chain.sort_by_key(|r| drgs[r.drg as usize].code.clone());
        if a.chain.is_empty() {
            b.problems.push(format!("{} has no DRG in DRG.dat", a.code));
        }
    }

    // --- MDC steps: procedure ADRGs, the ambiguous step, diagnosis ADRGs ----------------------
    for (mi, mdc) in mdcs.iter_mut().enumerate() {
        let mut surgical: Vec<AdrgIdx> = Vec::new();
        let mut medical: Vec<AdrgIdx> = Vec::new();
        for (ai, a) in adrgs.iter().enumerate() {
            if a.mdc as usize == mi {
                if a.surgical {
                    surgical.push(ai as AdrgIdx)
                } else {
                    medical.push(ai as AdrgIdx)
                }
            }
        }
        if let Some(o) = m.order.get(&mdc.code) {
            let pos = |code: &str| adrgs.iter().position(|a| a.code == code);
            let moving: Vec<AdrgIdx> = o
                .adrgs
                .iter()
                .map(|c| {
                    pos(c).map(|i| i as AdrgIdx).ok_or_else(|| {
                        manifest_err(format!("order.{}: unknown ADRG {c}", mdc.code))
                    })
                })
                .collect::<Result<_, _>>()?;
            surgical.retain(|a| !moving.contains(a));
            let after = pos(&o.after)
                .and_then(|i| surgical.iter().position(|&a| a as usize == i))
                .ok_or_else(|| {
                    manifest_err(format!(
                        "order.{}.after: {} is not a procedure ADRG of the MDC",
                        mdc.code, o.after
                    ))
                })?;
            for (k, a) in moving.into_iter().enumerate() {
                surgical.insert(after + 1 + k, a);
            }
        }
        mdc.steps = surgical.into_iter().map(Step::Adrg).collect();
        if !m.no_ambiguous.contains(&mdc.code) {
            mdc.steps.push(Step::Ambiguous);
        }
        mdc.steps.extend(medical.into_iter().map(Step::Adrg));
    }
    // newborn: the late-infant ambiguous list is an ADRG's principal-diagnosis list
    for mdc in mdcs.iter_mut() {
        if let Entry::Newborn { late_list, .. } = &mut mdc.entry {
            let from = m
                .entry
                .get(&mdc.code)
                .and_then(|s| s.late_list_from.clone())
                .ok_or_else(|| {
                    manifest_err(format!("entry.{}.late_list_from is required", mdc.code))
                })?;
            let a = adrgs.iter().find(|a| a.code == from).ok_or_else(|| {
                manifest_err(format!(
                    "entry.{}.late_list_from: unknown ADRG {from}",
                    mdc.code
                ))
            })?;
            *late_list = a
                .alternatives
                .iter()
                .flat_map(|s| &s.conds)
                .find_map(|c| match c {
                    Cond::Pdx(l) => Some(*l),
                    _ => None,
                })
                .ok_or_else(|| manifest_err(format!("{from} has no principal-diagnosis list")))?;
        }
    }

    for (source, codes) in &b.missing {
        b.warnings.push(format!(
            "{source}: {} code(s) not in the catalog: {}{}",
            codes.len(),
            codes.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
            if codes.len() > 5 { ", …" } else { "" }
        ));
    }
    if !b.problems.is_empty() {
        return Err(SchemeError::Invalid {
            scheme: b.scheme_name,
            problems: b.problems,
        });
    }
    Ok(Scheme {
        name: m.name.clone(),
        version: m.version.clone(),
        title: m.title.clone(),
        base: None,
        catalog: catalog.clone(),
        mdcs,
        adrgs,
        drgs,
        lists: b.lists,
        dx,
        valid_px,
        invalid_px,
        sex_shared,
        trauma_sites,
        warnings: b.warnings,
        ungroupable_code: m.ungroupable_code.clone(),
    })
}

/// Applies a manifest's extra conditions to an ADRG's alternatives.
pub(crate) fn apply_adrg_spec(
    scheme: &str,
    code: &str,
    spec: &crate::manifest::AdrgSpec,
    alternatives: &mut Vec<CondSet>,
) -> Result<(), SchemeError> {
    if let Some(c) = &spec.condition {
        let cond = match c.as_str() {
            "valid_principal_procedure" => Some(Cond::ValidPpx),
            "no_valid_principal_procedure" => Some(Cond::NoValidPpx),
            "none" => None,
            other => {
                return Err(SchemeError::Manifest {
                    name: scheme.to_string(),
                    message: format!(
                        "adrg.{code}.condition {other:?}: expected valid_principal_procedure, no_valid_principal_procedure or none"
                    ),
                })
            }
        };
        *alternatives = vec![CondSet {
            label: code.to_string(),
            conds: cond.into_iter().collect(),
        }];
    }
    for alt in alternatives.iter_mut() {
        if let Some(d) = spec.max_age_days {
            alt.conds.push(Cond::MaxAgeDays(d));
        }
        if let Some(d) = spec.min_age_days {
            alt.conds.push(Cond::MinAgeDays(d));
        }
        if spec.min_birth_weight.is_some() || spec.max_birth_weight.is_some() {
            alt.conds.push(Cond::BirthWeight {
                min: spec.min_birth_weight.unwrap_or(1),
                max: spec.max_birth_weight.unwrap_or(u32::MAX),
            });
        }
    }
    Ok(())
}
