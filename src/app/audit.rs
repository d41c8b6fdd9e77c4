//! The audit of a recorded run: compare every artefact's hash with its
//! manifest, on disk and in re-runs under chosen thread counts.
//!
//! How a re-run is made (the command line, the process) is the caller's:
//! `udll audit` re-runs its own binary with the manifest's command line.
//! Inputs are checked first: a changed input makes the audit fail before
//! anything runs.

use crate::error::{Result, UdllError};
use crate::io::hash::sha256_file;
use crate::io::manifest::{FileRecord, Manifest};
use crate::linalg::gemm::cpu_kernel_features;
use std::path::{Path, PathBuf};

/// The manifest an audit path names: `DIR/manifest.json` for a directory
/// (refused while the directory is marked incomplete), the file itself when
/// it is a manifest, else `FILE.manifest.json`.
pub fn locate_manifest(path: &Path) -> Result<PathBuf> {
    Ok(if path.is_dir() {
        crate::io::manifest::check_complete(path)?;
        path.join("manifest.json")
    } else if path.to_string_lossy().ends_with("manifest.json") {
        path.to_path_buf()
    } else {
        crate::io::manifest::manifest_path_for(path, false)
    })
}

/// The hashes of one artefact: recorded in the manifest, found on disk
/// beside it, and produced by each re-run (None: the file is missing).
#[derive(Clone, Debug)]
pub struct AuditRow {
    /// The artefact's path, relative to the output.
    pub artefact: String,
    /// Its hash in the manifest.
    pub recorded: String,
    /// Its hash on disk beside the manifest (None: missing).
    pub on_disk: Option<String>,
    /// Its hash in each re-run, in the order of the thread counts.
    pub reruns: Vec<Option<String>>,
}

impl AuditRow {
    /// Whether every copy has the recorded hash.
    pub fn same(&self) -> bool {
        self.on_disk.as_deref() == Some(self.recorded.as_str()) && self.reruns.iter().all(|h| h.as_deref() == Some(self.recorded.as_str()))
    }

    /// Which copies disagree with the manifest, in words.
    pub fn problems(&self, thread_counts: &[usize]) -> Vec<String> {
        let mut p = Vec::new();
        let mut check = |h: &Option<String>, what: String| match h {
            None => p.push(format!("{what} missing")),
            Some(h) if *h != self.recorded => p.push(format!("{what} differs")),
            _ => {}
        };
        check(&self.on_disk, "on disk".into());
        for (h, t) in self.reruns.iter().zip(thread_counts) {
            check(h, format!("re-run with {t} thread(s)"));
        }
        p
    }
}

/// The result of an audit: one row per artefact of the manifest.
#[derive(Clone, Debug)]
pub struct AuditReport {
    /// The thread count of each re-run.
    pub thread_counts: Vec<usize>,
    /// One row per artefact, in the manifest's order.
    pub rows: Vec<AuditRow>,
}

impl AuditReport {
    /// Whether every row is the same everywhere.
    pub fn all_same(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(AuditRow::same)
    }

    /// The table `udll audit` prints: hashes shortened to 16 hex digits.
    pub fn table(&self) -> String {
        let w = self.rows.iter().map(|r| r.artefact.len()).max().unwrap_or(8).max(8);
        let mut s = format!("{:<w$}  {:<16}  {:<16}", "artefact", "manifest", "on disk");
        for t in &self.thread_counts {
            s += &format!("  {:<16}", format!("re-run, {t} thr."));
        }
        s += "  result
";
        let cell = |h: &Option<String>| h.as_deref().map_or("(missing)".to_string(), short);
        for r in &self.rows {
            s += &format!("{:<w$}  {:<16}  {:<16}", r.artefact, short(&r.recorded), cell(&r.on_disk));
            for h in &r.reruns {
                s += &format!("  {:<16}", cell(h));
            }
            s += if r.same() { "  same\n" } else { "  DIFFERENT\n" };
        }
        s
    }
}

fn short(h: &str) -> String {
    h.chars().take(16).collect()
}

/// The compared hash of each artefact a manifest lists, as found under
/// `base` (None when absent).
pub fn hashes_under(expected: &[FileRecord], base: &Path) -> Result<Vec<Option<String>>> {
    expected
        .iter()
        .map(|rec| {
            let p = base.join(&rec.path);
            if p.exists() { FileRecord::of(&p, &rec.path).map(|g| Some(g.compared_hash().to_string())) } else { Ok(None) }
        })
        .collect()
}

/// Differences between the recording machine/binary and this one that an
/// auditor must know before reading the table.
pub fn preamble(m: &Manifest) -> Vec<String> {
    let mut notes = Vec::new();
    let here: Vec<String> = cpu_kernel_features().iter().map(|s| s.to_string()).collect();
    if here != m.cpu_kernel_features {
        notes.push(format!(
            "CPU features differ: the manifest was recorded with [{}], this machine has [{}]; GEMM may pick another kernel, so hashes may differ without a bug",
            m.cpu_kernel_features.join(", "),
            here.join(", ")
        ));
    }
    if m.udll_version != env!("CARGO_PKG_VERSION") {
        notes.push(format!("udll version differs: recorded {}, this binary {}", m.udll_version, env!("CARGO_PKG_VERSION")));
    }
    if let (Some(rec), Some(now)) = (&m.git_commit, crate::io::manifest::git_commit())
        && *rec != now
    {
        notes.push(format!("built from another commit: recorded {rec}, this binary {now}"));
    }
    notes
}

/// Check every recorded input still has its hash (paths relative to `cwd`).
pub fn check_inputs(m: &Manifest, cwd: &Path) -> Result<()> {
    for rec in &m.inputs {
        let p = cwd.join(&rec.path);
        if !p.exists() {
            return Err(UdllError::config(format!("input {} is missing (looked in {}): cannot re-run", rec.path, cwd.display())));
        }
        let h = sha256_file(&p)?;
        if h != rec.sha256 {
            return Err(UdllError::config(format!(
                "input {} has changed since the run (sha256 {} , recorded {}): cannot audit",
                rec.path,
                short(&h),
                short(&rec.sha256)
            )));
        }
    }
    Ok(())
}

/// The directory relative inputs are resolved from: the recorded one when
/// it still exists, else the current one.
pub fn recorded_cwd(m: &Manifest) -> Result<PathBuf> {
    if !m.cwd.is_empty() && Path::new(&m.cwd).is_dir() {
        Ok(PathBuf::from(&m.cwd))
    } else {
        std::env::current_dir().map_err(|e| UdllError::io(Path::new("."), e))
    }
}

/// Audit the manifest at `manifest_path`: the artefacts beside it, then one
/// re-run per thread count. `rerun(threads)` re-runs the recorded command
/// with that many threads and returns the directory its artefacts are in.
pub fn audit(manifest_path: &Path, m: &Manifest, thread_counts: &[usize], rerun: &mut dyn FnMut(usize) -> Result<PathBuf>) -> Result<AuditReport> {
    check_inputs(m, &recorded_cwd(m)?)?;
    let here = manifest_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let on_disk = hashes_under(&m.artefacts, &here)?;
    let mut reruns = Vec::new();
    for &t in thread_counts {
        let base = rerun(t)?;
        reruns.push(hashes_under(&m.artefacts, &base)?);
    }
    let rows = m
        .artefacts
        .iter()
        .enumerate()
        .map(|(i, rec)| AuditRow {
            artefact: rec.path.clone(),
            recorded: rec.compared_hash().to_string(),
            on_disk: on_disk[i].clone(),
            reruns: reruns.iter().map(|r| r[i].clone()).collect(),
        })
        .collect();
    Ok(AuditReport { thread_counts: thread_counts.to_vec(), rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_same_only_when_every_copy_matches() {
        let row = |disk: Option<&str>, reruns: &[Option<&str>]| AuditRow {
            artefact: "a".into(),
            recorded: "h".into(),
            on_disk: disk.map(Into::into),
            reruns: reruns.iter().map(|h| h.map(Into::into)).collect(),
        };
        assert!(row(Some("h"), &[Some("h"), Some("h")]).same());
        assert!(!row(Some("x"), &[Some("h")]).same());
        assert!(!row(Some("h"), &[Some("h"), None]).same());
        assert_eq!(row(Some("x"), &[Some("h"), None]).problems(&[1, 2]), ["on disk differs", "re-run with 2 thread(s) missing"]);
    }
}
