//! The 2-D scattering transform of one image, as Kymatio 0.3.0 computes it
//! (`scattering2d/core/scattering2d.py` with the numpy backend):
//!
//!   S₀x = x ⋆ φ_J,  S₁x = |x ⋆ ψ_{j₁,θ₁}| ⋆ φ_J,  S₂x = ||x ⋆ ψ_{j₁,θ₁}| ⋆ ψ_{j₂,θ₂}| ⋆ φ_J  (j₁ < j₂),
//!
//! each subsampled by 2^J. The image is padded by reflection to the
//! padded size, every convolution is a product in the Fourier domain, and
//! subsampling by k is the periodisation of the spectrum (the mean of its
//! k × k aliases) before the inverse DFT, at the coarsest resolution each
//! path allows; the border of one sample is cropped at the end.
//!
//! Four things make it faster than the definition (the tests hold the
//! result to Kymatio's outputs at 1e-5 of each path's largest value):
//! - the arithmetic is single precision, as Kymatio's: its filters are
//!   float32, and its numpy backend's `scipy.fft` computes in complex64
//!   for float32 input; twice the SIMD lanes of f64 in the products and
//!   the FFTs (the largest difference from the shared references went
//!   from 7.6e-7 in f64 to 1.2e-6 of a path's largest value);
//! - spectra are kept transposed (column-major), so a forward and an
//!   inverse DFT need one transpose each instead of two, and the 1/(MN) of
//!   each inverse DFT is applied to the few values that are kept;
//! - every signal that is DFT'd is real (the padded image, each modulus),
//!   so its rows go through a real FFT and the other half of the spectrum
//!   is filled by Hermitian symmetry;
//! - a filter's entries below 1e-12 of its largest are skipped (at
//!   MNIST's J = 3 that is three quarters of the low-pass φ at full
//!   resolution, and half of the j = 1 wavelets).
//!
//! The arithmetic runs in a fixed order for each image, so the result does
//! not depend on how images are spread over threads.

use super::filters::{FilterBank, transpose_into};
use realfft::{RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// The working precision: single, as Kymatio's filters and its numpy
/// frontend's float32 inputs.
type R = f32;
/// A complex value at the working precision.
type Cx = Complex<R>;

/// Filter entries at or below this fraction of the filter's largest
/// magnitude are skipped.
const NEGLIGIBLE: f64 = 1e-12;

/// The 2-D DFT of an m × n real array into a transposed spectrum (n × m,
/// `spec[c₂·m + c₁] = X[c₁, c₂]`), and the unnormalised inverse of such a
/// spectrum back to an m × n complex array.
struct Fft2 {
    m: usize,
    n: usize,
    rows_real: Arc<dyn RealToComplex<R>>,
    cols_fwd: Arc<dyn Fft<R>>,
    cols_inv: Arc<dyn Fft<R>>,
    rows_inv: Arc<dyn Fft<R>>,
}

impl Fft2 {
    fn new(planner: &mut FftPlanner<R>, real: &mut RealFftPlanner<R>, m: usize, n: usize) -> Fft2 {
        Fft2 {
            m,
            n,
            rows_real: real.plan_fft_forward(n),
            cols_fwd: planner.plan_fft_forward(m),
            cols_inv: planner.plan_fft_inverse(m),
            rows_inv: planner.plan_fft_inverse(n),
        }
    }

    fn len(&self) -> usize {
        self.m * self.n
    }

    fn scratch_len(&self) -> usize {
        let c = [&self.cols_fwd, &self.cols_inv, &self.rows_inv].iter().map(|f| f.get_inplace_scratch_len()).max().unwrap_or(0);
        c.max(self.rows_real.get_scratch_len())
    }

    /// spec (n × m, transposed) = DFT of the real m × n `x` (destroyed).
    fn forward_real(&self, x: &mut [R], spec: &mut [Cx], ws: &mut Scratch) {
        let (m, n) = (self.m, self.n);
        let half = n / 2 + 1;
        // Rows: the first n/2 + 1 bins of each, written transposed.
        for (r, row) in x[..m * n].chunks_exact_mut(n).enumerate() {
            self.rows_real.process_with_scratch(row, &mut ws.row[..half], &mut ws.fft).expect("buffer lengths match the plan");
            for (c, v) in ws.row[..half].iter().enumerate() {
                spec[c * m + r] = *v;
            }
        }
        // Columns of those bins.
        self.cols_fwd.process_with_scratch(&mut spec[..half * m], &mut ws.fft);
        // The rest by Hermitian symmetry: X[c₁, c₂] = conj X[−c₁, −c₂].
        for c2 in half..n {
            let (lo, hi) = spec.split_at_mut(c2 * m);
            let src = &lo[(n - c2) * m..][..m];
            for (c1, v) in hi[..m].iter_mut().enumerate() {
                *v = src[(m - c1) % m].conj();
            }
        }
    }

    /// out (m × n) = m·n × the inverse DFT of the transposed spectrum
    /// `spec` (n × m, destroyed).
    fn inverse_unscaled(&self, spec: &mut [Cx], out: &mut [Cx], ws: &mut Scratch) {
        let (m, n) = (self.m, self.n);
        self.cols_inv.process_with_scratch(&mut spec[..m * n], &mut ws.fft);
        transpose_into(&spec[..m * n], n, m, &mut out[..m * n]);
        self.rows_inv.process_with_scratch(&mut out[..m * n], &mut ws.fft);
    }
}

/// A filter at one resolution, transposed like the spectra, as runs of
/// its non-negligible entries with the place each run aliases to at every
/// coarser resolution.
struct SparseFilter {
    /// The values, transposed (n × m).
    values: Vec<R>,
    /// (start, len) of each run of non-negligible entries, in the
    /// transposed layout, split so that no run crosses a row.
    runs: Vec<(usize, usize)>,
}

impl SparseFilter {
    fn new(filter: &[f64], m: usize, n: usize) -> SparseFilter {
        let mut wide = vec![0.0; m * n];
        transpose_into(filter, m, n, &mut wide);
        let top = wide.iter().fold(0f64, |a, v| a.max(v.abs()));
        let values: Vec<R> = wide.iter().map(|&v| v as R).collect();
        let keep = |v: R| f64::from(v).abs() > NEGLIGIBLE * top;
        let mut runs = vec![];
        for (row, vals) in values.chunks_exact(m).enumerate() {
            let mut c = 0;
            while c < m {
                if keep(vals[c]) {
                    let start = c;
                    while c < m && keep(vals[c]) {
                        c += 1;
                    }
                    runs.push((row * m + start, c - start));
                } else {
                    c += 1;
                }
            }
        }
        SparseFilter { values, runs }
    }
}

/// The filters in the sparse, transposed form.
struct Filters {
    /// (scale j, levels 0..) of each wavelet, in Kymatio's order.
    psi: Vec<(usize, Vec<SparseFilter>)>,
    /// The low-pass at resolutions 0..J.
    phi: Vec<SparseFilter>,
}

/// A planned transform for one image size: the filter bank at the padded
/// size and a 2-D DFT at each resolution 0..=J.
pub struct Plan {
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
    /// The scale J (subsampling by 2^J).
    pub big_j: usize,
    /// Orientations.
    pub l: usize,
    /// 1 or 2.
    pub max_order: usize,
    /// Padded height and width.
    mp: usize,
    np: usize,
    /// Padding (top, bottom, left, right).
    pad: [usize; 4],
    filters: Filters,
    /// The low-pass φ at each resolution 0..J as a separable spatial
    /// filter evaluated at the kept output samples, where that costs
    /// fewer operations than the spectral route (order-2 paths).
    spatial_phi: Vec<Option<SpatialLowPass>>,
    ffts: Vec<Fft2>,
    /// Output height (the padded size / 2^J, less the border).
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

/// FFT scratch of one thread.
struct Scratch {
    fft: Vec<Cx>,
    row: Vec<Cx>,
}

/// What one thread reuses from image to image.
pub struct Workspace {
    real: Vec<R>,
    u0: Vec<Cx>,
    u1: Vec<Cx>,
    a: Vec<Cx>,
    b: Vec<Cx>,
    c: Vec<Cx>,
    scratch: Scratch,
}

/// Kymatio's padded size: the next multiple of 2^J above the size, plus
/// one more 2^J.
pub fn padded_size(size: usize, big_j: usize) -> usize {
    let k = 1usize << big_j;
    ((size + k) / k + 1) * k
}

/// The number of paths per input channel: 1 + LJ (+ L²J(J−1)/2 at order 2).
pub fn path_count(big_j: usize, l: usize, max_order: usize) -> usize {
    1 + l * big_j + if max_order >= 2 { l * l * big_j * big_j.saturating_sub(1) / 2 } else { 0 }
}

impl Plan {
    /// Plan the transform of height × width images (the caller has checked
    /// 1 ≤ J, 2^J ≤ both sides, L ≥ 1, order 1 or 2).
    pub fn new(height: usize, width: usize, big_j: usize, l: usize, max_order: usize) -> Plan {
        let (mp, np) = (padded_size(height, big_j), padded_size(width, big_j));
        let pad = [(mp - height) / 2, (mp - height).div_ceil(2), (np - width) / 2, (np - width).div_ceil(2)];
        let bank = FilterBank::new(mp, np, big_j, l);
        let sparse = |levels: &[Vec<f64>]| levels.iter().enumerate().map(|(r, f)| SparseFilter::new(f, mp >> r, np >> r)).collect::<Vec<_>>();
        let filters = Filters { psi: bank.psi.iter().map(|w| (w.j, sparse(&w.levels))).collect(), phi: sparse(&bank.phi) };
        let mut planner = FftPlanner::new();
        let mut real = RealFftPlanner::new();
        let ffts = (0..=big_j).map(|r| Fft2::new(&mut planner, &mut real, mp >> r, np >> r)).collect();
        let (out_h, out_w) = ((mp >> big_j) - 2, (np >> big_j) - 2);
        let spatial_phi = bank
            .phi
            .iter()
            .enumerate()
            .map(|(r, f)| {
                let (m, n) = (mp >> r, np >> r);
                SpatialLowPass::cheaper(m, n, out_h, out_w).then(|| SpatialLowPass::new(f, m, n, 1 << (big_j - r), out_h, out_w))
            })
            .collect();
        Plan { height, width, big_j, l, max_order, mp, np, pad, filters, spatial_phi, ffts, out_h, out_w }
    }

    /// Paths per input channel.
    pub fn paths(&self) -> usize {
        path_count(self.big_j, self.l, self.max_order)
    }

    /// Output values per input channel: paths × out_h × out_w.
    pub fn out_len(&self) -> usize {
        self.paths() * self.out_h * self.out_w
    }

    /// Buffers for one thread.
    pub fn workspace(&self) -> Workspace {
        let len = self.mp * self.np;
        let z = Cx::new(0.0, 0.0);
        let fft = self.ffts.iter().map(Fft2::scratch_len).max().unwrap_or(0);
        Workspace {
            real: vec![0.0; len],
            u0: vec![z; len],
            u1: vec![z; len],
            a: vec![z; len],
            b: vec![z; len],
            c: vec![z; len],
            scratch: Scratch { fft: vec![z; fft], row: vec![z; self.np / 2 + 1] },
        }
    }

    /// Reflection padding (numpy's `reflect`: the edge is not repeated) of
    /// one height × width image into the padded grid.
    fn pad_into(&self, x: &[f64], out: &mut [R]) {
        let (h, w) = (self.height, self.width);
        let reflect = |i: isize, len: usize| -> usize {
            // Period 2(len − 1); len ≥ 2 here since 2^J ≤ len and J ≥ 1.
            let p = 2 * (len as isize - 1);
            let mut r = i.rem_euclid(p);
            if r >= len as isize {
                r = p - r;
            }
            r as usize
        };
        for (r, row) in out[..self.mp * self.np].chunks_exact_mut(self.np).enumerate() {
            let sr = reflect(r as isize - self.pad[0] as isize, h);
            for (c, v) in row.iter_mut().enumerate() {
                *v = x[sr * w + reflect(c as isize - self.pad[2] as isize, w)] as R;
            }
        }
    }

    /// The scattering of one height × width image (f64, row-major) into
    /// `out` (paths × out_h × out_w, Kymatio's path order).
    pub fn transform(&self, x: &[f64], out: &mut [f64], ws: &mut Workspace) {
        let Workspace { real, u0, u1, a, b, c, scratch } = ws;
        self.pad_into(x, real);
        self.ffts[0].forward_real(real, u0, scratch);
        let plane = self.out_h * self.out_w;

        // Order 0: x ⋆ φ_J. Then, for each first wavelet, its order-1 path
        // and the order-2 paths through it, written at Kymatio's places:
        // S₀, every S₁, then every S₂ by (first, second) wavelet.
        let (head, rest) = out.split_at_mut(plane);
        self.low_pass(u0, 0, a, b, scratch, head);
        let psi = &self.filters.psi;
        let (order1, order2) = rest.split_at_mut(psi.len() * plane);
        let mut order2 = order2.chunks_exact_mut(plane);
        for ((j1, w1), s1) in psi.iter().zip(order1.chunks_exact_mut(plane)) {
            let j1 = *j1;
            // Û₁ = DFT |x ⋆ ψ₁| at resolution j1.
            self.modulus_step(u0, &w1[0], 0, j1, a, b, real, scratch, u1);
            self.low_pass(u1, j1, a, b, scratch, s1);
            if self.max_order < 2 {
                continue;
            }
            for (j2, w2) in psi.iter().filter(|(j2, _)| *j2 > j1) {
                let slot = order2.next().expect("one slot per order-2 path");
                match &self.spatial_phi[*j2] {
                    Some(phi) => {
                        let len = self.modulus(u1, &w2[j1], j1, *j2, a, b, real, scratch);
                        phi.apply(&real[..len], a, slot);
                    }
                    None => {
                        self.modulus_step(u1, &w2[j1], j1, *j2, a, b, real, scratch, c);
                        self.low_pass(c, *j2, a, b, scratch, slot);
                    }
                }
            }
        }
    }

    /// DFT(|IDFT(periodise(û ⊙ ψ̂) to resolution `to`)|) into `out`: one
    /// wavelet modulus step, from spectrum to spectrum.
    #[allow(clippy::too_many_arguments)]
    fn modulus_step(
        &self,
        u: &[Cx],
        filter: &SparseFilter,
        from: usize,
        to: usize,
        a: &mut [Cx],
        b: &mut [Cx],
        real: &mut [R],
        ws: &mut Scratch,
        out: &mut [Cx],
    ) {
        self.modulus(u, filter, from, to, a, b, real, ws);
        self.ffts[to].forward_real(real, out, ws);
    }

    /// |IDFT(periodise(û ⊙ ψ̂) to resolution `to`)| into `real` (row-major
    /// at that resolution); returns its length.
    #[allow(clippy::too_many_arguments)]
    fn modulus(&self, u: &[Cx], filter: &SparseFilter, from: usize, to: usize, a: &mut [Cx], b: &mut [Cx], real: &mut [R], ws: &mut Scratch) -> usize {
        let f = &self.ffts[to];
        multiply_periodise(u, filter, &self.ffts[from], f, a);
        f.inverse_unscaled(a, b, ws);
        let s = 1.0 / f.len() as R;
        for (d, z) in real[..f.len()].iter_mut().zip(&b[..f.len()]) {
            *d = s * (z.re * z.re + z.im * z.im).sqrt();
        }
        f.len()
    }

    /// (û ⊙ φ̂ at resolution `res`) periodised to resolution J, inverse DFT,
    /// real part, border cropped, into `out`.
    fn low_pass(&self, u: &[Cx], res: usize, a: &mut [Cx], b: &mut [Cx], ws: &mut Scratch, out: &mut [f64]) {
        let big_j = self.big_j;
        let f = &self.ffts[big_j];
        multiply_periodise(u, &self.filters.phi[res], &self.ffts[res], f, a);
        f.inverse_unscaled(a, b, ws);
        self.crop(b, out);
    }

    /// The real part of the resolution-J inverse DFT `z` (unscaled),
    /// scaled by 1/(M'N') and without its one-sample border, into `out`.
    fn crop(&self, z: &[Cx], out: &mut [f64]) {
        let f = &self.ffts[self.big_j];
        let s = 1.0 / f.len() as R;
        for (r, row) in out.chunks_exact_mut(self.out_w).enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = f64::from(s * z[(r + 1) * f.n + c + 1].re);
            }
        }
    }
}

/// The low-pass φ̂ at one resolution as a spatial filter, for a real
/// signal at that resolution: the circular convolution with φ (the
/// inverse DFT of φ̂), sampled every 2^(J − r) and without the border, is
/// what the spectral route (product, periodisation to J, inverse DFT,
/// crop) gives, and φ̂ is separable (a Gaussian times a mask that is a
/// product of row and column masks, summed over aliases), so it is two
/// 1-D passes at the kept samples only: no forward DFT of the signal.
/// The order-2 paths, the most numerous, take this route.
struct SpatialLowPass {
    /// Rows: out_h × m, `ky[p·m + y]` = g_y(k·(p + 1) − y).
    ky: Vec<Cx>,
    /// Columns: out_w × n, `kx[q·n + x]` = g_x(k·(q + 1) − x).
    kx: Vec<Cx>,
    m: usize,
    n: usize,
}

impl SpatialLowPass {
    /// Whether the spatial route takes fewer operations than the spectral
    /// one at an m × n resolution with out_h × out_w outputs: its two
    /// passes (2·m·n·out_w + 4·m·out_h·out_w) against about half of
    /// 5·mn·log₂(mn) for the real forward DFT alone. MNIST's J = 3 (3 × 3
    /// outputs) takes it; J = 2 (7 × 7 from 18 × 18) does not, and
    /// measured no faster with it.
    fn cheaper(m: usize, n: usize, out_h: usize, out_w: usize) -> bool {
        let spatial = 2 * m * n * out_w + 4 * m * out_h * out_w;
        let spectral = 2.5 * (m * n) as f64 * ((m * n) as f64).log2();
        (spatial as f64) < 0.8 * spectral
    }

    /// From φ̂ at an m × n resolution (row-major), for outputs every `k`
    /// samples, out_h × out_w after the one-sample border.
    fn new(phi: &[f64], m: usize, n: usize, k: usize, out_h: usize, out_w: usize) -> SpatialLowPass {
        let (a, b) = separable_factors(phi, m, n);
        // g(t) = (1/N) Σ_c â(c) e^{2πi c t / N}: the inverse DFT, in f64.
        let spatial = |f: &[f64]| -> Vec<Complex<f64>> {
            let len = f.len();
            (0..len)
                .map(|t| {
                    f.iter().enumerate().fold(Complex::new(0.0, 0.0), |acc, (c, &v)| {
                        acc + Complex::from_polar(v, 2.0 * std::f64::consts::PI * ((c * t) % len) as f64 / len as f64)
                    }) / len as f64
                })
                .collect()
        };
        let (gy, gx) = (spatial(&a), spatial(&b));
        let table = |g: &[Complex<f64>], outs: usize, len: usize| -> Vec<Cx> {
            (0..outs).flat_map(|p| (0..len).map(move |y| (k * (p + 1) + len - y) % len)).map(|t| Cx::new(g[t].re as R, g[t].im as R)).collect()
        };
        SpatialLowPass { ky: table(&gy, out_h, m), kx: table(&gx, out_w, n), m, n }
    }

    /// The low-pass of the real m × n signal `v` into `out` (out_h ×
    /// out_w); `t` is scratch of m × out_w values.
    fn apply(&self, v: &[R], t: &mut [Cx], out: &mut [f64]) {
        let (m, n) = (self.m, self.n);
        let out_w = self.kx.len() / n;
        let t = &mut t[..m * out_w];
        for (row, tr) in v.chunks_exact(n).zip(t.chunks_exact_mut(out_w)) {
            for (d, kq) in tr.iter_mut().zip(self.kx.chunks_exact(n)) {
                let (mut re, mut im) = (0.0, 0.0);
                for (&x, k) in row.iter().zip(kq) {
                    re += x * k.re;
                    im += x * k.im;
                }
                *d = Cx::new(re, im);
            }
        }
        for (orow, kp) in out.chunks_exact_mut(out_w).zip(self.ky.chunks_exact(m)) {
            for (q, o) in orow.iter_mut().enumerate() {
                let mut re = 0.0;
                for (y, k) in kp.iter().enumerate() {
                    let z = t[y * out_w + q];
                    re += k.re * z.re - k.im * z.im;
                }
                *o = f64::from(re);
            }
        }
    }
}

/// (a, b) with φ̂[c₁, c₂] = a[c₁]·b[c₂] for the separable m × n `phi`
/// (row-major, largest at the origin): its first column and row over the
/// square root of its origin value.
fn separable_factors(phi: &[f64], m: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let root = phi[0].sqrt();
    ((0..m).map(|r| phi[r * n] / root).collect(), (0..n).map(|c| phi[c] / root).collect())
}

/// out = periodise(û ⊙ filter) from resolution `from` to `to`, all in the
/// transposed layout: û and the filter are (N/2^from) × (M/2^from); the
/// output entry of frequency (c₁ mod M', c₂ mod N') is the mean of its
/// k × k aliases, k = 2^(to − from) (Kymatio's `subsample_fourier` after
/// `cdgmm`). Only the filter's non-negligible runs are visited.
fn multiply_periodise(u: &[Cx], filter: &SparseFilter, from: &Fft2, to: &Fft2, out: &mut [Cx]) {
    let m = from.m;
    let (mo, no) = (to.m, to.n);
    let k = (from.n / no) as R * (m / mo) as R;
    let inv = 1.0 / k;
    let out = &mut out[..mo * no];
    out.iter_mut().for_each(|o| *o = Cx::new(0.0, 0.0));
    for &(start, len) in &filter.runs {
        // Row c₂ of the transposed spectrum, columns c₁ in start..start+len.
        let (c2, c1) = (start / m, start % m);
        let dst_row = &mut out[(c2 % no) * mo..][..mo];
        // The run, cut where it wraps around an alias boundary.
        let mut c = c1;
        while c < c1 + len {
            let end = (c1 + len).min((c / mo + 1) * mo);
            let (d, q) = (c % mo, start + c - c1);
            for ((o, x), f) in dst_row[d..d + end - c].iter_mut().zip(&u[q..q + end - c]).zip(&filter.values[q..q + end - c]) {
                *o += x * f;
            }
            c = end;
        }
    }
    if inv != 1.0 {
        out.iter_mut().for_each(|o| *o *= inv);
    }
}

#[cfg(test)]
mod tests {
    use super::super::filters::FilterBank;
    use super::*;

    /// φ̂ is separable at every resolution (the spatial low-pass relies on
    /// it), and on a signal at each resolution the spatial low-pass gives
    /// what the spectral one gives.
    #[test]
    fn the_low_pass_is_separable_and_both_routes_agree() {
        let mut rng = crate::rng::Rng::from_seed(3);
        for (size, big_j) in [(28, 2), (28, 3), (32, 2), (32, 3), (20, 1)] {
            let plan = Plan::new(size, size, big_j, 8, 2);
            let bank = FilterBank::new(plan.mp, plan.np, big_j, 8);
            let mut ws = plan.workspace();
            for (r, phi) in bank.phi.iter().enumerate() {
                let (m, n) = (plan.mp >> r, plan.np >> r);
                let (a, b) = separable_factors(phi, m, n);
                let top = phi.iter().fold(0f64, |x, v| x.max(v.abs()));
                let worst = (0..m * n).map(|i| (phi[i] - a[i / n] * b[i % n]).abs()).fold(0.0, f64::max);
                assert!(worst <= 1e-6 * top, "φ̂ at resolution {r} of {size}, J = {big_j}: {worst} off separable");
                let v: Vec<R> = (0..m * n).map(|_| rng.uniform() as R).collect();
                let mut spectral = vec![0.0; plan.out_h * plan.out_w];
                let mut x = v.clone();
                let Workspace { u0, a, b, scratch, .. } = &mut ws;
                plan.ffts[r].forward_real(&mut x, u0, scratch);
                plan.low_pass(u0, r, a, b, scratch, &mut spectral);
                let mut spatial = vec![0.0; plan.out_h * plan.out_w];
                SpatialLowPass::new(phi, m, n, 1 << (big_j - r), plan.out_h, plan.out_w).apply(&v, a, &mut spatial);
                let scale = spectral.iter().fold(0f64, |x, v| x.max(v.abs()));
                let diff = spectral.iter().zip(&spatial).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
                assert!(scale > 0.1 && diff <= 1e-5 * scale, "resolution {r} of {size}, J = {big_j}: {diff} apart (scale {scale})");
            }
        }
    }
}
