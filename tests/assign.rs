//! `udll assign`: a finished run as a model for new images.

mod common;

use common::*;

const SYN: &[&str] = &["--synthetic-objects", "4", "--synthetic-poses", "10"];

/// A small finished run (no report) as the model.
fn model(name: &str) -> std::path::PathBuf {
    let dir = scratch(name).join("model");
    let mut args = vec!["run", "--pretrain-epochs", "10", "--epochs", "6", "--out", dir.to_str().unwrap(), "--quiet", "--no-report"];
    args.extend(SYN);
    let o = run(&args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    dir
}

fn column(path: &std::path::Path, i: usize) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().skip(1).map(|l| l.split(',').nth(i).unwrap().to_string()).collect()
}

#[test]
fn the_fitted_images_keep_their_clusters_and_the_assignment_audits_clean() {
    let m = model("assign-fitted");
    let out = m.parent().unwrap().join("assigned");
    let mut args = vec!["assign", "--model", m.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"];
    args.extend(SYN);
    let o = run(&args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("40 images into 4 clusters"), "{}", stdout(&o));
    assert_eq!(column(&out.join("labels.csv"), 1), column(&m.join("labels.csv"), 1), "each fitted image keeps its cluster");
    // The model's files are inputs of the assignment, hashed.
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("finetuned.ckpt") && manifest.contains("latent.npy"));
    // The page shows the new images of each cluster, and the confusion.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    for id in ["id=\"metrics\"", "id=\"confusion\"", "id=\"clusters\""] {
        assert!(page.contains(id), "report.html has no {id}");
    }
    let montages =
        std::fs::read_dir(out.join("figures")).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("cluster_")).count();
    assert_eq!(montages, 4, "one montage per cluster");
    let o = run(&["audit", out.to_str().unwrap(), "--threads", "1,2"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
}

#[test]
fn a_changed_unfinished_or_mismatched_model_is_refused() {
    let m = model("assign-refused");
    let root = m.parent().unwrap().to_path_buf();
    let out = root.join("assigned");
    let assign = |extra: &[&str]| {
        let mut args = vec!["assign", "--model", m.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"];
        args.extend(extra);
        run(&args, &[])
    };
    // A model file changed after the run.
    let latent = m.join("latent.npy");
    let good = std::fs::read(&latent).unwrap();
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 1;
    std::fs::write(&latent, &bad).unwrap();
    assert_clean_error(&assign(SYN), "latent.npy is not the file the run wrote");
    std::fs::write(&latent, &good).unwrap();
    // An unfinished model directory.
    std::fs::write(m.join("udll-incomplete"), "").unwrap();
    assert_clean_error(&assign(SYN), "is not a finished run");
    std::fs::remove_file(m.join("udll-incomplete")).unwrap();
    // Images of another size.
    let ds = udll::generate(&udll::SyntheticSpec { objects: 2, poses: 3, size: 16, ..Default::default() }).unwrap();
    let small = root.join("small.npy");
    udll::io::npy_out::write_npy_f32(&small, &ds.pixels, ds.n, ds.image_len()).unwrap();
    assert_clean_error(&assign(&["--data", small.to_str().unwrap()]), "expects 32×32×1 images, the dataset has 16×16×1");
    // And a bad ridge.
    let mut args = SYN.to_vec();
    args.extend(["--ridge", "0"]);
    assert_clean_error(&assign(&args), "ridge must be positive");
    // All put back: it works.
    assert!(assign(SYN).status.success());
}
