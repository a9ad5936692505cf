//! Where a scheme's files come from. The loader reads through [`SchemeFiles`], so that it can
//! be fed from a directory (the only I/O in this crate) or from memory in tests.

use std::path::{Path, PathBuf};

use crate::SchemeError;

/// Read access to the shared directory.
pub trait SchemeFiles {
    /// The whole text of a file, by path relative to the root.
    fn read(&self, rel: &str) -> Result<String, SchemeError>;
    /// The file names (not paths) in a directory, sorted.
    fn list(&self, rel_dir: &str) -> Result<Vec<String>, SchemeError>;
    /// A description of the root, for messages.
    fn describe(&self) -> String;
}

/// Files under a directory of the file system.
#[derive(Debug, Clone)]
pub struct DirFiles {
    root: PathBuf,
}

impl DirFiles {
    /// Files under `root`; fails with a clear message when it is not a directory.
    pub fn new(root: impl AsRef<Path>) -> Result<DirFiles, SchemeError> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(SchemeError::MissingDir(root.display().to_string()));
        }
        Ok(DirFiles { root })
    }
}

impl SchemeFiles for DirFiles {
    fn read(&self, rel: &str) -> Result<String, SchemeError> {
        let p = self.root.join(rel);
        let bytes = std::fs::read(&p).map_err(|e| SchemeError::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        })?;
        String::from_utf8(bytes).map_err(|_| SchemeError::Io {
            path: p.display().to_string(),
            message: "not UTF-8".into(),
        })
    }
    fn list(&self, rel_dir: &str) -> Result<Vec<String>, SchemeError> {
        let p = self.root.join(rel_dir);
        let rd = std::fs::read_dir(&p).map_err(|e| SchemeError::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        })?;
        let mut names: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }
    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// Files held in memory (tests, or a scheme embedded in another program).
#[derive(Debug, Clone, Default)]
pub struct MemFiles {
    files: std::collections::BTreeMap<String, String>,
}

impl MemFiles {
    /// An empty set of files.
    pub fn new() -> MemFiles {
        MemFiles::default()
    }
    /// Adds a file at a path relative to the root.
    pub fn with(mut self, path: &str, text: &str) -> MemFiles {
        self.files.insert(path.to_string(), text.to_string());
        self
    }
}

impl SchemeFiles for MemFiles {
    fn read(&self, rel: &str) -> Result<String, SchemeError> {
        self.files.get(rel).cloned().ok_or_else(|| SchemeError::Io {
            path: rel.to_string(),
            message: "no such file".into(),
        })
    }
    fn list(&self, rel_dir: &str) -> Result<Vec<String>, SchemeError> {
        let prefix = format!("{}/", rel_dir.trim_end_matches('/'));
        Ok(self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_string)
            .collect())
    }
    fn describe(&self) -> String {
        "(memory)".into()
    }
}
