//! k-means with k-means++ seeding and restarts (Lloyd iterations).
//! Deterministic: seeding draws from the `kmeans` stream of the seed (one
//! sub-stream per restart), assignments are computed in parallel per point,
//! centroids are summed sequentially in index order, ties go to the lower
//! cluster index, and the best restart (lowest inertia, first on ties) wins.

use crate::error::{Result, UdllError};
use crate::rng::Rng;
use rayon::prelude::*;

#[derive(Clone, Debug)]
pub struct KMeans {
    pub labels: Vec<usize>,
    pub centroids: Vec<f64>,
    pub inertia: f64,
}

fn sq(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn nearest(p: &[f64], centroids: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, cen) in centroids.chunks_exact(d).enumerate() {
        let v = sq(p, cen);
        if v < best.1 {
            best = (c, v);
        }
    }
    best
}

fn plus_plus(x: &[f64], n: usize, d: usize, k: usize, rng: &mut Rng) -> Vec<f64> {
    let mut centroids = Vec::with_capacity(k * d);
    let first = rng.below(n);
    centroids.extend_from_slice(&x[first * d..(first + 1) * d]);
    let mut dist: Vec<f64> = x.par_chunks(d).map(|p| sq(p, &centroids[..d])).collect();
    for _ in 1..k {
        let total: f64 = dist.iter().sum();
        let pick = if total > 0.0 {
            let mut t = rng.uniform() * total;
            let mut idx = n - 1;
            for (i, &w) in dist.iter().enumerate() {
                if t < w {
                    idx = i;
                    break;
                }
                t -= w;
            }
            idx
        } else {
            rng.below(n)
        };
        let c = &x[pick * d..(pick + 1) * d];
        centroids.extend_from_slice(c);
        dist.par_iter_mut().zip(x.par_chunks(d)).for_each(|(dv, p)| *dv = dv.min(sq(p, c)));
    }
    centroids
}

/// Cluster the n rows of x (n × d) into k groups.
pub fn kmeans(x: &[f64], n: usize, d: usize, k: usize, restarts: usize, max_iter: usize, seed: u64) -> Result<KMeans> {
    if x.len() != n * d || d == 0 {
        return Err(UdllError::shape(format!("k-means: {} values for {n} points of dimension {d}", x.len())));
    }
    if k == 0 || k > n {
        return Err(UdllError::config(format!("k-means: cannot make {k} clusters of {n} points")));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("k-means: features contain NaN or infinite values".into()));
    }
    let root = Rng::stream(seed, "kmeans");
    let mut best: Option<KMeans> = None;
    for r in 0..restarts.max(1) {
        let mut rng = root.substream("restart", r as u64);
        let mut centroids = plus_plus(x, n, d, k, &mut rng);
        let mut labels = vec![usize::MAX; n];
        let mut inertia = f64::INFINITY;
        for _ in 0..max_iter.max(1) {
            let assign: Vec<(usize, f64)> = x.par_chunks(d).map(|p| nearest(p, &centroids, d)).collect();
            let new_labels: Vec<usize> = assign.iter().map(|a| a.0).collect();
            inertia = assign.iter().map(|a| a.1).sum();
            let changed = new_labels != labels;
            labels = new_labels;
            if !changed {
                break;
            }
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0usize; k];
            for (i, &l) in labels.iter().enumerate() {
                counts[l] += 1;
                for (s, v) in sums[l * d..(l + 1) * d].iter_mut().zip(&x[i * d..(i + 1) * d]) {
                    *s += v;
                }
            }
            for c in 0..k {
                if counts[c] > 0 {
                    for t in 0..d {
                        centroids[c * d + t] = sums[c * d + t] / counts[c] as f64;
                    }
                } else {
                    // An empty cluster takes the point farthest from its centroid.
                    let far = assign.iter().enumerate().max_by(|a, b| a.1.1.total_cmp(&b.1.1).then(b.0.cmp(&a.0))).map_or(0, |(i, _)| i);
                    centroids[c * d..(c + 1) * d].copy_from_slice(&x[far * d..(far + 1) * d]);
                }
            }
        }
        if best.as_ref().is_none_or(|b| inertia < b.inertia) {
            best = Some(KMeans { labels, centroids, inertia });
        }
    }
    Ok(best.expect("at least one restart"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_well_separated_blobs() {
        let mut rng = Rng::stream(0, "blobs");
        let (n_per, d) = (40, 3);
        let centers = [[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 5.0]];
        let mut x = Vec::new();
        for c in &centers {
            for _ in 0..n_per {
                for v in &c[..d] {
                    x.push(v + rng.normal());
                }
            }
        }
        let km = kmeans(&x, 3 * n_per, d, 3, 5, 100, 1).unwrap();
        for b in 0..3 {
            let l = km.labels[b * n_per];
            assert!(km.labels[b * n_per..(b + 1) * n_per].iter().all(|&v| v == l));
        }
        let again = kmeans(&x, 3 * n_per, d, 3, 5, 100, 1).unwrap();
        assert_eq!(km.labels, again.labels);
        assert_eq!(km.inertia.to_bits(), again.inertia.to_bits());
    }
}
