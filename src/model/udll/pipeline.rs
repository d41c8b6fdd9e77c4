//! The whole UDLL method in one call (the `udll run` command):
//! pretrain → prior graph → fine-tune → post-process + spectral clustering
//! → evaluate, writing every artefact into one directory.

use crate::cluster::cluster_coef;
use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::graph::{PriorGraph, adaptive_neighbour_graph};
use crate::io::checkpoint::Checkpoint;
use crate::io::manifest::{Manifest, RunFacts};
use crate::io::npy_out::write_npy_f32;
use crate::io::write_atomic;
use crate::metrics::{Scores, scores};
use crate::model::autoencoder::{AeArch, ConvAutoencoder};
use crate::model::pretrain::pretrain;
use crate::model::udll::finetune::{FinetuneReport, finetune};
use crate::model::udll::hyperparams::UdllConfig;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the starting autoencoder comes from.
#[derive(Clone, Debug)]
pub enum Start {
    /// Pretrain from Glorot initialisation (the default).
    Pretrain,
    /// A udll checkpoint.
    Checkpoint(PathBuf),
    /// A DSC-Net reference model: (directory, name), see `model::reference`.
    Reference(PathBuf, String),
}

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out_dir: PathBuf,
    pub start: Start,
    /// Number of clusters; defaults to the number of label classes.
    pub clusters: Option<usize>,
    pub quiet: bool,
    pub threads: usize,
    /// Input files to record in the manifest (dataset, checkpoint …).
    pub inputs: Vec<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StageTimes {
    pub pretrain: f64,
    pub graph: f64,
    pub finetune: f64,
    pub cluster: f64,
    pub total: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub scores: Option<Scores>,
    pub clusters: usize,
    pub labels: Vec<usize>,
    pub seconds: StageTimes,
    pub pretrain_final_loss: Option<f64>,
    pub finetune_final: Option<crate::model::udll::finetune::LossTerms>,
}

pub fn labels_csv(pred: &[usize], truth: Option<&[usize]>) -> String {
    let mut s = String::from("index,predicted,true\n");
    for (i, p) in pred.iter().enumerate() {
        match truth {
            Some(t) => s += &format!("{i},{p},{}\n", t[i]),
            None => s += &format!("{i},{p},\n"),
        }
    }
    s
}

/// The architecture a configuration asks for, sized to a dataset.
pub fn arch_for(cfg: &UdllConfig, ds: &Dataset) -> AeArch {
    AeArch { height: ds.height, width: ds.width, channels_in: ds.channels, channels: cfg.channels.clone(), kernels: cfg.kernels.clone(), final_relu: true }
}

/// An untrained autoencoder for `ds`: Glorot filters from the seed (with
/// non-negative encoder filter sums when configured), encoder biases at the
/// configured start.
pub fn fresh_autoencoder(cfg: &UdllConfig, ds: &Dataset) -> Result<ConvAutoencoder<f32>> {
    let mut ae = ConvAutoencoder::<f32>::new(&arch_for(cfg, ds))?;
    ae.init_glorot(cfg.seed);
    if cfg.pretrain.positive_filters {
        ae.make_encoder_filter_sums_positive();
    }
    ae.set_encoder_biases(cfg.pretrain.encoder_bias_init);
    Ok(ae)
}

fn starting_autoencoder(ds: &Dataset, cfg: &UdllConfig, opts: &RunOptions, x: &[f32]) -> Result<(ConvAutoencoder<f32>, Option<f64>)> {
    let arch = arch_for(cfg, ds);
    match &opts.start {
        Start::Pretrain => {
            let mut ae = fresh_autoencoder(cfg, ds)?;
            let report = pretrain(&mut ae, x, ds.n, &cfg.pretrain, opts.quiet)?;
            Ok((ae, report.epoch_loss.last().copied()))
        }
        Start::Checkpoint(p) => {
            let c = Checkpoint::load(p)?;
            if c.arch != arch {
                return Err(UdllError::shape(format!(
                    "{}: its architecture ({}) is not the preset's for this data ({})",
                    p.display(),
                    c.arch.describe(),
                    arch.describe()
                )));
            }
            Ok((c.autoencoder(p)?, None))
        }
        Start::Reference(dir, name) => Ok((crate::model::reference::import_reference(dir, name, &arch)?, None)),
    }
}

/// A run's checkpoint header: the dataset and input scale every checkpoint
/// records, plus the stage's own fields (`extra`, a JSON object). serde_json
/// keeps keys sorted, so the bytes do not depend on the merge order.
fn checkpoint_meta(ds: &Dataset, cfg: &UdllConfig, extra: serde_json::Value) -> serde_json::Value {
    let mut meta = serde_json::json!({"dataset": ds.name, "n": ds.n, "input_scale": cfg.input_scale});
    if let (Some(m), serde_json::Value::Object(e)) = (meta.as_object_mut(), extra) {
        m.extend(e);
    }
    meta
}

/// Run UDLL (or DSC) end to end on `ds` and write everything to
/// `opts.out_dir`: pretrained.ckpt, latent_pretrained.npy, graph.csv,
/// finetuned.ckpt, coef.npy, latent.npy, labels.csv, losses.csv,
/// metrics.json, manifest.json.
pub fn run_udll(ds: &Dataset, cfg: &UdllConfig, opts: &RunOptions) -> Result<RunSummary> {
    ds.validate()?;
    let clusters = match (opts.clusters, ds.num_classes()) {
        (Some(k), _) => k,
        (None, Some(k)) => k,
        (None, None) => return Err(UdllError::config("the dataset has no labels: give the number of clusters (--clusters)")),
    };
    if clusters < 2 || clusters > ds.n {
        return Err(UdllError::config(format!("{clusters} clusters for {} images", ds.n)));
    }
    let out = &opts.out_dir;
    std::fs::create_dir_all(out).map_err(|e| UdllError::io(out, e))?;
    let say = |m: String| {
        if !opts.quiet {
            eprintln!("{m}");
        }
    };
    let t0 = Instant::now();
    let x = ds.scaled_pixels(cfg.input_scale);
    let n = ds.n;

    // 1. Pretrained autoencoder.
    say(format!(
        "[1/4] autoencoder: {} images, {}",
        n,
        cfg.channels.iter().zip(&cfg.kernels).map(|(c, k)| format!("{c}@{k}x{k}")).collect::<Vec<_>>().join(", ")
    ));
    let (mut ae, pretrain_final_loss) = starting_autoencoder(ds, cfg, opts, &x)?;
    // The pretraining settings describe the weights only when they were
    // pretrained here; otherwise say where the weights came from.
    let source = match &opts.start {
        Start::Pretrain => serde_json::json!({"pretrain": cfg.pretrain, "seed": cfg.seed}),
        Start::Checkpoint(p) => serde_json::json!({"from_checkpoint": p.display().to_string()}),
        Start::Reference(dir, name) => serde_json::json!({"from_reference": dir.join(name).display().to_string()}),
    };
    let meta = checkpoint_meta(ds, cfg, source);
    Checkpoint::from_autoencoder(&ae, "autoencoder", meta).save(&out.join("pretrained.ckpt"))?;
    let t_pre = t0.elapsed().as_secs_f64();

    // 2. Prior graph on the pretrained latent features.
    let t1 = Instant::now();
    let d = ae.latent_dim();
    let z0 = ae.embed(&x, n, 512);
    write_npy_f32(&out.join("latent_pretrained.npy"), &z0, n, d)?;
    let graph: Option<PriorGraph> = if cfg.finetune.locality_weight > 0.0 {
        say(format!("[2/4] prior graph (Eq. 17): k = {} over {n} latent codes of dimension {d}", cfg.graph_k));
        let g = adaptive_neighbour_graph(&z0, n, d, cfg.graph_k)?;
        write_atomic(&out.join("graph.csv"), g.to_csv().as_bytes())?;
        Some(g)
    } else {
        say("[2/4] prior graph: skipped (γ = 0, DSC)".into());
        None
    };
    drop(z0);
    let t_graph = t1.elapsed().as_secs_f64();

    // 3. Fine-tuning with the self-expressive layer.
    let t2 = Instant::now();
    say(format!(
        "[3/4] fine-tune: {} epochs, α = {}, β = {}, γ = {}",
        cfg.finetune.epochs, cfg.finetune.self_expr_weight, cfg.finetune.coef_weight, cfg.finetune.locality_weight
    ));
    let (mut net, report) = finetune(ae, &x, n, graph.as_ref(), &cfg.finetune, opts.quiet)?;
    let t_ft = t2.elapsed().as_secs_f64();
    let meta = checkpoint_meta(ds, cfg, serde_json::json!({"finetune": cfg.finetune, "seed": cfg.seed}));
    Checkpoint::from_autoencoder(&net.ae, "finetuned", meta).save(&out.join("finetuned.ckpt"))?;
    write_npy_f32(&out.join("coef.npy"), &net.se.coef.value, n, n)?;
    let z = net.ae.embed(&x, n, 512);
    write_npy_f32(&out.join("latent.npy"), &z, n, d)?;
    drop(z);
    write_atomic(&out.join("losses.csv"), losses_csv(&report).as_bytes())?;

    // 4. Post-processing, spectral clustering, evaluation.
    let t3 = Instant::now();
    say(format!("[4/4] cluster: thrC ρ = {}, r = {}·{} + 1, power {}, {:?}", cfg.post.rho, cfg.post.dim, clusters, cfg.post.power, cfg.post.assign));
    let coef = net.se.effective_coef(cfg.finetune.coef_reg);
    drop(net);
    let labels = cluster_coef(&coef, n, clusters, &cfg.post, cfg.seed)?;
    let t_cl = t3.elapsed().as_secs_f64();
    let sc = match &ds.labels {
        Some(t) => Some(scores(&labels, t)?),
        None => None,
    };
    write_atomic(&out.join("labels.csv"), labels_csv(&labels, ds.labels.as_deref()).as_bytes())?;
    let seconds = StageTimes { pretrain: t_pre, graph: t_graph, finetune: t_ft, cluster: t_cl, total: t0.elapsed().as_secs_f64() };
    let summary = RunSummary { scores: sc, clusters, labels, seconds, pretrain_final_loss, finetune_final: report.epochs.last().copied() };
    let metrics = serde_json::json!({
        "acc": sc.map(|s| s.acc), "nmi": sc.map(|s| s.nmi), "ari": sc.map(|s| s.ari),
        "clusters": clusters, "method": cfg.method, "preset": cfg.preset, "seed": cfg.seed,
        "pretrain_final_loss_per_image": pretrain_final_loss,
        "finetune_final_loss": summary.finetune_final,
        "timings_seconds": summary.seconds,
    });
    write_atomic(&out.join("metrics.json"), format!("{}\n", serde_json::to_string_pretty(&metrics).unwrap()).as_bytes())?;
    write_manifest(ds, cfg, opts, out)?;
    Ok(summary)
}

pub fn losses_csv(r: &FinetuneReport) -> String {
    let mut s = String::from("epoch,total,reconstruction,self_expression,coef_norm,locality\n");
    for (i, t) in r.epochs.iter().enumerate() {
        s += &format!("{},{:e},{:e},{:e},{:e},{:e}\n", i + 1, t.total(), t.reconstruction, t.self_expression, t.coef_norm, t.locality);
    }
    s
}

/// Artefacts in the order the manifest lists them.
pub const RUN_ARTEFACTS: &[&str] =
    &["pretrained.ckpt", "latent_pretrained.npy", "graph.csv", "finetuned.ckpt", "coef.npy", "latent.npy", "losses.csv", "labels.csv", "metrics.json"];

fn write_manifest(ds: &Dataset, cfg: &UdllConfig, opts: &RunOptions, out: &Path) -> Result<()> {
    let facts = RunFacts {
        config: serde_json::to_value(cfg).expect("config serialises"),
        seed: cfg.seed,
        dataset: ds.summary(),
        inputs: &opts.inputs,
        threads: opts.threads,
    };
    Manifest::record_and_write(facts, out, true, RUN_ARTEFACTS).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{SyntheticSpec, generate};
    use crate::presets::preset;

    /// The ORL preset's positive-filter start reaches the autoencoder that
    /// runs pretrain; without it, some seeds start with negative filters.
    #[test]
    fn fresh_autoencoder_applies_the_positive_filter_start() {
        let ds = generate(&SyntheticSpec { objects: 2, poses: 3, size: 32, seed: 0, noise: 0.0 }).unwrap();
        let filter_sums = |positive: bool, seed: u64| -> Vec<f64> {
            let mut cfg = preset("orl").unwrap();
            cfg.seed = seed;
            cfg.pretrain.positive_filters = positive;
            let ae = fresh_autoencoder(&cfg, &ds).unwrap();
            ae.encoder.iter().flat_map(|c| c.filter_sums()).collect()
        };
        assert!(preset("orl").unwrap().pretrain.positive_filters, "the ORL preset asks for it");
        for seed in 0..4 {
            assert!(filter_sums(true, seed).iter().all(|s| *s >= 0.0), "seed {seed}");
        }
        assert!((0..4).any(|seed| filter_sums(false, seed).iter().any(|s| *s < 0.0)), "Glorot draws some negative filters");
    }
}
