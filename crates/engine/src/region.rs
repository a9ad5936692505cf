//! A region loaded once: its parameters, the scheme it pays with, its hospitals, its DRG
//! weights, its exclusion catalogue and the tariff made of them, with the digest of every
//! file read (`payment-model.md` §6, the book of record).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use drgdip_io::BatchOptions;
use drgdip_pay::exclusion::{Catalogue, CatalogueProblem, ExclusionForm};
use drgdip_pay::params::{BaseRate, WeightsSource};
use drgdip_pay::{derive_base_rate, Hospitals, Params, RateDerivation, Tariff, WeightTable};
use drgdip_scheme::{Registry, Scheme};
use rust_decimal::Decimal;

use crate::digest::{sha256_file, sha256_hex};
use crate::error::{Context, EngineError, Result};
use crate::weights::{
    expected_cases, scheme_drgs, sources_text, weights_from_history, ExpectedCases, GroupedCase,
};

/// Reads a whole text file; the error names what it is (`the parameter file …`).
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| EngineError::Context {
        context: format!("cannot read the {what} {}", path.display()),
        source: Box::new(EngineError::Io(source)),
    })
}

/// A path written in the parameter file, relative to that file.
pub fn relative_to(params_path: &Path, written: &str) -> PathBuf {
    let p = Path::new(written);
    if p.is_relative() {
        params_path.parent().unwrap_or(Path::new("")).join(p)
    } else {
        p.to_path_buf()
    }
}

/// Reads and validates the parameters (their scheme must be one of `registry`), then loads
/// the scheme: the parameters' `region.scheme`, or `scheme` when given. Also the text's
/// SHA-256.
pub fn load_params(
    registry: &mut Registry<'_>,
    path: &Path,
    scheme: Option<&str>,
) -> Result<(Params, Arc<Scheme>, String)> {
    let text = read_text(path, "parameter file")?;
    let names = registry.names();
    let known: Vec<&str> = names.iter().map(String::as_str).collect();
    let params = Params::from_toml_str_with_schemes(&text, &known)
        .map_err(|e| crate::invalid!("parameter file {}: {e}", path.display()))?;
    let name = scheme.unwrap_or(&params.region.scheme).to_string();
    let scheme = registry
        .get(&name)
        .with_context(|| format!("cannot load the scheme {name:?}"))?;
    Ok((params, scheme, sha256_hex(text.as_bytes())))
}

/// Reads and validates the hospitals file (`hospital_id,name,level,…`).
pub fn read_hospitals(path: &Path) -> Result<Hospitals> {
    Hospitals::from_csv_str(&read_text(path, "hospitals file")?)
        .map_err(|e| crate::invalid!("hospitals file {}: {e}", path.display()))
}

fn problems_list(problems: &[CatalogueProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  {p}"))
        .collect::<String>()
}

/// Reads and validates a catalogue text, its ADRG codes against `scheme`.
pub fn parse_catalogue(text: &str, scheme: &Scheme) -> Result<Catalogue, Vec<CatalogueProblem>> {
    let is_adrg = |a: &str| scheme.adrg_by_code(a).is_some();
    Catalogue::from_csv_str_for_scheme(text, &scheme.name, &is_adrg).map_err(|e| e.problems)
}

/// Reads and validates a catalogue file, its ADRG codes against `scheme`.
pub fn read_catalogue(path: &Path, scheme: &Scheme) -> Result<Catalogue> {
    let text = read_text(path, "exclusion catalogue")?;
    parse_catalogue(&text, scheme).map_err(|problems| {
        crate::invalid!(
            "exclusion catalogue {}: {} problem(s):{}",
            path.display(),
            problems.len(),
            problems_list(&problems)
        )
    })
}

/// `10 items: 3 per_item, 3 item_cost, 4 weight_bonus`.
pub fn forms_text(c: &Catalogue) -> String {
    let n = |f| c.items().iter().filter(|i| i.form == f).count();
    format!(
        "{} items: {} per_item, {} item_cost, {} weight_bonus",
        c.len(),
        n(ExclusionForm::PerItem),
        n(ExclusionForm::ItemCost),
        n(ExclusionForm::WeightBonus)
    )
}

/// The tariff of a run: with the catalogue the parameters name (read, validated, its ADRGs
/// checked against `scheme`), else with the legacy keys. Also a line saying which.
pub fn tariff_for(
    params_path: &Path,
    params: &Params,
    scheme: &Scheme,
    weights: &WeightTable,
    point_value: Option<Decimal>,
) -> Result<(Tariff, String)> {
    let point_error = |e: drgdip_pay::TariffError| match point_value {
        None => crate::invalid!("{e} (give --point-value)"),
        Some(_) => crate::invalid!("{e}"),
    };
    match &params.exclusion.catalogue {
        Some(written) => {
            let path = relative_to(params_path, written);
            let catalogue = read_catalogue(&path, scheme).context("exclusion.catalogue")?;
            let desc = format!(
                "exclusion catalogue {} ({}; ADRGs checked against {})",
                path.display(),
                forms_text(&catalogue),
                scheme.name
            );
            let tariff = Tariff::with_catalogue(params, weights, point_value, Arc::new(catalogue))
                .map_err(point_error)?;
            Ok((tariff, desc))
        }
        None => {
            let tariff = Tariff::new(params, weights, point_value).map_err(point_error)?;
            let desc = match params.exclusion.mode {
                Some(mode) => format!(
                    "exclusion: no catalogue in the parameters; a case flagged new_tech_flag = 1 takes the legacy exclusion.mode = {mode}"
                ),
                None => "exclusion: none".to_string(),
            };
            Ok((tariff, desc))
        }
    }
}

/// Where a run's DRG weights come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeightsFrom {
    /// A weights file (`drg,weight`, e.g. made by `drgdip weights`).
    File(PathBuf),
    /// Computed from a history case file, as `drgdip weights` computes them.
    History(PathBuf),
    /// The parameters' `drg.weights` (a file relative to the parameter file).
    Params,
}

/// The weights of a run, where they came from, and the digest of the file read.
pub struct Weights {
    /// The table.
    pub table: WeightTable,
    /// `weights.csv (839 DRGs: …)`.
    pub desc: String,
    /// The file read (the weights, or the history they were computed from).
    pub file: PathBuf,
    /// Its SHA-256.
    pub sha256: String,
    /// History rows not counted (invalid), when computed from a history.
    pub history_invalid: u64,
    /// The grouped history cases, when computed from a history (what a budget-derived rate,
    /// `drg.base_rate = "budget"`, counts); `None` for a weights file.
    pub history_cases: Option<Vec<GroupedCase>>,
}

/// Loads the weights of a run. `history_options`: how a history file is read.
pub fn load_weights(
    from: &WeightsFrom,
    params_path: &Path,
    params: &Params,
    scheme: &Scheme,
    history_options: BatchOptions,
) -> Result<Weights> {
    let read = |path: &Path| -> Result<Weights> {
        let text = read_text(path, "weights file")?;
        let table = WeightTable::from_csv_str(&text)
            .map_err(|e| crate::invalid!("weights file {}: {e}", path.display()))?;
        let desc = format!("{} ({})", path.display(), sources_text(&table));
        Ok(Weights {
            table,
            desc,
            file: path.to_path_buf(),
            sha256: sha256_hex(text.as_bytes()),
            history_invalid: 0,
            history_cases: None,
        })
    };
    match from {
        WeightsFrom::File(path) => read(path),
        WeightsFrom::History(path) => {
            let input = open_file(path)?;
            let history =
                weights_from_history(scheme, params, input, history_options, None, &|_| {})
                    .with_context(|| format!("history {}", path.display()))?;
            let desc = format!(
                "computed from the history {}\n{}",
                path.display(),
                history.text(params, scheme)
            );
            Ok(Weights {
                history_invalid: history.stats.by_status[crate::batch::INVALID],
                history_cases: Some(history.cases),
                table: history.table,
                desc,
                file: path.clone(),
                sha256: sha256_file(path)?,
            })
        }
        WeightsFrom::Params => match &params.drg.weights {
            WeightsSource::File(p) => {
                read(&relative_to(params_path, p)).context("drg.weights in the parameter file")
            }
            WeightsSource::History => Err(crate::invalid!(
                "drg.weights = \"history\" in {}: give --history CASES.csv to compute the weights \
                 on the fly, or --weights W.csv (made by `drgdip weights`)",
                params_path.display()
            )),
        },
    }
}

/// Opens a file for reading, buffered.
pub fn open_file(path: &Path) -> Result<Box<dyn std::io::Read + Send>> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot open the input file {}", path.display()))?;
    Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, f)))
}

/// Warnings about a weight table that does not fit the scheme.
pub fn check_weights(table: &WeightTable, scheme: &Scheme) -> Vec<String> {
    let list = |codes: Vec<&str>| {
        let more = codes.len().saturating_sub(8);
        let mut text = codes.into_iter().take(8).collect::<Vec<_>>().join(" ");
        if more > 0 {
            text.push_str(&format!(" … (+{more})"));
        }
        text
    };
    let mut warnings = Vec::new();
    let missing: Vec<&str> = scheme_drgs(scheme)
        .into_iter()
        .map(|(d, _)| d)
        .filter(|d| table.get(d).is_none())
        .collect();
    if !missing.is_empty() {
        warnings.push(format!(
            "{} DRG(s) of {} have no weight (their cases are paid per item): {}",
            missing.len(),
            scheme.name,
            list(missing)
        ));
    }
    let unknown: Vec<&str> = table
        .rows()
        .iter()
        .map(|r| r.drg.as_str())
        .filter(|d| scheme.drg_by_code(d).is_none())
        .collect();
    if !unknown.is_empty() {
        warnings.push(format!(
            "{} weight(s) for codes that are not DRGs of {}: {}",
            unknown.len(),
            scheme.name,
            list(unknown)
        ));
    }
    warnings
}

/// What a DRG region is loaded from.
#[derive(Debug, Clone)]
pub struct RegionFiles {
    /// The parameter file (TOML).
    pub params: PathBuf,
    /// The hospitals file (CSV).
    pub hospitals: PathBuf,
    /// Where the weights come from.
    pub weights: WeightsFrom,
    /// CNY per point (the DRG point method): the year's provisional or final value.
    pub point_value: Option<Decimal>,
}

/// A DRG region, loaded and validated once, shared read-only by every case of a run.
pub struct Region {
    /// The parameters.
    pub params: Params,
    /// The parameter file.
    pub params_path: PathBuf,
    /// Its SHA-256.
    pub params_sha256: String,
    /// The scheme that groups and pays.
    pub scheme: Arc<Scheme>,
    /// The hospitals.
    pub hospitals: Hospitals,
    /// The hospitals file.
    pub hospitals_path: PathBuf,
    /// The weights, where they came from.
    pub weights: Weights,
    /// The tariff (weights, rates, coefficients, catalogue).
    pub tariff: Tariff,
    /// The point value given, if any.
    pub point_value: Option<Decimal>,
    /// A line saying which exclusion rules apply.
    pub catalogue_desc: String,
    /// Warnings about the weights and the parameters (nothing refused).
    pub warnings: Vec<String>,
    /// With `drg.base_rate = "budget"`: the history cases the derived rate counted, and why
    /// the others were not (the derivation itself is `params.drg.base_rate`).
    pub rate_cases: Option<ExpectedCases>,
}

impl Region {
    /// Loads a region: parameters (their scheme from `registry`), hospitals, weights (a
    /// history read with `history_options`), catalogue, tariff.
    pub fn load(
        registry: &mut Registry<'_>,
        files: &RegionFiles,
        history_options: BatchOptions,
    ) -> Result<Region> {
        Region::load_with_scheme(registry, files, None, history_options)
    }

    /// [`Region::load`] with another scheme than the parameters' `region.scheme` (a scheme
    /// change compared on the same parameters): the weights, computed from a history, are
    /// grouped with it, and the catalogue's ADRGs are checked against it.
    pub fn load_with_scheme(
        registry: &mut Registry<'_>,
        files: &RegionFiles,
        scheme: Option<&str>,
        history_options: BatchOptions,
    ) -> Result<Region> {
        let (params, scheme, params_sha256) = load_params(registry, &files.params, scheme)?;
        let hospitals = read_hospitals(&files.hospitals)?;
        let mut history_options = history_options;
        history_options.read.limits.max_case_cost = params.limits.max_case_cost;
        let weights = load_weights(
            &files.weights,
            &files.params,
            &params,
            &scheme,
            history_options,
        )?;
        Region::assemble(
            params,
            &files.params,
            params_sha256,
            scheme,
            hospitals,
            &files.hospitals,
            weights,
            files.point_value,
        )
    }

    /// A region from texts already read (a negotiation round's stored parameter and weight
    /// texts): `params_text` with the paths written in it (the exclusion catalogue) relative
    /// to `params_origin`, the hospitals' text read from `hospitals_path`, the weights' text
    /// read from `weights_origin`. The rate method only (no point value).
    pub fn from_texts(
        registry: &mut Registry<'_>,
        params_text: &str,
        params_origin: &Path,
        (hospitals_text, hospitals_path): (&str, &Path),
        (weights_text, weights_origin): (&str, &Path),
    ) -> Result<Region> {
        let names = registry.names();
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let params = Params::from_toml_str_with_schemes(params_text, &known)
            .map_err(|e| crate::invalid!("parameter file {}: {e}", params_origin.display()))?;
        let name = params.region.scheme.clone();
        let scheme = registry
            .get(&name)
            .with_context(|| format!("cannot load the scheme {name:?}"))?;
        let hospitals = Hospitals::from_csv_str(hospitals_text)
            .map_err(|e| crate::invalid!("hospitals file {}: {e}", hospitals_path.display()))?;
        let table = WeightTable::from_csv_str(weights_text)
            .map_err(|e| crate::invalid!("weights file {}: {e}", weights_origin.display()))?;
        let weights = Weights {
            desc: format!("{} ({})", weights_origin.display(), sources_text(&table)),
            table,
            file: weights_origin.to_path_buf(),
            sha256: sha256_hex(weights_text.as_bytes()),
            history_invalid: 0,
            history_cases: None,
        };
        Region::assemble(
            params,
            params_origin,
            sha256_hex(params_text.as_bytes()),
            scheme,
            hospitals,
            hospitals_path,
            weights,
            None,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        mut params: Params,
        params_path: &Path,
        params_sha256: String,
        scheme: Arc<Scheme>,
        hospitals: Hospitals,
        hospitals_path: &Path,
        weights: Weights,
        point_value: Option<Decimal>,
    ) -> Result<Region> {
        let rate_cases = if params.drg.base_rate.from_budget() {
            let (derivation, counted) = derive_rate(params_path, &params, &weights, &hospitals)?;
            params.drg.base_rate = BaseRate::Derived(derivation);
            Some(counted)
        } else {
            None
        };
        let (tariff, catalogue_desc) =
            tariff_for(params_path, &params, &scheme, &weights.table, point_value)?;
        let mut warnings = Vec::new();
        if weights.history_invalid > 0 {
            warnings.push(format!(
                "history {}: {} invalid row(s) not counted (list them with `drgdip weights --errors`)",
                weights.file.display(),
                weights.history_invalid
            ));
        }
        warnings.extend(
            check_weights(&weights.table, &scheme)
                .into_iter()
                .map(|w| format!("weights: {w}")),
        );
        warnings.extend(
            params
                .warnings()
                .into_iter()
                .map(|w| format!("{}: {w}", params_path.display())),
        );
        Ok(Region {
            params,
            params_path: params_path.to_path_buf(),
            params_sha256,
            scheme,
            hospitals,
            hospitals_path: hospitals_path.to_path_buf(),
            weights,
            tariff,
            point_value,
            catalogue_desc,
            warnings,
            rate_cases,
        })
    }

    /// `base rate 8123.45 derived from budget 2025 version 1: budget / Σ expected weights (n
    /// cases): …` when the rate was derived from the budget, with the cases not counted.
    pub fn base_rate_lines(&self) -> Vec<String> {
        match (self.params.drg.base_rate.derivation(), &self.rate_cases) {
            (Some(d), Some(c)) => vec![d.to_string(), format!("  {}", c.text())],
            (Some(d), None) => vec![d.to_string()],
            _ => Vec::new(),
        }
    }
}

/// The rate of `drg.base_rate = "budget"` (`payment-model.md` §8, `drgdip_pay::rate`): the DRG
/// budget of the parameters over the expected weights of the history the weights were
/// computed from. Refused (naming the key) without such a history.
pub fn derive_rate(
    params_path: &Path,
    params: &Params,
    weights: &Weights,
    hospitals: &Hospitals,
) -> Result<(RateDerivation, ExpectedCases)> {
    let Some(history_cases) = &weights.history_cases else {
        return Err(crate::invalid!(
            "drg.base_rate = \"budget\" in {}: the rate is derived from the DRG budget and the expected weights of a history; give --history CASES.csv (the weights are then computed from it), not a weights file ({})",
            params_path.display(),
            weights.file.display()
        ));
    };
    let counted = expected_cases(history_cases, &weights.table, hospitals, params);
    let derivation = derive_base_rate(
        params.budget.drg(),
        params.budget.plan.as_ref().map(|p| p.version),
        params.region.year,
        counted.cases.iter().copied(),
    )
    .map_err(|e| {
        crate::invalid!(
            "{} (history {}): {e}",
            params_path.display(),
            weights.file.display()
        )
    })?;
    Ok((derivation, counted))
}
