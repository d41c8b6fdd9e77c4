//! The related representation learners (`ae`) and their comparison.

use super::*;

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
    pub(crate) threads: Option<usize>,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

pub fn ae(a: AeArgs) -> Result<()> {
    use udll::model::dense_ae::{DenseAeConfig, train_dense_ae};
    use udll::model::grdnn::{GrDnnConfig, GraphKind, train_grdnn};
    let threads = rayon::current_num_threads();
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
    for (dst, v) in [
        (&mut cfg.sparse, a.sparse),
        (&mut cfg.contractive, a.contractive),
        (&mut cfg.mask_rate, a.mask_rate),
        (&mut cfg.noise_sigma, a.noise_sigma),
        (&mut cfg.lr, a.lr),
    ] {
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
            let k = a.graph_k.unwrap_or(match g.graph {
                GraphKind::Knn { k } | GraphKind::Anchor { k, .. } => k,
            });
            g.graph = match a.anchors {
                Some(anchors) => GraphKind::Anchor { anchors, k },
                None => match g.graph {
                    GraphKind::Knn { .. } => GraphKind::Knn { k },
                    GraphKind::Anchor { anchors, .. } => GraphKind::Anchor { anchors, k },
                },
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
    pub(crate) threads: Option<usize>,
    /// no progress output
    #[argh(switch)]
    quiet: bool,
}

pub fn compare(a: CompareArgs) -> Result<()> {
    use udll::compare::{CompareOptions, METHODS, csv, features, markdown, score_features};
    let threads = rayon::current_num_threads();
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
