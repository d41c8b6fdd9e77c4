use super::ensc::elastic_net_gram;
use super::*;
use crate::linalg::eigen::EigenOptions;
use crate::progress::Silent;
use crate::rng::Rng;

/// `k` random subspaces of dimension `r` in R^`dim`, `per` unit samples
/// each (plus `noise`), sample i in subspace i / per.
pub(crate) fn union_of_subspaces(k: usize, r: usize, dim: usize, per: usize, noise: f64, seed: u64) -> Vec<f32> {
    let mut rng = Rng::stream(seed, "subspaces");
    let bases: Vec<Vec<f64>> = (0..k).map(|_| (0..r * dim).map(|_| rng.normal()).collect()).collect();
    let mut x = Vec::with_capacity(k * per * dim);
    for basis in &bases {
        for _ in 0..per {
            let w: Vec<f64> = (0..r).map(|_| rng.normal()).collect();
            let mut v: Vec<f64> = (0..dim).map(|c| (0..r).map(|a| w[a] * basis[a * dim + c]).sum::<f64>() + noise * rng.normal()).collect();
            let norm = v.iter().map(|e| e * e).sum::<f64>().sqrt();
            v.iter_mut().for_each(|e| *e /= norm);
            x.extend(v.into_iter().map(|e| e as f32));
        }
    }
    x
}

fn ensc_params(support: usize) -> EnscParams {
    EnscParams { gamma: 50.0, tau: 0.9, nonzeros: usize::MAX, support, max_rounds: 100 }
}

fn code(x: &[f32], n: usize, d: usize, solver: SparseSolver) -> Csr {
    let out = sparse_self_expression(x, n, d, &solver, &Silent).unwrap();
    assert_eq!(out.unfinished, 0);
    out.coef
}

/// x_i's γ_i and the elastic net's gradient terms γ_i·x_jᵀ(x_i − Xc) for
/// every j.
fn correlations(x: &[f32], n: usize, d: usize, i: usize, c: &[f64], p: &EnscParams) -> (f64, Vec<f64>) {
    let row = |j: usize| x[j * d..(j + 1) * d].iter().map(|&v| v as f64).collect::<Vec<f64>>();
    let xi = row(i);
    let max_coh = (0..n).filter(|&j| j != i).map(|j| row(j).iter().zip(&xi).map(|(a, b)| a * b).sum::<f64>().abs()).fold(0.0, f64::max);
    let gamma = p.gamma * p.tau / max_coh;
    let mut r = xi.clone();
    for j in 0..n {
        if c[j] != 0.0 {
            r.iter_mut().zip(row(j)).for_each(|(a, b)| *a -= c[j] * b);
        }
    }
    (gamma, (0..n).map(|j| gamma * row(j).iter().zip(&r).map(|(a, b)| a * b).sum::<f64>()).collect())
}

/// EnSC's codes satisfy the elastic net's optimality conditions, with
/// and without the oracle's working supports (support 5 < n − 1 makes it
/// grow them): for c_j ≠ 0, γ x_jᵀr − (1−τ)c_j = τ·sign(c_j); for
/// c_j = 0, |γ x_jᵀr| ≤ τ. And the diagonal is zero.
#[test]
fn ensc_meets_the_optimality_conditions_on_random_problems() {
    for (seed, n, d) in [(0, 60, 12), (1, 90, 30), (2, 39, 50)] {
        let x = union_of_subspaces(3, 4, d, n / 3, 0.05, seed);
        for support in [5, 1000] {
            let p = ensc_params(support);
            let coef = code(&x, n, d, SparseSolver::Ensc(p.clone()));
            let dense = coef.to_dense();
            let mut nonzeros = 0;
            for i in 0..n {
                assert_eq!(dense[i * n + i], 0.0, "diagonal at {i}");
                assert!(coef.row(i).0.iter().all(|&j| j != i), "row {i} stores its diagonal");
                let c = &dense[i * n..(i + 1) * n];
                let (_, grad) = correlations(&x, n, d, i, c, &p);
                for j in (0..n).filter(|&j| j != i) {
                    if c[j] != 0.0 {
                        nonzeros += 1;
                        let lhs = grad[j] - (1.0 - p.tau) * c[j];
                        assert!((lhs - p.tau * c[j].signum()).abs() < 1e-6, "seed {seed} support {support} ({i},{j}): {lhs} vs ±τ");
                    } else {
                        assert!(grad[j].abs() <= p.tau * (1.0 + 1e-6), "seed {seed} support {support} ({i},{j}): |{}| > τ", grad[j]);
                    }
                }
            }
            assert!(nonzeros > n, "the codes are not all (nearly) zero: {nonzeros} nonzeros");
        }
    }
}

/// Plain cyclic coordinate descent over all n − 1 coordinates, to a
/// change below 1e-15, with no active set, no Gram matrix and no final
/// solve.
fn plain_cd(x: &[f32], n: usize, d: usize, i: usize, p: &EnscParams) -> Vec<f64> {
    let row = |j: usize| x[j * d..(j + 1) * d].iter().map(|&v| v as f64).collect::<Vec<f64>>();
    let (gamma, _) = correlations(x, n, d, i, &vec![0.0; n], p);
    let mut c = vec![0.0; n];
    let mut r = row(i);
    for _ in 0..200_000 {
        let mut biggest = 0.0f64;
        for j in (0..n).filter(|&j| j != i) {
            let xj = row(j);
            let norm2: f64 = xj.iter().map(|v| v * v).sum();
            let z = gamma * (xj.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>() + norm2 * c[j]);
            let new = z.signum() * (z.abs() - p.tau).max(0.0) / (gamma * norm2 + 1.0 - p.tau);
            let change = new - c[j];
            if change != 0.0 {
                r.iter_mut().zip(&xj).for_each(|(a, b)| *a -= change * b);
                c[j] = new;
            }
            biggest = biggest.max(change.abs());
        }
        if biggest < 1e-15 {
            break;
        }
    }
    c
}

#[test]
fn ensc_equals_a_plain_coordinate_descent_solve() {
    let (n, d) = (45, 10);
    let x = union_of_subspaces(3, 3, d, n / 3, 0.1, 7);
    let p = ensc_params(4);
    let dense = code(&x, n, d, SparseSolver::Ensc(p.clone())).to_dense();
    for i in [0, 7, 16, 44] {
        let reference = plain_cd(&x, n, d, i, &p);
        for j in 0..n {
            assert!((dense[i * n + j] - reference[j]).abs() < 1e-7, "({i},{j}): active set {} vs plain CD {}", dense[i * n + j], reference[j]);
        }
    }
}

/// The Gram solver alone: its answer does not depend on the start.
#[test]
fn the_gram_solver_reaches_the_same_optimum_from_any_start() {
    let mut rng = Rng::from_seed(5);
    let (s, d) = (12, 8);
    let a: Vec<f64> = (0..s * d).map(|_| rng.normal()).collect();
    let mut g = vec![0.0; s * s];
    crate::linalg::dgemm(s, d, s, 1.0, &a, crate::linalg::Trans::No, &a, crate::linalg::Trans::Yes, 0.0, &mut g);
    let b: Vec<f64> = (0..s).map(|_| rng.normal()).collect();
    let mut c0 = vec![0.0; s];
    let mut c1: Vec<f64> = (0..s).map(|_| rng.normal()).collect();
    elastic_net_gram(&g, &b, 1.0, 0.9, &mut c0);
    elastic_net_gram(&g, &b, 1.0, 0.9, &mut c1);
    for (u, v) in c0.iter().zip(&c1) {
        assert!((u - v).abs() < 1e-10, "{u} vs {v}");
    }
    assert!(c0.contains(&0.0) && c0.iter().any(|&v| v != 0.0), "a sparse, nonzero solution: {c0:?}");
}

/// SSC-OMP: at most k nonzeros, a zero diagonal, residuals orthogonal to
/// the chosen samples (least squares), and on independent subspaces no
/// sample coded by another subspace's.
#[test]
fn omp_codes_are_least_squares_fits_within_each_subspace() {
    let (k, per, d) = (4, 25, 40);
    let n = k * per;
    let x = union_of_subspaces(k, 3, d, per, 0.0, 3);
    let coef = code(&x, n, d, SparseSolver::Omp(OmpParams { nonzeros: 5, tol: 1e-6 }));
    let row = |j: usize| x[j * d..(j + 1) * d].iter().map(|&v| v as f64).collect::<Vec<f64>>();
    for i in 0..n {
        let (cols, vals) = coef.row(i);
        assert!(!cols.is_empty() && cols.len() <= 5 && !cols.contains(&i));
        assert!(cols.iter().all(|&j| j / per == i / per), "row {i} uses {cols:?}");
        let mut r = row(i);
        for (&j, &v) in cols.iter().zip(vals) {
            r.iter_mut().zip(row(j)).for_each(|(a, b)| *a -= v * b);
        }
        for &j in cols {
            let dot: f64 = row(j).iter().zip(&r).map(|(a, b)| a * b).sum();
            assert!(dot.abs() < 1e-9, "row {i}: residual·x_{j} = {dot}");
        }
    }
}

/// EnSC and SSC-OMP, their affinities and the sparse spectral step
/// recover independent subspaces.
#[test]
fn both_solvers_cluster_a_union_of_subspaces() {
    let (k, per, d) = (5, 40, 30);
    let n = k * per;
    let x = union_of_subspaces(k, 4, d, per, 0.02, 11);
    let truth: Vec<usize> = (0..n).map(|i| i / per).collect();
    for solver in [SparseSolver::Ensc(EnscParams::default()), SparseSolver::Omp(OmpParams::default())] {
        let config = SparseConfig::recipe(solver.clone());
        let coef = code(&x, n, d, solver);
        let out = cluster_sparse(&coef, k, &config, 0).unwrap();
        let acc = crate::metrics::scores(&out.labels, &truth).unwrap().acc;
        assert!(acc > 0.99, "{}: ACC {acc}", config.name());
    }
}

/// On a small connected graph the sparse path (Lanczos on the CSR
/// operator) gives the dense path's eigenvalues, embedding and labels.
#[test]
fn sparse_spectral_equals_the_dense_path() {
    let (per, k) = (40, 4);
    let n = per * k;
    let dense = crate::cluster::spectral::noisy_blocks(per, k, 0.05, 2);
    let rows: Vec<Vec<(usize, f64)>> = (0..n).map(|i| (0..n).filter(|&j| j != i).map(|j| (j, dense[i * n + j])).collect()).collect();
    let w = Csr::from_rows(n, rows);
    let (emb_d, vals_d) = crate::cluster::spectral::spectral_decomposition(&dense, n, k, k + 1, 0).unwrap();
    let opts = EigenOptions { full_below: 0, tol: 1e-10, seed: 0, ..Default::default() };
    let sparse = spectral::sparse_spectral_embedding(&w, k, k + 1, &opts).unwrap();
    assert!(sparse.iterations > 0 && sparse.converged);
    for (a, b) in vals_d.iter().zip(&sparse.values) {
        assert!((a - b).abs() < 1e-9, "eigenvalue {a} vs {b}");
    }
    for (a, b) in emb_d.iter().zip(&sparse.vectors) {
        assert!((a - b).abs() < 1e-6, "embedding {a} vs {b}");
    }
    let labels_d = crate::cluster::spectral::assign_labels(emb_d, n, k, crate::cluster::LabelAssign::Kmeans, 0).unwrap();
    let labels_s = crate::cluster::spectral::kmeans_on_unit_rows(sparse.vectors, n, k, 10, 0).unwrap();
    assert_eq!(crate::metrics::scores(&labels_s, &labels_d).unwrap().acc, 1.0);
}

#[test]
fn bad_settings_and_inputs_are_refused() {
    let mut c = SparseConfig::recipe(SparseSolver::Ensc(EnscParams { gamma: 0.5, ..Default::default() }));
    assert!(c.validate().is_err());
    c.solver = SparseSolver::Ensc(EnscParams::default());
    assert!(c.validate().is_ok());
    c.affinity = SparseAffinity::Knn { k: 0 };
    assert!(c.validate().is_err());
    assert!(sparse_self_expression(&[1.0, f32::NAN, 0.0, 1.0], 2, 2, &c.solver, &Silent).is_err());
    assert!(sparse_self_expression(&[1.0; 3], 2, 2, &c.solver, &Silent).is_err());
    let zero = Csr::from_rows(3, vec![vec![], vec![], vec![]]);
    assert!(cluster_sparse(&zero, 2, &c, 0).is_err());
}

/// The feature-sign search and coordinate descent, on random Gram
/// problems of several sparsity levels, reach the same optimum.
#[test]
fn feature_sign_search_equals_coordinate_descent() {
    let mut rng = Rng::from_seed(5);
    for trial in 0..30 {
        let (s, d) = (16, 6 + trial % 12);
        let a: Vec<f64> = (0..s * d).map(|_| rng.normal()).collect();
        let mut g = vec![0.0; s * s];
        crate::linalg::dgemm(s, d, s, 1.0, &a, crate::linalg::Trans::No, &a, crate::linalg::Trans::Yes, 0.0, &mut g);
        let b: Vec<f64> = (0..s).map(|_| rng.normal()).collect();
        let (gamma, tau) = (0.3 + 0.5 * trial as f64, 0.5 + 0.015 * trial as f64);
        let mut fs = vec![0.0; s];
        assert!(super::ensc::feature_sign(&g, &b, gamma, tau, &mut fs), "trial {trial}");
        let mut cd = vec![0.0; s];
        super::ensc::coordinate_descent(&g, &b, gamma, tau, &mut cd);
        for (u, v) in fs.iter().zip(&cd) {
            assert!((u - v).abs() < 1e-8 * (1.0 + v.abs()), "trial {trial}: {fs:?}\n vs {cd:?}");
        }
    }
}
