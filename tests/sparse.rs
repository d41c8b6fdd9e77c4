//! Sparse self-expression through the command line: `udll run --method
//! edsc --self-expression ensc|omp` writes C in CSR form and nothing
//! n × n, its audit reproduces every artefact under 1, 2 and 4 threads,
//! its report draws the sparse C, `udll assign` codes new images with the
//! run's solver, a memory budget too small for the dense path admits it,
//! and bad flags are refused.

mod common;

use common::*;
use std::path::Path;

fn ok(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let o = run(args, env);
    assert!(o.status.success(), "udll {}\n{}\n{}", args.join(" "), stdout(&o), stderr(&o));
    o
}

fn column(path: &Path, i: usize) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().skip(1).map(|l| l.split(',').nth(i).unwrap().to_string()).collect()
}

fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap()
}

/// EnSC on scattering features: CSR artefacts that describe a zero-diagonal
/// C of at most 50 entries a row, no coef.npy, a report with its heat
/// maps, an audit that reproduces it under 1, 2 and 4 threads, and an
/// assignment of the fitted images that keeps their clusters.
#[test]
fn an_ensc_run_writes_csr_audits_reports_and_assigns() {
    let d = scratch("sparse-ensc");
    let run_dir = d.join("run");
    let syn = ["--synthetic-objects", "4", "--synthetic-poses", "12"];
    let args: Vec<&str> = [
        "run",
        "--front",
        "scattering",
        "--scattering-pca",
        "30",
        "--method",
        "edsc",
        "--self-expression",
        "ensc",
        "--out",
        run_dir.to_str().unwrap(),
        "--quiet",
    ]
    .into_iter()
    .chain(syn)
    .collect();
    let o = ok(&args, &[]);
    assert!(stdout(&o).contains("ACC "), "{}", stdout(&o));
    for f in ["coef_indptr.npy", "coef_indices.npy", "coef_values.npy", "latent.npy", "labels.csv", "report.html", "manifest.json"] {
        assert!(run_dir.join(f).exists(), "{f}");
    }
    assert!(!run_dir.join("coef.npy").exists(), "no dense C");
    let m = metrics(&run_dir);
    assert_eq!(m["self_expression"]["solver"], "ensc");
    assert!(m["acc"].as_f64().is_some_and(|a| a > 0.0 && a <= 1.0), "{m}");
    // The CSR parts: indptr over 48 rows, columns in range and not on the diagonal.
    let indptr: ndarray::Array1<i64> = ndarray_npy::read_npy(run_dir.join("coef_indptr.npy")).unwrap();
    let indices: ndarray::Array1<i64> = ndarray_npy::read_npy(run_dir.join("coef_indices.npy")).unwrap();
    let values: ndarray::Array1<f64> = ndarray_npy::read_npy(run_dir.join("coef_values.npy")).unwrap();
    assert_eq!(indptr.len(), 49);
    assert_eq!(*indptr.last().unwrap() as usize, indices.len());
    assert_eq!(values.len(), indices.len());
    for i in 0..48 {
        let row = &indices.as_slice().unwrap()[indptr[i] as usize..indptr[i + 1] as usize];
        assert!(row.len() <= 50 && !row.is_empty(), "row {i}: {row:?}");
        assert!(row.iter().all(|&j| (0..48).contains(&j) && j != i as i64), "row {i}: {row:?}");
    }
    let page = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert!(page.contains("coef_by_cluster"), "the report draws the sparse C");
    let manifest = std::fs::read_to_string(run_dir.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"sparse\"") && manifest.contains("\"ensc\""), "the manifest records the solver");

    let o = run(&["audit", run_dir.to_str().unwrap(), "--threads", "1,2,4"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));

    let assigned = d.join("assigned");
    let args: Vec<&str> = ["assign", "--model", run_dir.to_str().unwrap(), "--out", assigned.to_str().unwrap(), "--quiet"].into_iter().chain(syn).collect();
    ok(&args, &[]);
    assert_eq!(column(&assigned.join("labels.csv"), 1), column(&run_dir.join("labels.csv"), 1), "each fitted image keeps its cluster");
    assert_eq!(metrics(&assigned)["coded_by"], "ensc");
}

/// SSC-OMP on pixels, under a memory budget (60 MB) that the dense EDSC
/// path (44·n² = 91 MB at n = 1440) is refused by.
#[test]
fn omp_runs_under_a_budget_too_small_for_the_dense_path() {
    let d = scratch("sparse-omp");
    let budget = [("UDLL_MEMORY_BUDGET", "60M")];
    let dense = run(&["run", "--method", "edsc", "--out", d.join("dense").to_str().unwrap(), "--quiet"], &budget);
    assert_clean_error(&dense, "budget");
    let dir = d.join("omp");
    ok(&["run", "--method", "edsc", "--self-expression", "omp", "--out", dir.to_str().unwrap(), "--quiet"], &budget);
    let m = metrics(&dir);
    assert_eq!(m["self_expression"]["solver"], "omp");
    assert!(m["self_expression"]["coef_nonzeros"].as_u64().unwrap() <= 5 * 1440);
}

#[test]
fn bad_sparse_flags_are_refused() {
    let d = scratch("sparse-bad");
    let out = d.join("x");
    let o = out.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["run", "--method", "edsc", "--self-expression", "ensc", "--auto-post", "--out", o], "auto-post and label-free scores post-process a dense C"),
        (&["run", "--method", "edsc", "--self-expression", "lasso", "--out", o], "ridge, ensc, omp"),
        (&["run", "--method", "edsc", "--ensc-gamma", "50", "--out", o], "--self-expression"),
        (&["run", "--method", "edsc", "--self-expression", "ensc", "--ensc-gamma", "0.5", "--out", o], "above 1"),
        (&["run", "--method", "edsc", "--self-expression", "omp", "--sparse-affinity", "knn", "--sparse-knn", "0", "--out", o], "k ≥ 1"),
    ];
    for (args, needle) in cases {
        assert_clean_error(&run(args, &[]), needle);
    }
}

/// UDLL's fine-tuned codes clustered by EnSC instead of the learned C
/// (which is still written), whole and in landmark mode, where all n codes
/// are clustered at once; the whole run audits and assigns.
#[test]
fn udll_codes_clustered_by_ensc_whole_and_with_landmarks() {
    let d = scratch("sparse-udll");
    let base = ["--synthetic-objects", "4", "--synthetic-poses", "12", "--pretrain-epochs", "5", "--epochs", "5", "--self-expression", "ensc", "--quiet"];
    for (name, extra) in [("whole", &[][..]), ("landmarks", &["--landmarks", "24"][..])] {
        let dir = d.join(name);
        let args: Vec<&str> = ["run", "--out", dir.to_str().unwrap()].into_iter().chain(base).chain(extra.iter().copied()).collect();
        ok(&args, &[]);
        for f in ["finetuned.ckpt", "coef.npy", "coef_indptr.npy", "coef_indices.npy", "coef_values.npy", "latent.npy", "report.html"] {
            assert!(dir.join(f).exists(), "{name}: {f}");
        }
        assert_eq!(column(&dir.join("labels.csv"), 1).len(), 48, "{name}: every image labelled");
        let m = metrics(&dir);
        assert_eq!(m["self_expression"]["solver"], "ensc", "{name}");
        let indptr: ndarray::Array1<i64> = ndarray_npy::read_npy(dir.join("coef_indptr.npy")).unwrap();
        assert_eq!(indptr.len(), 49, "{name}: the sparse C covers all 48 images");
    }
    let whole = d.join("whole");
    let o = run(&["audit", whole.to_str().unwrap(), "--threads", "1,2"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let assigned = d.join("assigned");
    ok(
        &["assign", "--model", whole.to_str().unwrap(), "--out", assigned.to_str().unwrap(), "--synthetic-objects", "4", "--synthetic-poses", "12", "--quiet"],
        &[],
    );
    assert_eq!(column(&assigned.join("labels.csv"), 1), column(&whole.join("labels.csv"), 1));
}
