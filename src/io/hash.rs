//! SHA-256 of bytes and files, as lowercase hex (manifests, checksums).

use crate::error::{Result, UdllError};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// SHA-256 of `bytes`.
pub fn sha256_bytes(bytes: &[u8]) -> [u8; 32] {
    let d = Sha256::digest(bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(&d);
    out
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256_bytes(bytes))
}

/// Every regular file under `dir` (following symbolic links), as paths
/// relative to it with `/` between components, in sorted (byte) order.
pub fn tree_files(dir: &Path) -> Result<Vec<String>> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>, depth: usize) -> Result<()> {
        if depth > 64 {
            return Err(UdllError::format(dir, "folders nested more than 64 deep (a link loop?)"));
        }
        for entry in std::fs::read_dir(dir).map_err(|e| UdllError::io(dir, e))? {
            let entry = entry.map_err(|e| UdllError::io(dir, e))?;
            let name = entry.file_name().into_string().map_err(|n| UdllError::format(dir, format!("a file name that is not UTF-8: {n:?}")))?;
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            let path = entry.path();
            let meta = std::fs::metadata(&path).map_err(|e| UdllError::io(&path, e))?;
            if meta.is_dir() {
                walk(&path, &rel, out, depth + 1)?;
            } else if meta.is_file() {
                out.push(rel);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out, 0)?;
    out.sort();
    Ok(out)
}

/// The hash of a directory: SHA-256 over each file's relative path and
/// the SHA-256 of its bytes, in [`tree_files`] order (so a renamed, added,
/// removed or changed file changes it), and the files' total size.
pub fn sha256_tree(dir: &Path) -> Result<(String, u64)> {
    let mut h = Sha256::new();
    let mut total = 0u64;
    for rel in tree_files(dir)? {
        let p = dir.join(&rel);
        total += std::fs::metadata(&p).map_err(|e| UdllError::io(&p, e))?.len();
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(sha256_file(&p)?.as_bytes());
        h.update([b'\n']);
    }
    Ok((hex(&h.finalize()), total))
}

/// Streamed hash of a file, or [`sha256_tree`]'s of a directory.
pub fn sha256_file(path: &Path) -> Result<String> {
    if path.is_dir() {
        return Ok(sha256_tree(path)?.0);
    }
    let mut f = std::fs::File::open(path).map_err(|e| UdllError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let k = f.read(&mut buf).map_err(|e| UdllError::io(path, e))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
    }
    Ok(hex(&h.finalize()))
}
