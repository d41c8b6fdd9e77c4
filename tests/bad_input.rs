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
