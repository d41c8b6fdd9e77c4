//! What the fuzz targets share: each feeds the bytes AFL gives it to one
//! reader of udll, which must answer `Ok` or an error and never panic or
//! abort (AFL records a crash otherwise).

use std::path::PathBuf;

/// Bytes to a scratch file (for readers that take a path), one per process.
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("udll-fuzz-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).expect("the scratch file is writable");
    p
}
