//! Loading, compiling and validating DRG grouping schemes.
//!
//! A scheme is data: the official tables under the shared directory, plus a manifest (a small
//! TOML file kept in this repository) that states what the tables leave implicit. A local
//! scheme (a province's refinement, 地方细分方案) is a layer of data over a base scheme. This
//! crate turns both into a compiled [`Scheme`] of ids, bit sets and condition trees; it never
//! groups a case.

mod bitset;
mod files;
mod layer;
mod load;
mod manifest;
mod model;
pub mod selection;
mod tables;

pub use bitset::BitSet;
pub use files::{DirFiles, MemFiles, SchemeFiles};
pub use load::{load_catalog, load_scheme, Registry};
pub use manifest::{AdrgSpec, EntrySpec, LayerSpec, Manifest, OrderSpec};
pub use model::*;
pub use tables::{classify_header, is_code_token, HeaderKind};

/// The manifests shipped with drgdip (the schemes it knows without configuration).
pub const BUILTIN_MANIFESTS: &[(&str, &str)] = &[
    (
        "chs-drg-2.0",
        include_str!("../../../schemes/chs-drg-2.0.toml"),
    ),
    (
        "fujian-2024",
        include_str!("../../../schemes/fujian-2024.toml"),
    ),
];

/// Why a scheme could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SchemeError {
    #[error("shared directory {0:?} does not exist or is not a directory (set --shared DIR or DRGDIP_SHARED)")]
    MissingDir(String),
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("{file}:{line}: {message}")]
    Line {
        file: String,
        line: usize,
        message: String,
    },
    #[error("scheme manifest {name}: {message}")]
    Manifest { name: String, message: String },
    #[error("unknown scheme {name:?}; known schemes: {known}")]
    UnknownScheme { name: String, known: String },
    #[error("scheme {scheme} is inconsistent:\n  {}", problems.join("\n  "))]
    Invalid {
        scheme: String,
        problems: Vec<String>,
    },
    #[error(transparent)]
    Catalog(#[from] drgdip_codes::CatalogError),
}

#[cfg(test)]
mod validate_tests;
