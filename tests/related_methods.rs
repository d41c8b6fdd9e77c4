//! The regularised autoencoders and `udll compare`: each variant trains
//! deterministically (same bytes from the same seed under 1 and 2 threads)
//! and the comparison table has a row per method.

mod common;
use common::*;

const SMALL: [&str; 4] = ["--synthetic-objects", "4", "--synthetic-poses", "8"];

#[test]
fn every_autoencoder_variant_is_seeded_and_thread_count_independent() {
    let dir = scratch("dense_ae");
    for variant in ["ae", "sparse-ae", "denoising-ae", "contractive-ae", "gr-dnn", "gr-dnn-cae", "ame-ae", "sparse-ame-ae", "denoising-ame-ae"] {
        let mut hashes = Vec::new();
        for (i, t) in ["1", "2"].iter().enumerate() {
            let out = dir.join(format!("{variant}-{i}"));
            let mut args = vec!["ae", "--variant", variant, "--epochs", "5", "--graph-epochs", "3,3", "--seed", "3", "--out", out.to_str().unwrap(), "--quiet"];
            args.extend(SMALL);
            let o = run(&args, &[("RAYON_NUM_THREADS", t), ("MATMUL_NUM_THREADS", t)]);
            assert!(o.status.success(), "{variant}: {}", stderr(&o));
            assert!(stdout(&o).contains("k-means ACC"), "{}", stdout(&o));
            hashes.push(sha256(&out.join("latent.npy")));
        }
        assert_eq!(hashes[0], hashes[1], "{variant}: 1 vs 2 threads");
    }
    // Their manifests re-run to the same bytes.
    for variant in ["gr-dnn", "denoising-ame-ae"] {
        let o = run(&["audit", dir.join(format!("{variant}-0")).to_str().unwrap()], &[]);
        assert!(o.status.success(), "{variant}: {}\n{}", stdout(&o), stderr(&o));
    }
    // The variants are different models (the test can fail).
    assert_ne!(sha256(&dir.join("ae-0/latent.npy")), sha256(&dir.join("denoising-ae-0/latent.npy")));
}

#[test]
fn compare_writes_one_row_per_method() {
    let dir = scratch("compare");
    let out = dir.join("cmp");
    let mut args = vec!["compare", "--dense-epochs", "5", "--conv-epochs", "3", "--out", out.to_str().unwrap(), "--quiet"];
    args.extend(SMALL);
    let o = run(&args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("compare.md")).unwrap();
    for m in udll::app::compare::METHODS {
        assert!(md.contains(&format!("| {m} | 1 |")), "no row for {m}:\n{md}");
    }
    // Refused before its output directory (the default, udll-compare in the
    // working directory) is started.
    let o = udll().args(["compare", "--methods", "ae,vae"]).current_dir(&dir).output().unwrap();
    assert_clean_error(&o, "'vae'");
    assert!(!dir.join("udll-compare").exists(), "nothing written for a refused command");
    assert_clean_error(&run(&["ae", "--variant", "contractive-ae", "--layers", "16,4", "--out", dir.join("x").to_str().unwrap()], &[]), "one-layer encoder");
}
