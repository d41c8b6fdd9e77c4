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
//! What makes it faster than the definition (the tests hold the result to
//! Kymatio's outputs at 1e-5 of each path's largest value):
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
//! - a filter's entries below 1e-12 of its largest are skipped, and where
//!   each of the rest lands at every coarser resolution is worked out once
//!   per plan (`Periodised`), not per image;
//! - a modulus whose spectrum no later path needs (every order-2 path, and
//!   the order-1 paths of the largest j₁) is low-passed in space: φ is
//!   real and separable, so two 1-D passes at the kept samples replace a
//!   forward DFT, a product and an inverse DFT (`SpatialLowPass`);
//! - rustfft's plan is taken per length where its default is slow in
//!   single precision: lengths 6 and 10 from its SSE planner, and the
//!   18 × 18 inverse DFT in double precision, where it has a butterfly of
//!   18 (`Planners`);
//! - on a CPU with AVX2 the transform's own loops are compiled for it
//!   (`transform_avx2`): the same operations in the same order, no fused
//!   multiply-adds, so the same bits as the baseline build on that CPU.
//!
//! The arithmetic runs in a fixed order for each image, so the result does
//! not depend on how images are spread over threads.

use super::filters::{FilterBank, transpose_into};
use crate::linalg::simd::has_avx2;
use realfft::{RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftDirection, FftPlanner, FftPlannerSse};
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
    inverse: Inverse,
}

/// The column and row DFTs of a 2-D inverse DFT, in single precision or,
/// at lengths where rustfft is faster in double, in double.
enum Inverse {
    Single { cols: Arc<dyn Fft<R>>, rows: Arc<dyn Fft<R>> },
    Double { cols: Arc<dyn Fft<f64>>, rows: Arc<dyn Fft<f64>> },
}

/// rustfft's planners: its default (AVX where the CPU has it) and, where
/// the CPU has SSE4.1, its SSE one.
struct Planners {
    auto: FftPlanner<R>,
    sse: Option<FftPlannerSse<R>>,
    real: RealFftPlanner<R>,
    double: FftPlanner<f64>,
}

impl Planners {
    fn new() -> Planners {
        Planners { auto: FftPlanner::new(), sse: FftPlannerSse::new().ok(), real: RealFftPlanner::new(), double: FftPlanner::new() }
    }

    /// A complex DFT of `len`. In single precision rustfft's AVX planner
    /// has no butterfly of 6 or 10 and composes one that runs 2× and 5×
    /// slower than its SSE planner's butterflies (measured, batches of
    /// such DFTs; 10 is MNIST's J = 3 coarsest-but-one resolution), so
    /// those lengths take the SSE plan; the choice depends only on the
    /// length and the CPU, never on a timing.
    fn complex(&mut self, len: usize, direction: FftDirection) -> Arc<dyn Fft<R>> {
        match &mut self.sse {
            Some(sse) if matches!(len, 6 | 10) => sse.plan_fft(len, direction),
            _ => self.auto.plan_fft(len, direction),
        }
    }

    /// The 2-D inverse DFT of m × n. rustfft's AVX planner has a butterfly
    /// of 18 in double precision and none in single, where its plan of 18
    /// runs 2.4× slower than the double one (measured, batches of 18); an
    /// 18 × 18 inverse (MNIST's J = 2 middle resolution, where the order-2
    /// paths' moduli are taken) runs in double, its input widened and its
    /// output rounded back.
    fn inverse(&mut self, m: usize, n: usize) -> Inverse {
        if m == 18 && n == 18 && avx_plans() {
            Inverse::Double { cols: self.double.plan_fft_inverse(m), rows: self.double.plan_fft_inverse(n) }
        } else {
            Inverse::Single { cols: self.complex(m, FftDirection::Inverse), rows: self.complex(n, FftDirection::Inverse) }
        }
    }
}

/// Whether rustfft's planners take their AVX plans on this CPU.
fn avx_plans() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

impl Fft2 {
    fn new(p: &mut Planners, m: usize, n: usize) -> Fft2 {
        Fft2 { m, n, rows_real: p.real.plan_fft_forward(n), cols_fwd: p.complex(m, FftDirection::Forward), inverse: p.inverse(m, n) }
    }

    fn len(&self) -> usize {
        self.m * self.n
    }

    /// Single-precision FFT scratch.
    fn scratch_len(&self) -> usize {
        let mut c = self.cols_fwd.get_inplace_scratch_len().max(self.rows_real.get_scratch_len());
        if let Inverse::Single { cols, rows } = &self.inverse {
            c = c.max(cols.get_inplace_scratch_len()).max(rows.get_inplace_scratch_len());
        }
        c
    }

    /// Double-precision FFT scratch and buffer lengths.
    fn double_len(&self) -> (usize, usize) {
        match &self.inverse {
            Inverse::Double { cols, rows } => (cols.get_inplace_scratch_len().max(rows.get_inplace_scratch_len()), self.len()),
            Inverse::Single { .. } => (0, 0),
        }
    }

    /// spec (n × m, transposed) = DFT of the real m × n `x` (destroyed).
    #[inline(always)]
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
            hi[0] = src[0].conj();
            for (v, s) in hi[1..m].iter_mut().zip(src[1..].iter().rev()) {
                *v = s.conj();
            }
        }
    }

    /// out (m × n) = m·n × the inverse DFT of the transposed spectrum
    /// `spec` (n × m, destroyed).
    #[inline(always)]
    fn inverse_unscaled(&self, spec: &mut [Cx], out: &mut [Cx], ws: &mut Scratch) {
        let (m, n) = (self.m, self.n);
        match &self.inverse {
            Inverse::Single { cols, rows } => {
                cols.process_with_scratch(&mut spec[..m * n], &mut ws.fft);
                transpose_into(&spec[..m * n], n, m, &mut out[..m * n]);
                rows.process_with_scratch(&mut out[..m * n], &mut ws.fft);
            }
            Inverse::Double { cols, rows } => {
                let (x, y) = (&mut ws.wide[..m * n], &mut ws.wide_t[..m * n]);
                for (d, v) in floats_mut(x).iter_mut().zip(floats(&spec[..m * n])) {
                    *d = f64::from(*v);
                }
                cols.process_with_scratch(x, &mut ws.fft64);
                transpose_into(x, n, m, y);
                rows.process_with_scratch(y, &mut ws.fft64);
                for (d, v) in floats_mut(&mut out[..m * n]).iter_mut().zip(floats(y)) {
                    *d = *v as R;
                }
            }
        }
    }
}

/// A filter at one resolution, transposed like the spectra, ready to be
/// multiplied with a spectrum at that resolution and periodised to each
/// coarser one.
struct SparseFilter {
    /// The filter's own resolution.
    from: usize,
    /// Indexed by the target resolution less the filter's own.
    to: Vec<Periodised>,
}

/// A filter's non-negligible entries with the place each lands at one
/// target resolution.
struct Periodised {
    /// The filter's values (transposed) divided by the number of aliases,
    /// k = 4^(to − from): a power of two, so the products and their sums
    /// round exactly as the unscaled ones then scaled. Each value is
    /// written twice, once for the real and once for the imaginary part
    /// of the complex value it multiplies, so that the product is one
    /// elementwise pass over floats.
    values: Vec<R>,
    /// (source start, destination start, length) of each run of
    /// non-negligible entries, cut where a row ends or an alias boundary
    /// falls, in the order the sums take them.
    segments: Vec<(u32, u32, u32)>,
    /// Entries of the target spectrum (M' · N').
    len: usize,
}

impl SparseFilter {
    /// The m × n `filter` (row-major) at resolution `from`, for targets
    /// from..=`last`.
    fn new(filter: &[f64], m: usize, n: usize, from: usize, last: usize) -> SparseFilter {
        let mut wide = vec![0.0; m * n];
        transpose_into(filter, m, n, &mut wide);
        let top = wide.iter().fold(0f64, |a, v| a.max(v.abs()));
        let values: Vec<R> = wide.iter().map(|&v| v as R).collect();
        let keep = |v: R| f64::from(v).abs() > NEGLIGIBLE * top;
        // Runs within each row of the transposed layout (a column c₂).
        let mut runs = vec![];
        for (row, vals) in values.chunks_exact(m).enumerate() {
            let mut c = 0;
            while c < m {
                if keep(vals[c]) {
                    let start = c;
                    while c < m && keep(vals[c]) {
                        c += 1;
                    }
                    runs.push((row, start, c - start));
                } else {
                    c += 1;
                }
            }
        }
        let to = (from..=last)
            .map(|t| {
                let shift = t - from;
                let (mo, no) = (m >> shift, n >> shift);
                let inv = 1.0 / (1u32 << (2 * shift)) as R;
                let mut segments = vec![];
                for &(c2, c1, len) in &runs {
                    let dst_row = (c2 % no) * mo;
                    let mut c = c1;
                    while c < c1 + len {
                        let end = (c1 + len).min((c / mo + 1) * mo);
                        segments.push(((c2 * m + c) as u32, (dst_row + c % mo) as u32, (end - c) as u32));
                        c = end;
                    }
                }
                Periodised { values: values.iter().flat_map(|v| [v * inv; 2]).collect(), segments, len: mo * no }
            })
            .collect();
        SparseFilter { from, to }
    }

    /// The filter periodised to resolution `to` (at or below its own).
    fn at(&self, to: usize) -> &Periodised {
        &self.to[to - self.from]
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
    /// fewer operations than the spectral route (used for every modulus
    /// whose spectrum no later path needs).
    spatial_phi: Vec<Option<SpatialLowPass>>,
    ffts: Vec<Fft2>,
    /// Whether to run compiled for AVX2 (the same arithmetic).
    avx2: bool,
    /// Output height (the padded size / 2^J, less the border).
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
}

/// FFT scratch of one thread.
struct Scratch {
    fft: Vec<Cx>,
    row: Vec<Cx>,
    /// Double-precision FFT scratch and buffers (empty unless a
    /// resolution's inverse runs in double).
    fft64: Vec<Complex<f64>>,
    wide: Vec<Complex<f64>>,
    wide_t: Vec<Complex<f64>>,
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
        let sparse = |levels: &[Vec<f64>]| levels.iter().enumerate().map(|(r, f)| SparseFilter::new(f, mp >> r, np >> r, r, big_j)).collect::<Vec<_>>();
        let filters = Filters { psi: bank.psi.iter().map(|w| (w.j, sparse(&w.levels))).collect(), phi: sparse(&bank.phi) };
        let mut planners = Planners::new();
        let ffts = (0..=big_j).map(|r| Fft2::new(&mut planners, mp >> r, np >> r)).collect();
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
        Plan { height, width, big_j, l, max_order, mp, np, pad, filters, spatial_phi, ffts, avx2: has_avx2(), out_h, out_w }
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
        let (fft64, wide) = self.ffts.iter().map(Fft2::double_len).fold((0, 0), |(a, b), (c, d)| (a.max(c), b.max(d)));
        Workspace {
            real: vec![0.0; len],
            u0: vec![z; len],
            u1: vec![z; len],
            a: vec![z; len],
            b: vec![z; len],
            c: vec![z; len],
            scratch: Scratch {
                fft: vec![z; fft],
                row: vec![z; self.np / 2 + 1],
                fft64: vec![Complex::new(0.0, 0.0); fft64],
                wide: vec![Complex::new(0.0, 0.0); wide],
                wide_t: vec![Complex::new(0.0, 0.0); wide],
            },
        }
    }

    /// Reflection padding (numpy's `reflect`: the edge is not repeated) of
    /// one height × width image into the padded grid.
    #[inline(always)]
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
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` was detected on this CPU by `Plan::new`.
            return unsafe { self.transform_avx2(x, out, ws) };
        }
        self.transform_inline(x, out, ws)
    }

    /// `transform` compiled for AVX2: the same arithmetic (no fused
    /// multiply-adds), in wider registers.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn transform_avx2(&self, x: &[f64], out: &mut [f64], ws: &mut Workspace) {
        self.transform_inline(x, out, ws)
    }

    /// `transform`, compiled into the caller (with its helpers) so that it
    /// takes the widest registers the caller was compiled for.
    #[inline(always)]
    fn transform_inline(&self, x: &[f64], out: &mut [f64], ws: &mut Workspace) {
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
            let deeper = self.max_order >= 2 && psi.iter().any(|(j2, _)| *j2 > j1);
            if let (Some(phi), false) = (&self.spatial_phi[j1], deeper) {
                // No order-2 path needs Û₁: low-pass |x ⋆ ψ₁| in space.
                let len = self.modulus(u0, &w1[0], j1, a, b, real, scratch);
                phi.apply(&real[..len], floats_mut(a), s1);
                continue;
            }
            // Û₁ = DFT |x ⋆ ψ₁| at resolution j1.
            self.modulus_step(u0, &w1[0], j1, a, b, real, scratch, u1);
            self.low_pass(u1, j1, a, b, scratch, s1);
            if !deeper {
                continue;
            }
            for (j2, w2) in psi.iter().filter(|(j2, _)| *j2 > j1) {
                let slot = order2.next().expect("one slot per order-2 path");
                match &self.spatial_phi[*j2] {
                    Some(phi) => {
                        let len = self.modulus(u1, &w2[j1], *j2, a, b, real, scratch);
                        phi.apply(&real[..len], floats_mut(a), slot);
                    }
                    None => {
                        self.modulus_step(u1, &w2[j1], *j2, a, b, real, scratch, c);
                        self.low_pass(c, *j2, a, b, scratch, slot);
                    }
                }
            }
        }
    }

    /// DFT(|IDFT(periodise(û ⊙ ψ̂) to resolution `to`)|) into `out`: one
    /// wavelet modulus step, from spectrum to spectrum.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn modulus_step(&self, u: &[Cx], filter: &SparseFilter, to: usize, a: &mut [Cx], b: &mut [Cx], real: &mut [R], ws: &mut Scratch, out: &mut [Cx]) {
        self.modulus(u, filter, to, a, b, real, ws);
        self.ffts[to].forward_real(real, out, ws);
    }

    /// |IDFT(periodise(û ⊙ ψ̂) to resolution `to`)| into `real` (row-major
    /// at that resolution); returns its length.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn modulus(&self, u: &[Cx], filter: &SparseFilter, to: usize, a: &mut [Cx], b: &mut [Cx], real: &mut [R], ws: &mut Scratch) -> usize {
        let f = &self.ffts[to];
        multiply_periodise(u, filter.at(to), a);
        f.inverse_unscaled(a, b, ws);
        let s = 1.0 / f.len() as R;
        for (d, z) in real[..f.len()].iter_mut().zip(&b[..f.len()]) {
            *d = s * (z.re * z.re + z.im * z.im).sqrt();
        }
        f.len()
    }

    /// (û ⊙ φ̂ at resolution `res`) periodised to resolution J, inverse DFT,
    /// real part, border cropped, into `out`.
    #[inline(always)]
    fn low_pass(&self, u: &[Cx], res: usize, a: &mut [Cx], b: &mut [Cx], ws: &mut Scratch, out: &mut [f64]) {
        let big_j = self.big_j;
        let f = &self.ffts[big_j];
        multiply_periodise(u, self.filters.phi[res].at(big_j), a);
        f.inverse_unscaled(a, b, ws);
        self.crop(b, out);
    }

    /// The real part of the resolution-J inverse DFT `z` (unscaled),
    /// scaled by 1/(M'N') and without its one-sample border, into `out`.
    #[inline(always)]
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
/// φ̂ is also real and even, so φ is real: the passes are real products.
/// Each output's sum runs over its taps in order; the vector lanes run
/// over outputs, so the result does not depend on the register width.
struct SpatialLowPass {
    /// Columns, n × w: `kx[x·w + q]` = g_x(k·(q + 1) − x), zero for the
    /// lanes q ≥ out_w that pad a row of outputs to w.
    kx: Vec<R>,
    /// Rows, out_h × m: `ky[p·m + y]` = g_y(k·(p + 1) − y).
    ky: Vec<R>,
    m: usize,
    n: usize,
    /// out_w rounded up to whole blocks of LANES.
    w: usize,
    out_w: usize,
}

impl SpatialLowPass {
    /// Whether the spatial route costs less than the spectral one at an
    /// m × n resolution with out_h × out_w outputs. Spatial: 2·(m·n +
    /// out_h·m)·w flops in w-wide rows. Spectral: about 2.5·mn·log₂(mn)
    /// for the real forward DFT alone, and small DFTs run well below their
    /// flop rate, hence the factor 2. By this rule MNIST's 18 × 18 and
    /// 20 × 20 and COIL's 40 × 40 with 8 × 8 outputs take the spatial
    /// route and a 256 × 256 image's full resolution does not; at MNIST's
    /// J = 2, where it replaced the spectral route, the single-thread
    /// transform went from 2.7 s to 2.0 s (alternated runs).
    fn cheaper(m: usize, n: usize, out_h: usize, out_w: usize) -> bool {
        let spatial = 2 * (m * n + out_h * m) * out_w.next_multiple_of(LANES);
        let spectral = 2.5 * (m * n) as f64 * ((m * n) as f64).log2();
        (spatial as f64) < 2.0 * spectral
    }

    /// From φ̂ at an m × n resolution (row-major), for outputs every `k`
    /// samples, out_h × out_w after the one-sample border.
    fn new(phi: &[f64], m: usize, n: usize, k: usize, out_h: usize, out_w: usize) -> SpatialLowPass {
        let (a, b) = separable_factors(phi, m, n);
        let (gy, gx) = (spatial_kernel(&a), spatial_kernel(&b));
        let w = out_w.next_multiple_of(LANES);
        let at = |g: &[f64], p: usize, y: usize| g[(k * (p + 1) + g.len() - y) % g.len()] as R;
        let kx = (0..n).flat_map(|x| (0..w).map(move |q| (x, q))).map(|(x, q)| if q < out_w { at(&gx, q, x) } else { 0.0 }).collect();
        let ky = (0..out_h).flat_map(|p| (0..m).map(move |y| (p, y))).map(|(p, y)| at(&gy, p, y)).collect();
        SpatialLowPass { kx, ky, m, n, w, out_w }
    }

    /// The low-pass of the real m × n signal `v` into `out` (out_h ×
    /// out_w); `t` is scratch of m · w floats.
    #[inline(always)]
    fn apply(&self, v: &[R], t: &mut [R], out: &mut [f64]) {
        let (m, n, w) = (self.m, self.n, self.w);
        let t = &mut t[..m * w];
        for (row, tr) in v[..m * n].chunks_exact(n).zip(t.chunks_exact_mut(w)) {
            for (block, dst) in tr.chunks_exact_mut(LANES).enumerate() {
                let taps = self.kx.chunks_exact(w).map(|kq| &kq[block * LANES..][..LANES]);
                dst.copy_from_slice(&lane_sums(row.iter().copied().zip(taps)));
            }
        }
        for (orow, kp) in out.chunks_exact_mut(self.out_w).zip(self.ky.chunks_exact(m)) {
            for (block, dst) in orow.chunks_mut(LANES).enumerate() {
                let rows = t.chunks_exact(w).map(|ty| &ty[block * LANES..][..LANES]);
                let sums = lane_sums(kp.iter().copied().zip(rows));
                for (o, v) in dst.iter_mut().zip(sums) {
                    *o = f64::from(v);
                }
            }
        }
    }
}

/// Outputs per block of the spatial low-pass: one AVX2 register of f32.
const LANES: usize = 8;

/// Σ_i s_i · v_i over (scalar, vector of LANES) pairs, each lane summed in
/// the pairs' order, in a register.
#[inline(always)]
fn lane_sums<'a>(terms: impl Iterator<Item = (R, &'a [R])>) -> [R; LANES] {
    let mut acc = [0.0; LANES];
    for (s, v) in terms {
        for (a, x) in acc.iter_mut().zip(v) {
            *a += s * x;
        }
    }
    acc
}

/// g(t) = (1/N) Σ_c f(c) e^{2πi c t / N}, the inverse DFT of a real, even
/// factor of φ̂ (in f64), which is real: its imaginary part is dropped.
fn spatial_kernel(f: &[f64]) -> Vec<f64> {
    let len = f.len();
    (0..len)
        .map(|t| f.iter().enumerate().map(|(c, &v)| v * (2.0 * std::f64::consts::PI * ((c * t) % len) as f64 / len as f64).cos()).sum::<f64>() / len as f64)
        .collect()
}

/// (a, b) with φ̂[c₁, c₂] = a[c₁]·b[c₂] for the separable m × n `phi`
/// (row-major, largest at the origin): its first column and row over the
/// square root of its origin value.
fn separable_factors(phi: &[f64], m: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let root = phi[0].sqrt();
    ((0..m).map(|r| phi[r * n] / root).collect(), (0..n).map(|c| phi[c] / root).collect())
}

/// out = periodise(û ⊙ filter) from the filter's resolution to the one
/// `p` was made for, all in the transposed layout: the output entry of frequency (c₁ mod M',
/// c₂ mod N') is the mean of its k × k aliases, k = 2^(to − from)
/// (Kymatio's `subsample_fourier` after `cdgmm`). Only the filter's
/// non-negligible entries are visited.
#[inline(always)]
fn multiply_periodise(u: &[Cx], p: &Periodised, out: &mut [Cx]) {
    let out = &mut out[..p.len];
    out.iter_mut().for_each(|o| *o = Cx::new(0.0, 0.0));
    let (out, u) = (floats_mut(out), floats(u));
    for &(src, dst, len) in &p.segments {
        let (src, dst, len) = (2 * src as usize, 2 * dst as usize, 2 * len as usize);
        for ((o, x), f) in out[dst..dst + len].iter_mut().zip(&u[src..src + len]).zip(&p.values[src..src + len]) {
            *o += x * f;
        }
    }
}

/// The real and imaginary parts of complex values, in turn.
#[inline(always)]
fn floats<T>(z: &[Complex<T>]) -> &[T] {
    // SAFETY: Complex<T> is #[repr(C)] { re: T, im: T }, so a slice of n
    // of them is 2n contiguous, aligned Ts.
    unsafe { std::slice::from_raw_parts(z.as_ptr().cast(), 2 * z.len()) }
}

/// `floats`, writable.
#[inline(always)]
fn floats_mut<T>(z: &mut [Complex<T>]) -> &mut [T] {
    // SAFETY: as in `floats`; the borrow is exclusive.
    unsafe { std::slice::from_raw_parts_mut(z.as_mut_ptr().cast(), 2 * z.len()) }
}

#[cfg(test)]
mod tests {
    use super::super::filters::FilterBank;
    use super::*;

    /// The AVX2 build of the transform gives the baseline build's bits.
    #[test]
    fn the_avx2_build_gives_the_same_bits() {
        let mut rng = crate::rng::Rng::from_seed(5);
        for (size, big_j) in [(28, 2), (28, 3), (32, 2)] {
            let mut plan = Plan::new(size, size, big_j, 8, 2);
            if !plan.avx2 {
                return;
            }
            let x: Vec<f64> = (0..size * size).map(|_| rng.uniform()).collect();
            let mut ws = plan.workspace();
            let (mut wide, mut base) = (vec![0.0; plan.out_len()], vec![0.0; plan.out_len()]);
            plan.transform(&x, &mut wide, &mut ws);
            plan.avx2 = false;
            plan.transform(&x, &mut base, &mut ws);
            assert!(wide.iter().zip(&base).all(|(a, b)| a.to_bits() == b.to_bits()), "{size}, J = {big_j}");
            assert!(wide.iter().any(|v| *v != 0.0));
        }
    }

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
                // Even factors, so that φ is real (`spatial_kernel` drops its imaginary part).
                for f in [&a, &b] {
                    let odd = (1..f.len()).map(|c| (f[c] - f[f.len() - c]).abs()).fold(0.0, f64::max);
                    assert!(odd <= 1e-12 * f[0].abs(), "φ̂'s factor at resolution {r} of {size}, J = {big_j}: {odd} off even");
                }
                let v: Vec<R> = (0..m * n).map(|_| rng.uniform() as R).collect();
                let mut spectral = vec![0.0; plan.out_h * plan.out_w];
                let mut x = v.clone();
                let Workspace { u0, a, b, scratch, .. } = &mut ws;
                plan.ffts[r].forward_real(&mut x, u0, scratch);
                plan.low_pass(u0, r, a, b, scratch, &mut spectral);
                let mut spatial = vec![0.0; plan.out_h * plan.out_w];
                SpatialLowPass::new(phi, m, n, 1 << (big_j - r), plan.out_h, plan.out_w).apply(&v, floats_mut(a), &mut spatial);
                let scale = spectral.iter().fold(0f64, |x, v| x.max(v.abs()));
                let diff = spectral.iter().zip(&spatial).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
                assert!(scale > 0.1 && diff <= 1e-5 * scale, "resolution {r} of {size}, J = {big_j}: {diff} apart (scale {scale})");
            }
        }
    }
}
