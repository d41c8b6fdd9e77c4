//! The `udll` command line: argument structs and one thin function per
//! command, each *flags → checked params → one library call → save*.
//!
//! argh cannot flatten a shared group of flags into several commands
//! (google/argh#48), so each shared group is declared once here, in the
//! [`cli_args!`] macro that adds it to a command's struct, and applied by
//! one function ([`DataFlags::load`], [`apply_finetune_flags`],
//! [`apply_post_flags`], …). The commands live in `steps` (the UDLL pipeline,
//! step by step and whole), `repro` (audit, eval, reproduce) and `related`
//! (the other representation learners and their comparison).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use udll::data::{LoadOptions, SyntheticSpec, parse_image_size};
use udll::io::manifest::{Manifest, RunFacts};
use udll::{Dataset, Method, Observer, PostConfig, Result, UdllError, UdllParams};

/// Declare a command's argument struct with shared flag groups appended:
/// `data` (the dataset file, its labels file and `read`), `read` (how to
/// read a file: MAT variable names, image size), `synthetic` (the built-in
/// set's size), `threads`, `quiet`, `finetune` (the fine-tuning settings of
/// `run` and `finetune`) and `post` (the post-processing of `run` and
/// `cluster`).
macro_rules! cli_args {
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* } groups [$($group:ident),*]) => {
        cli_args!(@acc [$(#[$meta])*] $name [$($body)*] [$($group),*]);
    };
    (@acc $metas:tt $name:ident [$($body:tt)*] [data $(, $rest:ident)*]) => {
        cli_args!(@acc $metas $name [$($body)*
            /// dataset: a .mat or .npy file, or a folder of images (PNG, JPEG, BMP, TIFF, PGM; read recursively in sorted path order)
            #[argh(option)]
            pub(crate) data: Option<PathBuf>,
            /// labels as a 1-D integer .npy file (for .npy images)
            #[argh(option)]
            pub(crate) labels: Option<PathBuf>,
        ] [read $(, $rest)*]);
    };
    (@acc $metas:tt $name:ident [$($body:tt)*] [read $(, $rest:ident)*]) => {
        cli_args!(@acc $metas $name [$($body)*
            /// image variable in a MAT-file (default: guessed, e.g. fea)
            #[argh(option)]
            pub(crate) images_var: Option<String>,
            /// label variable in a MAT-file (default: guessed, e.g. gnd)
            #[argh(option)]
            pub(crate) labels_var: Option<String>,
            /// image size HxW when the images are not square (e.g. 48x42); for an image folder, the size every image is resized to (triangle filter)
            #[argh(option)]
            pub(crate) image_size: Option<String>,
            /// image folders: read RGB (default: grey)
            #[argh(switch)]
            pub(crate) rgb: bool,
            /// image folders: each file's first-level sub-folder is its class (the ImageFolder convention)
            #[argh(switch)]
            pub(crate) labels_from_folders: bool,
            /// image folders: leave out files that cannot be decoded, listing them (default: stop with an error naming the file)
            #[argh(switch)]
            pub(crate) skip_unreadable: bool,
        ] [$($rest),*]);
    };
    (@acc $metas:tt $name:ident [$($body:tt)*] [synthetic $(, $rest:ident)*]) => {
        cli_args!(@acc $metas $name [$($body)*
            /// without --data, the built-in synthetic set: number of objects (default 20)
            #[argh(option, default = "20")]
            pub(crate) synthetic_objects: usize,
            /// without --data, the built-in synthetic set: poses per object (default 72)
            #[argh(option, default = "72")]
            pub(crate) synthetic_poses: usize,
        ] [$($rest),*]);
    };
    (@acc $metas:tt $name:ident [$($body:tt)*] [threads $(, $rest:ident)*]) => {
        cli_args!(@acc $metas $name [$($body)*
            /// threads for both pools (default: RAYON_NUM_THREADS or all cores); results do not depend on it
            #[argh(option)]
            pub(crate) threads: Option<usize>,
            /// GEMM kernels: auto (the fastest this CPU has; default), portable (matrixmultiply's: the same bits on every x86-64-v3 machine), avx512 or avx2 (the crate's own, the same bits)
            #[argh(option)]
            pub(crate) cpu_kernels: Option<String>,
        ] [$($rest),*]);
    };
    (@acc $metas:tt $name:ident [$($body:tt)*] [quiet $(, $rest:ident)*]) => {
        cli_args!(@acc $metas $name [$($body)*
            /// no progress output
            #[argh(switch)]
            pub(crate) quiet: bool,
        ] [$($rest),*]);
    };
    (@acc $metas:tt $name:ident [$($body:tt)*] [finetune $(, $rest:ident)*]) => {
        cli_args!(@acc $metas $name [$($body)*
            /// method: udll, dsc (no locality term, γ = 0) or edsc (`run` only: no network, EDSC on the front end's features; default: the preset's)
            #[argh(option)]
            pub(crate) method: Option<String>,
            /// fine-tuning epochs
            #[argh(option)]
            pub(crate) epochs: Option<usize>,
            /// fine-tuning learning rate
            #[argh(option)]
            pub(crate) lr: Option<f64>,
            /// fine-tuning learning rate of the autoencoder's weights (default: --lr)
            #[argh(option)]
            pub(crate) ae_lr: Option<f64>,
            /// r, weight of ‖X − X̂‖² (Eq. 18: 0.5)
            #[argh(option)]
            pub(crate) recon_weight: Option<f64>,
            /// α, weight of ‖Z − CZ‖²
            #[argh(option)]
            pub(crate) alpha: Option<f64>,
            /// β, weight of ‖C‖²
            #[argh(option)]
            pub(crate) beta: Option<f64>,
            /// γ, weight of the locality loss Σ a_ij‖z_i − z_j‖²
            #[argh(option)]
            pub(crate) gamma: Option<f64>,
            /// initial value of every coefficient
            #[argh(option)]
            pub(crate) coef_init: Option<f64>,
            /// coefficient regulariser: plain or symmetric-no-diag
            #[argh(option)]
            pub(crate) coef_reg: Option<String>,
            /// keep diag(C) = 0 during fine-tuning
            #[argh(switch)]
            pub(crate) zero_diag: bool,
        ] [$($rest),*]);
    };
    (@acc $metas:tt $name:ident [$($body:tt)*] [post $(, $rest:ident)*]) => {
        cli_args!(@acc $metas $name [$($body)*
            /// thrC ρ of the post-processing
            #[argh(option)]
            pub(crate) rho: Option<f64>,
            /// post-processing subspace dimension d (r = d·K + 1)
            #[argh(option)]
            pub(crate) dim: Option<usize>,
            /// post-processing affinity power
            #[argh(option)]
            pub(crate) power: Option<f64>,
            /// label assignment: discretize or kmeans
            #[argh(option)]
            pub(crate) assign: Option<String>,
            /// replace diag(C) by ones before the SVD (true/false; default: the preset's)
            #[argh(option)]
            pub(crate) add_identity: Option<bool>,
        ] [$($rest),*]);
    };
    (@acc $metas:tt $name:ident [$($body:tt)*] [front $(, $rest:ident)*]) => {
        cli_args!(@acc $metas $name [$($body)*
            /// front end: pixels, or scattering (the wavelet scattering transform; default: the preset's)
            #[argh(option)]
            pub(crate) front: Option<String>,
            /// scattering: the scale J, maps subsampled by 2^J (default 2)
            #[argh(option)]
            pub(crate) scattering_j: Option<usize>,
            /// scattering: wavelet orientations L (default 8)
            #[argh(option)]
            pub(crate) scattering_l: Option<usize>,
            /// scattering: the highest order, 1 or 2 (default 2)
            #[argh(option)]
            pub(crate) scattering_order: Option<usize>,
            /// scattering: true to divide each map by its largest magnitude (default true)
            #[argh(option)]
            pub(crate) scattering_normalise: Option<bool>,
            /// scattering: project the features on the top K directions of XᵀX, no centering (0: keep the maps; default 0)
            #[argh(option)]
            pub(crate) scattering_pca: Option<usize>,
        ] [$($rest),*]);
    };
    (@acc $metas:tt $name:ident [$($body:tt)*] [sparse $(, $rest:ident)*]) => {
        cli_args!(@acc $metas $name [$($body)*
            /// ridge (EDSC's dense C with --method edsc; the learned C with udll/dsc), ensc (elastic-net subspace clustering) or omp (SSC-OMP): the sparse two code each sample (the features with --method edsc, the fine-tuned codes with udll/dsc) by a few others and cluster without any n × n matrix (default: the preset's)
            #[argh(option)]
            pub(crate) self_expression: Option<String>,
            /// ensc: γ relative to the γ at which a code becomes nonzero (default 200)
            #[argh(option)]
            pub(crate) ensc_gamma: Option<f64>,
            /// ensc: τ, the ℓ1 share of the elastic net's penalty (default 0.9)
            #[argh(option)]
            pub(crate) ensc_tau: Option<f64>,
            /// ensc / omp: nonzeros kept per code (default 50 for EnSC, 5 for SSC-OMP)
            #[argh(option)]
            pub(crate) sparse_nonzeros: Option<usize>,
            /// ensc / omp: the affinity, knn (the k nearest rows of the normalised codes; EnSC's default) or symmetrize (|C| + |C|ᵀ; SSC-OMP's)
            #[argh(option)]
            pub(crate) sparse_affinity: Option<String>,
            /// ensc / omp: k of the knn affinity (default 3)
            #[argh(option)]
            pub(crate) sparse_knn: Option<usize>,
        ] [$($rest),*]);
    };
    (@acc [$(#[$meta:meta])*] $name:ident [$($body:tt)*] []) => {
        $(#[$meta])*
        pub struct $name { $($body)* }
    };
}

/// Gather a command's `data` (and `synthetic`) flag group into [`DataFlags`].
macro_rules! data_flags {
    ($a:expr) => {
        DataFlags { data: &$a.data, labels: &$a.labels, ..read_flags!($a) }
    };
}

/// The `read` flag group of a command as [`DataFlags`] without a data file.
macro_rules! read_flags {
    ($a:expr) => {
        DataFlags {
            data: &None,
            images_var: &$a.images_var,
            labels_var: &$a.labels_var,
            labels: &None,
            image_size: &$a.image_size,
            rgb: $a.rgb,
            labels_from_folders: $a.labels_from_folders,
            skip_unreadable: $a.skip_unreadable,
        }
    };
}

/// The `data` flag group of a command.
pub struct DataFlags<'a> {
    pub data: &'a Option<PathBuf>,
    pub images_var: &'a Option<String>,
    pub labels_var: &'a Option<String>,
    pub labels: &'a Option<PathBuf>,
    pub image_size: &'a Option<String>,
    pub rgb: bool,
    pub labels_from_folders: bool,
    pub skip_unreadable: bool,
}

impl DataFlags<'_> {
    fn options(&self) -> Result<LoadOptions> {
        Ok(LoadOptions {
            images_var: self.images_var.clone(),
            labels_var: self.labels_var.clone(),
            labels_file: self.labels.clone(),
            image_size: self.image_size.as_deref().map(parse_image_size).transpose()?,
            rgb: self.rgb,
            labels_from_folders: self.labels_from_folders,
            skip_unreadable: self.skip_unreadable,
        })
    }

    /// The dataset of --data, or the synthetic one of `objects` × `poses`
    /// drawn with `seed`.
    pub fn load(&self, objects: usize, poses: usize, seed: u64) -> Result<Dataset> {
        let synth = SyntheticSpec { objects, poses, seed, ..Default::default() };
        udll::app::describe::dataset_or_synthetic(self.data.as_deref(), &self.options()?, &synth)
    }

    /// The input of --data to read in slices: a .npy file or an image
    /// folder streamed, anything else (a MAT file, the synthetic set)
    /// loaded whole.
    pub fn source(&self, objects: usize, poses: usize, seed: u64) -> Result<udll::data::ImageSource> {
        use udll::data::ImageSource;
        match self.data.as_deref() {
            Some(p) if p.is_dir() || p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy")) => ImageSource::open(p, &self.options()?),
            _ => Ok(ImageSource::from_dataset(self.load(objects, poses, seed)?)),
        }
    }

    /// The dataset of --data, if given (no synthetic fallback).
    pub fn load_file(&self) -> Result<Option<Dataset>> {
        self.data.as_deref().map(|p| udll::load_dataset(p, &self.options()?)).transpose()
    }

    /// The input files these flags name, for the manifest.
    pub fn inputs(&self) -> Vec<PathBuf> {
        self.data.iter().chain(self.labels.iter()).cloned().collect()
    }
}

/// Progress on stderr. On a terminal one line is rewritten in place;
/// otherwise (CI, pipes, logs) a plain line is printed every ~5 % of the
/// work and at the end, so logs stay short. `quiet` silences both.
pub struct Stderr {
    quiet: bool,
    tty: bool,
}

impl Stderr {
    pub fn new(quiet: bool) -> Self {
        Stderr { quiet, tty: std::io::stderr().is_terminal() }
    }
}

impl Observer for Stderr {
    fn progress(&self, task: &str, done: usize, total: usize, message: &str, seconds: f64) {
        if self.quiet {
            return;
        }
        let eta = if done > 0 && done < total { format!(", ETA {}", clock(seconds / done as f64 * (total - done) as f64)) } else { String::new() };
        let line = format!("[{task}] {done}/{total} {message} ({}{eta})", clock(seconds));
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}");
            if done >= total {
                let _ = writeln!(err);
            }
        } else if done == 1 || done.is_multiple_of((total / 20).max(1)) || done >= total {
            let _ = writeln!(err, "{line}");
        }
    }

    fn line(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }
}

/// Seconds as `12.3s`, `4m05s` or `1h02m`.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    } else {
        format!("{}h{:02}m", (s / 3600.0) as u64, ((s % 3600.0) / 60.0) as u64)
    }
}

/// Write the manifest of a command that wrote `artefacts` under `out`, with
/// `config` (the checked params) serialised into it.
pub fn manifest(
    config: &impl serde::Serialize,
    seed: u64,
    dataset: serde_json::Value,
    inputs: &[PathBuf],
    out: &Path,
    is_dir: bool,
    artefacts: &[&str],
) -> Result<()> {
    let config = serde_json::to_value(config).map_err(|e| UdllError::config(format!("the settings do not serialise: {e}")))?;
    let command: Vec<String> = std::env::args().collect();
    let facts = RunFacts { command: &command, config, seed, dataset, inputs, threads: rayon::current_num_threads() };
    Manifest::record_and_write(facts, out, is_dir, artefacts).map(|_| ())
}

/// The file name of a single-file output, as its manifest lists it.
pub fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

pub fn parse_list(s: &str, what: &str) -> Result<Vec<usize>> {
    s.split(',').map(|p| p.trim().parse::<usize>().map_err(|_| UdllError::config(format!("{what}: '{s}' is not a comma-separated list of integers")))).collect()
}

pub fn parse_enum<T: serde::de::DeserializeOwned>(s: &str, flag: &str, choices: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| UdllError::config(format!("{flag}: '{s}' is not one of {choices}")))
}

/// Overwrite each field whose flag was given.
fn set<'a, V: 'a>(pairs: impl IntoIterator<Item = (&'a mut V, Option<V>)>) {
    for (dst, v) in pairs {
        if let Some(v) = v {
            *dst = v;
        }
    }
}

/// Apply the `finetune` flag group. `--method dsc` sets γ = 0 before the
/// other weights, so a γ given with it is refused by the check.
fn apply_finetune_flags(
    c: &mut UdllParams,
    method: &Option<String>,
    epochs: Option<usize>,
    lrs: [Option<f64>; 2],
    weights: [Option<f64>; 5],
    reg: &Option<String>,
    zero_diag: bool,
) -> Result<()> {
    if let Some(m) = method {
        c.set_method(parse_enum::<Method>(m, "--method", "udll, dsc, edsc")?);
    }
    let f = &mut c.finetune;
    let [lr, ae_lr] = lrs;
    let [recon, alpha, beta, gamma, init] = weights;
    set([
        (&mut f.lr, lr),
        (&mut f.recon_weight, recon),
        (&mut f.self_expr_weight, alpha),
        (&mut f.coef_weight, beta),
        (&mut f.locality_weight, gamma),
        (&mut f.coef_init, init),
    ]);
    set([(&mut f.epochs, epochs)]);
    if ae_lr.is_some() {
        f.ae_lr = ae_lr;
    }
    if let Some(s) = reg {
        f.coef_reg = parse_enum(s, "--coef-reg", "plain, symmetric-no-diag")?;
    }
    f.zero_diag |= zero_diag;
    Ok(())
}

/// Apply the `finetune` group of a command's arguments.
macro_rules! finetune_flags {
    ($c:expr, $a:expr) => {
        apply_finetune_flags(
            $c,
            &$a.method,
            $a.epochs,
            [$a.lr, $a.ae_lr],
            [$a.recon_weight, $a.alpha, $a.beta, $a.gamma, $a.coef_init],
            &$a.coef_reg,
            $a.zero_diag,
        )
    };
}

/// Apply the `front` flag group: `--front` picks the front end (the
/// scattering's defaults when it was pixels), the `--scattering-*` flags
/// set its values, and are refused with a pixel front end.
fn apply_front_flags(
    front: &mut udll::features::FrontEnd,
    kind: &Option<String>,
    transform: [Option<usize>; 3],
    normalise: Option<bool>,
    pca: Option<usize>,
) -> Result<()> {
    use udll::features::{FrontEnd, ScatteringFront};
    match kind.as_deref() {
        None => {}
        Some("pixels") => *front = FrontEnd::Pixels,
        // Already a scattering front end (a preset's): keep its settings.
        Some("scattering") if !front.is_pixels() => {}
        Some("scattering") => *front = FrontEnd::Scattering(ScatteringFront::default()),
        Some(other) => return Err(UdllError::config(format!("--front: '{other}' is not one of pixels, scattering"))),
    }
    let given = transform.iter().any(Option::is_some) || normalise.is_some() || pca.is_some();
    match front {
        FrontEnd::Pixels if given => Err(UdllError::config("the --scattering-* flags need the scattering front end (--front scattering)")),
        FrontEnd::Pixels => Ok(()),
        FrontEnd::Scattering(s) => {
            let [j, l, order] = transform;
            set([(&mut s.transform.j, j), (&mut s.transform.l, l), (&mut s.transform.order, order), (&mut s.pca, pca)]);
            set([(&mut s.normalise, normalise)]);
            Ok(())
        }
    }
}

/// Apply the `front` group of a command's arguments.
macro_rules! front_flags {
    ($f:expr, $a:expr) => {
        apply_front_flags($f, &$a.front, [$a.scattering_j, $a.scattering_l, $a.scattering_order], $a.scattering_normalise, $a.scattering_pca)
    };
}

/// Apply the `sparse` flag group: `--self-expression` picks ridge (None)
/// or a sparse solver (its reference recipe, unless the preset already
/// has that solver), then the other flags set its values; they are
/// refused with the ridge.
fn apply_sparse_flags(
    sparse: &mut Option<udll::SparseConfig>,
    kind: &Option<String>,
    ensc: [Option<f64>; 2],
    nonzeros: Option<usize>,
    affinity: &Option<String>,
    knn: Option<usize>,
) -> Result<()> {
    use udll::{EnscParams, OmpParams, SparseAffinity, SparseConfig, SparseSolver};
    match kind.as_deref() {
        None => {}
        Some("ridge") => *sparse = None,
        Some("ensc") if !matches!(sparse, Some(SparseConfig { solver: SparseSolver::Ensc(_), .. })) => {
            *sparse = Some(SparseConfig::recipe(SparseSolver::Ensc(EnscParams::default())))
        }
        Some("omp") if !matches!(sparse, Some(SparseConfig { solver: SparseSolver::Omp(_), .. })) => {
            *sparse = Some(SparseConfig::recipe(SparseSolver::Omp(OmpParams::default())))
        }
        Some("ensc" | "omp") => {}
        Some(other) => return Err(UdllError::config(format!("--self-expression: '{other}' is not one of ridge, ensc, omp"))),
    }
    let given = ensc.iter().any(Option::is_some) || nonzeros.is_some() || affinity.is_some() || knn.is_some();
    let Some(cfg) = sparse else {
        return if given { Err(UdllError::config("the --ensc-* and --sparse-* flags need --self-expression ensc or omp")) } else { Ok(()) };
    };
    match &mut cfg.solver {
        SparseSolver::Ensc(p) => {
            set([(&mut p.gamma, ensc[0]), (&mut p.tau, ensc[1])]);
            set([(&mut p.nonzeros, nonzeros)]);
        }
        SparseSolver::Omp(p) => {
            if ensc.iter().any(Option::is_some) {
                return Err(UdllError::config("--ensc-gamma and --ensc-tau are EnSC's settings, not SSC-OMP's"));
            }
            set([(&mut p.nonzeros, nonzeros)]);
        }
    }
    match affinity.as_deref() {
        None => {}
        Some("symmetrize") => cfg.affinity = SparseAffinity::Symmetrize,
        Some("knn") => cfg.affinity = SparseAffinity::Knn { k: 3 },
        Some(other) => return Err(UdllError::config(format!("--sparse-affinity: '{other}' is not one of knn, symmetrize"))),
    }
    if let Some(k) = knn {
        match &mut cfg.affinity {
            SparseAffinity::Knn { k: old } => *old = k,
            SparseAffinity::Symmetrize => return Err(UdllError::config("--sparse-knn needs --sparse-affinity knn")),
        }
    }
    Ok(())
}

/// Apply the `sparse` group of a command's arguments.
macro_rules! sparse_flags {
    ($s:expr, $a:expr) => {
        apply_sparse_flags($s, &$a.self_expression, [$a.ensc_gamma, $a.ensc_tau], $a.sparse_nonzeros, &$a.sparse_affinity, $a.sparse_knn)
    };
}

/// Apply the `post` flag group.
fn apply_post_flags(
    p: &mut PostConfig,
    rho: Option<f64>,
    dim: Option<usize>,
    power: Option<f64>,
    assign: &Option<String>,
    add_identity: Option<bool>,
) -> Result<()> {
    set([(&mut p.rho, rho), (&mut p.power, power)]);
    set([(&mut p.dim, dim)]);
    set([(&mut p.add_identity, add_identity)]);
    if let Some(s) = assign {
        p.assign = parse_enum(s, "--assign", "discretize, kmeans")?;
    }
    Ok(())
}

/// Apply the `post` group of a command's arguments.
macro_rules! post_flags {
    ($p:expr, $a:expr) => {
        apply_post_flags($p, $a.rho, $a.dim, $a.power, &$a.assign, $a.add_identity)
    };
}

/// Apply the architecture and pretraining settings shared by `pretrain`
/// and `run` (whose flags have other names: `--epochs` there is
/// `--pretrain-epochs` here).
pub struct PretrainFlags<'a> {
    pub epochs: Option<usize>,
    pub batch: Option<usize>,
    pub lr: Option<f64>,
    pub bias_init: Option<f64>,
    pub positive_filters: Option<bool>,
    pub sparse: Option<f64>,
    pub mask_rate: Option<f64>,
    pub noise_sigma: Option<f64>,
    pub channels: &'a Option<String>,
    pub kernels: &'a Option<String>,
    pub input_scale: Option<f32>,
}

impl PretrainFlags<'_> {
    fn apply(&self, c: &mut UdllParams) -> Result<()> {
        let p = &mut c.pretrain;
        set([(&mut p.epochs, self.epochs), (&mut p.batch_size, self.batch)]);
        set([
            (&mut p.lr, self.lr),
            (&mut p.encoder_bias_init, self.bias_init),
            (&mut p.sparse, self.sparse),
            (&mut p.mask_rate, self.mask_rate),
            (&mut p.noise_sigma, self.noise_sigma),
        ]);
        set([(&mut p.positive_filters, self.positive_filters)]);
        if let Some(s) = self.channels {
            c.channels = parse_list(s, "--channels")?;
        }
        if let Some(s) = self.kernels {
            c.kernels = parse_list(s, "--kernels")?;
        }
        set([(&mut c.input_scale, self.input_scale)]);
        Ok(())
    }
}

// After the macros above, which the commands use.
mod related;
mod repro;
mod steps;

pub use related::*;
pub use repro::*;
pub use steps::*;
