//! 抽查复核 — the half-yearly spot-check draw.
//!
//! Of the cases decided in applications counted in a half-year (see the notice), the bureau
//! draws `ceil(spot_check_share × decided cases)` at random (10% of 5 cases is one case: a
//! share of a small half-year still checks something). The draw is a pure function of the
//! cases and a recorded `seed`, so that anyone can repeat it: each case `(application id,
//! case token)` gets the key `splitmix64(seed XOR fnv1a64("{application id}/{token}"))`
//! (FNV-1a 64-bit over the UTF-8 bytes; SplitMix64 as published by Steele, Lea and Flood,
//! 2014), and the cases with the smallest keys are drawn (ties by application id and token).
//! The order in which the applications are given does not matter.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Application;
use crate::calendar::HalfYear;

/// A case drawn for a spot check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DrawnCase {
    /// The application.
    pub application_id: String,
    /// The case's token in the application.
    pub case: String,
}

/// One half-year's draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpotCheckDraw {
    /// The half-year.
    pub half: HalfYear,
    /// The seed, recorded so that the draw can be repeated.
    pub seed: u64,
    /// `special_case.spot_check_share`.
    pub share: Decimal,
    /// The decided cases of the half-year.
    pub decided_cases: u64,
    /// The cases drawn, by application and token.
    pub drawn: Vec<DrawnCase>,
}

/// FNV-1a, 64 bits.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// SplitMix64's output function of `x`.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How many of `decided` cases a draw of `share` takes: `ceil(share × decided)`, at most all.
pub fn draw_size(share: Decimal, decided: u64) -> u64 {
    let n = share
        .checked_mul(Decimal::from(decided))
        .map(|d| d.ceil())
        .and_then(|d| u64::try_from(d).ok())
        .unwrap_or(decided);
    n.min(decided)
}

/// Draws the spot checks of `half` among the decided cases of `applications` (see the module
/// documentation).
pub fn draw_spot_checks<'a>(
    applications: impl IntoIterator<Item = &'a Application>,
    half: HalfYear,
    share: Decimal,
    seed: u64,
) -> SpotCheckDraw {
    let population: BTreeSet<DrawnCase> = applications
        .into_iter()
        .filter(|a| a.decisions().is_some() && half.contains(a.period().last_month()))
        .flat_map(|a| {
            a.tokens().map(move |t| DrawnCase {
                application_id: a.id().to_string(),
                case: t.to_string(),
            })
        })
        .collect();
    let decided = population.len() as u64;
    let size = draw_size(share, decided) as usize;
    let mut keyed: Vec<(u64, DrawnCase)> = population
        .into_iter()
        .map(|c| {
            let name = format!("{}/{}", c.application_id, c.case);
            (splitmix64(seed ^ fnv1a64(name.as_bytes())), c)
        })
        .collect();
    keyed.sort();
    let mut drawn: Vec<DrawnCase> = keyed.into_iter().take(size).map(|(_, c)| c).collect();
    drawn.sort();
    SpotCheckDraw {
        half,
        seed,
        share,
        decided_cases: decided,
        drawn,
    }
}
