//! drgdip-pay — DRG payment (按病组付费) for one pooling region.
//!
//! What goes in: the region's parameter file as text ([`Params`]), the hospitals
//! ([`Hospitals`]), a year of grouped history cases ([`HistoryCase`]) or a weights CSV,
//! and grouped cases to pay ([`PayInput`]). What comes out: a [`WeightTable`], a
//! [`Tariff`] (standards per DRG and hospital level), one [`Payment`] per case with its
//! rule lines, and a [`PaySummary`].
//!
//! The formulas are those of `payment-model.md` §1 and §2 (revision 2: the exclusion by the
//! approved catalogue, [`exclusion`]). Invariants of this crate:
//! - pure: no file I/O, no global state, no async — callers hand in text and values;
//! - money never passes through `f64`: every amount is a [`rust_decimal::Decimal`];
//! - nothing is rounded in between: amounts are rounded half-up to the fen (0.01 CNY)
//!   only when written out ([`money::round_fen`]); weights are rounded half-up to
//!   4 decimals when computed ([`money::round_weight`]), and standards use that weight;
//! - the `[dip]` tables of the parameter file belong to the DIP crate and are ignored here.

/// Defines a fieldless enum whose variants are written as fixed strings in files
/// (parameter values, CSV columns), with `ALL`, `as_str`, `parse` and `Display`.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text that names this variant in files and reports.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// The variant named `text` (exact match), if any.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::TextEnum for $name {
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }
    };
}

pub mod exclusion;
pub mod hospital;
pub mod money;
pub mod params;
pub mod payment;
pub mod rate;
pub mod summary;
pub mod tariff;
pub mod weights;

#[cfg(test)]
mod testutil;

pub use exclusion::{Catalogue, CatalogueError, Date, ExclusionForm, ItemUse};
pub use hospital::{Hospital, HospitalKind, Hospitals, HospitalsError};
pub use params::{InsuredClass, Params, ParamsError};
pub use payment::{
    pay_case, Category, ExclusionOutcome, PayInput, Payment, RuleLine, SpecialApproval,
};
pub use rate::{derive_base_rate, ExpectedCase, RateDerivation, RateError};
pub use summary::{PaySummary, Totals};
pub use tariff::{ExclusionRule, Tariff, TariffError};
pub use weights::{GroupStatus, HistoryCase, WeightRow, WeightSource, WeightTable};

/// An enum written as a fixed string in files; see the `text_enum!` macro.
pub trait TextEnum: Copy + 'static {
    /// The text that names this variant.
    fn as_str(self) -> &'static str;
}
