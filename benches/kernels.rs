//! Kernel benchmarks: they measure and print, they assert nothing.
//!
//! `cargo bench --bench kernels` reports, each against a reference measured
//! in the same run by the same harness:
//! - the self-expressive forward + backward (three n²·d GEMMs) at the
//!   COIL-20 shape, as GFLOP/s and as a ratio to a plain sgemm of the same
//!   m × k × n through the same wrapper;
//! - conv forward + backward of the COIL-20 autoencoder, images/s;
//! - the spectral-embedding eigen problem, Lanczos vs nalgebra's full
//!   decomposition.

use std::time::Instant;
use udll::linalg::eigen::{EigenOptions, Which, full_decomposition, symmetric_top_eigen};
use udll::linalg::{Trans, sgemm};
use udll::model::self_expressive::SelfExpressive;
use udll::model::{AeArch, ConvAutoencoder};
use udll::nn::HasParams;
use udll::rng::Rng;

/// Best of `reps` timings of `f`, in seconds.
fn best_of(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps).map(|_| {
        let t = Instant::now();
        f();
        t.elapsed().as_secs_f64()
    }).fold(f64::INFINITY, f64::min)
}

fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut r = Rng::stream(seed, "bench");
    (0..len).map(|_| r.normal() as f32).collect()
}

/// Best-of-3 time of one forward + backward of an autoencoder on m images.
fn ae_step_seconds(channels: &[usize], kernels: &[usize], h: usize, w: usize, m: usize) -> f64 {
    let arch = AeArch { height: h, width: w, channels_in: 1, channels: channels.to_vec(), kernels: kernels.to_vec(), final_relu: true };
    let mut ae = ConvAutoencoder::<f32>::new(&arch).unwrap();
    ae.init_glorot(0);
    let x = random(m * h * w, 4);
    best_of(3, || {
        ae.zero_grad();
        let z = ae.encode(&x, m);
        let r = ae.decode(&z, m);
        let dz = ae.backward_decoder(&r);
        ae.backward_encoder(&dz, false);
    })
}

fn main() {
    let threads = udll::cli_support::configure_threads(None).unwrap();
    println!("udll kernel benchmarks, {threads} threads, kernel features {:?}", udll::linalg::gemm::cpu_kernel_features());

    // Self-expressive layer vs sgemm at (n, d) = (1440, 3840).
    let (n, d) = (1440usize, 3840usize);
    let c = random(n * n, 1);
    let z = random(n * d, 2);
    let mut out = vec![0f32; n * d];
    let flops = 2.0 * (n * n * d) as f64;
    let t_gemm = best_of(3, || sgemm(n, n, d, 1.0, &c, Trans::No, &z, Trans::No, 0.0, &mut out));
    let gemm_rate = flops / t_gemm / 1e9;
    let mut se = SelfExpressive::<f32>::new(n, 1e-4, false);
    se.coef.value.copy_from_slice(&c);
    let g = random(n * d, 3);
    let t_se = best_of(3, || {
        se.coef.zero_grad();
        let _ = se.forward(&z, d);
        let _ = se.backward(&g);
    });
    let se_rate = 3.0 * flops / t_se / 1e9;
    println!("sgemm {n}×{n}×{d}: {:.3}s, {gemm_rate:.1} GFLOP/s (reference)", t_gemm);
    println!("self-expressive fwd+bwd (3 GEMMs): {:.3}s, {se_rate:.1} GFLOP/s, ratio to sgemm {:.2}", t_se, se_rate / gemm_rate);

    // Conv autoencoder forward + backward: COIL-20 and Yale B architectures.
    let t_conv = ae_step_seconds(&[15], &[3], 32, 32, n);
    println!("conv AE 1→15@3×3 fwd+bwd on {n} images: {:.3}s, {:.0} images/s", t_conv, n as f64 / t_conv);
    let m = 512;
    let t_conv = ae_step_seconds(&[10, 20, 30], &[5, 3, 3], 48, 42, m);
    println!("conv AE Yale B 10-20-30 fwd+bwd on {m} images of 48×42: {:.3}s, {:.0} images/s", t_conv, m as f64 / t_conv);

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
        let _ = full_decomposition(&a, n, 20, Which::Largest);
    });
    let mut m_used = 0;
    let t_lz = best_of(1, || {
        m_used = symmetric_top_eigen(&a, n, 20, Which::Largest, &EigenOptions { full_below: 0, tol: 1e-6, ..Default::default() }).unwrap().iterations;
    });
    println!("eigen top-20 of random symmetric {n}²: full {t_full:.2}s, Lanczos {t_lz:.2}s (m = {m_used}), speed-up {:.1}×", t_full / t_lz);
}
