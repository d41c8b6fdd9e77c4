//! The reproducibility contract: the same seed gives the same bytes, run
//! after run and whatever the number of threads (both pools: rayon via
//! RAYON_NUM_THREADS and matrixmultiply's own via MATMUL_NUM_THREADS).

mod common;
use common::*;
use std::path::Path;
#[allow(unused_imports)]
use std::process::Output;

fn threads_env(t: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![("RAYON_NUM_THREADS", t), ("MATMUL_NUM_THREADS", t)]
}

#[test]
fn pretraining_is_bit_identical_across_runs_and_thread_counts() {
    let dir = scratch("det_pretrain");
    let mut hashes = Vec::new();
    for (i, t) in ["1", "2", "2"].iter().enumerate() {
        let out = dir.join(format!("ae{i}.ckpt"));
        let o = run(
            &[
                "pretrain",
                "--synthetic-objects",
                "4",
                "--synthetic-poses",
                "10",
                "--epochs",
                "6",
                "--batch-size",
                "8",
                "--seed",
                "3",
                "--out",
                out.to_str().unwrap(),
                "--quiet",
            ],
            &threads_env(t),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        hashes.push(sha256(&out));
    }
    assert_eq!(hashes[0], hashes[1], "1 thread vs 2 threads");
    assert_eq!(hashes[1], hashes[2], "two runs with 2 threads");
    // A different seed must give different weights (the test can fail).
    let other = dir.join("other.ckpt");
    let o = run(
        &[
            "pretrain",
            "--synthetic-objects",
            "4",
            "--synthetic-poses",
            "10",
            "--epochs",
            "6",
            "--batch-size",
            "8",
            "--seed",
            "4",
            "--out",
            other.to_str().unwrap(),
            "--quiet",
        ],
        &[],
    );
    assert!(o.status.success());
    assert_ne!(sha256(&other), hashes[0]);
}

fn small_run(dir: &Path, threads: &'static str) -> Output2 {
    let o = run(
        &[
            "run",
            "--synthetic-objects",
            "5",
            "--synthetic-poses",
            "12",
            "--pretrain-epochs",
            "20",
            "--epochs",
            "15",
            "--seed",
            "1",
            "--out",
            dir.to_str().unwrap(),
            "--quiet",
        ],
        &threads_env(threads),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    Output2 { dir: dir.to_path_buf() }
}

struct Output2 {
    dir: std::path::PathBuf,
}

impl Output2 {
    fn hash(&self, name: &str) -> String {
        sha256(&self.dir.join(name))
    }
}

#[test]
fn whole_run_is_bit_identical_across_runs_and_1_2_4_threads() {
    let base = scratch("det_run");
    let a = small_run(&base.join("t1"), "1");
    let b = small_run(&base.join("t2"), "2");
    let c = small_run(&base.join("t2-again"), "2");
    let d = small_run(&base.join("t4"), "4");
    for name in ["pretrained.ckpt", "latent_pretrained.npy", "graph.csv", "finetuned.ckpt", "coef.npy", "latent.npy", "losses.csv", "labels.csv"] {
        assert_eq!(a.hash(name), b.hash(name), "{name}: 1 vs 2 threads");
        assert_eq!(b.hash(name), c.hash(name), "{name}: two runs");
        assert_eq!(a.hash(name), d.hash(name), "{name}: 1 vs 4 threads");
    }
    // metrics.json differs only in its wall times: the manifests' stable hashes agree.
    let stable = |o: &Output2| udll::io::manifest::FileRecord::of(&o.dir.join("metrics.json"), "metrics.json").unwrap().compared_hash().to_string();
    assert_eq!(stable(&a), stable(&d));
}
