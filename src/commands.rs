//! Argument structs and one thin function per command; each resolves its
//! arguments into library values and calls the library.

use argh::FromArgs;
use std::path::{Path, PathBuf};
use udll::cli_support::{configure_threads, dataset_or_synthetic, describe_file};
use udll::data::{Dataset, LoadOptions, SyntheticSpec, parse_image_size};
use udll::io::Checkpoint;
use udll::io::manifest::{Manifest, RunFacts};
use udll::io::npy_out::write_npy_f32;
use udll::model::udll::pipeline::fresh_autoencoder;
use udll::model::{AeArch, pretrain as pretrain_ae};
use udll::model::udll::UdllConfig;
use udll::presets::preset;
use udll::{Result, UdllError};

/// The input files a command read, for its manifest.
fn inputs(paths: &[Option<&PathBuf>]) -> Vec<PathBuf> {
    paths.iter().flatten().map(|p| (*p).clone()).collect()
}

/// Write the manifest of a command that wrote `artefacts` under `out`.
#[allow(clippy::too_many_arguments)]
fn manifest(config: serde_json::Value, seed: u64, dataset: serde_json::Value, inputs: &[PathBuf], threads: usize, out: &Path, is_dir: bool, artefacts: &[&str]) -> Result<()> {
    let facts = RunFacts { config, seed, dataset, inputs, threads };
    Manifest::record_and_write(facts, out, is_dir, artefacts).map(|_| ())
}

/// The file name of a single-file output, as its manifest lists it.
fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn parse_list(s: &str, what: &str) -> Result<Vec<usize>> {
    s.split(',').map(|p| p.trim().parse::<usize>().map_err(|_| UdllError::config(format!("{what}: '{s}' is not a comma-separated list of integers")))).collect()
}

/// The dataset flags every data-reading command shares.
pub struct DataFlags<'a> {
    pub data: &'a Option<PathBuf>,
    pub images_var: &'a Option<String>,
    pub labels_var: &'a Option<String>,
    pub labels: &'a Option<PathBuf>,
    pub image_size: &'a Option<String>,
    pub synthetic_objects: usize,
    pub synthetic_poses: usize,
    pub seed: u64,
}

impl DataFlags<'_> {
    pub fn load(&self) -> Result<Dataset> {
        let opts = LoadOptions {
            images_var: self.images_var.clone(),
            labels_var: self.labels_var.clone(),
            labels_file: self.labels.clone(),
            image_size: self.image_size.as_deref().map(parse_image_size).transpose()?,
        };
        let synth = SyntheticSpec { objects: self.synthetic_objects, poses: self.synthetic_poses, seed: self.seed, ..Default::default() };
        dataset_or_synthetic(self.data.as_deref(), &opts, &synth)
    }
}

macro_rules! data_flags {
    ($a:expr) => {
        DataFlags {
            data: &$a.data,
            images_var: &$a.images_var,
            labels_var: &$a.labels_var,
            labels: &$a.labels,
            image_size: &$a.image_size,
            synthetic_objects: $a.synthetic_objects,
            synthetic_poses: $a.synthetic_poses,
            seed: $a.seed,
        }
    };
}

#[derive(FromArgs)]
/// Describe a dataset (.mat / .npy) or a udll checkpoint.
#[argh(subcommand, name = "info")]
pub struct InfoArgs {
    /// the file to describe
    #[argh(positional)]
    file: PathBuf,
    /// name of the image variable in a MAT-file (default: guessed, e.g. fea)
    #[argh(option)]
    images_var: Option<String>,
    /// name of the label variable in a MAT-file (default: guessed, e.g. gnd)
    #[argh(option)]
    labels_var: Option<String>,
    /// image size HxW when it is not square (e.g. 48x42)
    #[argh(option)]
    image_size: Option<String>,
}

pub fn info(a: InfoArgs) -> Result<()> {
    let opts = LoadOptions { images_var: a.images_var, labels_var: a.labels_var, labels_file: None, image_size: a.image_size.as_deref().map(parse_image_size).transpose()? };
    print!("{}", describe_file(&a.file, &opts)?);
    Ok(())
}

#[derive(FromArgs)]
/// Pretrain the convolutional autoencoder on reconstruction (½‖X − X̂‖²,
/// Adam) and save a checkpoint. Without --data, uses the synthetic dataset.
#[argh(subcommand, name = "pretrain")]
pub struct PretrainArgs {
    /// dataset file (.mat or .npy); default: the built-in synthetic dataset
    #[argh(option)]
    data: Option<PathBuf>,
    /// preset for the architecture and settings (default: coil20)
    #[argh(option, default = "String::from(\"coil20\")")]
    preset: String,
    /// output checkpoint path
    #[argh(option)]
    out: PathBuf,
    /// run seed (default 0)
    #[argh(option, default = "0")]
    seed: u64,
    /// epochs (default: the preset's)
    #[argh(option)]
    epochs: Option<usize>,
    /// images per step, 0 = full batch (default: the preset's)
    #[argh(option)]
    batch_size: Option<usize>,
    /// learning rate (default: the preset's)
    #[argh(option)]
    lr: Option<f64>,
    /// initial value of the encoder biases (default: the preset's)
    #[argh(option)]
    bias_init: Option<f64>,
    /// sparse conv autoencoder: λ of λ‖z‖₁ on the latent code (default 0)
    #[argh(option)]
    sparse: Option<f64>,
    /// denoising conv autoencoder: probability of zeroing a pixel (default 0)
    #[argh(option)]
    mask_rate: Option<f64>,
    /// denoising conv autoencoder: σ of additive Gaussian noise (default 0)
    #[argh(option)]
    noise_sigma: Option<f64>,
    /// encoder channels per layer, e.g. 10,20,30 (default: the preset's)
    #[argh(option)]
    channels: Option<String>,
    /// encoder kernel size per layer, e.g. 5,3,3 (default: the preset's)
    #[argh(option)]
    kernels: Option<String>,
    /// multiply [0,1] pixels by this before the network (default: preset's)
    #[argh(option)]
    input_scale: Option<f32>,
    /// image variable in a MAT-file
    #[argh(option)]
    images_var: Option<String>,
    /// label variable in a MAT-file
    #[argh(option)]
    labels_var: Option<String>,
    /// labels as a .npy file (for .npy images)
    #[argh(option)]
    labels: Option<PathBuf>,
    /// image size HxW when not square
    #[argh(option)]
    image_size: Option<String>,
    /// synthetic dataset: number of objects (default 20)
    #[argh(option, default = "20")]
    synthetic_objects: usize,
    /// synthetic dataset: poses per object (default 72)
    #[argh(option, default = "72")]
    synthetic_poses: usize,
    /// threads for both pools (default: RAYON_NUM_THREADS or all cores)
    #[argh(option)]
    threads: Option<usize>,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

pub fn pretrain(a: PretrainArgs) -> Result<()> {
    let threads = configure_threads(a.threads)?;
    let mut cfg = preset(&a.preset)?;
    cfg.seed = a.seed;
    cfg.pretrain.seed = a.seed;
    apply_pretrain_flags(&mut cfg, a.epochs, a.batch_size, a.lr, a.bias_init, &a.channels, &a.kernels, a.input_scale)?;
    apply_regularizer_flags(&mut cfg, a.sparse, a.mask_rate, a.noise_sigma);
    let cfg = cfg.check()?;
    let ds = data_flags!(a).load()?;
    let mut ae = fresh_autoencoder(&cfg, &ds)?;
    eprintln!("pretrain: {} images, {}", ds.n, ae.arch.describe());
    let x = ds.scaled_pixels(cfg.input_scale);
    let report = pretrain_ae(&mut ae, &x, ds.n, &cfg.pretrain, a.quiet)?;
    let meta = serde_json::json!({
        "dataset": ds.name, "n": ds.n, "input_scale": cfg.input_scale,
        "pretrain": cfg.pretrain, "final_loss_per_image": report.epoch_loss.last(),
        "udll_version": env!("CARGO_PKG_VERSION"),
    });
    Checkpoint::from_autoencoder(&ae, "autoencoder", meta).save(&a.out)?;
    let config = serde_json::json!({"preset": cfg.preset, "channels": cfg.channels, "kernels": cfg.kernels, "input_scale": cfg.input_scale, "pretrain": cfg.pretrain});
    manifest(config, a.seed, ds.summary(), &inputs(&[a.data.as_ref(), a.labels.as_ref()]), threads, &a.out, false, &[&file_name(&a.out)])?;
    println!("pretrain: final reconstruction ½‖x − x̂‖² per image {:.6} after {} epochs ({:.1}s); wrote {}", report.epoch_loss.last().copied().unwrap_or(f64::NAN), cfg.pretrain.epochs, report.seconds, a.out.display());
    Ok(())
}

#[derive(FromArgs)]
/// Encode a dataset with a checkpoint's encoder and write the latent
/// features as an n × d float32 .npy matrix.
#[argh(subcommand, name = "embed")]
pub struct EmbedArgs {
    /// checkpoint to encode with
    #[argh(option)]
    checkpoint: PathBuf,
    /// dataset file (.mat or .npy); default: the built-in synthetic dataset
    #[argh(option)]
    data: Option<PathBuf>,
    /// output .npy path
    #[argh(option)]
    out: PathBuf,
    /// multiply [0,1] pixels by this (default: the checkpoint's input scale)
    #[argh(option)]
    input_scale: Option<f32>,
    /// image variable in a MAT-file
    #[argh(option)]
    images_var: Option<String>,
    /// label variable in a MAT-file
    #[argh(option)]
    labels_var: Option<String>,
    /// labels as a .npy file (for .npy images)
    #[argh(option)]
    labels: Option<PathBuf>,
    /// image size HxW when not square
    #[argh(option)]
    image_size: Option<String>,
    /// synthetic dataset: number of objects (default 20)
    #[argh(option, default = "20")]
    synthetic_objects: usize,
    /// synthetic dataset: poses per object (default 72)
    #[argh(option, default = "72")]
    synthetic_poses: usize,
    /// seed of the synthetic dataset (default 0)
    #[argh(option, default = "0")]
    seed: u64,
    /// threads for both pools
    #[argh(option)]
    threads: Option<usize>,
}

/// The input scale a checkpoint was trained at (1 when not recorded).
pub fn checkpoint_input_scale(c: &Checkpoint) -> f32 {
    c.meta.get("input_scale").and_then(|v| v.as_f64()).unwrap_or(1.0) as f32
}

pub fn check_fits(arch: &AeArch, ds: &Dataset, ckpt: &Path) -> Result<()> {
    if (arch.height, arch.width, arch.channels_in) != (ds.height, ds.width, ds.channels) {
        return Err(UdllError::shape(format!("{} expects {}×{}×{} images, the dataset has {}×{}×{}", ckpt.display(), arch.height, arch.width, arch.channels_in, ds.height, ds.width, ds.channels)));
    }
    Ok(())
}

pub fn embed(a: EmbedArgs) -> Result<()> {
    let threads = configure_threads(a.threads)?;
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let mut ae = ckpt.autoencoder(&a.checkpoint)?;
    let ds = data_flags!(a).load()?;
    check_fits(&ae.arch, &ds, &a.checkpoint)?;
    let scale = a.input_scale.unwrap_or_else(|| checkpoint_input_scale(&ckpt));
    let z = ae.embed(&ds.scaled_pixels(scale), ds.n, 256);
    write_npy_f32(&a.out, &z, ds.n, ae.latent_dim())?;
    manifest(serde_json::json!({"input_scale": scale}), a.seed, ds.summary(), &inputs(&[Some(&a.checkpoint), a.data.as_ref(), a.labels.as_ref()]), threads, &a.out, false, &[&file_name(&a.out)])?;
    println!("embed: wrote {} × {} latent features to {}", ds.n, ae.latent_dim(), a.out.display());
    Ok(())
}

fn parse_enum<T: serde::de::DeserializeOwned>(s: &str, flag: &str, choices: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| UdllError::config(format!("{flag}: '{s}' is not one of {choices}")))
}

#[derive(FromArgs)]
/// Run UDLL end to end: pretrain → prior graph → fine-tune → cluster →
/// evaluate. Without --data it runs on the built-in synthetic dataset.
/// Writes metrics.json, labels.csv, coef.npy, latent.npy, checkpoints and
/// manifest.json into --out.
#[argh(subcommand, name = "run")]
pub struct RunArgs {
    /// dataset file (.mat or .npy); default: the built-in synthetic dataset
    #[argh(option)]
    data: Option<PathBuf>,
    /// preset: synthetic, coil20, coil100, orl, yaleb, yaleb32, coil20-dsc,
    /// orl-dsc (default: synthetic without --data, coil20 with it)
    #[argh(option)]
    preset: Option<String>,
    /// method: udll or dsc (dsc = no locality term, γ = 0)
    #[argh(option, default = "String::from(\"udll\")")]
    method: String,
    /// run seed (default 0)
    #[argh(option, default = "0")]
    seed: u64,
    /// output directory (default udll-run)
    #[argh(option, default = "PathBuf::from(\"udll-run\")")]
    out: PathBuf,
    /// start from this udll checkpoint instead of pretraining
    #[argh(option)]
    pretrained: Option<PathBuf>,
    /// start from a DSC-Net reference model, DIR/NAME (e.g. ../shared/data/dsc_pretrained/coil20)
    #[argh(option)]
    reference: Option<PathBuf>,
    /// number of clusters (default: number of label classes)
    #[argh(option)]
    clusters: Option<usize>,
    /// pretraining epochs
    #[argh(option)]
    pretrain_epochs: Option<usize>,
    /// pretraining mini-batch size, 0 = full batch
    #[argh(option)]
    pretrain_batch: Option<usize>,
    /// pretraining learning rate
    #[argh(option)]
    pretrain_lr: Option<f64>,
    /// initial value of the encoder biases before pretraining
    #[argh(option)]
    pretrain_bias_init: Option<f64>,
    /// pretraining as a sparse conv autoencoder: λ of λ‖z‖₁
    #[argh(option)]
    pretrain_sparse: Option<f64>,
    /// pretraining as a denoising conv autoencoder: pixel mask rate
    #[argh(option)]
    pretrain_mask_rate: Option<f64>,
    /// pretraining as a denoising conv autoencoder: Gaussian noise σ
    #[argh(option)]
    pretrain_noise_sigma: Option<f64>,
    /// encoder channels per layer, e.g. 10,20,30
    #[argh(option)]
    channels: Option<String>,
    /// encoder kernel sizes per layer, e.g. 5,3,3
    #[argh(option)]
    kernels: Option<String>,
    /// multiply [0,1] pixels by this before the network
    #[argh(option)]
    input_scale: Option<f32>,
    /// k of the prior graph (Eq. 17)
    #[argh(option)]
    k: Option<usize>,
    /// fine-tuning epochs
    #[argh(option)]
    epochs: Option<usize>,
    /// fine-tuning learning rate
    #[argh(option)]
    lr: Option<f64>,
    /// r, weight of ‖X − X̂‖² (Eq. 18: 0.5)
    #[argh(option)]
    recon_weight: Option<f64>,
    /// α, weight of ‖Z − CZ‖²
    #[argh(option)]
    alpha: Option<f64>,
    /// β, weight of ‖C‖²
    #[argh(option)]
    beta: Option<f64>,
    /// γ, weight of the locality loss Σ a_ij‖z_i − z_j‖²
    #[argh(option)]
    gamma: Option<f64>,
    /// initial value of every coefficient
    #[argh(option)]
    coef_init: Option<f64>,
    /// coefficient regulariser: plain or symmetric-no-diag
    #[argh(option)]
    coef_reg: Option<String>,
    /// keep diag(C) = 0 during fine-tuning
    #[argh(switch)]
    zero_diag: bool,
    /// thrC ρ of the post-processing
    #[argh(option)]
    rho: Option<f64>,
    /// post-processing subspace dimension d (r = d·K + 1)
    #[argh(option)]
    dim: Option<usize>,
    /// post-processing affinity power
    #[argh(option)]
    power: Option<f64>,
    /// label assignment: discretize or kmeans
    #[argh(option)]
    assign: Option<String>,
    /// replace diag(C) by ones before the SVD (true/false; preset default)
    #[argh(option)]
    add_identity: Option<bool>,
    /// image variable in a MAT-file
    #[argh(option)]
    images_var: Option<String>,
    /// label variable in a MAT-file
    #[argh(option)]
    labels_var: Option<String>,
    /// labels as a .npy file (for .npy images)
    #[argh(option)]
    labels: Option<PathBuf>,
    /// image size HxW when not square
    #[argh(option)]
    image_size: Option<String>,
    /// synthetic dataset: number of objects (default 20)
    #[argh(option, default = "20")]
    synthetic_objects: usize,
    /// synthetic dataset: poses per object (default 72)
    #[argh(option, default = "72")]
    synthetic_poses: usize,
    /// threads for both pools (default: RAYON_NUM_THREADS or all cores)
    #[argh(option)]
    threads: Option<usize>,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

/// The preset named by the flags, with every override applied, checked.
pub fn resolve_run_config(a: &RunArgs) -> Result<UdllConfig> {
    let name = a.preset.clone().unwrap_or_else(|| if a.data.is_some() { "coil20".into() } else { "synthetic".into() });
    let mut c = preset(&name)?;
    c.seed = a.seed;
    c.pretrain.seed = a.seed;
    apply_finetune_flags(&mut c, &a.method, a.epochs, a.lr, a.recon_weight, a.alpha, a.beta, a.gamma, a.coef_init, &a.coef_reg, a.zero_diag)?;
    apply_pretrain_flags(&mut c, a.pretrain_epochs, a.pretrain_batch, a.pretrain_lr, a.pretrain_bias_init, &a.channels, &a.kernels, a.input_scale)?;
    apply_regularizer_flags(&mut c, a.pretrain_sparse, a.pretrain_mask_rate, a.pretrain_noise_sigma);
    macro_rules! set {
        ($field:expr, $v:expr) => {
            if let Some(v) = $v {
                $field = v;
            }
        };
    }
    set!(c.graph_k, a.k);
    set!(c.post.rho, a.rho);
    set!(c.post.dim, a.dim);
    set!(c.post.power, a.power);
    if let Some(s) = &a.assign {
        c.post.assign = parse_enum(s, "--assign", "discretize, kmeans")?;
    }
    set!(c.post.add_identity, a.add_identity);
    c.check()
}

pub fn run(a: RunArgs) -> Result<()> {
    use udll::model::udll::pipeline::{RunOptions, Start, run_udll};
    let threads = configure_threads(a.threads)?;
    let cfg = resolve_run_config(&a)?;
    let ds = data_flags!(a).load()?;
    let mut inputs: Vec<PathBuf> = a.data.iter().cloned().collect();
    inputs.extend(a.labels.iter().cloned());
    let start = match (&a.pretrained, &a.reference) {
        (Some(_), Some(_)) => return Err(UdllError::config("give either --pretrained or --reference, not both")),
        (Some(p), None) => {
            inputs.push(p.clone());
            Start::Checkpoint(p.clone())
        }
        (None, Some(r)) => {
            let dir = r.parent().map(Path::to_path_buf).unwrap_or_default();
            let name = r.file_name().and_then(|s| s.to_str()).ok_or_else(|| UdllError::config("--reference: expected DIR/NAME"))?.to_string();
            inputs.push(dir.join("manifest.json"));
            Start::Reference(dir, name)
        }
        (None, None) => Start::Pretrain,
    };
    if !a.quiet {
        eprintln!("udll run: {} ({} images, {}×{}), preset {}, method {:?}, seed {}, {threads} threads → {}", ds.name, ds.n, ds.height, ds.width, cfg.preset, cfg.method, cfg.seed, a.out.display());
    }
    let opts = RunOptions { out_dir: a.out.clone(), start, clusters: a.clusters, quiet: a.quiet, threads, inputs };
    let s = run_udll(&ds, &cfg, &opts)?;
    match s.scores {
        Some(sc) => println!("ACC {:.4}  NMI {:.4}  ARI {:.4}  ({} clusters, {:.1}s: pretrain {:.1}s, graph {:.1}s, fine-tune {:.1}s, cluster {:.1}s) → {}", sc.acc, sc.nmi, sc.ari, s.clusters, s.seconds.total, s.seconds.pretrain, s.seconds.graph, s.seconds.finetune, s.seconds.cluster, a.out.display()),
        None => println!("clustered into {} groups (no labels to score) in {:.1}s → {}", s.clusters, s.seconds.total, a.out.display()),
    }
    Ok(())
}

#[derive(FromArgs)]
/// Cluster a coefficient matrix (coef.npy, n × n): thrC, the EDSC
/// post-processing and spectral clustering. Writes labels.csv (and scores
/// when the dataset's labels are given with --data).
#[argh(subcommand, name = "cluster")]
pub struct ClusterArgs {
    /// coefficient matrix, n × n .npy (f32 or f64)
    #[argh(option)]
    coef: PathBuf,
    /// output labels CSV (index,predicted,true)
    #[argh(option)]
    out: PathBuf,
    /// preset for the post-processing defaults (default coil20)
    #[argh(option, default = "String::from(\"coil20\")")]
    preset: String,
    /// number of clusters (default: the label classes of --data)
    #[argh(option)]
    clusters: Option<usize>,
    /// dataset whose labels score the result
    #[argh(option)]
    data: Option<PathBuf>,
    /// coefficient regulariser the matrix was trained with: plain or
    /// symmetric-no-diag (then ½(C + Cᵀ) without diagonal is clustered)
    #[argh(option)]
    coef_reg: Option<String>,
    /// thrC ρ
    #[argh(option)]
    rho: Option<f64>,
    /// subspace dimension d (r = d·K + 1)
    #[argh(option)]
    dim: Option<usize>,
    /// affinity power
    #[argh(option)]
    power: Option<f64>,
    /// label assignment: discretize or kmeans
    #[argh(option)]
    assign: Option<String>,
    /// replace diag(C) by ones before the SVD (true/false)
    #[argh(option)]
    add_identity: Option<bool>,
    /// seed of the eigen solver and label assignment (default 0)
    #[argh(option, default = "0")]
    seed: u64,
    /// image variable in a MAT-file
    #[argh(option)]
    images_var: Option<String>,
    /// label variable in a MAT-file
    #[argh(option)]
    labels_var: Option<String>,
    /// labels as a .npy file
    #[argh(option)]
    labels: Option<PathBuf>,
    /// image size HxW when not square
    #[argh(option)]
    image_size: Option<String>,
    /// threads for both pools
    #[argh(option)]
    threads: Option<usize>,
}

pub fn cluster(a: ClusterArgs) -> Result<()> {
    use udll::io::npy_out::read_npy_matrix;
    use udll::model::self_expressive::effective_coef;
    use udll::model::udll::pipeline::{cluster_coef, labels_csv};
    let threads = configure_threads(a.threads)?;
    let mut cfg = preset(&a.preset)?;
    if let Some(s) = &a.coef_reg {
        cfg.finetune.coef_reg = parse_enum(s, "--coef-reg", "plain, symmetric-no-diag")?;
    }
    if let Some(v) = a.rho {
        cfg.post.rho = v;
    }
    if let Some(v) = a.dim {
        cfg.post.dim = v;
    }
    if let Some(v) = a.power {
        cfg.post.power = v;
    }
    if let Some(s) = &a.assign {
        cfg.post.assign = parse_enum(s, "--assign", "discretize, kmeans")?;
    }
    if let Some(v) = a.add_identity {
        cfg.post.add_identity = v;
    }
    let cfg = cfg.check()?;
    let (coef, r, c) = read_npy_matrix(&a.coef)?;
    if r != c {
        return Err(UdllError::format(&a.coef, format!("coefficient matrix is {r} × {c}, not square")));
    }
    let mut dataset = serde_json::Value::Null;
    let truth = match &a.data {
        Some(_) => {
            let flags = DataFlags { data: &a.data, images_var: &a.images_var, labels_var: &a.labels_var, labels: &a.labels, image_size: &a.image_size, synthetic_objects: 0, synthetic_poses: 0, seed: 0 };
            let ds = flags.load()?;
            if ds.n != r {
                return Err(UdllError::shape(format!("{} has {} images, the coefficient matrix is {r} × {r}", a.data.as_ref().unwrap().display(), ds.n)));
            }
            dataset = ds.summary();
            ds.labels
        }
        None => None,
    };
    let k = a.clusters.or_else(|| truth.as_ref().map(|t| t.iter().max().map_or(1, |m| m + 1))).ok_or_else(|| UdllError::config("give --clusters (or --data with labels)"))?;
    let t = std::time::Instant::now();
    let labels = cluster_coef(&effective_coef(&coef, r, cfg.finetune.coef_reg), r, k, &cfg.post, a.seed)?;
    udll::io::write_atomic(&a.out, labels_csv(&labels, truth.as_deref()).as_bytes())?;
    let config = serde_json::json!({"preset": cfg.preset, "clusters": k, "coef_reg": cfg.finetune.coef_reg, "post": cfg.post});
    manifest(config, a.seed, dataset, &inputs(&[Some(&a.coef), a.data.as_ref(), a.labels.as_ref()]), threads, &a.out, false, &[&file_name(&a.out)])?;
    match &truth {
        Some(t2) => {
            let s = udll::metrics::scores(&labels, t2)?;
            println!("ACC {:.4}  NMI {:.4}  ARI {:.4}  ({k} clusters, {:.1}s) → {}", s.acc, s.nmi, s.ari, t.elapsed().as_secs_f64(), a.out.display());
        }
        None => println!("clustered {r} samples into {k} groups ({:.1}s) → {}", t.elapsed().as_secs_f64(), a.out.display()),
    }
    Ok(())
}

#[derive(FromArgs)]
/// Build the prior graph (UDLL Eq. 17) from a checkpoint's latent features
/// and write it as CSV triplets (j,i,a_ij).
#[argh(subcommand, name = "graph")]
pub struct GraphArgs {
    /// checkpoint whose encoder gives the latent features
    #[argh(option)]
    checkpoint: PathBuf,
    /// output graph CSV
    #[argh(option)]
    out: PathBuf,
    /// neighbours per point (default 3)
    #[argh(option, default = "3")]
    k: usize,
    /// dataset file (.mat or .npy); default: the built-in synthetic dataset
    #[argh(option)]
    data: Option<PathBuf>,
    /// image variable in a MAT-file
    #[argh(option)]
    images_var: Option<String>,
    /// label variable in a MAT-file
    #[argh(option)]
    labels_var: Option<String>,
    /// labels as a .npy file
    #[argh(option)]
    labels: Option<PathBuf>,
    /// image size HxW when not square
    #[argh(option)]
    image_size: Option<String>,
    /// synthetic dataset: number of objects (default 20)
    #[argh(option, default = "20")]
    synthetic_objects: usize,
    /// synthetic dataset: poses per object (default 72)
    #[argh(option, default = "72")]
    synthetic_poses: usize,
    /// seed of the synthetic dataset (default 0)
    #[argh(option, default = "0")]
    seed: u64,
    /// threads for both pools
    #[argh(option)]
    threads: Option<usize>,
}

pub fn graph(a: GraphArgs) -> Result<()> {
    let threads = configure_threads(a.threads)?;
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let mut ae = ckpt.autoencoder(&a.checkpoint)?;
    let ds = data_flags!(a).load()?;
    check_fits(&ae.arch, &ds, &a.checkpoint)?;
    let z = ae.embed(&ds.scaled_pixels(checkpoint_input_scale(&ckpt)), ds.n, 512);
    let g = udll::graph::adaptive_neighbour_graph(&z, ds.n, ae.latent_dim(), a.k)?;
    udll::io::write_atomic(&a.out, g.to_csv().as_bytes())?;
    manifest(serde_json::json!({"k": a.k}), a.seed, ds.summary(), &inputs(&[Some(&a.checkpoint), a.data.as_ref(), a.labels.as_ref()]), threads, &a.out, false, &[&file_name(&a.out)])?;
    println!("graph: {} nodes, k = {}, wrote {}", ds.n, a.k, a.out.display());
    Ok(())
}

#[derive(FromArgs)]
/// Fine-tune a pretrained checkpoint with the self-expressive layer and the
/// locality loss (UDLL Eq. 18; --method dsc drops the locality term). Writes
/// finetuned.ckpt, coef.npy, latent.npy and losses.csv into --out.
#[argh(subcommand, name = "finetune")]
pub struct FinetuneArgs {
    /// pretrained checkpoint
    #[argh(option)]
    checkpoint: PathBuf,
    /// prior graph CSV from `udll graph` (needed unless γ = 0)
    #[argh(option)]
    graph: Option<PathBuf>,
    /// output directory
    #[argh(option)]
    out: PathBuf,
    /// preset for the defaults (default coil20)
    #[argh(option, default = "String::from(\"coil20\")")]
    preset: String,
    /// method: udll or dsc
    #[argh(option, default = "String::from(\"udll\")")]
    method: String,
    /// fine-tuning epochs
    #[argh(option)]
    epochs: Option<usize>,
    /// fine-tuning learning rate
    #[argh(option)]
    lr: Option<f64>,
    /// r, weight of ‖X − X̂‖²
    #[argh(option)]
    recon_weight: Option<f64>,
    /// α, weight of ‖Z − CZ‖²
    #[argh(option)]
    alpha: Option<f64>,
    /// β, weight of ‖C‖²
    #[argh(option)]
    beta: Option<f64>,
    /// γ, weight of the locality loss
    #[argh(option)]
    gamma: Option<f64>,
    /// initial value of every coefficient
    #[argh(option)]
    coef_init: Option<f64>,
    /// coefficient regulariser: plain or symmetric-no-diag
    #[argh(option)]
    coef_reg: Option<String>,
    /// keep diag(C) = 0
    #[argh(switch)]
    zero_diag: bool,
    /// dataset file (.mat or .npy); default: the built-in synthetic dataset
    #[argh(option)]
    data: Option<PathBuf>,
    /// image variable in a MAT-file
    #[argh(option)]
    images_var: Option<String>,
    /// label variable in a MAT-file
    #[argh(option)]
    labels_var: Option<String>,
    /// labels as a .npy file
    #[argh(option)]
    labels: Option<PathBuf>,
    /// image size HxW when not square
    #[argh(option)]
    image_size: Option<String>,
    /// synthetic dataset: number of objects (default 20)
    #[argh(option, default = "20")]
    synthetic_objects: usize,
    /// synthetic dataset: poses per object (default 72)
    #[argh(option, default = "72")]
    synthetic_poses: usize,
    /// seed of the synthetic dataset (default 0)
    #[argh(option, default = "0")]
    seed: u64,
    /// threads for both pools
    #[argh(option)]
    threads: Option<usize>,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

/// Apply the architecture and pretraining flags shared by `pretrain` and `run`.
#[allow(clippy::too_many_arguments)]
fn apply_pretrain_flags(c: &mut UdllConfig, epochs: Option<usize>, batch: Option<usize>, lr: Option<f64>, bias_init: Option<f64>, channels: &Option<String>, kernels: &Option<String>, input_scale: Option<f32>) -> Result<()> {
    let p = &mut c.pretrain;
    if let Some(v) = epochs {
        p.epochs = v;
    }
    if let Some(v) = batch {
        p.batch_size = v;
    }
    if let Some(v) = lr {
        p.lr = v;
    }
    if let Some(v) = bias_init {
        p.encoder_bias_init = v;
    }
    if let Some(s) = channels {
        c.channels = parse_list(s, "--channels")?;
    }
    if let Some(s) = kernels {
        c.kernels = parse_list(s, "--kernels")?;
    }
    if let Some(v) = input_scale {
        c.input_scale = v;
    }
    Ok(())
}

/// The sparse / denoising options of conv pretraining (`pretrain`, `run`).
fn apply_regularizer_flags(c: &mut UdllConfig, sparse: Option<f64>, mask_rate: Option<f64>, noise_sigma: Option<f64>) {
    let p = &mut c.pretrain;
    for (dst, v) in [(&mut p.sparse, sparse), (&mut p.mask_rate, mask_rate), (&mut p.noise_sigma, noise_sigma)] {
        if let Some(v) = v {
            *dst = v;
        }
    }
}

/// Apply the fine-tuning flags shared by `run` and `finetune`.
#[allow(clippy::too_many_arguments)]
fn apply_finetune_flags(c: &mut UdllConfig, method: &str, epochs: Option<usize>, lr: Option<f64>, recon: Option<f64>, alpha: Option<f64>, beta: Option<f64>, gamma: Option<f64>, init: Option<f64>, reg: &Option<String>, zero_diag: bool) -> Result<()> {
    c.method = parse_enum(method, "--method", "udll, dsc")?;
    let f = &mut c.finetune;
    for (dst, v) in [(&mut f.lr, lr), (&mut f.recon_weight, recon), (&mut f.self_expr_weight, alpha), (&mut f.coef_weight, beta), (&mut f.locality_weight, gamma), (&mut f.coef_init, init)] {
        if let Some(v) = v {
            *dst = v;
        }
    }
    if let Some(e) = epochs {
        f.epochs = e;
    }
    if let Some(s) = reg {
        f.coef_reg = parse_enum(s, "--coef-reg", "plain, symmetric-no-diag")?;
    }
    f.zero_diag |= zero_diag;
    Ok(())
}

pub fn finetune(a: FinetuneArgs) -> Result<()> {
    use udll::model::udll::finetune::finetune as run_finetune;
    let threads = configure_threads(a.threads)?;
    let mut cfg = preset(&a.preset)?;
    apply_finetune_flags(&mut cfg, &a.method, a.epochs, a.lr, a.recon_weight, a.alpha, a.beta, a.gamma, a.coef_init, &a.coef_reg, a.zero_diag)?;
    let cfg = cfg.check()?;
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let ae = ckpt.autoencoder(&a.checkpoint)?;
    let ds = data_flags!(a).load()?;
    check_fits(&ae.arch, &ds, &a.checkpoint)?;
    let graph = match (&a.graph, cfg.finetune.locality_weight > 0.0) {
        (Some(p), _) => {
            let text = std::fs::read_to_string(p).map_err(|e| UdllError::io(p, e))?;
            Some(udll::graph::PriorGraph::from_csv(p, &text)?)
        }
        (None, true) => return Err(UdllError::config("γ > 0 needs --graph (from `udll graph`), or use --method dsc")),
        (None, false) => None,
    };
    let scale = checkpoint_input_scale(&ckpt);
    let x = ds.scaled_pixels(scale);
    let (mut net, report) = run_finetune(ae, &x, ds.n, graph.as_ref(), &cfg.finetune, a.quiet)?;
    let meta = serde_json::json!({"dataset": ds.name, "n": ds.n, "input_scale": scale, "finetune": cfg.finetune, "method": cfg.method});
    Checkpoint::from_autoencoder(&net.ae, "finetuned", meta).save(&a.out.join("finetuned.ckpt"))?;
    write_npy_f32(&a.out.join("coef.npy"), &net.se.coef.value, ds.n, ds.n)?;
    let z = net.ae.embed(&x, ds.n, 512);
    write_npy_f32(&a.out.join("latent.npy"), &z, ds.n, net.ae.latent_dim())?;
    udll::io::write_atomic(&a.out.join("losses.csv"), udll::model::udll::pipeline::losses_csv(&report).as_bytes())?;
    let config = serde_json::json!({"preset": cfg.preset, "method": cfg.method, "finetune": cfg.finetune});
    let ins = inputs(&[Some(&a.checkpoint), a.graph.as_ref(), a.data.as_ref(), a.labels.as_ref()]);
    manifest(config, a.seed, ds.summary(), &ins, threads, &a.out, true, &["finetuned.ckpt", "coef.npy", "latent.npy", "losses.csv"])?;
    let last = report.epochs.last().map(|t| t.total()).unwrap_or(f64::NAN);
    println!("finetune: {} epochs, final loss {last:.6e} ({:.1}s); wrote {}", cfg.finetune.epochs, report.seconds, a.out.display());
    Ok(())
}

#[derive(FromArgs)]
/// Re-run a recorded command (its manifest.json) in a fresh temporary
/// directory and compare every artefact's SHA-256 with the manifest. Exits 0
/// only if all are the same. JSON artefacts are compared without their wall
/// times.
#[argh(subcommand, name = "audit")]
pub struct AuditArgs {
    /// a run directory, a manifest, or an artefact FILE with FILE.manifest.json beside it
    #[argh(positional)]
    path: PathBuf,
    /// thread counts to re-run under, e.g. 1,2 (default: the manifest's)
    #[argh(option)]
    threads: Option<String>,
    /// keep the re-run's files (default: delete them)
    #[argh(switch)]
    keep: bool,
}

pub fn audit(a: AuditArgs) -> Result<()> {
    let mpath = udll::audit::locate_manifest(&a.path);
    let m = Manifest::load(&mpath)?;
    let thread_counts = match &a.threads {
        Some(s) => parse_list(s, "--threads")?,
        None => vec![m.threads],
    };
    if thread_counts.is_empty() || thread_counts.contains(&0) {
        return Err(UdllError::config("--threads: thread counts must be at least 1"));
    }
    println!("audit: {} ({} artefacts, recorded with {} threads)", mpath.display(), m.artefacts.len(), m.threads);
    for note in udll::audit::preamble(&m) {
        println!("note: {note}");
    }
    let exe = std::env::current_exe().map_err(|e| UdllError::io(Path::new("udll"), e))?;
    let scratch = std::env::temp_dir().join(format!("udll-audit-{}", std::process::id()));
    let report = udll::audit::audit(&mpath, &m, &exe, &scratch, &thread_counts, |t| eprintln!("audit: re-running with {t} thread(s) in {}", scratch.display()));
    if a.keep {
        println!("kept the re-runs in {}", scratch.display());
    } else {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    let report = report?;
    print!("{}", report.table());
    if report.all_same() {
        println!("audit: all {} artefacts the same on disk and in {} re-run(s)", m.artefacts.len(), thread_counts.len());
        return Ok(());
    }
    let bad: Vec<String> = report.rows.iter().filter(|r| !r.same()).map(|r| format!("{} ({})", r.artefact, r.problems(&thread_counts).join(", "))).collect();
    if bad.is_empty() {
        return Err(UdllError::config("the manifest lists no artefacts"));
    }
    Err(UdllError::Mismatch(format!("{} artefact(s) differ: {}", bad.len(), bad.join("; "))))
}

#[derive(FromArgs)]
/// Evaluate features (any n × d .npy, e.g. latent.npy) against true labels:
/// k-means or spectral clustering (ACC/NMI/ARI), EDSC subspace clustering,
/// mAP@k retrieval, or a linear probe. Without --features, evaluates the raw
/// pixels of --data.
#[argh(subcommand, name = "eval")]
pub struct EvalArgs {
    /// features, an n × d .npy matrix (f32 or f64)
    #[argh(option)]
    features: Option<PathBuf>,
    /// task(s), comma-separated: kmeans, spectral, edsc, map, probe (default kmeans)
    #[argh(option, default = "String::from(\"kmeans\")")]
    task: String,
    /// true labels: a 1-D integer .npy, or a labels.csv with a `true` column
    #[argh(option)]
    labels: Option<PathBuf>,
    /// dataset whose labels (and, without --features, pixels) are used
    #[argh(option)]
    data: Option<PathBuf>,
    /// number of clusters (default: the number of label classes)
    #[argh(option)]
    clusters: Option<usize>,
    /// seed of k-means, the eigen solver and the probe split (default 0)
    #[argh(option, default = "0")]
    seed: u64,
    /// preset whose post-processing EDSC uses (default coil20)
    #[argh(option, default = "String::from(\"coil20\")")]
    preset: String,
    /// EDSC ridge λ relative to the mean squared sample norm (default: the preset's)
    #[argh(option)]
    edsc_lambda: Option<f64>,
    /// neighbours of the spectral task's kNN graph (default 10)
    #[argh(option, default = "10")]
    knn: usize,
    /// k of mAP@k, comma-separated (default 10,100,1000)
    #[argh(option, default = "String::from(\"10,100,1000\")")]
    map_k: String,
    /// probe: fraction of each class to train on (default 0.5)
    #[argh(option, default = "0.5")]
    train_fraction: f64,
    /// write the scores as JSON here (also printed)
    #[argh(option)]
    out: Option<PathBuf>,
    /// image variable in a MAT-file
    #[argh(option)]
    images_var: Option<String>,
    /// label variable in a MAT-file
    #[argh(option)]
    labels_var: Option<String>,
    /// image size HxW when not square
    #[argh(option)]
    image_size: Option<String>,
    /// threads for both pools
    #[argh(option)]
    threads: Option<usize>,
}

/// True labels from a labels.csv (its `true` column) or a 1-D .npy.
fn read_labels(path: &Path, n: usize) -> Result<Vec<usize>> {
    if path.extension().is_some_and(|e| e == "csv") {
        let text = std::fs::read_to_string(path).map_err(|e| UdllError::io(path, e))?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
        let col = header.iter().position(|h| h.trim() == "true").ok_or_else(|| UdllError::format(path, "no `true` column in the header"))?;
        let labels = lines.filter(|l| !l.trim().is_empty()).enumerate().map(|(i, l)| l.split(',').nth(col).and_then(|v| v.trim().parse::<usize>().ok()).ok_or_else(|| UdllError::format(path, format!("row {}: no integer label in the `true` column", i + 1)))).collect::<Result<Vec<_>>>()?;
        if labels.len() != n {
            return Err(UdllError::shape(format!("{}: {} labels for {n} samples", path.display(), labels.len())));
        }
        Ok(labels)
    } else {
        udll::data::npy::read_npy_labels(path, n)
    }
}

pub fn eval(a: EvalArgs) -> Result<()> {
    use udll::eval::{EvalOptions, Task, evaluate, probe::ProbeConfig};
    let threads = configure_threads(a.threads)?;
    let tasks = a.task.split(',').map(|t| parse_enum::<Task>(t.trim(), "--task", "kmeans, spectral, edsc, map, probe")).collect::<Result<Vec<_>>>()?;
    let ds = match &a.data {
        Some(_) => Some(DataFlags { data: &a.data, images_var: &a.images_var, labels_var: &a.labels_var, labels: &None, image_size: &a.image_size, synthetic_objects: 0, synthetic_poses: 0, seed: 0 }.load()?),
        None => None,
    };
    let (features, n, d) = match (&a.features, &ds) {
        (Some(p), _) => udll::io::npy_out::read_npy_matrix(p)?,
        (None, Some(ds)) => (ds.pixels.clone(), ds.n, ds.image_len()),
        (None, None) => return Err(UdllError::config("give --features FILE.npy, or --data to evaluate raw pixels")),
    };
    let labels = match (&a.labels, &ds) {
        (Some(p), _) => read_labels(p, n)?,
        (None, Some(ds)) => match &ds.labels {
            Some(l) if l.len() == n => l.clone(),
            Some(l) => return Err(UdllError::shape(format!("{} has {} labels, the features {n} rows", a.data.as_ref().unwrap().display(), l.len()))),
            None => return Err(UdllError::config("the dataset has no labels; give --labels")),
        },
        (None, None) => return Err(UdllError::config("give --labels (or --data with labels)")),
    };
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let opts = EvalOptions {
        clusters: a.clusters.unwrap_or(classes),
        seed: a.seed,
        knn: a.knn,
        edsc_lambda: a.edsc_lambda.unwrap_or(preset(&a.preset)?.edsc_lambda),
        post: preset(&a.preset)?.post,
        map_ks: parse_list(&a.map_k, "--map-k")?,
        probe: ProbeConfig { train_fraction: a.train_fraction, seed: a.seed, ..Default::default() },
    };
    if opts.clusters < 2 || opts.clusters > n {
        return Err(UdllError::config(format!("{} clusters for {n} samples", opts.clusters)));
    }
    let mut results = serde_json::Map::new();
    for t in &tasks {
        let start = std::time::Instant::now();
        let r = evaluate(*t, &features, n, d, &labels, &opts)?;
        let name = serde_json::to_value(t).unwrap().as_str().unwrap().to_string();
        println!("{name}: {r} ({:.1}s)", start.elapsed().as_secs_f64());
        results.insert(name, r);
    }
    if let Some(out) = &a.out {
        let doc = serde_json::json!({"n": n, "d": d, "classes": classes, "seed": a.seed, "results": results});
        udll::io::write_atomic(out, format!("{}\n", serde_json::to_string_pretty(&doc).unwrap()).as_bytes())?;
        let config = serde_json::json!({"tasks": tasks, "clusters": opts.clusters, "knn": opts.knn, "edsc_lambda": opts.edsc_lambda, "post": opts.post, "map_k": opts.map_ks, "train_fraction": a.train_fraction});
        let dataset = ds.as_ref().map_or(serde_json::Value::Null, |d| d.summary());
        manifest(config, a.seed, dataset, &inputs(&[a.features.as_ref(), a.labels.as_ref(), a.data.as_ref()]), threads, out, false, &[&file_name(out)])?;
    }
    Ok(())
}

#[derive(FromArgs)]
/// Reproduce the paper's tables: for each available dataset and seed, UDLL,
/// DSC (γ = 0, same pretraining), EDSC on pretrained and fine-tuned
/// features, and EDSC / k-means on raw pixels. Writes reproduce.md,
/// summary.csv and runs.csv (and every run's directory) into --out.
#[argh(subcommand, name = "reproduce")]
pub struct ReproduceArgs {
    /// datasets, comma-separated: coil20, coil100, orl, yaleb, yaleb32,
    /// synthetic (default coil20,coil100,orl,yaleb)
    #[argh(option, default = "String::from(\"coil20,coil100,orl,yaleb\")")]
    datasets: String,
    /// methods, comma-separated: udll, dsc, pt-edsc, ft-edsc, edsc-raw,
    /// kmeans-raw (default all)
    #[argh(option)]
    methods: Option<String>,
    /// number of seeds, 0..N−1 (default 5)
    #[argh(option, default = "5")]
    seeds: u64,
    /// directory holding the dataset files (default ../shared/data)
    #[argh(option, default = "PathBuf::from(\"../shared/data\")")]
    data_dir: PathBuf,
    /// output directory (default udll-reproduce)
    #[argh(option, default = "PathBuf::from(\"udll-reproduce\")")]
    out: PathBuf,
    /// pretraining epochs instead of each preset's (quick checks only)
    #[argh(option)]
    pretrain_epochs: Option<usize>,
    /// fine-tuning epochs instead of each preset's (quick checks only)
    #[argh(option)]
    epochs: Option<usize>,
    /// threads for both pools
    #[argh(option)]
    threads: Option<usize>,
    /// synthetic dataset: number of objects (default 20)
    #[argh(option, default = "20")]
    synthetic_objects: usize,
    /// synthetic dataset: poses per object (default 72)
    #[argh(option, default = "72")]
    synthetic_poses: usize,
    /// no per-epoch progress (one line per finished run is still printed)
    #[argh(switch)]
    quiet: bool,
}

pub fn reproduce(a: ReproduceArgs) -> Result<()> {
    use udll::reproduce::{ALL_METHODS, ReproduceOptions, TableMethod, dataset_spec, markdown, reproduce as run_all, runs_csv, summary_csv};
    let threads = configure_threads(a.threads)?;
    let datasets: Vec<String> = a.datasets.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    for d in &datasets {
        dataset_spec(d)?;
    }
    let methods = match &a.methods {
        Some(s) => s.split(',').map(|m| parse_enum::<TableMethod>(m.trim(), "--methods", "udll, dsc, pt-edsc, ft-edsc, edsc-raw, kmeans-raw")).collect::<Result<Vec<_>>>()?,
        None => ALL_METHODS.to_vec(),
    };
    if a.seeds == 0 || datasets.is_empty() || methods.is_empty() {
        return Err(UdllError::config("give at least one dataset, one method and one seed"));
    }
    let o = ReproduceOptions { data_dir: a.data_dir.clone(), datasets, methods, seeds: (0..a.seeds).collect(), out_dir: a.out.clone(), threads, pretrain_epochs: a.pretrain_epochs, finetune_epochs: a.epochs, quiet: a.quiet, synthetic: SyntheticSpec { objects: a.synthetic_objects, poses: a.synthetic_poses, ..Default::default() } };
    let r = run_all(&o, &|line| eprintln!("reproduce: {line}"))?;
    let md = markdown(&r);
    udll::io::write_atomic(&a.out.join("reproduce.md"), md.as_bytes())?;
    udll::io::write_atomic(&a.out.join("summary.csv"), summary_csv(&r).as_bytes())?;
    udll::io::write_atomic(&a.out.join("runs.csv"), runs_csv(&r.runs).as_bytes())?;
    let config = serde_json::json!({"datasets": o.datasets, "methods": o.methods, "seeds": o.seeds, "data_dir": o.data_dir, "pretrain_epochs": o.pretrain_epochs, "finetune_epochs": o.finetune_epochs});
    let inputs: Vec<PathBuf> = o.datasets.iter().filter_map(|d| dataset_spec(d).ok()).filter(|s| !s.file.is_empty()).map(|s| o.data_dir.join(s.file)).filter(|p| p.exists()).collect();
    manifest(config, 0, serde_json::Value::Null, &inputs, threads, &a.out, true, &["summary.csv"])?;
    print!("{md}");
    println!("wrote {}/reproduce.md, summary.csv, runs.csv", a.out.display());
    Ok(())
}

#[derive(FromArgs)]
/// Train a regularised dense autoencoder (autoencoders lecture): ae
/// (undercomplete), sparse-ae, denoising-ae or contractive-ae; or GR-DNN on
/// one of them (gr-dnn, gr-dnn-dae, gr-dnn-cae: a graph decoder
/// reconstructing each sample's similarity-graph row); or AME-AE on one of
/// them (ame-ae, sparse-ame-ae, denoising-ame-ae: a classifier on the shared
/// encoder tells images from reconstructions, trained adversarially). Writes
/// latent.npy (the codes), losses.csv and manifest.json into --out, and
/// prints k-means ACC/NMI of the codes when the data has labels.
#[argh(subcommand, name = "ae")]
pub struct AeArgs {
    /// variant: ae, sparse-ae, denoising-ae, contractive-ae, gr-dnn,
    /// gr-dnn-dae, gr-dnn-cae, ame-ae, sparse-ame-ae, denoising-ame-ae
    /// (default ae)
    #[argh(option, default = "String::from(\"ae\")")]
    variant: String,
    /// AME-AE: λ_rec, weight of the reconstruction (default 1)
    #[argh(option)]
    lambda_rec: Option<f64>,
    /// AME-AE: λ_dis, weight of the discrimination (default 0.1)
    #[argh(option)]
    lambda_dis: Option<f64>,
    /// GR-DNN: η, weight of the graph reconstruction (default 1)
    #[argh(option)]
    eta: Option<f64>,
    /// GR-DNN: neighbours of the similarity graph (default 20)
    #[argh(option)]
    graph_k: Option<usize>,
    /// GR-DNN: use an anchor graph with this many k-means anchors
    /// (default: kNN graph up to 5000 samples, 1000 anchors beyond)
    #[argh(option)]
    anchors: Option<usize>,
    /// GR-DNN: epochs of the graph pathway and of the joint stage (default 50, 100)
    #[argh(option)]
    graph_epochs: Option<String>,
    /// dataset file (.mat or .npy); default: the built-in synthetic dataset
    #[argh(option)]
    data: Option<PathBuf>,
    /// output directory
    #[argh(option)]
    out: PathBuf,
    /// encoder widths, last = code size (default: the variant's, 256,64 or 256)
    #[argh(option)]
    layers: Option<String>,
    /// code activation: sigmoid or relu
    #[argh(option)]
    code_activation: Option<String>,
    /// reconstruction loss: cross-entropy or squared-error
    #[argh(option)]
    loss: Option<String>,
    /// λ of the sparse penalty λ‖h‖₁
    #[argh(option)]
    sparse: Option<f64>,
    /// λ of the contractive penalty λ‖∂h/∂x‖²_F
    #[argh(option)]
    contractive: Option<f64>,
    /// denoising: probability of zeroing each input pixel
    #[argh(option)]
    mask_rate: Option<f64>,
    /// denoising: σ of additive Gaussian noise
    #[argh(option)]
    noise_sigma: Option<f64>,
    /// epochs (default 200)
    #[argh(option)]
    epochs: Option<usize>,
    /// mini-batch size (default 64)
    #[argh(option)]
    batch_size: Option<usize>,
    /// learning rate (default 1e-3)
    #[argh(option)]
    lr: Option<f64>,
    /// seed (default 0)
    #[argh(option, default = "0")]
    seed: u64,
    /// image variable in a MAT-file
    #[argh(option)]
    images_var: Option<String>,
    /// label variable in a MAT-file
    #[argh(option)]
    labels_var: Option<String>,
    /// labels as a .npy file
    #[argh(option)]
    labels: Option<PathBuf>,
    /// image size HxW when not square
    #[argh(option)]
    image_size: Option<String>,
    /// synthetic dataset: number of objects (default 20)
    #[argh(option, default = "20")]
    synthetic_objects: usize,
    /// synthetic dataset: poses per object (default 72)
    #[argh(option, default = "72")]
    synthetic_poses: usize,
    /// threads for both pools
    #[argh(option)]
    threads: Option<usize>,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

pub fn ae(a: AeArgs) -> Result<()> {
    use udll::model::dense_ae::{DenseAeConfig, train_dense_ae};
    use udll::model::grdnn::{GraphKind, GrDnnConfig, train_grdnn};
    let threads = configure_threads(a.threads)?;
    let ds = data_flags!(a).load()?;
    let grdnn = GrDnnConfig::variant(&a.variant, ds.n).transpose()?;
    let ame = udll::model::ame_ae::AmeAeConfig::variant(&a.variant).transpose()?;
    let mut cfg = match (&grdnn, &ame) {
        (Some(g), _) => g.ae.clone(),
        (_, Some(m)) => m.ae.clone(),
        _ => DenseAeConfig::variant(&a.variant)?,
    };
    cfg.seed = a.seed;
    if let Some(s) = &a.layers {
        cfg.layers = parse_list(s, "--layers")?;
    }
    if let Some(s) = &a.code_activation {
        cfg.code_activation = parse_enum(s, "--code-activation", "sigmoid, relu")?;
    }
    if let Some(s) = &a.loss {
        cfg.loss = parse_enum(s, "--loss", "cross-entropy, squared-error")?;
    }
    for (dst, v) in [(&mut cfg.sparse, a.sparse), (&mut cfg.contractive, a.contractive), (&mut cfg.mask_rate, a.mask_rate), (&mut cfg.noise_sigma, a.noise_sigma), (&mut cfg.lr, a.lr)] {
        if let Some(v) = v {
            *dst = v;
        }
    }
    if let Some(v) = a.epochs {
        cfg.epochs = v;
    }
    if let Some(v) = a.batch_size {
        cfg.batch_size = v;
    }
    cfg.check()?;
    let d = ds.image_len();
    let (mut net, losses, config) = match (grdnn, ame) {
        (_, Some(mut m)) => {
            m.ae = cfg;
            if let Some(v) = a.lambda_rec {
                m.lambda_rec = v;
            }
            if let Some(v) = a.lambda_dis {
                m.lambda_dis = v;
            }
            let (net, r) = udll::model::ame_ae::train_ame_ae(&ds.pixels, ds.n, d, &m, a.quiet)?;
            let mut csv = String::from("epoch,reconstruction,discrimination,adversarial\n");
            r.epochs.iter().enumerate().for_each(|(i, (x, y, z))| csv += &format!("{},{x:e},{y:e},{z:e}\n", i + 1));
            (net.ae, csv, serde_json::json!({"variant": a.variant, "ame_ae": m}))
        }
        (Some(mut g), None) => {
            g.ae = cfg;
            if let Some(e) = a.eta {
                g.eta = e;
            }
            let k = a.graph_k.unwrap_or(match g.graph { GraphKind::Knn { k } | GraphKind::Anchor { k, .. } => k });
            g.graph = match a.anchors {
                Some(anchors) => GraphKind::Anchor { anchors, k },
                None => match g.graph { GraphKind::Knn { .. } => GraphKind::Knn { k }, GraphKind::Anchor { anchors, .. } => GraphKind::Anchor { anchors, k } },
            };
            if let Some(s) = &a.graph_epochs {
                match parse_list(s, "--graph-epochs")?.as_slice() {
                    [p, j] => (g.path_epochs, g.joint_epochs) = (*p, *j),
                    _ => return Err(UdllError::config("--graph-epochs: give two numbers, PATH,JOINT")),
                }
            }
            let (net, r) = train_grdnn(&ds.pixels, ds.n, d, &g, a.quiet)?;
            let mut csv = String::from("stage,epoch,data_per_sample,graph_per_sample\n");
            r.ae_loss.iter().enumerate().for_each(|(i, l)| csv += &format!("autoencoder,{},{l:e},\n", i + 1));
            r.path_loss.iter().enumerate().for_each(|(i, l)| csv += &format!("graph-path,{},,{l:e}\n", i + 1));
            r.joint_loss.iter().enumerate().for_each(|(i, (x, s))| csv += &format!("joint,{},{x:e},{s:e}\n", i + 1));
            (net.ae, csv, serde_json::json!({"variant": a.variant, "gr_dnn": g}))
        }
        (None, None) => {
            let (net, r) = train_dense_ae(&ds.pixels, ds.n, d, &cfg, a.quiet)?;
            let mut csv = String::from("epoch,loss_per_sample\n");
            r.epoch_loss.iter().enumerate().for_each(|(i, l)| csv += &format!("{},{l:e}\n", i + 1));
            (net, csv, serde_json::json!({"variant": a.variant, "autoencoder": cfg}))
        }
    };
    let h = net.encode(&ds.pixels, ds.n);
    write_npy_f32(&a.out.join("latent.npy"), &h, ds.n, net.code_dim())?;
    udll::io::write_atomic(&a.out.join("losses.csv"), losses.as_bytes())?;
    manifest(config, a.seed, ds.summary(), &inputs(&[a.data.as_ref(), a.labels.as_ref()]), threads, &a.out, true, &["latent.npy", "losses.csv"])?;
    let mut line = format!("{}: {} codes of dimension {}", a.variant, ds.n, net.code_dim());
    if let (Some(l), Some(k)) = (&ds.labels, ds.num_classes()) {
        let s = udll::metrics::scores(&udll::eval::kmeans_labels(&h, ds.n, net.code_dim(), k, a.seed)?, l)?;
        line += &format!("; k-means ACC {:.4} NMI {:.4}", s.acc, s.nmi);
    }
    println!("{line} → {}", a.out.display());
    Ok(())
}

#[derive(FromArgs)]
/// Compare representation learners on one labelled dataset: raw pixels, the
/// dense autoencoders (ae, sparse-ae, denoising-ae, contractive-ae), GR-DNN
/// (gr-dnn, gr-dnn-dae), AME-AE (ame-ae, denoising-ame-ae) and the conv
/// autoencoder of a preset (conv-ae, sparse-conv-ae, denoising-conv-ae), each scored by k-means ACC/NMI, mAP@10/100
/// and a linear probe. Writes compare.md and compare.csv into --out.
#[argh(subcommand, name = "compare")]
pub struct CompareArgs {
    /// dataset file (.mat or .npy); default: the built-in synthetic dataset
    #[argh(option)]
    data: Option<PathBuf>,
    /// methods, comma-separated (default all: pixels, ae, sparse-ae,
    /// denoising-ae, contractive-ae, gr-dnn, gr-dnn-dae, ame-ae,
    /// denoising-ame-ae, conv-ae, sparse-conv-ae, denoising-conv-ae)
    #[argh(option)]
    methods: Option<String>,
    /// preset of the conv autoencoder (default: coil20, or synthetic without --data)
    #[argh(option)]
    preset: Option<String>,
    /// number of seeds, 0..N−1 (default 1)
    #[argh(option, default = "1")]
    seeds: u64,
    /// epochs of the dense autoencoders (default 200)
    #[argh(option)]
    dense_epochs: Option<usize>,
    /// pretraining epochs of the conv autoencoder (default: the preset's)
    #[argh(option)]
    conv_epochs: Option<usize>,
    /// output directory (default udll-compare)
    #[argh(option, default = "PathBuf::from(\"udll-compare\")")]
    out: PathBuf,
    /// image variable in a MAT-file
    #[argh(option)]
    images_var: Option<String>,
    /// label variable in a MAT-file
    #[argh(option)]
    labels_var: Option<String>,
    /// labels as a .npy file
    #[argh(option)]
    labels: Option<PathBuf>,
    /// image size HxW when not square
    #[argh(option)]
    image_size: Option<String>,
    /// synthetic dataset: number of objects (default 20)
    #[argh(option, default = "20")]
    synthetic_objects: usize,
    /// synthetic dataset: poses per object (default 72)
    #[argh(option, default = "72")]
    synthetic_poses: usize,
    /// seed of the synthetic dataset (default 0)
    #[argh(option, default = "0")]
    seed: u64,
    /// threads for both pools
    #[argh(option)]
    threads: Option<usize>,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

pub fn compare(a: CompareArgs) -> Result<()> {
    use udll::compare::{CompareOptions, METHODS, csv, features, markdown, score_features};
    let threads = configure_threads(a.threads)?;
    let methods: Vec<String> = match &a.methods {
        Some(s) => s.split(',').map(|m| m.trim().to_string()).collect(),
        None => METHODS.iter().map(|m| m.to_string()).collect(),
    };
    if let Some(m) = methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
        return Err(UdllError::config(format!("--methods: '{m}' is not one of {}", METHODS.join(", "))));
    }
    let name = a.preset.clone().unwrap_or_else(|| if a.data.is_some() { "coil20".into() } else { "synthetic".into() });
    let mut conv = preset(&name)?;
    if let Some(e) = a.conv_epochs {
        conv.pretrain.epochs = e;
    }
    let conv = conv.check()?;
    let ds = data_flags!(a).load()?;
    if ds.labels.is_none() {
        return Err(UdllError::config("compare needs labels (a labelled dataset or --labels)"));
    }
    let o = CompareOptions { dense_epochs: a.dense_epochs, conv, quiet: a.quiet };
    let mut rows = Vec::new();
    for seed in 0..a.seeds {
        for m in &methods {
            let (z, dim, secs) = features(m, &ds, seed, &o)?;
            let row = score_features(m, seed, &z, dim, &ds, secs)?;
            eprintln!("compare: {m} seed {seed}: ACC {:.4} NMI {:.4} mAP@10 {:.4} probe {:.4} ({secs:.1}s)", row.acc, row.nmi, row.map10, row.probe);
            rows.push(row);
        }
    }
    let md = markdown(&ds.name, &rows);
    udll::io::write_atomic(&a.out.join("compare.md"), md.as_bytes())?;
    udll::io::write_atomic(&a.out.join("compare.csv"), csv(&ds.name, &rows).as_bytes())?;
    let config = serde_json::json!({"methods": methods, "seeds": a.seeds, "preset": name, "dense_epochs": a.dense_epochs, "conv_epochs": a.conv_epochs});
    manifest(config, a.seed, ds.summary(), &inputs(&[a.data.as_ref(), a.labels.as_ref()]), threads, &a.out, true, &["compare.csv"])?;
    print!("{md}");
    Ok(())
}
