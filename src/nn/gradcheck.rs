//! Finite-difference checks for hand-derived gradients, in f64.
//!
//! `check_layer_gradients` drives a layer with a random input, takes the
//! scalar L = Σ r ⊙ layer(x) for a random r (so dL/dy = r), and compares the
//! layer's backward (dL/dx and every parameter gradient) against central
//! differences (L(θ+ε) − L(θ−ε)) / 2ε. Used by the tests of every layer and
//! of the fine-tuning loss; public so integration tests can use it too.

use crate::nn::param::HasParams;
use crate::rng::Rng;

pub fn random_fill(v: &mut [f64], rng: &mut Rng) {
    for x in v.iter_mut() {
        *x = rng.normal() * 0.5;
    }
}

/// Relative error with an absolute floor, the usual gradient-check metric.
pub fn rel_err(a: f64, b: f64) -> f64 {
    (a - b).abs() / (a.abs() + b.abs()).max(1e-6)
}

/// Assert that `analytic` is the gradient of `f` at `x` (all coordinates
/// when `x` is small, an evenly spread subset of `max_coords` otherwise).
pub fn check_gradient(mut f: impl FnMut(&[f64]) -> f64, x: &[f64], analytic: &[f64], eps: f64, tol: f64, what: &str) {
    assert_eq!(x.len(), analytic.len(), "{what}: gradient length");
    let max_coords = 400;
    let step = x.len().div_ceil(max_coords).max(1);
    let mut xp = x.to_vec();
    for i in (0..x.len()).step_by(step) {
        let orig = xp[i];
        xp[i] = orig + eps;
        let lp = f(&xp);
        xp[i] = orig - eps;
        let lm = f(&xp);
        xp[i] = orig;
        let num = (lp - lm) / (2.0 * eps);
        let err = rel_err(num, analytic[i]);
        assert!(err < tol, "{what}: coordinate {i}: numeric {num:e} vs analytic {:e} (rel err {err:e})", analytic[i]);
    }
}

/// Check a layer's input and parameter gradients (see the module doc).
pub fn check_layer_gradients<L: HasParams<f64>>(
    layer: &mut L,
    input_len: usize,
    n: usize,
    mut forward: impl FnMut(&mut L, &[f64], usize) -> Vec<f64>,
    mut backward: impl FnMut(&mut L, &[f64]) -> Vec<f64>,
    what: &str,
) {
    let mut rng = Rng::stream(42, what);
    for p in layer.params_mut() {
        random_fill(&mut p.value, &mut rng);
    }
    let mut x = vec![0.0; input_len];
    random_fill(&mut x, &mut rng);
    let y = forward(layer, &x, n);
    let mut r = vec![0.0; y.len()];
    random_fill(&mut r, &mut rng);
    layer.zero_grad();
    let dx = backward(layer, &r);
    let dot = |y: &[f64]| y.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>();
    let eps = 1e-6;
    let tol = 1e-5;

    // Input gradient.
    {
        let mut f = |xs: &[f64]| dot(&forward(layer, xs, n));
        check_gradient(&mut f, &x, &dx, eps, tol, &format!("{what}: d/dx"));
    }
    // Parameter gradients: perturb each parameter tensor in turn.
    let grads: Vec<Vec<f64>> = layer.params().iter().map(|p| p.grad.clone()).collect();
    for (pi, g) in grads.iter().enumerate() {
        let theta = layer.params()[pi].value.clone();
        let name = layer.params()[pi].name.clone();
        let mut f = |th: &[f64]| {
            layer.params_mut()[pi].value.copy_from_slice(th);
            dot(&forward(layer, &x, n))
        };
        check_gradient(&mut f, &theta, g, eps, tol, &format!("{what}: d/d{name}"));
        layer.params_mut()[pi].value.copy_from_slice(&theta);
    }
}
