//! From a sparse coefficient matrix to a sparse symmetric affinity, as the
//! reference implementation of EnSC and SSC-OMP does it
//! (ChongYou/subspace-clustering, `SelfRepresentation`): the rows of C are
//! first divided by their ℓ2 norms (Ĉ), then either
//!
//! - symmetrize: A = ½(|Ĉ| + |Ĉ|ᵀ), or
//! - k nearest neighbours: each row of Ĉ is joined to the k rows nearest
//!   to it in Euclidean distance (for unit rows, the largest ĉ_i·ĉ_j),
//!   with weight 1, and A = ½(G + Gᵀ). Only rows that share a nonzero
//!   column are candidates: a row with none in common lies at distance
//!   √2, as far as rows go, and the reference's pick among those ties is
//!   arbitrary.

use super::SparseAffinity;
use crate::linalg::sparse::Csr;
use rayon::prelude::*;

/// The affinity of `coef` (n × n, zero diagonal) under `kind`.
pub(crate) fn sparse_affinity(coef: &Csr, kind: SparseAffinity) -> Csr {
    let unit = coef.normalise_rows();
    match kind {
        SparseAffinity::Symmetrize => {
            let a = unit.map(f64::abs);
            a.add(0.5, &a.transpose(), 0.5)
        }
        SparseAffinity::Knn { k } => {
            let g = knn_graph(&unit, k);
            g.add(0.5, &g.transpose(), 0.5)
        }
    }
}

/// The k-nearest-neighbour connectivity graph of the rows of `unit`.
fn knn_graph(unit: &Csr, k: usize) -> Csr {
    let cols = unit.transpose();
    let norms: Vec<f64> = (0..unit.rows).map(|i| unit.row(i).1.iter().map(|v| v * v).sum()).collect();
    let rows: Vec<Vec<(usize, f64)>> = (0..unit.rows)
        .into_par_iter()
        .map(|i| {
            // ĉ_i·ĉ_j for every row j sharing a column with row i: the
            // products, sorted by j (stably, so each sum runs in column
            // order), then summed.
            let (ci, vi) = unit.row(i);
            let mut prods: Vec<(usize, f64)> = Vec::new();
            for (&c, &v) in ci.iter().zip(vi) {
                let (rj, vj) = cols.row(c);
                prods.extend(rj.iter().zip(vj).filter(|(j, _)| **j != i).map(|(&j, &w)| (j, v * w)));
            }
            prods.sort_by_key(|p| p.0);
            let mut dist: Vec<(f64, usize)> = Vec::new();
            for group in prods.chunk_by(|a, b| a.0 == b.0) {
                let j = group[0].0;
                let dot: f64 = group.iter().map(|p| p.1).sum();
                dist.push((norms[i] + norms[j] - 2.0 * dot, j));
            }
            dist.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            dist.into_iter().take(k).map(|(_, j)| (j, 1.0)).collect()
        })
        .collect();
    Csr::from_rows(unit.rows, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetrize_and_knn_match_their_definitions() {
        let c = Csr::from_rows(4, vec![vec![(1, 3.0), (2, -4.0)], vec![(0, 1.0)], vec![(0, -2.0), (3, 2.0)], vec![(2, 1.0)]]);
        let a = sparse_affinity(&c, SparseAffinity::Symmetrize).to_dense();
        // |Ĉ|: row 0 = (0, .6, .8, 0), row 1 = (1, 0, 0, 0), row 2 = (1/√2, 0, 0, 1/√2), row 3 = (0, 0, 1, 0).
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((a[1] - 0.5 * (0.6 + 1.0)).abs() < 1e-15);
        assert!((a[2] - 0.5 * (0.8 + h)).abs() < 1e-15);
        assert!((a[2 * 4 + 3] - 0.5 * (h + 1.0)).abs() < 1e-15);
        for i in 0..4 {
            assert_eq!(a[i * 5], 0.0);
            for j in 0..4 {
                assert_eq!(a[i * 4 + j], a[j * 4 + i]);
            }
        }
        // Signed rows: ĉ_0·ĉ_3 = −0.8 (shared column 2), ĉ_1·ĉ_2 = −1/√2
        // (column 0); row 0's nearest is the only row sharing a column.
        let g = knn_graph(&c.normalise_rows(), 1).to_dense();
        assert_eq!(g[3], 1.0, "row 0 → 3");
        assert_eq!(g[4 + 2], 1.0, "row 1 → 2");
        assert_eq!(g[2 * 4 + 1], 1.0, "row 2 → 1 (shares column 0)");
        assert_eq!(g[3 * 4], 1.0, "row 3 → 0");
    }
}
