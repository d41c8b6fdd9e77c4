//! Where a run's artefacts go: a directory on disk (each file written
//! atomically), or memory (a map from the artefact's path to its bytes),
//! which is how the library fits without writing anything
//! (`udll::fit`). The same code writes both, so a fit kept in memory and
//! saved later is the run directory a command would have written.

use crate::error::{Result, UdllError};
use crate::io::atomic::write_atomic_with;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Artefacts kept in memory: relative path → bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

/// A run's output: a directory, or memory under a path prefix.
#[derive(Clone, Debug)]
pub enum Sink {
    /// Files in this directory.
    Dir(PathBuf),
    /// Entries of a shared map, under `prefix` (empty, or ending in `/`).
    Memory {
        /// The map every sub-sink shares.
        files: Arc<Mutex<Files>>,
        /// This sink's sub-directory.
        prefix: String,
    },
}

impl Sink {
    /// A sink writing into the directory `dir`.
    pub fn dir(dir: impl Into<PathBuf>) -> Sink {
        Sink::Dir(dir.into())
    }

    /// An empty in-memory sink.
    pub fn memory() -> Sink {
        Sink::Memory { files: Arc::new(Mutex::new(Files::new())), prefix: String::new() }
    }

    /// The directory, for a directory sink.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Sink::Dir(d) => Some(d),
            Sink::Memory { .. } => None,
        }
    }

    /// How to name this sink in messages.
    pub fn describe(&self) -> String {
        match self {
            Sink::Dir(d) => d.display().to_string(),
            Sink::Memory { prefix, .. } => format!("memory:{prefix}"),
        }
    }

    /// The sub-directory `sub` of this sink.
    pub fn join(&self, sub: &str) -> Sink {
        match self {
            Sink::Dir(d) => Sink::Dir(d.join(sub)),
            Sink::Memory { files, prefix } => Sink::Memory { files: files.clone(), prefix: format!("{prefix}{}/", sub.trim_end_matches('/')) },
        }
    }

    /// Write the artefact `name` through a closure that fills it.
    pub fn put_with(&self, name: &str, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
        match self {
            Sink::Dir(d) => write_atomic_with(&d.join(name), |w| fill(w)),
            Sink::Memory { files, prefix } => {
                let mut bytes = Vec::new();
                fill(&mut bytes).map_err(|e| UdllError::io(Path::new(name), e))?;
                files.lock().expect("the artefact map is not poisoned").insert(format!("{prefix}{name}"), bytes);
                Ok(())
            }
        }
    }

    /// Write the artefact `name`.
    pub fn put(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.put_with(name, |w| w.write_all(bytes))
    }

    /// The bytes of the artefact `name`, when it was written.
    pub fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Sink::Dir(d) => {
                let p = d.join(name);
                match std::fs::read(&p) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(UdllError::io(&p, e)),
                }
            }
            Sink::Memory { files, prefix } => Ok(files.lock().expect("the artefact map is not poisoned").get(&format!("{prefix}{name}")).cloned()),
        }
    }

    /// Everything written to an in-memory sink (all prefixes), taken out of
    /// it; None for a directory.
    pub fn take_files(&self) -> Option<Files> {
        match self {
            Sink::Dir(_) => None,
            Sink::Memory { files, .. } => Some(std::mem::take(&mut *files.lock().expect("the artefact map is not poisoned"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory and directory sinks hold the same bytes under the same names,
    /// sub-directories included.
    #[test]
    fn memory_and_directory_sinks_agree() {
        let dir = std::env::temp_dir().join(format!("udll-sink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sink in [Sink::memory(), Sink::dir(&dir)] {
            sink.put("a.txt", b"one").unwrap();
            sink.join("restarts/r00").put_with("b.bin", |w| w.write_all(&[1, 2, 3])).unwrap();
            assert_eq!(sink.get("a.txt").unwrap().unwrap(), b"one");
            assert_eq!(sink.join("restarts/r00").get("b.bin").unwrap().unwrap(), [1, 2, 3]);
            assert_eq!(sink.get("restarts/r00/b.bin").unwrap().unwrap(), [1, 2, 3]);
            assert!(sink.get("c").unwrap().is_none());
        }
        let files = Sink::memory();
        files.join("x").put("y", b"z").unwrap();
        assert_eq!(files.take_files().unwrap().into_iter().collect::<Vec<_>>(), [("x/y".to_string(), b"z".to_vec())]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
