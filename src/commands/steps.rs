//! The UDLL pipeline's commands: info, pretrain, embed, graph, finetune,
//! cluster, and run (all of them in one go).

use super::*;

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
    let opts = LoadOptions {
        images_var: a.images_var,
        labels_var: a.labels_var,
        labels_file: None,
        image_size: a.image_size.as_deref().map(parse_image_size).transpose()?,
    };
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
    /// true: flip the sign of each encoder filter that starts with a negative
    /// sum, so no ReLU starts dead (default: the preset's)
    #[argh(option)]
    positive_filters: Option<bool>,
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
    pub(crate) threads: Option<usize>,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

pub fn pretrain(a: PretrainArgs) -> Result<()> {
    let threads = rayon::current_num_threads();
    let mut cfg = preset(&a.preset)?;
    cfg.seed = a.seed;
    cfg.pretrain.seed = a.seed;
    apply_pretrain_flags(&mut cfg, a.epochs, a.batch_size, a.lr, a.bias_init, a.positive_filters, &a.channels, &a.kernels, a.input_scale)?;
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
    let config =
        serde_json::json!({"preset": cfg.preset, "channels": cfg.channels, "kernels": cfg.kernels, "input_scale": cfg.input_scale, "pretrain": cfg.pretrain});
    manifest(config, a.seed, ds.summary(), &inputs(&[a.data.as_ref(), a.labels.as_ref()]), threads, &a.out, false, &[&file_name(&a.out)])?;
    println!(
        "pretrain: final reconstruction ½‖x − x̂‖² per image {:.6} after {} epochs ({:.1}s); wrote {}",
        report.epoch_loss.last().copied().unwrap_or(f64::NAN),
        cfg.pretrain.epochs,
        report.seconds,
        a.out.display()
    );
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
    pub(crate) threads: Option<usize>,
}

pub fn embed(a: EmbedArgs) -> Result<()> {
    let threads = rayon::current_num_threads();
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let mut ae = ckpt.autoencoder(&a.checkpoint)?;
    let ds = data_flags!(a).load()?;
    check_fits(&ae.arch, &ds, &a.checkpoint)?;
    let scale = a.input_scale.unwrap_or_else(|| checkpoint_input_scale(&ckpt));
    let z = ae.embed(&ds.scaled_pixels(scale), ds.n, 256);
    write_npy_f32(&a.out, &z, ds.n, ae.latent_dim())?;
    manifest(
        serde_json::json!({"input_scale": scale}),
        a.seed,
        ds.summary(),
        &inputs(&[Some(&a.checkpoint), a.data.as_ref(), a.labels.as_ref()]),
        threads,
        &a.out,
        false,
        &[&file_name(&a.out)],
    )?;
    println!("embed: wrote {} × {} latent features to {}", ds.n, ae.latent_dim(), a.out.display());
    Ok(())
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
    /// true: start every encoder filter with a non-negative sum (flip the
    /// negative ones) before pretraining
    #[argh(option)]
    pretrain_positive_filters: Option<bool>,
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
    /// fine-tuning learning rate of the autoencoder's weights (default: --lr)
    #[argh(option)]
    ae_lr: Option<f64>,
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
    pub(crate) threads: Option<usize>,
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
    apply_finetune_flags(&mut c, &a.method, a.epochs, a.lr, a.ae_lr, a.recon_weight, a.alpha, a.beta, a.gamma, a.coef_init, &a.coef_reg, a.zero_diag)?;
    apply_pretrain_flags(
        &mut c,
        a.pretrain_epochs,
        a.pretrain_batch,
        a.pretrain_lr,
        a.pretrain_bias_init,
        a.pretrain_positive_filters,
        &a.channels,
        &a.kernels,
        a.input_scale,
    )?;
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
    let threads = rayon::current_num_threads();
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
        eprintln!(
            "udll run: {} ({} images, {}×{}), preset {}, method {:?}, seed {}, {threads} threads → {}",
            ds.name,
            ds.n,
            ds.height,
            ds.width,
            cfg.preset,
            cfg.method,
            cfg.seed,
            a.out.display()
        );
    }
    let opts = RunOptions { out_dir: a.out.clone(), start, clusters: a.clusters, quiet: a.quiet, threads, inputs };
    let s = run_udll(&ds, &cfg, &opts)?;
    match s.scores {
        Some(sc) => println!(
            "ACC {:.4}  NMI {:.4}  ARI {:.4}  ({} clusters, {:.1}s: pretrain {:.1}s, graph {:.1}s, fine-tune {:.1}s, cluster {:.1}s) → {}",
            sc.acc,
            sc.nmi,
            sc.ari,
            s.clusters,
            s.seconds.total,
            s.seconds.pretrain,
            s.seconds.graph,
            s.seconds.finetune,
            s.seconds.cluster,
            a.out.display()
        ),
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
    pub(crate) threads: Option<usize>,
}

pub fn cluster(a: ClusterArgs) -> Result<()> {
    use udll::io::npy_out::read_npy_matrix;
    use udll::model::self_expressive::effective_coef;
    use udll::cluster::cluster_coef;
    use udll::model::udll::pipeline::labels_csv;
    let threads = rayon::current_num_threads();
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
            let flags = DataFlags {
                data: &a.data,
                images_var: &a.images_var,
                labels_var: &a.labels_var,
                labels: &a.labels,
                image_size: &a.image_size,
                synthetic_objects: 0,
                synthetic_poses: 0,
                seed: 0,
            };
            let ds = flags.load()?;
            if ds.n != r {
                return Err(UdllError::shape(format!("{} has {} images, the coefficient matrix is {r} × {r}", a.data.as_ref().unwrap().display(), ds.n)));
            }
            dataset = ds.summary();
            ds.labels
        }
        None => None,
    };
    let k = a
        .clusters
        .or_else(|| truth.as_ref().map(|t| t.iter().max().map_or(1, |m| m + 1)))
        .ok_or_else(|| UdllError::config("give --clusters (or --data with labels)"))?;
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
    pub(crate) threads: Option<usize>,
}

pub fn graph(a: GraphArgs) -> Result<()> {
    let threads = rayon::current_num_threads();
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let mut ae = ckpt.autoencoder(&a.checkpoint)?;
    let ds = data_flags!(a).load()?;
    check_fits(&ae.arch, &ds, &a.checkpoint)?;
    let z = ae.embed(&ds.scaled_pixels(checkpoint_input_scale(&ckpt)), ds.n, 512);
    let g = udll::graph::adaptive_neighbour_graph(&z, ds.n, ae.latent_dim(), a.k)?;
    udll::io::write_atomic(&a.out, g.to_csv().as_bytes())?;
    manifest(
        serde_json::json!({"k": a.k}),
        a.seed,
        ds.summary(),
        &inputs(&[Some(&a.checkpoint), a.data.as_ref(), a.labels.as_ref()]),
        threads,
        &a.out,
        false,
        &[&file_name(&a.out)],
    )?;
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
    /// fine-tuning learning rate of the autoencoder's weights (default: --lr)
    #[argh(option)]
    ae_lr: Option<f64>,
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
    pub(crate) threads: Option<usize>,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

pub fn finetune(a: FinetuneArgs) -> Result<()> {
    use udll::model::udll::finetune::finetune as run_finetune;
    let threads = rayon::current_num_threads();
    let mut cfg = preset(&a.preset)?;
    apply_finetune_flags(&mut cfg, &a.method, a.epochs, a.lr, a.ae_lr, a.recon_weight, a.alpha, a.beta, a.gamma, a.coef_init, &a.coef_reg, a.zero_diag)?;
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
