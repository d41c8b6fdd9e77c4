//! Records the git commit the binary is built from (UDLL_GIT_COMMIT), for
//! run manifests. Outside a git checkout nothing is recorded.

use std::path::Path;
use std::process::Command;

fn main() {
    if Path::new(".git").exists() {
        // Re-run when HEAD moves: a new commit or a checkout.
        println!("cargo:rerun-if-changed=.git/HEAD");
        println!("cargo:rerun-if-changed=.git/refs/heads");
        if let Ok(o) = Command::new("git").args(["rev-parse", "HEAD"]).output()
            && o.status.success()
        {
            let commit = String::from_utf8_lossy(&o.stdout).trim().to_string();
            println!("cargo:rustc-env=UDLL_GIT_COMMIT={commit}");
        }
    } else {
        println!("cargo:rerun-if-changed=build.rs");
    }
}
