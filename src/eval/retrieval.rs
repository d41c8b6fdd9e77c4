//! Nearest-neighbour retrieval quality: mean average precision over the top
//! k (mAP@k). Every sample queries all the others by Euclidean distance
//! (ties by index, as `k_nearest`); an item is relevant when it shares the
//! query's label. AP@k = (1/R_k) Σ_{j≤k} P@j · rel_j, with R_k the relevant
//! items among the top k (AP = 0 when there are none) — the usual form in
//! the retrieval and hashing literature.

use crate::error::{Result, UdllError};
use crate::graph::knn::k_nearest;

/// mAP@k for each k in `ks` (k larger than n − 1 is cut to n − 1).
pub fn mean_average_precision(features: &[f32], n: usize, d: usize, labels: &[usize], ks: &[usize]) -> Result<Vec<f64>> {
    if labels.len() != n {
        return Err(UdllError::shape(format!("mAP: {} labels for {n} samples", labels.len())));
    }
    if n < 2 {
        return Err(UdllError::config("mAP needs at least two samples"));
    }
    let kmax = ks.iter().copied().max().unwrap_or(1).clamp(1, n - 1);
    let nb = k_nearest(features, n, d, kmax)?;
    Ok(ks
        .iter()
        .map(|&k| {
            let k = k.clamp(1, n - 1);
            let total: f64 = nb.iter().enumerate().map(|(q, list)| average_precision(list.iter().take(k).map(|&(j, _)| labels[j] == labels[q]))).sum();
            total / n as f64
        })
        .collect())
}

/// AP of one ranked relevance list.
pub fn average_precision(relevant: impl Iterator<Item = bool>) -> f64 {
    let (mut hits, mut sum) = (0usize, 0.0);
    for (j, rel) in relevant.enumerate() {
        if rel {
            hits += 1;
            sum += hits as f64 / (j + 1) as f64;
        }
    }
    if hits == 0 { 0.0 } else { sum / hits as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_precision_by_hand() {
        // Relevant at ranks 1 and 3: (1/1 + 2/3) / 2.
        assert!((average_precision([true, false, true].into_iter()) - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(average_precision([false, false].into_iter()), 0.0);
        assert_eq!(average_precision([true, true].into_iter()), 1.0);
    }

    #[test]
    fn separated_classes_give_perfect_map_and_mixed_ones_do_not() {
        // Two tight clusters on a line.
        let f = [0.0f32, 0.1, 0.2, 10.0, 10.1, 10.2];
        let m = mean_average_precision(&f, 6, 1, &[0, 0, 0, 1, 1, 1], &[2, 5]).unwrap();
        assert_eq!(m[0], 1.0);
        // At k = 5 the two relevant items still rank first: AP = 1.
        assert_eq!(m[1], 1.0);
        let m = mean_average_precision(&f, 6, 1, &[0, 1, 0, 1, 0, 1], &[2]).unwrap();
        assert!(m[0] < 0.6, "{m:?}");
    }
}
