//! `udll reproduce` end to end on small synthetic data: every method runs,
//! the tables are written, and an absent dataset is reported, not fatal.

mod common;
use common::*;

#[test]
fn reproduce_writes_the_tables_and_reports_missing_data() {
    let dir = scratch("reproduce");
    let out = dir.join("rep");
    let empty = dir.join("no-data");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run(
        &[
            "reproduce",
            "--datasets",
            "synthetic,coil100",
            "--seeds",
            "2",
            "--synthetic-objects",
            "4",
            "--synthetic-poses",
            "10",
            "--pretrain-epochs",
            "10",
            "--epochs",
            "8",
            "--data-dir",
            empty.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let md = std::fs::read_to_string(out.join("reproduce.md")).unwrap();
    for label in [
        "| synthetic | UDLL | 2 |",
        "| synthetic | DSC (γ = 0) | 2 |",
        "| synthetic | PT+EDSC | 2 |",
        "| synthetic | FT+EDSC (Fig. 4) | 2 |",
        "| synthetic | EDSC, raw pixels | 2 |",
        "| synthetic | k-means, raw pixels | 2 |",
        "| coil100 | all | 0 | data not available",
    ] {
        assert!(md.contains(label), "missing '{label}' in\n{md}");
    }
    // The report: the table beside the paper's numbers, as a chart.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<td>synthetic</td><td>UDLL</td><td>2</td>") && html.contains("data:image/svg+xml;base64,"), "{html}");
    assert!(out.join("figures/acc.svg").exists() && out.join("figures/nmi.svg").exists());
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 6 * 2, "{runs}");
    // Every ACC is a fraction, and the shallow baseline differs from UDLL
    // (the rows are not copies of one another).
    let accs: Vec<f64> = runs.lines().skip(1).map(|l| l.split(',').nth(3).unwrap().parse().unwrap()).collect();
    assert!(accs.iter().all(|a| (0.0..=1.0).contains(a)));
    assert!(accs.windows(2).any(|w| w[0] != w[1]));
    // The summary is reproducible: the audit re-runs everything.
    let o = run(&["audit", out.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    // Each UDLL and DSC run kept its directory and manifest.
    for m in ["udll", "dsc"] {
        assert!(out.join(format!("synthetic/seed1/{m}/manifest.json")).exists());
    }
}

#[test]
fn reproduce_rejects_unknown_datasets_and_methods() {
    assert_clean_error(&run(&["reproduce", "--datasets", "mnist"], &[]), "unknown dataset 'mnist'");
    assert_clean_error(&run(&["reproduce", "--datasets", "synthetic", "--methods", "udll,sift"], &[]), "--methods");
}
