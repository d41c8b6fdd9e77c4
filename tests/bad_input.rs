//! Bad input ends with a clear one-line error and exit code 1, never a
//! panic, and leaves no half-written output behind.

mod common;
use common::*;
use udll::data::mat::{MatOut, Storage, mat_bytes};

fn small_mat(dir: &std::path::Path, compressed: bool) -> std::path::PathBuf {
    let (n, d) = (6, 16);
    let fea: Vec<f64> = (0..n * d).map(|i| (i % 7) as f64 / 7.0).collect();
    let gnd: Vec<f64> = (0..n).map(|i| (i / 3 + 1) as f64).collect();
    let bytes = mat_bytes(
        &[
            MatOut { name: "fea", dims: vec![n, d], data: &fea, storage: Storage::Double },
            MatOut { name: "gnd", dims: vec![n, 1], data: &gnd, storage: Storage::Uint8 },
        ],
        compressed,
    );
    let p = dir.join(if compressed { "small_z.mat" } else { "small.mat" });
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn missing_file() {
    let o = run(&["info", "/nonexistent/data.mat"], &[]);
    assert_clean_error(&o, "/nonexistent/data.mat");
    let o = run(&["run", "--data", "/nonexistent/data.mat", "--out", "/tmp/never"], &[]);
    assert_clean_error(&o, "/nonexistent/data.mat");
}

#[test]
fn truncated_and_corrupt_mat_files() {
    let dir = scratch("bad_mat");
    for compressed in [false, true] {
        let good = small_mat(&dir, compressed);
        let o = run(&["info", good.to_str().unwrap()], &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("6 images of 4 × 4"), "{}", stdout(&o));
        let bytes = std::fs::read(&good).unwrap();
        // Truncated in the middle of the data.
        let t = dir.join("truncated.mat");
        std::fs::write(&t, &bytes[..bytes.len() - 20]).unwrap();
        assert_clean_error(&run(&["info", t.to_str().unwrap()], &[]), "truncated.mat");
        // A corrupted byte inside the first variable.
        let mut c = bytes.clone();
        for b in &mut c[140..150] {
            *b ^= 0x5a;
        }
        let cp = dir.join("corrupt.mat");
        std::fs::write(&cp, &c).unwrap();
        assert_clean_error(&run(&["info", cp.to_str().unwrap()], &[]), "corrupt.mat");
    }
    // Not a MAT-file at all.
    let junk = dir.join("junk.mat");
    std::fs::write(&junk, b"hello, this is not a MAT-file at all").unwrap();
    assert_clean_error(&run(&["info", junk.to_str().unwrap()], &[]), "not a MAT-file");
}

#[test]
fn unknown_variable_and_label_mismatch() {
    let dir = scratch("bad_vars");
    let p = small_mat(&dir, true);
    assert_clean_error(&run(&["info", p.to_str().unwrap(), "--images-var", "pixels"], &[]), "no image variable 'pixels'");
    // 5 labels for 6 images.
    let fea: Vec<f64> = vec![0.5; 6 * 16];
    let gnd: Vec<f64> = vec![1.0; 5];
    let bytes = mat_bytes(
        &[
            MatOut { name: "fea", dims: vec![6, 16], data: &fea, storage: Storage::Double },
            MatOut { name: "gnd", dims: vec![5, 1], data: &gnd, storage: Storage::Double },
        ],
        false,
    );
    let m = dir.join("mismatch.mat");
    std::fs::write(&m, bytes).unwrap();
    assert_clean_error(&run(&["info", m.to_str().unwrap()], &[]), "5 labels");
    // NaN pixels.
    let mut fea = vec![0.5; 6 * 16];
    fea[17] = f64::NAN;
    let gnd: Vec<f64> = vec![1.0; 6];
    let bytes = mat_bytes(
        &[
            MatOut { name: "fea", dims: vec![6, 16], data: &fea, storage: Storage::Double },
            MatOut { name: "gnd", dims: vec![6, 1], data: &gnd, storage: Storage::Double },
        ],
        false,
    );
    let m = dir.join("nan.mat");
    std::fs::write(&m, bytes).unwrap();
    assert_clean_error(&run(&["info", m.to_str().unwrap()], &[]), "NaN");
}

#[test]
fn npy_with_a_bad_header() {
    let dir = scratch("bad_npy");
    let p = dir.join("bad.npy");
    std::fs::write(&p, b"\x93NUMPY\x01\x00\x10\x00{'descr': garbage}\n0000").unwrap();
    assert_clean_error(&run(&["info", p.to_str().unwrap()], &[]), "bad.npy");
    let q = dir.join("short.npy");
    std::fs::write(&q, b"\x93NUM").unwrap();
    assert_clean_error(&run(&["info", q.to_str().unwrap()], &[]), "short.npy");
}

#[test]
fn corrupt_checkpoint_is_refused_and_outputs_stay_whole() {
    let dir = scratch("bad_ckpt");
    let ck = dir.join("ae.ckpt");
    let o = run(&["pretrain", "--synthetic-objects", "2", "--synthetic-poses", "4", "--epochs", "2", "--out", ck.to_str().unwrap(), "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["info", ck.to_str().unwrap()], &[]);
    assert!(stdout(&o).contains("udll checkpoint"), "{}", stdout(&o));
    let mut bytes = std::fs::read(&ck).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    let bad = dir.join("flipped.ckpt");
    std::fs::write(&bad, &bytes).unwrap();
    let out = dir.join("z.npy");
    let o = run(&["embed", "--checkpoint", bad.to_str().unwrap(), "--synthetic-objects", "2", "--synthetic-poses", "4", "--out", out.to_str().unwrap()], &[]);
    assert_clean_error(&o, "checksum");
    assert!(!out.exists(), "no output may be written after an error");
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).unwrap();
    assert_clean_error(&run(&["info", bad.to_str().unwrap()], &[]), "flipped.ckpt");
    // No temporary files left behind by the successful writes either.
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().ends_with(".tmp")).collect();
    assert!(leftovers.is_empty());
}

#[test]
fn bad_flags_are_errors() {
    assert_clean_error(&run(&["run", "--preset", "nope", "--out", "/tmp/never"], &[]), "unknown preset");
    assert_clean_error(&run(&["run", "--method", "xyz", "--out", "/tmp/never"], &[]), "--method");
    assert_clean_error(&run(&["run", "--lr", "-1", "--out", "/tmp/never"], &[]), "learning rate");
    assert_clean_error(&run(&["pretrain", "--channels", "3,x", "--out", "/tmp/never.ckpt"], &[]), "--channels");
}

/// Settings that cannot work are refused before the first expensive step:
/// a prior graph of more neighbours than points used to fail only after
/// pretraining (47 s on COIL-20), leaving a pretrained checkpoint behind.
#[test]
fn impossible_settings_fail_before_pretraining() {
    let dir = scratch("early_checks");
    let out = dir.join("run");
    let o = run(&["run", "--synthetic-objects", "3", "--synthetic-poses", "4", "--k", "1000", "--out", out.to_str().unwrap(), "--quiet"], &[]);
    assert_clean_error(&o, "k = 1000 needs at least 1002 points, got 12");
    assert!(!out.join("pretrained.ckpt").exists(), "pretraining ran before the check");
}

/// Zero epochs of pretraining or fine-tuning are refused before anything is
/// written (they used to write a whole run of untrained weights and then
/// fail on an empty losses.csv).
#[test]
fn zero_epochs_are_refused_before_any_work() {
    let dir = scratch("zero_epochs");
    for (flag, needle) in [("--epochs", "fine-tuning needs at least one epoch"), ("--pretrain-epochs", "pretraining needs at least one epoch")] {
        let out = dir.join(flag.trim_start_matches('-'));
        let o = run(&["run", "--synthetic-objects", "3", "--synthetic-poses", "6", flag, "0", "--out", out.to_str().unwrap(), "--quiet"], &[]);
        assert_clean_error(&o, needle);
        assert!(!out.exists(), "{flag} 0 wrote {}", out.display());
    }
    // EDSC has no epochs to count.
    let out = dir.join("edsc");
    let o = run(
        &["run", "--synthetic-objects", "3", "--synthetic-poses", "6", "--method", "edsc", "--epochs", "0", "--out", out.to_str().unwrap(), "--quiet"],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A thread count far above the cores is capped with a warning (results do
/// not depend on it; 2000 threads made an epoch 1000 times slower).
#[test]
fn absurd_thread_counts_are_capped() {
    let dir = scratch("threads_cap");
    let out = dir.join("run");
    let o = run(
        &[
            "run",
            "--synthetic-objects",
            "3",
            "--synthetic-poses",
            "4",
            "--pretrain-epochs",
            "2",
            "--epochs",
            "2",
            "--threads",
            "2000",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("udll: warning: --threads 2000"), "{}", stderr(&o));
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(m["threads"].as_u64().unwrap() as usize, 4 * cores);
}

/// Divergence is an error, not a result: `--lr 1e9` used to end with the
/// loss at 2.5e22 and still write metrics and exit 0.
#[test]
fn diverged_training_is_an_error_and_writes_no_metrics() {
    let dir = scratch("diverged");
    let synth = ["--synthetic-objects", "3", "--synthetic-poses", "4"];
    for (flags, needle) in [(["--lr", "1e9"], "fine-tune diverged"), (["--pretrain-lr", "1e9"], "pretrain diverged")] {
        let out = dir.join(flags[0].trim_start_matches('-'));
        let mut args = vec!["run", "--pretrain-epochs", "5", "--epochs", "10", "--out", out.to_str().unwrap(), "--quiet"];
        args.extend(synth);
        args.extend(flags);
        let o = run(&args, &[]);
        assert_clean_error(&o, needle);
        assert!(!out.join("metrics.json").exists(), "{flags:?}: metrics were written for a diverged model");
    }
}

/// An all-zero coefficient matrix has no clusters to find: it was
/// clustered without comment.
#[test]
fn an_all_zero_coefficient_matrix_is_refused() {
    let dir = scratch("zero_coef");
    let coef = dir.join("coef.npy");
    udll::io::npy_out::write_npy_f32(&coef, &[0.0; 36], 6, 6).unwrap();
    let out = dir.join("labels.csv");
    let o = run(&["cluster", "--coef", coef.to_str().unwrap(), "--clusters", "2", "--out", out.to_str().unwrap()], &[]);
    assert_clean_error(&o, "all zeros");
    assert!(!out.exists());
}

/// A run whose n × n state does not fit the memory budget is refused
/// before any work (at n = 70 000 it is 78 GB and used to abort on the
/// allocation); the budget is UDLL_MEMORY_BUDGET or 3/4 of the machine's.
#[test]
fn the_memory_budget_is_checked_before_any_work() {
    let dir = scratch("budget");
    let out = dir.join("run");
    // Without --landmarks the run would switch to landmark mode (that is
    // tests/landmarks.rs); all 40 images as landmarks is the dense path.
    let o = run(
        &["run", "--synthetic-objects", "4", "--synthetic-poses", "10", "--landmarks", "40", "--out", out.to_str().unwrap(), "--quiet"],
        &[("UDLL_MEMORY_BUDGET", "16K")],
    );
    assert_clean_error(&o, "needs 25.6 kB of memory, above the budget of 16.4 kB (UDLL_MEMORY_BUDGET; set it higher");
    assert!(!out.exists(), "nothing is written before the check");
}

/// Under an address-space limit (`ulimit -v`), a compressed MAT variable
/// declaring nearly 4 GB is refused with the figure by the memory budget,
/// which reads the limit, instead of aborting on the allocation.
#[test]
fn an_address_space_limit_is_part_of_the_budget() {
    let dir = scratch("ulimit");
    let mut bytes = mat_bytes(&[], false);
    let declared: u32 = u32::MAX - 63;
    let mut head = Vec::new();
    head.extend_from_slice(&14u32.to_le_bytes());
    head.extend_from_slice(&declared.to_le_bytes());
    head.extend_from_slice(&[0u8; 64]);
    let z = miniz_oxide::deflate::compress_to_vec_zlib(&head, 6);
    bytes.extend_from_slice(&15u32.to_le_bytes());
    bytes.extend_from_slice(&(z.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&z);
    let mat = dir.join("bomb.mat");
    std::fs::write(&mat, bytes).unwrap();
    let out = dir.join("run");
    let script = format!("ulimit -v 4194304 && exec \"$0\" run --data {} --out {} --quiet", mat.display(), out.display());
    let o = std::process::Command::new("sh").args(["-c", &script, env!("CARGO_BIN_EXE_udll")]).env_remove("UDLL_MEMORY_BUDGET").output().unwrap();
    assert_clean_error(&o, "a compressed variable of 4294967232 bytes needs 4.3 GB of memory, above the budget of");
    assert!(stderr(&o).contains("ulimit -v"), "{}", stderr(&o));
    assert!(!out.exists());
}
