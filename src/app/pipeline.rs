//! The UDLL method as four stages, each a library function returning an
//! in-memory value that can save itself:
//!
//! 1. [`pretrain_stage`] → [`Pretrained`]: the starting autoencoder
//!    (pretrained here on ½‖X − X̂‖², or loaded);
//! 2. [`prior_graph_stage`] → [`PriorGraphStage`]: the pretrained latent
//!    codes and the prior graph on them (Eq. 17);
//! 3. [`finetune_stage`] → [`Finetuned`]: the autoencoder and the
//!    self-expressive C after fine-tuning (Eq. 18);
//! 4. [`cluster_stage`] → [`Clustering`]: thrC, the EDSC post-processing and
//!    spectral clustering of C, scored when labels are known.
//!
//! [`run`] chains them in memory and saves each as it completes; the step
//! commands run one stage each.

use crate::cluster::sparse::{SparseConfig, cluster_sparse, sparse_memory, sparse_self_expression};
use crate::cluster::{PostCandidate, PostConfig, PostGrid, SelectBy, SelectionScore, auto_post, cluster_coef, cluster_coef_scored};
use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::features::{FrontEnd, front_features};
use crate::graph::{PriorGraph, adaptive_neighbour_graph, check_graph_size};
use crate::io::checkpoint::Checkpoint;
use crate::io::labels::labels_csv;
use crate::io::manifest::{Manifest, RunFacts, begin_output_dir};
use crate::io::npy_out::{put_npy_f32, put_npy_vec, write_npy_f32};
use crate::io::sink::Sink;
use crate::io::{json_bytes, write_atomic};
use crate::metrics::{Scores, scores};
use crate::model::autoencoder::{AeArch, ConvAutoencoder};
use crate::model::pretrain::{PretrainReport, pretrain};
use crate::model::self_expressive::{CoefRegularizer, effective_coef};
use crate::model::udll::Method;
use crate::model::udll::finetune::{FinetuneConfig, FinetuneReport, LossTerms, UdllNet, finetune};
use crate::model::udll::params::ValidUdllParams;
use crate::progress::Observer;
use serde::Serialize;
use std::borrow::Cow;
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

/// What a run needs besides its params and data.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Where every artefact goes: a directory ([`Sink::dir`]), or memory
    /// ([`Sink::memory`]: nothing is written, and no manifest is made).
    pub out: Sink,
    /// Where the starting autoencoder comes from.
    pub start: Start,
    /// Number of clusters; defaults to the number of label classes.
    pub clusters: Option<usize>,
    /// The thread count, recorded in the manifest (results do not depend on it).
    pub threads: usize,
    /// Input files to record in the manifest (dataset, checkpoint …).
    pub inputs: Vec<PathBuf>,
    /// The command line to record in the manifest (what `udll audit`
    /// re-runs); empty when there is none.
    pub command: Vec<String>,
    /// Return the latent codes in [`RunOutput`] (they are saved either
    /// way); without, each is freed once saved, which lowers the peak
    /// memory of fine-tuning by n × d floats.
    pub keep_latents: bool,
    /// Which n × d code files are written.
    pub codes: Codes,
    /// Label-free choices in the clustering stage (none by default).
    pub choice: Choice,
}

/// Which of a run's n × d code files it writes. At n = 70 000 and
/// COIL-20's d = 3 840 each is 1.1 GB; a run kept as a model for
/// `udll assign` needs at most one of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Codes {
    /// All of them: `features.npy` (a front end's), `latent_pretrained.npy`
    /// and `latent.npy` (the default).
    #[default]
    All,
    /// Only what an assignment reads: `latent.npy` where the model codes
    /// new images against every fitted image (a dense or sparse run); a
    /// landmark run keeps only its landmarks' rows (`landmark_codes.npy`,
    /// which every landmark run writes).
    Model,
}

impl Codes {
    /// Whether `latent.npy` is written, for a run whose model needs all
    /// its codes (`model_needs_all`) or only its landmarks'.
    pub fn keeps_latent(self, model_needs_all: bool) -> bool {
        self == Codes::All || model_needs_all
    }

    /// Whether the files no model reads (`features.npy`,
    /// `latent_pretrained.npy`) are written.
    pub fn keeps_others(self) -> bool {
        self == Codes::All
    }
}

/// Label-free choices of the clustering stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// Try the post-processing grid around the params' setting (its
    /// values on each axis, and the references': README, "Choosing without
    /// labels") and keep the best setting by `select_by`;
    /// every candidate goes to `candidates.csv`.
    pub auto_post: bool,
    /// Score the clustering (eigengap, normalised cut) even with a fixed
    /// setting, as restarts need.
    pub score: bool,
    /// Which score decides (here and between restarts).
    pub select_by: SelectBy,
}

/// Wall-clock seconds of each stage.
#[derive(Clone, Debug, Serialize)]
pub struct StageTimes {
    /// The front end (the scattering transform and its projection; 0 for
    /// pixels).
    pub front: f64,
    /// Pretraining (or loading the starting autoencoder).
    pub pretrain: f64,
    /// The pretrained latent codes and the prior graph.
    pub graph: f64,
    /// Fine-tuning.
    pub finetune: f64,
    /// Post-processing and spectral clustering.
    pub cluster: f64,
    /// The whole run.
    pub total: f64,
}

/// What a finished run returns besides the files it wrote.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// ACC / NMI / ARI, when the dataset has labels.
    pub scores: Option<Scores>,
    /// The number of clusters.
    pub clusters: usize,
    /// The cluster of each image.
    pub labels: Vec<usize>,
    /// Seconds per stage.
    pub seconds: StageTimes,
    /// Mean ½‖x − x̂‖² per image at the last pretraining epoch (None when
    /// the autoencoder was loaded).
    pub pretrain_final_loss: Option<f64>,
    /// The weighted loss terms at the last fine-tuning epoch.
    pub finetune_final: Option<LossTerms>,
    /// The label-free scores, the setting used and the candidates, when
    /// [`RunOptions::choice`] asked for them.
    pub selection: Option<Selection>,
}

/// What a label-free choice saw: the scores of the clustering kept, the
/// post-processing that gave it, and every candidate tried.
#[derive(Clone, Debug, Serialize)]
pub struct Selection {
    /// The scores of the clustering kept.
    pub score: SelectionScore,
    /// The post-processing that gave it.
    pub post: PostConfig,
    /// Every candidate (one when the setting was fixed).
    #[serde(skip)]
    pub candidates: Vec<CandidateRow>,
}

/// One line of `candidates.csv`.
#[derive(Clone, Debug)]
pub struct CandidateRow {
    /// The restart (0 without restarts).
    pub restart: usize,
    /// The seed of that restart.
    pub seed: u64,
    /// The post-processing setting.
    pub post: PostConfig,
    /// Its label-free scores.
    pub score: SelectionScore,
    /// ACC / NMI / ARI, only when labels were given, only for reporting.
    pub scores: Option<Scores>,
    /// Whether this is the one kept.
    pub chosen: bool,
}

/// `candidates.csv`: every candidate, its scores and (only for
/// reporting, when labels were given) its accuracy.
pub fn candidates_csv(rows: &[CandidateRow]) -> String {
    let mut s = String::from("restart,seed,rho,dim,power,eigengap,ncut,agreement,acc,nmi,chosen\n");
    for r in rows {
        let (acc, nmi) = r.scores.map_or((String::new(), String::new()), |sc| (format!("{:.6}", sc.acc), format!("{:.6}", sc.nmi)));
        let agreement = r.score.agreement.map_or(String::new(), |a| format!("{a:.6}"));
        s += &format!(
            "{},{},{},{},{},{:.6},{:.6},{agreement},{acc},{nmi},{}\n",
            r.restart,
            r.seed,
            r.post.rho,
            r.post.dim,
            r.post.power,
            r.score.eigengap,
            r.score.ncut,
            u8::from(r.chosen)
        );
    }
    s
}

impl RunSummary {
    /// The summary of a run that trained no network (EDSC): the seconds
    /// of the front end, the self-expression and the clustering, and the
    /// run's start.
    fn without_network(clustering: Clustering, [front, coding, cluster]: [f64; 3], start: Instant) -> RunSummary {
        let seconds = StageTimes { front, pretrain: 0.0, graph: 0.0, finetune: coding, cluster, total: start.elapsed().as_secs_f64() };
        RunSummary {
            scores: clustering.scores,
            clusters: clustering.clusters,
            labels: clustering.labels,
            seconds,
            pretrain_final_loss: None,
            finetune_final: None,
            selection: clustering.selection,
        }
    }

    /// `metrics.json` of a run with `params`: scores, clusters, the
    /// settings' names, final losses and stage times (a caller adds its
    /// own sections).
    pub fn metrics(&self, params: &ValidUdllParams) -> serde_json::Value {
        let sc = self.scores;
        serde_json::json!({
            "acc": sc.map(|s| s.acc), "nmi": sc.map(|s| s.nmi), "ari": sc.map(|s| s.ari),
            "clusters": self.clusters, "method": params.method, "preset": params.preset, "seed": params.seed,
            "pretrain_final_loss_per_image": self.pretrain_final_loss,
            "finetune_final_loss": self.finetune_final,
            "timings_seconds": self.seconds,
        })
    }
}

/// A run's in-memory results: the summary, and the latent codes before and
/// after fine-tuning when [`RunOptions::keep_latents`] asks for them (for
/// the EDSC ablations and later stages).
pub struct RunOutput {
    /// Scores, labels and times.
    pub summary: RunSummary,
    /// The pretrained latent codes.
    pub latent_pretrained: Option<Latent>,
    /// The fine-tuned latent codes.
    pub latent: Option<Latent>,
}

/// An n × d matrix of latent codes, one row per image.
#[derive(Clone, Debug)]
pub struct Latent {
    /// Row-major values.
    pub values: Vec<f32>,
    /// Rows (images).
    pub n: usize,
    /// Columns (the latent dimension).
    pub d: usize,
}

impl Latent {
    /// Encode x (n images at the network's input scale), `batch` at a time.
    pub fn encode(ae: &mut ConvAutoencoder<f32>, x: &[f32], n: usize, batch: usize) -> Latent {
        let values = ae.embed(x, n, batch);
        Latent { values, n, d: ae.latent_dim() }
    }

    /// Refuse codes that carry nothing: non-finite, or the same value in
    /// every entry (a dead encoder: with `--pretrain-lr 1e9` every code was
    /// 0, and fine-tuning failed an epoch later with no word of why).
    /// `what` names the encoder in the message.
    pub fn check_alive(&self, what: &str) -> Result<()> {
        if self.values.iter().any(|v| !v.is_finite()) {
            return Err(UdllError::NonFinite(format!("the {what} encoder's latent codes have NaN or infinite entries")));
        }
        if let Some(&first) = self.values.first()
            && self.values.iter().all(|&v| v == first)
        {
            return Err(UdllError::Numeric(format!("the {what} encoder is dead: every latent code of every image is {first}; lower the learning rate")));
        }
        Ok(())
    }

    /// Write as an n × d float32 `.npy`.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_npy_f32(path, &self.values, self.n, self.d)
    }

    /// Put as the .npy artefact `name` of `out`.
    pub fn put(&self, out: &Sink, name: &str) -> Result<()> {
        put_npy_f32(out, name, &self.values, self.n, self.d)
    }
}

/// A checkpoint header's provenance: the dataset and input scale every
/// checkpoint records, plus the stage's own fields (`extra`, a JSON object).
/// serde_json keeps keys sorted, so the bytes do not depend on the merge
/// order.
pub fn checkpoint_meta(dataset: &str, n: usize, input_scale: f32, extra: serde_json::Value) -> serde_json::Value {
    let mut meta = serde_json::json!({"dataset": dataset, "n": n, "input_scale": input_scale});
    if let (Some(m), serde_json::Value::Object(e)) = (meta.as_object_mut(), extra) {
        m.extend(e);
    }
    meta
}

/// The architecture the params ask for, sized to a dataset.
pub fn arch_for(params: &ValidUdllParams, ds: &Dataset) -> AeArch {
    AeArch {
        height: ds.height,
        width: ds.width,
        channels_in: ds.channels,
        channels: params.channels.clone(),
        kernels: params.kernels.clone(),
        final_relu: true,
    }
}

/// An untrained autoencoder for `ds`: Glorot filters from the seed (with
/// non-negative encoder filter sums when configured), encoder biases at the
/// configured start.
pub fn fresh_autoencoder(params: &ValidUdllParams, ds: &Dataset) -> Result<ConvAutoencoder<f32>> {
    let mut ae = ConvAutoencoder::<f32>::new(&arch_for(params, ds))?;
    ae.init_glorot(params.seed);
    if params.pretrain.positive_filters {
        ae.make_encoder_filter_sums_positive();
    }
    ae.set_encoder_biases(params.pretrain.encoder_bias_init);
    Ok(ae)
}

/// Where a [`Pretrained`] autoencoder came from, as its checkpoint records.
#[derive(Clone, Debug)]
enum Origin {
    /// Pretrained here: the settings in their recorded form, and the seed.
    Trained { record: serde_json::Value, seed: u64 },
    /// Loaded from a udll checkpoint.
    Checkpoint(String),
    /// Imported from a DSC-Net reference model.
    Reference(String),
}

/// Stage 1: the autoencoder fine-tuning starts from.
pub struct Pretrained {
    /// The autoencoder.
    pub ae: ConvAutoencoder<f32>,
    /// The pretraining log, when it was pretrained here.
    pub report: Option<PretrainReport>,
    dataset: String,
    n: usize,
    input_scale: f32,
    origin: Origin,
}

impl Pretrained {
    /// The file name [`Self::save`] writes in a run directory.
    pub const FILE: &'static str = "pretrained.ckpt";

    /// Mean ½‖x − x̂‖² per image at the last pretraining epoch.
    pub fn final_loss(&self) -> Option<f64> {
        self.report.as_ref().and_then(|r| r.epoch_loss.last().copied())
    }

    /// The per-epoch pretraining loss [`Self::save`] writes when the
    /// autoencoder was pretrained here.
    pub const LOSSES: &'static str = "pretrain_losses.csv";

    /// Save as `dir/pretrained.ckpt`, recording where the weights came from
    /// (the pretraining settings only when they were pretrained here), and
    /// the per-epoch loss as `dir/pretrain_losses.csv` (epoch,loss: mean
    /// ½‖x − x̂‖² per image) when it was pretrained here.
    pub fn save(&self, out: &Sink) -> Result<()> {
        if let Some(r) = &self.report {
            let mut csv = String::from("epoch,loss\n");
            for (i, l) in r.epoch_loss.iter().enumerate() {
                csv += &format!("{},{l:e}\n", i + 1);
            }
            out.put(Self::LOSSES, csv.as_bytes())?;
        }
        let source = match &self.origin {
            Origin::Trained { record, seed } => serde_json::json!({"pretrain": record, "seed": seed}),
            Origin::Checkpoint(p) => serde_json::json!({"from_checkpoint": p}),
            Origin::Reference(p) => serde_json::json!({"from_reference": p}),
        };
        let meta = checkpoint_meta(&self.dataset, self.n, self.input_scale, source);
        out.put(Self::FILE, &Checkpoint::from_autoencoder(&self.ae, "autoencoder", meta).to_bytes())
    }

    /// Save as a stand-alone checkpoint at `path` (`udll pretrain`): the
    /// settings, the final loss and the udll version in its header.
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        let record = match &self.origin {
            Origin::Trained { record, .. } => record.clone(),
            _ => return Err(UdllError::config("only an autoencoder pretrained here is saved as a stand-alone checkpoint")),
        };
        let extra = serde_json::json!({
            "pretrain": record, "final_loss_per_image": self.final_loss(),
            "udll_version": env!("CARGO_PKG_VERSION"),
        });
        let meta = checkpoint_meta(&self.dataset, self.n, self.input_scale, extra);
        Checkpoint::from_autoencoder(&self.ae, "autoencoder", meta).save(path)
    }
}

/// Stage 1: pretrain a fresh autoencoder on x (`ds`'s pixels at the params'
/// input scale), or load the one `start` names (checked against the
/// architecture the params give for `ds`).
pub fn pretrain_stage(ds: &Dataset, params: &ValidUdllParams, start: &Start, x: &[f32], observer: &dyn Observer) -> Result<Pretrained> {
    let arch = arch_for(params, ds);
    let (ae, report, origin) = match start {
        Start::Pretrain => {
            let mut ae = fresh_autoencoder(params, ds)?;
            let report = pretrain(&mut ae, x, ds.n, &params.pretrain, params.seed, observer)?;
            (ae, Some(report), Origin::Trained { record: params.pretrain.record(params.seed), seed: params.seed })
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
            (c.autoencoder(p)?, None, Origin::Checkpoint(p.display().to_string()))
        }
        Start::Reference(dir, name) => {
            let ae = crate::model::reference::import_reference(dir, name, &arch)?;
            (ae, None, Origin::Reference(dir.join(name).display().to_string()))
        }
    };
    Ok(Pretrained { ae, report, dataset: ds.name.clone(), n: ds.n, input_scale: params.input_scale, origin })
}

/// Stage 2: the pretrained latent codes and, when γ > 0, the prior graph
/// on them.
pub struct PriorGraphStage {
    /// The pretrained latent codes.
    pub latent: Latent,
    /// The prior graph (None for DSC, γ = 0).
    pub graph: Option<PriorGraph>,
}

impl PriorGraphStage {
    /// Save as `latent_pretrained.npy` (unless `codes` leaves it out) and
    /// `graph.csv`.
    pub fn save(&self, out: &Sink, codes: Codes) -> Result<()> {
        if codes.keeps_others() {
            self.latent.put(out, "latent_pretrained.npy")?;
        }
        if let Some(g) = &self.graph {
            out.put("graph.csv", g.to_csv().as_bytes())?;
        }
        Ok(())
    }
}

/// The prior graph (Eq. 17) over latent codes, k neighbours each.
pub fn prior_graph(latent: &Latent, k: usize) -> Result<PriorGraph> {
    adaptive_neighbour_graph(&latent.values, latent.n, latent.d, k)
}

/// Refuse a dataset whose images are not the size `arch` (the network in
/// the checkpoint at `ckpt`) was built for.
pub fn check_fits(arch: &AeArch, ds: &Dataset, ckpt: &Path) -> Result<()> {
    if (arch.height, arch.width, arch.channels_in) != (ds.height, ds.width, ds.channels) {
        return Err(UdllError::shape(format!(
            "{} expects {}×{}×{} images, the dataset has {}×{}×{}",
            ckpt.display(),
            arch.height,
            arch.width,
            arch.channels_in,
            ds.height,
            ds.width,
            ds.channels
        )));
    }
    Ok(())
}

/// Stage 2: encode x with the pretrained autoencoder and build the prior
/// graph (Eq. 17, k = `graph_k`) on the codes when the locality term is on.
pub fn prior_graph_stage(ae: &mut ConvAutoencoder<f32>, x: &[f32], n: usize, params: &ValidUdllParams, observer: &dyn Observer) -> Result<PriorGraphStage> {
    let latent = Latent::encode(ae, x, n, 512);
    latent.check_alive("pretrained")?;
    let graph = if params.finetune.locality_weight > 0.0 {
        observer.line(&format!("[2/4] prior graph (Eq. 17): k = {} over {n} latent codes of dimension {}", params.graph_k, latent.d));
        Some(prior_graph(&latent, params.graph_k)?)
    } else {
        observer.line("[2/4] prior graph: skipped (γ = 0, DSC)");
        None
    };
    Ok(PriorGraphStage { latent, graph })
}

/// Stage 3: the fine-tuned network, its log and its latent codes.
pub struct Finetuned {
    /// The autoencoder and the self-expressive layer.
    pub net: UdllNet<f32>,
    /// The per-epoch loss terms.
    pub report: FinetuneReport,
    /// The fine-tuned latent codes.
    pub latent: Latent,
    meta: serde_json::Value,
}

impl Finetuned {
    /// The artefacts [`Self::save`] writes, in order.
    pub const FILES: [&'static str; 4] = ["finetuned.ckpt", "coef.npy", "latent.npy", "losses.csv"];

    /// Save `finetuned.ckpt`, `coef.npy` (C, n × n), `latent.npy` and
    /// `losses.csv`.
    pub fn save(&self, out: &Sink) -> Result<()> {
        let n = self.net.se.n;
        out.put("finetuned.ckpt", &Checkpoint::from_autoencoder(&self.net.ae, "finetuned", self.meta.clone()).to_bytes())?;
        put_npy_f32(out, "coef.npy", &self.net.se.coef.value, n, n)?;
        self.latent.put(out, "latent.npy")?;
        out.put("losses.csv", self.report.to_csv().as_bytes())
    }
}

/// Refuse a fine-tuning whose n × n state (C, its gradient and Adam's two
/// moments, 16·n² bytes) exceeds the memory budget, before any work: at
/// n = 70 000 that is 78 GB, which used to abort on its allocation.
pub fn check_finetune_memory(n: usize) -> Result<()> {
    let bytes = (n as u64).checked_mul(n as u64).and_then(|n2| n2.checked_mul(16));
    crate::memory::check(bytes, &format!("fine-tuning on n = {n} images (C, its gradient and Adam's two moments: 16·n² bytes)"))
}

/// Stage 3: fine-tune `ae` with a fresh self-expressive layer on x (n images
/// at the input scale it was trained at), with the prior graph when γ > 0.
/// `meta` is the provenance the checkpoint records ([`checkpoint_meta`]).
pub fn finetune_stage(
    ae: ConvAutoencoder<f32>,
    x: &[f32],
    n: usize,
    graph: Option<&PriorGraph>,
    params: &FinetuneConfig,
    meta: serde_json::Value,
    observer: &dyn Observer,
) -> Result<Finetuned> {
    check_finetune_memory(n)?;
    let (mut net, report) = finetune(ae, x, n, graph, params, observer)?;
    let latent = Latent::encode(&mut net.ae, x, n, 512);
    latent.check_alive("fine-tuned")?;
    Ok(Finetuned { net, report, latent, meta })
}

/// Stage 4: the labels of a clustering, and their scores when the true
/// labels are known.
pub struct Clustering {
    /// The cluster of each sample.
    pub labels: Vec<usize>,
    /// The number of clusters.
    pub clusters: usize,
    /// The true labels, when known.
    pub truth: Option<Vec<usize>>,
    /// ACC / NMI / ARI against `truth`.
    pub scores: Option<Scores>,
    /// The label-free choice, when one was asked for.
    pub selection: Option<Selection>,
    /// Each sample's image file, when they came from an image folder.
    pub files: Option<Vec<String>>,
}

impl Clustering {
    /// Write `labels.csv` (`index,predicted,true,matched`, and `file` for an image folder) at `path`.
    pub fn write_labels(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.labels_csv()?.as_bytes())
    }

    /// The text of `labels.csv`.
    pub fn labels_csv(&self) -> Result<String> {
        labels_csv(&self.labels, self.truth.as_deref(), self.files.as_deref())
    }

    /// Save as `labels.csv`.
    pub fn save(&self, out: &Sink) -> Result<()> {
        out.put("labels.csv", self.labels_csv()?.as_bytes())
    }
}

/// Stage 4: thrC, post-processing and spectral clustering of the n × n
/// coefficients `coef` (C as trained; the matrix the regulariser `reg`
/// names is clustered) into `clusters` groups, scored against `truth` when
/// given. C is taken by value: it is freed once that matrix is formed.
pub fn cluster_stage(
    coef: Vec<f32>,
    n: usize,
    clusters: usize,
    reg: CoefRegularizer,
    post: &PostConfig,
    seed: u64,
    truth: Option<Vec<usize>>,
) -> Result<Clustering> {
    cluster_stage_choosing(coef, n, clusters, reg, post, Choice::default(), seed, truth, &crate::progress::Silent)
}

/// [`cluster_stage`] with label-free choices: the best setting of the
/// post-processing grid by `choice.select_by` (`choice.auto_post`), or the
/// given setting scored (`choice.score`). The truth is read only to score
/// the result and each candidate for reporting, after the choice is made.
#[allow(clippy::too_many_arguments)]
pub fn cluster_stage_choosing(
    coef: Vec<f32>,
    n: usize,
    clusters: usize,
    reg: CoefRegularizer,
    post: &PostConfig,
    choice: Choice,
    seed: u64,
    truth: Option<Vec<usize>>,
    observer: &dyn Observer,
) -> Result<Clustering> {
    if coef.len() != n * n {
        return Err(UdllError::shape(format!("the coefficient matrix has {} entries, not {n} × {n}", coef.len())));
    }
    // Post-processing and the spectral step hold about three n × n f64
    // matrices at once.
    let bytes = (n as u64).checked_mul(n as u64).and_then(|n2| n2.checked_mul(24));
    crate::memory::check(bytes, &format!("clustering n = {n} samples (about 24·n² bytes)"))?;
    if coef.iter().any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("the coefficient matrix has NaN or infinite entries".into()));
    }
    if coef.iter().all(|&v| v == 0.0) {
        return Err(UdllError::Numeric("the coefficient matrix is all zeros: there is nothing to cluster".into()));
    }
    let coef = match reg {
        CoefRegularizer::Plain => coef,
        CoefRegularizer::SymmetricNoDiag => effective_coef(&coef, n, reg),
    };
    let report = |labels: &[usize]| truth.as_deref().map(|t| scores(labels, t)).transpose();
    let (labels, selection) = if choice.auto_post {
        let grid = PostGrid::around(post);
        let t0 = Instant::now();
        let cands = auto_post(&coef, n, clusters, post, &grid, seed, |done, total| {
            observer.progress("auto-post", done, total, "settings of (ρ, d, power) clustered and scored", t0.elapsed().as_secs_f64())
        })?;
        let best = choice
            .select_by
            .best(&cands.iter().map(|c| c.score).collect::<Vec<_>>())
            .ok_or_else(|| UdllError::Numeric("auto-post: no candidate has a finite score".into()))?;
        let rows = cands
            .iter()
            .enumerate()
            .map(|(i, c)| Ok(CandidateRow { restart: 0, seed, post: c.post.clone(), score: c.score, scores: report(&c.labels)?, chosen: i == best }))
            .collect::<Result<Vec<_>>>()?;
        let PostCandidate { post, labels, score } = cands.into_iter().nth(best).expect("best is an index of the candidates");
        (labels, Some(Selection { score, post, candidates: rows }))
    } else if choice.score {
        let (labels, score) = cluster_coef_scored(&coef, n, clusters, post, seed)?;
        let row = CandidateRow { restart: 0, seed, post: post.clone(), score, scores: report(&labels)?, chosen: true };
        (labels, Some(Selection { score, post: post.clone(), candidates: vec![row] }))
    } else {
        (cluster_coef(&coef, n, clusters, post, seed)?, None)
    };
    drop(coef);
    let scores = report(&labels)?;
    Ok(Clustering { labels, clusters, truth, scores, selection, files: None })
}

/// Artefacts in the order the manifest lists them (`candidates.csv` only
/// with a label-free choice, `landmarks.csv` only in landmark mode).
pub const RUN_ARTEFACTS: &[&str] = &[
    "features.npy",
    "scattering_basis.npy",
    "pretrained.ckpt",
    "pretrain_losses.csv",
    "latent_pretrained.npy",
    "sample.csv",
    "landmarks.csv",
    "landmark_codes.npy",
    "graph.csv",
    "finetuned.ckpt",
    "coef.npy",
    "coef_indptr.npy",
    "coef_indices.npy",
    "coef_values.npy",
    "latent.npy",
    "losses.csv",
    "labels.csv",
    "candidates.csv",
    "metrics.json",
];

/// What `metrics.json` says of a label-free choice: the rule, what was
/// kept, and its scores; `restarts` adds which restart won.
pub fn selection_record(sel: &Selection, choice: Choice, restarts: Option<serde_json::Value>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "rule": choice.select_by.describe(),
        "select_by": choice.select_by,
        "auto_post": choice.auto_post,
        "post": sel.post,
        "eigengap": sel.score.eigengap,
        "ncut_score": sel.score.ncut,
        "agreement": sel.score.agreement,
        "candidates": sel.candidates.len(),
    });
    if let Some(r) = restarts {
        v["restarts"] = r;
    }
    v
}

/// The front end's stage: for the scattering front end, the features of
/// `ds` (saved as `dir/features.npy`, n × d float32, unless `codes` leaves
/// it out, and the projection's basis as `dir/scattering_basis.npy`, D × k,
/// when there is one) and the
/// dataset the network or EDSC sees instead of the pixels; for pixels,
/// `ds` itself. Returns that dataset and the stage's seconds.
pub fn front_stage<'a>(ds: &'a Dataset, front: &FrontEnd, out: &Sink, codes: Codes, observer: &dyn Observer) -> Result<(Cow<'a, Dataset>, f64)> {
    let t0 = Instant::now();
    front.check(ds.height, ds.width)?;
    let Some(f) = front_features(ds, front, None, observer)? else { return Ok((Cow::Borrowed(ds), 0.0)) };
    if f.values.iter().any(|v| !v.is_finite()) {
        return Err(UdllError::NonFinite("the front end's features have NaN or infinite entries".into()));
    }
    if codes.keeps_others() {
        put_npy_f32(out, "features.npy", &f.values, f.n, f.d)?;
    }
    if let Some(b) = &f.basis {
        put_npy_f32(out, "scattering_basis.npy", &b.values, b.rows, b.cols)?;
    }
    Ok((Cow::Owned(f.as_dataset(ds)), t0.elapsed().as_secs_f64()))
}

/// The number of clusters: the one asked for, else the label classes.
pub fn cluster_count(ds: &Dataset, asked: Option<usize>) -> Result<usize> {
    let clusters = match (asked, ds.num_classes()) {
        (Some(k), _) => k,
        (None, Some(k)) => k,
        (None, None) => return Err(UdllError::config("the dataset has no labels: give the number of clusters")),
    };
    if clusters < 2 || clusters > ds.n {
        return Err(UdllError::config(format!("{clusters} clusters for {} images", ds.n)));
    }
    Ok(clusters)
}

/// Run UDLL (or DSC) end to end on `ds` and write everything to
/// `opts.out_dir`: pretrained.ckpt, latent_pretrained.npy, graph.csv,
/// finetuned.ckpt, coef.npy, latent.npy, labels.csv, losses.csv,
/// metrics.json, manifest.json.
pub fn run(ds: &Dataset, params: &ValidUdllParams, opts: &RunOptions, observer: &dyn Observer) -> Result<RunOutput> {
    ds.validate()?;
    // Everything that can be checked before the first expensive step is:
    // a graph that cannot be built used to fail only after pretraining.
    let clusters = cluster_count(ds, opts.clusters)?;
    if params.finetune.locality_weight > 0.0 {
        check_graph_size(ds.n, params.graph_k)?;
    }
    if params.method == Method::Edsc {
        // A sparse self-expression's memory depends on the features'
        // dimension, checked once the front end has run (run_edsc).
        if params.sparse.is_none() {
            check_edsc_memory(ds.n)?;
        }
    } else {
        check_finetune_memory(ds.n)?;
    }
    params.front.check(ds.height, ds.width)?;
    if let Some(sparse) = params.sparse.as_ref().filter(|_| opts.choice.auto_post || opts.choice.score) {
        return Err(UdllError::config(format!(
            "auto-post and label-free scores post-process a dense C; {} clusters its sparse codes directly (drop the sparse self-expression or the label-free choice)",
            sparse.name()
        )));
    }
    let out = &opts.out;
    begin_output(out, RUN_ARTEFACTS)?;
    let t0 = Instant::now();
    let images = ds;
    let (seen, t_front) = front_stage(images, &params.front, out, opts.codes, observer)?;
    let ds: &Dataset = &seen;
    if params.method == Method::Edsc {
        return run_edsc(images, ds, params, opts, clusters, (t0, t_front), observer);
    }
    let t_pre0 = Instant::now();
    let x = ds.scaled_pixels(params.input_scale);
    let n = ds.n;

    let layers: Vec<String> = params.channels.iter().zip(&params.kernels).map(|(c, k)| format!("{c}@{k}x{k}")).collect();
    observer.line(&format!("[1/4] autoencoder: {} images, {}", n, layers.join(", ")));
    let mut pretrained = pretrain_stage(ds, params, &opts.start, &x, observer)?;
    pretrained.save(out)?;
    let t_pre = t_pre0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let prior = prior_graph_stage(&mut pretrained.ae, &x, n, params, observer)?;
    prior.save(out, opts.codes)?;
    let PriorGraphStage { latent: latent_pretrained, graph } = prior;
    let latent_pretrained = opts.keep_latents.then_some(latent_pretrained);
    let t_graph = t1.elapsed().as_secs_f64();

    let t2 = Instant::now();
    let f = &params.finetune;
    observer.line(&format!("[3/4] fine-tune: {} epochs, α = {}, β = {}, γ = {}", f.epochs, f.self_expr_weight, f.coef_weight, f.locality_weight));
    let pretrain_final_loss = pretrained.final_loss();
    let meta = checkpoint_meta(&ds.name, n, params.input_scale, serde_json::json!({"finetune": params.finetune, "seed": params.seed}));
    let finetuned = finetune_stage(pretrained.ae, &x, n, graph.as_ref(), f, meta, observer)?;
    let t_ft = t2.elapsed().as_secs_f64();
    finetuned.save(out)?;

    let t3 = Instant::now();
    let p = &params.post;
    // Only C outlives fine-tuning: the network and C's gradient are freed
    // before the clustering's own n² buffers.
    let Finetuned { net, report, latent, .. } = finetuned;
    let (mut clustering, sparse_record) = match &params.sparse {
        // The fine-tuned codes coded afresh by EnSC or SSC-OMP, beside the
        // learned C (saved in coef.npy, not clustered).
        Some(sparse) => {
            drop(net);
            observer.line(&format!("[4/4] cluster the fine-tuned codes: {}", sparse.describe()));
            let (c, record, _) = sparse_stage(&latent, sparse, clusters, params.seed, (ds.labels.clone(), ds.files.clone()), out, observer)?;
            (c, Some(record))
        }
        None => {
            observer.line(&format!("[4/4] cluster: thrC ρ = {}, r = {}·{} + 1, power {}, {:?}", p.rho, p.dim, clusters, p.power, p.assign));
            let coef = net.into_coef();
            (cluster_stage_choosing(coef, n, clusters, f.coef_reg, p, opts.choice, params.seed, ds.labels.clone(), observer)?, None)
        }
    };
    let latent = opts.keep_latents.then_some(latent);
    let t_cl = t3.elapsed().as_secs_f64();
    clustering.files = ds.files.clone();
    clustering.save(out)?;
    if let Some(sel) = clustering.selection.as_ref().filter(|_| opts.choice.auto_post) {
        out.put("candidates.csv", candidates_csv(&sel.candidates).as_bytes())?;
    }

    let seconds = StageTimes { front: t_front, pretrain: t_pre, graph: t_graph, finetune: t_ft, cluster: t_cl, total: t0.elapsed().as_secs_f64() };
    let summary = RunSummary {
        scores: clustering.scores,
        clusters,
        labels: clustering.labels,
        seconds,
        pretrain_final_loss,
        finetune_final: report.epochs.last().copied(),
        selection: clustering.selection,
    };
    let mut metrics = summary.metrics(params);
    if let Some(sel) = &summary.selection {
        metrics["selection"] = selection_record(sel, opts.choice, None);
    }
    if let Some(record) = sparse_record {
        metrics["self_expression"] = record;
    }
    finish_run_dir(images, params, opts, &metrics, RUN_ARTEFACTS)?;
    Ok(RunOutput { summary, latent_pretrained, latent })
}

/// Refuse EDSC's n × n state (the ridge solution in f64, C in f32, and the
/// clustering's three f64 matrices: 44·n² bytes) when it exceeds the budget.
pub fn check_edsc_memory(n: usize) -> Result<()> {
    let bytes = (n as u64).checked_mul(n as u64).and_then(|n2| n2.checked_mul(44));
    crate::memory::check(
        bytes,
        &format!("EDSC's dense ridge on n = {n} samples (about 44·n² bytes; a sparse self-expression, EnSC or SSC-OMP, holds nothing n × n)"),
    )
}

/// `--method edsc`: no network. The rows of `seen` (the front end's
/// features, or the pixels at the input scale) are self-expressed by
/// EDSC's ridge (λ = `edsc_lambda` relative to their mean squared norm),
/// and C is post-processed and clustered as a fine-tuned C is. Writes
/// `coef.npy`, `latent.npy` (the features clustered, which `udll assign`
/// codes new images against), `labels.csv`, `metrics.json` and the
/// manifest; `images` is the data as given, which the manifest records.
fn run_edsc(
    images: &Dataset,
    seen: &Dataset,
    params: &ValidUdllParams,
    opts: &RunOptions,
    clusters: usize,
    start: (Instant, f64),
    observer: &dyn Observer,
) -> Result<RunOutput> {
    let (t0, t_front) = start;
    let out = &opts.out;
    let t2 = Instant::now();
    let (n, d) = (seen.n, seen.image_len());
    let features = Latent { values: seen.scaled_pixels(params.input_scale), n, d };
    features.check_alive("front end's")?;
    if let Some(sparse) = &params.sparse {
        return run_sparse(images, seen, features, sparse, params, opts, clusters, (t0, t_front), observer);
    }
    observer.line(&format!("[2/3] EDSC self-expression: ridge, λ = {} × the mean squared norm, {n} samples of dimension {d}", params.edsc_lambda));
    let coef = crate::cluster::ridge_self_expression(&features.values, n, d, params.edsc_lambda)?;
    put_npy_f32(out, "coef.npy", &coef, n, n)?;
    features.put(out, "latent.npy")?;
    let t_se = t2.elapsed().as_secs_f64();

    let t3 = Instant::now();
    let p = &params.post;
    observer.line(&format!("[3/3] cluster: thrC ρ = {}, r = {}·{} + 1, power {}, {:?}", p.rho, p.dim, clusters, p.power, p.assign));
    let mut clustering = cluster_stage_choosing(coef, n, clusters, CoefRegularizer::Plain, p, opts.choice, params.seed, seen.labels.clone(), observer)?;
    clustering.files = seen.files.clone();
    clustering.save(out)?;
    if let Some(sel) = clustering.selection.as_ref().filter(|_| opts.choice.auto_post) {
        out.put("candidates.csv", candidates_csv(&sel.candidates).as_bytes())?;
    }
    let t_cl = t3.elapsed().as_secs_f64();
    let summary = RunSummary::without_network(clustering, [t_front, t_se, t_cl], t0);
    let mut metrics = summary.metrics(params);
    if let Some(sel) = &summary.selection {
        metrics["selection"] = selection_record(sel, opts.choice, None);
    }
    finish_run_dir(images, params, opts, &metrics, RUN_ARTEFACTS)?;
    Ok(RunOutput { summary, latent_pretrained: None, latent: opts.keep_latents.then_some(features) })
}

/// Bytes of a sparse self-expression over n samples of dimension d,
/// against the budget.
fn check_sparse_memory(n: usize, d: usize, sparse: &SparseConfig) -> Result<()> {
    crate::memory::check(sparse_memory(n, d, sparse.nonzeros().min(n)), &format!("{} on n = {n} samples of dimension {d}", sparse.name()))
}

/// `run_edsc` with a sparse self-expression: EnSC or SSC-OMP codes the
/// features (`cluster::sparse`), C is written in CSR form
/// (`coef_indptr.npy`, `coef_indices.npy`, `coef_values.npy`: SciPy's
/// `csr_matrix((values, indices, indptr))`), and its sparse affinity is
/// clustered on a CSR operator. Nothing n × n is allocated.
#[allow(clippy::too_many_arguments)]
fn run_sparse(
    images: &Dataset,
    seen: &Dataset,
    features: Latent,
    sparse: &SparseConfig,
    params: &ValidUdllParams,
    opts: &RunOptions,
    clusters: usize,
    start: (Instant, f64),
    observer: &dyn Observer,
) -> Result<RunOutput> {
    let (t0, t_front) = start;
    let out = &opts.out;
    let (n, d) = (features.n, features.d);
    observer.line(&format!("[2/3] sparse self-expression: {}, {n} samples of dimension {d}", sparse.describe()));
    let (clustering, record, times) = sparse_stage(&features, sparse, clusters, params.seed, (seen.labels.clone(), seen.files.clone()), out, observer)?;
    features.put(out, "latent.npy")?;
    let summary = RunSummary::without_network(clustering, [t_front, times.0, times.1], t0);
    let mut metrics = summary.metrics(params);
    metrics["self_expression"] = record;
    finish_run_dir(images, params, opts, &metrics, RUN_ARTEFACTS)?;
    Ok(RunOutput { summary, latent_pretrained: None, latent: opts.keep_latents.then_some(features) })
}

/// The sparse self-expression of `features` and the clustering of its
/// codes, once its memory has been checked against the budget: writes the
/// CSR parts and `labels.csv` into `out`, and returns
/// the clustering, what `metrics.json` records of it, and the seconds of
/// the coding and of the clustering.
pub(crate) fn sparse_stage(
    features: &Latent,
    sparse: &SparseConfig,
    clusters: usize,
    seed: u64,
    (truth, files): (Option<Vec<usize>>, Option<Vec<String>>),
    out: &Sink,
    observer: &dyn Observer,
) -> Result<(Clustering, serde_json::Value, (f64, f64))> {
    let (n, d) = (features.n, features.d);
    check_sparse_memory(n, d, sparse)?;
    let t0 = Instant::now();
    let code = sparse_self_expression(&features.values, n, d, &sparse.solver, observer)?;
    if code.unfinished > 0 {
        observer.line(&format!("note: {} of {n} samples reached the round limit before the oracle certified their codes", code.unfinished));
    }
    let coef = code.coef;
    let as_i64 = |v: &[usize]| v.iter().map(|&x| x as i64).collect::<Vec<i64>>();
    put_npy_vec(out, "coef_indptr.npy", &as_i64(&coef.indptr))?;
    put_npy_vec(out, "coef_indices.npy", &as_i64(&coef.indices))?;
    put_npy_vec(out, "coef_values.npy", &coef.values)?;
    let t_code = t0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    observer.line(&format!("cluster: sparse affinity, Lanczos on the normalised affinity, k-means ({} restarts)", sparse.restarts));
    let sc = cluster_sparse(&coef, clusters, sparse, seed)?;
    if !sc.converged {
        observer.line(&format!("note: Lanczos stopped at {} steps before every eigenpair met its tolerance", sc.lanczos_steps));
    }
    let scores = truth.as_deref().map(|t| scores(&sc.labels, t)).transpose()?;
    let clustering = Clustering { labels: sc.labels, clusters, truth, scores, selection: None, files };
    clustering.save(out)?;
    let record = serde_json::json!({
        "solver": sparse.name(),
        "coef_nonzeros": coef.nnz(),
        "unfinished": code.unfinished,
        "affinity_nonzeros": sc.affinity_nnz,
        "lanczos_steps": sc.lanczos_steps,
        "lanczos_converged": sc.converged,
        "eigenvalues": sc.eigenvalues,
    });
    Ok((clustering, record, (t_code, t1.elapsed().as_secs_f64())))
}

/// Start writing a run's output: a directory is marked incomplete and
/// cleared of an earlier run's `artefacts` ([`begin_output_dir`]); memory
/// needs nothing.
pub fn begin_output(out: &Sink, artefacts: &[&str]) -> Result<()> {
    match out.path() {
        Some(dir) => begin_output_dir(dir, artefacts),
        None => Ok(()),
    }
}

/// Write a run's `metrics.json`, then, for a directory, its manifest over
/// `artefacts` (which completes the directory).
pub fn finish_run_dir(ds: &Dataset, params: &ValidUdllParams, opts: &RunOptions, metrics: &serde_json::Value, artefacts: &[&str]) -> Result<()> {
    if let Some(idx) = &ds.indices {
        // A sample of a larger input: which image each row is.
        let mut csv = String::from("row,index\n");
        idx.iter().enumerate().for_each(|(r, i)| csv += &format!("{r},{i}\n"));
        opts.out.put("sample.csv", csv.as_bytes())?;
    }
    opts.out.put("metrics.json", &json_bytes(Path::new("metrics.json"), metrics)?)?;
    let Some(out) = opts.out.path() else { return Ok(()) };
    let facts = RunFacts {
        command: &opts.command,
        config: serde_json::to_value(params).expect("params serialise"),
        seed: params.seed,
        dataset: ds.summary(),
        inputs: &opts.inputs,
        threads: opts.threads,
    };
    Manifest::record_and_write(facts, out, true, artefacts).map(|_| ())
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
            let mut params = preset("orl").unwrap();
            params.seed = seed;
            params.pretrain.positive_filters = positive;
            let ae = fresh_autoencoder(&params.check().unwrap(), &ds).unwrap();
            ae.encoder.iter().flat_map(|c| c.filter_sums()).collect()
        };
        assert!(preset("orl").unwrap().pretrain.positive_filters, "the ORL preset asks for it");
        for seed in 0..4 {
            assert!(filter_sums(true, seed).iter().all(|s| *s >= 0.0), "seed {seed}");
        }
        assert!((0..4).any(|seed| filter_sums(false, seed).iter().any(|s| *s < 0.0)), "Glorot draws some negative filters");
    }

    /// A dead encoder (every code equal) or a non-finite one is refused.
    #[test]
    fn dead_or_non_finite_latent_codes_are_refused() {
        let dead = Latent { values: vec![0.0; 12], n: 3, d: 4 };
        assert!(dead.check_alive("pretrained").unwrap_err().to_string().contains("the pretrained encoder is dead"));
        let nan = Latent { values: vec![1.0, f32::NAN, 0.5, 2.0], n: 2, d: 2 };
        assert!(nan.check_alive("fine-tuned").is_err());
        let alive = Latent { values: vec![0.0, 0.0, 0.5, 0.0], n: 2, d: 2 };
        alive.check_alive("pretrained").unwrap();
    }
}
