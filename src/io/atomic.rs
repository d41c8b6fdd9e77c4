//! Outputs are written whole or not at all: to a temporary name beside the
//! target, flushed and synced, then renamed over it (rename is atomic on
//! one file system). A failure leaves no half-written file behind.
//!
//! A rename replaces whatever the path names, so the target is looked at
//! first: a symbolic link is followed (the file it points to is written,
//! the link stays), and anything that is not a regular file (a directory, a
//! device such as /dev/null, a pipe) is refused, never replaced.

use crate::error::{Result, UdllError};
use std::io::Write;
use std::path::{Path, PathBuf};

fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Write `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Write `value` as pretty JSON and a newline to `path` atomically.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    write_atomic(path, &json_bytes(path, value)?)
}

/// `value` as pretty JSON and a newline, the bytes [`write_json`] writes
/// (`path` names it in an error).
pub fn json_bytes(path: &Path, value: &impl serde::Serialize) -> Result<Vec<u8>> {
    let text = serde_json::to_string_pretty(value).map_err(|e| UdllError::format(path, format!("does not serialise as JSON: {e}")))?;
    Ok(format!("{text}\n").into_bytes())
}

/// The path a write to `path` replaces: `path` itself, or the file a
/// symbolic link at `path` resolves to. An error if that exists and is not
/// a regular file.
pub fn output_target(path: &Path) -> Result<PathBuf> {
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::canonicalize(path) {
            Ok(t) => t,
            // A dangling link: write where it points.
            Err(_) => {
                let link = std::fs::read_link(path).map_err(|e| UdllError::io(path, e))?;
                path.parent().map_or(link.clone(), |d| d.join(&link))
            }
        },
        _ => path.to_path_buf(),
    };
    match std::fs::metadata(&target) {
        Ok(m) if !m.is_file() => {
            let what = if m.is_dir() { "a directory" } else { "not a regular file" };
            Err(UdllError::io(path, std::io::Error::other(format!("{} is {what}; refusing to replace it", target.display()))))
        }
        _ => Ok(target),
    }
}

/// Write to `path` atomically through a closure that fills the file.
pub fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>) -> Result<()> {
    let target = output_target(path)?;
    let path = target.as_path();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| UdllError::io(dir, e))?;
    }
    let tmp = temp_name(path);
    let result = (|| -> std::io::Result<()> {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(f);
        fill(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(UdllError::io(path, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        UdllError::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("udll-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A symbolic link is written through: the file it points to gets the
    /// bytes and the link stays a link (before, the rename replaced the link
    /// by a regular file and left its target as it was).
    #[test]
    fn writes_through_a_symlink() {
        let d = scratch("link");
        let target = d.join("target.csv");
        std::fs::write(&target, "old").unwrap();
        let link = d.join("out.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Directories and devices are refused and left as they were, also
    /// behind a symbolic link (a link to /dev/null must not become a write
    /// that renames over /dev/null).
    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let d = scratch("special");
        let dir = d.join("a-dir");
        std::fs::create_dir(&dir).unwrap();
        let e = write_atomic(&dir, b"x").unwrap_err().to_string();
        assert!(e.contains("is a directory; refusing to replace it"), "{e}");
        assert!(dir.is_dir());
        if Path::new("/dev/null").exists() {
            let link = d.join("null.csv");
            std::os::unix::fs::symlink("/dev/null", &link).unwrap();
            let e = write_atomic(&link, b"x").unwrap_err().to_string();
            assert!(e.contains("not a regular file"), "{e}");
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
            assert!(!std::fs::metadata("/dev/null").unwrap().is_file(), "/dev/null is still a device");
        }
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 2, "no temporary file left behind");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
