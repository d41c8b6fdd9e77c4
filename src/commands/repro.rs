//! Reproducibility and evaluation commands: audit, eval, reproduce.

use super::*;

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
    pub(crate) threads: Option<usize>,
}

/// True labels from a labels.csv (its `true` column) or a 1-D .npy.
fn read_labels(path: &Path, n: usize) -> Result<Vec<usize>> {
    if path.extension().is_some_and(|e| e == "csv") {
        let text = std::fs::read_to_string(path).map_err(|e| UdllError::io(path, e))?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
        let col = header.iter().position(|h| h.trim() == "true").ok_or_else(|| UdllError::format(path, "no `true` column in the header"))?;
        let labels = lines
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                l.split(',')
                    .nth(col)
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .ok_or_else(|| UdllError::format(path, format!("row {}: no integer label in the `true` column", i + 1)))
            })
            .collect::<Result<Vec<_>>>()?;
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
    let threads = rayon::current_num_threads();
    let tasks = a.task.split(',').map(|t| parse_enum::<Task>(t.trim(), "--task", "kmeans, spectral, edsc, map, probe")).collect::<Result<Vec<_>>>()?;
    let ds = match &a.data {
        Some(_) => Some(
            DataFlags {
                data: &a.data,
                images_var: &a.images_var,
                labels_var: &a.labels_var,
                labels: &None,
                image_size: &a.image_size,
                synthetic_objects: 0,
                synthetic_poses: 0,
                seed: 0,
            }
            .load()?,
        ),
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
    let defaults = preset(&a.preset)?;
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
    pub(crate) threads: Option<usize>,
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
    let threads = rayon::current_num_threads();
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
        threads,
        pretrain_epochs: a.pretrain_epochs,
        finetune_epochs: a.epochs,
        quiet: a.quiet,
        synthetic: SyntheticSpec { objects: a.synthetic_objects, poses: a.synthetic_poses, ..Default::default() },
    };
    let r = run_all(&o, &|line| eprintln!("reproduce: {line}"))?;
    let md = markdown(&r);
    udll::io::write_atomic(&a.out.join("reproduce.md"), md.as_bytes())?;
    udll::io::write_atomic(&a.out.join("summary.csv"), summary_csv(&r).as_bytes())?;
    udll::io::write_atomic(&a.out.join("runs.csv"), runs_csv(&r.runs).as_bytes())?;
    let config = serde_json::json!({"datasets": o.datasets, "methods": o.methods, "seeds": o.seeds, "data_dir": o.data_dir, "pretrain_epochs": o.pretrain_epochs, "finetune_epochs": o.finetune_epochs});
    let inputs: Vec<PathBuf> =
        o.datasets.iter().filter_map(|d| dataset_spec(d).ok()).filter(|s| !s.file.is_empty()).map(|s| o.data_dir.join(s.file)).filter(|p| p.exists()).collect();
    manifest(config, 0, serde_json::Value::Null, &inputs, threads, &a.out, true, &["summary.csv"])?;
    print!("{md}");
    println!("wrote {}/reproduce.md, summary.csv, runs.csv", a.out.display());
    Ok(())
}
