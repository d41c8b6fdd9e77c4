//! Run manifests: what a command read (with SHA-256), every resolved
//! hyper-parameter, the seed, the software and CPU facts that decide the
//! bits, and the SHA-256 of every artefact it wrote. `udll audit` re-runs
//! one and compares (see `crate::audit`).
//!
//! A command that writes a directory puts `manifest.json` in it; one that
//! writes a single file puts `FILE.manifest.json` beside it.

use crate::error::{Result, UdllError};
use crate::io::atomic::write_json;
use crate::io::hash::{sha256_file, sha256_hex};
use crate::linalg::gemm::cpu_kernel_features;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Keys of a JSON artefact that hold wall times: recorded, never compared.
pub const VOLATILE_JSON_KEYS: &[&str] = &["timings_seconds"];

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
/// A file a command read or wrote, with its hash.
pub struct FileRecord {
    /// Path as given (inputs) or relative to the output (artefacts).
    pub path: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// The file's size.
    pub bytes: u64,
    /// For JSON artefacts that carry wall times: the SHA-256 of the JSON
    /// with those keys removed, which is what an audit compares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_sha256: Option<String>,
}

impl FileRecord {
    /// Hash the file at `path`, recorded as `shown_as`.
    pub fn of(path: &Path, shown_as: &str) -> Result<Self> {
        if path.is_dir() {
            let (sha256, bytes) = crate::io::hash::sha256_tree(path)?;
            return Ok(FileRecord { path: shown_as.to_string(), sha256, bytes, stable_sha256: None });
        }
        let bytes = std::fs::metadata(path).map_err(|e| UdllError::io(path, e))?.len();
        let stable_sha256 = if path.extension().is_some_and(|e| e == "json") { stable_json_hash(path)? } else { None };
        Ok(FileRecord { path: shown_as.to_string(), sha256: sha256_file(path)?, bytes, stable_sha256 })
    }

    /// The hash an audit compares: the stable one when there is one.
    pub fn compared_hash(&self) -> &str {
        self.stable_sha256.as_deref().unwrap_or(&self.sha256)
    }
}

/// SHA-256 of a JSON object without its volatile keys, or None when the
/// file has none of them (then the plain hash is compared).
fn stable_json_hash(path: &Path) -> Result<Option<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| UdllError::io(path, e))?;
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str::<serde_json::Value>(&text) else { return Ok(None) };
    if !VOLATILE_JSON_KEYS.iter().any(|k| map.contains_key(*k)) {
        return Ok(None);
    }
    for k in VOLATILE_JSON_KEYS {
        map.remove(*k);
    }
    Ok(Some(sha256_hex(serde_json::to_string(&map).expect("JSON serialises").as_bytes())))
}

/// Where a command wrote: a directory of artefacts or one file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputRecord {
    /// The `--out` value as given on the command line.
    pub path: String,
    /// Whether it is a directory (else one file).
    pub is_dir: bool,
}

impl OutputRecord {
    /// The directory artefact paths are relative to.
    pub fn base_dir(&self) -> PathBuf {
        let p = PathBuf::from(&self.path);
        if self.is_dir { p } else { p.parent().map(Path::to_path_buf).unwrap_or_default() }
    }

    /// Where the manifest of this output goes.
    pub fn manifest_path(&self) -> PathBuf {
        manifest_path_for(Path::new(&self.path), self.is_dir)
    }
}

/// The file that marks a directory as being written by a udll command; it
/// goes once the manifest is written. A directory that has it is not a
/// finished run (the command is still running, failed or was killed).
pub const INCOMPLETE_MARKER: &str = "udll-incomplete";

/// Start writing the output directory `dir`: mark it incomplete, then remove
/// the manifest and the `artefacts` an earlier run left there, so that the
/// directory never holds a manifest that describes other files, nor two
/// runs' artefacts side by side. Other files are left alone.
pub fn begin_output_dir(dir: &Path, artefacts: &[&str]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| UdllError::io(dir, e))?;
    let marker = dir.join(INCOMPLETE_MARKER);
    let note = "A udll command is writing this directory. It is complete once manifest.json is written and this file is gone;\nif no command is running, that command failed or was interrupted and these files are not a run.\n";
    std::fs::write(&marker, note).map_err(|e| UdllError::io(&marker, e))?;
    for name in std::iter::once(&"manifest.json").chain(artefacts) {
        let p = dir.join(name);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_file() || m.file_type().is_symlink() => std::fs::remove_file(&p).map_err(|e| UdllError::io(&p, e))?,
            _ => {}
        }
    }
    Ok(())
}

/// Refuse a directory that [`begin_output_dir`] marked and no manifest
/// completed.
pub fn check_complete(dir: &Path) -> Result<()> {
    if dir.join(INCOMPLETE_MARKER).exists() {
        return Err(UdllError::config(format!(
            "{} is not a finished run: {INCOMPLETE_MARKER} is there (the command that wrote it failed, was interrupted or is still running)",
            dir.display()
        )));
    }
    Ok(())
}

/// `DIR/manifest.json` for a directory output, `FILE.manifest.json` for a file.
pub fn manifest_path_for(out: &Path, is_dir: bool) -> PathBuf {
    if is_dir {
        out.join("manifest.json")
    } else {
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.with_file_name(format!("{name}.manifest.json"))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
/// What a command did: its inputs, settings, software and artefacts, hashed.
pub struct Manifest {
    /// The version of udll that ran.
    pub udll_version: String,
    /// The git commit the binary was built from, when the build knew it.
    #[serde(default)]
    pub git_commit: Option<String>,
    /// The command line, as typed (the program name included).
    pub command: Vec<String>,
    /// The working directory relative input paths are read from.
    #[serde(default)]
    pub cwd: String,
    /// Where the command wrote.
    pub output: OutputRecord,
    /// Every resolved hyper-parameter (preset values included).
    pub config: serde_json::Value,
    /// The run's seed.
    pub seed: u64,
    /// A summary of the dataset (name, size, classes).
    pub dataset: serde_json::Value,
    /// Every input file, hashed.
    pub inputs: Vec<FileRecord>,
    /// The CPU features that decide which GEMM kernels can run.
    pub cpu_kernel_features: Vec<String>,
    /// The GEMM kernel family that ran (`portable` or `avx512`; absent in
    /// manifests written before the families existed).
    #[serde(default)]
    pub kernel_family: Option<String>,
    /// The thread count (results do not depend on it).
    pub threads: usize,
    /// Every artefact, hashed.
    pub artefacts: Vec<FileRecord>,
}

/// What a command says about its run; the rest of the manifest is filled
/// in by [`Manifest::record`].
pub struct RunFacts<'a> {
    /// The command line that asked for the run (program name first), which
    /// `udll audit` re-runs; empty for a call from a library user.
    pub command: &'a [String],
    /// The checked settings.
    pub config: serde_json::Value,
    /// The run's seed.
    pub seed: u64,
    /// A summary of the dataset.
    pub dataset: serde_json::Value,
    /// The input files.
    pub inputs: &'a [PathBuf],
    /// The thread count.
    pub threads: usize,
}

/// The git commit this binary was built from, when the build knew it.
pub fn git_commit() -> Option<String> {
    option_env!("UDLL_GIT_COMMIT").map(str::to_string)
}

impl Manifest {
    /// Record a finished command: hash its inputs and the artefacts (paths
    /// relative to the output's base directory; absent ones are skipped).
    pub fn record(facts: RunFacts<'_>, out: &Path, is_dir: bool, artefacts: &[&str]) -> Result<Manifest> {
        let output = OutputRecord { path: out.display().to_string(), is_dir };
        let base = output.base_dir();
        let mut recs = Vec::new();
        for name in artefacts {
            let p = base.join(name);
            if p.exists() {
                recs.push(FileRecord::of(&p, name)?);
            }
        }
        let inputs = facts.inputs.iter().map(|p| FileRecord::of(p, &p.display().to_string())).collect::<Result<Vec<_>>>()?;
        Ok(Manifest {
            udll_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
            command: facts.command.to_vec(),
            cwd: std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
            output,
            config: facts.config,
            seed: facts.seed,
            dataset: facts.dataset,
            inputs,
            cpu_kernel_features: cpu_kernel_features().iter().map(|s| s.to_string()).collect(),
            kernel_family: Some(crate::linalg::kernels::family().name().to_string()),
            threads: facts.threads,
            artefacts: recs,
        })
    }

    /// Record and write the manifest where [`manifest_path_for`] says.
    pub fn record_and_write(facts: RunFacts<'_>, out: &Path, is_dir: bool, artefacts: &[&str]) -> Result<PathBuf> {
        let m = Manifest::record(facts, out, is_dir, artefacts)?;
        let path = m.output.manifest_path();
        m.write(&path)?;
        if is_dir {
            let marker = out.join(INCOMPLETE_MARKER);
            if marker.exists() {
                std::fs::remove_file(&marker).map_err(|e| UdllError::io(&marker, e))?;
            }
        }
        Ok(path)
    }

    /// Write as pretty JSON at `path` (atomically).
    pub fn write(&self, path: &Path) -> Result<()> {
        write_json(path, self)
    }

    /// Read the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|e| UdllError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| UdllError::format(path, format!("not a udll manifest: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_hash_ignores_timings_but_not_scores() {
        let dir = std::env::temp_dir().join(format!("udll-manifest-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("metrics.json");
        let rec = |text: &str| {
            std::fs::write(&p, text).unwrap();
            FileRecord::of(&p, "metrics.json").unwrap()
        };
        let a = rec(r#"{"acc": 0.5, "timings_seconds": {"total": 1.0}}"#);
        let b = rec(r#"{"acc": 0.5, "timings_seconds": {"total": 2.5}}"#);
        let c = rec(r#"{"acc": 0.6, "timings_seconds": {"total": 1.0}}"#);
        assert_ne!(a.sha256, b.sha256);
        assert_eq!(a.compared_hash(), b.compared_hash());
        assert_ne!(a.compared_hash(), c.compared_hash());
        let plain = rec(r#"{"acc": 0.5}"#);
        assert_eq!(plain.stable_sha256, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn manifest_paths() {
        assert_eq!(manifest_path_for(Path::new("a/b"), true), PathBuf::from("a/b/manifest.json"));
        assert_eq!(manifest_path_for(Path::new("a/ae.ckpt"), false), PathBuf::from("a/ae.ckpt.manifest.json"));
        let o = OutputRecord { path: "ae.ckpt".into(), is_dir: false };
        assert_eq!(o.base_dir(), PathBuf::from(""));
    }
}
