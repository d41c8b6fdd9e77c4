//! Helpers shared by the integration tests: run the built binary, make
//! scratch directories, write small MAT-files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn udll() -> Command {
    Command::new(env!("CARGO_BIN_EXE_udll"))
}

/// Run `udll args…` with extra environment variables.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = udll();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the udll binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A fresh scratch directory under the target directory.
pub fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Assert a clean failure: non-zero exit, one `udll: error:` line that
/// mentions `needle`, and no panic.
pub fn assert_clean_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success; stderr: {err}");
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic instead of an error: {err}");
    assert!(err.contains("udll: error:"), "no error line: {err}");
    assert!(err.contains(needle), "error does not mention '{needle}': {err}");
}

pub fn sha256(path: &Path) -> String {
    udll::io::hash::sha256_file(path).unwrap()
}

pub fn shared_data() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.join("COIL20.mat").exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: ../shared/data is absent");
        None
    }
}
