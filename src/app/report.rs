//! `report.html` for a finished run directory: what the run was, how well
//! it did, and pictures a person can judge it by: the loss curves, |C| by
//! cluster, the confusion between classes, the latent codes in 2-D, the
//! images of each cluster with the misplaced ones marked, and
//! reconstructions. Every file it reads is checked against the run's
//! manifest first; a missing or changed one is named in the error and no
//! page is written.

use crate::app::run_dir::RunDir;
use crate::data::Dataset;
use crate::data::dataset::picture_of;
use crate::error::{Result, UdllError};
use crate::features::{FrontEnd, ScatteringFront};
use crate::io::checkpoint::Checkpoint;
use crate::io::labels::read_labels_csv;
use crate::io::manifest::Manifest;
use crate::io::npy_out::{read_npy_matrix, read_npy_vec};
use crate::linalg::eigen::{EigenOptions, Which, symmetric_top_eigen};
use crate::linalg::{Trans, sgemm};
use crate::metrics::matched_labels;
use crate::progress::Observer;
use crate::report::charts::{Series, confusion, log_lines, scatter};
use crate::report::raster::{FRAME_MARKED, FRAME_PLAIN, Tile, heat_map_rows, montage};
use crate::report::{Figure, Image, Page, Section};
use std::path::{Path, PathBuf};

/// The files of a run directory the report reads (besides the images).
pub const REPORT_INPUTS: &[&str] = &[
    "manifest.json",
    "metrics.json",
    "labels.csv",
    "coef.npy",
    "coef_indptr.npy",
    "coef_indices.npy",
    "coef_values.npy",
    "latent.npy",
    "landmark_codes.npy",
    "losses.csv",
];

/// What [`write_report`] wrote.
#[derive(Clone, Debug)]
pub struct ReportSummary {
    /// The page.
    pub path: PathBuf,
    /// How many figures it holds (each also under `figures/`).
    pub figures: usize,
}

/// Most images per cluster montage.
const PER_CLUSTER: usize = 12;
/// Most points drawn in the 2-D scatter.
const MAX_POINTS: usize = 5000;

/// A CSV of numbers (header, then rows; an empty cell is NaN): the
/// columns by name.
fn read_numeric_csv(path: &Path) -> Result<Vec<(String, Vec<f64>)>> {
    let text = std::fs::read_to_string(path).map_err(|e| UdllError::io(path, e))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> = lines.next().unwrap_or("").split(',').map(|h| h.trim().to_string()).collect();
    let mut cols: Vec<(String, Vec<f64>)> = header.into_iter().map(|h| (h, Vec::new())).collect();
    for (i, l) in lines.enumerate() {
        let cells: Vec<&str> = l.split(',').collect();
        if cells.len() != cols.len() {
            return Err(UdllError::format(path, format!("row {}: {} cells for {} columns", i + 1, cells.len(), cols.len())));
        }
        for (c, v) in cols.iter_mut().zip(cells) {
            let v = v.trim();
            c.1.push(if v.is_empty() {
                f64::NAN
            } else {
                v.parse::<f64>().map_err(|_| UdllError::format(path, format!("row {}: '{v}' is not a number", i + 1)))?
            });
        }
    }
    if cols.len() < 2 || cols[0].1.is_empty() {
        return Err(UdllError::format(path, "no rows"));
    }
    Ok(cols)
}

/// The first two principal components of the rows of an n × d matrix:
/// from the n × n Gram matrix of the centred rows when n ≤ d, else from the
/// d × d covariance.
pub fn pca_2d(values: &[f32], n: usize, d: usize) -> Result<Vec<(f64, f64)>> {
    if n < 3 || d == 0 || values.len() != n * d {
        return Err(UdllError::shape(format!("PCA of {} values as {n} × {d}", values.len())));
    }
    let mut mean = vec![0f64; d];
    for row in values.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let centred: Vec<f32> = values.chunks_exact(d).flat_map(|r| r.iter().zip(&mean).map(|(&v, m)| (v as f64 - m) as f32)).collect();
    let opts = EigenOptions::default();
    let k = 2.min(n.min(d));
    let scores: Vec<f64> = if n <= d {
        let mut g = vec![0f32; n * n];
        sgemm(n, d, n, 1.0, &centred, Trans::No, &centred, Trans::Yes, 0.0, &mut g);
        let g: Vec<f64> = g.into_iter().map(f64::from).collect();
        let e = symmetric_top_eigen(&g, n, k, Which::Largest, &opts)?;
        (0..n).flat_map(|i| (0..k).map(move |j| (i, j))).map(|(i, j)| e.vectors[i * k + j] * e.values[j].max(0.0).sqrt()).collect()
    } else {
        let mut cov = vec![0f32; d * d];
        sgemm(d, n, d, 1.0, &centred, Trans::Yes, &centred, Trans::No, 0.0, &mut cov);
        let cov: Vec<f64> = cov.into_iter().map(f64::from).collect();
        let e = symmetric_top_eigen(&cov, d, k, Which::Largest, &opts)?;
        centred
            .chunks_exact(d)
            .flat_map(|r| (0..k).map(|j| r.iter().enumerate().map(|(p, &v)| v as f64 * e.vectors[p * k + j]).sum::<f64>()).collect::<Vec<_>>())
            .collect()
    };
    Ok((0..n).map(|i| (scores[i * k], if k > 1 { scores[i * k + 1] } else { 0.0 })).collect())
}

/// Indices 0..n sorted by (primary, secondary, index).
fn order_by(primary: &[usize], secondary: Option<&[usize]>) -> Vec<usize> {
    let mut o: Vec<usize> = (0..primary.len()).collect();
    o.sort_by_key(|&i| (primary[i], secondary.map_or(0, |s| s[i]), i));
    o
}

/// Positions in `order` where the group changes.
fn boundaries(order: &[usize], group: &[usize]) -> Vec<usize> {
    (1..order.len()).filter(|&r| group[order[r]] != group[order[r - 1]]).collect()
}

/// A run's C: n × n dense (`coef.npy`), or the CSR parts a sparse
/// self-expression writes (`coef_indptr.npy`, `coef_indices.npy`,
/// `coef_values.npy`).
enum CoefView {
    Dense(Vec<f32>, usize),
    Sparse { indptr: Vec<usize>, indices: Vec<usize>, values: Vec<f32> },
}

impl CoefView {
    /// Read whichever form the run wrote; the CSR parts are checked
    /// (indptr rising from 0 to nnz, every column below n).
    fn load(run: &RunDir, n: usize) -> Result<(CoefView, usize, usize, PathBuf)> {
        if let Some(path) = run.optional("coef_indptr.npy")? {
            let bad = |m: String| UdllError::format(&path, m);
            let to_usize =
                |v: Vec<i64>| v.into_iter().map(|x| usize::try_from(x).map_err(|_| bad(format!("a negative index {x}")))).collect::<Result<Vec<usize>>>();
            let indptr = to_usize(read_npy_vec::<i64>(&path)?)?;
            let indices = to_usize(read_npy_vec::<i64>(&run.checked("coef_indices.npy")?)?)?;
            let values: Vec<f32> = read_npy_vec::<f64>(&run.checked("coef_values.npy")?)?.into_iter().map(|v| v as f32).collect();
            let rows = indptr.len().saturating_sub(1);
            if indptr.first() != Some(&0) || indptr.last() != Some(&indices.len()) || indptr.windows(2).any(|w| w[0] > w[1]) || values.len() != indices.len() {
                return Err(bad("not the indptr of the CSR matrix coef_indices.npy and coef_values.npy describe".into()));
            }
            if indices.iter().any(|&j| j >= n) {
                return Err(bad(format!("a column index beyond the {n} images")));
            }
            return Ok((CoefView::Sparse { indptr, indices, values }, rows, n, path));
        }
        let path = run.checked("coef.npy")?;
        let (coef, rows, cols) = read_npy_matrix(&path)?;
        Ok((CoefView::Dense(coef, cols), rows, cols, path))
    }

    /// Visit row i's stored entries (j, c_ij).
    fn row(&self, i: usize, visit: &mut dyn FnMut(usize, f32)) {
        match self {
            CoefView::Dense(c, n) => c[i * n..][..*n].iter().enumerate().for_each(|(j, &v)| visit(j, v)),
            CoefView::Sparse { indptr, indices, values } => (indptr[i]..indptr[i + 1]).for_each(|e| visit(indices[e], values[e])),
        }
    }

    /// The share of Σ|C_ij| that lies inside the groups' diagonal blocks.
    fn block_share(&self, n: usize, group: &[usize]) -> f64 {
        let (mut inside, mut all) = (0f64, 0f64);
        for i in 0..n {
            self.row(i, &mut |j, v| {
                let a = v.abs() as f64;
                all += a;
                if group[i] == group[j] {
                    inside += a;
                }
            });
        }
        if all > 0.0 { inside / all } else { 0.0 }
    }
}

/// Up to `k` items of `items`, evenly spread.
fn spread<T: Copy>(items: &[T], k: usize) -> Vec<T> {
    if items.len() <= k {
        return items.to_vec();
    }
    (0..k).map(|i| items[i * items.len() / k]).collect()
}

fn svg(name: &str, svg: String, caption: String) -> Figure {
    Figure { name: name.into(), image: Image::Svg(svg), caption, show_width: None }
}

fn png(name: &str, png: Vec<u8>, caption: String) -> Figure {
    Figure { name: name.into(), image: Image::Png(png), caption, show_width: None }
}

/// A heat map, shown 800 pixels wide whatever its size.
fn heat(name: &str, png: Vec<u8>, caption: String) -> Figure {
    Figure { show_width: Some(800), ..self::png(name, png, caption) }
}

fn json_str(v: &serde_json::Value, key: &str) -> String {
    match v.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "—".into(),
        Some(other) => other.to_string(),
    }
}

/// The section on a label-free choice, from `candidates.csv` (read as
/// numbers by column) and `metrics.json`'s `selection`.
fn selection_section(cols: &[(String, Vec<f64>)], metrics: &serde_json::Value) -> Result<Section> {
    let col = |name: &str| cols.iter().find(|(h, _)| h == name).map(|(_, v)| v.as_slice());
    let (Some(gap), Some(ncut), Some(chosen)) = (col("eigengap"), col("ncut"), col("chosen")) else {
        return Err(UdllError::Format { path: "candidates.csv".into(), message: "no eigengap, ncut or chosen column".into() });
    };
    let sel = &metrics["selection"];
    let mut s = Section::new("selection", "Label-free choice").text(format!(
        "{} candidates (below: the ten that score best by the rule, and the one kept); kept: the {}. Rule: {}.",
        gap.len(),
        if sel["restarts"].is_object() {
            format!("restart {} (seed {})", sel["restarts"]["chosen"], sel["restarts"]["chosen_seed"])
        } else {
            "setting below".to_string()
        },
        sel["rule"].as_str().unwrap_or("not recorded")
    ));
    // The candidates in the order of the score that decided, the kept one
    // always among those shown.
    let by = sel["select_by"].as_str().unwrap_or("eigengap");
    let key = col(by).unwrap_or(gap);
    let mut order: Vec<usize> = (0..gap.len()).collect();
    order.sort_by(|&a, &b| key[b].total_cmp(&key[a]).then(a.cmp(&b)));
    order.truncate(10);
    if let Some(kept) = chosen.iter().position(|&c| c == 1.0).filter(|k| !order.contains(k)) {
        order.push(kept);
    }
    let acc = col("acc");
    let get = |name: &str, i: usize| col(name).map_or("—".to_string(), |v| format!("{}", v[i]));
    let rows = order
        .iter()
        .map(|&i| {
            vec![
                get("restart", i),
                get("rho", i),
                get("dim", i),
                get("power", i),
                format!("{:.4}", gap[i]),
                format!("{:.4}", ncut[i]),
                col("agreement").map_or("—".into(), |a| if a[i].is_nan() { "—".into() } else { format!("{:.4}", a[i]) }),
                acc.map_or("—".into(), |a| if a[i].is_nan() { "—".into() } else { format!("{:.4}", a[i]) }),
                if chosen[i] == 1.0 { "kept".into() } else { String::new() },
            ]
        })
        .collect();
    s = s.table(&["restart", "ρ", "d", "power", "relative eigengap", "1 − Ncut/K", "agreement", "ACC (reported only)", ""], rows);
    if let Some(a) = acc.filter(|a| a.iter().all(|v| v.is_finite())) {
        // The x axis is the score that decided.
        let (key, key_name) = if key.iter().all(|v| v.is_finite()) && by == "agreement" {
            (key, "agreement with the other candidates (label-free)")
        } else {
            (gap, "relative eigengap (label-free)")
        };
        let pts: Vec<(f64, f64)> = key.iter().copied().zip(a.iter().copied()).collect();
        let groups: Vec<usize> = col("restart").map_or(vec![0; gap.len()], |r| r.iter().map(|&v| v as usize).collect());
        s = s.figures(vec![svg(
            "selection",
            scatter("Every candidate: score against accuracy", key_name, "ACC (labels)", &pts, &groups)?,
            "Each candidate's label-free score against its accuracy, coloured by restart: where the highest score is not the highest accuracy, the score chose wrong.".into(),
        )]);
    }
    Ok(s)
}

/// The images `chosen` of `ds` as the autoencoder in the checkpoint at
/// `path` reconstructs them, as pictures for people.
fn reconstruct(path: &Path, ds: &Dataset, chosen: &[usize]) -> Result<Vec<Vec<f32>>> {
    let cp = Checkpoint::load(path)?;
    crate::app::pipeline::check_fits(&cp.arch, ds, path)?;
    let scale = cp.input_scale();
    let mut ae = cp.autoencoder(path)?;
    let len = ds.image_len();
    let x: Vec<f32> = chosen.iter().flat_map(|&i| ds.pixels[i * len..][..len].iter().map(|v| v * scale)).collect();
    let z = ae.encode(&x, chosen.len());
    let recon = ae.decode(&z, chosen.len());
    Ok(recon
        .chunks_exact(len)
        .map(|r| picture_of(&r.iter().map(|v| v / scale).collect::<Vec<_>>(), ds.height, ds.width, ds.channels, ds.column_major_picture))
        .collect())
}

/// The rows every page's identity table ends with: the binary, the
/// command, threads and kernels, and each input's hash.
fn provenance_rows(m: &Manifest) -> Vec<Vec<String>> {
    let mut rows = vec![
        vec!["udll".into(), format!("{} (commit {})", m.udll_version, m.git_commit.as_deref().unwrap_or("unknown"))],
        vec!["command".into(), m.command.join(" ")],
        vec![
            "threads / kernels".into(),
            format!("{} / {} (CPU: {})", m.threads, m.kernel_family.as_deref().unwrap_or("not recorded"), m.cpu_kernel_features.join(", ")),
        ],
    ];
    rows.extend(m.inputs.iter().map(|input| vec![format!("input {}", input.path), format!("SHA-256 {}", input.sha256)]));
    rows
}

/// Worst confusions: (images, true class, class placed with).
type Confusions = Vec<(usize, usize, usize)>;

/// The "Metrics" section: ACC, NMI, ARI and the cluster count from
/// `metrics.json` when the images had labels (`scored`), else `unscored`.
fn metrics_section(metrics: &serde_json::Value, scored: bool, unscored: &str) -> Section {
    let score = |k: &str| metrics.get(k).and_then(|v| v.as_f64()).map_or("—".to_string(), |v| format!("{v:.4}"));
    let s = Section::new("metrics", "Metrics");
    if scored {
        s.table(&["ACC", "NMI", "ARI", "clusters"], vec![vec![score("acc"), score("nmi"), score("ari"), json_str(metrics, "clusters")]])
    } else {
        s.text(unscored)
    }
}

/// When the images had labels, push the confusion matrix after the
/// Hungarian matching (`matched[i]`: the class image i's cluster is
/// matched to) and return its five largest off-diagonal cells; else push
/// nothing and return none.
fn push_confusion(page: &mut Page, truth: Option<&[usize]>, matched: Option<&[Option<usize>]>) -> Result<Confusions> {
    let (Some(truth), Some(matched)) = (truth, matched) else {
        return Ok(Vec::new());
    };
    let k = truth.iter().max().map_or(0, |m| m + 1);
    let mut counts = vec![0usize; k * k];
    let mut unmatched = 0usize;
    for (&c, m) in truth.iter().zip(matched) {
        match *m {
            Some(mc) if mc < k => counts[c * k + mc] += 1,
            _ => unmatched += 1,
        }
    }
    let mut worst: Confusions = (0..k * k).filter(|&ab| ab / k != ab % k && counts[ab] > 0).map(|ab| (counts[ab], ab / k, ab % k)).collect();
    worst.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    worst.truncate(5);
    let mut s = Section::new("confusion", "Confusion between classes").figures(vec![svg(
        "confusion",
        confusion("Confusion after Hungarian matching", &counts, k)?,
        "Rows: true class; columns: the class each image's cluster is matched to (the matching ACC counts). Blue: right; red: wrong; shade: share of the row."
            .into(),
    )]);
    if unmatched > 0 {
        s = s.text(format!("{unmatched} images are in clusters matched to no class (more clusters than classes)."));
    }
    s = if worst.is_empty() {
        s.text("No image is in a cluster matched to another class.")
    } else {
        s.table(&["true class", "placed with class", "images"], worst.iter().map(|&(c, a, b)| vec![a.to_string(), b.to_string(), c.to_string()]).collect())
    };
    page.push(s);
    Ok(worst)
}

/// Up to [`PER_CLUSTER`] images of each cluster (misplaced ones framed
/// red), then the images of each of the `worst` confusions. Only the
/// images shown are turned into pictures (a copy of all n would double the
/// dataset's memory on a large run).
fn picture_sections(ds: &Dataset, pred: &[usize], truth: Option<&[usize]>, matched: Option<&[Option<usize>]>, worst: &Confusions) -> Result<Vec<Section>> {
    let (h, w, c, n) = (ds.height, ds.width, ds.channels, pred.len());
    let pictures = |idx: &[usize]| idx.iter().map(|&i| ds.picture(i)).collect::<Vec<_>>();
    let wrong = |i: usize| match (truth, matched) {
        (Some(t), Some(mt)) => mt[i] != Some(t[i]),
        _ => false,
    };
    let mut figs = Vec::new();
    for cl in 0..pred.iter().max().map_or(0, |m| m + 1) {
        let members: Vec<usize> = (0..n).filter(|&i| pred[i] == cl).collect();
        if members.is_empty() {
            continue;
        }
        let chosen = spread(&members, PER_CLUSTER);
        let shown = pictures(&chosen);
        let tiles: Vec<Tile> = chosen.iter().zip(&shown).map(|(&i, p)| Tile { values: p, frame: if wrong(i) { FRAME_MARKED } else { FRAME_PLAIN } }).collect();
        let n_wrong = members.iter().filter(|&&i| wrong(i)).count();
        let class = match matched {
            Some(mt) => mt[members[0]].map_or(", matched to no class".to_string(), |m| format!(", matched to class {m}")),
            None => String::new(),
        };
        let wrong_note = if truth.is_some() { format!("; {n_wrong} not of that class (red frames)") } else { String::new() };
        figs.push(png(
            &format!("cluster_{cl:03}"),
            montage(&tiles, h, w, c, PER_CLUSTER)?,
            format!("Cluster {cl}{class}: {} images{wrong_note}; {} shown, evenly spread.", members.len(), chosen.len()),
        ));
    }
    let mut sections = vec![
        Section::new("clusters", "Clusters")
            .text(if ds.column_major_picture {
                "Images as people see them: the network reads these images transposed, as the reference code does; they are turned back here."
            } else {
                "Images as stored."
            })
            .figures(figs),
    ];
    if let (Some(t), Some(mt)) = (truth, matched) {
        let mut figs = Vec::new();
        for (rank, &(count, a, b)) in worst.iter().enumerate() {
            let members: Vec<usize> = (0..n).filter(|&i| t[i] == a && mt[i] == Some(b)).collect();
            let chosen = spread(&members, PER_CLUSTER);
            let shown = pictures(&chosen);
            let tiles: Vec<Tile> = shown.iter().map(|p| Tile { values: p, frame: FRAME_MARKED }).collect();
            figs.push(png(
                &format!("mistakes_{rank}"),
                montage(&tiles, h, w, c, PER_CLUSTER)?,
                format!("Class {a} placed with class {b}: {count} images, {} shown.", chosen.len()),
            ));
        }
        if !figs.is_empty() {
            sections.push(Section::new("mistakes", "Images that went wrong").text("The most frequent confusions of the table above.").figures(figs));
        }
    }
    Ok(sections)
}

/// Write `dir/report.html` and `dir/figures/` for the finished run in
/// `dir`. `ds` is the run's dataset (checked against the manifest's
/// summary) for the montages and reconstructions; without it those
/// sections say the images were not given.
pub fn write_report(dir: &Path, ds: Option<&Dataset>, observer: &dyn Observer) -> Result<ReportSummary> {
    let run = RunDir::open(dir)?;
    let m = &run.manifest;
    let metrics = run.checked_json("metrics.json")?;
    let (pred, truth) = read_labels_csv(&run.checked("labels.csv")?)?;
    let n = pred.len();
    let (coef, rows, cols, coef_path) = CoefView::load(&run, n)?;
    // In landmark mode C is over the landmarks only (landmarks.csv).
    let landmarks = run.optional("landmarks.csv")?.map(|p| read_numeric_csv(&p)).transpose()?;
    let coef_idx: Vec<usize> = match &landmarks {
        // A sparse C covers every image, landmarks or not.
        _ if matches!(coef, CoefView::Sparse { .. }) => (0..n).collect(),
        Some(cols) => cols.iter().find(|(h, _)| h == "index").map(|(_, v)| v.iter().map(|&i| i as usize).collect()).unwrap_or_default(),
        None => (0..n).collect(),
    };
    if (rows, cols) != (coef_idx.len(), coef_idx.len()) || coef_idx.iter().any(|&i| i >= n) {
        return Err(UdllError::shape(format!("{}: {rows} × {cols}, for {} images of {n}", coef_path.display(), coef_idx.len())));
    }
    // The codes shown in 2-D: all of them, or a landmark run's landmarks'
    // when the run kept only those (`--codes model`).
    let codes = match (run.optional("latent.npy")?, run.optional("landmark_codes.npy")?) {
        (Some(p), _) => Some((p, (0..n).collect::<Vec<_>>())),
        (None, Some(p)) => Some((p, coef_idx.clone())),
        (None, None) => None,
    };
    let codes = codes
        .map(|(p, shown)| {
            let (values, rows, d) = read_npy_matrix(&p)?;
            if rows != shown.len() {
                return Err(UdllError::shape(format!("{}: {rows} rows, for {} images", p.display(), shown.len())));
            }
            Ok((values, shown, d))
        })
        .transpose()?;
    // A `--method edsc` run trains nothing: no losses, no checkpoints.
    let finetune_losses = run.optional("losses.csv")?.map(|p| read_numeric_csv(&p)).transpose()?;
    let pretrain_losses = run.optional("pretrain_losses.csv")?.map(|p| read_numeric_csv(&p)).transpose()?;
    let checkpoint = if ds.is_some() { run.optional("finetuned.ckpt")? } else { None };
    let front: FrontEnd = m
        .config
        .get("front")
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| UdllError::format(&dir.join("manifest.json"), format!("its front end: {e}")))?
        .unwrap_or_default();
    let pretrained_ckpt = if ds.is_some() { run.optional("pretrained.ckpt")? } else { None };
    if let Some(ds) = ds {
        let (want_n, want_h, want_w) = (m.dataset.get("n"), m.dataset.get("height"), m.dataset.get("width"));
        let have = (Some(&serde_json::json!(ds.n)), Some(&serde_json::json!(ds.height)), Some(&serde_json::json!(ds.width)));
        if (want_n, want_h, want_w) != have || ds.n != n {
            return Err(UdllError::shape(format!("the dataset given ({} images of {}×{}) is not the run's ({})", ds.n, ds.height, ds.width, m.dataset)));
        }
    }
    observer.line(&format!("report: {} ({n} images)", dir.display()));

    // The directory as the run named it, so that the page is the same
    // whatever path it is reported from.
    let title = format!("udll run: {} — {}", json_str(&m.dataset, "name"), m.output.path);
    let mut page = Page::new(&title);
    let k_pred = pred.iter().max().map_or(0, |m| m + 1);
    let matched = truth.as_deref().map(|t| matched_labels(&pred, t)).transpose()?;

    // The run's identity and its scores.
    let cfg = &m.config;
    let mut id_rows = vec![
        vec![
            "dataset".into(),
            format!(
                "{} ({} images of {}×{}, {} classes)",
                json_str(&m.dataset, "name"),
                n,
                json_str(&m.dataset, "height"),
                json_str(&m.dataset, "width"),
                json_str(&m.dataset, "classes")
            ),
        ],
        vec!["preset / method".into(), format!("{} / {}", json_str(cfg, "preset"), json_str(cfg, "method"))],
        vec!["seed".into(), m.seed.to_string()],
        vec!["clusters".into(), json_str(&metrics, "clusters")],
    ];
    id_rows.extend(provenance_rows(m));
    if let Some(t) = metrics.get("timings_seconds") {
        let s = |k: &str| t.get(k).and_then(|v| v.as_f64()).map_or("—".into(), |v| format!("{v:.1} s"));
        id_rows.push(vec![
            "stage times".into(),
            format!(
                "front end {}, pretrain {}, prior graph {}, fine-tune (or self-expression) {}, cluster {}; total {}",
                s("front"),
                s("pretrain"),
                s("graph"),
                s("finetune"),
                s("cluster"),
                s("total")
            ),
        ]);
    }
    page.push(Section::new("run", "Run").table(&["", ""], id_rows));
    page.push(metrics_section(&metrics, truth.is_some(), "The run had no true labels: there is nothing to score against."));

    // Loss curves.
    let mut loss_figs = Vec::new();
    if let Some(cols) = &pretrain_losses {
        let x = &cols[0].1;
        let series: Vec<Series> = cols[1..]
            .iter()
            .map(|(name, v)| Series { name: format!("{name} (½‖x − x̂‖² per image)"), points: x.iter().copied().zip(v.iter().copied()).collect() })
            .collect();
        loss_figs.push(svg(
            "pretrain_loss",
            log_lines("Pretraining", "epoch", "loss", &series)?,
            "Pretraining: mean reconstruction loss per image, per epoch (log scale).".into(),
        ));
    }
    if let Some(finetune_losses) = &finetune_losses {
        let x = &finetune_losses[0].1;
        let series: Vec<Series> =
            finetune_losses[1..].iter().map(|(name, v)| Series { name: name.clone(), points: x.iter().copied().zip(v.iter().copied()).collect() }).collect();
        loss_figs.push(svg(
            "finetune_loss",
            log_lines("Fine-tuning", "epoch", "weighted loss term", &series)?,
            "Fine-tuning: the total loss and each weighted term of Eq. 18, per epoch (log scale; a term that is zero is not drawn).".into(),
        ));
    }
    let loss_text = match (&finetune_losses, &pretrain_losses) {
        (None, _) => "This run trained no network: C is EDSC's ridge self-expression of the front end's features.",
        (Some(_), None) => "The autoencoder was not pretrained in this run (it was loaded), so there is no pretraining curve.",
        _ => "",
    };
    page.push(Section::new("losses", "Loss curves").text(loss_text).figures(loss_figs));

    // |C| ordered by cluster, and by true class (over the landmarks in
    // landmark mode).
    observer.line("report: |C| heat maps");
    let nc = coef_idx.len();
    let cpred: Vec<usize> = coef_idx.iter().map(|&i| pred[i]).collect();
    let ctruth: Option<Vec<usize>> = truth.as_ref().map(|t| coef_idx.iter().map(|&i| t[i]).collect());
    let over = if nc < n { format!(" over the {nc} landmarks") } else { String::new() };
    let side = nc.min(1000);
    let by_cluster = order_by(&cpred, ctruth.as_deref());
    let mut coef_figs = vec![heat(
        "coef_by_cluster",
        heat_map_rows(nc, &by_cluster, 1000, &boundaries(&by_cluster, &cpred), &|i, visit| coef.row(i, visit))?,
        format!(
            "|C|{over} with rows and columns ordered by predicted cluster (then true class), {side} × {side} pixels{}; red lines separate clusters. {:.1} % of Σ|C| lies inside the clusters' blocks.",
            if side < nc { " (each pixel the mean of a block)" } else { "" },
            100.0 * coef.block_share(nc, &cpred)
        ),
    )];
    if let Some(t) = &ctruth {
        let by_class = order_by(t, Some(&cpred));
        coef_figs.push(heat(
            "coef_by_class",
            heat_map_rows(nc, &by_class, 1000, &boundaries(&by_class, t), &|i, visit| coef.row(i, visit))?,
            format!(
                "|C|{over} ordered by true class (then predicted cluster); red lines separate classes. {:.1} % of Σ|C| lies inside the classes' blocks.",
                100.0 * coef.block_share(nc, t)
            ),
        ));
    }
    page.push(Section::new("coef", "Self-expressive coefficients |C|").figures(coef_figs));

    // Confusion after the Hungarian matching, and the worst pairs.
    let worst = push_confusion(&mut page, truth.as_deref(), matched.as_deref())?;

    // The latent codes in 2-D.
    match &codes {
        Some((latent, of, d)) => {
            observer.line("report: PCA of the latent codes");
            let m = of.len();
            let step = m.div_ceil(MAX_POINTS);
            let shown: Vec<usize> = (0..m).step_by(step).collect();
            let pcs = pca_2d(latent, m, *d)?;
            let pts: Vec<(f64, f64)> = shown.iter().map(|&i| pcs[i]).collect();
            let sub = |g: &[usize]| shown.iter().map(|&i| g[of[i]]).collect::<Vec<_>>();
            let which = if m < n { format!(" of the {m} landmarks (the run kept no other codes)") } else { String::new() };
            let every = if step > 1 { format!(" (every {step}th of {m})") } else { String::new() };
            let mut emb = vec![svg(
                "latent_pca_cluster",
                scatter("Latent codes, coloured by cluster", "PC 1", "PC 2", &pts, &sub(&pred))?,
                format!("The fine-tuned latent codes{which} (d = {d}) on their first two principal components{every}, coloured by predicted cluster."),
            )];
            if let Some(t) = &truth {
                emb.push(svg(
                    "latent_pca_class",
                    scatter("Latent codes, coloured by true class", "PC 1", "PC 2", &pts, &sub(t))?,
                    format!("The same points{every}, coloured by true class."),
                ));
            }
            page.push(Section::new("embedding", "Latent codes in 2-D").figures(emb));
        }
        None => page.push(Section::new("embedding", "Latent codes in 2-D").text("The run has no latent codes.")),
    }

    // The label-free choice, when the run made one.
    if let Some(p) = run.optional("candidates.csv")? {
        page.push(selection_section(&read_numeric_csv(&p)?, &metrics)?);
    }

    // The front end's maps, when it has them.
    if let (Some(ds), FrontEnd::Scattering(sf)) = (ds, &front) {
        observer.line("report: scattering maps");
        page.push(scattering_section(ds, &pred, k_pred, sf)?);
    }

    // Pictures: montages, mistakes, reconstructions (of the pixels only:
    // a network over the scattering maps reconstructs maps).
    match (ds, checkpoint.filter(|_| front.is_pixels())) {
        (Some(ds), None) => {
            observer.line("report: montages");
            for section in picture_sections(ds, &pred, truth.as_deref(), matched.as_deref(), &worst)? {
                page.push(section);
            }
        }
        (Some(ds), Some(ckpt)) => {
            observer.line("report: montages and reconstructions");
            for section in picture_sections(ds, &pred, truth.as_deref(), matched.as_deref(), &worst)? {
                page.push(section);
            }
            let pictures = |idx: &[usize]| idx.iter().map(|&i| ds.picture(i)).collect::<Vec<_>>();
            let firsts: Vec<usize> = (0..k_pred).filter_map(|cl| pred.iter().position(|&p| p == cl)).collect();
            let chosen = spread(&firsts, 12);
            let originals = pictures(&chosen);
            let mut tiles: Vec<Tile> = originals.iter().map(|p| Tile { values: p, frame: FRAME_PLAIN }).collect();
            let mut rows = vec![format!("{} images (the first of each cluster, evenly spread)", chosen.len())];
            // (checkpoint, whose, frame colour, its name)
            let stages =
                [(pretrained_ckpt.as_deref(), "the pretrained", [120, 200, 120], "green"), (Some(ckpt.as_path()), "the fine-tuned", [120, 160, 220], "blue")];
            let stages: Vec<_> = stages.into_iter().filter_map(|(p, who, frame, colour)| p.map(|p| (p, who, frame, colour))).collect();
            let recons = stages.iter().map(|(p, ..)| reconstruct(p, ds, &chosen)).collect::<Result<Vec<_>>>()?;
            for ((_, who, frame, colour), pics) in stages.iter().zip(&recons) {
                tiles.extend(pics.iter().map(|r| Tile { values: r, frame: *frame }));
                rows.push(format!("{who} autoencoder's reconstructions ({colour} frames)"));
            }
            page.push(Section::new("reconstructions", "Reconstructions").figures(vec![png(
                "reconstructions",
                montage(&tiles, ds.height, ds.width, ds.channels, chosen.len())?,
                format!("Rows, top to bottom: {}.", rows.join("; ")),
            )]));
        }
        _ => page.push(Section::new("clusters", "Clusters").text("The images were not given, so there are no montages nor reconstructions.")),
    }

    let figures = page.figures().count();
    let path = page.write(dir)?;
    Ok(ReportSummary { path, figures })
}

/// The scattering maps of one image of each of up to six clusters: its
/// order-0 map and its order-1 maps at the finest scale (one per
/// orientation), each scaled to its own largest value.
fn scattering_section(ds: &Dataset, pred: &[usize], clusters: usize, sf: &ScatteringFront) -> Result<Section> {
    let firsts: Vec<usize> = (0..clusters).filter_map(|cl| pred.iter().position(|&p| p == cl)).collect();
    let chosen = spread(&firsts, 6);
    let sub = Dataset {
        n: chosen.len(),
        pixels: chosen.iter().flat_map(|&i| ds.pixels[i * ds.image_len()..][..ds.image_len()].iter().copied()).collect(),
        labels: None,
        files: None,
        indices: None,
        ..ds.clone()
    };
    let maps = crate::features::scattering::scatter(&sub, &sf.transform, &crate::progress::Silent)?;
    let plane = maps.h * maps.w;
    let shown = (1 + sf.transform.l).min(maps.maps);
    let mut pics = Vec::new();
    for i in 0..chosen.len() {
        for p in 0..shown {
            let v = &maps.values[(i * maps.maps + p) * plane..][..plane];
            let top = v.iter().fold(0f32, |a, x| a.max(x.abs()));
            let scaled: Vec<f32> = v.iter().map(|x| if top > 0.0 { x / top } else { 0.0 }).collect();
            pics.push(picture_of(&scaled, maps.h, maps.w, 1, ds.column_major_picture));
        }
    }
    let tiles: Vec<Tile> = pics.iter().map(|p| Tile { values: p, frame: FRAME_PLAIN }).collect();
    Ok(Section::new("scattering", "Scattering maps").figures(vec![png(
        "scattering_maps",
        montage(&tiles, maps.h, maps.w, 1, shown)?,
        format!(
            "One image of each of {} clusters per row ({}): its order-0 map, then its {} order-1 maps at the finest scale (j = 0), one per orientation; {} × {} each, scaled to its own largest value.",
            chosen.len(),
            sf.transform.describe(),
            shown - 1,
            maps.h,
            maps.w
        ),
    )]))
}

/// `report.html` for a finished `udll assign` directory: the model it used,
/// the scores, the confusion between classes and the new images of each
/// cluster. Like [`write_report`], it reads only files that pass the
/// directory's manifest hashes; `ds` is the assigned images (checked
/// against the manifest's dataset).
pub fn write_assign_report(dir: &Path, ds: &Dataset, observer: &dyn Observer) -> Result<ReportSummary> {
    let run = RunDir::open(dir)?;
    let m = &run.manifest;
    let metrics = run.checked_json("metrics.json")?;
    let (pred, truth) = read_labels_csv(&run.checked("labels.csv")?)?;
    let n = pred.len();
    if ds.n != n || m.dataset.get("n") != Some(&serde_json::json!(ds.n)) {
        return Err(UdllError::shape(format!("the dataset given ({} images) is not the assignment's ({})", ds.n, m.dataset)));
    }
    observer.line(&format!("report: {} ({n} assigned images)", dir.display()));
    let mut page = Page::new(&format!("udll assign: {} — {}", json_str(&m.dataset, "name"), m.output.path));
    let mut id_rows = vec![
        vec!["images".into(), format!("{} ({n} images of {}×{})", json_str(&m.dataset, "name"), ds.height, ds.width)],
        vec![
            "model".into(),
            format!("{} ({} fitted codes, {} clusters)", json_str(&metrics, "model"), json_str(&metrics, "fitted"), json_str(&metrics, "clusters")),
        ],
        vec!["ridge".into(), json_str(&metrics, "ridge")],
    ];
    id_rows.extend(provenance_rows(m));
    page.push(
        Section::new("run", "Assignment")
            .text("New images placed in the clusters of a finished run by class-wise ridge residual against its fitted codes.")
            .table(&["", ""], id_rows),
    );
    page.push(metrics_section(&metrics, truth.is_some(), "The new images had no true labels: there is nothing to score against."));
    let matched = truth.as_deref().map(|t| matched_labels(&pred, t)).transpose()?;
    let worst = push_confusion(&mut page, truth.as_deref(), matched.as_deref())?;
    for section in picture_sections(ds, &pred, truth.as_deref(), matched.as_deref(), &worst)? {
        page.push(section);
    }
    let figures = page.figures().count();
    let path = page.write(dir)?;
    Ok(ReportSummary { path, figures })
}
