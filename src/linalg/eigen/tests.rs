use super::lanczos::norm;
use super::*;
use crate::linalg::gemm::{Trans, dgemm};
use crate::rng::Rng;

/// A random symmetric matrix with a chosen spectrum: Q diag(λ) Qᵀ.
fn with_spectrum(lams: &[f64], seed: u64) -> Vec<f64> {
    let n = lams.len();
    let mut rng = Rng::stream(seed, "eigen-test");
    let g = DMatrix::from_fn(n, n, |_, _| rng.normal());
    let q = g.qr().q();
    let d = DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(lams));
    let m = &q * d * q.transpose();
    (0..n * n).map(|i| m[(i / n, i % n)]).collect()
}

fn check_against_full(a: &[f64], n: usize, k: usize, which: Which) {
    let opts = EigenOptions { full_below: 0, tol: 1e-10, ..Default::default() };
    let it = symmetric_top_eigen(a, n, k, which, &opts).unwrap();
    assert!(it.converged, "did not converge in {} iterations", it.iterations);
    assert!(it.iterations > 0, "Lanczos gave up and the full decomposition answered");
    let mut full = full_decomposition(a, n, k, which).unwrap();
    fix_signs(&mut full);
    for c in 0..k {
        assert!((it.values[c] - full.values[c]).abs() < 1e-8, "λ{c}: {} vs {}", it.values[c], full.values[c]);
        let dot: f64 = (0..n).map(|r| it.vectors[r * k + c] * full.vectors[r * k + c]).sum();
        assert!((dot.abs() - 1.0).abs() < 1e-6, "vector {c}: |cos| = {}", dot.abs());
    }
}

#[test]
fn lanczos_matches_full_decomposition_by_magnitude() {
    let n = 400;
    let lams: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 10.0 / (1.0 + i as f64) } else { -9.0 / (1.0 + i as f64) }).collect();
    let a = with_spectrum(&lams, 1);
    check_against_full(&a, n, 12, Which::Magnitude);
}

#[test]
fn lanczos_matches_full_decomposition_largest() {
    let n = 400;
    // A normalised-affinity-like spectrum in [-1, 1] with a cluster near 1.
    let lams: Vec<f64> = (0..n).map(|i| if i < 5 { 1.0 - 0.01 * i as f64 } else { 0.8 - 1.7 * i as f64 / n as f64 }).collect();
    let a = with_spectrum(&lams, 2);
    check_against_full(&a, n, 5, Which::Largest);
}

#[test]
fn falls_back_to_the_full_decomposition_on_a_hard_spectrum() {
    // 40 eigenvalues packed within 1e-9 of each other: Lanczos cannot
    // resolve them in n/2 steps, so the full decomposition answers.
    let n = 300;
    let lams: Vec<f64> = (0..n).map(|i| if i < 40 { 1.0 - 1e-9 * i as f64 } else { 0.5 * (1.0 - i as f64 / n as f64) }).collect();
    let a = with_spectrum(&lams, 3);
    let opts = EigenOptions { full_below: 0, tol: 1e-12, ..Default::default() };
    let got = symmetric_top_eigen(&a, n, 5, Which::Largest, &opts).unwrap();
    assert!(got.converged);
    assert_eq!(got.iterations, 0, "expected the full decomposition to answer");
    for c in 0..5 {
        assert!((got.values[c] - lams[c]).abs() < 1e-8);
    }
}

#[test]
fn shift_invert_matches_full_decomposition_near_the_shift() {
    // The hard case of spectral clustering: 20 eigenvalues within 1e-3
    // of 1, then slow modes from 0.995 down. Plain Lanczos does not
    // resolve this in n/2 steps; shift-invert must, to the full answer.
    let n = 400;
    let k = 20;
    let lams: Vec<f64> = (0..n).map(|i| if i < k { 1.0 - 5e-5 * i as f64 } else { 0.995 - 1.9 * (i - k) as f64 / n as f64 }).collect();
    let a = with_spectrum(&lams, 4);
    let plain = symmetric_top_eigen(&a, n, k, Which::Largest, &EigenOptions { full_below: 0, tol: 1e-10, ..Default::default() }).unwrap();
    assert_eq!(plain.iterations, 0, "plain Lanczos was expected to give up on this spectrum");
    let opts = EigenOptions { full_below: 0, tol: 1e-10, ..Default::default() };
    let got = symmetric_eigen_below_shift(&a, n, k, 1.0 + 1e-3, &opts).unwrap();
    assert!(got.iterations > 0 && got.iterations < 30, "shift-invert took {} block steps", got.iterations);
    let mut full = full_decomposition(&a, n, k, Which::Largest).unwrap();
    fix_signs(&mut full);
    for c in 0..k {
        assert!((got.values[c] - lams[c]).abs() < 1e-10, "λ{c}: {} vs {}", got.values[c], lams[c]);
        let dot: f64 = (0..n).map(|r| got.vectors[r * k + c] * full.vectors[r * k + c]).sum();
        assert!((dot.abs() - 1.0).abs() < 1e-6, "vector {c}: |cos| = {}", dot.abs());
    }
}

/// D^{-1/2} W D^{-1/2} of an affinity made of `parts` disconnected
/// random blocks: the eigenvalue 1 repeats exactly `parts` times.
fn disconnected_normalised_affinity(parts: usize, size: usize) -> Vec<f64> {
    let n = parts * size;
    let mut rng = Rng::stream(6, "eigen-test");
    let mut w = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..i {
            if i / size == j / size {
                let v = rng.uniform().powi(8);
                w[i * n + j] = v;
                w[j * n + i] = v;
            }
        }
    }
    let d: Vec<f64> = (0..n).map(|i| w[i * n..(i + 1) * n].iter().sum::<f64>().sqrt()).collect();
    (0..n * n).map(|e| w[e] / (d[e / n] * d[e % n])).collect()
}

/// ‖Aᵀ B‖_F² for the k orthonormal vectors of each: k exactly when they
/// span the same subspace, less otherwise.
fn subspace_overlap(a: &EigenPairs, b: &EigenPairs) -> f64 {
    let (n, k) = (a.n, a.k);
    let mut ab = vec![0.0; k * k];
    dgemm(k, n, k, 1.0, &a.vectors, Trans::Yes, &b.vectors, Trans::No, 0.0, &mut ab);
    ab.iter().map(|v| v * v).sum()
}

#[test]
fn every_copy_of_a_repeated_eigenvalue_is_found() {
    let (parts, n) = (6, 360);
    let a = disconnected_normalised_affinity(parts, n / parts);
    let k = 8;
    let mut full = full_decomposition(&a, n, k, Which::Largest).unwrap();
    fix_signs(&mut full);
    assert!((full.values[parts - 1] - 1.0).abs() < 1e-12 && full.values[parts] < 0.999, "{:?}", full.values);
    let opts = EigenOptions { full_below: 0, tol: 1e-8, ..Default::default() };
    let plain = symmetric_top_eigen(&a, n, k, Which::Largest, &opts).unwrap();
    let shifted = symmetric_eigen_below_shift(&a, n, k, 1.0 + 1e-3, &opts).unwrap();
    for got in [&plain, &shifted] {
        assert!(got.iterations > 0, "the full decomposition answered");
        for c in 0..k {
            assert!((got.values[c] - full.values[c]).abs() < 1e-8, "λ{c}: {:?} vs {:?}", got.values, full.values);
        }
        let overlap = subspace_overlap(&full, got);
        assert!((overlap - k as f64).abs() < 1e-6, "subspace overlap {overlap} of {k}");
    }
}

/// The blocked Cholesky path of shift-invert (forced at this small n)
/// gives the pairs of the full decomposition, as nalgebra's factor does.
#[test]
fn shift_invert_with_the_blocked_factor_matches_full_decomposition() {
    let parts = 6;
    let a = disconnected_normalised_affinity(parts, 50);
    let n = parts * 50;
    let k = 8;
    let opts = EigenOptions { full_below: 0, tol: 1e-8, blocked_cholesky_above: 0, ..Default::default() };
    let got = symmetric_eigen_below_shift(&a, n, k, 1.0 + 1e-3, &opts).unwrap();
    let want = full_decomposition(&a, n, k, Which::Largest).unwrap();
    for (g, w) in got.values.iter().zip(&want.values) {
        assert!((g - w).abs() < 1e-8, "{g} vs {w}");
    }
    let f2 = subspace_overlap(&want, &got);
    assert!((f2 - k as f64).abs() < 1e-8, "subspace overlap {f2} of {k}");
}

#[test]
fn shift_invert_refuses_a_shift_inside_the_spectrum() {
    let n = 300;
    let lams: Vec<f64> = (0..n).map(|i| 1.0 - i as f64 / n as f64).collect();
    let a = with_spectrum(&lams, 5);
    let opts = EigenOptions { full_below: 0, ..Default::default() };
    assert!(symmetric_eigen_below_shift(&a, n, 3, 0.5, &opts).is_err());
    assert!(symmetric_eigen_below_shift(&a, n, 3, 1.01, &opts).is_ok());
}

/// The dense decomposition against the spectrum the matrix was built
/// with (a repeated eigenvalue and both signs among the wanted ones),
/// against nalgebra's independent solver, and by its residuals.
#[test]
fn dense_decomposition_recovers_a_known_spectrum() {
    let n = 300;
    let lams: Vec<f64> = (0..n)
        .map(|i| match i {
            0 | 1 => 2.0,
            2 => -1.9,
            _ => 1.5 * (1.0 - i as f64 / n as f64) * if i % 2 == 0 { 1.0 } else { -1.0 },
        })
        .collect();
    let a = with_spectrum(&lams, 7);
    let k = 20;
    let got = full_decomposition(&a, n, k, Which::Magnitude).unwrap();
    let mut want: Vec<f64> = lams.clone();
    want.sort_by(|x, y| y.abs().total_cmp(&x.abs()));
    let mut other: Vec<f64> = DMatrix::from_row_slice(n, n, &a).symmetric_eigen().eigenvalues.iter().copied().collect();
    other.sort_by(|x, y| y.abs().total_cmp(&x.abs()));
    for c in 0..k {
        assert!((got.values[c] - want[c]).abs() < 1e-10, "λ{c}: {} vs {}", got.values[c], want[c]);
        assert!((got.values[c] - other[c]).abs() < 1e-10, "λ{c}: {} vs nalgebra's {}", got.values[c], other[c]);
        let v: Vec<f64> = (0..n).map(|r| got.vectors[r * k + c]).collect();
        let mut av = vec![0.0; n];
        matvec(&a, n, &v, &mut av);
        let residual = av.iter().zip(&v).map(|(x, y)| (x - got.values[c] * y).powi(2)).sum::<f64>().sqrt();
        assert!(residual < 1e-10 && (norm(&v) - 1.0).abs() < 1e-12, "pair {c}: residual {residual}, norm {}", norm(&v));
    }
    assert!((subspace_overlap(&got, &got) - k as f64).abs() < 1e-10, "the vectors are not orthonormal");
}

/// Many pairs of a large matrix: Lanczos is not tried (k > n/8).
#[test]
fn a_large_share_of_the_spectrum_goes_to_the_dense_solver() {
    let n = 320;
    let lams: Vec<f64> = (0..n).map(|i| 1.0 / (1.0 + i as f64)).collect();
    let a = with_spectrum(&lams, 8);
    let opts = EigenOptions { full_below: 0, ..Default::default() };
    assert_eq!(symmetric_top_eigen(&a, n, n / 8 + 1, Which::Magnitude, &opts).unwrap().iterations, 0);
    assert!(symmetric_top_eigen(&a, n, n / 8, Which::Magnitude, &opts).unwrap().iterations > 0);
}

#[test]
fn rejects_bad_requests() {
    let a = vec![1.0; 9];
    assert!(symmetric_top_eigen(&a, 3, 4, Which::Largest, &EigenOptions::default()).is_err());
    assert!(symmetric_top_eigen(&a, 4, 1, Which::Largest, &EigenOptions::default()).is_err());
    let mut b = vec![0.0; 4];
    b[1] = f64::NAN;
    assert!(symmetric_top_eigen(&b, 2, 1, Which::Largest, &EigenOptions::default()).is_err());
}
