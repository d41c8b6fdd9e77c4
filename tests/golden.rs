//! Golden-file regression: small synthetic runs of every command, compared
//! with `fixtures/golden/golden.json` — the SHA-256 of each artefact (when
//! this CPU picks the same GEMM kernel as the one that recorded them; JSON
//! artefacts without their wall times) and a
//! few values with tolerances (always).
//!
//! Regenerate, deliberately, after a change that is meant to alter the
//! numerics:  UDLL_REGENERATE_GOLDEN=1 cargo test --release --test golden
//! and commit fixtures/golden/ with the reason in the message.

mod common;
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const REGENERATE: &str = "UDLL_REGENERATE_GOLDEN=1 cargo test --release --test golden";

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/golden/golden.json")
}

const SYNTH: [&str; 4] = ["--synthetic-objects", "5", "--synthetic-poses", "12"];

/// One command of the golden chain: its arguments (paths relative to the
/// scratch directory) and the artefacts whose hashes are recorded.
struct Step {
    name: &'static str,
    args: Vec<String>,
    artefacts: Vec<&'static str>,
}

fn steps() -> Vec<Step> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).chain(SYNTH.iter().map(|x| x.to_string())).collect::<Vec<_>>();
    vec![
        Step {
            name: "pretrain",
            args: s(&["pretrain", "--preset", "synthetic", "--epochs", "12", "--batch-size", "16", "--seed", "5", "--out", "ae.ckpt", "--quiet"]),
            artefacts: vec!["ae.ckpt"],
        },
        Step { name: "embed", args: s(&["embed", "--checkpoint", "ae.ckpt", "--out", "z.npy"]), artefacts: vec!["z.npy"] },
        Step { name: "graph", args: s(&["graph", "--checkpoint", "ae.ckpt", "--k", "3", "--out", "graph.csv"]), artefacts: vec!["graph.csv"] },
        Step {
            name: "finetune",
            args: s(&["finetune", "--checkpoint", "ae.ckpt", "--graph", "graph.csv", "--preset", "synthetic", "--epochs", "10", "--out", "ft", "--quiet"]),
            artefacts: vec!["ft/finetuned.ckpt", "ft/coef.npy", "ft/latent.npy", "ft/losses.csv"],
        },
        Step {
            name: "cluster",
            args: vec!["cluster", "--coef", "ft/coef.npy", "--preset", "synthetic", "--clusters", "5", "--out", "labels.csv"]
                .into_iter()
                .map(String::from)
                .collect(),
            artefacts: vec!["labels.csv"],
        },
        Step {
            name: "run",
            args: s(&["run", "--pretrain-epochs", "12", "--epochs", "10", "--seed", "5", "--out", "run", "--quiet"]),
            artefacts: vec![
                "run/pretrained.ckpt",
                "run/latent_pretrained.npy",
                "run/graph.csv",
                "run/finetuned.ckpt",
                "run/coef.npy",
                "run/latent.npy",
                "run/losses.csv",
                "run/labels.csv",
                "run/metrics.json",
            ],
        },
    ]
}

/// Values compared with a tolerance: (name, value, absolute tolerance).
fn values(dir: &Path) -> Vec<(String, f64, f64)> {
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
    let mut v = Vec::new();
    // Fine-tuning loss terms at the first and last epoch (relative 1e-4).
    for (file, tag) in [("ft/losses.csv", "finetune"), ("run/losses.csv", "run")] {
        let text = read(file);
        let rows: Vec<Vec<f64>> = text.lines().skip(1).map(|l| l.split(',').map(|x| x.parse().unwrap()).collect()).collect();
        for (row, when) in [(&rows[0], "first"), (rows.last().unwrap(), "last")] {
            v.push((format!("{tag} total loss, {when} epoch"), row[1], 1e-4 * row[1].abs()));
            v.push((format!("{tag} reconstruction, {when} epoch"), row[2], 1e-4 * row[2].abs()));
        }
    }
    let ckpt = udll::io::Checkpoint::load(&dir.join("ae.ckpt")).unwrap();
    let pl = ckpt.meta["final_loss_per_image"].as_f64().unwrap();
    v.push(("pretrain final loss per image".into(), pl, 1e-4 * pl.abs()));
    let m: Value = serde_json::from_str(&read("run/metrics.json")).unwrap();
    for key in ["acc", "nmi"] {
        v.push((format!("run {key}"), m[key].as_f64().unwrap(), 0.02));
    }
    v
}

/// Run every step with the GEMM kernels of `family` (the golden files are
/// the portable family's).
fn run_chain(dir: &Path, family: &str) -> BTreeMap<String, String> {
    let mut hashes = BTreeMap::new();
    for step in steps() {
        let o = udll().args(&step.args).args(["--cpu-kernels", family]).current_dir(dir).output().unwrap();
        assert!(o.status.success(), "{}: {}", step.name, stderr(&o));
        for a in step.artefacts {
            // JSON wall times are not compared (the manifest's stable hash).
            let rec = udll::io::manifest::FileRecord::of(&dir.join(a), a).unwrap();
            hashes.insert(a.to_string(), rec.compared_hash().to_string());
        }
    }
    hashes
}

/// The CPU features that decide the portable family's kernels (AVX-512
/// does not: that family never uses it).
fn features() -> Vec<String> {
    udll::cpu_kernel_features().iter().filter(|&&f| f != "avx512f").map(|s| s.to_string()).collect()
}

#[test]
fn golden_artefacts_and_values() {
    let dir = scratch("golden");
    let hashes = run_chain(&dir, "portable");
    let vals = values(&dir);
    if std::env::var_os("UDLL_REGENERATE_GOLDEN").is_some() {
        let doc = json!({
            "about": "Expected outputs of the small synthetic runs in tests/golden.rs. Regenerate only on purpose.",
            "regenerate": REGENERATE,
            "cpu_kernel_features": features(),
            "commands": steps().iter().map(|s| json!({"name": s.name, "args": s.args})).collect::<Vec<_>>(),
            "sha256": hashes,
            "values": vals.iter().map(|(n, v, t)| (n.clone(), json!({"value": v, "tolerance": t}))).collect::<BTreeMap<_, _>>(),
        });
        std::fs::create_dir_all(golden_path().parent().unwrap()).unwrap();
        std::fs::write(golden_path(), serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
        eprintln!("REGENERATED {}", golden_path().display());
        return;
    }
    let text = std::fs::read_to_string(golden_path()).unwrap_or_else(|e| panic!("{}: {e}; create it with {REGENERATE}", golden_path().display()));
    let golden: Value = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    for (name, got, _) in &vals {
        let g = &golden["values"][name];
        let (want, tol) = (g["value"].as_f64(), g["tolerance"].as_f64());
        match (want, tol) {
            (Some(w), Some(t)) if (got - w).abs() <= t => {}
            (Some(w), Some(t)) => failures.push(format!("{name}: expected {w} ± {t}, got {got}")),
            _ => failures.push(format!("{name}: not in the golden file")),
        }
    }
    let recorded: Vec<String> = golden["cpu_kernel_features"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    if recorded == features() {
        for (artefact, got) in &hashes {
            match golden["sha256"][artefact].as_str() {
                Some(w) if w == got => {}
                Some(w) => failures.push(format!("{artefact}: sha256 {got}, golden {w}")),
                None => failures.push(format!("{artefact}: not in the golden file")),
            }
        }
    } else {
        eprintln!(
            "SKIPPED golden hashes: recorded on a CPU with [{}], this one has [{}] (another GEMM kernel); values still compared",
            recorded.join(", "),
            features().join(", ")
        );
    }
    assert!(
        failures.is_empty(),
        "golden mismatch ({} item(s)):\n  {}\nIf this change to the numerics is intended, regenerate with\n  {REGENERATE}\nand commit fixtures/golden/ saying why.",
        failures.len(),
        failures.join("\n  ")
    );
}

/// The crate's own families (AVX-512, AVX2) against the golden files (the
/// portable family's): the values within their tolerances, and every
/// artefact byte for byte (every family sums in the same order;
/// `linalg::packed`). A family this CPU cannot run is skipped.
#[test]
fn own_kernels_reach_the_golden_values() {
    for (family, feature) in [("avx512", "avx512f"), ("avx2", "avx2")] {
        if !udll::cpu_kernel_features().contains(&feature) || (family == "avx2" && !udll::cpu_kernel_features().contains(&"fma")) {
            eprintln!("SKIPPED {family}: this CPU cannot run it");
            continue;
        }
        let dir = scratch(&format!("golden-{family}"));
        let hashes = run_chain(&dir, family);
        let golden: Value = serde_json::from_str(&std::fs::read_to_string(golden_path()).unwrap()).unwrap();
        let mut failures = Vec::new();
        for (name, got, _) in values(&dir) {
            let g = &golden["values"][&name];
            let (w, t) = (g["value"].as_f64().unwrap(), g["tolerance"].as_f64().unwrap());
            if (got - w).abs() > t {
                failures.push(format!("{name}: expected {w} ± {t}, got {got}"));
            }
        }
        assert!(failures.is_empty(), "{family} kernels off the golden values:\n  {}", failures.join("\n  "));
        let same = hashes.iter().filter(|(a, h)| golden["sha256"][a.as_str()].as_str() == Some(h.as_str())).count();
        assert_eq!(same, hashes.len(), "{family} kernels: only {same} of {} golden artefacts bit-identical", hashes.len());
    }
}
