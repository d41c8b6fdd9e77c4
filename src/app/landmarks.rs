//! Landmark mode (`udll run --landmarks M`, part of issue 18): past one
//! n × n matrix by *sample, cluster, classify*. The autoencoder is
//! pretrained on all n images (mini-batches: O(n)); M landmarks are drawn
//! with the run's seed; the whole UDLL fine-tuning and clustering runs on
//! the landmarks (the dense path at M); every image is then encoded by the
//! fine-tuned encoder and placed in the landmarks' clusters by class-wise
//! ridge residual (`cluster::assign`), in chunks. Nothing holds an n × n
//! matrix: the largest are M × M and n × d.

use crate::app::assign::DEFAULT_RIDGE;
use crate::app::pipeline::{
    Choice, Finetuned, Latent, Pretrained, RUN_ARTEFACTS, RunOptions, RunOutput, RunSummary, StageTimes, begin_output, checkpoint_meta, cluster_count,
    cluster_stage_choosing, finetune_stage, finish_run_dir, front_stage, pretrain_stage, prior_graph, sparse_stage,
};
use crate::cluster::assign_by_residual;
use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::graph::check_graph_size;
use crate::io::checkpoint::Checkpoint;
use crate::io::labels::labels_csv;
use crate::io::npy_out::put_npy_f32;
use crate::metrics::scores;
use crate::model::dense_ae::gather_rows;
use crate::model::udll::Method;
use crate::model::udll::params::ValidUdllParams;
use crate::progress::{Observer, Progress};
use crate::rng::Rng;
use rayon::prelude::*;
use std::time::Instant;

/// How the landmarks are drawn. k-means++ is the default: on MNIST-10k
/// (`--preset mnist`, M = 2000, seeds 10–14) it reached ACC 0.7205 (min
/// 0.6728) against uniform's 0.6927 (min 0.6475), for about 3 s more; on
/// COIL-20 (M = 400, seeds 0–4) the two were level (BENCHMARKS.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LandmarkChoice {
    /// Uniformly, without replacement.
    Uniform,
    /// k-means++ seeding on the pretrained latent codes: each next landmark
    /// drawn with probability ∝ its squared distance to the nearest one
    /// chosen (spreads them over the data, small clusters included).
    #[default]
    KmeansPp,
}

/// `m` landmarks of `n` in the range the mode needs (2 to n).
fn check_count(n: usize, m: usize) -> Result<()> {
    if m < 2 || m > n {
        return Err(UdllError::config(format!("{m} landmarks for {n} images (2 to n)")));
    }
    Ok(())
}

/// ‖a − b‖², summed in 16 fixed lanes of f32 (which the compiler turns
/// into vector code) and the lanes added in f64: the same bits on every
/// thread count, since each row's distance is one call.
fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    let mut lanes = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..16 {
            let d = x[l] - y[l];
            lanes[l] += d * d;
        }
    }
    lanes.iter().map(|&v| v as f64).sum::<f64>() + tail
}

/// M of the n rows of `latent` by k-means++ seeding (the seed's
/// `landmarks-kmeans++` stream), in increasing order. Distances are
/// updated in parallel per row, each in a fixed order; the draws are
/// sequential: the same indices for any thread count.
pub fn choose_landmarks_kmeanspp(latent: &Latent, m: usize, seed: u64, observer: &dyn Observer) -> Result<Vec<usize>> {
    let (n, d) = (latent.n, latent.d);
    check_count(n, m)?;
    let row = |i: usize| &latent.values[i * d..][..d];
    let mut rng = Rng::stream(seed, "landmarks-kmeans++");
    let progress = Progress::new("landmarks", m, observer);
    let mut chosen = vec![rng.below(n)];
    let mut dist: Vec<f64> = (0..n).into_par_iter().map(|i| squared_distance(row(i), row(chosen[0]))).collect();
    while chosen.len() < m {
        let total: f64 = dist.iter().sum();
        let next = if total > 0.0 {
            let mut target = rng.uniform() * total;
            let mut pick = n - 1;
            for (i, &v) in dist.iter().enumerate() {
                if v > 0.0 && target < v {
                    pick = i;
                    break;
                }
                target -= v;
            }
            pick
        } else {
            // Every point coincides with a landmark: the lowest index not chosen.
            (0..n).find(|i| !chosen.contains(i)).expect("m ≤ n")
        };
        chosen.push(next);
        progress.update(chosen.len(), "k-means++ draws");
        let c = row(next);
        dist.par_iter_mut().enumerate().for_each(|(i, v)| *v = v.min(squared_distance(row(i), c)));
        dist[next] = 0.0;
    }
    chosen.sort_unstable();
    chosen.dedup();
    if chosen.len() != m {
        return Err(UdllError::Numeric(format!("k-means++ drew {} distinct landmarks of {m}", chosen.len())));
    }
    Ok(chosen)
}

/// M of the n indices, drawn uniformly with the seed's `landmarks` stream,
/// in increasing order.
pub fn choose_landmarks(n: usize, m: usize, seed: u64) -> Result<Vec<usize>> {
    check_count(n, m)?;
    Ok(Rng::stream(seed, "landmarks").sorted_sample(n, m))
}

/// Run UDLL in landmark mode with `m` landmarks (see the module
/// documentation); writes what [`crate::app::pipeline::run`] writes, with
/// `coef.npy` over the landmarks only and `landmarks.csv` (their indices).
pub fn run_landmarks(ds: &Dataset, params: &ValidUdllParams, opts: &RunOptions, m: usize, how: LandmarkChoice, observer: &dyn Observer) -> Result<RunOutput> {
    ds.validate()?;
    let clusters = cluster_count(ds, opts.clusters)?;
    check_count(ds.n, m)?;
    if clusters > m {
        return Err(UdllError::config(format!("{clusters} clusters for {m} landmarks")));
    }
    if params.finetune.locality_weight > 0.0 {
        check_graph_size(m, params.graph_k)?;
    }
    crate::app::pipeline::check_finetune_memory(m)?;
    if opts.choice != Choice::default() {
        return Err(UdllError::config("landmark mode does not combine with label-free choices (auto-post, restarts) yet"));
    }
    if params.method == Method::Edsc {
        return Err(UdllError::config("EDSC has no landmark mode: it clusters all n images at once"));
    }
    params.front.check(ds.height, ds.width)?;
    let out = &opts.out;
    begin_output(out, RUN_ARTEFACTS)?;
    let t0 = Instant::now();
    let images = ds;
    let (seen, t_front) = front_stage(images, &params.front, out, opts.codes, observer)?;
    let ds: &Dataset = &seen;
    let t_pre0 = Instant::now();
    let n = ds.n;
    let len = ds.image_len();
    let x = ds.scaled_pixels(params.input_scale);
    observer.line(&format!("[1/5] autoencoder: pretrained on all {n} images"));
    let mut pretrained: Pretrained = pretrain_stage(ds, params, &opts.start, &x, observer)?;
    pretrained.save(out)?;
    let t_pre = t_pre0.elapsed().as_secs_f64();

    let t1 = Instant::now();
    let latent_all = Latent::encode(&mut pretrained.ae, &x, n, 512);
    latent_all.check_alive("pretrained")?;
    if opts.codes.keeps_others() {
        latent_all.put(out, "latent_pretrained.npy")?;
    }
    let idx = match how {
        LandmarkChoice::Uniform => choose_landmarks(n, m, params.seed)?,
        LandmarkChoice::KmeansPp => choose_landmarks_kmeanspp(&latent_all, m, params.seed, observer)?,
    };
    let mut csv = String::from("landmark,index\n");
    idx.iter().enumerate().for_each(|(j, i)| csv += &format!("{j},{i}\n"));
    out.put("landmarks.csv", csv.as_bytes())?;
    let latent_l = Latent { values: gather_rows(&latent_all.values, &idx, latent_all.d), n: m, d: latent_all.d };
    drop(latent_all);
    let drawn = match how {
        LandmarkChoice::Uniform => "uniform",
        LandmarkChoice::KmeansPp => "k-means++",
    };
    observer.line(&format!("[2/5] {m} landmarks ({drawn}, seed {}); prior graph among them", params.seed));
    let graph = if params.finetune.locality_weight > 0.0 { Some(prior_graph(&latent_l, params.graph_k)?) } else { None };
    if let Some(g) = &graph {
        out.put("graph.csv", g.to_csv().as_bytes())?;
    }
    let t_graph = t1.elapsed().as_secs_f64();

    let t2 = Instant::now();
    let f = &params.finetune;
    observer.line(&format!("[3/5] fine-tune on the landmarks: {} epochs", f.epochs));
    let pretrain_final_loss = pretrained.final_loss();
    let x_l = gather_rows(&x, &idx, len);
    let meta = checkpoint_meta(&ds.name, m, params.input_scale, serde_json::json!({"finetune": params.finetune, "seed": params.seed, "landmarks": m}));
    let Finetuned { mut net, report, latent: fine_l, .. } = finetune_stage(pretrained.ae, &x_l, m, graph.as_ref(), f, meta.clone(), observer)?;
    drop(x_l);
    out.put("finetuned.ckpt", &Checkpoint::from_autoencoder(&net.ae, "finetuned", meta).to_bytes())?;
    put_npy_f32(out, "coef.npy", &net.se.coef.value, m, m)?;
    out.put("losses.csv", report.to_csv().as_bytes())?;
    let t_ft = t2.elapsed().as_secs_f64();

    let t3 = Instant::now();
    observer.line(&format!("[4/5] cluster the landmarks: ρ = {}, r = {}·{} + 1, power {}", params.post.rho, params.post.dim, clusters, params.post.power));
    let truth_l = ds.labels.as_ref().map(|l| idx.iter().map(|&i| l[i]).collect::<Vec<_>>());
    let latent_all = Latent::encode(&mut net.ae, &x, n, 512);
    latent_all.check_alive("fine-tuned")?;
    drop(x);
    let coef = net.into_coef();
    let (labels, landmark_record, sparse_record) = match &params.sparse {
        // With a sparse self-expression, all n fine-tuned codes are
        // clustered at once: nothing n × n, so no residual placement.
        Some(sparse) => {
            drop(coef);
            observer.line(&format!("[5/5] cluster all {n} fine-tuned codes: {}", sparse.describe()));
            let (clustering, record, _) = sparse_stage(&latent_all, sparse, clusters, params.seed, (ds.labels.clone(), ds.files.clone()), out, observer)?;
            (clustering.labels, serde_json::json!({"count": m, "choice": how}), Some(record))
        }
        None => {
            let landmark_clustering = cluster_stage_choosing(coef, m, clusters, f.coef_reg, &params.post, Choice::default(), params.seed, truth_l, observer)?;
            observer.line(&format!("[5/5] assign all {n} images by class-wise residual against the {m} landmarks"));
            let mut labels = assign_by_residual(&fine_l.values, m, fine_l.d, &landmark_clustering.labels, clusters, &latent_all.values, n, DEFAULT_RIDGE)?;
            for (j, &i) in idx.iter().enumerate() {
                labels[i] = landmark_clustering.labels[j];
            }
            out.put("labels.csv", labels_csv(&labels, ds.labels.as_deref(), ds.files.as_deref())?.as_bytes())?;
            // The model `udll assign` places new images with: the
            // landmarks' rows of the fine-tuned codes, M × d.
            put_npy_f32(out, "landmark_codes.npy", &gather_rows(&latent_all.values, &idx, latent_all.d), m, latent_all.d)?;
            (labels, serde_json::json!({"count": m, "choice": how, "ridge": DEFAULT_RIDGE, "scores": landmark_clustering.scores}), None)
        }
    };
    if opts.codes.keeps_latent(params.sparse.is_some()) {
        latent_all.put(out, "latent.npy")?;
    }
    let t_cl = t3.elapsed().as_secs_f64();

    let sc = ds.labels.as_deref().map(|t| scores(&labels, t)).transpose()?;
    let seconds = StageTimes { front: t_front, pretrain: t_pre, graph: t_graph, finetune: t_ft, cluster: t_cl, total: t0.elapsed().as_secs_f64() };
    let summary = RunSummary { scores: sc, clusters, labels, seconds, pretrain_final_loss, finetune_final: report.epochs.last().copied(), selection: None };
    let mut metrics = summary.metrics(params);
    metrics["landmarks"] = landmark_record;
    if let Some(record) = sparse_record {
        metrics["self_expression"] = record;
    }
    finish_run_dir(images, params, opts, &metrics, RUN_ARTEFACTS)?;
    Ok(RunOutput { summary, latent_pretrained: None, latent: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landmarks_are_distinct_sorted_and_seeded() {
        let a = choose_landmarks(100, 10, 3).unwrap();
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a, choose_landmarks(100, 10, 3).unwrap());
        assert_ne!(a, choose_landmarks(100, 10, 4).unwrap());
        assert!(choose_landmarks(5, 6, 0).is_err() && choose_landmarks(5, 1, 0).is_err());
    }

    #[test]
    fn lane_distance_matches_the_plain_sum() {
        let mut rng = Rng::stream(2, "distance-test");
        for d in [1, 15, 16, 17, 480, 3840] {
            let a: Vec<f32> = (0..d).map(|_| rng.normal() as f32).collect();
            let b: Vec<f32> = (0..d).map(|_| rng.normal() as f32).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum();
            let got = squared_distance(&a, &b);
            assert!((got - plain).abs() <= 1e-5 * plain, "d = {d}: {got} vs {plain}");
        }
        assert_eq!(squared_distance(&[1.0; 20], &[1.0; 20]), 0.0);
    }

    #[test]
    fn kmeanspp_landmarks_cover_every_group_and_are_seeded() {
        // Three tight groups of very different sizes (50, 5, 5) in 2-D:
        // uniform draws of 6 often miss a small group, k-means++ never does.
        let mut values = Vec::new();
        for (g, size) in [(0.0f32, 50), (100.0, 5), (-100.0, 5)] {
            for i in 0..size {
                values.extend([g + i as f32 * 0.01, g]);
            }
        }
        let latent = Latent { values, n: 60, d: 2 };
        for seed in 0..5 {
            let l = choose_landmarks_kmeanspp(&latent, 6, seed, &crate::progress::Silent).unwrap();
            assert_eq!(l.len(), 6);
            assert!(l.windows(2).all(|w| w[0] < w[1]));
            assert!(l.iter().any(|&i| i < 50) && l.iter().any(|&i| (50..55).contains(&i)) && l.iter().any(|&i| i >= 55), "seed {seed}: {l:?}");
            assert_eq!(l, choose_landmarks_kmeanspp(&latent, 6, seed, &crate::progress::Silent).unwrap());
        }
        // All points equal: still m distinct indices.
        let flat = Latent { values: vec![1.0; 20], n: 10, d: 2 };
        assert_eq!(choose_landmarks_kmeanspp(&flat, 4, 0, &crate::progress::Silent).unwrap().len(), 4);
    }
}
