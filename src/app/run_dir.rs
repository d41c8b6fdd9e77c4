//! A finished run directory, read back: its manifest, and each artefact
//! only once its bytes are the ones the manifest recorded (for `udll
//! report` and `udll assign`).

use crate::error::{Result, UdllError};
use crate::io::hash::sha256_hex;
use crate::io::manifest::{FileRecord, Manifest, check_complete};
use std::path::{Path, PathBuf};

/// A run directory whose files passed their manifest hashes.
pub struct RunDir {
    /// The directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

impl RunDir {
    /// Open a finished run directory (not marked incomplete, with a manifest).
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(UdllError::config(format!("{} is not a directory", dir.display())));
        }
        check_complete(dir)?;
        let mp = dir.join("manifest.json");
        if !mp.exists() {
            return Err(UdllError::config(format!("{} is not a run directory: manifest.json is missing", dir.display())));
        }
        let manifest = Manifest::load(&mp)?;
        Ok(RunDir { dir: dir.to_path_buf(), manifest })
    }

    /// The path of `name`, once it is there and its bytes are the ones the
    /// manifest recorded.
    pub fn checked(&self, name: &str) -> Result<PathBuf> {
        let p = self.dir.join(name);
        let Some(rec) = self.manifest.artefacts.iter().find(|a| a.path == name) else {
            return Err(UdllError::config(format!("{}: the manifest lists no {name}, which is needed here", self.dir.display())));
        };
        if !p.exists() {
            return Err(UdllError::config(format!("{}: {name} is missing (the manifest lists it)", self.dir.display())));
        }
        if FileRecord::of(&p, name)?.sha256 != rec.sha256 {
            return Err(UdllError::Mismatch(format!("{}: {name} is not the file the run wrote (its SHA-256 differs from the manifest's)", self.dir.display())));
        }
        Ok(p)
    }

    /// `name` checked and read as JSON.
    pub fn checked_json(&self, name: &str) -> Result<serde_json::Value> {
        let p = self.checked(name)?;
        let text = std::fs::read_to_string(&p).map_err(|e| UdllError::io(&p, e))?;
        serde_json::from_str(&text).map_err(|e| UdllError::format(&p, format!("not JSON: {e}")))
    }

    /// Whether the manifest lists `name` among the run's artefacts.
    pub fn lists(&self, name: &str) -> bool {
        self.manifest.artefacts.iter().any(|a| a.path == name)
    }

    /// `name` checked, or None when the manifest does not list it.
    pub fn optional(&self, name: &str) -> Result<Option<PathBuf>> {
        if self.lists(name) { self.checked(name).map(Some) } else { Ok(None) }
    }

    /// The bytes of `name`, read once and checked against the manifest's
    /// hash, or None when the manifest does not list it.
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(rec) = self.manifest.artefacts.iter().find(|a| a.path == name) else { return Ok(None) };
        let p = self.dir.join(name);
        if !p.exists() {
            return Err(UdllError::config(format!("{}: {name} is missing (the manifest lists it)", self.dir.display())));
        }
        let bytes = std::fs::read(&p).map_err(|e| UdllError::io(&p, e))?;
        if sha256_hex(&bytes) != rec.sha256 {
            return Err(UdllError::Mismatch(format!("{}: {name} is not the file the run wrote (its SHA-256 differs from the manifest's)", self.dir.display())));
        }
        Ok(Some(bytes))
    }
}
