//! Kernel benchmarks: they measure and print, they assert nothing.
//!
//! `cargo bench --bench kernels` reports, each against a reference measured
//! in the same run by the same harness:
//! - the GEMM wrapper's sgemm at the project's shapes under each kernel
//!   family the CPU has (alternated), beside numpy's sgemm in the same run;
//! - the self-expressive forward + backward (three n²·d GEMMs) at the
//!   COIL-20 shape (1440, 3840) under each family, as GFLOP/s and as a
//!   ratio to a plain sgemm of the same n × n × d (best of 3 each);
//! - conv forward + backward of the COIL-20 and Yale B autoencoders, images/s,
//!   on the full set and on pretraining's mini-batches of 64: pretraining's
//!   fused per-block step, and the layer-by-layer path fine-tuning uses;
//! - the spectral-embedding eigen problem, Lanczos vs the full
//!   decomposition;
//! - the shift-invert factorisation: the blocked Cholesky vs nalgebra's
//!   unblocked one at n = 1440 and 3000 (and the blocked one alone at 7200
//!   with UDLL_BENCH_LARGE=1);
//! - post-processing + spectral clustering of a noisy block-structured
//!   coefficient matrix at n = 1440 (K = 20).
//!
//! `cargo bench --bench kernels -- conv` (or `sgemm`, `eigen`, `cluster`)
//! runs only the sections whose names contain the words given.
//!
//! With UDLL_BENCH_LARGE=1 also the COIL-100 shape of the self-expressive
//! step, (7200, 12800), against sgemm of that shape (about 2 GB);
//! with UDLL_BENCH_LARGE_CLUSTER=1 post-processing + spectral clustering at
//! n = 7200 (K = 100), which takes many minutes (see BENCHMARKS.md).

use std::time::Instant;
use udll::internal::{EigenOptions, HasParams, Rng, SelfExpressive, Trans, Which, full_decomposition, sgemm, sgemm_family, symmetric_top_eigen};
use udll::kernels::KernelFamily;
use udll::{AeArch, ConvAutoencoder};

/// Best of `reps` timings of `f`, in seconds.
fn best_of(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng::stream(seed, "bench");
    (0..len).map(|_| r.normal() as f32).collect()
}

/// Best time of one forward + backward of an autoencoder on m images (of
/// 3 repeats, or 30 for the short mini-batch steps).
fn ae_step_seconds(channels: &[usize], kernels: &[usize], h: usize, w: usize, m: usize) -> f64 {
    let arch = AeArch { height: h, width: w, channels_in: 1, channels: channels.to_vec(), kernels: kernels.to_vec(), final_relu: true };
    let mut ae = ConvAutoencoder::<f32>::new(&arch).unwrap();
    ae.init_glorot(0);
    let x = random(m * h * w, 4);
    best_of(if m <= 64 { 30 } else { 3 }, || {
        ae.zero_grad();
        let z = ae.encode(&x, m);
        let r = ae.decode(&z, m);
        let dz = ae.backward_decoder(&r);
        ae.backward_encoder(&dz, false);
    })
}

/// Best time of one fused reconstruction step (forward, loss, backward)
/// on m images, as pretraining runs it.
fn fused_step_seconds(channels: &[usize], kernels: &[usize], h: usize, w: usize, m: usize) -> f64 {
    use udll::internal::{Workspaces, reconstruction_step, to_lanes};
    let arch = AeArch { height: h, width: w, channels_in: 1, channels: channels.to_vec(), kernels: kernels.to_vec(), final_relu: true };
    let mut ae = ConvAutoencoder::<f32>::new(&arch).unwrap();
    ae.init_glorot(0);
    let x = to_lanes(&random(m * h * w, 4), m, h * w);
    let pool = Workspaces::default();
    best_of(if m <= 64 { 30 } else { 3 }, || {
        ae.zero_grad();
        reconstruction_step(&mut ae, &x, &x, m, 0.0, &pool);
    })
}

/// Both pools sized as the udll binary sizes them: RAYON_NUM_THREADS or
/// every core, and matrixmultiply's (which reads only the environment) the
/// same.
fn configure_threads() -> usize {
    let n = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if std::env::var_os("MATMUL_NUM_THREADS").is_none() {
        // SAFETY: the first thing `main` does, before any other thread exists.
        unsafe { std::env::set_var("MATMUL_NUM_THREADS", n.to_string()) };
    }
    rayon::ThreadPoolBuilder::new().num_threads(n).build_global().expect("the first pool");
    n
}

fn main() {
    let threads = configure_threads();
    // On a pool thread, as the udll binary runs its commands.
    rayon::scope(|_| benchmarks(threads));
}

/// Whether the section `name` was asked for: every section when no words
/// are given (cargo passes `--bench` itself, which is not a word).
fn wanted(name: &str) -> bool {
    let words: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    words.is_empty() || words.iter().any(|w| name.contains(w.as_str()))
}

fn benchmarks(threads: usize) {
    println!(
        "udll kernel benchmarks, {threads} threads, CPU features {:?}, default kernel family {}",
        udll::cpu_kernel_features(),
        udll::kernels::family().name()
    );
    if wanted("sgemm") {
        sgemm_section();
    }
    if wanted("conv") {
        conv_section();
    }
    if wanted("eigen") {
        eigen_section();
    }
    if wanted("cholesky") {
        cholesky_section();
    }
    if wanted("cluster") {
        post_processing_and_spectral(1440, 20);
        if std::env::var_os("UDLL_BENCH_LARGE_CLUSTER").is_some() {
            post_processing_and_spectral(7200, 100);
        }
    }
}

/// The GEMM wrapper at the project's shapes under each kernel family this
/// CPU has, timed alternately (family A, B, A, B, …; best of each), beside
/// numpy's sgemm; then the self-expressive step under each family.
fn sgemm_section() {
    let families: Vec<KernelFamily> = KernelFamily::ALL.into_iter().filter(|f| f.available()).collect();
    let mut shapes =
        vec![(1440, 1440, 3840, "C·Z, COIL-20's (n, d)"), (1024, 480, 2000, "landmark assignment: a chunk of 1024 codes against 2000 landmarks, d = 480")];
    if std::env::var_os("UDLL_BENCH_LARGE").is_some() {
        shapes.push((7200, 7200, 12800, "C·Z, COIL-100's (n, d)"));
    }
    for (m, k, n, what) in shapes {
        let reps = if m * k * n > 100_000_000_000 { 2 } else { 5 };
        let (a, b) = (random(m * k, 1), random(k * n, 2));
        let mut c = vec![0f32; m * n];
        let mut best = vec![f64::INFINITY; families.len()];
        for _ in 0..reps {
            for (i, &f) in families.iter().enumerate() {
                let t = Instant::now();
                sgemm_family(f, m, k, n, 1.0, &a, Trans::No, &b, Trans::No, 0.0, &mut c);
                best[i] = best[i].min(t.elapsed().as_secs_f64());
            }
        }
        let flops = 2.0 * (m * k * n) as f64;
        let rates: Vec<(KernelFamily, f64)> = families.iter().zip(&best).map(|(&f, &t)| (f, flops / t / 1e9)).collect();
        for (&(f, rate), t) in rates.iter().zip(&best) {
            println!("sgemm {m}×{k}×{n} ({what}), {} kernels: {t:.3}s, {rate:.1} GFLOP/s (best of {reps}, families alternated)", f.name());
        }
        numpy_sgemm(m, k, n, reps.max(3), &rates);
    }
    for f in families {
        udll::kernels::set_family(f).expect("available");
        println!("{} kernels:", f.name());
        self_expressive_vs_sgemm(1440, 3840, 3);
        if std::env::var_os("UDLL_BENCH_LARGE").is_some() {
            self_expressive_vs_sgemm(7200, 12800, 1);
        }
    }
    udll::kernels::set_family(KernelFamily::best()).expect("available");
}

fn conv_section() {
    let n = 1440usize;
    // Pretraining's fused step (whole network per 8-image block, one
    // parallel region), next to the layer-by-layer path below.
    for m in [n, 64] {
        let t = fused_step_seconds(&[15], &[3], 32, 32, m);
        println!("fused reconstruction step 1→15@3×3 on {m} images: {t:.4}s, {:.0} images/s", m as f64 / t);
    }
    for m in [512, 64] {
        let t = fused_step_seconds(&[10, 20, 30], &[5, 3, 3], 48, 42, m);
        println!("fused reconstruction step Yale B 10-20-30 on {m} images of 48×42: {t:.4}s, {:.0} images/s", m as f64 / t);
    }
    // Conv autoencoder forward + backward: COIL-20 and Yale B architectures,
    // the whole set at once (fine-tuning) and batches of 64 (pretraining).
    for m in [n, 64] {
        let t_conv = ae_step_seconds(&[15], &[3], 32, 32, m);
        println!("conv AE 1→15@3×3 fwd+bwd on {m} images: {:.4}s, {:.0} images/s", t_conv, m as f64 / t_conv);
    }
    for m in [512, 64] {
        let t_conv = ae_step_seconds(&[10, 20, 30], &[5, 3, 3], 48, 42, m);
        println!("conv AE Yale B 10-20-30 fwd+bwd on {m} images of 48×42: {:.4}s, {:.0} images/s", t_conv, m as f64 / t_conv);
    }
}

fn eigen_section() {
    let n = 1440usize;

    // Eigen: top 20 of a random symmetric 1440 × 1440.
    let mut r = Rng::stream(0, "eigen-bench");
    let mut a = vec![0.0f64; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = r.normal();
            a[i * n + j] = v;
            a[j * n + i] = v;
        }
    }
    let t_full = best_of(1, || {
        let _ = full_decomposition(&a, n, 20, Which::Largest).unwrap();
    });
    // The dense solver udll used before faer, on the same matrix.
    let t_nalgebra = best_of(1, || {
        let _ = nalgebra::DMatrix::from_row_slice(n, n, &a).symmetric_eigen();
    });
    println!("dense decomposition of random symmetric {n}²: faer {t_full:.2}s, nalgebra {t_nalgebra:.2}s, ratio {:.1}", t_nalgebra / t_full);
    let mut m_used = 0;
    let t_lz = best_of(1, || {
        m_used = symmetric_top_eigen(&a, n, 20, Which::Largest, &EigenOptions { full_below: 0, tol: 1e-6, ..Default::default() }).unwrap().iterations;
    });
    println!("eigen top-20 of random symmetric {n}²: full {t_full:.2}s, Lanczos {t_lz:.2}s (m = {m_used}), speed-up {:.1}×", t_full / t_lz);
}

/// The shift-invert solver's factorisation of a symmetric positive definite
/// n × n matrix: the blocked Cholesky against nalgebra's unblocked one,
/// best of 1 each (nalgebra's takes minutes at 7200, so that size runs the
/// blocked one alone).
fn cholesky_section() {
    let mut sizes = vec![1440usize, 3000];
    if std::env::var_os("UDLL_BENCH_LARGE").is_some() {
        sizes.push(7200);
    }
    for n in sizes {
        let mut r = Rng::stream(n as u64, "cholesky-bench");
        let mut a = vec![0.0f64; n * n];
        for i in 0..n {
            for j in 0..i {
                let v = 0.1 * r.normal() / (n as f64).sqrt();
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
            a[i * n + i] = 2.0;
        }
        let flops = (n as f64).powi(3) / 3.0;
        // The copy the factorisation consumes is timed with it, as the
        // shift-invert solver builds one.
        let t_blocked = best_of(1, || {
            udll::internal::blocked_cholesky(a.clone(), n, udll::internal::CHOLESKY_BLOCK).expect("positive definite");
        });
        if n > 3000 {
            println!("cholesky n = {n}: blocked {t_blocked:.2}s ({:.1} GFLOP/s)", flops / t_blocked / 1e9);
            continue;
        }
        let t_nalgebra = best_of(1, || {
            nalgebra::DMatrix::from_row_slice(n, n, &a).cholesky().expect("positive definite");
        });
        println!(
            "cholesky n = {n}: nalgebra {t_nalgebra:.2}s, blocked {t_blocked:.2}s ({:.1} GFLOP/s), speed-up {:.1}×",
            flops / t_blocked / 1e9,
            t_nalgebra / t_blocked
        );
    }
}

/// The self-expressive forward + backward (three n²·d GEMMs) against one
/// plain sgemm of the same n × n × d, best of `reps` each.
fn self_expressive_vs_sgemm(n: usize, d: usize, reps: usize) {
    let c = random(n * n, 1);
    let z = random(n * d, 2);
    let flops = 2.0 * (n * n * d) as f64;
    let mut out = vec![0f32; n * d];
    let t_gemm = best_of(reps, || sgemm(n, n, d, 1.0, &c, Trans::No, &z, Trans::No, 0.0, &mut out));
    drop(out);
    let gemm_rate = flops / t_gemm / 1e9;
    let mut se = SelfExpressive::<f32>::new(n, 1e-4, false);
    se.coef.value.copy_from_slice(&c);
    drop(c);
    let g = random(n * d, 3);
    let t_se = best_of(reps, || {
        se.coef.zero_grad();
        let _ = se.forward(&z, d);
        let _ = se.backward(&g);
    });
    let se_rate = 3.0 * flops / t_se / 1e9;
    println!("sgemm {n}×{n}×{d}: {t_gemm:.3}s, {gemm_rate:.1} GFLOP/s (reference, best of {reps})");
    println!("self-expressive ({n}, {d}) fwd+bwd (3 GEMMs): {t_se:.3}s, {se_rate:.1} GFLOP/s, ratio to sgemm {:.2}", se_rate / gemm_rate);
}

/// numpy's sgemm (its BLAS) on the same m × k × n in the same run, with as
/// many BLAS threads as ours, and each family's rate as a fraction of it.
/// OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from its environment
/// (set on some machines for old OpenBLAS builds, they pin it to an older
/// kernel), so it runs the fastest kernel it has for this CPU. Skipped with
/// a message where python3 or numpy is absent.
fn numpy_sgemm(m: usize, k: usize, n: usize, reps: usize, ours: &[(KernelFamily, f64)]) {
    let threads = rayon::current_num_threads().to_string();
    let script = format!(
        "import time, numpy as np
a = np.random.rand({m}, {k}).astype(np.float32)
b = np.random.rand({k}, {n}).astype(np.float32)
best = float('inf')
for _ in range({reps}):
    start = time.perf_counter()
    a @ b
    best = min(best, time.perf_counter() - start)
print(best)"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OPENBLAS_L2_SIZE")
        .env("OPENBLAS_NUM_THREADS", &threads)
        .env("OMP_NUM_THREADS", &threads)
        .env("MKL_NUM_THREADS", &threads)
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let secs: f64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(f64::NAN);
            let rate = 2.0 * (m * k * n) as f64 / secs / 1e9;
            let of: Vec<String> = ours.iter().map(|(f, r)| format!("{} {:.2}", f.name(), r / rate)).collect();
            println!("numpy sgemm {m}×{k}×{n}: {secs:.3}s, {rate:.1} GFLOP/s (best of {reps}); the wrapper's sgemm as a fraction of it: {}", of.join(", "));
        }
        _ => println!("numpy sgemm {m}×{k}×{n}: skipped (python3 with numpy not found)"),
    }
}

/// thrC + EDSC affinity + spectral clustering of an n × n coefficient
/// matrix with K noisy blocks (COIL post-processing: ρ 0.04, d 12, power 8,
/// k-means assignment), one run.
fn post_processing_and_spectral(n: usize, k: usize) {
    use udll::{LabelAssign, PostConfig};
    let noise = random(n * n, 7);
    let coef: Vec<f32> = (0..n * n)
        .map(|i| {
            let same = (i / n) * k / n == (i % n) * k / n;
            (if same { 0.05 } else { 0.0 }) + 0.01 * noise[i].abs()
        })
        .collect();
    let post = PostConfig { rho: 0.04, dim: 12, power: 8.0, assign: LabelAssign::Kmeans, add_identity: true };
    let t = Instant::now();
    let labels = udll::cluster_coef(&coef, n, k, &post, 0).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let truth: Vec<usize> = (0..n).map(|i| i * k / n).collect();
    let acc = udll::metrics::accuracy(&labels, &truth).unwrap();
    println!("post-processing + spectral clustering, n = {n}, K = {k} (r = {}): {secs:.1}s (ACC on the planted blocks {acc:.3})", (12 * k + 1).min(n - 1));
}
