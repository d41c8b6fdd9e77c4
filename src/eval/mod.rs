//! Evaluations of learned features, usable on any method's output
//! (`udll eval`): k-means and spectral clustering scored by ACC/NMI/ARI,
//! EDSC subspace clustering (UDLL's PT+EDSC ablation and raw-pixel
//! baseline), mAP@k retrieval and a linear probe.

pub mod probe;
pub mod retrieval;

use crate::cluster::{kmeans, ridge_self_expression, spectral_clustering};
use crate::error::{Result, UdllError};
use crate::graph::knn::k_nearest;
use crate::metrics::{Scores, scores};

use crate::cluster::cluster_coef;
use crate::cluster::{LabelAssign, PostConfig};
use serde::{Deserialize, Serialize};

/// What `udll eval` measures on a set of features.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// k-means with restarts: ACC / NMI / ARI.
    Kmeans,
    /// Spectral clustering of a Gaussian kNN graph: ACC / NMI / ARI.
    Spectral,
    /// EDSC (ridge self-expression + post-processing): ACC / NMI / ARI.
    Edsc,
    /// mAP@k retrieval with the labels as relevance.
    Map,
    /// A linear probe's test accuracy.
    Probe,
}

impl Task {
    /// The task's name, as `--task` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Task::Kmeans => "kmeans",
            Task::Spectral => "spectral",
            Task::Edsc => "edsc",
            Task::Map => "map",
            Task::Probe => "probe",
        }
    }
}

/// Restarts of the k-means evaluation (k-means++ seeding each time).
pub const KMEANS_RESTARTS: usize = 10;

/// k-means on the features → labels.
pub fn kmeans_labels(features: &[f32], n: usize, d: usize, k: usize, seed: u64) -> Result<Vec<usize>> {
    let x: Vec<f64> = features.iter().map(|&v| v as f64).collect();
    Ok(kmeans(&x, n, d, k, KMEANS_RESTARTS, 300, seed)?.labels)
}

/// Spectral clustering of a symmetric kNN graph with Gaussian weights
/// exp(−‖z_i − z_j‖²/σ²), σ² the mean squared distance to the k-th
/// neighbour (a scale-free choice).
pub fn knn_spectral_labels(features: &[f32], n: usize, d: usize, clusters: usize, knn: usize, seed: u64) -> Result<Vec<usize>> {
    let knn = knn.clamp(1, n.saturating_sub(1).max(1));
    let nb = k_nearest(features, n, d, knn)?;
    let sigma2 = nb.iter().map(|l| l.last().map_or(0.0, |x| x.1)).sum::<f64>() / n as f64;
    let sigma2 = if sigma2 > 0.0 { sigma2 } else { 1.0 };
    let mut a = vec![0.0; n * n];
    for (i, list) in nb.iter().enumerate() {
        for &(j, d2) in list {
            let w = (-d2 / sigma2).exp();
            a[i * n + j] = f64::max(a[i * n + j], w);
            a[j * n + i] = f64::max(a[j * n + i], w);
        }
    }
    spectral_clustering(&a, n, clusters, LabelAssign::Kmeans, seed)
}

/// EDSC: ridge self-expression of the features, then the given
/// post-processing and spectral clustering.
pub fn edsc_labels(features: &[f32], n: usize, d: usize, clusters: usize, lambda_rel: f64, post: &PostConfig, seed: u64) -> Result<Vec<usize>> {
    let c = ridge_self_expression(features, n, d, lambda_rel)?;
    cluster_coef(&c, n, clusters, post, seed)
}

/// Options of one evaluation.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// The number of clusters.
    pub clusters: usize,
    /// The seed of k-means, the eigen solver and the probe split.
    pub seed: u64,
    /// Neighbours of the spectral task's graph.
    pub knn: usize,
    /// λ relative to the mean squared norm (EDSC).
    pub edsc_lambda: f64,
    /// The post-processing EDSC uses.
    pub post: PostConfig,
    /// The k of each mAP@k.
    pub map_ks: Vec<usize>,
    /// The linear probe's settings.
    pub probe: probe::ProbeConfig,
}

/// Run one task on n × d features with their true labels; returns a JSON
/// object of its scores.
pub fn evaluate(task: Task, features: &[f32], n: usize, d: usize, labels: &[usize], o: &EvalOptions) -> Result<serde_json::Value> {
    if features.len() != n * d || labels.len() != n {
        return Err(UdllError::shape(format!("eval: {} values and {} labels for {n} × {d} features", features.len(), labels.len())));
    }
    if let Some(i) = features.iter().position(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite(format!("eval: feature {} of sample {} is NaN or infinite", i % d, i / d)));
    }
    let clustering = |pred: Vec<usize>| -> Result<serde_json::Value> {
        let s: Scores = scores(&pred, labels)?;
        Ok(serde_json::json!({"acc": s.acc, "nmi": s.nmi, "ari": s.ari, "clusters": o.clusters}))
    };
    match task {
        Task::Kmeans => clustering(kmeans_labels(features, n, d, o.clusters, o.seed)?),
        Task::Spectral => clustering(knn_spectral_labels(features, n, d, o.clusters, o.knn, o.seed)?),
        Task::Edsc => clustering(edsc_labels(features, n, d, o.clusters, o.edsc_lambda, &o.post, o.seed)?),
        Task::Map => {
            let m = retrieval::mean_average_precision(features, n, d, labels, &o.map_ks)?;
            let obj: serde_json::Map<String, serde_json::Value> = o.map_ks.iter().zip(m).map(|(k, v)| (format!("map@{k}"), serde_json::json!(v))).collect();
            Ok(serde_json::Value::Object(obj))
        }
        Task::Probe => Ok(serde_json::to_value(probe::linear_probe(features, n, d, labels, &o.probe)?).expect("serialises")),
    }
}
