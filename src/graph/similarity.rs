//! GR-DNN's similarity graphs (Eq. 2, §3.1.1, §4.1.2): Gaussian weights
//! exp(−‖x_i − x_j‖²/σ) on a symmetric kNN graph (i and j connected when
//! either is among the other's k nearest), or, for large n, an anchor graph
//! Ŝ ∈ ℝ^{n×Na} between the points and Na k-means centroids (each point
//! linked to its k nearest anchors). σ follows the paper's rule: the mean
//! weight of a connected pair is ½, i.e. σ = mean(d²)/ln 2 over the edges.
//! Rows are what GR-DNN's graph decoder reconstructs.

use crate::cluster::kmeans;
use crate::error::{Result, UdllError};
use crate::graph::knn::k_nearest;

/// σ = mean squared distance of the edges / ln 2 (1 when all are 0).
fn bandwidth(d2: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = d2.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    let mean = if count > 0 { sum / count as f64 } else { 0.0 };
    if mean > 0.0 { mean / std::f64::consts::LN_2 } else { 1.0 }
}

/// The n × n symmetric Gaussian kNN similarity matrix (row-major, f32).
pub fn knn_similarity(x: &[f32], n: usize, d: usize, k: usize) -> Result<Vec<f32>> {
    if n < 2 {
        return Err(UdllError::config("a similarity graph needs at least two points"));
    }
    let nb = k_nearest(x, n, d, k.clamp(1, n - 1))?;
    let sigma = bandwidth(nb.iter().flatten().map(|&(_, d2)| d2));
    let mut s = vec![0f32; n * n];
    for (i, list) in nb.iter().enumerate() {
        for &(j, d2) in list {
            let w = (-d2 / sigma).exp() as f32;
            s[i * n + j] = w;
            s[j * n + i] = w;
        }
    }
    Ok(s)
}

/// The n × Na anchor graph: anchors are k-means centroids (seeded), each
/// point keeps Gaussian weights to its k nearest anchors.
pub fn anchor_similarity(x: &[f32], n: usize, d: usize, anchors: usize, k: usize, seed: u64) -> Result<Vec<f32>> {
    if anchors < 2 || anchors > n {
        return Err(UdllError::config(format!("{anchors} anchors for {n} points")));
    }
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let centres = kmeans(&x64, n, d, anchors, 1, 50, seed)?.centroids;
    let k = k.clamp(1, anchors);
    let mut nearest: Vec<Vec<(usize, f64)>> = Vec::with_capacity(n);
    for i in 0..n {
        let xi = &x64[i * d..(i + 1) * d];
        let mut dist: Vec<(usize, f64)> = (0..anchors).map(|a| (a, centres[a * d..(a + 1) * d].iter().zip(xi).map(|(c, v)| (c - v) * (c - v)).sum())).collect();
        dist.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        dist.truncate(k);
        nearest.push(dist);
    }
    let sigma = bandwidth(nearest.iter().flatten().map(|&(_, d2)| d2));
    let mut s = vec![0f32; n * anchors];
    for (i, list) in nearest.iter().enumerate() {
        for &(a, d2) in list {
            s[i * anchors + a] = (-d2 / sigma).exp() as f32;
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knn_graph_is_symmetric_local_and_half_on_average() {
        let x: Vec<f32> = vec![0.0, 0.1, 0.2, 5.0, 5.1, 5.3];
        let s = knn_similarity(&x, 6, 1, 2).unwrap();
        for i in 0..6 {
            for j in 0..6 {
                assert_eq!(s[i * 6 + j], s[j * 6 + i]);
            }
        }
        // No edge across the two groups, none to itself.
        assert_eq!(s[2 * 6 + 3], 0.0);
        assert_eq!(s[0], 0.0);
        assert!(s[1] > 0.0 && s[1] <= 1.0);
    }

    #[test]
    fn anchor_graph_links_each_point_to_k_anchors() {
        let x: Vec<f32> = (0..40).map(|i| if i < 20 { i as f32 * 0.01 } else { 10.0 + i as f32 * 0.01 }).collect();
        let s = anchor_similarity(&x, 40, 1, 4, 2, 0).unwrap();
        for i in 0..40 {
            assert_eq!(s[i * 4..(i + 1) * 4].iter().filter(|&&w| w > 0.0).count(), 2, "row {i}");
        }
        assert!(anchor_similarity(&x, 40, 1, 41, 2, 0).is_err());
    }
}
