//! Clustering metrics: accuracy under the best one-to-one label matching
//! (UDLL Eq. 22, Kuhn–Munkres), normalised mutual information (arithmetic
//! mean normalisation, scikit-learn's default) and the adjusted Rand index.

use crate::error::{Result, UdllError};
use pathfinding::prelude::{Matrix, kuhn_munkres};
use serde::Serialize;

#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
/// Clustering scores against true labels.
pub struct Scores {
    /// Accuracy after Hungarian matching of clusters to classes.
    pub acc: f64,
    /// Normalised mutual information.
    pub nmi: f64,
    /// Adjusted Rand index.
    pub ari: f64,
}

/// Contingency table (rows: predicted, columns: true), label sets compacted.
fn contingency(pred: &[usize], truth: &[usize]) -> Result<(Vec<Vec<u64>>, usize, usize)> {
    if pred.len() != truth.len() || pred.is_empty() {
        return Err(UdllError::shape(format!("metrics: {} predictions for {} labels", pred.len(), truth.len())));
    }
    let compact = |v: &[usize]| {
        let mut u: Vec<usize> = v.to_vec();
        u.sort_unstable();
        u.dedup();
        let idx: Vec<usize> = v.iter().map(|x| u.binary_search(x).unwrap()).collect();
        (idx, u.len())
    };
    let (p, kp) = compact(pred);
    let (t, kt) = compact(truth);
    let mut m = vec![vec![0u64; kt]; kp];
    for (a, b) in p.iter().zip(&t) {
        m[*a][*b] += 1;
    }
    Ok((m, kp, kt))
}

/// Fraction of samples correctly labelled under the best matching.
pub fn accuracy(pred: &[usize], truth: &[usize]) -> Result<f64> {
    let matched = matched_labels(pred, truth)?;
    let right = matched.iter().zip(truth).filter(|(m, t)| **m == Some(**t)).count();
    Ok(right as f64 / pred.len() as f64)
}

/// The class each sample's cluster is matched to by the one-to-one
/// matching that [`accuracy`] maximises (None for a cluster left without a
/// class, when there are more clusters than classes): what `labels.csv`'s
/// `matched` column holds, so predicted and true can be compared by eye.
pub fn matched_labels(pred: &[usize], truth: &[usize]) -> Result<Vec<Option<usize>>> {
    let (m, kp, kt) = contingency(pred, truth)?;
    // The matching of the kp × kt table, as kuhn_munkres wants it: no more
    // rows than columns (transposed when there are more clusters than
    // classes). Rectangular, it costs min² · max, not max³: 100 clusters
    // against 8 600 classes is 10⁸ steps instead of 6 · 10¹¹.
    let transposed = kp > kt;
    let (rows, cols) = if transposed { (kt, kp) } else { (kp, kt) };
    let w = Matrix::from_fn(rows, cols, |(i, j)| if transposed { m[j][i] } else { m[i][j] } as i64);
    let (_, matched) = kuhn_munkres(&w);
    // The class of each cluster, None for a cluster left without one.
    let mut assignment = vec![usize::MAX; kp];
    for (r, &c) in matched.iter().enumerate() {
        let (cluster, class) = if transposed { (c, r) } else { (r, c) };
        assignment[cluster] = class;
    }
    let values = |v: &[usize]| {
        let mut u = v.to_vec();
        u.sort_unstable();
        u.dedup();
        u
    };
    let (clusters, classes) = (values(pred), values(truth));
    Ok(pred
        .iter()
        .map(|p| {
            let row = clusters.binary_search(p).expect("a value of pred");
            classes.get(assignment[row]).copied()
        })
        .collect())
}

fn entropy(counts: impl Iterator<Item = u64>, n: f64) -> f64 {
    counts
        .filter(|&c| c > 0)
        .map(|c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// NMI = MI / ((H(pred) + H(true)) / 2); 1 when both are one cluster.
pub fn nmi(pred: &[usize], truth: &[usize]) -> Result<f64> {
    let (m, _, kt) = contingency(pred, truth)?;
    let n = pred.len() as f64;
    let rows: Vec<u64> = m.iter().map(|r| r.iter().sum()).collect();
    let cols: Vec<u64> = (0..kt).map(|j| m.iter().map(|r| r[j]).sum()).collect();
    let (hp, ht) = (entropy(rows.iter().copied(), n), entropy(cols.iter().copied(), n));
    if hp == 0.0 && ht == 0.0 {
        return Ok(1.0);
    }
    let mut mi = 0.0;
    for (i, row) in m.iter().enumerate() {
        for (j, &c) in row.iter().enumerate() {
            if c > 0 {
                let c = c as f64;
                mi += c / n * (c * n / (rows[i] as f64 * cols[j] as f64)).ln();
            }
        }
    }
    let denom = 0.5 * (hp + ht);
    Ok(if denom > 0.0 { (mi / denom).clamp(0.0, 1.0) } else { 0.0 })
}

/// Adjusted Rand index (Hubert & Arabie).
pub fn ari(pred: &[usize], truth: &[usize]) -> Result<f64> {
    let (m, _, kt) = contingency(pred, truth)?;
    let c2 = |x: u64| (x as f64) * (x as f64 - 1.0) / 2.0;
    let n = pred.len() as u64;
    let sum_ij: f64 = m.iter().flatten().map(|&c| c2(c)).sum();
    let sum_a: f64 = m.iter().map(|r| c2(r.iter().sum())).sum();
    let sum_b: f64 = (0..kt).map(|j| c2(m.iter().map(|r| r[j]).sum())).sum();
    let expected = sum_a * sum_b / c2(n).max(1.0);
    let max = 0.5 * (sum_a + sum_b);
    if (max - expected).abs() < 1e-12 {
        return Ok(1.0);
    }
    Ok((sum_ij - expected) / (max - expected))
}

/// ACC, NMI and ARI of `pred` against `truth`.
pub fn scores(pred: &[usize], truth: &[usize]) -> Result<Scores> {
    Ok(Scores { acc: accuracy(pred, truth)?, nmi: nmi(pred, truth)?, ari: ari(pred, truth)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matched class is the one the accuracy counts: clusters 5 and 7
    /// become classes 1 and 0, and a third cluster gets no class.
    #[test]
    fn matched_labels_follow_the_best_matching() {
        let pred = [5, 5, 7, 7, 7, 9];
        let truth = [1, 1, 0, 0, 1, 1];
        let m = matched_labels(&pred, &truth).unwrap();
        assert_eq!(m, [Some(1), Some(1), Some(0), Some(0), Some(0), None]);
        let right = m.iter().zip(&truth).filter(|(a, b)| **a == Some(**b)).count();
        assert_eq!(accuracy(&pred, &truth).unwrap(), right as f64 / 6.0);
        assert_eq!(right, 4);
    }

    #[test]
    fn permuted_labels_score_perfectly() {
        let t = [0, 0, 1, 1, 2, 2];
        let p = [2, 2, 0, 0, 1, 1];
        let s = scores(&p, &t).unwrap();
        assert_eq!(s.acc, 1.0);
        assert!((s.nmi - 1.0).abs() < 1e-12);
        assert!((s.ari - 1.0).abs() < 1e-12);
    }

    #[test]
    fn hand_computed_case() {
        // truth: 0 0 0 1 1 1 ; pred: 0 0 1 1 1 1
        let t = [0, 0, 0, 1, 1, 1];
        let p = [0, 0, 1, 1, 1, 1];
        // Best matching 0→0, 1→1: 5 of 6 correct.
        assert!((accuracy(&p, &t).unwrap() - 5.0 / 6.0).abs() < 1e-12);
        // Contingency [[2,0],[1,3]]: MI = Σ p_ij ln(p_ij / p_i p_j).
        let n = 6.0f64;
        let mi = 2.0 / n * ((2.0 / n) / ((2.0 / n) * (3.0 / n))).ln()
            + 1.0 / n * ((1.0 / n) / ((4.0 / n) * (3.0 / n))).ln()
            + 3.0 / n * ((3.0 / n) / ((4.0 / n) * (3.0 / n))).ln();
        let hp = -(2.0 / n * (2.0f64 / n).ln() + 4.0 / n * (4.0f64 / n).ln());
        let ht = -(2.0 * 0.5 * 0.5f64.ln());
        assert!((nmi(&p, &t).unwrap() - mi / (0.5 * (hp + ht))).abs() < 1e-12);
        // ARI: sum_ij C2 = 1 + 0 + 0 + 3 = 4; a: C2(2)+C2(4) = 1+6 = 7;
        // b: 3+3 = 6; expected = 7·6/15 = 2.8; max = 6.5 → (4−2.8)/(6.5−2.8).
        assert!((ari(&p, &t).unwrap() - 1.2 / 3.7).abs() < 1e-12);
    }

    #[test]
    fn more_predicted_clusters_than_classes() {
        let t = [0, 0, 1, 1];
        let p = [0, 1, 2, 3];
        assert!((accuracy(&p, &t).unwrap() - 0.5).abs() < 1e-12);
        assert!(scores(&p, &t[..3]).is_err());
    }

    /// The rectangular matching (more clusters than classes, or fewer)
    /// reaches the optimum of a brute force over every one-to-one map.
    #[test]
    fn rectangular_matching_is_optimal() {
        let mut rng = crate::rng::Rng::from_seed(5);
        for (kp, kt) in [(2, 5), (5, 2), (4, 4), (3, 6), (6, 3)] {
            let truth: Vec<usize> = (0..60).map(|i| i % kt).collect();
            let pred: Vec<usize> = (0..60).map(|_| rng.below(kp)).collect();
            let (m, kp, kt) = contingency(&pred, &truth).unwrap();
            // Brute force: each cluster to a distinct class or to none.
            fn best(m: &[Vec<u64>], row: usize, used: &mut Vec<bool>) -> u64 {
                if row == m.len() {
                    return 0;
                }
                let mut b = best(m, row + 1, used);
                for c in 0..used.len() {
                    if !used[c] {
                        used[c] = true;
                        b = b.max(m[row][c] + best(m, row + 1, used));
                        used[c] = false;
                    }
                }
                b
            }
            let want = best(&m, 0, &mut vec![false; kt]) as f64 / 60.0;
            assert_eq!(accuracy(&pred, &truth).unwrap(), want, "{kp} clusters, {kt} classes");
            // The matched column counts what the accuracy counts.
            let matched = matched_labels(&pred, &truth).unwrap();
            let right = matched.iter().zip(&truth).filter(|(a, b)| **a == Some(**b)).count();
            assert_eq!(right as f64 / 60.0, want);
        }
    }

    /// 100 clusters against 5 000 classes: min² · max steps, quick (a
    /// square 5 000 × 5 000 matching took minutes). Each cluster holds 50
    /// classes equally, so the best is one class per cluster.
    #[test]
    fn many_classes_are_matched_quickly() {
        let truth: Vec<usize> = (0..20_000).map(|i| i % 5000).collect();
        let pred: Vec<usize> = truth.iter().map(|t| t % 100).collect();
        assert_eq!(accuracy(&pred, &truth).unwrap(), 100.0 * 4.0 / 20_000.0);
        assert_eq!(accuracy(&truth, &pred).unwrap(), 100.0 * 4.0 / 20_000.0);
    }
}
