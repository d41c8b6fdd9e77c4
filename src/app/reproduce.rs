//! `udll reproduce`: the paper's tables from this engine. For each dataset
//! that is available and each seed: UDLL (own pretraining), DSC from the
//! same pretrained autoencoder (γ = 0, Table 3's DSC column), EDSC on the
//! pretrained features (Table 4's PT+EDSC) and on the fine-tuned ones
//! (Fig. 4), and two shallow baselines on the raw pixels (EDSC, k-means).
//! Every run keeps its own directory and manifest; the summary is written
//! as Markdown and CSV beside the paper's numbers.

use crate::app::pipeline::{Codes, RunOptions, Start, run};
use crate::data::{Dataset, LoadOptions, SyntheticSpec, generate, load_dataset};
use crate::error::{Result, UdllError};
use crate::eval::{edsc_labels, kmeans_labels};
use crate::io::sink::Sink;
use crate::io::write_atomic;
use crate::metrics::scores;
use crate::model::udll::params::{Method, ValidUdllParams};
use crate::presets::preset;
use crate::progress::Observer;
use crate::report::charts::grouped_bars;
use crate::report::{Figure, Image, Page, Section};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The methods of a reproduction, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableMethod {
    /// UDLL with our own pretraining.
    Udll,
    /// DSC (γ = 0) from the same pretrained autoencoder.
    Dsc,
    /// EDSC on the pretrained latent codes (Table 4's PT+EDSC).
    PtEdsc,
    /// EDSC on the fine-tuned latent codes.
    FtEdsc,
    /// EDSC on the raw pixels.
    EdscRaw,
    /// k-means on the raw pixels.
    KmeansRaw,
}

/// Every method, in table order.
pub const ALL_METHODS: &[TableMethod] =
    &[TableMethod::Udll, TableMethod::Dsc, TableMethod::PtEdsc, TableMethod::FtEdsc, TableMethod::EdscRaw, TableMethod::KmeansRaw];

impl TableMethod {
    /// The method's name in the tables.
    pub fn label(self) -> &'static str {
        match self {
            TableMethod::Udll => "UDLL",
            TableMethod::Dsc => "DSC (γ = 0)",
            TableMethod::PtEdsc => "PT+EDSC",
            TableMethod::FtEdsc => "FT+EDSC (Fig. 4)",
            TableMethod::EdscRaw => "EDSC, raw pixels",
            TableMethod::KmeansRaw => "k-means, raw pixels",
        }
    }

    /// The name used on the command line and in the CSV files.
    pub fn name(self) -> &'static str {
        match self {
            TableMethod::Udll => "udll",
            TableMethod::Dsc => "dsc",
            TableMethod::PtEdsc => "pt-edsc",
            TableMethod::FtEdsc => "ft-edsc",
            TableMethod::EdscRaw => "edsc-raw",
            TableMethod::KmeansRaw => "kmeans-raw",
        }
    }

    /// Methods that need the UDLL run (its pretrained or fine-tuned model).
    fn needs_udll_run(self) -> bool {
        matches!(self, TableMethod::Udll | TableMethod::Dsc | TableMethod::PtEdsc | TableMethod::FtEdsc)
    }
}

/// A dataset the reproduction knows: its preset, file and the paper's ACC
/// (%) per method (Table 3: UDLL, DSC, EDSC; Table 4: PT+EDSC). All of the
/// paper's numbers are best-of runs or checkpoints (DESIGN.md).
pub struct DatasetSpec {
    /// The name `--datasets` takes.
    pub name: &'static str,
    /// The preset its runs use.
    pub preset: &'static str,
    /// The file under the data directory (empty: the built-in synthetic set).
    pub file: &'static str,
    /// The image size when it is not square.
    pub image_size: Option<(usize, usize)>,
    /// The paper's ACC (%) per method, where the paper has one.
    pub paper: &'static [(TableMethod, f64)],
}

/// The datasets `udll reproduce` knows.
pub const DATASETS: &[DatasetSpec] = &[
    DatasetSpec {
        name: "coil20",
        preset: "coil20",
        file: "COIL20.mat",
        image_size: None,
        paper: &[(TableMethod::Udll, 97.57), (TableMethod::Dsc, 94.86), (TableMethod::PtEdsc, 84.21), (TableMethod::EdscRaw, 85.14)],
    },
    DatasetSpec {
        name: "coil100",
        preset: "coil100",
        file: "COIL100.mat",
        image_size: None,
        paper: &[(TableMethod::Udll, 70.86), (TableMethod::Dsc, 69.04), (TableMethod::PtEdsc, 61.12), (TableMethod::EdscRaw, 61.87)],
    },
    DatasetSpec {
        name: "orl",
        preset: "orl",
        file: "ORL_32x32.mat",
        image_size: None,
        paper: &[(TableMethod::Udll, 87.75), (TableMethod::Dsc, 86.00), (TableMethod::PtEdsc, 73.75), (TableMethod::EdscRaw, 72.75)],
    },
    DatasetSpec {
        name: "yaleb",
        preset: "yaleb",
        file: "YaleBCrop025.mat",
        image_size: Some((48, 42)),
        paper: &[(TableMethod::Udll, 97.70), (TableMethod::Dsc, 97.33), (TableMethod::PtEdsc, 87.36), (TableMethod::EdscRaw, 88.36)],
    },
    // Not the paper's dataset (32 × 32, 2414 images): no paper column.
    DatasetSpec { name: "yaleb32", preset: "yaleb32", file: "YaleB_32x32.mat", image_size: None, paper: &[] },
    // The built-in data, for quick checks of the command itself.
    DatasetSpec { name: "synthetic", preset: "synthetic", file: "", image_size: None, paper: &[] },
];

/// The dataset called `name`.
pub fn dataset_spec(name: &str) -> Result<&'static DatasetSpec> {
    DATASETS
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| UdllError::config(format!("unknown dataset '{name}' (known: {})", DATASETS.iter().map(|d| d.name).collect::<Vec<_>>().join(", "))))
}

/// What to reproduce. The manifest records the fields that decide the
/// results (not the output directory, thread count or synthetic size).
#[derive(Clone, Debug, Serialize)]
pub struct ReproduceOptions {
    /// The directory holding the dataset files.
    pub data_dir: PathBuf,
    /// Dataset names ([`dataset_spec`]).
    pub datasets: Vec<String>,
    /// The table's methods.
    pub methods: Vec<TableMethod>,
    /// The seeds, each a run of every method.
    pub seeds: Vec<u64>,
    /// Where every run's directory and the tables go.
    #[serde(skip)]
    pub out_dir: PathBuf,
    /// The thread count recorded in the runs' manifests.
    #[serde(skip)]
    pub threads: usize,
    /// The command line the runs' manifests record.
    #[serde(skip)]
    pub command: Vec<String>,
    /// Overrides for quick runs (None: the preset's).
    pub pretrain_epochs: Option<usize>,
    /// Fine-tuning epochs instead of each preset's (quick checks only).
    pub finetune_epochs: Option<usize>,
    /// The `synthetic` dataset's size.
    #[serde(skip)]
    pub synthetic: SyntheticSpec,
}

impl ReproduceOptions {
    /// The dataset files that exist, for the manifest.
    pub fn input_files(&self) -> Vec<PathBuf> {
        self.datasets
            .iter()
            .filter_map(|d| dataset_spec(d).ok())
            .filter(|s| !s.file.is_empty())
            .map(|s| self.data_dir.join(s.file))
            .filter(|p| p.exists())
            .collect()
    }
}

/// One measured run.
#[derive(Clone, Debug, Serialize)]
pub struct RunRow {
    /// The dataset.
    pub dataset: String,
    /// The method.
    pub method: TableMethod,
    /// The seed.
    pub seed: u64,
    /// Accuracy after Hungarian matching.
    pub acc: f64,
    /// Normalised mutual information.
    pub nmi: f64,
    /// Adjusted Rand index.
    pub ari: f64,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
}

/// A dataset × method line of the summary.
#[derive(Clone, Debug, Serialize)]
pub struct SummaryRow {
    /// The dataset.
    pub dataset: String,
    /// The method.
    pub method: TableMethod,
    /// How many seeds ran.
    pub runs: usize,
    /// Mean ACC over the seeds.
    pub acc_mean: f64,
    /// Sample standard deviation of ACC.
    pub acc_std: f64,
    /// Smallest ACC.
    pub acc_min: f64,
    /// Mean NMI.
    pub nmi_mean: f64,
    /// Sample standard deviation of NMI.
    pub nmi_std: f64,
    /// Smallest NMI.
    pub nmi_min: f64,
    /// The paper's ACC (a fraction), when it reports one.
    pub paper_acc: Option<f64>,
}

#[derive(Clone, Debug)]
/// Every run of a reproduction and their summary.
pub struct Reproduction {
    /// One row per run.
    pub runs: Vec<RunRow>,
    /// One row per dataset × method.
    pub summary: Vec<SummaryRow>,
    /// Datasets whose file is absent.
    pub unavailable: Vec<String>,
}

fn load(spec: &DatasetSpec, dir: &Path, synthetic: &SyntheticSpec) -> Result<Option<(Dataset, Option<PathBuf>)>> {
    if spec.file.is_empty() {
        return Ok(Some((generate(synthetic)?, None)));
    }
    let p = dir.join(spec.file);
    if !p.exists() {
        return Ok(None);
    }
    let opts = LoadOptions { image_size: spec.image_size, ..Default::default() };
    Ok(Some((load_dataset(&p, &opts)?, Some(p))))
}

fn config(spec: &DatasetSpec, seed: u64, o: &ReproduceOptions) -> Result<ValidUdllParams> {
    let mut c = preset(spec.preset)?;
    c.seed = seed;
    if let Some(e) = o.pretrain_epochs {
        c.pretrain.epochs = e;
    }
    if let Some(e) = o.finetune_epochs {
        c.finetune.epochs = e;
    }
    c.check()
}

/// Run everything `o` asks for. The runs report their progress to
/// `observer`; `results` receives one line per finished run (and per
/// dataset that is not available).
pub fn reproduce(o: &ReproduceOptions, observer: &dyn Observer, results: &dyn Observer) -> Result<Reproduction> {
    let say = |line: &str| results.line(&format!("reproduce: {line}"));
    let mut runs = Vec::new();
    let mut unavailable = Vec::new();
    for name in &o.datasets {
        let spec = dataset_spec(name)?;
        let Some((ds, path)) = load(spec, &o.data_dir, &o.synthetic)? else {
            say(&format!("{name}: {} not found in {}: data not available", spec.file, o.data_dir.display()));
            unavailable.push(name.clone());
            continue;
        };
        let truth = ds.labels.clone().ok_or_else(|| UdllError::config(format!("{name}: the dataset has no labels")))?;
        let k = ds.num_classes().unwrap_or(0);
        let inputs: Vec<PathBuf> = path.iter().cloned().collect();
        for &seed in &o.seeds {
            let cfg = config(spec, seed, o)?;
            let base = o.out_dir.join(name).join(format!("seed{seed}"));
            let mut record = |method: TableMethod, labels: &[usize], secs: f64| -> Result<()> {
                let s = scores(labels, &truth)?;
                say(&format!("{name} seed {seed} {:<22} ACC {:.4}  NMI {:.4}  ({secs:.1}s)", method.label(), s.acc, s.nmi));
                runs.push(RunRow { dataset: name.clone(), method, seed, acc: s.acc, nmi: s.nmi, ari: s.ari, seconds: secs });
                Ok(())
            };
            let run_opts = |dir: &str, start: Start| RunOptions {
                out: Sink::dir(base.join(dir)),
                start,
                clusters: Some(k),
                threads: o.threads,
                inputs: inputs.clone(),
                command: o.command.clone(),
                keep_latents: true,
                codes: Codes::All,
                choice: Default::default(),
            };
            let udll = if o.methods.iter().any(|m| m.needs_udll_run()) {
                let t = Instant::now();
                let r = run(&ds, &cfg, &run_opts("udll", Start::Pretrain), observer)?;
                if o.methods.contains(&TableMethod::Udll) {
                    record(TableMethod::Udll, &r.summary.labels, t.elapsed().as_secs_f64())?;
                }
                Some(r)
            } else {
                None
            };
            if o.methods.contains(&TableMethod::Dsc) {
                let t = Instant::now();
                let mut dsc = cfg.clone().into_inner();
                dsc.set_method(Method::Dsc);
                let dsc = dsc.check()?;
                let r = run(&ds, &dsc, &run_opts("dsc", Start::Checkpoint(base.join("udll/pretrained.ckpt"))), observer)?;
                record(TableMethod::Dsc, &r.summary.labels, t.elapsed().as_secs_f64())?;
            }
            let latents = udll.iter().flat_map(|r| [(TableMethod::PtEdsc, &r.latent_pretrained), (TableMethod::FtEdsc, &r.latent)]);
            for (method, latent) in latents.filter_map(|(m, l)| Some((m, l.as_ref()?))) {
                if o.methods.contains(&method) {
                    let t = Instant::now();
                    let labels = edsc_labels(&latent.values, latent.n, latent.d, k, cfg.edsc_lambda, &cfg.post, seed)?;
                    record(method, &labels, t.elapsed().as_secs_f64())?;
                }
            }
            if o.methods.contains(&TableMethod::EdscRaw) {
                let t = Instant::now();
                let labels = edsc_labels(&ds.pixels, ds.n, ds.image_len(), k, cfg.edsc_lambda, &cfg.post, seed)?;
                record(TableMethod::EdscRaw, &labels, t.elapsed().as_secs_f64())?;
            }
            if o.methods.contains(&TableMethod::KmeansRaw) {
                let t = Instant::now();
                let labels = kmeans_labels(&ds.pixels, ds.n, ds.image_len(), k, seed)?;
                record(TableMethod::KmeansRaw, &labels, t.elapsed().as_secs_f64())?;
            }
        }
    }
    let summary = summarise(&runs);
    Ok(Reproduction { runs, summary, unavailable })
}

fn mean_std_min(v: &[f64]) -> (f64, f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 { v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt(), v.iter().cloned().fold(f64::INFINITY, f64::min))
}

/// Mean ± sample standard deviation and min over seeds, per dataset × method.
pub fn summarise(runs: &[RunRow]) -> Vec<SummaryRow> {
    let mut out = Vec::new();
    let mut datasets: Vec<&str> = Vec::new();
    for r in runs {
        if !datasets.contains(&r.dataset.as_str()) {
            datasets.push(&r.dataset);
        }
    }
    for ds in datasets {
        for &m in ALL_METHODS {
            let sel: Vec<&RunRow> = runs.iter().filter(|r| r.dataset == ds && r.method == m).collect();
            if sel.is_empty() {
                continue;
            }
            let (acc_mean, acc_std, acc_min) = mean_std_min(&sel.iter().map(|r| r.acc).collect::<Vec<_>>());
            let (nmi_mean, nmi_std, nmi_min) = mean_std_min(&sel.iter().map(|r| r.nmi).collect::<Vec<_>>());
            let paper_acc = dataset_spec(ds).ok().and_then(|s| s.paper.iter().find(|p| p.0 == m).map(|p| p.1 / 100.0));
            out.push(SummaryRow { dataset: ds.to_string(), method: m, runs: sel.len(), acc_mean, acc_std, acc_min, nmi_mean, nmi_std, nmi_min, paper_acc });
        }
    }
    out
}

impl Reproduction {
    /// Write `reproduce.md`, `summary.csv`, `runs.csv` and `report.html`
    /// (with `figures/`) under `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        write_atomic(&dir.join("reproduce.md"), self.markdown().as_bytes())?;
        write_atomic(&dir.join("summary.csv"), summary_csv(self).as_bytes())?;
        write_atomic(&dir.join("runs.csv"), runs_csv(&self.runs).as_bytes())?;
        self.page()?.write(dir).map(|_| ())
    }

    /// The report: the summary table, and ACC and NMI beside the paper's
    /// ACC as bar charts.
    pub fn page(&self) -> Result<Page> {
        let mut page = Page::new("udll reproduce: the paper's tables");
        let rows =
            self.summary
                .iter()
                .map(|r| {
                    vec![
                        r.dataset.clone(),
                        r.method.label().to_string(),
                        r.runs.to_string(),
                        format!("{:.4} ± {:.4}", r.acc_mean, r.acc_std),
                        format!("{:.4}", r.acc_min),
                        format!("{:.4} ± {:.4}", r.nmi_mean, r.nmi_std),
                        format!("{:.4}", r.nmi_min),
                        r.paper_acc.map_or("—".into(), |p| format!("{p:.4}")),
                    ]
                })
                .chain(self.unavailable.iter().map(|d| {
                    vec![d.clone(), "all".into(), "0".into(), "data not available".into(), String::new(), String::new(), String::new(), String::new()]
                }))
                .collect();
        let head = ["dataset", "method", "seeds", "ACC mean ± std", "ACC min", "NMI mean ± std", "NMI min", "paper ACC (best-of)"];
        let mut section = Section::new("summary", "Summary").table(&head, rows).text(
            "Final iteration of each fixed seed; the paper's numbers are best-of runs or checkpoints. PT+EDSC: EDSC on the pretrained latent features; FT+EDSC: on the fine-tuned ones.",
        );
        if !self.summary.is_empty() {
            let labels: Vec<String> = self.summary.iter().map(|r| format!("{} {}", r.dataset, r.method.label())).collect();
            let acc = vec![
                ("ACC mean".to_string(), self.summary.iter().map(|r| Some(r.acc_mean)).collect()),
                ("ACC min".to_string(), self.summary.iter().map(|r| Some(r.acc_min)).collect()),
                ("paper (best-of)".to_string(), self.summary.iter().map(|r| r.paper_acc).collect()),
            ];
            let nmi = vec![
                ("NMI mean".to_string(), self.summary.iter().map(|r| Some(r.nmi_mean)).collect()),
                ("NMI min".to_string(), self.summary.iter().map(|r| Some(r.nmi_min)).collect()),
            ];
            section = section.figures(vec![
                Figure {
                    name: "acc".into(),
                    image: Image::Svg(grouped_bars("ACC over the seeds, beside the paper", &labels, &acc)?),
                    caption: "ACC: mean and smallest over the seeds, and the paper's (a best-of) where it reports one.".into(),
                    show_width: None,
                },
                Figure {
                    name: "nmi".into(),
                    image: Image::Svg(grouped_bars("NMI over the seeds", &labels, &nmi)?),
                    caption: "NMI: mean and smallest over the seeds.".into(),
                    show_width: None,
                },
            ]);
        }
        page.push(section);
        Ok(page)
    }

    /// The summary as a Markdown table.
    pub fn markdown(&self) -> String {
        markdown(self)
    }
}

/// The summary as a Markdown table (fractions, 4 digits).
pub fn markdown(r: &Reproduction) -> String {
    let mut s = String::from(
        "| dataset | method | seeds | ACC mean ± std | ACC min | NMI mean ± std | NMI min | paper ACC (best-of) |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for row in &r.summary {
        let paper = row.paper_acc.map_or("—".to_string(), |p| format!("{p:.4}"));
        s += &format!(
            "| {} | {} | {} | {:.4} ± {:.4} | {:.4} | {:.4} ± {:.4} | {:.4} | {} |\n",
            row.dataset,
            row.method.label(),
            row.runs,
            row.acc_mean,
            row.acc_std,
            row.acc_min,
            row.nmi_mean,
            row.nmi_std,
            row.nmi_min,
            paper
        );
    }
    for d in &r.unavailable {
        s += &format!("| {d} | all | 0 | data not available | | | | |\n");
    }
    s += "\nFinal iteration of each fixed seed; the paper's numbers are best-of runs/checkpoints (DESIGN.md). PT+EDSC: EDSC on the pretrained latent features; FT+EDSC: on the fine-tuned ones.\n";
    s
}

/// `runs.csv`: one line per run.
pub fn runs_csv(runs: &[RunRow]) -> String {
    let mut s = String::from("dataset,method,seed,acc,nmi,ari,seconds\n");
    for r in runs {
        s += &format!("{},{},{},{:.6},{:.6},{:.6},{:.2}\n", r.dataset, r.method.name(), r.seed, r.acc, r.nmi, r.ari, r.seconds);
    }
    s
}

/// `summary.csv`: one line per dataset × method, beside the paper.
pub fn summary_csv(r: &Reproduction) -> String {
    let mut s = String::from("dataset,method,seeds,acc_mean,acc_std,acc_min,nmi_mean,nmi_std,nmi_min,paper_acc\n");
    for row in &r.summary {
        s += &format!(
            "{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{}\n",
            row.dataset,
            row.method.name(),
            row.runs,
            row.acc_mean,
            row.acc_std,
            row.acc_min,
            row.nmi_mean,
            row.nmi_std,
            row.nmi_min,
            row.paper_acc.map_or(String::new(), |p| format!("{p:.4}"))
        );
    }
    for d in &r.unavailable {
        s += &format!("{d},data not available,0,,,,,,,\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_statistics_by_hand() {
        let row = |seed, acc| RunRow { dataset: "coil20".into(), method: TableMethod::Udll, seed, acc, nmi: acc, ari: 0.0, seconds: 1.0 };
        let s = summarise(&[row(0, 0.9), row(1, 0.8), row(2, 1.0)]);
        assert_eq!(s.len(), 1);
        assert!((s[0].acc_mean - 0.9).abs() < 1e-12);
        assert!((s[0].acc_std - 0.1).abs() < 1e-12);
        assert_eq!(s[0].acc_min, 0.8);
        assert!((s[0].paper_acc.unwrap() - 0.9757).abs() < 1e-12);
        let md = markdown(&Reproduction { runs: vec![], summary: s, unavailable: vec!["coil100".into()] });
        assert!(md.contains("| coil20 | UDLL | 3 | 0.9000 ± 0.1000 | 0.8000 |"), "{md}");
        assert!(md.contains("| coil100 | all | 0 | data not available |"));
        let r = Reproduction { runs: vec![], summary: summarise(&[row(0, 0.9), row(1, 0.8)]), unavailable: vec!["coil100".into()] };
        let html = r.page().unwrap().html();
        assert!(html.contains("<td>0.8500 ± 0.0707</td>") && html.contains("data not available"), "{html}");
        assert_eq!(r.page().unwrap().figures().count(), 2);
        // The CSV names are the serde (command-line) names.
        for &m in ALL_METHODS {
            assert_eq!(serde_json::to_value(m).unwrap(), m.name());
        }
    }
}
