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
use crate::cluster::ResidualAssigner;
use crate::cluster::sparse::{SparseConfig, assign_sparse};
use crate::data::Dataset;
use crate::data::ImageSource;
use crate::error::{Result, UdllError};
use crate::features::{Basis, FrontEnd, front_features};
use crate::io::checkpoint::Checkpoint;
use crate::io::labels::{labels_csv_from, parse_labels_csv};
use crate::io::manifest::{Manifest, RunFacts, begin_output_dir};
use crate::io::npy_out::{NpyRowWriter, npy_matrix_from_bytes};
use crate::io::{write_atomic, write_json};
use crate::metrics::{Scores, scores};
use crate::model::dense_ae::gather_rows;
use crate::progress::{Observer, Progress};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The artefacts of an assignment, in the manifest's order (`latent.npy`
/// only when the codes are asked for).
pub const ASSIGN_ARTEFACTS: &[&str] = &["latent.npy", "labels.csv", "metrics.json"];

/// Images placed per chunk by default.
pub const DEFAULT_CHUNK: usize = 4096;

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
    /// Only this slice of the input.
    pub shard: Option<Shard>,
    /// Write the new images' codes (`latent.npy`, n × d float32).
    pub save_codes: bool,
    /// Images placed at a time (the memory beyond the model's).
    pub chunk: usize,
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

/// What places new images: a fitted run's front end, network (none for an
/// EDSC run), fitted codes and labels, and the solver that coded them.
pub struct AssignModel {
    front: FrontEnd,
    basis: Option<Basis>,
    network: Option<Checkpoint>,
    /// The fitted codes, n × d, row-major.
    fitted: Vec<f32>,
    n: usize,
    d: usize,
    /// The fitted images' clusters.
    labels: Vec<usize>,
    /// The number of clusters.
    pub clusters: usize,
    sparse: Option<SparseConfig>,
    input_scale: f32,
    /// λ of the ridge code, relative to the mean squared norm of the
    /// fitted codes.
    ridge: f64,
    /// The artefact the fitted codes came from.
    codes_from: &'static str,
    /// The ridge code's fitted side, prepared at the first placement and
    /// kept for the next chunks.
    residual: std::sync::OnceLock<ResidualAssigner>,
}

impl AssignModel {
    /// Build from a run's recorded `config` (its manifest's) and its
    /// artefacts, read by `get` (None when the run has no such file), to
    /// place images with the ridge λ = `ridge` × the mean squared norm of
    /// the fitted codes (unless the run coded with a sparse solver);
    /// `origin` names the run in errors.
    pub fn from_artefacts(config: &serde_json::Value, get: &dyn Fn(&str) -> Result<Option<Vec<u8>>>, origin: &Path, ridge: f64) -> Result<Self> {
        if !(ridge > 0.0 && ridge.is_finite()) {
            return Err(UdllError::config(format!("the assignment ridge must be positive (got {ridge})")));
        }
        let at = |name: &str| origin.join(name);
        let need = |name: &str| get(name)?.ok_or_else(|| UdllError::config(format!("{}: the run has no {name}, which is needed here", origin.display())));
        let front: FrontEnd = config
            .get("front")
            .map(|v| serde_json::from_value(v.clone()))
            .transpose()
            .map_err(|e| UdllError::format(&at("manifest.json"), format!("its front end: {e}")))?
            .unwrap_or_default();
        let basis = get("scattering_basis.npy")?
            .map(|b| npy_matrix_from_bytes(&at("scattering_basis.npy"), &b))
            .transpose()?
            .map(|(values, rows, cols)| Basis { values, rows, cols });
        let network = get("finetuned.ckpt")?.map(|b| Checkpoint::from_bytes(&at("finetuned.ckpt"), &b)).transpose()?;
        let text = String::from_utf8(need("labels.csv")?).map_err(|_| UdllError::format(&at("labels.csv"), "not UTF-8 text"))?;
        let (labels, _) = parse_labels_csv(&at("labels.csv"), &text)?;
        let clusters = labels.iter().max().map_or(0, |m| m + 1);
        // A landmark run places images against its landmarks' codes, as
        // the run placed its own: M × d, not n × d (a model fitted on a
        // sample of 20 000 keeps its ridge system at M², not 20 000²).
        // Its `landmark_codes.npy` holds those rows; a run made before
        // that file existed has them in `latent.npy`.
        let landmarks = match get("landmarks.csv")? {
            Some(b) if config.get("sparse").is_none_or(|v| v.is_null()) => Some(landmark_rows(&at("landmarks.csv"), &b, labels.len())?),
            _ => None,
        };
        let landmark_codes = if landmarks.is_some() { get("landmark_codes.npy")? } else { None };
        let codes_from = if landmark_codes.is_some() { "landmark_codes.npy" } else { "latent.npy" };
        // All of the run's codes, one per row of labels.csv.
        let all_codes = || -> Result<(Vec<f32>, usize)> {
            let (fitted, n, d) = npy_matrix_from_bytes(&at("latent.npy"), &need("latent.npy")?)?;
            if labels.len() != n {
                return Err(UdllError::shape(format!("{}: {} rows for the {n} codes of latent.npy", at("labels.csv").display(), labels.len())));
            }
            Ok((fitted, d))
        };
        let (fitted, labels, n, d) = match (landmarks, landmark_codes) {
            (Some(idx), Some(b)) => {
                let (fitted, m, d) = npy_matrix_from_bytes(&at("landmark_codes.npy"), &b)?;
                if m != idx.len() {
                    return Err(UdllError::shape(format!("{}: {m} rows for the {} landmarks of landmarks.csv", at("landmark_codes.npy").display(), idx.len())));
                }
                (fitted, idx.iter().map(|&i| labels[i]).collect(), m, d)
            }
            (Some(idx), None) => {
                let (fitted, d) = all_codes()?;
                (gather_rows(&fitted, &idx, d), idx.iter().map(|&i| labels[i]).collect(), idx.len(), d)
            }
            (None, _) => {
                let (fitted, d) = all_codes()?;
                let n = labels.len();
                (fitted, labels, n, d)
            }
        };
        // A sparse run codes the new points with its own solver; the ridge
        // code needs an n × n factorisation, which a sparse run avoided.
        let sparse: Option<SparseConfig> = config
            .get("sparse")
            .map(|v| serde_json::from_value(v.clone()))
            .transpose()
            .map_err(|e| UdllError::format(&at("manifest.json"), format!("its sparse self-expression: {e}")))?;
        let input_scale = match &network {
            Some(cp) => cp.input_scale(),
            None => config.get("input_scale").and_then(|v| v.as_f64()).unwrap_or(1.0) as f32,
        };
        Ok(AssignModel { front, basis, network, fitted, n, d, labels, clusters, sparse, input_scale, ridge, codes_from, residual: std::sync::OnceLock::new() })
    }

    /// The artefacts of the run the model was built from (those it has).
    pub fn read_from(&self) -> [&'static str; 5] {
        [self.codes_from, "labels.csv", "finetuned.ckpt", "scattering_basis.npy", "landmarks.csv"]
    }

    /// The fitted codes' count and dimension.
    pub fn fitted_shape(&self) -> (usize, usize) {
        (self.n, self.d)
    }

    /// How new codes are coded against the fitted ones: "ridge", or the
    /// sparse solver's name.
    pub fn coded_by(&self) -> &'static str {
        self.sparse.as_ref().map_or("ridge", |s| s.name())
    }

    /// Whether the ridge is used (not a sparse solver).
    pub fn uses_ridge(&self) -> bool {
        self.sparse.is_none()
    }

    /// The codes of the images of `ds` (through the front end and the
    /// network) and their clusters (by the model's ridge, or the run's
    /// sparse solver).
    pub fn place(&self, ds: &Dataset, observer: &dyn Observer) -> Result<(Latent, Vec<usize>)> {
        ds.validate()?;
        self.front.check(ds.height, ds.width)?;
        let features = front_features(ds, &self.front, self.basis.as_ref(), observer)?;
        let seen = features.as_ref().map(|f| f.as_dataset(ds));
        let seen = seen.as_ref().unwrap_or(ds);
        let latent = match &self.network {
            Some(cp) => {
                check_fits(&cp.arch, seen, Path::new("finetuned.ckpt"))?;
                let mut ae = cp.autoencoder(Path::new("finetuned.ckpt"))?;
                Latent::encode(&mut ae, &seen.scaled_pixels(self.input_scale), seen.n, 512)
            }
            None => Latent { values: seen.scaled_pixels(self.input_scale), n: seen.n, d: seen.image_len() },
        };
        latent.check_alive(if self.network.is_some() { "fine-tuned" } else { "front end's" })?;
        if latent.d != self.d {
            return Err(UdllError::shape(format!("the new images' codes have dimension {}, the fitted codes {}", latent.d, self.d)));
        }
        let (fitted, n, d, clusters) = (&self.fitted, self.n, self.d, self.clusters);
        let labels = match &self.sparse {
            Some(s) => {
                observer.line(&format!("assign: coding the new images with the run's {}", s.describe()));
                assign_sparse(fitted, n, d, &self.labels, clusters, &latent.values, latent.n, &s.solver, observer)?
            }
            None => {
                let residual = match self.residual.get() {
                    Some(r) => r,
                    None => {
                        let built = ResidualAssigner::new(fitted, n, d, &self.labels, clusters, self.ridge)?;
                        self.residual.get_or_init(|| built)
                    }
                };
                residual.assign(&latent.values, latent.n)?
            }
        };
        Ok((latent, labels))
    }
}

/// The i-th of N contiguous slices of an input: images
/// ⌊i·n/N⌋ .. ⌊(i+1)·n/N⌋ (by index, or by sorted path in a folder).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// Which slice, 0 to count − 1.
    pub index: usize,
    /// How many slices.
    pub count: usize,
}

impl Shard {
    /// Parse "i/N".
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || UdllError::config(format!("shard '{s}': expected i/N with 0 ≤ i < N, e.g. 3/8"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The images of this slice of `n`.
    pub fn range(&self, n: usize) -> std::ops::Range<usize> {
        let at = |i: usize| ((i as u128 * n as u128) / self.count as u128) as usize;
        at(self.index)..at(self.index + 1)
    }
}

/// The landmark indices of a run's `landmarks.csv` (`landmark,index`),
/// each below `n`.
fn landmark_rows(path: &Path, bytes: &[u8], n: usize) -> Result<Vec<usize>> {
    let text = std::str::from_utf8(bytes).map_err(|_| UdllError::format(path, "not UTF-8 text"))?;
    let idx = text
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').nth(1).and_then(|v| v.trim().parse::<usize>().ok()).filter(|&i| i < n))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| UdllError::format(path, format!("a row that is not `landmark,index` with an index below {n}")))?;
    if idx.len() < 2 {
        return Err(UdllError::format(path, "fewer than two landmarks"));
    }
    Ok(idx)
}

/// Place the images of `src` (all, or the slice `opts.shard`) in the
/// clusters of the run in `opts.model_dir`, a chunk of images at a time,
/// and write `labels.csv` (indices into the whole input), `metrics.json`,
/// the codes as `latent.npy` when `opts.save_codes`, and a manifest
/// (recording the model's and the input's hashes and the slice) under
/// `opts.out_dir`. The memory is the model's plus one chunk's, whatever
/// the input's size; the labels of a slice are the ones the whole input
/// gives those images.
pub fn assign(src: &ImageSource, opts: &AssignOptions, observer: &dyn Observer) -> Result<Assignment> {
    if opts.chunk == 0 {
        return Err(UdllError::config("the chunk must hold at least one image"));
    }
    let t0 = Instant::now();
    let run = RunDir::open(&opts.model_dir)?;
    let model = AssignModel::from_artefacts(&run.manifest.config, &|name| run.read(name), &run.dir, opts.ridge)?;
    let read: Vec<PathBuf> = model.read_from().iter().filter(|n| run.lists(n)).map(|n| run.dir.join(n)).collect();
    let (n, d) = model.fitted_shape();
    let clusters = model.clusters;
    let range = opts.shard.map_or(0..src.n, |s| s.range(src.n));
    let shard_text = opts.shard.map_or(String::new(), |s| format!(" (shard {}/{}: images {}..{} of {})", s.index, s.count, range.start, range.end, src.n));
    observer.line(&format!(
        "assign: {} images{shard_text} into the {clusters} clusters of {} ({n} fitted codes of dimension {d})",
        range.len(),
        opts.model_dir.display()
    ));
    model.front.check(src.height, src.width)?;
    let out = &opts.out_dir;
    let artefacts: Vec<&str> = ASSIGN_ARTEFACTS.to_vec();
    begin_output_dir(out, &artefacts)?;
    let mut codes = None;
    let mut labels = Vec::with_capacity(range.len());
    let mut start = range.start;
    let progress = Progress::new("assign", range.len(), observer);
    while start < range.end {
        let end = (start + opts.chunk).min(range.end);
        let chunk = src.slice(start..end)?;
        let (latent, l) = model.place(&chunk, &crate::progress::Silent)?;
        if opts.save_codes {
            let w = match &mut codes {
                Some(w) => w,
                None => codes.insert(NpyRowWriter::create(&out.join("latent.npy"), range.len(), latent.d)?),
            };
            w.append(&latent.values)?;
        }
        labels.extend(l);
        progress.update(end - range.start, "images placed");
        start = end;
    }
    if let Some(w) = codes {
        w.finish()?;
    }
    let truth = src.labels().map(|t| &t[range.clone()]);
    let files = src.files().map(|f| &f[range.clone()]);
    let sc = truth.map(|t| scores(&labels, t)).transpose()?;
    write_atomic(&out.join("labels.csv"), labels_csv_from(range.start, &labels, truth, files)?.as_bytes())?;
    let seconds = t0.elapsed().as_secs_f64();
    let metrics = serde_json::json!({
        "acc": sc.map(|s| s.acc), "nmi": sc.map(|s| s.nmi), "ari": sc.map(|s| s.ari),
        "images": range.len(), "clusters": clusters, "fitted": n, "ridge": model.uses_ridge().then_some(opts.ridge),
        "coded_by": model.coded_by(),
        "model": opts.model_dir.display().to_string(),
        "timings_seconds": {"total": seconds},
    });
    write_json(&out.join("metrics.json"), &metrics)?;
    // The model's files in the order earlier versions recorded them.
    let mut inputs = opts.inputs.clone();
    inputs.push(run.dir.join("manifest.json"));
    inputs.extend(read);
    let mut config = serde_json::json!({"model": opts.model_dir.display().to_string(), "ridge": opts.ridge, "model_config": run.manifest.config});
    if let Some(s) = opts.shard {
        config["shard"] = serde_json::json!({"index": s.index, "count": s.count, "start": range.start, "end": range.end, "total": src.n});
    }
    let facts = RunFacts { command: &opts.command, config, seed: run.manifest.seed, dataset: src.summary(), inputs: &inputs, threads: opts.threads };
    Manifest::record_and_write(facts, out, true, &artefacts)?;
    Ok(Assignment { labels, scores: sc, clusters, seconds })
}
