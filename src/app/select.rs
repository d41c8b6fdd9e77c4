//! `--restarts R`: R independent runs (pretraining, fine-tuning,
//! clustering) from seeds derived from the run's seed, each scored without
//! labels; the best-scoring run (by `--select-by`) is the output.
//!
//! Restart r ≥ 1 runs with the seed 2⁶² + 1024·s + r (s the run's seed),
//! so two run seeds never share a restart, and restart 0 is the plain run
//! of seed s. The restarts run one after another at full thread count and
//! share nothing mutable, so the whole is bit-identical for a given seed
//! and R whatever the thread count. Each keeps its directory under
//! `restarts/rNN/`; the chosen one's artefacts are copied to the top, with
//! `candidates.csv` (every restart and its scores) and a `metrics.json`
//! that says which was chosen and why.

use crate::app::pipeline::{CandidateRow, Choice, RUN_ARTEFACTS, RunOptions, RunOutput, StageTimes, begin_output, finish_run_dir, run, selection_record};
use crate::cluster::{SelectBy, SelectionScore, agreement};
use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::model::udll::params::ValidUdllParams;
use crate::progress::Observer;
use std::path::Path;

/// The most restarts a run can ask for (the seed derivation's room).
pub const MAX_RESTARTS: usize = 1024;

/// The seed of restart `r` of a run with seed `seed`: the seed itself for
/// r = 0, else 2⁶² + 1024·seed + r (seed < 2⁵²).
pub fn restart_seed(seed: u64, r: usize) -> Result<u64> {
    if r == 0 {
        return Ok(seed);
    }
    if r >= MAX_RESTARTS || seed >= 1 << 52 {
        return Err(UdllError::config(format!("restarts: restart {r} of seed {seed} has no derived seed (at most {MAX_RESTARTS} restarts, seeds below 2^52)")));
    }
    Ok((1 << 62) | (seed << 10) | r as u64)
}

/// The directory of restart `r` inside a run directory.
fn restart_dir(r: usize) -> String {
    format!("restarts/r{r:02}")
}

/// Run `restarts` independent runs and keep the best-scoring one (see the
/// module documentation). With one restart this is [`run`].
pub fn run_restarts(ds: &Dataset, params: &ValidUdllParams, opts: &RunOptions, restarts: usize, observer: &dyn Observer) -> Result<RunOutput> {
    if restarts == 0 || restarts > MAX_RESTARTS {
        return Err(UdllError::config(format!("restarts must be 1 to {MAX_RESTARTS} (got {restarts})")));
    }
    if restarts == 1 {
        return run(ds, params, opts, observer);
    }
    let seeds = (0..restarts).map(|r| restart_seed(params.seed, r)).collect::<Result<Vec<_>>>()?;
    let out = &opts.out;
    let mut names: Vec<String> = RUN_ARTEFACTS.iter().map(|s| s.to_string()).collect();
    for r in 0..restarts {
        // Each restart's own manifest records its path and threads, so it
        // is not among the compared artefacts.
        names.extend(RUN_ARTEFACTS.iter().map(|a| format!("{}/{a}", restart_dir(r))));
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    begin_output(out, &names)?;

    let mut outputs = Vec::with_capacity(restarts);
    for (r, &seed) in seeds.iter().enumerate() {
        observer.line(&format!("restart {}/{restarts}: seed {seed}", r + 1));
        let mut p = params.clone().into_inner();
        p.seed = seed;
        let p = p.check()?;
        let o = RunOptions {
            out: out.join(&restart_dir(r)),
            command: Vec::new(),
            keep_latents: false,
            choice: Choice { score: true, ..opts.choice },
            ..opts.clone()
        };
        outputs.push(run(ds, &p, &o, observer)?);
    }
    // Between restarts, the agreement is each restart's with the others.
    let agree = agreement(&outputs.iter().map(|o| o.summary.labels.as_slice()).collect::<Vec<_>>())?;
    let scores: Vec<_> = outputs
        .iter()
        .zip(&agree)
        .map(|(o, &a)| o.summary.selection.as_ref().map(|s| SelectionScore { agreement: Some(a), ..s.score }).expect("restarts are scored"))
        .collect();
    let by = opts.choice.select_by;
    let best = by.best(&scores).ok_or_else(|| UdllError::Numeric("restarts: no restart has a finite score".into()))?;
    let what = match by {
        SelectBy::Eigengap => format!("the highest relative eigengap, {:.4}", scores[best].eigengap),
        SelectBy::Agreement => format!("the highest agreement with the others, {:.4}", agree[best]),
    };
    observer.line(&format!("restarts: restart {} (seed {}) has {what}", best + 1, seeds[best]));

    // The chosen restart's artefacts become the run's.
    let chosen_dir = out.join(&restart_dir(best));
    for name in RUN_ARTEFACTS.iter().filter(|n| !matches!(**n, "candidates.csv" | "metrics.json")) {
        if let Some(bytes) = chosen_dir.get(name)? {
            out.put(name, &bytes)?;
        }
    }
    let (seeds_ref, agree_ref, auto_post) = (&seeds, &agree, opts.choice.auto_post);
    let rows: Vec<CandidateRow> = outputs
        .iter()
        .enumerate()
        .flat_map(|(r, o)| {
            let sel = o.summary.selection.as_ref().expect("restarts are scored");
            // Without --auto-post each restart is one candidate, scored
            // by its agreement with the other restarts.
            let agreement = if auto_post { None } else { Some(agree_ref[r]) };
            sel.candidates.iter().map(move |c| CandidateRow {
                restart: r,
                seed: seeds_ref[r],
                chosen: r == best && c.chosen,
                score: SelectionScore { agreement: agreement.or(c.score.agreement), ..c.score },
                ..c.clone()
            })
        })
        .collect();
    out.put("candidates.csv", crate::app::pipeline::candidates_csv(&rows).as_bytes())?;

    let mut summary = outputs.swap_remove(best).summary;
    let times: Vec<&StageTimes> = outputs.iter().map(|o| &o.summary.seconds).chain(std::iter::once(&summary.seconds)).collect();
    let total = |f: fn(&StageTimes) -> f64| times.iter().map(|t| f(t)).sum::<f64>();
    let seconds = StageTimes {
        front: total(|t| t.front),
        pretrain: total(|t| t.pretrain),
        graph: total(|t| t.graph),
        finetune: total(|t| t.finetune),
        cluster: total(|t| t.cluster),
        total: total(|t| t.total),
    };
    let mut sel = summary.selection.take().expect("restarts are scored");
    sel.candidates = rows;
    let metrics_path = Path::new(&chosen_dir.describe()).join("metrics.json");
    let bytes = chosen_dir.get("metrics.json")?.ok_or_else(|| UdllError::format(&metrics_path, "missing"))?;
    let mut metrics: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| UdllError::format(&metrics_path, e.to_string()))?;
    let restart_facts = serde_json::json!({
        "count": restarts, "chosen": best, "chosen_seed": seeds[best], "seeds": seeds,
        "eigengaps": scores.iter().map(|s| s.eigengap).collect::<Vec<_>>(),
        "agreements": agree,
    });
    metrics["seed"] = serde_json::json!(params.seed);
    metrics["selection"] = selection_record(&sel, opts.choice, Some(restart_facts));
    metrics["timings_seconds"] = serde_json::to_value(&seconds).expect("times serialise");
    summary.selection = Some(sel);
    summary.seconds = seconds;
    finish_run_dir(ds, params, opts, &metrics, &names)?;
    Ok(RunOutput { summary, latent_pretrained: None, latent: None })
}

/// Whether `dir` is a run directory of restarts (it has `restarts/r00`).
pub fn has_restarts(dir: &Path) -> bool {
    dir.join(restart_dir(0)).is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_seeds_are_disjoint_across_run_seeds() {
        assert_eq!(restart_seed(7, 0).unwrap(), 7, "restart 0 is the plain run");
        let mut all: Vec<u64> = (0..50u64).flat_map(|s| (0..8).map(move |r| restart_seed(s, r).unwrap())).collect();
        let len = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), len);
        assert!(restart_seed(1 << 52, 1).is_err());
        assert!(restart_seed(0, MAX_RESTARTS).is_err());
    }
}
