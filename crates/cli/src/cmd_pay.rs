//! `drgdip weights` and `drgdip pay`: DRG weights from a year of history, and the payment of
//! each case. (To be written.)

use anyhow::Result;

use crate::shared::SharedOpts;

#[derive(Debug, clap::Args)]
pub struct WeightsArgs {
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Args)]
pub struct PayArgs {
    #[command(flatten)]
    pub shared: SharedOpts,
}

/// Runs `drgdip weights`.
pub fn run_weights(_a: WeightsArgs) -> Result<()> {
    anyhow::bail!("not yet available")
}

/// Runs `drgdip pay`.
pub fn run_pay(_a: PayArgs) -> Result<()> {
    anyhow::bail!("not yet available")
}
