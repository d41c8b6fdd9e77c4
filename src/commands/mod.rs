//! The `udll` command line: argument structs and one thin function per
//! command, each resolving its arguments into library values and calling the
//! library. This module holds what the commands share (data flags, flag
//! parsing, manifests); the commands live in `steps` (the UDLL pipeline, step
//! by step and whole), `repro` (audit, eval, reproduce) and `related`
//! (the other representation learners and their comparison).

use argh::FromArgs;
use std::path::{Path, PathBuf};
use udll::cli_support::{dataset_or_synthetic, describe_file};
use udll::data::{Dataset, LoadOptions, SyntheticSpec, parse_image_size};
use udll::io::Checkpoint;
use udll::io::manifest::{Manifest, RunFacts};
use udll::io::npy_out::write_npy_f32;
use udll::model::udll::UdllConfig;
use udll::model::udll::pipeline::fresh_autoencoder;
use udll::model::{AeArch, pretrain as pretrain_ae};
use udll::presets::preset;
use udll::{Result, UdllError};

/// The input files a command read, for its manifest.
fn inputs(paths: &[Option<&PathBuf>]) -> Vec<PathBuf> {
    paths.iter().flatten().map(|p| (*p).clone()).collect()
}

/// Write the manifest of a command that wrote `artefacts` under `out`.
#[allow(clippy::too_many_arguments)]
fn manifest(
    config: serde_json::Value,
    seed: u64,
    dataset: serde_json::Value,
    inputs: &[PathBuf],
    threads: usize,
    out: &Path,
    is_dir: bool,
    artefacts: &[&str],
) -> Result<()> {
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

/// The input scale a checkpoint was trained at (1 when not recorded).
pub fn checkpoint_input_scale(c: &Checkpoint) -> f32 {
    c.meta.get("input_scale").and_then(|v| v.as_f64()).unwrap_or(1.0) as f32
}

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

fn parse_enum<T: serde::de::DeserializeOwned>(s: &str, flag: &str, choices: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| UdllError::config(format!("{flag}: '{s}' is not one of {choices}")))
}

/// Apply the architecture and pretraining flags shared by `pretrain` and `run`.
#[allow(clippy::too_many_arguments)]
fn apply_pretrain_flags(
    c: &mut UdllConfig,
    epochs: Option<usize>,
    batch: Option<usize>,
    lr: Option<f64>,
    bias_init: Option<f64>,
    positive_filters: Option<bool>,
    channels: &Option<String>,
    kernels: &Option<String>,
    input_scale: Option<f32>,
) -> Result<()> {
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
    if let Some(v) = positive_filters {
        p.positive_filters = v;
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
fn apply_finetune_flags(
    c: &mut UdllConfig,
    method: &str,
    epochs: Option<usize>,
    lr: Option<f64>,
    ae_lr: Option<f64>,
    recon: Option<f64>,
    alpha: Option<f64>,
    beta: Option<f64>,
    gamma: Option<f64>,
    init: Option<f64>,
    reg: &Option<String>,
    zero_diag: bool,
) -> Result<()> {
    c.method = parse_enum(method, "--method", "udll, dsc")?;
    let f = &mut c.finetune;
    for (dst, v) in [
        (&mut f.lr, lr),
        (&mut f.recon_weight, recon),
        (&mut f.self_expr_weight, alpha),
        (&mut f.coef_weight, beta),
        (&mut f.locality_weight, gamma),
        (&mut f.coef_init, init),
    ] {
        if let Some(v) = v {
            *dst = v;
        }
    }
    if let Some(e) = epochs {
        f.epochs = e;
    }
    if ae_lr.is_some() {
        f.ae_lr = ae_lr;
    }
    if let Some(s) = reg {
        f.coef_reg = parse_enum(s, "--coef-reg", "plain, symmetric-no-diag")?;
    }
    f.zero_diag |= zero_diag;
    Ok(())
}

mod related;
mod repro;
mod steps;

pub use related::*;
pub use repro::*;
pub use steps::*;
