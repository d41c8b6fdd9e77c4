//! End to end on small synthetic data: `udll run` writes every artefact,
//! clusters well, and the step-by-step commands (pretrain → graph →
//! finetune → cluster) agree with it.

mod common;
use common::*;

const SMALL: &[&str] = &["--synthetic-objects", "5", "--synthetic-poses", "24", "--pretrain-epochs", "100", "--epochs", "68", "--seed", "0", "--quiet"];

#[test]
fn run_writes_every_artefact_and_clusters_small_synthetic_data() {
    let dir = scratch("pipeline_run");
    let mut args = vec!["run", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(SMALL);
    let o = run(&args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("ACC"), "{}", stdout(&o));
    for f in udll::app::pipeline::RUN_ARTEFACTS.iter().chain(&["manifest.json", "report.html", "figures/coef_by_cluster.png"]) {
        // candidates.csv only with --auto-post, landmarks.csv only with
        // --landmarks (and its landmarks' codes), the features only with the scattering front end,
        // the CSR parts of C only with a sparse self-expression, the
        // sample's indices only with --fit-sample.
        let optional = [
            "candidates.csv",
            "landmarks.csv",
            "landmark_codes.npy",
            "sample.csv",
            "features.npy",
            "scattering_basis.npy",
            "coef_indptr.npy",
            "coef_indices.npy",
            "coef_values.npy",
        ];
        assert_eq!(dir.join(f).exists(), !optional.contains(f), "{f}");
    }
    let metrics: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    let acc = metrics["acc"].as_f64().unwrap();
    let nmi = metrics["nmi"].as_f64().unwrap();
    eprintln!("small synthetic run: ACC {acc:.4} NMI {nmi:.4}");
    assert!(acc >= 0.85, "ACC {acc}");
    assert!(nmi >= 0.8, "NMI {nmi}");
    // labels.csv: header + one row per image, 5 distinct predictions.
    let labels = std::fs::read_to_string(dir.join("labels.csv")).unwrap();
    assert_eq!(labels.lines().count(), 1 + 120);
    let mut pred: Vec<&str> = labels.lines().skip(1).map(|l| l.split(',').nth(1).unwrap()).collect();
    pred.sort();
    pred.dedup();
    assert_eq!(pred.len(), 5);
    // The manifest names every artefact with its hash.
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let arts = manifest["artefacts"].as_array().unwrap();
    let coef = arts.iter().find(|a| a["path"] == "coef.npy").unwrap();
    assert_eq!(coef["sha256"].as_str().unwrap(), sha256(&dir.join("coef.npy")));
    assert_eq!(manifest["config"]["finetune"]["self_expr_weight"].as_f64(), Some(1000.0));
    // The fine-tuning loss went down.
    let losses = std::fs::read_to_string(dir.join("losses.csv")).unwrap();
    let totals: Vec<f64> = losses.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    assert!(totals.last().unwrap() < &(totals[0] * 0.5), "loss {} → {}", totals[0], totals.last().unwrap());
}

#[test]
fn step_by_step_commands_reproduce_the_run() {
    let dir = scratch("pipeline_steps");
    let d = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let data = ["--synthetic-objects", "5", "--synthetic-poses", "24"];
    let mut a = vec!["run", "--out"];
    let run_dir = d("run");
    a.push(&run_dir);
    a.extend_from_slice(SMALL);
    assert!(run(&a, &[]).status.success());

    let ck = d("ae.ckpt");
    let mut p = vec!["pretrain", "--preset", "synthetic", "--epochs", "100", "--out", &ck, "--quiet"];
    p.extend_from_slice(&data);
    let o = run(&p, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The pretrain command records its own provenance in the checkpoint
    // header, so compare the weights (what the later steps use), not bytes.
    let mine = udll::io::Checkpoint::load(&dir.join("ae.ckpt")).unwrap();
    let theirs = udll::io::Checkpoint::load(&dir.join("run/pretrained.ckpt")).unwrap();
    assert_eq!(mine.tensors, theirs.tensors);
    let g = d("graph.csv");
    let mut gr = vec!["graph", "--checkpoint", &ck, "--k", "3", "--out", &g];
    gr.extend_from_slice(&data);
    assert!(run(&gr, &[]).status.success());
    assert_eq!(sha256(&dir.join("graph.csv")), sha256(&dir.join("run/graph.csv")));
    let ft = d("ft");
    let mut f = vec!["finetune", "--preset", "synthetic", "--epochs", "68", "--checkpoint", &ck, "--graph", &g, "--out", &ft, "--quiet"];
    f.extend_from_slice(&data);
    let o = run(&f, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(sha256(&dir.join("ft/coef.npy")), sha256(&dir.join("run/coef.npy")));
    let lab = d("labels.csv");
    let coef = d("ft/coef.npy");
    let o = run(&["cluster", "--preset", "synthetic", "--coef", &coef, "--clusters", "5", "--out", &lab], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mine: Vec<String> = std::fs::read_to_string(&lab).unwrap().lines().skip(1).map(|l| l.split(',').nth(1).unwrap().to_string()).collect();
    let theirs: Vec<String> =
        std::fs::read_to_string(dir.join("run/labels.csv")).unwrap().lines().skip(1).map(|l| l.split(',').nth(1).unwrap().to_string()).collect();
    assert_eq!(mine, theirs);
}
