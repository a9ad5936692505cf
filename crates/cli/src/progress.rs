//! A progress bar on standard error, shown only when it is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Rows done so far, with a rate.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A spinner counting rows (nothing when `quiet` or not a terminal).
    pub fn new(quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {human_pos} rows  {per_sec}  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Progress(Some(pb))
    }
    /// Rows done.
    pub fn set(&self, n: u64) {
        if let Some(pb) = &self.0 {
            pb.set_position(n);
        }
    }
    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}
