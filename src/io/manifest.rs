//! Run manifests: what a command read (with SHA-256), every resolved
//! hyper-parameter, the seed, the software and CPU facts that decide the
//! bits, and the SHA-256 of every artefact it wrote. `udll audit` re-runs
//! one and compares.

use crate::error::Result;
use crate::io::atomic::write_atomic;
use crate::io::hash::sha256_file;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FileRecord {
    /// Path as given (inputs) or relative to the output directory (artefacts).
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

impl FileRecord {
    pub fn of(path: &Path, shown_as: &str) -> Result<Self> {
        let bytes = std::fs::metadata(path).map_err(|e| crate::UdllError::io(path, e))?.len();
        Ok(FileRecord { path: shown_as.to_string(), sha256: sha256_file(path)?, bytes })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub udll_version: String,
    pub command: Vec<String>,
    pub config: serde_json::Value,
    pub seed: u64,
    pub dataset: serde_json::Value,
    pub inputs: Vec<FileRecord>,
    pub cpu_kernel_features: Vec<String>,
    pub threads: usize,
    pub artefacts: Vec<FileRecord>,
}

impl Manifest {
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("manifest serialises");
        write_atomic(path, format!("{text}\n").as_bytes())
    }
}
