//! `udll merge`: the shards of one `udll assign --shard i/N` job joined
//! into the output an unsharded `udll assign` writes. Every shard is
//! checked first: a finished assignment whose files match its manifest,
//! of the same model and the same input (by hash) as the others, and
//! together the slices cover the input once, with none missing,
//! duplicated or overlapping.

use crate::app::run_dir::RunDir;
use crate::error::{Result, UdllError};
use crate::io::labels::{labels_csv, parse_labels_rows};
use crate::io::manifest::{Manifest, RunFacts, begin_output_dir};
use crate::io::{write_atomic, write_json};
use crate::metrics::{Scores, scores};
use crate::progress::Observer;
use std::path::{Path, PathBuf};

/// The artefacts of a merge.
pub const MERGE_ARTEFACTS: &[&str] = &["labels.csv", "metrics.json"];

/// What a merge wrote.
#[derive(Clone, Debug)]
pub struct Merged {
    /// Images in all.
    pub images: usize,
    /// Shards joined.
    pub shards: usize,
    /// ACC / NMI / ARI over all images, when they had labels.
    pub scores: Option<Scores>,
}

/// One shard's record, read from its manifest.
struct ShardRecord {
    dir: PathBuf,
    index: usize,
    count: usize,
    start: usize,
    end: usize,
    total: usize,
    model: String,
    input: String,
}

fn read_shard(dir: &Path) -> Result<(ShardRecord, RunDir)> {
    let run = RunDir::open(dir)?;
    let m = &run.manifest;
    let not_shard = || UdllError::config(format!("{} is not a shard of `udll assign --shard i/N`", dir.display()));
    let s = m.config.get("shard").ok_or_else(not_shard)?;
    let num = |k: &str| s.get(k).and_then(|v| v.as_u64()).map(|v| v as usize).ok_or_else(not_shard);
    // The model is recorded by its manifest's hash, the input by its own.
    let model = m.inputs.iter().find(|r| r.path.ends_with("manifest.json")).map(|r| r.sha256.clone()).ok_or_else(not_shard)?;
    let input = m.inputs.first().filter(|r| !r.path.ends_with("manifest.json")).map_or_else(|| format!("{}", m.dataset), |r| r.sha256.clone());
    let rec = ShardRecord {
        dir: dir.to_path_buf(),
        index: num("index")?,
        count: num("count")?,
        start: num("start")?,
        end: num("end")?,
        total: num("total")?,
        model,
        input,
    };
    Ok((rec, run))
}

/// Check the shards in `dirs` and join them into `out` (see the module's
/// doc): `labels.csv` with the bytes an unsharded assignment writes, and
/// `metrics.json` (ACC / NMI / ARI over all images when they had labels).
pub fn merge(dirs: &[PathBuf], out: &Path, command: &[String], threads: usize, observer: &dyn Observer) -> Result<Merged> {
    if dirs.is_empty() {
        return Err(UdllError::config("no shard directories to merge"));
    }
    let mut shards = Vec::with_capacity(dirs.len());
    for d in dirs {
        shards.push(read_shard(d)?);
    }
    let (first, _) = &shards[0];
    for (s, _) in &shards[1..] {
        if s.model != first.model {
            return Err(UdllError::config(format!(
                "{} was assigned with another model than {} (their model manifests differ)",
                s.dir.display(),
                first.dir.display()
            )));
        }
        if s.input != first.input || s.total != first.total {
            return Err(UdllError::config(format!("{} is a shard of another input than {} (its hash or size differs)", s.dir.display(), first.dir.display())));
        }
        if s.count != first.count {
            return Err(UdllError::config(format!(
                "{} is shard {}/{} and {} is shard {}/{}: shards of different splits overlap",
                s.dir.display(),
                s.index,
                s.count,
                first.dir.display(),
                first.index,
                first.count
            )));
        }
    }
    let (total, count, model, input) = (first.total, first.count, first.model.clone(), first.input.clone());
    shards.sort_by_key(|(s, _)| (s.start, s.index));
    for w in shards.windows(2) {
        let (a, b) = (&w[0].0, &w[1].0);
        if a.index == b.index {
            return Err(UdllError::config(format!("shard {}/{count} is given twice ({} and {})", a.index, a.dir.display(), b.dir.display())));
        }
        if b.start < a.end {
            return Err(UdllError::config(format!(
                "shards {} and {} overlap (images {}..{} and {}..{})",
                a.dir.display(),
                b.dir.display(),
                a.start,
                a.end,
                b.start,
                b.end
            )));
        }
    }
    let have: Vec<usize> = shards.iter().map(|(s, _)| s.index).collect();
    let missing: Vec<String> = (0..count).filter(|i| !have.contains(i)).map(|i| format!("{i}/{count}")).collect();
    if !missing.is_empty() {
        return Err(UdllError::config(format!("shard(s) {} missing: {} of {count} given", missing.join(", "), have.len())));
    }
    // Every shard's rows, in order, with the indices its manifest says.
    let (mut pred, mut truth, mut files) = (Vec::with_capacity(total), Vec::with_capacity(total), Vec::with_capacity(total));
    for (s, run) in &shards {
        let p = run.checked("labels.csv")?;
        let text = std::fs::read_to_string(&p).map_err(|e| UdllError::io(&p, e))?;
        let rows = parse_labels_rows(&p, &text)?;
        if rows.len() != s.end - s.start || rows.iter().enumerate().any(|(k, r)| r.0 != s.start + k) {
            return Err(UdllError::format(&p, format!("its rows are not images {}..{} in order", s.start, s.end)));
        }
        for (_, pr, t, f) in rows {
            pred.push(pr);
            truth.push(t);
            files.push(f);
        }
    }
    if pred.len() != total {
        return Err(UdllError::shape(format!("the shards hold {} images, the input {total}", pred.len())));
    }
    let truth: Option<Vec<usize>> = match truth.iter().filter(|t| t.is_some()).count() {
        0 => None,
        k if k == total => Some(truth.into_iter().flatten().collect()),
        _ => return Err(UdllError::config("some shards have true labels and some do not")),
    };
    let files: Option<Vec<String>> = match files.iter().filter(|f| f.is_some()).count() {
        0 => None,
        k if k == total => Some(files.into_iter().flatten().collect()),
        _ => return Err(UdllError::config("some shards name their files and some do not")),
    };
    observer.line(&format!("merge: {count} shards, {total} images → {}", out.display()));
    begin_output_dir(out, MERGE_ARTEFACTS)?;
    write_atomic(&out.join("labels.csv"), labels_csv(&pred, truth.as_deref(), files.as_deref())?.as_bytes())?;
    let sc = truth.as_deref().map(|t| scores(&pred, t)).transpose()?;
    let clusters = pred.iter().max().map_or(0, |m| m + 1);
    let metrics = serde_json::json!({
        "acc": sc.map(|s| s.acc), "nmi": sc.map(|s| s.nmi), "ari": sc.map(|s| s.ari),
        "images": total, "shards": count, "clusters_used": clusters,
    });
    write_json(&out.join("metrics.json"), &metrics)?;
    let inputs: Vec<PathBuf> = shards.iter().flat_map(|(s, _)| [s.dir.join("manifest.json"), s.dir.join("labels.csv")]).collect();
    let m = &shards[0].1.manifest;
    let facts = RunFacts {
        command,
        config: serde_json::json!({"merge": {"shards": count, "total": total, "model_manifest_sha256": model, "input_sha256": input}, "model_config": m.config.get("model_config")}),
        seed: m.seed,
        dataset: m.dataset.clone(),
        inputs: &inputs,
        threads,
    };
    Manifest::record_and_write(facts, out, true, MERGE_ARTEFACTS)?;
    Ok(Merged { images: total, shards: count, scores: sc })
}
