//! `udll compare`: the representation learners on one dataset, each scored
//! the same way on its features — k-means (ACC, NMI), mAP@10 / mAP@100
//! retrieval and a linear probe — with its training time. Mean over seeds.

use crate::app::pipeline::fresh_autoencoder;
use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::eval::kmeans_labels;
use crate::eval::probe::{ProbeConfig, linear_probe};
use crate::eval::retrieval::mean_average_precision;
use crate::metrics::scores;
use crate::model::ame_ae::{AmeAeConfig, train_ame_ae};
use crate::model::dense_ae::{DenseAeConfig, train_dense_ae};
use crate::model::grdnn::{GrDnnConfig, train_grdnn};
use crate::model::pretrain::pretrain;
use crate::model::udll::params::ValidUdllParams;
use crate::progress::Observer;
use serde::Serialize;
use std::time::Instant;

/// Methods `compare` knows, in table order.
pub const METHODS: &[&str] = &[
    "pixels",
    "ae",
    "sparse-ae",
    "denoising-ae",
    "contractive-ae",
    "gr-dnn",
    "gr-dnn-dae",
    "ame-ae",
    "denoising-ame-ae",
    "conv-ae",
    "sparse-conv-ae",
    "denoising-conv-ae",
];

#[derive(Clone, Debug, Serialize)]
/// One learner's scores with one seed.
pub struct CompareRow {
    /// The learner.
    pub method: String,
    /// Its seed.
    pub seed: u64,
    /// k-means accuracy on its features.
    pub acc: f64,
    /// k-means NMI.
    pub nmi: f64,
    /// mAP@10 with the labels as relevance.
    pub map10: f64,
    /// mAP@100.
    pub map100: f64,
    /// The linear probe's test accuracy.
    pub probe: f64,
    /// Seconds to train the learner.
    pub train_seconds: f64,
    /// The feature dimension.
    pub feature_dim: usize,
}

/// Options shared by every method of a comparison.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// Epochs of the dense autoencoders (None: the variant's default).
    pub dense_epochs: Option<usize>,
    /// The conv autoencoder's preset (architecture, pretraining).
    pub conv: ValidUdllParams,
}

/// Features of `method` on `ds` with `seed`, and the training time.
pub fn features(method: &str, ds: &Dataset, seed: u64, o: &CompareOptions, observer: &dyn Observer) -> Result<(Vec<f32>, usize, f64)> {
    let t = Instant::now();
    let d = ds.image_len();
    match method {
        "pixels" => Ok((ds.pixels.clone(), d, 0.0)),
        "conv-ae" | "sparse-conv-ae" | "denoising-conv-ae" => {
            let mut cfg = o.conv.clone().into_inner();
            cfg.seed = seed;
            // The lecture's penalties on the conv autoencoder: λ‖z‖₁ per
            // image (latent sums are larger than the dense code's, so a
            // smaller λ), or 30 % masking noise.
            match method {
                "sparse-conv-ae" => cfg.pretrain.sparse = 0.01,
                "denoising-conv-ae" => cfg.pretrain.mask_rate = 0.3,
                _ => {}
            }
            let cfg = cfg.check()?;
            let mut ae = fresh_autoencoder(&cfg, ds)?;
            let x = ds.scaled_pixels(cfg.input_scale);
            pretrain(&mut ae, &x, ds.n, &cfg.pretrain, cfg.seed, observer)?;
            let z = ae.embed(&x, ds.n, 512);
            Ok((z, ae.latent_dim(), t.elapsed().as_secs_f64()))
        }
        m if m.starts_with("gr-dnn") => {
            let mut cfg = GrDnnConfig::variant(m, ds.n).ok_or_else(|| UdllError::config(format!("unknown method '{m}'")))??;
            cfg.ae.seed = seed;
            if let Some(e) = o.dense_epochs {
                cfg.ae.epochs = e;
                cfg.path_epochs = cfg.path_epochs.min(e);
                cfg.joint_epochs = cfg.joint_epochs.min(e);
            }
            let (mut net, _) = train_grdnn(&ds.pixels, ds.n, d, &cfg, observer)?;
            let secs = t.elapsed().as_secs_f64();
            let h = net.ae.encode(&ds.pixels, ds.n);
            Ok((h, net.ae.code_dim(), secs))
        }
        m if m.contains("ame-ae") => {
            let mut cfg = AmeAeConfig::variant(m).ok_or_else(|| UdllError::config(format!("unknown method '{m}'")))??;
            cfg.ae.seed = seed;
            if let Some(e) = o.dense_epochs {
                cfg.ae.epochs = e;
            }
            let (mut net, _) = train_ame_ae(&ds.pixels, ds.n, d, &cfg, observer)?;
            let secs = t.elapsed().as_secs_f64();
            let h = net.ae.encode(&ds.pixels, ds.n);
            Ok((h, net.ae.code_dim(), secs))
        }
        _ => {
            let mut cfg = DenseAeConfig::variant(method)?;
            cfg.seed = seed;
            if let Some(e) = o.dense_epochs {
                cfg.epochs = e;
            }
            let (mut ae, _) = train_dense_ae(&ds.pixels, ds.n, d, &cfg, observer)?;
            let secs = t.elapsed().as_secs_f64();
            let h = ae.encode(&ds.pixels, ds.n);
            Ok((h, ae.code_dim(), secs))
        }
    }
}

/// Refuse a method name `compare` does not know (before any output is
/// started).
pub fn check_methods(methods: &[String]) -> Result<()> {
    if let Some(m) = methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
        return Err(UdllError::config(format!("methods: '{m}' is not one of {}", METHODS.join(", "))));
    }
    Ok(())
}

/// Train and score every method in `methods` with seeds 0..`seeds`, one
/// row each, in that order. Training reports to `observer`; each finished
/// row is reported to `results`.
pub fn compare(ds: &Dataset, methods: &[String], seeds: u64, o: &CompareOptions, observer: &dyn Observer, results: &dyn Observer) -> Result<Vec<CompareRow>> {
    check_methods(methods)?;
    if ds.labels.is_none() {
        return Err(UdllError::config("compare needs labels (a labelled dataset)"));
    }
    let mut rows = Vec::new();
    for seed in 0..seeds {
        for m in methods {
            let (z, dim, secs) = features(m, ds, seed, o, observer)?;
            let row = score_features(m, seed, &z, dim, ds, secs)?;
            results
                .line(&format!("compare: {m} seed {seed}: ACC {:.4} NMI {:.4} mAP@10 {:.4} probe {:.4} ({secs:.1}s)", row.acc, row.nmi, row.map10, row.probe));
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Score one method's features.
pub fn score_features(method: &str, seed: u64, z: &[f32], dim: usize, ds: &Dataset, train_seconds: f64) -> Result<CompareRow> {
    let labels = ds.labels.as_ref().ok_or_else(|| UdllError::config("compare needs a labelled dataset"))?;
    let k = ds.num_classes().unwrap_or(2);
    let pred = kmeans_labels(z, ds.n, dim, k, seed)?;
    let s = scores(&pred, labels)?;
    let maps = mean_average_precision(z, ds.n, dim, labels, &[10, 100])?;
    let probe = linear_probe(z, ds.n, dim, labels, &ProbeConfig { seed, ..Default::default() })?;
    Ok(CompareRow {
        method: method.to_string(),
        seed,
        acc: s.acc,
        nmi: s.nmi,
        map10: maps[0],
        map100: maps[1],
        probe: probe.test_accuracy,
        train_seconds,
        feature_dim: dim,
    })
}

/// Markdown: one line per method, means over its seeds.
pub fn markdown(dataset: &str, rows: &[CompareRow]) -> String {
    let mut s =
        format!("| {dataset} | seeds | dim | ACC | NMI | mAP@10 | mAP@100 | probe acc. | train s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    let mut methods: Vec<&str> = Vec::new();
    for r in rows {
        if !methods.contains(&r.method.as_str()) {
            methods.push(&r.method);
        }
    }
    for m in methods {
        let sel: Vec<&CompareRow> = rows.iter().filter(|r| r.method == m).collect();
        let mean = |f: fn(&CompareRow) -> f64| sel.iter().map(|r| f(r)).sum::<f64>() / sel.len() as f64;
        s += &format!(
            "| {m} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.1} |\n",
            sel.len(),
            sel[0].feature_dim,
            mean(|r| r.acc),
            mean(|r| r.nmi),
            mean(|r| r.map10),
            mean(|r| r.map100),
            mean(|r| r.probe),
            mean(|r| r.train_seconds)
        );
    }
    s
}

/// The scores per method and seed, without wall times, so that the file is
/// reproducible byte for byte (the Markdown table has the times).
pub fn csv(dataset: &str, rows: &[CompareRow]) -> String {
    let mut s = String::from("dataset,method,seed,dim,acc,nmi,map10,map100,probe\n");
    for r in rows {
        s += &format!("{dataset},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6}\n", r.method, r.seed, r.feature_dim, r.acc, r.nmi, r.map10, r.map100, r.probe);
    }
    s
}
