//! Label-free choices (`--auto-post`, `--restarts`): the choice reads no
//! label, and the whole is bit-identical under 1 and 2 threads.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// A small NPY dataset (4 objects × 10 poses) with its labels file, and a
/// copy of the labels permuted.
fn data(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ds = udll::generate(&udll::SyntheticSpec { objects: 4, poses: 10, ..Default::default() }).unwrap();
    let images = root.join("images.npy");
    udll::io::npy_out::write_npy_f32(&images, &ds.pixels, ds.n, ds.image_len()).unwrap();
    let write_labels = |name: &str, f: &dyn Fn(usize) -> usize| {
        let p = root.join(name);
        let l: Vec<i64> = ds.labels.as_ref().unwrap().iter().map(|&c| f(c) as i64).collect();
        ndarray_npy::write_npy(&p, &ndarray::Array1::from(l)).unwrap();
        p
    };
    (images, write_labels("labels.npy", &|c| c), write_labels("permuted.npy", &|c| (c * 3 + 1) % 4))
}

const FLAGS: &[&str] = &["--preset", "synthetic", "--pretrain-epochs", "10", "--epochs", "6", "--auto-post", "--restarts", "2", "--quiet", "--no-report"];

/// The same, choosing by the eigengap (the default is agreement).
const BY_EIGENGAP: &[&str] = &["--select-by", "eigengap"];

fn run_dir(dir: &Path, images: &Path, labels: Option<&Path>) {
    run_dir_with(dir, images, labels, &[]);
}

fn run_dir_with(dir: &Path, images: &Path, labels: Option<&Path>, extra: &[&str]) {
    let mut args = vec!["run", "--data", images.to_str().unwrap(), "--out", dir.to_str().unwrap()];
    match labels {
        Some(l) => args.extend(["--labels", l.to_str().unwrap()]),
        None => args.extend(["--clusters", "4"]),
    }
    args.extend(FLAGS);
    args.extend(extra);
    let o = run(&args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A CSV without the named columns.
fn without(path: &Path, drop: &[&str]) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len()).filter(|&i| !drop.contains(&header[i])).collect();
    text.lines().map(|l| keep.iter().map(|&i| l.split(',').nth(i).unwrap_or("")).collect::<Vec<_>>().join(",")).collect::<Vec<_>>().join("\n")
}

/// Every file under `dir`, relative.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { stack.push(p) } else { out.push(p.strip_prefix(dir).unwrap().to_path_buf()) }
        }
    }
    out.sort();
    out
}

#[test]
fn the_choice_reads_no_label() {
    let root = scratch("select-label-free");
    let (images, labels, permuted) = data(&root);
    let dirs = [root.join("with"), root.join("without"), root.join("permuted")];
    run_dir(&dirs[0], &images, Some(&labels));
    run_dir(&dirs[1], &images, None);
    run_dir(&dirs[2], &images, Some(&permuted));
    let all = files(&dirs[0]);
    assert_eq!(all, files(&dirs[1]));
    assert!(all.iter().any(|f| f.starts_with("restarts/r01")), "{all:?}");
    let mut compared = 0;
    for f in &all {
        let name = f.file_name().unwrap().to_str().unwrap();
        let read = |d: &Path| match name {
            // What differs by design: the reported scores, the true column.
            "metrics.json" | "manifest.json" => None,
            "labels.csv" => Some(without(&d.join(f), &["true", "matched"]).into_bytes()),
            "candidates.csv" => Some(without(&d.join(f), &["acc", "nmi"]).into_bytes()),
            _ => Some(std::fs::read(d.join(f)).unwrap()),
        };
        let base = read(&dirs[0]);
        for d in &dirs[1..] {
            assert!(read(d) == base, "{} differs in {}", f.display(), d.display());
        }
        compared += usize::from(base.is_some());
    }
    assert!(compared >= 20, "{compared} files compared");
    // What was chosen is the same, and said without labels too.
    let sel = |d: &Path| {
        let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("metrics.json")).unwrap()).unwrap();
        m["selection"].clone()
    };
    assert_eq!(sel(&dirs[0]), sel(&dirs[1]));
    assert!(sel(&dirs[0])["restarts"]["chosen"].is_u64() && sel(&dirs[0])["post"]["rho"].is_f64());
    // Labels only add the reported columns.
    let with = std::fs::read_to_string(dirs[0].join("candidates.csv")).unwrap();
    let bare = std::fs::read_to_string(dirs[1].join("candidates.csv")).unwrap();
    let acc = with.lines().next().unwrap().split(',').position(|h| h == "acc").unwrap();
    assert!(with.lines().nth(1).unwrap().split(',').nth(acc).unwrap().parse::<f64>().is_ok());
    assert_eq!(bare.lines().nth(1).unwrap().split(',').nth(acc).unwrap(), "");
    assert_eq!(with.lines().filter(|l| l.ends_with(",1")).count(), 1, "one candidate is chosen");
    assert_eq!(sel(&dirs[0])["select_by"], "agreement");
    // Choosing by the eigengap reads no label either.
    let (a, b) = (root.join("gap-with"), root.join("gap-without"));
    run_dir_with(&a, &images, Some(&permuted), BY_EIGENGAP);
    run_dir_with(&b, &images, None, BY_EIGENGAP);
    assert_eq!(sel(&a), sel(&b));
    assert_eq!(sel(&a)["select_by"], "eigengap");
    for f in ["coef.npy", "finetuned.ckpt"] {
        assert!(std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(), "{f}");
    }
    assert_eq!(without(&a.join("labels.csv"), &["true", "matched"]), without(&b.join("labels.csv"), &["true", "matched"]));
}

#[test]
fn restarts_and_auto_post_are_the_same_bits_under_1_and_2_threads() {
    let root = scratch("select-threads");
    let (images, labels, _) = data(&root);
    let dir = root.join("run");
    run_dir(&dir, &images, Some(&labels));
    // The audit re-runs the recorded command under each thread count and
    // compares every artefact, the restarts' own included.
    let o = run(&["audit", dir.to_str().unwrap(), "--threads", "1,2"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let listed: Vec<&str> = m["artefacts"].as_array().unwrap().iter().map(|a| a["path"].as_str().unwrap()).collect();
    assert!(listed.contains(&"restarts/r01/coef.npy") && listed.contains(&"candidates.csv"), "{listed:?}");
    // The report shows the choice.
    let o = run(&["report", dir.to_str().unwrap(), "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"selection\">") && html.contains("<td>kept</td>") && dir.join("figures/selection.svg").exists());
}
