//! Scores of a clustering computed from its affinity alone, so that runs
//! and settings can be chosen without labels:
//!
//! - the **relative eigengap** at K of the normalised Laplacian
//!   L = I − D^{-1/2} W D^{-1/2} (Fan, Chow and Udell, "A Simple Approach to
//!   Automated Spectral Clustering", NeurIPS 2022): with λ₁ ≤ λ₂ ≤ … its
//!   eigenvalues, (λ_{K+1} − λ_K) / λ_{K+1}, in [0, 1]. Near 1 when the
//!   affinity falls apart into K pieces, near 0 when K is arbitrary.
//! - the **normalised-cut score** of the labels on W: 1 − Ncut / K with
//!   Ncut = Σ_k cut(A_k, V∖A_k) / vol(A_k), in [0, 1]; 1 when no weight
//!   crosses clusters.
//!
//! - the **agreement** of a clustering with the other candidates: its mean
//!   NMI with each of them (evidence accumulation's premise: settings that
//!   fragment the graph agree with nobody), in [0, 1].
//!
//! None reads a label: they see W and the predicted clusters.

use crate::cluster::params::{LabelAssign, PostConfig};
use crate::cluster::postprocess::{affinity_from_eigen, coef_eigen, threshold_columns};
use crate::cluster::spectral::{assign_labels, spectral_decomposition};
use crate::error::{Result, UdllError};
use rayon::prelude::*;
use serde::Serialize;

/// The label-free scores of one clustering.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SelectionScore {
    /// Relative eigengap at K of the normalised Laplacian (higher: better).
    pub eigengap: f64,
    /// 1 − Ncut / K of the labels on the affinity (higher: better).
    pub ncut: f64,
    /// Mean NMI with the other candidates (None until compared).
    pub agreement: Option<f64>,
}

/// Which label-free score decides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectBy {
    /// The highest relative eigengap.
    Eigengap,
    /// The highest agreement with the other candidates: the default, as
    /// it chose better on ORL and COIL-20 seeds 0–4 (BENCHMARKS.md,
    /// "Label-free choices"; reported there on seeds 5–9).
    #[default]
    Agreement,
}

impl SelectBy {
    /// The rule in words, for `metrics.json`.
    pub fn describe(self) -> &'static str {
        match self {
            SelectBy::Eigengap => "highest relative eigengap at K of the normalised Laplacian of the affinity (no label is read)",
            SelectBy::Agreement => "highest mean NMI with the other candidates' clusterings (no label is read)",
        }
    }

    /// The score's name in words ("relative eigengap", "agreement").
    pub fn score_name(self) -> &'static str {
        match self {
            SelectBy::Eigengap => "relative eigengap",
            SelectBy::Agreement => "agreement",
        }
    }

    /// The value of this rule's score (missing when it was not computed).
    pub fn value(self, s: &SelectionScore) -> Option<f64> {
        match self {
            SelectBy::Eigengap => Some(s.eigengap),
            SelectBy::Agreement => s.agreement,
        }
    }

    /// The index of the best of `scores` by this rule (the first on ties;
    /// NaN and missing never win).
    pub fn best(self, scores: &[SelectionScore]) -> Option<usize> {
        scores
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.value(s).filter(|v| v.is_finite()).map(|v| (i, v)))
            .fold(None, |best, (i, v)| match best {
                Some((_, b)) if b >= v => best,
                _ => Some((i, v)),
            })
            .map(|(i, _)| i)
    }
}

/// Each labelling's mean NMI with every other one (1 for a lone one).
pub fn agreement(labellings: &[&[usize]]) -> Result<Vec<f64>> {
    let m = labellings.len();
    if m < 2 {
        return Ok(vec![1.0; m]);
    }
    let pairs: Vec<(usize, usize)> = (0..m).flat_map(|i| (i + 1..m).map(move |j| (i, j))).collect();
    let nmis = pairs.par_iter().map(|&(i, j)| crate::metrics::nmi(labellings[i], labellings[j])).collect::<Result<Vec<_>>>()?;
    let mut sum = vec![0.0; m];
    for (&(i, j), v) in pairs.iter().zip(&nmis) {
        sum[i] += v;
        sum[j] += v;
    }
    Ok(sum.into_iter().map(|s| s / (m - 1) as f64).collect())
}

/// (λ_{K+1} − λ_K) / λ_{K+1} from the k + 1 leading eigenvalues μ of
/// D^{-1/2} W D^{-1/2} (largest first; λ = 1 − μ). 0 when λ_{K+1} is 0.
pub fn relative_eigengap(mu: &[f64], k: usize) -> f64 {
    if k == 0 || mu.len() <= k {
        return 0.0;
    }
    let (lk, lk1) = (1.0 - mu[k - 1], 1.0 - mu[k]);
    if lk1 > 0.0 { ((lk1 - lk) / lk1).clamp(0.0, 1.0) } else { 0.0 }
}

/// 1 − Ncut / K of `labels` (values below k) on the n × n affinity `w`
/// (its diagonal ignored). A cluster with no volume counts as fully cut.
pub fn ncut_score(w: &[f64], n: usize, labels: &[usize], k: usize) -> f64 {
    // Per row: (its cluster's volume share, the share that crosses).
    let rows: Vec<(f64, f64)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let (mut all, mut cross) = (0.0, 0.0);
            for (j, &v) in w[i * n..][..n].iter().enumerate() {
                if j != i {
                    all += v;
                    if labels[j] != labels[i] {
                        cross += v;
                    }
                }
            }
            (all, cross)
        })
        .collect();
    let (mut vol, mut cut) = (vec![0.0; k], vec![0.0; k]);
    for (i, (a, c)) in rows.into_iter().enumerate() {
        vol[labels[i]] += a;
        cut[labels[i]] += c;
    }
    let ncut: f64 = vol.iter().zip(&cut).map(|(v, c)| if *v > 0.0 { c / v } else { 1.0 }).sum();
    1.0 - ncut / k as f64
}

/// Cluster an affinity and score the result: the embedding and the
/// eigengap come from one decomposition of k + 1 pairs.
pub fn cluster_affinity_scored(affinity: &[f64], n: usize, k: usize, assign: LabelAssign, seed: u64) -> Result<(Vec<usize>, SelectionScore)> {
    let wanted = (k + 1).min(n);
    let (emb, mu) = spectral_decomposition(affinity, n, k, wanted, seed)?;
    let labels = assign_labels(emb, n, k, assign, seed)?;
    let score = SelectionScore { eigengap: relative_eigengap(&mu, k), ncut: ncut_score(affinity, n, &labels, k), agreement: None };
    Ok((labels, score))
}

/// The scores of `labels` as a clustering of `affinity` (n × n): the
/// eigengap from a decomposition of k + 1 pairs of its own (the clustering's
/// used k, whose bits it keeps).
pub fn score_affinity(affinity: &[f64], n: usize, k: usize, labels: &[usize], seed: u64) -> Result<SelectionScore> {
    let wanted = (k + 1).min(n);
    let (_, mu) = spectral_decomposition(affinity, n, k, wanted, seed)?;
    Ok(SelectionScore { eigengap: relative_eigengap(&mu, k), ncut: ncut_score(affinity, n, labels, k), agreement: None })
}

/// The post-processing settings `--auto-post` tries: every combination of
/// the values on each axis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PostGrid {
    /// thrC ρ values.
    pub rhos: Vec<f64>,
    /// Subspace dimensions d.
    pub dims: Vec<usize>,
    /// Affinity powers.
    pub powers: Vec<f64>,
}

impl PostGrid {
    /// The default grid around `preset` (its values first on each axis,
    /// then the values the references' presets use: ρ 0.04, 0.1, 0.17,
    /// 0.2, 1 (no thresholding); d 3, 4, 8, 12; power 1, 2, 4, 8).
    pub fn around(preset: &PostConfig) -> Self {
        fn with<T: PartialEq + Copy>(first: T, rest: &[T]) -> Vec<T> {
            let mut v = vec![first];
            v.extend(rest.iter().copied().filter(|x| *x != first));
            v
        }
        PostGrid {
            rhos: with(preset.rho, &[0.04, 0.1, 0.17, 0.2, 1.0]),
            dims: with(preset.dim, &[3, 4, 8, 12]),
            powers: with(preset.power, &[1.0, 2.0, 4.0, 8.0]),
        }
    }

    /// The settings in order: ρ slowest, power fastest; the preset's own
    /// setting first.
    pub fn settings(&self, base: &PostConfig) -> Vec<PostConfig> {
        let mut out = Vec::new();
        for &rho in &self.rhos {
            for &dim in &self.dims {
                for &power in &self.powers {
                    out.push(PostConfig { rho, dim, power, ..base.clone() });
                }
            }
        }
        out
    }
}

/// One post-processing setting tried on C, its labels and scores.
#[derive(Clone, Debug)]
pub struct PostCandidate {
    /// The setting.
    pub post: PostConfig,
    /// The clustering it gives.
    pub labels: Vec<usize>,
    /// Its label-free scores.
    pub score: SelectionScore,
}

/// Cluster C (n × n) with every setting of `grid` (the assignment and the
/// identity option from `base`) and score each. Work is shared: thrC once
/// per ρ, one eigendecomposition of the symmetrised C per ρ at the largest
/// d (a smaller d keeps its leading vectors), one affinity per (d, power).
pub fn auto_post(
    coef: &[f32],
    n: usize,
    k: usize,
    base: &PostConfig,
    grid: &PostGrid,
    seed: u64,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<PostCandidate>> {
    let settings = grid.settings(base);
    if settings.is_empty() {
        return Err(UdllError::config("auto-post: the grid is empty"));
    }
    for s in &settings {
        s.validate()?;
    }
    let d_max = grid.dims.iter().copied().max().unwrap_or(1);
    let mut out = Vec::with_capacity(settings.len());
    for &rho in &grid.rhos {
        let eig = coef_eigen(&threshold_columns(coef, n, rho), n, k, d_max, base.add_identity, seed)?;
        for s in settings.iter().filter(|s| s.rho == rho) {
            let affinity = affinity_from_eigen(&eig, n, k, s.dim, s.power)?;
            let (labels, score) = cluster_affinity_scored(&affinity, n, k, s.assign, seed)?;
            out.push(PostCandidate { post: s.clone(), labels, score });
            progress(out.len(), settings.len());
        }
    }
    let agree = agreement(&out.iter().map(|c| c.labels.as_slice()).collect::<Vec<_>>())?;
    out.iter_mut().zip(agree).for_each(|(c, a)| c.score.agreement = Some(a));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::postprocess::affinity_from_coef;
    use crate::cluster::spectral::noisy_blocks;

    /// K noisy blocks: cross-block weight `noise`.
    fn blocks(n_per: usize, k: usize, noise: f64) -> Vec<f64> {
        noisy_blocks(n_per, k, noise, 1)
    }

    #[test]
    fn eigengap_and_ncut_rank_clean_blocks_above_noisy_ones() {
        let (n_per, k) = (20, 3);
        let n = n_per * k;
        let truth: Vec<usize> = (0..n).map(|i| i / n_per).collect();
        let clean = blocks(n_per, k, 0.01);
        let noisy = blocks(n_per, k, 0.4);
        let (lc, sc) = cluster_affinity_scored(&clean, n, k, LabelAssign::Kmeans, 0).unwrap();
        let (_, sn) = cluster_affinity_scored(&noisy, n, k, LabelAssign::Kmeans, 0).unwrap();
        assert!(sc.eigengap > 0.9 && sn.eigengap < sc.eigengap, "{sc:?} {sn:?}");
        assert!(sc.ncut > sn.ncut, "{sc:?} {sn:?}");
        // The clean blocks are found, and their cut score is that of the truth.
        assert!((ncut_score(&clean, n, &lc, k) - ncut_score(&clean, n, &truth, k)).abs() < 1e-12);
        // A labelling that mixes the blocks cuts more.
        let mixed: Vec<usize> = (0..n).map(|i| i % k).collect();
        assert!(ncut_score(&clean, n, &mixed, k) < sc.ncut - 0.5);
        // By hand: two nodes, one edge, each its own cluster: Ncut = 2.
        assert_eq!(ncut_score(&[0.0, 1.0, 1.0, 0.0], 2, &[0, 1], 2), 0.0);
        assert_eq!(ncut_score(&[0.0, 1.0, 1.0, 0.0], 2, &[0, 0], 2), 0.5, "one cluster with no cut, one with no volume");
    }

    #[test]
    fn relative_eigengap_by_hand() {
        // μ = 1, 0.9, 0.2 → λ = 0, 0.1, 0.8: at K = 2, (0.8 − 0.1) / 0.8.
        assert!((relative_eigengap(&[1.0, 0.9, 0.2], 2) - 0.875).abs() < 1e-12);
        assert_eq!(relative_eigengap(&[1.0, 1.0], 1), 0.0);
        assert_eq!(relative_eigengap(&[1.0], 1), 0.0, "no (K+1)-th eigenvalue");
    }

    #[test]
    fn best_is_the_first_highest_and_never_nan() {
        let s = |g: f64, a: Option<f64>| SelectionScore { eigengap: g, ncut: 0.0, agreement: a };
        let scores = [s(0.1, Some(0.9)), s(0.5, None), s(0.5, Some(0.2)), s(f64::NAN, Some(0.9))];
        assert_eq!(SelectBy::Eigengap.best(&scores), Some(1));
        assert_eq!(SelectBy::Agreement.best(&scores), Some(0), "the first of two equal ones");
        assert_eq!(SelectBy::Eigengap.best(&[s(f64::NAN, None)]), None);
        assert_eq!(SelectBy::Agreement.best(&[s(0.3, None)]), None);
    }

    #[test]
    fn agreement_is_mean_nmi_with_the_others() {
        let a = [0, 0, 1, 1];
        let b = [1, 1, 0, 0]; // a relabelled: NMI 1
        let c = [0, 1, 0, 1]; // independent of a: NMI 0
        let g = agreement(&[&a, &b, &c]).unwrap();
        assert!((g[0] - 0.5).abs() < 1e-12 && (g[1] - 0.5).abs() < 1e-12 && g[2].abs() < 1e-12, "{g:?}");
        assert_eq!(agreement(&[&a]).unwrap(), vec![1.0]);
    }

    #[test]
    fn auto_post_shares_work_but_matches_one_setting_at_a_time() {
        // A coefficient matrix of two noisy blocks.
        let (n_per, k) = (15, 2);
        let n = n_per * k;
        let c: Vec<f32> = blocks(n_per, k, 0.2).into_iter().map(|v| v as f32).collect();
        let base = PostConfig { rho: 0.5, dim: 2, power: 2.0, assign: LabelAssign::Kmeans, add_identity: false };
        let grid = PostGrid { rhos: vec![0.5, 1.0], dims: vec![2, 3], powers: vec![2.0, 4.0] };
        let cands = auto_post(&c, n, k, &base, &grid, 0, |_, _| {}).unwrap();
        assert_eq!(cands.len(), 8);
        assert_eq!(cands[0].post, base, "the preset's setting comes first");
        for cand in &cands {
            let (affinity, _) = affinity_from_coef(&threshold_columns(&c, n, cand.post.rho), n, k, cand.post.dim, cand.post.power, false, 0).unwrap();
            let (labels, score) = cluster_affinity_scored(&affinity, n, k, LabelAssign::Kmeans, 0).unwrap();
            assert_eq!(labels, cand.labels, "{:?}", cand.post);
            assert!((score.eigengap - cand.score.eigengap).abs() < 1e-9 && (score.ncut - cand.score.ncut).abs() < 1e-12, "{:?}", cand.post);
            assert!(cand.score.agreement.is_some_and(|a| (0.0..=1.0).contains(&a)));
            let (fixed, fixed_score) = crate::cluster::cluster_coef_scored(&c, n, k, &cand.post, 0).unwrap();
            assert_eq!((fixed, fixed_score.ncut), (labels, score.ncut), "{:?}", cand.post);
        }
    }
}
