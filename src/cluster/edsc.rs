//! EDSC's closed-form self-expression (Ji et al., "Efficient dense subspace
//! clustering", 2014): the ridge problem min ‖C‖²_F + (1/λ)‖Z − CZ‖²_F over
//! n samples z_i (rows of Z, n × d) has the dense solution
//!
//!   C = (ZZᵀ + λI)⁻¹ ZZᵀ = Z (ZᵀZ + λI)⁻¹ Zᵀ,
//!
//! which UDLL's ablations apply to pretrained features (Table 4, PT+EDSC),
//! fine-tuned features (Fig. 4) and raw pixels. The second form is used when
//! d < n, so the system solved is min(n, d) × min(n, d). C is symmetric.
//!
//! λ is given relative to the data's scale: λ = λ_rel · tr(ZZᵀ)/n, the mean
//! squared norm of a sample, so one value suits pixels and latent codes.

use crate::error::{Result, UdllError};
use crate::linalg::{Trans, dgemm};
use nalgebra::DMatrix;

/// The n × n coefficients of the ridge self-expression of the rows of `z`.
pub fn ridge_self_expression(z: &[f32], n: usize, d: usize, lambda_rel: f64) -> Result<Vec<f32>> {
    if z.len() != n * d || n == 0 || d == 0 {
        return Err(UdllError::shape(format!("EDSC: {} feature values for {n} samples of dimension {d}", z.len())));
    }
    if !(lambda_rel > 0.0 && lambda_rel.is_finite()) {
        return Err(UdllError::config(format!("EDSC: λ must be positive, got {lambda_rel}")));
    }
    let z64: Vec<f64> = z.iter().map(|&v| v as f64).collect();
    let mean_sq = z64.iter().map(|v| v * v).sum::<f64>() / n as f64;
    if mean_sq == 0.0 {
        return Err(UdllError::Numeric("EDSC: every feature is zero".into()));
    }
    let lambda = lambda_rel * mean_sq;
    let m = n.min(d);
    // Gram matrix of the smaller side, plus λI.
    let mut gram = vec![0.0; m * m];
    if d < n {
        dgemm(d, n, d, 1.0, &z64, Trans::Yes, &z64, Trans::No, 0.0, &mut gram);
    } else {
        dgemm(n, d, n, 1.0, &z64, Trans::No, &z64, Trans::Yes, 0.0, &mut gram);
    }
    let plain_gram = gram.clone();
    for i in 0..m {
        gram[i * m + i] += lambda;
    }
    let chol = DMatrix::from_row_slice(m, m, &gram).cholesky().ok_or_else(|| UdllError::Numeric("EDSC: ZZᵀ + λI is not positive definite".into()))?;
    let mut c = vec![0.0; n * n];
    if d < n {
        // X = (ZᵀZ + λI)⁻¹ Zᵀ (d × n), then C = Z·X.
        let zt = DMatrix::from_row_slice(n, d, &z64).transpose();
        let x = chol.solve(&zt);
        let x_rows: Vec<f64> = x.transpose().iter().copied().collect(); // column-major of xᵀ = row-major of x
        dgemm(n, d, n, 1.0, &z64, Trans::No, &x_rows, Trans::No, 0.0, &mut c);
    } else {
        // C = (ZZᵀ + λI)⁻¹ ZZᵀ; symmetric, so the storage order is moot.
        let g = DMatrix::from_row_slice(n, n, &plain_gram);
        let sol = chol.solve(&g);
        c.copy_from_slice(sol.as_slice());
    }
    // Symmetrise away rounding so thresholding sees one matrix.
    let mut out = vec![0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = (0.5 * (c[i * n + j] + c[j * n + i])) as f32;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// ‖Z − CZ‖ and λ‖C‖ balance: the solution satisfies the normal
    /// equations C(ZZᵀ + λI) = ZZᵀ; both branches (d < n, d ≥ n) agree.
    #[test]
    fn solves_the_normal_equations_in_both_shapes() {
        let mut r = Rng::from_seed(3);
        for (n, d) in [(12, 5), (6, 9)] {
            let z: Vec<f32> = (0..n * d).map(|_| r.normal() as f32).collect();
            let lam_rel = 0.3;
            let c = ridge_self_expression(&z, n, d, lam_rel).unwrap();
            let z64: Vec<f64> = z.iter().map(|&v| v as f64).collect();
            let lambda = lam_rel * z64.iter().map(|v| v * v).sum::<f64>() / n as f64;
            let mut g = vec![0.0; n * n];
            dgemm(n, d, n, 1.0, &z64, Trans::No, &z64, Trans::Yes, 0.0, &mut g);
            for i in 0..n {
                for j in 0..n {
                    let lhs: f64 = (0..n).map(|k| c[i * n + k] as f64 * (g[k * n + j] + if k == j { lambda } else { 0.0 })).sum();
                    assert!((lhs - g[i * n + j]).abs() < 1e-4 * (1.0 + g[i * n + j].abs()), "n={n} d={d} ({i},{j}): {lhs} vs {}", g[i * n + j]);
                }
            }
        }
    }

    #[test]
    fn separates_independent_subspaces() {
        // Two 1-D subspaces in R³: C has (near) zero blocks across them.
        let z: Vec<f32> = [[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [-1.5, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, -2.0, -2.0]].concat();
        let c = ridge_self_expression(&z, 5, 3, 0.01).unwrap();
        for i in 0..3 {
            for j in 3..5 {
                assert!(c[i * 5 + j].abs() < 1e-6 && c[j * 5 + i].abs() < 1e-6);
            }
        }
        assert!(c[1] > 0.1 && c[3 * 5 + 4] < -0.1);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(ridge_self_expression(&[1.0; 6], 2, 3, 0.0).is_err());
        assert!(ridge_self_expression(&[0.0; 6], 2, 3, 0.1).is_err());
        assert!(ridge_self_expression(&[1.0; 5], 2, 3, 0.1).is_err());
    }
}
