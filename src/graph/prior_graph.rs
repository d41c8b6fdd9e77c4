//! The prior affinity graph of UDLL, Eq. (17): closed-form adaptive
//! neighbours (Nie et al.'s CAN rule) on pretrained latent features.
//!
//! For each column j, with m_ij = ‖z_i − z_j‖² and the neighbours of j
//! sorted so that m_1j ≤ … ≤ m_{k+1,j} (j itself excluded):
//!
//!   a_ij = (m_{k+1,j} − m_ij) / (k·m_{k+1,j} − Σ_{p≤k} m_pj)   for i among the k nearest,
//!   a_ij = 0 otherwise.
//!
//! Each column therefore has k non-negative entries summing to 1. As in the
//! reference code, 2.2e-16 is added to the denominator; when all k + 1
//! distances are equal the limit, uniform 1/k, is used.

use crate::error::{Result, UdllError};
use crate::graph::knn::k_nearest;

#[derive(Clone, Debug, PartialEq)]
/// The prior graph of Eq. 17: each sample's k nearest neighbours in latent space with adaptive weights, stored by column.
pub struct PriorGraph {
    /// The number of samples.
    pub n: usize,
    /// Neighbours per sample.
    pub k: usize,
    /// Column j's neighbours: rows i, entries j·k .. (j+1)·k.
    pub rows: Vec<usize>,
    /// a_ij for those entries.
    pub weights: Vec<f64>,
}

/// Adjacency lists: for each node, its (neighbour, weight) pairs.
pub type Adjacency = [Vec<(usize, f64)>];

impl PriorGraph {
    /// Column j as (i, a_ij) pairs.
    pub fn column(&self, j: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let s = j * self.k;
        self.rows[s..s + self.k].iter().copied().zip(self.weights[s..s + self.k].iter().copied())
    }

    /// The symmetric weights S = A + Aᵀ as sorted adjacency lists, the form
    /// the locality gradient needs: ∂/∂z_i Σ a_pq‖z_p − z_q‖² = 2 Σ_j S_ij (z_i − z_j).
    pub fn symmetric_adjacency(&self) -> Vec<Vec<(usize, f64)>> {
        let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); self.n];
        for j in 0..self.n {
            for (i, a) in self.column(j) {
                adj[i].push((j, a));
                adj[j].push((i, a));
            }
        }
        for row in &mut adj {
            row.sort_by_key(|e| e.0);
            let mut merged: Vec<(usize, f64)> = Vec::with_capacity(row.len());
            for &(j, a) in row.iter() {
                match merged.last_mut() {
                    Some(last) if last.0 == j => last.1 += a,
                    _ => merged.push((j, a)),
                }
            }
            *row = merged;
        }
        adj
    }

    /// CSV triplets "column,row,weight", one line per non-zero.
    pub fn to_csv(&self) -> String {
        let mut s = format!("# udll prior graph (UDLL Eq. 17): n={} k={}\nj,i,a_ij\n", self.n, self.k);
        for j in 0..self.n {
            for (i, a) in self.column(j) {
                s += &format!("{j},{i},{a:.17e}\n");
            }
        }
        s
    }

    /// Parse [`Self::to_csv`]'s format back.
    /// Write [`Self::to_csv`] to `path` (atomically).
    pub fn save(&self, path: &std::path::Path) -> Result<()> {
        crate::io::write_atomic(path, self.to_csv().as_bytes())
    }

    /// Parse the CSV of [`Self::to_csv`] read from `path`.
    pub fn from_csv(path: &std::path::Path, text: &str) -> Result<Self> {
        let bad = |m: String| UdllError::format(path, m);
        let mut lines = text.lines();
        let head = lines.next().ok_or_else(|| bad("empty graph file".into()))?;
        let field = |key: &str| -> Result<usize> {
            head.split_whitespace().find_map(|w| w.strip_prefix(key)).and_then(|v| v.parse().ok()).ok_or_else(|| bad(format!("graph header lacks {key}")))
        };
        let (n, k) = (field("n=")?, field("k=")?);
        if lines.next() != Some("j,i,a_ij") {
            return Err(bad("graph file lacks the 'j,i,a_ij' header".into()));
        }
        // The header's sizes are checked against what the file holds (one
        // line per entry) before anything is allocated from them.
        let body: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
        if n == 0 || k == 0 || n.checked_mul(k) != Some(body.len()) {
            return Err(bad(format!("the header says n={n}, k={k}, which is n·k entries, but the file has {} entry lines", body.len())));
        }
        let mut rows = vec![0usize; n * k];
        let mut weights = vec![0f64; n * k];
        let mut count = vec![0usize; n];
        for (ln, line) in body.into_iter().enumerate() {
            let parts: Vec<&str> = line.split(',').collect();
            let parsed = (parts.len() == 3).then(|| (parts[0].parse::<usize>(), parts[1].parse::<usize>(), parts[2].parse::<f64>()));
            let Some((Ok(j), Ok(i), Ok(a))) = parsed else {
                return Err(bad(format!("line {}: expected 'j,i,a_ij'", ln + 3)));
            };
            if !a.is_finite() {
                return Err(bad(format!("line {}: the weight of entry ({j}, {i}) is {a}, not a finite number", ln + 3)));
            }
            if j >= n || i >= n || count[j] >= k {
                return Err(bad(format!("line {}: entry ({j}, {i}) does not fit n={n}, k={k}", ln + 3)));
            }
            rows[j * k + count[j]] = i;
            weights[j * k + count[j]] = a;
            count[j] += 1;
        }
        if count.iter().any(|&c| c != k) {
            return Err(bad(format!("every column needs exactly k={k} entries")));
        }
        Ok(PriorGraph { n, k, rows, weights })
    }
}

/// Whether a graph of k neighbours can be built on n points (k ≥ 1, and
/// n ≥ k + 2: the weights need the (k+1)-th neighbour).
pub fn check_graph_size(n: usize, k: usize) -> Result<()> {
    if k == 0 {
        return Err(UdllError::config("prior graph: k must be at least 1"));
    }
    if n < k.saturating_add(2) {
        return Err(UdllError::config(format!("prior graph: k = {k} needs at least {} points, got {n}", k.saturating_add(2))));
    }
    Ok(())
}

/// Build the Eq. (17) graph from latent features z (n × d, one row each).
pub fn adaptive_neighbour_graph(z: &[f32], n: usize, d: usize, k: usize) -> Result<PriorGraph> {
    check_graph_size(n, k)?;
    // Distances are symmetric, so column j's nearest are row j's nearest.
    let nn = k_nearest(z, n, d, k + 1)?;
    let mut rows = Vec::with_capacity(n * k);
    let mut weights = Vec::with_capacity(n * k);
    for neigh in &nn {
        let m_k1 = neigh[k].1;
        let sum_k: f64 = neigh[..k].iter().map(|p| p.1).sum();
        // k·m_{k+1} − Σ m_p ≥ 0; it vanishes only when all k + 1 distances
        // are equal, where the rule's limit is uniform weights.
        let spread = k as f64 * m_k1 - sum_k;
        let uniform = spread <= 1e-12 * k as f64 * m_k1 || spread <= 0.0;
        for &(i, m) in &neigh[..k] {
            rows.push(i);
            weights.push(if uniform { 1.0 / k as f64 } else { (m_k1 - m) / (spread + 2.2e-16) });
        }
    }
    Ok(PriorGraph { n, k, rows, weights })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_example() {
        // Points on a line at 0, 1, 3, 6, 10; k = 2.
        let z = [0.0f32, 1.0, 3.0, 6.0, 10.0];
        let g = adaptive_neighbour_graph(&z, 5, 1, 2).unwrap();
        // Column 0: neighbours 1 (m=1), 2 (m=9), third is 3 (m=36).
        // denom = 2·36 − (1 + 9) = 62; a = (36−1)/62, (36−9)/62.
        let c0: Vec<(usize, f64)> = g.column(0).collect();
        assert_eq!(c0[0].0, 1);
        assert_eq!(c0[1].0, 2);
        assert!((c0[0].1 - 35.0 / 62.0).abs() < 1e-12);
        assert!((c0[1].1 - 27.0 / 62.0).abs() < 1e-12);
        for j in 0..5 {
            let s: f64 = g.column(j).map(|p| p.1).sum();
            assert!((s - 1.0).abs() < 1e-12);
            assert!(g.column(j).all(|(i, a)| i != j && a >= 0.0));
        }
    }

    #[test]
    fn equidistant_neighbours_get_uniform_weights_and_csv_round_trips() {
        let z = vec![0.0f32; 6 * 3];
        let g = adaptive_neighbour_graph(&z, 6, 3, 3).unwrap();
        assert!(g.weights.iter().all(|&a| (a - 1.0 / 3.0).abs() < 1e-12));
        let back = PriorGraph::from_csv(std::path::Path::new("g.csv"), &g.to_csv()).unwrap();
        assert_eq!(back, g);
        let adj = g.symmetric_adjacency();
        assert!(adj.iter().all(|r| r.windows(2).all(|w| w[0].0 < w[1].0)));
    }

    /// Sizes in the header are checked against the file before anything is
    /// allocated (a header saying n=100000000000 used to abort on a 2.4 TB
    /// allocation), and a NaN weight is named as such.
    #[test]
    fn csv_header_sizes_and_weights_are_checked() {
        let p = std::path::Path::new("g.csv");
        let g = adaptive_neighbour_graph(&[0.0f32; 6 * 3], 6, 3, 3).unwrap().to_csv();
        let huge = g.replacen("n=6 k=3", "n=100000000000 k=3", 1);
        let e = PriorGraph::from_csv(p, &huge).unwrap_err().to_string();
        assert!(e.contains("n=100000000000, k=3") && e.contains("18 entry lines"), "{e}");
        let overflow = g.replacen("n=6 k=3", "n=18446744073709551615 k=3", 1);
        assert!(PriorGraph::from_csv(p, &overflow).unwrap_err().to_string().contains("entry lines"));
        let line = g.lines().find(|l| l.starts_with("0,1,")).unwrap();
        let nan = g.replacen(line, "0,1,NaN", 1);
        let e = PriorGraph::from_csv(p, &nan).unwrap_err().to_string();
        assert!(e.contains("is NaN, not a finite number"), "{e}");
    }
}
