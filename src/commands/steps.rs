//! The UDLL pipeline's commands: info, pretrain, embed, graph, finetune,
//! cluster, and run (all of them in one go). Each is flags → checked params
//! → one library stage → save.

use super::*;
use argh::FromArgs;
use udll::app::pipeline::{Choice, Finetuned, Latent, RunOptions, Start, check_fits, checkpoint_meta, cluster_stage, finetune_stage, prior_graph};
use udll::app::plan::{Plan, run_planned};
use udll::app::report::write_report;
use udll::io::Sink;
use udll::io::manifest::begin_output_dir;
use udll::io::npy_out::read_npy_matrix;
use udll::{Checkpoint, PriorGraph, preset, pretrain_stage};

cli_args! {
    #[derive(FromArgs)]
    /// Describe a dataset (.mat / .npy) or a udll checkpoint.
    #[argh(subcommand, name = "info")]
    pub struct InfoArgs {
        /// the file to describe
        #[argh(positional)]
        file: PathBuf,
    }
    groups [read]
}

pub fn info(a: InfoArgs) -> Result<()> {
    let flags = read_flags!(a);
    print!("{}", udll::app::describe::describe_file(&a.file, &flags.options()?)?);
    Ok(())
}

cli_args! {
    #[derive(FromArgs)]
    /// Pretrain the convolutional autoencoder on reconstruction (½‖X − X̂‖²,
    /// Adam) and save a checkpoint. Without --data, uses the synthetic dataset.
    #[argh(subcommand, name = "pretrain")]
    pub struct PretrainArgs {
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
    }
    groups [data, synthetic, threads, quiet]
}

pub fn pretrain(a: PretrainArgs) -> Result<()> {
    let obs = Stderr::new(a.quiet);
    let mut params = preset(&a.preset)?;
    params.seed = a.seed;
    PretrainFlags {
        epochs: a.epochs,
        batch: a.batch_size,
        lr: a.lr,
        bias_init: a.bias_init,
        positive_filters: a.positive_filters,
        sparse: a.sparse,
        mask_rate: a.mask_rate,
        noise_sigma: a.noise_sigma,
        channels: &a.channels,
        kernels: &a.kernels,
        input_scale: a.input_scale,
    }
    .apply(&mut params)?;
    let params = params.check()?;
    let data = data_flags!(a);
    let ds = data.load(a.synthetic_objects, a.synthetic_poses, a.seed)?;
    note_folder(&ds, &obs);
    let x = ds.scaled_pixels(params.input_scale);
    obs.line(&format!("pretrain: {} images, {}", ds.n, udll::app::pipeline::arch_for(&params, &ds).describe()));
    let pretrained = pretrain_stage(&ds, &params, &Start::Pretrain, &x, &obs)?;
    pretrained.save_checkpoint(&a.out)?;
    manifest(&params.pretrain_part(), a.seed, ds.summary(), &data.inputs(), &a.out, false, &[&file_name(&a.out)])?;
    let report = pretrained.report.as_ref().expect("pretrained here");
    println!(
        "pretrain: final reconstruction ½‖x − x̂‖² per image {:.6} after {} epochs ({:.1}s); wrote {}",
        pretrained.final_loss().unwrap_or(f64::NAN),
        params.pretrain.epochs,
        report.seconds,
        a.out.display()
    );
    Ok(())
}

/// A checkpoint's autoencoder and the dataset it is applied to, checked to fit.
fn checkpoint_and_data(
    ckpt_path: &Path,
    data: &DataFlags,
    objects: usize,
    poses: usize,
    seed: u64,
) -> Result<(Checkpoint, udll::ConvAutoencoder<f32>, Dataset)> {
    let ckpt = Checkpoint::load(ckpt_path)?;
    let ae = ckpt.autoencoder(ckpt_path)?;
    let ds = data.load(objects, poses, seed)?;
    check_fits(&ae.arch, &ds, ckpt_path)?;
    Ok((ckpt, ae, ds))
}

cli_args! {
    #[derive(FromArgs)]
    /// Encode a dataset with a checkpoint's encoder and write the latent
    /// features as an n × d float32 .npy matrix.
    #[argh(subcommand, name = "embed")]
    pub struct EmbedArgs {
        /// checkpoint to encode with
        #[argh(option)]
        checkpoint: PathBuf,
        /// output .npy path
        #[argh(option)]
        out: PathBuf,
        /// multiply [0,1] pixels by this (default: the checkpoint's input scale)
        #[argh(option)]
        input_scale: Option<f32>,
        /// seed of the synthetic dataset (default 0)
        #[argh(option, default = "0")]
        seed: u64,
    }
    groups [data, synthetic, threads]
}

pub fn embed(a: EmbedArgs) -> Result<()> {
    let data = data_flags!(a);
    let (ckpt, mut ae, ds) = checkpoint_and_data(&a.checkpoint, &data, a.synthetic_objects, a.synthetic_poses, a.seed)?;
    let scale = a.input_scale.unwrap_or_else(|| ckpt.input_scale());
    let latent = Latent::encode(&mut ae, &ds.scaled_pixels(scale), ds.n, 256);
    latent.save(&a.out)?;
    let inputs: Vec<PathBuf> = std::iter::once(a.checkpoint.clone()).chain(data.inputs()).collect();
    manifest(&serde_json::json!({"input_scale": scale}), a.seed, ds.summary(), &inputs, &a.out, false, &[&file_name(&a.out)])?;
    println!("embed: wrote {} × {} latent features to {}", ds.n, latent.d, a.out.display());
    Ok(())
}

cli_args! {
    #[derive(FromArgs)]
    /// Compute a front end's features without training: the wavelet
    /// scattering transform of every image (Kymatio's definitions), each map
    /// divided by its largest magnitude, optionally projected on the top K
    /// directions of XᵀX; writes them as an n × d float32 .npy matrix for
    /// `udll eval --features` or other tools (and, with a projection, its
    /// basis beside it as NAME.basis.npy). Without --data, uses the
    /// synthetic dataset.
    #[argh(subcommand, name = "features")]
    pub struct FeaturesArgs {
        /// output .npy path
        #[argh(option)]
        out: PathBuf,
        /// seed of the synthetic dataset (default 0)
        #[argh(option, default = "0")]
        seed: u64,
    }
    groups [front, data, synthetic, threads, quiet]
}

pub fn features(a: FeaturesArgs) -> Result<()> {
    use udll::features::{FrontEnd, ScatteringFront, front_features};
    let obs = Stderr::new(a.quiet);
    let mut front = FrontEnd::Scattering(ScatteringFront::default());
    front_flags!(&mut front, a)?;
    if front.is_pixels() {
        return Err(UdllError::config("udll features computes the scattering front end; --front pixels has no features to write"));
    }
    let data = data_flags!(a);
    let ds = data.load(a.synthetic_objects, a.synthetic_poses, a.seed)?;
    front.check(ds.height, ds.width)?;
    let t0 = std::time::Instant::now();
    let f = front_features(&ds, &front, None, &obs)?.expect("a scattering front end gives features");
    let seconds = t0.elapsed().as_secs_f64();
    udll::io::npy_out::write_npy_f32(&a.out, &f.values, f.n, f.d)?;
    let mut artefacts = vec![file_name(&a.out)];
    if let Some(b) = &f.basis {
        let path = a.out.with_extension("basis.npy");
        udll::io::npy_out::write_npy_f32(&path, &b.values, b.rows, b.cols)?;
        artefacts.push(file_name(&path));
    }
    let names: Vec<&str> = artefacts.iter().map(String::as_str).collect();
    manifest(&serde_json::json!({"front": front}), a.seed, ds.summary(), &data.inputs(), &a.out, false, &names)?;
    println!("features: {} × {} ({}) in {seconds:.2}s ({:.0} images/s) → {}", f.n, f.d, front.describe(), f.n as f64 / seconds.max(1e-9), a.out.display());
    Ok(())
}

cli_args! {
    #[derive(FromArgs)]
    /// Run UDLL end to end: pretrain → prior graph → fine-tune → cluster →
    /// evaluate. Without --data it runs on the built-in synthetic dataset.
    /// Writes metrics.json, labels.csv, coef.npy, latent.npy, latent_pretrained.npy,
    /// graph.csv, losses.csv, pretrain_losses.csv, the checkpoints, manifest.json
    /// and report.html into --out (with --auto-post, candidates.csv too; in landmark
    /// mode landmarks.csv and landmark_codes.npy; --codes model leaves out the n × d
    /// code files an assignment does not read).
    #[argh(subcommand, name = "run")]
    pub struct RunArgs {
        /// preset: synthetic, coil20, coil100, orl, yaleb, yaleb32, mnist, coil20-dsc, coil20-scat, mnist-scat, mnist-ensc,
        /// orl-dsc (default: synthetic without --data, coil20 with it)
        #[argh(option)]
        preset: Option<String>,
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
        /// do not write report.html (and figures/) at the end
        #[argh(switch)]
        no_report: bool,
        /// choose the post-processing (ρ, d, power) without labels: 80 settings around
        /// the preset's, the best by --select-by is kept; every candidate → candidates.csv
        #[argh(switch)]
        auto_post: bool,
        /// independent runs from seeds derived from --seed (restart 0 is --seed itself),
        /// each in restarts/rNN; the best by --select-by is the output (default 1)
        #[argh(option, default = "1")]
        restarts: usize,
        /// landmark mode: fine-tune and cluster M images drawn with the seed, then
        /// place every image by class-wise residual (default: dense, or 2000 when
        /// the dense path would not fit the memory budget)
        #[argh(option)]
        landmarks: Option<usize>,
        /// fit on a seeded sample of S images of --data (read by rows or files, never the whole input): the run directory is then the model for `udll assign --shard`
        #[argh(option)]
        fit_sample: Option<usize>,
        /// how landmarks are drawn: kmeans-pp (k-means++ seeding on the
        /// pretrained latent codes; default) or uniform
        #[argh(option)]
        landmark_choice: Option<String>,
        /// which n × d code files to write: all (features.npy, latent_pretrained.npy,
        /// latent.npy; the default) or model (only what `udll assign` reads: a landmark
        /// run keeps its landmarks' rows in landmark_codes.npy, a dense or sparse run latent.npy)
        #[argh(option)]
        codes: Option<String>,
        /// what --auto-post and --restarts choose by: agreement (mean NMI with the
        /// other candidates; the default) or eigengap (the relative eigengap at K)
        #[argh(option)]
        select_by: Option<String>,
    }
    groups [finetune, front, sparse, post, data, synthetic, threads, quiet]
}

/// The preset named by the flags, with every override applied, checked.
pub fn resolve_run_params(a: &RunArgs) -> Result<udll::ValidUdllParams> {
    let name = a.preset.clone().unwrap_or_else(|| if a.data.is_some() { "coil20".into() } else { "synthetic".into() });
    let mut c = preset(&name)?;
    c.seed = a.seed;
    finetune_flags!(&mut c, a)?;
    PretrainFlags {
        epochs: a.pretrain_epochs,
        batch: a.pretrain_batch,
        lr: a.pretrain_lr,
        bias_init: a.pretrain_bias_init,
        positive_filters: a.pretrain_positive_filters,
        sparse: a.pretrain_sparse,
        mask_rate: a.pretrain_mask_rate,
        noise_sigma: a.pretrain_noise_sigma,
        channels: &a.channels,
        kernels: &a.kernels,
        input_scale: a.input_scale,
    }
    .apply(&mut c)?;
    if let Some(k) = a.k {
        c.graph_k = k;
    }
    post_flags!(&mut c.post, a)?;
    front_flags!(&mut c.front, a)?;
    sparse_flags!(&mut c.sparse, a)?;
    c.check()
}

pub fn run(a: RunArgs) -> Result<()> {
    let obs = Stderr::new(a.quiet);
    let threads = rayon::current_num_threads();
    let params = resolve_run_params(&a)?;
    let data = data_flags!(a);
    let ds = match a.fit_sample {
        Some(s) => {
            let src = data.source(a.synthetic_objects, a.synthetic_poses, a.seed)?;
            let idx = udll::app::plan::sample_indices(src.n, s, a.seed)?;
            obs.line(&format!("fit on a sample of {s} of the {} images of {} (sample.csv lists them)", src.n, src.path().display()));
            src.gather(&idx)?
        }
        None => data.load(a.synthetic_objects, a.synthetic_poses, a.seed)?,
    };
    note_folder(&ds, &obs);
    let mut inputs = data.inputs();
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
    obs.line(&format!(
        "udll run: {} ({} images, {}×{}), preset {}, method {:?}, seed {}, {threads} threads → {}",
        ds.name,
        ds.n,
        ds.height,
        ds.width,
        params.preset,
        params.method,
        params.seed,
        a.out.display()
    ));
    let command = std::env::args().collect();
    let select_by = a.select_by.as_deref().map(|s| parse_enum(s, "--select-by", "eigengap, agreement")).transpose()?.unwrap_or_default();
    let choice = Choice { auto_post: a.auto_post, score: false, select_by };
    let codes = a.codes.as_deref().map(|s| parse_enum(s, "--codes", "all, model")).transpose()?.unwrap_or_default();
    let opts = RunOptions { out: Sink::dir(&a.out), start, clusters: a.clusters, threads, inputs, command, keep_latents: false, codes, choice };
    let how = a.landmark_choice.as_deref().map(|s| parse_enum(s, "--landmark-choice", "kmeans-pp, uniform")).transpose()?;
    let plan = Plan { landmarks: a.landmarks, landmark_choice: how, restarts: a.restarts };
    let s = run_planned(&ds, &params, &opts, &plan, &obs)?.summary;
    if let Some(sel) = &s.selection {
        let p = &sel.post;
        let by = select_by;
        obs.line(&format!(
            "chosen without labels: ρ = {}, d = {}, power = {} ({} {:.4}, of {} candidates)",
            p.rho,
            p.dim,
            p.power,
            by.score_name(),
            by.value(&sel.score).unwrap_or(f64::NAN),
            sel.candidates.len()
        ));
    }
    let t = &s.seconds;
    match s.scores {
        Some(sc) => println!(
            "ACC {:.4}  NMI {:.4}  ARI {:.4}  ({} clusters, {:.1}s: pretrain {:.1}s, graph {:.1}s, fine-tune {:.1}s, cluster {:.1}s) → {}",
            sc.acc,
            sc.nmi,
            sc.ari,
            s.clusters,
            t.total,
            t.pretrain,
            t.graph,
            t.finetune,
            t.cluster,
            a.out.display()
        ),
        None => println!("clustered into {} groups (no labels to score) in {:.1}s → {}", s.clusters, t.total, a.out.display()),
    }
    if !a.no_report {
        let r = write_report(&a.out, Some(&ds), &obs)?;
        obs.line(&format!("report: {} ({} figures)", r.path.display(), r.figures));
    }
    Ok(())
}

#[derive(FromArgs)]
/// Write RUN_DIR/report.html, one self-contained page (figures inline, each
/// also under RUN_DIR/figures/): the run's identity and scores, loss
/// curves, |C| ordered by cluster, the confusion between classes, the
/// latent codes in 2-D, each cluster's images with the misplaced ones
/// marked, and reconstructions. The images are read again from the data
/// the run recorded (checked against its SHA-256).
#[argh(subcommand, name = "report")]
pub struct ReportArgs {
    /// a finished `udll run` directory
    #[argh(positional)]
    run_dir: PathBuf,
    /// leave the images out (when the run's data is not at hand)
    #[argh(switch)]
    no_images: bool,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

/// The dataset a `udll run` manifest recorded, read again: relative paths
/// from the directory the run was started in, and the data file checked
/// against the SHA-256 the run recorded.
fn dataset_of_run(m: &udll::io::manifest::Manifest, dir: &Path) -> Result<Dataset> {
    let args: Vec<&str> = m.command.iter().map(String::as_str).collect();
    if args.get(1) != Some(&"run") {
        return Err(UdllError::config(format!(
            "{}: the manifest's command is not `udll run` ({}); give --no-images to report without the images",
            dir.display(),
            m.command.join(" ")
        )));
    }
    let mut a = RunArgs::from_args(&args[..2], &args[2..])
        .map_err(|e| UdllError::config(format!("{}: the recorded command does not parse: {}", dir.display(), e.output.trim())))?;
    let cwd = Path::new(&m.cwd);
    let resolve = |p: &Option<PathBuf>| p.as_ref().map(|p| if p.is_relative() { cwd.join(p) } else { p.clone() });
    let recorded: Vec<(PathBuf, PathBuf)> = [&a.data, &a.labels].into_iter().filter_map(|p| p.clone().zip(resolve(p))).collect();
    for (given, at) in &recorded {
        if !at.exists() {
            return Err(UdllError::config(format!("the run's data {} is not there any more; give --no-images to report without the images", at.display())));
        }
        if let Some(rec) = m.inputs.iter().find(|r| Path::new(&r.path) == given)
            && udll::io::hash::sha256_file(at)? != rec.sha256
        {
            return Err(UdllError::Mismatch(format!("{} is not the file the run read (its SHA-256 differs from the manifest's)", at.display())));
        }
    }
    a.data = resolve(&a.data);
    a.labels = resolve(&a.labels);
    data_flags!(a).load(a.synthetic_objects, a.synthetic_poses, a.seed)
}

pub fn report(a: ReportArgs) -> Result<()> {
    let obs = Stderr::new(a.quiet);
    let ds = if a.no_images {
        None
    } else {
        let m = udll::io::manifest::Manifest::load(&a.run_dir.join("manifest.json"))
            .map_err(|_| UdllError::config(format!("{} is not a finished run directory: manifest.json is missing or unreadable", a.run_dir.display())))?;
        Some(dataset_of_run(&m, &a.run_dir)?)
    };
    let r = write_report(&a.run_dir, ds.as_ref(), &obs)?;
    println!("{} ({} figures)", r.path.display(), r.figures);
    Ok(())
}

cli_args! {
    #[derive(FromArgs)]
    /// Cluster a coefficient matrix (coef.npy, n × n): thrC, the EDSC
    /// post-processing and spectral clustering. Writes labels.csv (and scores
    /// when the dataset's labels are given with --data).
    #[argh(subcommand, name = "cluster")]
    pub struct ClusterArgs {
        /// coefficient matrix, n × n .npy (f32 or f64)
        #[argh(option)]
        coef: PathBuf,
        /// output labels CSV (index,predicted,true,matched)
        #[argh(option)]
        out: PathBuf,
        /// preset for the post-processing defaults (default coil20)
        #[argh(option, default = "String::from(\"coil20\")")]
        preset: String,
        /// number of clusters (default: the label classes of --data)
        #[argh(option)]
        clusters: Option<usize>,
        /// coefficient regulariser the matrix was trained with: plain or
        /// symmetric-no-diag (then ½(C + Cᵀ) without diagonal is clustered)
        #[argh(option)]
        coef_reg: Option<String>,
        /// seed of the eigen solver and label assignment (default 0)
        #[argh(option, default = "0")]
        seed: u64,
    }
    groups [post, data, threads]
}

pub fn cluster(a: ClusterArgs) -> Result<()> {
    let mut params = preset(&a.preset)?;
    if let Some(s) = &a.coef_reg {
        params.finetune.coef_reg = parse_enum(s, "--coef-reg", "plain, symmetric-no-diag")?;
    }
    post_flags!(&mut params.post, a)?;
    let params = params.check()?;
    let (coef, r, c) = read_npy_matrix(&a.coef)?;
    if r != c {
        return Err(UdllError::format(&a.coef, format!("coefficient matrix is {r} × {c}, not square")));
    }
    let data = data_flags!(a);
    let ds = data.load_file()?;
    if let Some(ds) = &ds
        && ds.n != r
    {
        return Err(UdllError::shape(format!("{} has {} images, the coefficient matrix is {r} × {r}", ds.name, ds.n)));
    }
    let dataset = ds.as_ref().map_or(serde_json::Value::Null, |d| d.summary());
    let truth = ds.and_then(|d| d.labels);
    let k = a
        .clusters
        .or_else(|| truth.as_ref().map(|t| t.iter().max().map_or(1, |m| m + 1)))
        .ok_or_else(|| UdllError::config("give --clusters (or --data with labels)"))?;
    let t = std::time::Instant::now();
    let clustering = cluster_stage(coef, r, k, params.finetune.coef_reg, &params.post, a.seed, truth)?;
    clustering.write_labels(&a.out)?;
    let inputs: Vec<PathBuf> = std::iter::once(a.coef.clone()).chain(data.inputs()).collect();
    manifest(&params.cluster_part(k), a.seed, dataset, &inputs, &a.out, false, &[&file_name(&a.out)])?;
    match clustering.scores {
        Some(s) => println!("ACC {:.4}  NMI {:.4}  ARI {:.4}  ({k} clusters, {:.1}s) → {}", s.acc, s.nmi, s.ari, t.elapsed().as_secs_f64(), a.out.display()),
        None => println!("clustered {r} samples into {k} groups ({:.1}s) → {}", t.elapsed().as_secs_f64(), a.out.display()),
    }
    Ok(())
}

cli_args! {
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
        /// seed of the synthetic dataset (default 0)
        #[argh(option, default = "0")]
        seed: u64,
    }
    groups [data, synthetic, threads]
}

pub fn graph(a: GraphArgs) -> Result<()> {
    let data = data_flags!(a);
    let (ckpt, mut ae, ds) = checkpoint_and_data(&a.checkpoint, &data, a.synthetic_objects, a.synthetic_poses, a.seed)?;
    let latent = Latent::encode(&mut ae, &ds.scaled_pixels(ckpt.input_scale()), ds.n, 512);
    prior_graph(&latent, a.k)?.save(&a.out)?;
    let inputs: Vec<PathBuf> = std::iter::once(a.checkpoint.clone()).chain(data.inputs()).collect();
    manifest(&serde_json::json!({"k": a.k}), a.seed, ds.summary(), &inputs, &a.out, false, &[&file_name(&a.out)])?;
    println!("graph: {} nodes, k = {}, wrote {}", ds.n, a.k, a.out.display());
    Ok(())
}

cli_args! {
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
        /// seed of the synthetic dataset (default 0)
        #[argh(option, default = "0")]
        seed: u64,
    }
    groups [finetune, data, synthetic, threads, quiet]
}

pub fn finetune(a: FinetuneArgs) -> Result<()> {
    let obs = Stderr::new(a.quiet);
    let mut params = preset(&a.preset)?;
    finetune_flags!(&mut params, a)?;
    let params = params.check()?;
    let data = data_flags!(a);
    let (ckpt, ae, ds) = checkpoint_and_data(&a.checkpoint, &data, a.synthetic_objects, a.synthetic_poses, a.seed)?;
    let graph = match (&a.graph, params.finetune.locality_weight > 0.0) {
        (Some(p), _) => {
            let text = std::fs::read_to_string(p).map_err(|e| UdllError::io(p, e))?;
            Some(PriorGraph::from_csv(p, &text)?)
        }
        (None, true) => return Err(UdllError::config("γ > 0 needs --graph (from `udll graph`), or use --method dsc")),
        (None, false) => None,
    };
    let scale = ckpt.input_scale();
    let x = ds.scaled_pixels(scale);
    let meta = checkpoint_meta(&ds.name, ds.n, scale, serde_json::json!({"finetune": params.finetune, "method": params.method}));
    begin_output_dir(&a.out, &Finetuned::FILES)?;
    let finetuned = finetune_stage(ae, &x, ds.n, graph.as_ref(), &params.finetune, meta, &obs)?;
    finetuned.save(&Sink::dir(&a.out))?;
    let inputs: Vec<PathBuf> = std::iter::once(a.checkpoint.clone()).chain(a.graph.iter().cloned()).chain(data.inputs()).collect();
    manifest(&params.finetune_part(), a.seed, ds.summary(), &inputs, &a.out, true, &Finetuned::FILES)?;
    let last = finetuned.report.epochs.last().map(|t| t.total()).unwrap_or(f64::NAN);
    println!("finetune: {} epochs, final loss {last:.6e} ({:.1}s); wrote {}", params.finetune.epochs, finetuned.report.seconds, a.out.display());
    Ok(())
}

cli_args! {
    #[derive(FromArgs)]
    /// Place new images in the clusters of a finished run: its fine-tuned
    /// encoder gives their codes, and each goes to the cluster whose
    /// fitted codes reconstruct it best (class-wise ridge residual). Writes
    /// latent.npy, labels.csv, metrics.json (ACC/NMI/ARI when labels are
    /// given), manifest.json and report.html (each cluster's new images)
    /// into --out. Without --data, the built-in synthetic set.
    #[argh(subcommand, name = "assign")]
    pub struct AssignArgs {
        /// a finished `udll run` directory (its files are checked against its manifest)
        #[argh(option)]
        model: PathBuf,
        /// output directory (default udll-assign)
        #[argh(option, default = "PathBuf::from(\"udll-assign\")")]
        out: PathBuf,
        /// ridge λ relative to the mean squared norm of the fitted codes (default 0.01)
        #[argh(option, default = "udll::app::assign::DEFAULT_RIDGE")]
        ridge: f64,
        /// without --data, the seed of the built-in synthetic set (default 0)
        #[argh(option, default = "0")]
        synthetic_seed: u64,
        /// do not write report.html (and figures/) at the end
        #[argh(switch)]
        no_report: bool,
        /// only the i-th of N contiguous slices of the input, e.g. 3/8 (by index, or by sorted path for a folder); `udll merge` joins the slices
        #[argh(option)]
        shard: Option<String>,
        /// also write the new images' codes (latent.npy, n × d float32; 15 GB for a million images at d = 3840)
        #[argh(switch)]
        save_codes: bool,
        /// images placed at a time: the memory beyond the model's (default 4096)
        #[argh(option, default = "udll::app::assign::DEFAULT_CHUNK")]
        chunk: usize,
    }
    groups [data, synthetic, threads, quiet]
}

/// The largest input `udll assign` also draws a report for (the report
/// holds every image).
const ASSIGN_REPORT_MAX_IMAGES: usize = 20_000;

pub fn assign(a: AssignArgs) -> Result<()> {
    let obs = Stderr::new(a.quiet);
    let data = data_flags!(a);
    let shard = a.shard.as_deref().map(udll::app::assign::Shard::parse).transpose()?;
    let src = data.source(a.synthetic_objects, a.synthetic_poses, a.synthetic_seed)?;
    let opts = udll::app::assign::AssignOptions {
        model_dir: a.model.clone(),
        out_dir: a.out.clone(),
        ridge: a.ridge,
        threads: rayon::current_num_threads(),
        inputs: data.inputs(),
        command: std::env::args().collect(),
        shard,
        save_codes: a.save_codes,
        chunk: a.chunk,
    };
    let r = udll::app::assign::assign(&src, &opts, &obs)?;
    match r.scores {
        Some(sc) => println!(
            "ACC {:.4}  NMI {:.4}  ARI {:.4}  ({} images into {} clusters, {:.1}s) → {}",
            sc.acc,
            sc.nmi,
            sc.ari,
            r.labels.len(),
            r.clusters,
            r.seconds,
            a.out.display()
        ),
        None => println!("{} images into {} clusters ({:.1}s) → {}", r.labels.len(), r.clusters, r.seconds, a.out.display()),
    }
    if !a.no_report {
        if shard.is_some() || src.n > ASSIGN_REPORT_MAX_IMAGES {
            obs.line(&format!("report: not drawn for a shard or an input of more than {ASSIGN_REPORT_MAX_IMAGES} images"));
        } else {
            let ds = src.slice(0..src.n)?;
            let r = udll::app::report::write_assign_report(&a.out, &ds, &obs)?;
            obs.line(&format!("report: {} ({} figures)", r.path.display(), r.figures));
        }
    }
    Ok(())
}

/// What reading an image folder did (the files read, resized, skipped).
fn note_folder(ds: &udll::Dataset, obs: &dyn udll::Observer) {
    if ds.files.is_some() {
        ds.notes.iter().for_each(|n| obs.line(&format!("{}: {n}", ds.name)));
    }
}

cli_args! {
    #[derive(FromArgs)]
    /// Join the shards of one `udll assign --shard i/N` job into the output
    /// an unsharded `udll assign` writes (labels.csv, the same bytes;
    /// metrics.json; a manifest). Refuses shards of another model or
    /// input, and missing, duplicated or overlapping shards.
    #[argh(subcommand, name = "merge")]
    pub struct MergeArgs {
        /// the shard directories (any order)
        #[argh(positional)]
        shards: Vec<PathBuf>,
        /// output directory (default udll-merged)
        #[argh(option, default = "PathBuf::from(\"udll-merged\")")]
        out: PathBuf,
    }
    groups [threads, quiet]
}

pub fn merge(a: MergeArgs) -> Result<()> {
    let obs = Stderr::new(a.quiet);
    let m = udll::app::merge::merge(&a.shards, &a.out, &std::env::args().collect::<Vec<_>>(), rayon::current_num_threads(), &obs)?;
    match m.scores {
        Some(sc) => println!("ACC {:.4}  NMI {:.4}  ARI {:.4}  ({} images from {} shards) → {}", sc.acc, sc.nmi, sc.ari, m.images, m.shards, a.out.display()),
        None => println!("{} images from {} shards → {}", m.images, m.shards, a.out.display()),
    }
    Ok(())
}

cli_args! {
    #[derive(FromArgs)]
    /// Write the built-in synthetic set as a .npy file of uint8 images
    /// (n, size, size) and its labels as a second .npy (int64), a chunk of
    /// images at a time: a large input for `udll assign --shard` without an
    /// n-image array in memory. Images are the ones `udll run` draws from the
    /// same objects, poses and seed, rounded to 8 bits.
    #[argh(subcommand, name = "synth")]
    pub struct SynthArgs {
        /// number of images
        #[argh(option)]
        n: usize,
        /// poses per object: image i is object i / poses (default 72)
        #[argh(option, default = "72")]
        poses: usize,
        /// the seed (default 0)
        #[argh(option, default = "0")]
        seed: u64,
        /// the images' .npy file (the labels go to FILE's stem + _labels.npy)
        #[argh(option)]
        out: PathBuf,
    }
    groups [quiet]
}

pub fn synth(a: SynthArgs) -> Result<()> {
    let obs = Stderr::new(a.quiet);
    let labels = udll::data::synthetic::write_synthetic_npy(&a.out, a.n, a.poses, a.seed, &obs)?;
    println!("{} images of 32 × 32 (uint8) → {}; labels → {}", a.n, a.out.display(), labels.display());
    Ok(())
}
