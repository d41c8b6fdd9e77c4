//! Dataset selection (a file or the built-in synthetic set) and the
//! descriptions `udll info` prints.

use crate::data::{Dataset, LoadOptions, SyntheticSpec, generate, load_dataset};
use crate::error::{Result, UdllError};
use crate::io::checkpoint::{Checkpoint, is_checkpoint};
use std::path::Path;

/// The dataset named on the command line, or the synthetic one.
pub fn dataset_or_synthetic(path: Option<&Path>, opts: &LoadOptions, synth: &SyntheticSpec) -> Result<Dataset> {
    match path {
        Some(p) => load_dataset(p, opts),
        None => generate(synth),
    }
}

/// A human-readable description of a dataset or checkpoint file.
pub fn describe_file(path: &Path, opts: &LoadOptions) -> Result<String> {
    if !path.exists() {
        return Err(UdllError::io(path, std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")));
    }
    if is_checkpoint(path) {
        let c = Checkpoint::load(path)?;
        let params: usize = c.tensors.iter().map(|t| t.data.len()).sum();
        let mut s = format!(
            "{}: udll checkpoint ({})\n  architecture: {}\n  tensors: {}, {} values\n",
            path.display(),
            c.kind,
            c.arch.describe(),
            c.tensors.len(),
            params
        );
        for t in &c.tensors {
            s += &format!("    {} {:?}\n", t.name, t.shape);
        }
        s += &format!("  meta: {}\n", c.meta);
        return Ok(s);
    }
    let ds = load_dataset(path, opts)?;
    Ok(describe_dataset(&ds))
}

/// A few lines about a dataset: size, pixel range, classes, reader notes.
pub fn describe_dataset(ds: &Dataset) -> String {
    let (lo, hi) = ds.pixels.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let mut s = format!(
        "{}: {} images of {} × {} × {} (pixels in [{lo:.3}, {hi:.3}])\n",
        ds.source.as_ref().map_or(ds.name.clone(), |p| p.display().to_string()),
        ds.n,
        ds.height,
        ds.width,
        ds.channels
    );
    match (&ds.labels, ds.num_classes()) {
        (Some(l), Some(k)) => {
            let mut counts = vec![0usize; k];
            l.iter().for_each(|&c| counts[c] += 1);
            let (mn, mx) = (counts.iter().min().unwrap_or(&0), counts.iter().max().unwrap_or(&0));
            s += &format!("  {k} classes ({mn}–{mx} images each)\n");
        }
        _ => s += "  no labels\n",
    }
    for n in &ds.notes {
        s += &format!("  {n}\n");
    }
    s
}
