//! The scheme manifest: the small TOML file, kept in the repository, that says where a scheme's
//! tables are and states the rules that the official tables leave implicit (MDC order, entry
//! kinds, the ambiguous step, newborn gates, evaluation-order exceptions). Everything the
//! grouper does that is not in a table file is in a manifest, so a new scheme is new data.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A scheme manifest (`schemes/<name>.toml` in the repository).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub title: String,
    /// The base scheme of a local layer (its manifest name).
    #[serde(default)]
    pub base: Option<String>,
    /// The table directory, relative to the shared directory (national schemes).
    #[serde(default)]
    pub tables: Option<String>,
    /// The code catalog directory, relative to the shared directory.
    #[serde(default = "default_codes")]
    pub codes: String,
    /// MDC letters in evaluation order.
    #[serde(default)]
    pub mdc_order: Vec<String>,
    /// MDCs that have no ambiguous (QY) step.
    #[serde(default)]
    pub no_ambiguous: Vec<String>,
    /// How a case enters an MDC; MDCs not listed enter on the principal diagnosis.
    #[serde(default)]
    pub entry: BTreeMap<String, EntrySpec>,
    /// Evaluation-order exceptions: in MDC `key`, the `adrgs` are tried right after `after`.
    #[serde(default)]
    pub order: BTreeMap<String, OrderSpec>,
    /// Conditions an ADRG has beyond its table file.
    #[serde(default)]
    pub adrg: BTreeMap<String, AdrgSpec>,
    /// The local layer's files (local schemes).
    #[serde(default)]
    pub layer: Option<LayerSpec>,
    #[serde(default = "default_ungroupable")]
    pub ungroupable_code: String,
}

fn default_codes() -> String {
    "codes".into()
}
fn default_ungroupable() -> String {
    "0000".into()
}

/// How a case enters one MDC.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySpec {
    /// `always`, `principal`, `any_diagnosis`, `multi_site_trauma`, `newborn`.
    pub kind: String,
    /// `principal`: only this sex (`1` male, `2` female) enters.
    #[serde(default)]
    pub gender: Option<String>,
    /// `principal`: a case of the other sex is ambiguous in this MDC (letter), unless its
    /// principal diagnosis is sex-shared.
    #[serde(default)]
    pub conflict: Option<String>,
    /// `multi_site_trauma`: the least number of distinct body sites.
    #[serde(default)]
    pub min_sites: Option<u32>,
    /// `newborn`: the largest age in days of a newborn.
    #[serde(default)]
    pub max_days: Option<u32>,
    /// `newborn`: a diagnosis starting with this text (any position) also makes a newborn case.
    #[serde(default)]
    pub prefix: Option<String>,
    /// `newborn`: the ADRG whose principal-diagnosis list makes an older infant ambiguous.
    #[serde(default)]
    pub late_list_from: Option<String>,
}

/// An evaluation-order exception inside one MDC.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSpec {
    pub after: String,
    pub adrgs: Vec<String>,
}

/// Conditions of one ADRG that the table file does not state.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdrgSpec {
    #[serde(default)]
    pub max_age_days: Option<u32>,
    #[serde(default)]
    pub min_age_days: Option<u32>,
    #[serde(default)]
    pub min_birth_weight: Option<u32>,
    #[serde(default)]
    pub max_birth_weight: Option<u32>,
    /// Replace the whole condition: `valid_principal_procedure`,
    /// `no_valid_principal_procedure` or `none` (always holds).
    #[serde(default)]
    pub condition: Option<String>,
    /// Alternatives built from the file's lists by kind (`PDX`, `PPX`, `ODX`, …), for a file
    /// whose `入组条件` line says "A or B" without split files.
    #[serde(default)]
    pub alternatives: Option<Vec<Vec<String>>>,
}

/// The files of a local layer, relative to the shared directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// The layer directory.
    pub dir: String,
    /// The split table (`drgs.csv`), in `dir`.
    pub drgs: String,
    /// Principal-procedure lists named in the split table, in `dir`.
    pub lists: String,
    /// The layer's valid-procedure list, replacing the base one, in `dir`.
    #[serde(default)]
    pub valid_procedures: Option<String>,
    /// Per-MDC ambiguous-step rules (`mdc,qy_rule`), in `dir`.
    #[serde(default)]
    pub ambiguous: Option<String>,
    /// ADRG condition overrides as published (`adrg,national_condition,fujian_condition`),
    /// in `dir`; the manifest's `[adrg.X] condition` says what each means.
    #[serde(default)]
    pub adrg_overrides: Option<String>,
    /// The official code list (`drg,name`), relative to the shared directory, checked against
    /// the split table.
    #[serde(default)]
    pub code_list: Option<String>,
}

impl Manifest {
    /// Parses a manifest.
    pub fn from_toml_str(text: &str) -> Result<Manifest, toml::de::Error> {
        toml::from_str(text)
    }
}
