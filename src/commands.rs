//! Argument structs and one thin function per command; each resolves its
//! arguments into library values and calls the library.

use argh::FromArgs;
use std::path::{Path, PathBuf};
use udll::cli_support::{configure_threads, dataset_or_synthetic, describe_file};
use udll::data::{Dataset, LoadOptions, SyntheticSpec, parse_image_size};
use udll::io::Checkpoint;
use udll::io::npy_out::write_npy_f32;
use udll::model::{AeArch, ConvAutoencoder, pretrain as pretrain_ae};
use udll::model::udll::UdllConfig;
use udll::presets::preset;
use udll::{Result, UdllError};

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

/// The architecture a config asks for, sized to a dataset.
pub fn arch_for(cfg: &UdllConfig, ds: &Dataset) -> AeArch {
    AeArch { height: ds.height, width: ds.width, channels_in: ds.channels, channels: cfg.channels.clone(), kernels: cfg.kernels.clone(), final_relu: true }
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
    configure_threads(a.threads)?;
    let mut cfg = preset(&a.preset)?;
    cfg.seed = a.seed;
    cfg.pretrain.seed = a.seed;
    if let Some(e) = a.epochs {
        cfg.pretrain.epochs = e;
    }
    if let Some(b) = a.batch_size {
        cfg.pretrain.batch_size = b;
    }
    if let Some(l) = a.lr {
        cfg.pretrain.lr = l;
    }
    if let Some(c) = &a.channels {
        cfg.channels = parse_list(c, "--channels")?;
    }
    if let Some(k) = &a.kernels {
        cfg.kernels = parse_list(k, "--kernels")?;
    }
    if let Some(s) = a.input_scale {
        cfg.input_scale = s;
    }
    let cfg = cfg.check()?;
    let ds = data_flags!(a).load()?;
    let arch = arch_for(&cfg, &ds);
    let mut ae = ConvAutoencoder::<f32>::new(&arch)?;
    ae.init_glorot(cfg.seed);
    eprintln!("pretrain: {} images, {}", ds.n, arch.describe());
    let x = ds.scaled_pixels(cfg.input_scale);
    let report = pretrain_ae(&mut ae, &x, ds.n, &cfg.pretrain, a.quiet)?;
    let meta = serde_json::json!({
        "dataset": ds.name, "n": ds.n, "input_scale": cfg.input_scale,
        "pretrain": cfg.pretrain, "final_loss_per_image": report.epoch_loss.last(),
        "seconds": report.seconds, "udll_version": env!("CARGO_PKG_VERSION"),
    });
    Checkpoint::from_autoencoder(&ae, "autoencoder", meta).save(&a.out)?;
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
    configure_threads(a.threads)?;
    let ckpt = Checkpoint::load(&a.checkpoint)?;
    let mut ae = ckpt.autoencoder(&a.checkpoint)?;
    let ds = data_flags!(a).load()?;
    check_fits(&ae.arch, &ds, &a.checkpoint)?;
    let scale = a.input_scale.unwrap_or_else(|| checkpoint_input_scale(&ckpt));
    let z = ae.embed(&ds.scaled_pixels(scale), ds.n, 256);
    write_npy_f32(&a.out, &z, ds.n, ae.latent_dim())?;
    println!("embed: wrote {} × {} latent features to {}", ds.n, ae.latent_dim(), a.out.display());
    Ok(())
}
