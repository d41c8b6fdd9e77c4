//! `udll assign`: a finished run directory as a reusable model. New images
//! go through the run's front end (the scattering transform and its fitted
//! projection, when the run had them) and its fine-tuned encoder (none for
//! a `--method edsc` run) (at the input scale it was
//! trained at), and each code is placed in the run's clusters by its
//! class-wise ridge residual against the run's own fine-tuned codes
//! (`cluster::assign`): O(n² + m·(n·d + n²)) for m new images, no m × m
//! matrix. Every file read from the model directory is checked against its
//! manifest first, and recorded with its hash among the inputs.

use crate::app::pipeline::{Latent, check_fits};
use crate::app::run_dir::RunDir;
use crate::cluster::assign_by_residual;
use crate::cluster::sparse::{SparseConfig, assign_sparse};
use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::features::{Basis, FrontEnd, front_features};
use crate::io::checkpoint::Checkpoint;
use crate::io::labels::{labels_csv, read_labels_csv};
use crate::io::manifest::{Manifest, RunFacts, begin_output_dir};
use crate::io::npy_out::read_npy_matrix;
use crate::io::{write_atomic, write_json};
use crate::metrics::{Scores, scores};
use crate::progress::Observer;
use std::path::PathBuf;
use std::time::Instant;

/// The artefacts of an assignment, in the manifest's order.
pub const ASSIGN_ARTEFACTS: &[&str] = &["latent.npy", "labels.csv", "metrics.json"];

/// The default ridge, relative to the mean squared norm of the fitted codes.
pub const DEFAULT_RIDGE: f64 = 1e-2;

/// What `assign` needs besides the images.
#[derive(Clone, Debug)]
pub struct AssignOptions {
    /// The finished run directory to use as the model.
    pub model_dir: PathBuf,
    /// Where to write.
    pub out_dir: PathBuf,
    /// λ relative to the mean of diag(ZZᵀ).
    pub ridge: f64,
    /// The thread count, recorded in the manifest.
    pub threads: usize,
    /// The data files, for the manifest (the model's files are added).
    pub inputs: Vec<PathBuf>,
    /// The command line, for the manifest (what `udll audit` re-runs).
    pub command: Vec<String>,
}

/// The clusters of the new images, and their scores when labels were given.
#[derive(Clone, Debug)]
pub struct Assignment {
    /// The run's cluster of each new image.
    pub labels: Vec<usize>,
    /// ACC / NMI / ARI against the new images' labels.
    pub scores: Option<Scores>,
    /// The run's number of clusters.
    pub clusters: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Place the images of `ds` in the clusters of the run in
/// `opts.model_dir`, and write `latent.npy` (their codes), `labels.csv`,
/// `metrics.json` and a manifest under `opts.out_dir`.
pub fn assign(ds: &Dataset, opts: &AssignOptions, observer: &dyn Observer) -> Result<Assignment> {
    ds.validate()?;
    if !(opts.ridge > 0.0 && opts.ridge.is_finite()) {
        return Err(UdllError::config(format!("--ridge: the ridge must be positive (got {})", opts.ridge)));
    }
    let t0 = Instant::now();
    let model = RunDir::open(&opts.model_dir)?;
    // A `--method edsc` run has no network: its latent.npy holds the front
    // end's features, and new images are coded by the same front end.
    let ckpt_path = model.optional("finetuned.ckpt")?;
    let latent_path = model.checked("latent.npy")?;
    let labels_path = model.checked("labels.csv")?;
    let config = &model.manifest.config;
    let front: FrontEnd = config
        .get("front")
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| UdllError::format(&model.dir.join("manifest.json"), format!("its front end: {e}")))?
        .unwrap_or_default();
    let basis_path = model.optional("scattering_basis.npy")?;
    let basis = basis_path.as_deref().map(read_npy_matrix).transpose()?.map(|(values, rows, cols)| Basis { values, rows, cols });
    let (fitted, n, d) = read_npy_matrix(&latent_path)?;
    let (fitted_labels, _) = read_labels_csv(&labels_path)?;
    if fitted_labels.len() != n {
        return Err(UdllError::shape(format!("{}: {} rows for the {n} codes of latent.npy", labels_path.display(), fitted_labels.len())));
    }
    let clusters = fitted_labels.iter().max().map_or(0, |m| m + 1);
    observer.line(&format!("assign: {} images into the {clusters} clusters of {} ({n} fitted codes of dimension {d})", ds.n, opts.model_dir.display()));
    front.check(ds.height, ds.width)?;
    let features = front_features(ds, &front, basis.as_ref(), observer)?;
    let seen = features.as_ref().map(|f| f.as_dataset(ds));
    let seen = seen.as_ref().unwrap_or(ds);
    begin_output_dir(&opts.out_dir, ASSIGN_ARTEFACTS)?;
    let latent = match &ckpt_path {
        Some(ckpt_path) => {
            let cp = Checkpoint::load(ckpt_path)?;
            check_fits(&cp.arch, seen, ckpt_path)?;
            let mut ae = cp.autoencoder(ckpt_path)?;
            Latent::encode(&mut ae, &seen.scaled_pixels(cp.input_scale()), seen.n, 512)
        }
        None => {
            let scale = config.get("input_scale").and_then(|v| v.as_f64()).unwrap_or(1.0) as f32;
            Latent { values: seen.scaled_pixels(scale), n: seen.n, d: seen.image_len() }
        }
    };
    latent.check_alive(if ckpt_path.is_some() { "fine-tuned" } else { "front end's" })?;
    if latent.d != d {
        return Err(UdllError::shape(format!("the new images' codes have dimension {}, latent.npy has {d}", latent.d)));
    }
    // A sparse run codes the new points with its own solver; the ridge
    // code needs an n × n factorisation, which a sparse run avoided.
    let sparse: Option<SparseConfig> = config
        .get("sparse")
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| UdllError::format(&model.dir.join("manifest.json"), format!("its sparse self-expression: {e}")))?;
    let labels = match &sparse {
        Some(s) => {
            observer.line(&format!("assign: coding the new images with the run's {}", s.describe()));
            assign_sparse(&fitted, n, d, &fitted_labels, clusters, &latent.values, latent.n, &s.solver, observer)?
        }
        None => assign_by_residual(&fitted, n, d, &fitted_labels, clusters, &latent.values, latent.n, opts.ridge)?,
    };
    let sc = ds.labels.as_deref().map(|t| scores(&labels, t)).transpose()?;
    let out = &opts.out_dir;
    latent.save(&out.join("latent.npy"))?;
    write_atomic(&out.join("labels.csv"), labels_csv(&labels, ds.labels.as_deref())?.as_bytes())?;
    let seconds = t0.elapsed().as_secs_f64();
    let metrics = serde_json::json!({
        "acc": sc.map(|s| s.acc), "nmi": sc.map(|s| s.nmi), "ari": sc.map(|s| s.ari),
        "images": ds.n, "clusters": clusters, "fitted": n, "ridge": sparse.is_none().then_some(opts.ridge),
        "coded_by": sparse.as_ref().map_or("ridge", |s| s.name()),
        "model": opts.model_dir.display().to_string(),
        "timings_seconds": {"total": seconds},
    });
    write_json(&out.join("metrics.json"), &metrics)?;
    let mut inputs = opts.inputs.clone();
    inputs.extend([model.dir.join("manifest.json"), latent_path, labels_path]);
    inputs.extend(ckpt_path.into_iter().chain(basis_path));
    let facts = RunFacts {
        command: &opts.command,
        config: serde_json::json!({"model": opts.model_dir.display().to_string(), "ridge": opts.ridge, "model_config": model.manifest.config}),
        seed: model.manifest.seed,
        dataset: ds.summary(),
        inputs: &inputs,
        threads: opts.threads,
    };
    Manifest::record_and_write(facts, out, true, ASSIGN_ARTEFACTS)?;
    Ok(Assignment { labels, scores: sc, clusters, seconds })
}
