//! Linear probe: multinomial logistic regression on frozen features, trained
//! on a seeded per-class split, scored by test accuracy. Features are
//! standardised with the training split's mean and deviation; the loss is
//! the mean cross-entropy + (λ/2)‖W‖², minimised full batch with Adam.
//! Deterministic: the split comes from the seed, the training is sequential.

use crate::error::{Result, UdllError};
use crate::nn::{Adam, Param};
use crate::rng::Rng;

#[derive(Clone, Debug)]
/// Settings of the linear probe.
pub struct ProbeConfig {
    /// Fraction of each class used for training (at least one sample).
    pub train_fraction: f64,
    /// Full-batch gradient steps.
    pub epochs: usize,
    /// Learning rate.
    pub lr: f64,
    /// L2 penalty on the weights.
    pub l2: f64,
    /// The seed of the split and the initial weights.
    pub seed: u64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig { train_fraction: 0.5, epochs: 300, lr: 0.01, l2: 1e-3, seed: 0 }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
/// The probe's accuracies on its two halves.
pub struct ProbeResult {
    /// Training samples.
    pub train_size: usize,
    /// Test samples.
    pub test_size: usize,
    /// Accuracy on the training samples.
    pub train_accuracy: f64,
    /// Accuracy on the test samples.
    pub test_accuracy: f64,
}

/// Per class, a seeded shuffle; the first ⌈fraction·count⌉ (≥ 1, and < count
/// when the class has two or more samples) go to training.
pub fn stratified_split(labels: &[usize], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for c in 0..k {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        if idx.is_empty() {
            continue;
        }
        Rng::stream(seed, "probe-split").substream("class", c as u64).shuffle(&mut idx);
        let mut m = ((fraction * idx.len() as f64).ceil() as usize).max(1);
        if idx.len() >= 2 {
            m = m.min(idx.len() - 1);
        }
        train.extend_from_slice(&idx[..m]);
        test.extend_from_slice(&idx[m..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Mean cross-entropy + (λ/2)‖W‖² of softmax(XW + b) on (x, y), with its
/// gradient accumulated into w.grad and b.grad. x is n × d, W is d × k.
pub fn loss_and_grad(w: &mut Param<f64>, b: &mut Param<f64>, x: &[f64], y: &[usize], d: usize, k: usize, l2: f64) -> f64 {
    let n = y.len();
    let mut loss = 0.0;
    w.zero_grad();
    b.zero_grad();
    let mut p = vec![0.0; k];
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        for (c, pc) in p.iter_mut().enumerate() {
            *pc = b.value[c] + xi.iter().enumerate().map(|(j, v)| v * w.value[j * k + c]).sum::<f64>();
        }
        let mx = p.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = p.iter().map(|v| (v - mx).exp()).sum();
        loss += mx + z.ln() - p[y[i]];
        for (c, pc) in p.iter_mut().enumerate() {
            // dL/dlogit = softmax − one-hot, averaged over n.
            let g = ((*pc - mx).exp() / z - if c == y[i] { 1.0 } else { 0.0 }) / n as f64;
            b.grad[c] += g;
            for (j, v) in xi.iter().enumerate() {
                w.grad[j * k + c] += g * v;
            }
        }
    }
    let mut reg = 0.0;
    for (g, v) in w.grad.iter_mut().zip(&w.value) {
        *g += l2 * v;
        reg += v * v;
    }
    loss / n as f64 + 0.5 * l2 * reg
}

fn predict(w: &Param<f64>, b: &Param<f64>, x: &[f64], d: usize, k: usize) -> Vec<usize> {
    x.chunks(d)
        .map(|xi| {
            (0..k)
                .map(|c| b.value[c] + xi.iter().enumerate().map(|(j, v)| v * w.value[j * k + c]).sum::<f64>())
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (c, s)| if s > best.1 { (c, s) } else { best })
                .0
        })
        .collect()
}

/// Train on a split of (features, labels) and report test accuracy.
pub fn linear_probe(features: &[f32], n: usize, d: usize, labels: &[usize], cfg: &ProbeConfig) -> Result<ProbeResult> {
    if labels.len() != n || features.len() != n * d {
        return Err(UdllError::shape(format!("probe: {} labels, {} values for {n} × {d} features", labels.len(), features.len())));
    }
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let (train, test) = stratified_split(labels, cfg.train_fraction, cfg.seed);
    if test.is_empty() || k < 2 {
        return Err(UdllError::config("probe: needs at least two classes and a class with two or more samples"));
    }
    let gather = |idx: &[usize]| -> Vec<f64> { idx.iter().flat_map(|&i| features[i * d..(i + 1) * d].iter().map(|&v| v as f64)).collect() };
    let (mut xtr, mut xte) = (gather(&train), gather(&test));
    for j in 0..d {
        let col = || xtr.iter().skip(j).step_by(d);
        let mean = col().sum::<f64>() / train.len() as f64;
        let sd = (col().map(|v| (v - mean) * (v - mean)).sum::<f64>() / train.len() as f64).sqrt();
        let s = if sd > 1e-12 { 1.0 / sd } else { 0.0 };
        for x in [&mut xtr, &mut xte] {
            x.iter_mut().skip(j).step_by(d).for_each(|v| *v = (*v - mean) * s);
        }
    }
    let ytr: Vec<usize> = train.iter().map(|&i| labels[i]).collect();
    let yte: Vec<usize> = test.iter().map(|&i| labels[i]).collect();
    let mut w = Param::zeros("probe.w", &[d, k]);
    let mut b = Param::zeros("probe.b", &[k]);
    let mut opt = Adam::<f64>::new(cfg.lr);
    for _ in 0..cfg.epochs {
        loss_and_grad(&mut w, &mut b, &xtr, &ytr, d, k, cfg.l2);
        opt.update(&mut [&mut w, &mut b]);
    }
    let acc = |x: &[f64], y: &[usize]| predict(&w, &b, x, d, k).iter().zip(y).filter(|(p, t)| p == t).count() as f64 / y.len() as f64;
    Ok(ProbeResult { train_size: train.len(), test_size: test.len(), train_accuracy: acc(&xtr, &ytr), test_accuracy: acc(&xte, &yte) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gradcheck::check_gradient;

    #[test]
    fn gradient_matches_finite_differences() {
        let (n, d, k) = (7, 4, 3);
        let mut r = Rng::from_seed(9);
        let x: Vec<f64> = (0..n * d).map(|_| r.normal()).collect();
        let y = vec![0, 1, 2, 1, 0, 2, 2];
        let mut w = Param::zeros("w", &[d, k]);
        let mut b = Param::zeros("b", &[k]);
        w.value.iter_mut().for_each(|v| *v = 0.3 * r.normal());
        b.value.iter_mut().for_each(|v| *v = 0.3 * r.normal());
        loss_and_grad(&mut w, &mut b, &x, &y, d, k, 0.05);
        let (gw, gb) = (w.grad.clone(), b.grad.clone());
        let f = |wv: &[f64], bv: &[f64]| {
            let mut w2 = Param::zeros("w", &[d, k]);
            let mut b2 = Param::zeros("b", &[k]);
            w2.value = wv.to_vec();
            b2.value = bv.to_vec();
            loss_and_grad(&mut w2, &mut b2, &x, &y, d, k, 0.05)
        };
        let bv = b.value.clone();
        check_gradient(|wv| f(wv, &bv), &w.value, &gw, 1e-6, 1e-6, "probe W");
        let wv = w.value.clone();
        check_gradient(|bv| f(&wv, bv), &b.value, &gb, 1e-6, 1e-6, "probe b");
    }

    #[test]
    fn split_is_stratified_and_seeded() {
        let labels = [0, 0, 0, 0, 1, 1, 1, 1, 2];
        let (tr, te) = stratified_split(&labels, 0.5, 1);
        assert_eq!(tr.len() + te.len(), 9);
        assert_eq!(tr.iter().filter(|&&i| labels[i] == 0).count(), 2);
        assert!(tr.contains(&8), "a singleton class trains");
        assert_eq!(stratified_split(&labels, 0.5, 1), (tr.clone(), te));
        assert_ne!(stratified_split(&labels, 0.5, 2).0, tr);
    }

    #[test]
    fn separable_features_are_probed_well_and_noise_is_not() {
        let mut r = Rng::from_seed(4);
        let n = 120;
        let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
        let sep: Vec<f32> = (0..n)
            .flat_map(|i| {
                let c = labels[i] as f64;
                [c * 3.0 + 0.3 * r.normal(), r.normal()]
            })
            .map(|v| v as f32)
            .collect();
        let noise: Vec<f32> = (0..2 * n).map(|_| r.normal() as f32).collect();
        let cfg = ProbeConfig::default();
        assert!(linear_probe(&sep, n, 2, &labels, &cfg).unwrap().test_accuracy > 0.95);
        assert!(linear_probe(&noise, n, 2, &labels, &cfg).unwrap().test_accuracy < 0.6);
    }
}
