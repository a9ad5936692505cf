//! `drgdip schemes`: the schemes drgdip knows, loaded and checked.

use anyhow::Result;
use drgdip_scheme::SplitRule;

use crate::shared::SharedOpts;

#[derive(Debug, clap::Args)]
pub struct SchemesArgs {
    /// Only this scheme.
    #[arg(long)]
    pub scheme: Option<String>,
    /// List every warning in full.
    #[arg(long, short)]
    pub verbose: bool,
    #[command(flatten)]
    pub shared: SharedOpts,
}

/// Runs `drgdip schemes`: loads and validates each scheme; exits non-zero if one fails.
pub fn run(a: SchemesArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let mut reg = env.registry()?;
    let names = match &a.scheme {
        Some(n) => vec![n.clone()],
        None => reg.names(),
    };
    let mut failed = 0;
    for name in names {
        let t = std::time::Instant::now();
        match reg.get(&name) {
            Ok(s) => {
                let unused: Vec<&str> = s
                    .drgs
                    .iter()
                    .filter(|d| !d.reachable || d.rule == SplitRule::Unused)
                    .map(|d| d.code.as_str())
                    .collect();
                println!(
                    "{} {} — {}{}",
                    s.name,
                    s.version,
                    s.title,
                    s.base
                        .as_ref()
                        .map(|b| format!(" (layer over {b})"))
                        .unwrap_or_default()
                );
                println!(
                    "  {} MDC, {} ADRG, {} DRG codes; {} code lists; {} diagnoses and {} procedures in the catalogs; {} valid procedures; loaded in {:.0} ms",
                    s.mdcs.len(),
                    s.adrgs.len(),
                    s.drgs.len(),
                    s.lists.len(),
                    s.catalog.diagnoses.len(),
                    s.catalog.procedures.len(),
                    s.valid_px.len(),
                    t.elapsed().as_secs_f64() * 1000.0
                );
                if !unused.is_empty() {
                    println!(
                        "  {} code(s) no rule produces (kept for later revisions): {}",
                        unused.len(),
                        unused.join(" ")
                    );
                }
                println!("  {} warning(s)", s.warnings.len());
                for w in s
                    .warnings
                    .iter()
                    .take(if a.verbose { usize::MAX } else { 5 })
                {
                    println!("    {w}");
                }
            }
            Err(e) => {
                failed += 1;
                println!("{name}: FAILED\n  {e}");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} scheme(s) failed to load");
    }
    Ok(())
}
