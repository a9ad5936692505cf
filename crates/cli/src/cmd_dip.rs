//! `drgdip dip build|score|point-value`: the region's DIP library and case scores.
//! (To be written.)

use anyhow::Result;

use crate::shared::SharedOpts;

#[derive(Debug, clap::Args)]
pub struct DipArgs {
    #[command(flatten)]
    pub shared: SharedOpts,
}

/// Runs `drgdip dip …`.
pub fn run(_a: DipArgs) -> Result<()> {
    anyhow::bail!("not yet available")
}
