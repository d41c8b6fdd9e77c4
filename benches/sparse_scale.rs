//! The sparse self-expression at scale: it measures and prints, it asserts
//! nothing.
//!
//! `cargo bench --bench sparse_scale -- N [D] [SOLVER]` draws N points
//! (default 70 000) from 10 random subspaces of dimension 20 in R^D
//! (default 500, MNIST's scattering features' shape), each a unit vector
//! plus Gaussian noise of norm about 0.05 (0.05/√D per coordinate), then codes them with EnSC
//! (or `omp`) at the defaults of `udll run --self-expression`, clusters the
//! codes (the 3-NN affinity for EnSC, |C| + |C|ᵀ for SSC-OMP, Lanczos on
//! the CSR operator, k-means) and prints the seconds of each step, ACC,
//! the nonzeros, and the peak resident memory (VmHWM), beside the memory
//! an n × n f64 matrix would take.

use std::time::Instant;
use udll::internal::Rng;
use udll::{EnscParams, OmpParams, Silent, SparseConfig, SparseSolver, cluster_sparse, scores, sparse_self_expression};

fn union_of_subspaces(n: usize, d: usize, k: usize, dim: usize, noise: f64) -> (Vec<f32>, Vec<usize>) {
    let mut rng = Rng::stream(0, "sparse-scale");
    let bases: Vec<Vec<f64>> = (0..k).map(|_| (0..dim * d).map(|_| rng.normal()).collect()).collect();
    let mut x = Vec::with_capacity(n * d);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % k;
        let w: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
        let mut v = vec![0.0f64; d];
        for (a, wa) in w.iter().enumerate() {
            v.iter_mut().zip(&bases[c][a * d..(a + 1) * d]).for_each(|(e, b)| *e += wa * b);
        }
        let norm = v.iter().map(|e| e * e).sum::<f64>().sqrt();
        let per = noise / (d as f64).sqrt();
        x.extend(v.iter().map(|e| (e / norm + per * rng.normal()) as f32));
        labels.push(c);
    }
    (x, labels)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(70_000);
    let d: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let solver = match args.get(2).map(String::as_str) {
        Some("omp") => SparseSolver::Omp(OmpParams::default()),
        _ => SparseSolver::Ensc(EnscParams::default()),
    };
    let config = SparseConfig::recipe(solver.clone());
    let k = 10;
    println!("sparse_scale: n = {n}, d = {d}, {k} subspaces of dimension 20, {} threads, {}", rayon::current_num_threads(), config.describe());
    let t = Instant::now();
    let (x, truth) = union_of_subspaces(n, d, k, 20, 0.05);
    println!("  data:       {:7.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let code = sparse_self_expression(&x, n, d, &solver, &Silent).expect("coding");
    let t_code = t.elapsed().as_secs_f64();
    println!("  coding:     {t_code:7.1} s  ({} nonzeros, {} unfinished)", code.coef.nnz(), code.unfinished);
    let t = Instant::now();
    let out = cluster_sparse(&code.coef, k, &config, 0).expect("clustering");
    let t_cluster = t.elapsed().as_secs_f64();
    println!("  clustering: {t_cluster:7.1} s  ({} Lanczos steps, converged {})", out.lanczos_steps, out.converged);
    let acc = scores(&out.labels, &truth).expect("scores").acc;
    println!(
        "  ACC {acc:.4}; coding + clustering {:.1} s; peak RSS {:.0} MB (an n × n f64 matrix: {:.0} MB)",
        t_code + t_cluster,
        peak_rss_mb(),
        (n * n * 8) as f64 / 1e6
    );
}
