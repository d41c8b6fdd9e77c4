//! Landmark mode (`udll run --landmarks M`): nothing n × n, deterministic,
//! and on by itself when the dense path would not fit the memory budget.

mod common;

use common::*;

/// 6 objects × 100 poses: 600 images, whose dense fine-tuning needs
/// 16·600² = 5.8 MB; with a budget of 2 MB only landmark mode can run.
const ARGS: &[&str] = &["--synthetic-objects", "6", "--synthetic-poses", "100", "--pretrain-epochs", "8", "--epochs", "5", "--quiet", "--no-report"];
const SMALL_BUDGET: (&str, &str) = ("UDLL_MEMORY_BUDGET", "2M");

#[test]
fn landmark_mode_runs_where_the_dense_path_cannot_and_audits_clean() {
    let root = scratch("landmarks");
    let dense = root.join("dense");
    let mut args = vec!["run", "--out", dense.to_str().unwrap()];
    args.extend(ARGS);
    args.extend(["--landmarks", "600"]);
    assert_clean_error(&run(&args, &[SMALL_BUDGET]), "above the budget");

    let dir = root.join("lm");
    let mut args = vec!["run", "--out", dir.to_str().unwrap(), "--landmarks", "120", "--landmark-choice", "kmeans-pp"];
    args.extend(ARGS);
    let o = run(&args, &[SMALL_BUDGET]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Every image has a label; C is over the landmarks only.
    assert_eq!(std::fs::read_to_string(dir.join("labels.csv")).unwrap().lines().count(), 601);
    let (_, r, c) = udll::io::npy_out::read_npy_matrix(&dir.join("coef.npy")).unwrap();
    assert_eq!((r, c), (120, 120));
    let landmarks: Vec<usize> =
        std::fs::read_to_string(dir.join("landmarks.csv")).unwrap().lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(landmarks.len(), 120);
    assert!(landmarks.windows(2).all(|w| w[0] < w[1]) && *landmarks.last().unwrap() < 600);
    // k-means++ landmarks, fine-tuning and assignment: the same bytes under
    // 1, 2 and 4 threads (the audit re-runs under the same small budget).
    let o = run(&["audit", dir.to_str().unwrap(), "--threads", "1,2,4"], &[SMALL_BUDGET]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));

    // Without --landmarks, the small budget switches it on, with M sized
    // to fit (40·M² ≤ 2 MiB: M = 228), and says so.
    let auto = root.join("auto");
    let mut args = vec!["run", "--out", auto.to_str().unwrap()];
    args.extend(ARGS.iter().filter(|a| **a != "--quiet"));
    let o = run(&args, &[SMALL_BUDGET]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("landmark mode with 228 landmarks"), "{}", stderr(&o));
    // A landmark choice without landmark mode is refused.
    let refused = root.join("refused");
    let mut args = vec!["run", "--out", refused.to_str().unwrap(), "--landmark-choice", "kmeans-pp"];
    args.extend(ARGS);
    assert_clean_error(&run(&args, &[]), "a landmark choice needs landmark mode");
    // Restarts in landmark mode are refused, asked for or automatic,
    // before anything is written (they used to be dropped silently).
    for extra in [&["--landmarks", "120"][..], &[]] {
        let mut args = vec!["run", "--out", refused.to_str().unwrap(), "--restarts", "3"];
        args.extend(ARGS);
        args.extend(extra);
        assert_clean_error(&run(&args, &[SMALL_BUDGET]), "3 restarts in landmark mode");
        assert!(!refused.exists());
    }
    // And the report draws C over the landmarks.
    let o = run(&["report", dir.to_str().unwrap(), "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(dir.join("report.html")).unwrap().contains("over the 120 landmarks"));
}
