//! Direct convolution kernels over lane-blocked batches.
//!
//! The autoencoders' convolutions are small (1 → 15 channels, 3 × 3 for
//! COIL-20): as im2col + GEMM the products are skinny (K = 9, N = 15) and
//! the copying costs more than the arithmetic. Here a batch is cut into
//! blocks of `LANES` images and stored as `[block][pixel][channel][lane]`,
//! so every multiply-add is the same filter weight applied to `LANES`
//! images at once: a vector operation whatever the stride, padding or
//! channel count, with no gather.
//!
//! Three kernels cover both layers, each over a SAME geometry `g` from the
//! big map (h_in × w_in × c_in) to the small one (h_out × w_out × c_small),
//! with the TF filter F[ky][kx][c_big][c_small]:
//! - [`gather`]: small = Σ F · big (+ bias): Conv2d forward, and the input
//!   gradient of ConvTranspose2d;
//! - [`scatter`]: big = Σ Fᵀ · small, its adjoint: Conv2d's input gradient,
//!   ConvTranspose2d forward;
//! - [`add_filter_grad`]: dF += Σ big ⊗ small over pixels and images.
//!
//! Determinism: blocks are independent and processed in parallel; within a
//! block every sum runs in a fixed order, and the filter gradient's
//! per-block partials are added in block order. Plain multiply then add is
//! used (no fused multiply-add), so the AVX2 path, chosen at run time, gives
//! the same bits as the baseline SSE2 one.

use crate::linalg::Real;
use crate::linalg::reduce::grouped_column_sums;
use crate::nn::conv_geom::ConvGeom;
use rayon::prelude::*;

/// Images per block: one AVX2 register of f32.
pub const LANES: usize = 8;

/// Number of blocks for n images.
pub fn blocks(n: usize) -> usize {
    n.div_ceil(LANES)
}

/// `[n][per]` (one image per row) → `[block][per][lane]`; lanes past n are 0.
pub fn to_lanes<T: Real>(x: &[T], n: usize, per: usize) -> Vec<T> {
    assert_eq!(x.len(), n * per, "to_lanes: {} values for {n} × {per}", x.len());
    let mut out = vec![T::ZERO; blocks(n) * per * LANES];
    if per == 0 {
        return out;
    }
    out.par_chunks_mut(per * LANES).zip(x.par_chunks(per * LANES)).for_each(|(blk, imgs)| {
        for (l, img) in imgs.chunks_exact(per).enumerate() {
            for (j, v) in img.iter().enumerate() {
                blk[j * LANES + l] = *v;
            }
        }
    });
    out
}

/// The inverse of [`to_lanes`] for the first n images.
pub fn from_lanes<T: Real>(xl: &[T], n: usize, per: usize) -> Vec<T> {
    assert_eq!(xl.len(), blocks(n) * per * LANES, "from_lanes: size");
    let mut out = vec![T::ZERO; n * per];
    if per == 0 {
        return out;
    }
    // One block at a time: each lane vector is read once and its values
    // written to LANES sequential streams.
    out.par_chunks_mut(per * LANES).zip(xl.par_chunks(per * LANES)).for_each(|(imgs, blk)| {
        let m = imgs.len() / per;
        for j in 0..per {
            let v = lane(blk, j);
            for l in 0..m {
                imgs[l * per + j] = v[l];
            }
        }
    });
    out
}

type Lane<T> = [T; LANES];

#[inline(always)]
fn lane<T>(s: &[T], i: usize) -> &Lane<T> {
    s[i * LANES..(i + 1) * LANES].try_into().unwrap()
}

#[inline(always)]
fn lane_mut<T>(s: &mut [T], i: usize) -> &mut Lane<T> {
    (&mut s[i * LANES..(i + 1) * LANES]).try_into().unwrap()
}

/// For every small pixel, its (tap, big pixel) pairs that fall inside the
/// map, tap = ky·kw + kx. The filter rows of a tap are j = tap·c_big + ci
/// of F read as a (kh·kw·c_big) × c_small matrix. Built once per call; the
/// kernels then never test bounds.
struct TapTable {
    start: Vec<usize>,
    taps: Vec<(usize, usize)>,
}

impl TapTable {
    fn new(g: &ConvGeom) -> Self {
        let mut start = Vec::with_capacity(g.p_out() + 1);
        let mut taps = Vec::new();
        for oy in 0..g.h_out {
            for ox in 0..g.w_out {
                start.push(taps.len());
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        if let Some((iy, ix)) = g.source(oy, ox, ky, kx) {
                            taps.push((ky * g.kw + kx, iy * g.w_in + ix));
                        }
                    }
                }
            }
        }
        start.push(taps.len());
        TapTable { start, taps }
    }
    #[inline(always)]
    fn of(&self, po: usize) -> &[(usize, usize)] {
        &self.taps[self.start[po]..self.start[po + 1]]
    }
}

/// Copy the receptive field of small pixel `po` into `patch` as
/// [filter row][lane], zeros where it reaches into the padding. Lane-sized
/// array copies: these are a few registers each, not library calls.
#[inline(always)]
fn load_patch<T: Real>(g: &ConvGeom, t: &TapTable, po: usize, big: &[T], patch: &mut [T]) {
    let c_big = g.c_in;
    let taps = t.of(po);
    if taps.len() < g.kh * g.kw {
        for j in 0..g.k() {
            *lane_mut(patch, j) = [T::ZERO; LANES];
        }
    }
    for &(tap, pi) in taps {
        for ci in 0..c_big {
            *lane_mut(patch, tap * c_big + ci) = *lane(big, pi * c_big + ci);
        }
    }
}

/// out[r] = init[r] + Σ_i m[r][i] · v[i] for the `rows` × `cols` matrix m
/// and lane vectors v, out (sums in i order). Rows go in groups of 8, 4, 2,
/// 1 so that each group's sums are independent chains the CPU overlaps; one
/// chain at a time would wait on every add's latency.
#[inline(always)]
fn matvec_lanes<T: Real>(m: &[T], rows: usize, cols: usize, v: &[T], init: impl Fn(usize) -> T, out: &mut [T]) {
    let mut r = 0;
    while r < rows {
        r += match rows - r {
            8.. => rows_group::<T, 8>(m, r, cols, v, &init, out),
            4..=7 => rows_group::<T, 4>(m, r, cols, v, &init, out),
            2 | 3 => rows_group::<T, 2>(m, r, cols, v, &init, out),
            _ => rows_group::<T, 1>(m, r, cols, v, &init, out),
        };
    }
}

#[inline(always)]
fn rows_group<T: Real, const N: usize>(m: &[T], r0: usize, cols: usize, v: &[T], init: &impl Fn(usize) -> T, out: &mut [T]) -> usize {
    let mut acc = [[T::ZERO; LANES]; N];
    for (g, a) in acc.iter_mut().enumerate() {
        *a = [init(r0 + g); LANES];
    }
    let mg = &m[r0 * cols..(r0 + N) * cols];
    for i in 0..cols {
        let x = *lane(v, i);
        // Fixed-size loops only, so the compiler keeps `acc` in registers.
        let w: [T; N] = std::array::from_fn(|g| mg[g * cols + i]);
        for g in 0..N {
            for l in 0..LANES {
                acc[g][l] += w[g] * x[l];
            }
        }
    }
    for (g, a) in acc.iter().enumerate() {
        *lane_mut(out, r0 + g) = *a;
    }
    N
}

/// `ft` is F transposed to [c_small][filter row].
#[inline(always)]
fn gather_block<T: Real>(g: &ConvGeom, t: &TapTable, ft: &[T], c_small: usize, bias: Option<&[T]>, big: &[T], small: &mut [T]) {
    let k = g.k();
    let mut patch = vec![T::ZERO; k * LANES];
    for po in 0..g.p_out() {
        load_patch(g, t, po, big, &mut patch);
        let out = &mut small[po * c_small * LANES..][..c_small * LANES];
        matvec_lanes(ft, c_small, k, &patch, |co| bias.map_or(T::ZERO, |b| b[co]), out);
    }
}

#[inline(always)]
fn scatter_block<T: Real>(g: &ConvGeom, t: &TapTable, f: &[T], c_small: usize, small: &[T], big: &mut [T]) {
    let c_big = g.c_in;
    let mut dpatch = vec![T::ZERO; g.k() * LANES];
    for po in 0..g.p_out() {
        let src = &small[po * c_small * LANES..][..c_small * LANES];
        matvec_lanes(f, g.k(), c_small, src, |_| T::ZERO, &mut dpatch);
        for &(tap, pi) in t.of(po) {
            for ci in 0..c_big {
                let d = lane_mut(big, pi * c_big + ci);
                let a = lane(&dpatch, tap * c_big + ci);
                for l in 0..LANES {
                    d[l] += a[l];
                }
            }
        }
    }
}

/// One block's filter gradient, per lane (`acc` is [filter row][c_small][lane]).
#[inline(always)]
fn filter_grad_block<T: Real>(g: &ConvGeom, t: &TapTable, c_small: usize, big: &[T], small: &[T], acc: &mut [T]) {
    let k = g.k();
    let mut patch = vec![T::ZERO; k * LANES];
    for po in 0..g.p_out() {
        load_patch(g, t, po, big, &mut patch);
        let s = &small[po * c_small * LANES..][..c_small * LANES];
        for j in 0..k {
            let v = *lane(&patch, j);
            let row = &mut acc[j * c_small * LANES..][..c_small * LANES];
            for co in 0..c_small {
                let a = lane_mut(row, co);
                let sv = lane(s, co);
                for l in 0..LANES {
                    a[l] += v[l] * sv[l];
                }
            }
        }
    }
}

/// Run `body` compiled for AVX2 when the CPU has it (`avx2`, detected once
/// per call by the caller), else as built. The kernels are all
/// `#[inline(always)]`, so they are compiled into whichever caller runs
/// them; the arithmetic is the same in both, only the register width differs.
#[inline(always)]
fn with_best_simd<R>(avx2: bool, body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if avx2 {
        #[target_feature(enable = "avx2")]
        fn on_avx2<R>(body: impl FnOnce() -> R) -> R {
            body()
        }
        // SAFETY: the caller detected AVX2 on this CPU.
        return unsafe { on_avx2(body) };
    }
    let _ = avx2;
    body()
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn check_sizes(g: &ConvGeom, f_len: usize, c_small: usize, big_len: usize, small_len: usize) -> usize {
    assert_eq!(f_len, g.k() * c_small, "conv kernel: filter size");
    let big_per = g.in_len() * LANES;
    let small_per = g.p_out() * c_small * LANES;
    assert!(big_per > 0 && small_per > 0, "conv kernel: empty map");
    assert_eq!(big_len % big_per, 0, "conv kernel: big map size");
    assert_eq!(big_len / big_per * small_per, small_len, "conv kernel: small map size");
    big_len / big_per
}

/// small = Σ F · big (+ bias), lane-blocked; returns the small map.
pub fn gather<T: Real>(g: &ConvGeom, f: &[T], c_small: usize, bias: Option<&[T]>, big: &[T]) -> Vec<T> {
    let nb = big.len() / (g.in_len() * LANES).max(1);
    let small_per = g.p_out() * c_small * LANES;
    let mut small = vec![T::ZERO; nb * small_per];
    check_sizes(g, f.len(), c_small, big.len(), small.len());
    let (t, k) = (TapTable::new(g), g.k());
    let ft: Vec<T> = (0..c_small * k).map(|i| f[(i % k) * c_small + i / k]).collect();
    let avx2 = has_avx2();
    small.par_chunks_mut(small_per).zip(big.par_chunks(g.in_len() * LANES)).for_each(|(s, b)| {
        with_best_simd(avx2, || gather_block(g, &t, &ft, c_small, bias, b, s));
    });
    small
}

/// big = Σ Fᵀ · small, lane-blocked (the adjoint of [`gather`] without bias).
pub fn scatter<T: Real>(g: &ConvGeom, f: &[T], c_small: usize, small: &[T]) -> Vec<T> {
    let small_per = g.p_out() * c_small * LANES;
    let nb = small.len() / small_per.max(1);
    let mut big = vec![T::ZERO; nb * g.in_len() * LANES];
    check_sizes(g, f.len(), c_small, big.len(), small.len());
    let t = TapTable::new(g);
    let avx2 = has_avx2();
    big.par_chunks_mut(g.in_len() * LANES).zip(small.par_chunks(small_per)).for_each(|(b, s)| {
        with_best_simd(avx2, || scatter_block(g, &t, f, c_small, s, b));
    });
    big
}

/// grad += Σ_{pixels, images} big ⊗ small, in the filter's layout.
pub fn add_filter_grad<T: Real>(g: &ConvGeom, c_small: usize, big: &[T], small: &[T], grad: &mut [T]) {
    check_sizes(g, grad.len(), c_small, big.len(), small.len());
    let small_per = g.p_out() * c_small * LANES;
    let t = TapTable::new(g);
    let avx2 = has_avx2();
    let partials: Vec<Vec<T>> = big
        .par_chunks(g.in_len() * LANES)
        .zip(small.par_chunks(small_per))
        .map(|(b, s)| {
            let mut acc = vec![T::ZERO; grad.len() * LANES];
            with_best_simd(avx2, || filter_grad_block(g, &t, c_small, b, s, &mut acc));
            acc
        })
        .collect();
    for acc in &partials {
        for (gv, lanes) in grad.iter_mut().zip(acc.chunks_exact(LANES)) {
            let mut s = T::ZERO;
            for &v in lanes {
                s += v;
            }
            *gv += s;
        }
    }
}

/// y[..][c][lane] += bias[c] over a lane-blocked map with `bias.len()`
/// channels per pixel (padding lanes too; they are never read back).
pub fn add_bias<T: Real>(y: &mut [T], bias: &[T]) {
    let c = bias.len();
    y.par_chunks_mut(c * LANES * 64).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(c * LANES) {
            for (ch, &b) in bias.iter().enumerate() {
                lane_mut(px, ch).iter_mut().for_each(|v| *v += b);
            }
        }
    });
}

/// grad[c] += Σ over pixels and lanes of a lane-blocked gradient with c
/// channels per pixel: the crate's deterministic column sums, each
/// channel's LANES columns totalled together in f64.
pub fn add_bias_grad<T: Real>(dyl: &[T], c: usize, grad: &mut [T]) {
    assert_eq!(grad.len(), c);
    let rows = dyl.len() / (c * LANES).max(1);
    for (g, t) in grad.iter_mut().zip(grouped_column_sums(dyl, rows, c * LANES, LANES)) {
        *g += T::from_f64(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn randv(n: usize, r: &mut Rng) -> Vec<f64> {
        (0..n).map(|_| r.normal()).collect()
    }

    #[test]
    fn lanes_round_trip_with_a_partial_block() {
        for per in [5, 19] {
            let x: Vec<f64> = (0..11 * per).map(|i| i as f64).collect();
            let xl = to_lanes(&x, 11, per);
            assert_eq!(xl.len(), 2 * per * LANES);
            assert_eq!(xl[LANES + 1], x[per + 1], "image 1, value 1");
            assert_eq!(xl[(per + 2) * LANES + 2], x[(LANES + 2) * per + 2], "image 10, value 2");
            assert!(xl[per * LANES..].chunks(LANES).all(|c| c[3..].iter().all(|v| *v == 0.0)), "padding lanes are zero");
            assert_eq!(from_lanes(&xl, 11, per), x);
        }
    }

    /// <gather(u), v> = <u, scatter(v)> and <gather(u), v> = <F, dF(u, v)>:
    /// the three kernels are one bilinear form read three ways.
    #[test]
    fn kernels_are_one_bilinear_form() {
        let mut r = Rng::stream(0, "lanes");
        for &(h, w, cb, cs, k) in &[(8, 8, 1, 3, 3), (21, 11, 2, 3, 3), (12, 11, 3, 2, 5)] {
            let g = ConvGeom::same(h, w, cb, k, k, 2);
            let n = 2 * LANES;
            let f = randv(g.k() * cs, &mut r);
            let u = randv(n * g.in_len(), &mut r);
            let v = randv(n * g.p_out() * cs, &mut r);
            let gu = gather(&g, &f, cs, None, &u);
            let sv = scatter(&g, &f, cs, &v);
            let mut df = vec![0.0; f.len()];
            add_filter_grad(&g, cs, &u, &v, &mut df);
            let a: f64 = gu.iter().zip(&v).map(|(x, y)| x * y).sum();
            let b: f64 = u.iter().zip(&sv).map(|(x, y)| x * y).sum();
            let c: f64 = f.iter().zip(&df).map(|(x, y)| x * y).sum();
            assert!((a - b).abs() < 1e-9 * (1.0 + a.abs()), "{a} vs {b}");
            assert!((a - c).abs() < 1e-9 * (1.0 + a.abs()), "{a} vs {c}");
        }
    }

    /// The run-time AVX2 path and the baseline build of the same bodies
    /// give the same bits (plain multiply and add in the same order), so the
    /// results do not depend on which one the CPU gets.
    #[test]
    fn avx2_path_matches_the_baseline_bit_for_bit() {
        let mut r = Rng::stream(1, "lanes-bits");
        let g = ConvGeom::same(21, 11, 2, 3, 3, 2);
        let cs = 15;
        let f: Vec<f32> = (0..g.k() * cs).map(|_| r.normal() as f32).collect();
        let bias: Vec<f32> = (0..cs).map(|_| r.normal() as f32).collect();
        let big: Vec<f32> = (0..g.in_len() * LANES).map(|_| r.normal() as f32).collect();
        let small: Vec<f32> = (0..g.p_out() * cs * LANES).map(|_| r.normal() as f32).collect();
        let t = TapTable::new(&g);
        let k = g.k();
        let ft: Vec<f32> = (0..cs * k).map(|i| f[(i % k) * cs + i / k]).collect();

        let mut want = vec![0.0f32; small.len()];
        gather_block(&g, &t, &ft, cs, Some(&bias), &big, &mut want);
        let got = gather(&g, &f, cs, Some(&bias), &big);
        assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "gather");

        let mut want = vec![0.0f32; big.len()];
        scatter_block(&g, &t, &f, cs, &small, &mut want);
        let got = scatter(&g, &f, cs, &small);
        assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "scatter");

        let mut acc = vec![0.0f32; f.len() * LANES];
        filter_grad_block(&g, &t, cs, &big, &small, &mut acc);
        let want: Vec<f32> = acc.chunks(LANES).map(|c| c.iter().fold(0.0f32, |s, v| s + v)).collect();
        let mut got = vec![0.0f32; f.len()];
        add_filter_grad(&g, cs, &big, &small, &mut got);
        assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "filter gradient");
    }
}
