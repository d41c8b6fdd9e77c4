//! The Morlet filter bank of the 2-D scattering transform, in the Fourier
//! domain, as Kymatio 0.3.0 defines it (`scattering2d/filter_bank.py`, the
//! specification this file follows number by number).
//!
//! On an M × N (padded) grid, a Gabor filter is the periodised sum over
//! the 5 × 5 nearest copies of
//!
//!   g(u) = exp(−uᵀ R D R⁻¹ u / (2σ²) + i ξ (u₁ cos θ + u₂ sin θ)) / (2·3.1415·σ²/s),
//!
//! with R the rotation by θ, D = diag(1, s²) (s the slant). A Morlet
//! wavelet is ψ = g_ξ − K g₀ with K = Σg_ξ / Σg₀, so that ψ has zero mean.
//! The wavelets are ψ_{j,θ} with σ = 0.8·2^j, ξ = 3π/4 / 2^j, s = 4/L and
//! angle (⌊L − L/2 − 1⌋ − θ)π/L; the low-pass is the Gabor with σ = 0.8·2^(J−1),
//! ξ = 0, s = 1. Each is kept as the real part of its 2-D DFT (the imaginary
//! part is zero by symmetry), rounded to f32 as Kymatio stores it, and at
//! coarser resolutions 2^res as the periodisation of that DFT after zeroing
//! the frequencies that would alias (`periodize_filter_fft`).
//!
//! Kymatio computes the spatial filter in complex64; this file computes it
//! in f64 and rounds the Fourier filter to f32, so the two banks agree to
//! about one f32 rounding (the tests compare whole transforms).

use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// One wavelet: its scale j and its Fourier
/// transform at resolutions 0..levels (level r is (M/2^r) × (N/2^r),
/// row-major).
#[derive(Clone, Debug)]
pub struct Wavelet {
    /// Scale index j (σ = 0.8·2^j).
    pub j: usize,
    /// The Fourier filter at each resolution, f32 values kept as f64.
    pub levels: Vec<Vec<f64>>,
}

/// The filter bank at one padded size: L·J wavelets (j major, θ minor, the
/// order of Kymatio's `psi` list) and the low-pass at resolutions 0..J.
#[derive(Clone, Debug)]
pub struct FilterBank {
    /// The wavelets ψ_{j,θ}.
    pub psi: Vec<Wavelet>,
    /// The low-pass φ_J at resolutions 0..J.
    pub phi: Vec<Vec<f64>>,
}

impl FilterBank {
    /// The bank for an m × n padded grid, scales 0..J, L orientations.
    pub fn new(m: usize, n: usize, big_j: usize, l: usize) -> FilterBank {
        let mut psi = Vec::with_capacity(big_j * l);
        let angle0 = (l as f64 - l as f64 / 2.0 - 1.0).trunc();
        for j in 0..big_j {
            for theta in 0..l {
                let sigma = 0.8 * 2f64.powi(j as i32);
                let angle = (angle0 - theta as f64) * std::f64::consts::PI / l as f64;
                let xi = 3.0 / 4.0 * std::f64::consts::PI / 2f64.powi(j as i32);
                let spatial = morlet_2d(m, n, sigma, angle, xi, 4.0 / l as f64);
                let fourier = real_dft_f32(&spatial, m, n);
                let levels = (0..(j + 1).min(big_j.saturating_sub(1).max(1))).map(|res| periodize(&fourier, m, n, res)).collect();
                psi.push(Wavelet { j, levels });
            }
        }
        let spatial = gabor_2d(m, n, 0.8 * 2f64.powi(big_j as i32 - 1), 0.0, 0.0, 1.0);
        let fourier = real_dft_f32(&spatial, m, n);
        let phi = (0..big_j).map(|res| periodize(&fourier, m, n, res)).collect();
        FilterBank { psi, phi }
    }
}

/// Kymatio's `gabor_2d` (offset 0) on an m × n grid, row-major.
fn gabor_2d(m: usize, n: usize, sigma: f64, theta: f64, xi: f64, slant: f64) -> Vec<Complex<f64>> {
    // Kymatio builds R and R⁻¹ in float32: the curvature sees the rounded
    // cosine and sine, the phase the exact ones.
    let (c, s) = ((theta.cos() as f32) as f64, (theta.sin() as f32) as f64);
    let r = [[c, -s], [s, c]];
    let r_inv = [[c, s], [-s, c]];
    let d = [1.0, slant * slant];
    let mut curv = [[0.0; 2]; 2];
    for (a, row) in curv.iter_mut().enumerate() {
        for (b, v) in row.iter_mut().enumerate() {
            *v = (0..2).map(|k| r[a][k] * d[k] * r_inv[k][b]).sum::<f64>() / (2.0 * sigma * sigma);
        }
    }
    let (kx, ky) = (xi * theta.cos(), xi * theta.sin());
    let mut gab = vec![Complex::new(0.0, 0.0); m * n];
    for ex in -2i64..=2 {
        for ey in -2i64..=2 {
            for i in 0..m {
                let xx = (ex * m as i64 + i as i64) as f64;
                for j in 0..n {
                    let yy = (ey * n as i64 + j as i64) as f64;
                    let re = -(curv[0][0] * xx * xx + (curv[0][1] + curv[1][0]) * xx * yy + curv[1][1] * yy * yy);
                    let im = xx * kx + yy * ky;
                    gab[i * n + j] += Complex::from_polar(re.exp(), im);
                }
            }
        }
    }
    // Kymatio's own constant, not π: its filters' scale depends on it.
    #[allow(clippy::approx_constant)]
    let norm = 2.0 * 3.1415 * sigma * sigma / slant;
    gab.iter_mut().for_each(|g| *g /= norm);
    gab
}

/// Kymatio's `morlet_2d`: the Gabor minus the multiple of its envelope
/// that gives zero mean.
fn morlet_2d(m: usize, n: usize, sigma: f64, theta: f64, xi: f64, slant: f64) -> Vec<Complex<f64>> {
    let wv = gabor_2d(m, n, sigma, theta, xi, slant);
    let env = gabor_2d(m, n, sigma, theta, 0.0, slant);
    let k = wv.iter().sum::<Complex<f64>>() / env.iter().sum::<Complex<f64>>();
    wv.iter().zip(&env).map(|(w, e)| w - k * e).collect()
}

/// The real part of the 2-D DFT of an m × n row-major array, rounded to
/// f32 (the precision Kymatio keeps its filters in).
fn real_dft_f32(x: &[Complex<f64>], m: usize, n: usize) -> Vec<f32> {
    let mut planner = FftPlanner::<f64>::new();
    let mut buf = x.to_vec();
    planner.plan_fft_forward(n).process(&mut buf);
    let mut cols = vec![Complex::new(0.0, 0.0); m * n];
    transpose_into(&buf, m, n, &mut cols);
    planner.plan_fft_forward(m).process(&mut cols);
    transpose_into(&cols, n, m, &mut buf);
    buf.iter().map(|c| c.re as f32).collect()
}

/// b = aᵀ for a row-major rows × cols array a.
#[inline(always)]
pub(crate) fn transpose_into<T: Copy>(a: &[T], rows: usize, cols: usize, b: &mut [T]) {
    for r in 0..rows {
        for c in 0..cols {
            b[c * rows + r] = a[r * cols + c];
        }
    }
}

/// Kymatio's `periodize_filter_fft` in float32: zero the frequencies in
/// the middle band of each axis, then sum the 2^res × 2^res aliases into an
/// (m/2^res) × (n/2^res) filter, in Kymatio's order of summation.
fn periodize(x: &[f32], m: usize, n: usize, res: usize) -> Vec<f64> {
    let f = 1usize << res;
    let (mr, nr) = (m / f, n / f);
    let scale = 2f64.powi(-(res as i32));
    let len_x = (m as f64 * (1.0 - scale)) as usize;
    let start_x = (m as f64 * scale / 2.0) as usize;
    let len_y = (n as f64 * (1.0 - scale)) as usize;
    let start_y = (n as f64 * scale / 2.0) as usize;
    let masked =
        |r: usize, c: usize| -> f32 { if (start_x..start_x + len_x).contains(&r) || (start_y..start_y + len_y).contains(&c) { 0.0 } else { x[r * n + c] } };
    let mut crop = vec![0f32; mr * nr];
    for k in 0..mr {
        for l in 0..nr {
            for i in 0..f {
                for j in 0..f {
                    crop[k * nr + l] += masked(k + i * mr, l + j * nr);
                }
            }
        }
    }
    crop.into_iter().map(f64::from).collect()
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // Kymatio's normalisation uses 3.1415, not π.
mod tests {
    use super::*;

    /// Every wavelet has zero mean (its DFT vanishes at frequency 0), the
    /// low-pass has unit mean up to the normalisation's 3.1415, and the bank
    /// has the sizes Kymatio gives it.
    #[test]
    fn wavelets_have_zero_mean_and_the_bank_its_shape() {
        let bank = FilterBank::new(40, 40, 3, 8);
        assert_eq!(bank.psi.len(), 24);
        assert_eq!(bank.phi.len(), 3);
        for w in &bank.psi {
            assert!(w.levels[0][0].abs() < 1e-6, "ψ(j={}) at 0: {}", w.j, w.levels[0][0]);
            assert_eq!(w.levels.len(), (w.j + 1).min(2));
            for (r, lv) in w.levels.iter().enumerate() {
                assert_eq!(lv.len(), (40 >> r) * (40 >> r));
            }
        }
        assert!((bank.phi[0][0] - std::f64::consts::PI / 3.1415).abs() < 1e-4, "{}", bank.phi[0][0]);
        assert_eq!(bank.phi[2].len(), 100);
    }
}
