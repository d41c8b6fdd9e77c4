//! The related representation learners (`ae`) and their comparison.

use super::*;
use argh::FromArgs;
use udll::app::compare::{CompareOptions, METHODS, compare as compare_all};
use udll::app::related::{RelatedOverrides, RelatedParams, RelatedRun, train_related};
use udll::io::manifest::begin_output_dir;

cli_args! {
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
    }
    groups [data, synthetic, threads, quiet]
}

pub fn ae(a: AeArgs) -> Result<()> {
    let obs = Stderr::new(a.quiet);
    let data = data_flags!(a);
    let ds = data.load(a.synthetic_objects, a.synthetic_poses, a.seed)?;
    let graph_epochs = match &a.graph_epochs {
        Some(s) => match parse_list(s, "--graph-epochs")?.as_slice() {
            [p, j] => Some((*p, *j)),
            _ => return Err(UdllError::config("--graph-epochs: give two numbers, PATH,JOINT")),
        },
        None => None,
    };
    let overrides = RelatedOverrides {
        layers: a.layers.as_deref().map(|s| parse_list(s, "--layers")).transpose()?,
        code_activation: a.code_activation.as_deref().map(|s| parse_enum(s, "--code-activation", "sigmoid, relu")).transpose()?,
        loss: a.loss.as_deref().map(|s| parse_enum(s, "--loss", "cross-entropy, squared-error")).transpose()?,
        sparse: a.sparse,
        contractive: a.contractive,
        mask_rate: a.mask_rate,
        noise_sigma: a.noise_sigma,
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        lambda_rec: a.lambda_rec,
        lambda_dis: a.lambda_dis,
        eta: a.eta,
        graph_k: a.graph_k,
        anchors: a.anchors,
        graph_epochs,
    };
    let params = RelatedParams::resolve(&a.variant, ds.n, a.seed, &overrides)?;
    begin_output_dir(&a.out, &RelatedRun::FILES)?;
    let trained = train_related(&ds, &params, &obs)?;
    trained.save(&a.out)?;
    manifest(&params, a.seed, ds.summary(), &data.inputs(), &a.out, true, &RelatedRun::FILES)?;
    let mut line = format!("{}: {} codes of dimension {}", a.variant, ds.n, trained.dim);
    if let Some(s) = trained.kmeans_scores(&ds, a.seed)? {
        line += &format!("; k-means ACC {:.4} NMI {:.4}", s.acc, s.nmi);
    }
    println!("{line} → {}", a.out.display());
    Ok(())
}

cli_args! {
    #[derive(FromArgs)]
    /// Compare representation learners on one labelled dataset: raw pixels, the
    /// dense autoencoders (ae, sparse-ae, denoising-ae, contractive-ae), GR-DNN
    /// (gr-dnn, gr-dnn-dae), AME-AE (ame-ae, denoising-ame-ae) and the conv
    /// autoencoder of a preset (conv-ae, sparse-conv-ae, denoising-conv-ae), each scored by k-means ACC/NMI, mAP@10/100
    /// and a linear probe. Writes compare.md and compare.csv into --out.
    #[argh(subcommand, name = "compare")]
    pub struct CompareArgs {
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
        /// seed of the synthetic dataset (default 0)
        #[argh(option, default = "0")]
        seed: u64,
    }
    groups [data, synthetic, threads, quiet]
}

pub fn compare(a: CompareArgs) -> Result<()> {
    let methods: Vec<String> = match &a.methods {
        Some(s) => s.split(',').map(|m| m.trim().to_string()).collect(),
        None => METHODS.iter().map(|m| m.to_string()).collect(),
    };
    udll::app::compare::check_methods(&methods)?;
    let name = a.preset.clone().unwrap_or_else(|| if a.data.is_some() { "coil20".into() } else { "synthetic".into() });
    let mut conv = udll::preset(&name)?;
    if let Some(e) = a.conv_epochs {
        conv.pretrain.epochs = e;
    }
    let conv = conv.check()?;
    let data = data_flags!(a);
    let ds = data.load(a.synthetic_objects, a.synthetic_poses, a.seed)?;
    let o = CompareOptions { dense_epochs: a.dense_epochs, conv };
    begin_output_dir(&a.out, &["compare.md", "compare.csv"])?;
    // The per-method result lines are printed even with --quiet.
    let rows = compare_all(&ds, &methods, a.seeds, &o, &Stderr::new(a.quiet), &Stderr::new(false))?;
    let md = udll::app::compare::markdown(&ds.name, &rows);
    udll::io::write_atomic(&a.out.join("compare.md"), md.as_bytes())?;
    udll::io::write_atomic(&a.out.join("compare.csv"), udll::app::compare::csv(&ds.name, &rows).as_bytes())?;
    let config = serde_json::json!({"methods": methods, "seeds": a.seeds, "preset": name, "dense_epochs": a.dense_epochs, "conv_epochs": a.conv_epochs});
    manifest(&config, a.seed, ds.summary(), &data.inputs(), &a.out, true, &["compare.csv"])?;
    print!("{md}");
    Ok(())
}
