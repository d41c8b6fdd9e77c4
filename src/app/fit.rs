//! The library's front door: fit a dataset in memory, read the result,
//! place new images, and save or load the run directory the CLI writes.
//!
//! [`fit`] runs the same plan as `udll run` ([`run_planned`]: dense or
//! landmark mode, the automatic fallback, restarts and the label-free
//! choice) with every artefact kept in memory, so nothing is written; the
//! labels are the ones `udll run` writes for the same data, params and
//! seed. [`Fitted::save`] writes them as a run directory with a manifest
//! (which `udll assign`, `udll report` and `udll audit` read), and
//! [`Fitted::load`] reads one back, checking every file against its
//! manifest.

use crate::app::assign::{AssignModel, DEFAULT_RIDGE};
use crate::app::pipeline::{Choice, Codes, RunOptions, Start, begin_output};
use crate::app::plan::{Plan, run_planned};
use crate::app::run_dir::RunDir;
use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::io::labels::parse_labels_csv;
use crate::io::manifest::{Manifest, RunFacts};
use crate::io::npy_out::{npy_matrix_from_bytes, npy_vec_from_bytes};
use crate::io::sink::{Files, Sink};
use crate::linalg::sparse::Csr;
use crate::metrics::{Scores, scores};
use crate::model::udll::ValidUdllParams;
use crate::progress::Observer;
use std::path::Path;

/// How to fit, besides the params: the number of clusters, the plan and
/// the label-free choice. The default is what `udll run` does without
/// flags.
#[derive(Clone, Debug)]
pub struct FitOptions {
    /// Number of clusters; defaults to the number of label classes.
    pub clusters: Option<usize>,
    /// Dense or landmark mode, restarts.
    pub plan: Plan,
    /// Label-free choices of the post-processing and between restarts.
    pub choice: Choice,
    /// Where the starting autoencoder comes from.
    pub start: Start,
    /// Which n × d code files are kept among the artefacts (all by
    /// default; [`Codes::Model`] keeps a large landmark fit's memory to
    /// what placing new images needs).
    pub codes: Codes,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { clusters: None, plan: Plan::default(), choice: Choice::default(), start: Start::Pretrain, codes: Codes::All }
    }
}

/// A fitted run, in memory: its labels, scores, artefacts and what places
/// new images.
pub struct Fitted {
    labels: Vec<usize>,
    scores: Option<Scores>,
    clusters: usize,
    config: serde_json::Value,
    dataset: serde_json::Value,
    seed: u64,
    files: Files,
    model: AssignModel,
}

/// The self-expressive coefficients of a fit.
#[derive(Clone, Debug)]
pub enum Coefficients {
    /// A dense n × n (or M × M over the landmarks) matrix, row-major.
    Dense {
        /// The values.
        values: Vec<f32>,
        /// Its side.
        n: usize,
    },
    /// A sparse self-expression's C (EnSC, SSC-OMP).
    Sparse(Csr),
}

/// New images placed in a fit's clusters.
#[derive(Clone, Debug)]
pub struct Placed {
    /// The cluster of each new image.
    pub labels: Vec<usize>,
    /// ACC / NMI / ARI, when the new images have labels.
    pub scores: Option<Scores>,
    /// Their codes (front end and network), n × d row-major.
    pub codes: Vec<f32>,
}

/// Fit `ds` with `params` as `udll run` would, writing nothing (see the
/// module's doc).
pub fn fit(ds: &Dataset, params: &ValidUdllParams, opts: &FitOptions, observer: &dyn Observer) -> Result<Fitted> {
    let sink = Sink::memory();
    let run_opts = RunOptions {
        out: sink.clone(),
        start: opts.start.clone(),
        clusters: opts.clusters,
        threads: rayon::current_num_threads(),
        inputs: vec![],
        command: vec![],
        keep_latents: false,
        codes: opts.codes,
        choice: opts.choice,
    };
    let out = run_planned(ds, params, &run_opts, &opts.plan, observer)?;
    let files = sink.take_files().expect("a memory sink holds its files");
    let config = serde_json::to_value(params).expect("params serialise");
    let get = |name: &str| Ok(files.get(name).cloned());
    let model = AssignModel::from_artefacts(&config, &get, Path::new("memory"), DEFAULT_RIDGE)?;
    let s = out.summary;
    Ok(Fitted { labels: s.labels, scores: s.scores, clusters: s.clusters, config, dataset: ds.summary(), seed: params.seed, files, model })
}

impl Fitted {
    /// The cluster of each image fitted.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// ACC / NMI / ARI, when the fitted images had labels.
    pub fn scores(&self) -> Option<Scores> {
        self.scores
    }

    /// The number of clusters.
    pub fn clusters(&self) -> usize {
        self.clusters
    }

    /// The settings, as the manifest records them.
    pub fn config(&self) -> &serde_json::Value {
        &self.config
    }

    /// The names of the artefacts (the files of the run directory).
    pub fn artefact_names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The bytes of one artefact (`labels.csv`, `metrics.json`, …).
    pub fn artefact(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    /// The codes the clustering used (the fine-tuned latent codes, or the
    /// front end's features for EDSC): (values, n, d), row-major.
    pub fn codes(&self) -> Result<(Vec<f32>, usize, usize)> {
        npy_matrix_from_bytes(Path::new("latent.npy"), self.need("latent.npy")?)
    }

    /// The self-expressive coefficients C: dense, or sparse for EnSC and
    /// SSC-OMP.
    pub fn coefficients(&self) -> Result<Coefficients> {
        if let Some(b) = self.files.get("coef.npy") {
            let (values, r, c) = npy_matrix_from_bytes(Path::new("coef.npy"), b)?;
            if r != c {
                return Err(UdllError::shape(format!("coef.npy is {r} × {c}, not square")));
            }
            return Ok(Coefficients::Dense { values, n: r });
        }
        let part = |name: &str| -> Result<Vec<usize>> {
            let v: Vec<i64> = npy_vec_from_bytes(Path::new(name), self.need(name)?)?;
            v.into_iter().map(|x| usize::try_from(x).map_err(|_| UdllError::format(Path::new(name), format!("a negative entry {x}")))).collect()
        };
        let (indptr, indices) = (part("coef_indptr.npy")?, part("coef_indices.npy")?);
        let values: Vec<f64> = npy_vec_from_bytes(Path::new("coef_values.npy"), self.need("coef_values.npy")?)?;
        let rows = indptr.len().saturating_sub(1);
        if indptr.first() != Some(&0) || indptr.last() != Some(&values.len()) || indices.len() != values.len() || indices.iter().any(|&j| j >= rows) {
            return Err(UdllError::format(Path::new("coef_indptr.npy"), "the CSR parts do not agree"));
        }
        Ok(Coefficients::Sparse(Csr { rows, cols: rows, indptr, indices, values }))
    }

    /// Place new images in this fit's clusters, as `udll assign` does (the
    /// default ridge for a dense run, the run's solver for a sparse one).
    pub fn assign(&self, ds: &Dataset, observer: &dyn Observer) -> Result<Placed> {
        let (latent, labels) = self.model.place(ds, observer)?;
        let scores = ds.labels.as_deref().map(|t| scores(&labels, t)).transpose()?;
        Ok(Placed { labels, scores, codes: latent.values })
    }

    /// Write the run directory `dir` (every artefact and a manifest), as
    /// `udll run --out dir` would have; it has no command line to re-run,
    /// so `udll audit` refuses it, while `udll assign` and `udll report`
    /// read it.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let names: Vec<&str> = self.files.keys().map(String::as_str).collect();
        begin_output(&Sink::dir(dir), &names)?;
        let sink = Sink::dir(dir);
        for (name, bytes) in &self.files {
            sink.put(name, bytes)?;
        }
        let facts = RunFacts {
            command: &[],
            config: self.config.clone(),
            seed: self.seed,
            dataset: self.dataset.clone(),
            inputs: &[],
            threads: rayon::current_num_threads(),
        };
        Manifest::record_and_write(facts, dir, true, &names).map(|_| ())
    }

    /// Read the run directory `dir` (written by `udll run` or
    /// [`Self::save`]), every file checked against its manifest.
    pub fn load(dir: &Path) -> Result<Fitted> {
        let run = RunDir::open(dir)?;
        let mut files = Files::new();
        for rec in &run.manifest.artefacts {
            files.insert(rec.path.clone(), run.read(&rec.path)?.expect("the manifest lists it"));
        }
        let config = run.manifest.config.clone();
        let get = |name: &str| Ok(files.get(name).cloned());
        let model = AssignModel::from_artefacts(&config, &get, dir, DEFAULT_RIDGE)?;
        let labels_text =
            String::from_utf8(files.get("labels.csv").cloned().unwrap_or_default()).map_err(|_| UdllError::format(&dir.join("labels.csv"), "not UTF-8"))?;
        let (labels, truth) = parse_labels_csv(&dir.join("labels.csv"), &labels_text)?;
        let scores = truth.as_deref().map(|t| scores(&labels, t)).transpose()?;
        Ok(Fitted { clusters: model.clusters, labels, scores, config, dataset: run.manifest.dataset.clone(), seed: run.manifest.seed, files, model })
    }

    fn need(&self, name: &str) -> Result<&[u8]> {
        self.artefact(name).ok_or_else(|| UdllError::config(format!("the fit has no {name}")))
    }
}
