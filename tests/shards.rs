//! A fitted run as a model for inputs too large for one process:
//! `udll synth` writes a uint8 .npy a chunk at a time, `udll run
//! --fit-sample` fits on a seeded sample read by rows, `udll assign --shard
//! i/N` places one contiguous slice in chunks, and `udll merge` joins the
//! slices into the bytes an unsharded assignment writes, refusing every
//! kind of bad shard set. (benches/slurm_shards.sh runs the same path as a
//! real Slurm array job.)

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn ok(args: &[&str]) -> std::process::Output {
    let o = run(args, &[]);
    assert!(o.status.success(), "{args:?}\n{}", stderr(&o));
    o
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A synthetic input of `n` images and a model fitted on a sample of it.
fn setup(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let data = root.join("big.npy");
    ok(&["synth", "--n", "2400", "--poses", "120", "--seed", "4", "--out", s(&data), "--quiet"]);
    let labels = root.join("big_labels.npy");
    let model = root.join("model");
    fit(&data, &labels, &model, &[]);
    (data, labels, model)
}

fn fit(data: &Path, labels: &Path, model: &Path, extra: &[&str]) {
    let mut args = vec![
        "run",
        "--data",
        s(data),
        "--labels",
        s(labels),
        "--fit-sample",
        "800",
        "--landmarks",
        "200",
        "--clusters",
        "20",
        "--pretrain-epochs",
        "6",
        "--epochs",
        "4",
        "--seed",
        "4",
        "--out",
        s(model),
        "--quiet",
        "--no-report",
    ];
    args.extend(extra);
    ok(&args);
}

fn assign(model: &Path, data: &Path, labels: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["assign", "--model", s(model), "--data", s(data), "--labels", s(labels), "--out", s(out), "--quiet", "--no-report"];
    args.extend(extra);
    run(&args, &[])
}

#[test]
fn shards_merge_to_the_unsharded_bytes_and_bad_sets_are_refused() {
    let root = scratch("shards");
    let (data, labels, model) = setup(&root);
    // The model was fitted on 800 sampled images, listed with their indices.
    let sample = std::fs::read_to_string(model.join("sample.csv")).unwrap();
    assert_eq!(sample.lines().count(), 801);
    assert!(sample.starts_with("row,index\n0,"));
    let idx: Vec<usize> = sample.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    assert!(idx.windows(2).all(|w| w[0] < w[1]) && *idx.last().unwrap() < 2400);

    let whole = root.join("whole");
    let o = assign(&model, &data, &labels, &whole, &["--chunk", "500"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!whole.join("latent.npy").exists(), "codes only when asked for");
    let want = std::fs::read(whole.join("labels.csv")).unwrap();
    assert_eq!(String::from_utf8_lossy(&want).lines().count(), 2401);

    let mut shard_dirs = Vec::new();
    for n in [1usize, 4, 8] {
        let dirs: Vec<PathBuf> = (0..n).map(|i| root.join(format!("n{n}-s{i}"))).collect();
        for (i, d) in dirs.iter().enumerate() {
            let o = assign(&model, &data, &labels, d, &["--shard", &format!("{i}/{n}"), "--chunk", "128"]);
            assert!(o.status.success(), "{}", stderr(&o));
        }
        let merged = root.join(format!("merged-{n}"));
        let mut args = vec!["merge", "--out", s(&merged), "--quiet"];
        // Any order.
        args.extend(dirs.iter().rev().map(|d| s(d)));
        ok(&args);
        assert_eq!(std::fs::read(merged.join("labels.csv")).unwrap(), want, "{n} shards merge to the unsharded bytes");
        shard_dirs.push(dirs);
    }
    let o = run(&["audit", s(&root.join("merged-4")), "--threads", "1"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    // A shard's own manifest records the slice; its codes when asked.
    let coded = root.join("coded");
    let o = assign(&model, &data, &labels, &coded, &["--shard", "2/8", "--save-codes", "--chunk", "100"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (codes, r, _) = udll::io::npy_out::read_npy_matrix(&coded.join("latent.npy")).unwrap();
    assert_eq!(r, 300);
    assert!(codes.iter().all(|v| v.is_finite()));
    let m = std::fs::read_to_string(coded.join("manifest.json")).unwrap();
    assert!(m.contains("\"start\": 600") && m.contains("\"end\": 900") && m.contains("\"total\": 2400"), "{m}");

    // Every kind of bad shard set is refused, and nothing is written.
    let four = &shard_dirs[1];
    let eight = &shard_dirs[2];
    let bad = root.join("bad");
    let merge = |dirs: &[&PathBuf]| {
        let mut args = vec!["merge", "--out", s(&bad), "--quiet"];
        args.extend(dirs.iter().map(|d| s(d)));
        run(&args, &[])
    };
    assert_clean_error(&merge(&[&four[0], &four[1], &four[3]]), "shard(s) 2/4 missing");
    assert_clean_error(&merge(&[&four[0], &four[1], &four[2], &four[3], &four[1]]), "shard 1/4 is given twice");
    assert_clean_error(&merge(&[&four[0], &four[1], &eight[4], &eight[5], &four[3]]), "shards of different splits overlap");
    let other_model = root.join("model2");
    ok(&[
        "run",
        "--data",
        s(&data),
        "--labels",
        s(&labels),
        "--fit-sample",
        "600",
        "--landmarks",
        "150",
        "--clusters",
        "20",
        "--pretrain-epochs",
        "6",
        "--epochs",
        "4",
        "--seed",
        "5",
        "--out",
        s(&other_model),
        "--quiet",
        "--no-report",
    ]);
    let foreign = root.join("foreign-model");
    assert!(assign(&other_model, &data, &labels, &foreign, &["--shard", "3/4"]).status.success());
    assert_clean_error(&merge(&[&four[0], &four[1], &four[2], &foreign]), "was assigned with another model");
    let data2 = root.join("other.npy");
    ok(&["synth", "--n", "2400", "--poses", "120", "--seed", "9", "--out", s(&data2), "--quiet"]);
    let foreign_input = root.join("foreign-input");
    assert!(assign(&model, &data2, &root.join("other_labels.npy"), &foreign_input, &["--shard", "3/4"]).status.success());
    assert_clean_error(&merge(&[&four[0], &four[1], &four[2], &foreign_input]), "is a shard of another input");
    assert_clean_error(&merge(&[&whole]), "is not a shard");
    assert!(!bad.exists());
}

#[test]
fn a_model_kept_without_its_codes_places_images_the_same() {
    let root = scratch("shards-lean");
    let (data, labels, model) = setup(&root);
    let lean = root.join("lean");
    fit(&data, &labels, &lean, &["--codes", "model"]);
    // The landmark run keeps its landmarks' codes, and no n × d file.
    for f in ["latent.npy", "latent_pretrained.npy"] {
        assert!(model.join(f).exists() && !lean.join(f).exists(), "{f}");
    }
    let (_, m, _) = udll::io::npy_out::read_npy_matrix(&lean.join("landmark_codes.npy")).unwrap();
    assert_eq!(m, 200);
    assert_eq!(std::fs::read(model.join("labels.csv")).unwrap(), std::fs::read(lean.join("labels.csv")).unwrap());
    // The same placements as the model with every code, in shards too.
    let (full, part) = (root.join("full"), root.join("part"));
    assert!(assign(&model, &data, &labels, &full, &[]).status.success());
    assert!(assign(&lean, &data, &labels, &part, &["--shard", "1/3", "--chunk", "300"]).status.success());
    let want = std::fs::read_to_string(full.join("labels.csv")).unwrap();
    let got = std::fs::read_to_string(part.join("labels.csv")).unwrap();
    // index, cluster, class (the matched column is the shard's own matching).
    let cols = |l: &str| l.split(',').take(3).collect::<Vec<_>>().join(",");
    let rows: Vec<String> = want.lines().skip(1).skip(800).take(800).map(cols).collect();
    assert!(got.lines().skip(1).map(cols).eq(rows), "the lean model's shard places images as the full model does");
    // The assignment's manifest names the file it read the codes from.
    let m = std::fs::read_to_string(part.join("manifest.json")).unwrap();
    assert!(m.contains("landmark_codes.npy") && !m.contains("latent.npy"), "{m}");
    // The report shows the landmarks' codes; the run audits clean.
    let o = run(&["report", s(&lean), "--no-images", "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(lean.join("report.html")).unwrap();
    assert!(page.contains("of the 200 landmarks"), "the report says which codes it shows");
    let o = run(&["audit", s(&lean), "--threads", "2"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert_clean_error(&run(&["run", "--codes", "some", "--out", s(&root.join("x")), "--quiet"], &[]), "--codes: 'some' is not one of all, model");
}
