//! Reproducibility and evaluation commands: audit, eval, reproduce.

use super::*;
use argh::FromArgs;
use std::process::Command;
use udll::app::audit::{locate_manifest, preamble, recorded_cwd};
use udll::io::manifest::Manifest;

cli_args! {
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
    groups []
}

/// The command line of the re-run: the recorded arguments with `--out`
/// moved under `scratch`, `--threads` set, and `--cpu-kernels` set to the
/// kernel family the manifest recorded (when it recorded one).
pub fn rerun_args(m: &Manifest, scratch: &Path, threads: usize) -> Result<(Vec<String>, PathBuf)> {
    if m.command.len() < 2 {
        return Err(UdllError::config(format!(
            "{} was made through the library (Fitted::save), not a command line: there is no command to re-run",
            m.output.path
        )));
    }
    let args: Vec<String> = m.command.iter().skip(1).cloned().collect();
    // A command run without `--out` wrote to its default directory, which
    // the manifest records; the re-run names its scratch copy explicitly.
    let out_pos = args.windows(2).position(|w| w[0] == "--out" && w[1] == m.output.path).map(|i| i + 1);
    if out_pos.is_none() && args.iter().any(|a| a == "--out") {
        return Err(UdllError::config(format!("the manifest's command line writes elsewhere than its output {}: cannot re-run it", m.output.path)));
    }
    let name = Path::new(&m.output.path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let new_out = scratch.join(&name);
    let mut new_args = Vec::with_capacity(args.len() + 2);
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--threads" || (args[i] == "--cpu-kernels" && m.kernel_family.is_some()) {
            i += 2;
            continue;
        }
        new_args.push(if Some(i) == out_pos { new_out.display().to_string() } else { args[i].clone() });
        i += 1;
    }
    if out_pos.is_none() {
        new_args.push("--out".into());
        new_args.push(new_out.display().to_string());
    }
    new_args.push("--threads".into());
    new_args.push(threads.to_string());
    if let Some(f) = &m.kernel_family {
        new_args.push("--cpu-kernels".into());
        new_args.push(f.clone());
    }
    let base = if m.output.is_dir { new_out } else { scratch.to_path_buf() };
    Ok((new_args, base))
}

/// Re-run the manifest's command with this binary under `threads` threads in
/// a fresh directory under `scratch_root`; the directory its artefacts are
/// in. Child stderr (progress) is passed through; its stdout is discarded.
fn rerun(m: &Manifest, scratch_root: &Path, threads: usize) -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| UdllError::io(Path::new("udll"), e))?;
    let scratch = scratch_root.join(format!("threads-{threads}"));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| UdllError::io(&scratch, e))?;
    let (args, base) = rerun_args(m, &scratch, threads)?;
    eprintln!("audit: re-running with {threads} thread(s) in {}", scratch_root.display());
    let status = Command::new(&exe)
        .args(&args)
        .current_dir(recorded_cwd(m)?)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env("MATMUL_NUM_THREADS", threads.to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| UdllError::io(&exe, e))?;
    if !status.success() {
        return Err(UdllError::config(format!("the re-run failed ({status}): {} {}", exe.display(), args.join(" "))));
    }
    Ok(base)
}

pub fn audit(a: AuditArgs) -> Result<()> {
    let mpath = locate_manifest(&a.path)?;
    let m = Manifest::load(&mpath)?;
    let thread_counts = match &a.threads {
        Some(s) => parse_list(s, "--threads")?,
        None => vec![m.threads],
    };
    if thread_counts.is_empty() || thread_counts.contains(&0) {
        return Err(UdllError::config("--threads: thread counts must be at least 1"));
    }
    if let Some(f) = &m.kernel_family {
        udll::kernels::KernelFamily::parse(f).map_err(|e| {
            UdllError::config(format!(
                "the run used the {f} GEMM kernels and this machine cannot run them ({e}): audit it on a machine that can, or re-run its command with --cpu-kernels portable for bits any x86-64-v3 machine reproduces"
            ))
        })?;
    }
    let family = m.kernel_family.as_deref().map_or(String::new(), |f| format!(", {f} kernels"));
    println!("audit: {} ({} artefacts, recorded with {} threads{family})", mpath.display(), m.artefacts.len(), m.threads);
    for note in preamble(&m) {
        println!("note: {note}");
    }
    let scratch = std::env::temp_dir().join(format!("udll-audit-{}", std::process::id()));
    let report = udll::app::audit::audit(&mpath, &m, &thread_counts, &mut |t| rerun(&m, &scratch, t));
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

cli_args! {
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
        /// dataset whose labels (and, without --features, pixels) are used
        #[argh(option)]
        data: Option<PathBuf>,
    }
    groups [read, threads]
}

/// True labels from a labels.csv (its `true` column) or a 1-D .npy.
fn read_labels(path: &Path, n: usize) -> Result<Vec<usize>> {
    if path.extension().is_some_and(|e| e == "csv") { udll::io::labels::read_true_labels(path, n) } else { udll::data::npy::read_npy_labels(path, n) }
}

pub fn eval(a: EvalArgs) -> Result<()> {
    use udll::eval::{EvalOptions, Task, evaluate, probe::ProbeConfig};
    let tasks = a.task.split(',').map(|t| parse_enum::<Task>(t.trim(), "--task", "kmeans, spectral, edsc, map, probe")).collect::<Result<Vec<_>>>()?;
    let flags = DataFlags { data: &a.data, ..read_flags!(a) };
    let ds = flags.load_file()?;
    let (features, n, d) = match (&a.features, &ds) {
        (Some(p), _) => udll::io::npy_out::read_npy_matrix(p)?,
        (None, Some(ds)) => (ds.pixels.clone(), ds.n, ds.image_len()),
        (None, None) => return Err(UdllError::config("give --features FILE.npy, or --data to evaluate raw pixels")),
    };
    let labels = match (&a.labels, &ds) {
        (Some(p), _) => read_labels(p, n)?,
        (None, Some(ds)) => match &ds.labels {
            Some(l) if l.len() == n => l.clone(),
            Some(l) => return Err(UdllError::shape(format!("{} has {} labels, the features {n} rows", ds.name, l.len()))),
            None => return Err(UdllError::config("the dataset has no labels; give --labels")),
        },
        (None, None) => return Err(UdllError::config("give --labels (or --data with labels)")),
    };
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let defaults = udll::preset(&a.preset)?;
    let opts = EvalOptions {
        clusters: a.clusters.unwrap_or(classes),
        seed: a.seed,
        knn: a.knn,
        edsc_lambda: a.edsc_lambda.unwrap_or(defaults.edsc_lambda),
        post: defaults.post,
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
        let name = t.name();
        println!("{name}: {r} ({:.1}s)", start.elapsed().as_secs_f64());
        results.insert(name.to_string(), r);
    }
    if let Some(out) = &a.out {
        let doc = serde_json::json!({"n": n, "d": d, "classes": classes, "seed": a.seed, "results": results});
        udll::io::write_json(out, &doc)?;
        let config = serde_json::json!({"tasks": tasks, "clusters": opts.clusters, "knn": opts.knn, "edsc_lambda": opts.edsc_lambda, "post": opts.post, "map_k": opts.map_ks, "train_fraction": a.train_fraction});
        let dataset = ds.as_ref().map_or(serde_json::Value::Null, |d| d.summary());
        let inputs: Vec<PathBuf> = a.features.iter().chain(a.labels.iter()).chain(a.data.iter()).cloned().collect();
        manifest(&config, a.seed, dataset, &inputs, out, false, &[&file_name(out)])?;
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
    pub(crate) threads: Option<usize>,
    /// GEMM kernels: auto (the fastest this CPU has; default), portable or avx512
    #[argh(option)]
    pub(crate) cpu_kernels: Option<String>,
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
    use udll::app::reproduce::{ALL_METHODS, ReproduceOptions, TableMethod, dataset_spec, reproduce as run_all};
    let datasets: Vec<String> = a.datasets.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    for d in &datasets {
        dataset_spec(d)?;
    }
    let methods = match &a.methods {
        Some(s) => s
            .split(',')
            .map(|m| parse_enum::<TableMethod>(m.trim(), "--methods", "udll, dsc, pt-edsc, ft-edsc, edsc-raw, kmeans-raw"))
            .collect::<Result<Vec<_>>>()?,
        None => ALL_METHODS.to_vec(),
    };
    if a.seeds == 0 || datasets.is_empty() || methods.is_empty() {
        return Err(UdllError::config("give at least one dataset, one method and one seed"));
    }
    let o = ReproduceOptions {
        data_dir: a.data_dir.clone(),
        datasets,
        methods,
        seeds: (0..a.seeds).collect(),
        out_dir: a.out.clone(),
        threads: rayon::current_num_threads(),
        command: std::env::args().collect(),
        pretrain_epochs: a.pretrain_epochs,
        finetune_epochs: a.epochs,
        synthetic: SyntheticSpec { objects: a.synthetic_objects, poses: a.synthetic_poses, ..Default::default() },
    };
    udll::io::manifest::begin_output_dir(&a.out, &["reproduce.md", "summary.csv", "runs.csv"])?;
    let r = run_all(&o, &Stderr::new(a.quiet), &Stderr::new(false))?;
    r.save(&a.out)?;
    manifest(&o, 0, serde_json::Value::Null, &o.input_files(), &a.out, true, &["summary.csv"])?;
    print!("{}", r.markdown());
    println!("wrote {}/reproduce.md, summary.csv, runs.csv", a.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use udll::io::manifest::OutputRecord;

    fn manifest(command: &[&str], out: &str, is_dir: bool) -> Manifest {
        Manifest {
            udll_version: "0".into(),
            git_commit: None,
            command: command.iter().map(|s| s.to_string()).collect(),
            cwd: String::new(),
            output: OutputRecord { path: out.into(), is_dir },
            config: serde_json::Value::Null,
            seed: 0,
            dataset: serde_json::Value::Null,
            inputs: vec![],
            cpu_kernel_features: vec![],
            kernel_family: None,
            threads: 2,
            artefacts: vec![],
        }
    }

    #[test]
    fn rerun_moves_the_output_and_sets_threads() {
        let m = manifest(&["udll", "run", "--threads", "4", "--out", "runs/a", "--seed", "3"], "runs/a", true);
        let (args, base) = rerun_args(&m, Path::new("/tmp/x"), 1).unwrap();
        assert_eq!(args, ["run", "--out", "/tmp/x/a", "--seed", "3", "--threads", "1"]);
        assert_eq!(base, PathBuf::from("/tmp/x/a"));
        let f = manifest(&["udll", "pretrain", "--out", "ae.ckpt"], "ae.ckpt", false);
        let (args, base) = rerun_args(&f, Path::new("/s"), 2).unwrap();
        assert_eq!(args, ["pretrain", "--out", "/s/ae.ckpt", "--threads", "2"]);
        // The recorded kernel family replaces the one typed.
        let mut k = manifest(&["udll", "run", "--cpu-kernels", "auto", "--out", "o"], "o", true);
        k.kernel_family = Some("portable".into());
        let (args, _) = rerun_args(&k, Path::new("/s"), 1).unwrap();
        assert_eq!(args, ["run", "--out", "/s/o", "--threads", "1", "--cpu-kernels", "portable"]);
        assert_eq!(base, PathBuf::from("/s"));
        // Run without `--out` (the default directory): the re-run names one.
        let d = manifest(&["udll", "run", "--seed", "1"], "udll-run", true);
        let (args, base) = rerun_args(&d, Path::new("/s"), 2).unwrap();
        assert_eq!(args, ["run", "--seed", "1", "--out", "/s/udll-run", "--threads", "2"]);
        assert_eq!(base, PathBuf::from("/s/udll-run"));
        // An `--out` that is not the recorded output cannot be moved.
        let bad = manifest(&["udll", "run", "--out", "b"], "runs/a", true);
        assert!(rerun_args(&bad, Path::new("/s"), 2).is_err());
    }
}
