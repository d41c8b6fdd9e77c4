//! The scattering front end through the command line: `udll features`,
//! `udll run --front scattering` with EDSC and with a network over the
//! maps, their audits under 1, 2 and 4 threads, `udll assign` of a
//! scattering model, the report's maps, and refusals.

mod common;

use common::*;
use std::path::Path;

const SYN: &[&str] = &["--synthetic-objects", "4", "--synthetic-poses", "10"];

fn ok(args: &[&str]) -> std::process::Output {
    let o = run(args, &[]);
    assert!(o.status.success(), "udll {}\n{}\n{}", args.join(" "), stdout(&o), stderr(&o));
    o
}

fn with_syn<'a>(args: &[&'a str]) -> Vec<&'a str> {
    args.iter().copied().chain(SYN.iter().copied()).collect()
}

fn column(path: &Path, i: usize) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().skip(1).map(|l| l.split(',').nth(i).unwrap().to_string()).collect()
}

/// `udll features` writes n × (paths · h · w) maps, or n × K projected
/// features and their basis, with a manifest; the same bytes under 1 and
/// 4 threads.
#[test]
fn features_are_written_with_their_shape_and_the_same_bytes_under_any_thread_count() {
    let d = scratch("scat-features");
    let maps = d.join("maps.npy");
    ok(&with_syn(&["features", "--scattering-j", "2", "--out", maps.to_str().unwrap(), "--quiet", "--threads", "1"]));
    let (v, n, dim) = udll::io::npy_out::read_npy_matrix(&maps).unwrap();
    // 32 × 32 synthetic images, J = 2: 81 paths of 8 × 8.
    assert_eq!((n, dim), (40, 81 * 64));
    // Each map is divided by its largest magnitude (the low-pass rings
    // slightly below zero at the borders, as Kymatio's does).
    assert!(v.iter().all(|x| x.is_finite() && x.abs() <= 1.0));
    assert!(v[..64].contains(&1.0) && v[64..128].contains(&1.0));
    // Naming the front end it already has keeps its settings (J = 2 here).
    let named = d.join("named.npy");
    ok(&with_syn(&["features", "--front", "scattering", "--scattering-j", "2", "--out", named.to_str().unwrap(), "--quiet"]));
    assert_eq!(std::fs::read(&named).unwrap(), std::fs::read(&maps).unwrap());
    let again = d.join("maps4.npy");
    ok(&with_syn(&["features", "--scattering-j", "2", "--out", again.to_str().unwrap(), "--quiet", "--threads", "4"]));
    assert_eq!(sha256(&maps), sha256(&again));
    let projected = d.join("proj.npy");
    ok(&with_syn(&["features", "--scattering-j", "3", "--scattering-pca", "20", "--out", projected.to_str().unwrap(), "--quiet"]));
    let (_, n, dim) = udll::io::npy_out::read_npy_matrix(&projected).unwrap();
    assert_eq!((n, dim), (40, 20));
    let (_, rows, cols) = udll::io::npy_out::read_npy_matrix(&d.join("proj.basis.npy")).unwrap();
    assert_eq!((rows, cols), (217 * 16, 20));
    assert!(d.join("proj.npy.manifest.json").exists(), "the features have a manifest");
}

/// EDSC on scattering features: a complete run directory whose audit
/// reproduces every artefact under 1, 2 and 4 threads, a report with the
/// scattering maps, and an assignment of the fitted images that keeps
/// their clusters.
#[test]
fn an_edsc_run_on_scattering_audits_reports_and_assigns() {
    let d = scratch("scat-edsc");
    let run_dir = d.join("run");
    let o = ok(&with_syn(&[
        "run",
        "--front",
        "scattering",
        "--scattering-pca",
        "30",
        "--method",
        "edsc",
        "--clusters",
        "4",
        "--out",
        run_dir.to_str().unwrap(),
        "--quiet",
    ]));
    assert!(stdout(&o).contains("ACC "), "{}", stdout(&o));
    for f in ["features.npy", "scattering_basis.npy", "coef.npy", "latent.npy", "labels.csv", "metrics.json", "manifest.json", "report.html"] {
        assert!(run_dir.join(f).exists(), "{f}");
    }
    assert!(!run_dir.join("finetuned.ckpt").exists(), "EDSC trains no network");
    let page = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert!(page.contains("id=\"scattering\"") && page.contains("trained no network"));
    let manifest = std::fs::read_to_string(run_dir.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"front\"") && manifest.contains("\"scattering\""), "the manifest records the front end");
    let o = run(&["audit", run_dir.to_str().unwrap(), "--threads", "1,2,4"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));

    let assigned = d.join("assigned");
    ok(&with_syn(&["assign", "--model", run_dir.to_str().unwrap(), "--out", assigned.to_str().unwrap(), "--quiet"]));
    assert_eq!(column(&assigned.join("labels.csv"), 1), column(&run_dir.join("labels.csv"), 1), "each fitted image keeps its cluster");
    let manifest = std::fs::read_to_string(assigned.join("manifest.json")).unwrap();
    assert!(manifest.contains("scattering_basis.npy"), "the basis the new images were projected on is an input");
}

/// UDLL with its autoencoder over the scattering maps (8 × 8 × 81): the
/// network sees the maps, the run audits under 1 and 2 threads, and
/// `udll assign` scatters the new images before encoding them.
#[test]
fn udll_over_scattering_maps_audits_and_assigns() {
    let d = scratch("scat-udll");
    let run_dir = d.join("run");
    ok(&with_syn(&["run", "--front", "scattering", "--pretrain-epochs", "5", "--epochs", "4", "--out", run_dir.to_str().unwrap(), "--quiet"]));
    let ckpt = std::fs::read_to_string(run_dir.join("manifest.json")).unwrap();
    assert!(ckpt.contains("features.npy"));
    let (_, n, dim) = udll::io::npy_out::read_npy_matrix(&run_dir.join("latent.npy")).unwrap();
    // 8 × 8 maps through one stride-2 layer of 15 channels.
    assert_eq!((n, dim), (40, 4 * 4 * 15));
    let o = run(&["audit", run_dir.to_str().unwrap(), "--threads", "1,2"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let assigned = d.join("assigned");
    ok(&with_syn(&["assign", "--model", run_dir.to_str().unwrap(), "--out", assigned.to_str().unwrap(), "--quiet", "--no-report"]));
    assert_eq!(column(&assigned.join("labels.csv"), 1), column(&run_dir.join("labels.csv"), 1));
}

/// Settings the transform cannot apply are refused before anything is
/// written; scattering flags without the scattering front end too.
#[test]
fn impossible_scattering_settings_are_refused_cleanly() {
    let d = scratch("scat-refused");
    let out = d.join("run");
    let o = run(&with_syn(&["run", "--front", "scattering", "--scattering-j", "6", "--method", "edsc", "--out", out.to_str().unwrap(), "--quiet"]), &[]);
    assert_clean_error(&o, "2^J");
    assert!(!out.exists(), "nothing is written for a refused run");
    let o = run(&with_syn(&["run", "--scattering-j", "2", "--out", out.to_str().unwrap(), "--quiet"]), &[]);
    assert_clean_error(&o, "--front scattering");
    let o = run(&with_syn(&["features", "--scattering-order", "3", "--out", d.join("f.npy").to_str().unwrap()]), &[]);
    assert_clean_error(&o, "order");
    let o = run(&with_syn(&["run", "--front", "wavelets", "--out", out.to_str().unwrap()]), &[]);
    assert_clean_error(&o, "--front");
    let o = run(&with_syn(&["run", "--preset", "coil20-scat", "--landmarks", "20", "--out", out.to_str().unwrap(), "--quiet"]), &[]);
    assert_clean_error(&o, "landmark");
}
