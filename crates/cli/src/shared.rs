//! Where the shared data is, and loading the schemes a run needs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use drgdip_drg::Lang;
use drgdip_io::{BatchOptions, Purpose, ReadLimits, ReadOptions};
use drgdip_scheme::selection::{Selection, BUILTIN_SELECTION};
use drgdip_scheme::{DirFiles, Registry, Scheme};
use serde::Deserialize;

/// The optional configuration file (`drgdip.toml` in the working directory, or `--config`);
/// its paths are relative to the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The shared directory (tables, catalogs).
    pub shared: Option<PathBuf>,
    /// Extra scheme manifests to register.
    #[serde(default)]
    pub schemes: Vec<PathBuf>,
    /// A scheme-selection file replacing the built-in one.
    pub selection: Option<PathBuf>,
}

/// Options common to every command.
#[derive(Debug, Clone, clap::Args)]
pub struct SharedOpts {
    /// The shared data directory (schemes/, codes/). Default: ../shared.
    #[arg(long, env = "DRGDIP_SHARED", global = true)]
    pub shared: Option<PathBuf>,
    /// A configuration file (default: ./drgdip.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// An extra scheme manifest (TOML) to register; may be repeated.
    #[arg(long = "scheme-file", global = true)]
    pub scheme_files: Vec<PathBuf>,
}

/// The resolved environment of a run.
pub struct Env {
    pub files: DirFiles,
    pub config: Config,
    pub extra_manifests: Vec<PathBuf>,
}

impl SharedOpts {
    /// Resolves the shared directory: flag, environment, config file, then `../shared`.
    pub fn resolve(&self) -> Result<Env> {
        let config_path = self.config.clone().or_else(|| {
            let p = PathBuf::from("drgdip.toml");
            p.exists().then_some(p)
        });
        let config: Config = match &config_path {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| {
                    format!("cannot read the configuration file {}", p.display())
                })?;
                let c: Config = toml::from_str(&text)
                    .with_context(|| format!("configuration file {}", p.display()))?;
                // paths in the file are relative to the file
                let base = p.parent().unwrap_or(Path::new("."));
                Config {
                    shared: c.shared.map(|s| base.join(s)),
                    schemes: c.schemes.into_iter().map(|s| base.join(s)).collect(),
                    selection: c.selection.map(|s| base.join(s)),
                }
            }
            None => Config::default(),
        };
        let dir = self
            .shared
            .clone()
            .or_else(|| config.shared.clone())
            .unwrap_or_else(|| PathBuf::from("../shared"));
        let files = DirFiles::new(&dir)?;
        let mut extra = config.schemes.clone();
        extra.extend(self.scheme_files.iter().cloned());
        Ok(Env {
            files,
            config,
            extra_manifests: extra,
        })
    }
}

impl Env {
    /// A registry with the built-in and configured manifests.
    pub fn registry(&self) -> Result<Registry<'_>> {
        let mut r = Registry::new(&self.files)?;
        for p in &self.extra_manifests {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read scheme manifest {}", p.display()))?;
            r.add_manifest_text(&p.display().to_string(), &text)?;
        }
        Ok(r)
    }

    /// The scheme-selection rules.
    pub fn selection(&self) -> Result<Selection> {
        let text = match &self.config.selection {
            Some(p) => std::fs::read_to_string(p)
                .with_context(|| format!("cannot read selection file {}", p.display()))?,
            None => BUILTIN_SELECTION.to_string(),
        };
        Selection::from_toml_str(&text).map_err(|e| anyhow::anyhow!("scheme selection: {e}"))
    }
}

/// The schemes of a run: one fixed scheme, or `auto` (per row, by region and date).
pub struct Schemes {
    pub list: Vec<Arc<Scheme>>,
    pub selection: Option<Selection>,
    /// Treating region for `auto` (else each row's insured region).
    pub region: Option<String>,
}

impl Schemes {
    /// Loads the schemes named by `--scheme` (a name or `auto`).
    pub fn load(env: &Env, name: &str, region: Option<String>) -> Result<Schemes> {
        let mut reg = env.registry()?;
        if name == "auto" {
            let sel = env.selection()?;
            let list = sel
                .schemes()
                .into_iter()
                .map(|n| reg.get(n).map_err(anyhow::Error::from))
                .collect::<Result<Vec<_>>>()?;
            Ok(Schemes {
                list,
                selection: Some(sel),
                region,
            })
        } else {
            if region.is_some() {
                bail!("--region only applies with --scheme auto");
            }
            Ok(Schemes {
                list: vec![reg.get(name)?],
                selection: None,
                region: None,
            })
        }
    }

    /// The scheme of one case.
    pub fn pick(&self, insured_region: &str, discharge_date: &str) -> &Scheme {
        match &self.selection {
            None => &self.list[0],
            Some(sel) => {
                let region = self.region.as_deref().unwrap_or(insured_region);
                let name = sel.select(region, discharge_date);
                self.list
                    .iter()
                    .find(|s| s.name == name)
                    .unwrap_or(&self.list[0])
            }
        }
    }

    /// The catalog shared by the schemes.
    pub fn catalog(&self) -> &drgdip_codes::Catalog {
        &self.list[0].catalog
    }
}

/// Opens an input (`-` = stdin).
pub fn open_input(path: &Path) -> Result<Box<dyn std::io::Read + Send>> {
    if path == Path::new("-") {
        Ok(Box::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(path)
            .with_context(|| format!("cannot open the input file {}", path.display()))?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, f)))
    }
}

/// Creates an output (`-` = stdout).
pub fn create_output(path: &Path) -> Result<Box<dyn std::io::Write>> {
    if path == Path::new("-") {
        Ok(Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::io::stdout().lock(),
        )))
    } else {
        let f = std::fs::File::create(path)
            .with_context(|| format!("cannot create the output file {}", path.display()))?;
        Ok(Box::new(std::io::BufWriter::with_capacity(1 << 20, f)))
    }
}

/// A result file: CSV as written, or JSON lines / Parquet made from the CSV
/// ([`drgdip_io::TableWriter`]).
pub enum Output {
    Plain(Box<dyn std::io::Write>),
    Table(drgdip_io::TableWriter),
}

impl Output {
    /// Where the command writes its CSV.
    pub fn writer(&mut self) -> &mut dyn std::io::Write {
        match self {
            Output::Plain(w) => w.as_mut(),
            Output::Table(t) => t,
        }
    }

    /// Completes the file.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Plain(mut w) => Ok(w.flush()?),
            Output::Table(t) => Ok(t.finish().context("cannot write the output")?),
        }
    }
}

/// Creates a result file in `format` (`-` = stdout, CSV and JSON lines only).
pub fn create_output_as(path: &Path, format: drgdip_io::OutputFormat) -> Result<Output> {
    use drgdip_io::{OutputFormat, TableWriter};
    match format {
        OutputFormat::Csv => Ok(Output::Plain(create_output(path)?)),
        _ if path == Path::new("-") && format == OutputFormat::Parquet => {
            anyhow::bail!(
                "Parquet output needs a file (--output FILE.parquet), not standard output"
            )
        }
        _ if path == Path::new("-") => Ok(Output::Table(TableWriter::new(
            format,
            Box::new(std::io::BufWriter::new(std::io::stdout())),
        ))),
        _ => Ok(Output::Table(
            TableWriter::create(format, path)
                .with_context(|| format!("cannot create the output file {}", path.display()))?,
        )),
    }
}

/// Opens the errors file, if one was asked for, and writes its header
/// (`line,case_id,field,value,message`).
pub fn open_errors(path: Option<&Path>) -> Result<Option<Box<dyn std::io::Write>>> {
    match path {
        Some(p) => {
            let mut w = create_output(p)?;
            w.write_all(b"line,case_id,field,value,message\n")?;
            Ok(Some(w))
        }
        None => Ok(None),
    }
}

/// How a command reads its case files, and the language of its row problems.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InputOpts {
    /// The case files have quoted line breaks: a quoted field may span lines. Without it a
    /// record is one physical line, and a quote left open makes only its own row invalid.
    #[arg(long)]
    pub multiline: bool,
    /// A column mapping (TOML) of the case files' layout onto drgdip's fields: column names,
    /// separators, codes, date formats (`mappings/settlement-list.toml`, docs/input.md).
    #[arg(long, value_name = "FILE", value_parser = parse_mapping)]
    pub mapping: Option<std::sync::Arc<drgdip_io::Mapping>>,
    /// The case files' format: csv, jsonl, parquet, arrow or xlsx. Default: told by the
    /// file's first bytes (Parquet, Arrow IPC and xlsx have magic numbers; a `{` starts JSON
    /// lines; anything else is CSV).
    #[arg(long, value_name = "FORMAT", value_parser = parse_input_format)]
    pub input_format: Option<drgdip_io::InputFormat>,
}

fn parse_mapping(path: &str) -> std::result::Result<std::sync::Arc<drgdip_io::Mapping>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    drgdip_io::Mapping::parse(&text, path)
        .map(std::sync::Arc::new)
        .map_err(|e| e.to_string())
}

fn parse_input_format(s: &str) -> std::result::Result<drgdip_io::InputFormat, String> {
    drgdip_io::InputFormat::parse(s).ok_or_else(|| {
        format!(
            "{s:?}: expected one of {}",
            drgdip_io::InputFormat::NAMES.join(", ")
        )
    })
}

impl InputOpts {
    /// How the case files are read.
    pub fn spec(&self) -> drgdip_io::InputSpec {
        drgdip_io::InputSpec {
            format: self.input_format,
            multiline: self.multiline,
            mapping: self.mapping.clone(),
        }
    }

    /// The batch options for rows read for `purpose`, problems in `lang`. The bounds on
    /// figures are the defaults (`payment-model.md` §12).
    pub fn batch(&self, purpose: Purpose, lang: Lang) -> BatchOptions {
        self.batch_limited(purpose, lang, ReadLimits::default().max_case_cost)
    }

    /// [`InputOpts::batch`] with the parameters' `[limits].max_case_cost`.
    pub fn batch_limited(
        &self,
        purpose: Purpose,
        lang: Lang,
        max_case_cost: rust_decimal::Decimal,
    ) -> BatchOptions {
        BatchOptions {
            multiline: self.multiline,
            format: self.input_format,
            mapping: self.mapping.clone(),
            read: ReadOptions {
                purpose,
                limits: ReadLimits {
                    max_case_cost,
                    ..ReadLimits::default()
                },
            },
            lang,
            ..BatchOptions::default()
        }
    }
}

/// Parses `--lang` (`zh` or `en`); `None` gives `default`.
pub fn parse_lang(arg: Option<&str>, default: Lang) -> Result<Lang> {
    match arg {
        None => Ok(default),
        Some(s) => Lang::parse(s).ok_or_else(|| anyhow::anyhow!("--lang {s:?}: expected zh or en")),
    }
}

/// Reads approved special cases: `[hospital_id,]case_id,outcome,points` (outcome `per_item` or
/// `extra_points`). A malformed row names its line and field.
pub fn read_special(path: &Path) -> Result<drgdip_engine::pricing::SpecialCases> {
    let text = read_text(path, "special cases")?;
    Ok(drgdip_engine::pricing::parse_special(
        &text,
        &path.display().to_string(),
    )?)
}

/// Reads a whole text file; the error names what it is (`the parameter file …`).
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} {}", path.display()))
}

/// Reads and validates the hospitals file (`hospital_id,name,level,…`).
pub fn read_hospitals(path: &Path) -> Result<drgdip_pay::Hospitals> {
    Ok(drgdip_engine::region::read_hospitals(path)?)
}

/// Where the weights of a run come from: `--weights`, `--history`, or the parameters.
pub fn weights_from(weights: Option<&Path>, history: Option<&Path>) -> drgdip_engine::WeightsFrom {
    match (weights, history) {
        (Some(w), _) => drgdip_engine::WeightsFrom::File(w.to_path_buf()),
        (None, Some(h)) => drgdip_engine::WeightsFrom::History(h.to_path_buf()),
        (None, None) => drgdip_engine::WeightsFrom::Params,
    }
}

/// Parses `--point-value`.
pub fn parse_point_value(text: Option<&str>) -> Result<Option<rust_decimal::Decimal>> {
    text.map(|v| {
        <rust_decimal::Decimal as std::str::FromStr>::from_str(v.trim())
            .map_err(|_| anyhow::anyhow!("--point-value {v:?}: expected a decimal such as 12.34"))
    })
    .transpose()
}

/// Reads and validates the parameters (the scheme must be a known one), then loads the
/// scheme: the parameters' `region.scheme`, or `scheme` when given.
pub fn load_params(
    env: &Env,
    path: &Path,
    scheme: Option<&str>,
) -> Result<(drgdip_pay::Params, Arc<Scheme>)> {
    let mut registry = env.registry()?;
    let (params, scheme, _) = drgdip_engine::region::load_params(&mut registry, path, scheme)?;
    Ok((params, scheme))
}
