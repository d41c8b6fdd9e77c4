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
//! with the TF filter F[ky][kx][c_big][c_small]. A [`LaneConv`] holds one
//! geometry and filter, and runs each kernel on one block (`*_block`, for
//! callers that split the work themselves, as the fused reconstruction
//! step does) or on a whole batch in parallel:
//! - gather: small = Σ F · big (+ bias): Conv2d forward, and the input
//!   gradient of ConvTranspose2d;
//! - scatter: big = Σ Fᵀ · small, its adjoint: Conv2d's input gradient,
//!   ConvTranspose2d forward;
//! - filter gradient: dF += Σ big ⊗ small over pixels and images.
//!
//! Determinism: blocks are independent and processed in parallel; within a
//! block every sum runs in a fixed order, and the filter gradient's
//! per-block partials are added in block order. Plain multiply then add is
//! used (no fused multiply-add), so the AVX2 path, chosen at run time, gives
//! the same bits as the baseline SSE2 one.

use crate::linalg::Real;
use crate::linalg::reduce::grouped_column_sums;
use crate::linalg::simd::{has_avx2, with_best_simd};
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
    lanes_of(n, per, |i| &x[i * per..][..per])
}

/// Rows `rows` of x (`[..][per]`), in that order, as lane blocks: a
/// mini-batch straight from the dataset, without copying it out first.
pub fn rows_to_lanes<T: Real>(x: &[T], per: usize, rows: &[usize]) -> Vec<T> {
    lanes_of(rows.len(), per, |i| &x[rows[i] * per..][..per])
}

/// The n images `image(i)` of `per` values each, lane-blocked.
fn lanes_of<'a, T: Real>(n: usize, per: usize, image: impl Fn(usize) -> &'a [T] + Sync) -> Vec<T> {
    let mut out = vec![T::ZERO; blocks(n) * per * LANES];
    if per == 0 {
        return out;
    }
    out.par_chunks_mut(per * LANES).enumerate().for_each(|(b, blk)| {
        let m = LANES.min(n - b * LANES);
        if m < LANES {
            for l in 0..m {
                for (j, v) in image(b * LANES + l).iter().enumerate() {
                    blk[j * LANES + l] = *v;
                }
            }
            return;
        }
        // A full block: each lane vector written once, from the block's
        // eight images read side by side.
        let imgs: [&[T]; LANES] = std::array::from_fn(|l| image(b * LANES + l));
        for (j, dst) in blk.chunks_exact_mut(LANES).enumerate() {
            let v: Lane<T> = std::array::from_fn(|l| imgs[l][j]);
            dst.copy_from_slice(&v);
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

/// Where each kernel reads, worked out once per geometry (a layer keeps
/// its table, so the kernels neither test bounds nor multiply indices per
/// value):
/// - `taps`: for every small pixel, its (tap, big pixel) pairs that fall
///   inside the map, tap = ky·kw + kx (scatter's and the patch copy's list);
/// - `rows`: for every small pixel whose whole receptive field is inside the
///   map (`full`), the big-map lane of each filter row j = tap·c_big + ci,
///   so gather reads its inputs in place instead of copying a patch;
/// - `runs`: for each filter row j, the small pixels whose input for that
///   row is inside the map, as runs along the small map's rows: the filter
///   gradient's walk. The pixels it leaves out would add 0 · s = ±0, which
///   changes no bit of a sum unless the sum is −0, and a sum started at +0
///   never is (for finite s; a test checks the bits against the padded
///   definition).
#[derive(Clone, Debug)]
pub struct TapTable {
    start: Vec<usize>,
    taps: Vec<(usize, usize)>,
    full: Vec<bool>,
    rows: Vec<usize>,
    run_start: Vec<usize>,
    runs: Vec<Run>,
}

/// `count` small pixels in a row of the small map, from the one whose first
/// lane is `small` (pixel · c_small), whose inputs are big-map lanes `big`,
/// `big + step`, … .
#[derive(Clone, Copy, Debug)]
struct Run {
    small: usize,
    big: usize,
    count: usize,
    step: usize,
}

impl TapTable {
    /// The table of geometry `g` with `c_small` channels in the small map.
    pub fn new(g: &ConvGeom, c_small: usize) -> Self {
        let (k, c_big) = (g.k(), g.c_in);
        let mut start = Vec::with_capacity(g.p_out() + 1);
        let mut taps = Vec::new();
        let mut full = Vec::with_capacity(g.p_out());
        let mut rows = vec![0; g.p_out() * k];
        for oy in 0..g.h_out {
            for ox in 0..g.w_out {
                let po = oy * g.w_out + ox;
                start.push(taps.len());
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        if let Some((iy, ix)) = g.source(oy, ox, ky, kx) {
                            let (tap, pi) = (ky * g.kw + kx, iy * g.w_in + ix);
                            taps.push((tap, pi));
                            for ci in 0..c_big {
                                rows[po * k + tap * c_big + ci] = pi * c_big + ci;
                            }
                        }
                    }
                }
                full.push(taps.len() - start[po] == g.kh * g.kw);
            }
        }
        start.push(taps.len());
        // A tap's input column ix = ox·stride + kx − pad moves by `stride`
        // per small pixel, so its in-map pixels in a row are one range.
        let mut run_start = Vec::with_capacity(k + 1);
        let mut runs = Vec::new();
        for j in 0..k {
            let (tap, ci) = (j / c_big, j % c_big);
            let (ky, kx) = (tap / g.kw, tap % g.kw);
            run_start.push(runs.len());
            for oy in 0..g.h_out {
                let inside: Vec<(usize, usize)> = (0..g.w_out).filter_map(|ox| g.source(oy, ox, ky, kx).map(|(iy, ix)| (ox, iy * g.w_in + ix))).collect();
                if let (Some(&(ox0, pi0)), Some(&(ox1, _))) = (inside.first(), inside.last()) {
                    assert_eq!(ox1 + 1 - ox0, inside.len(), "tap table: a tap's pixels in a row are one range");
                    runs.push(Run { small: (oy * g.w_out + ox0) * c_small, big: pi0 * c_big + ci, count: inside.len(), step: g.stride * c_big });
                }
            }
        }
        run_start.push(runs.len());
        TapTable { start, taps, full, rows, run_start, runs }
    }
    #[inline(always)]
    fn of(&self, po: usize) -> &[(usize, usize)] {
        &self.taps[self.start[po]..self.start[po + 1]]
    }
    /// The big-map lanes of small pixel `po`'s filter rows, if its field
    /// is wholly inside the map.
    #[inline(always)]
    fn rows_of(&self, po: usize, k: usize) -> Option<&[usize]> {
        self.full[po].then(|| &self.rows[po * k..][..k])
    }
    #[inline(always)]
    fn runs_of_row(&self, j: usize) -> &[Run] {
        &self.runs[self.run_start[j]..self.run_start[j + 1]]
    }
}

/// A layer's [`TapTable`], built on first use and then kept: a layer's
/// geometry never changes, and building the table every step cost about
/// 3 % of COIL-20 pretraining.
#[derive(Clone, Debug, Default)]
pub struct TapCache(std::sync::OnceLock<TapTable>);

impl TapCache {
    pub fn get(&self, g: &ConvGeom, c_small: usize) -> &TapTable {
        self.0.get_or_init(|| TapTable::new(g, c_small))
    }
}

/// Copy the receptive field of small pixel `po` into `patch` as
/// [filter row][lane], zeros where it reaches into the padding. Lane-sized
/// array copies: these are a few registers each, not library calls.
#[inline(always)]
fn load_patch<T: Real>(g: &ConvGeom, t: &TapTable, po: usize, big: &[T], patch: &mut [T]) {
    let c_big = g.c_in;
    // Only edge pixels come here (gather reads full fields in place), so
    // some of the patch is always padding.
    for j in 0..g.k() {
        *lane_mut(patch, j) = [T::ZERO; LANES];
    }
    for &(tap, pi) in t.of(po) {
        for ci in 0..c_big {
            // A slice copy: the compiler moves it as one vector (an array
            // assignment through `lane` became eight scalar moves).
            let (j, i) = (tap * c_big + ci, pi * c_big + ci);
            patch[j * LANES..(j + 1) * LANES].copy_from_slice(&big[i * LANES..(i + 1) * LANES]);
        }
    }
}

/// a + w · x lane by lane (a multiply, then an add: never fused, so every
/// instruction set gives the same bits).
#[inline(always)]
fn lanes_mul_add<T: Real>(a: Lane<T>, w: Lane<T>, x: Lane<T>) -> Lane<T> {
    std::array::from_fn(|l| a[l] + w[l] * x[l])
}

/// A rows × cols matrix laid out for [`matvec_lanes`]: its rows cut into
/// [`row_groups`], each group stored column by column, so the kernel walks
/// it in order with no index arithmetic.
struct GroupedMatrix<T> {
    cols: usize,
    /// [`row_groups`] of the rows, computed once (the kernels would
    /// otherwise divide at every pixel).
    groups: Vec<(usize, usize)>,
    data: Vec<T>,
}

/// The most rows (or output channels) whose sums a kernel keeps in
/// registers at once: 12 accumulators, the input vector and a product fit
/// in the 16 vector registers of AVX2.
const MAX_GROUP: usize = 12;

/// `rows` cut into as few groups of at most [`MAX_GROUP`] as possible, of
/// near-equal sizes (15 → 8 + 7, not 12 + 3): (first row, size) of each.
/// Each group's sums are independent chains the CPU overlaps, and the
/// fewer the groups, the fewer times the input is read.
fn row_groups(rows: usize) -> impl Iterator<Item = (usize, usize)> {
    let groups = rows.div_ceil(MAX_GROUP);
    (0..groups).map(move |i| {
        let (base, extra) = (rows / groups, rows % groups);
        (i * base + i.min(extra), base + usize::from(i < extra))
    })
}

/// `$f::<$t, N>($args)` with the const N equal to the run-time `$n`
/// (1 ..= [`MAX_GROUP`]).
macro_rules! with_group_size {
    ($n:expr, $f:ident::<$t:ty>($($arg:expr),* $(,)?)) => {
        match $n {
            1 => $f::<$t, 1>($($arg),*),
            2 => $f::<$t, 2>($($arg),*),
            3 => $f::<$t, 3>($($arg),*),
            4 => $f::<$t, 4>($($arg),*),
            5 => $f::<$t, 5>($($arg),*),
            6 => $f::<$t, 6>($($arg),*),
            7 => $f::<$t, 7>($($arg),*),
            8 => $f::<$t, 8>($($arg),*),
            9 => $f::<$t, 9>($($arg),*),
            10 => $f::<$t, 10>($($arg),*),
            11 => $f::<$t, 11>($($arg),*),
            _ => $f::<$t, 12>($($arg),*),
        }
    };
}

impl<T: Real> GroupedMatrix<T> {
    /// From `m(r, c)`, the matrix's values.
    fn new(rows: usize, cols: usize, m: impl Fn(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(rows * cols);
        let groups: Vec<(usize, usize)> = row_groups(rows).collect();
        for &(r0, n) in &groups {
            for c in 0..cols {
                data.extend((r0..r0 + n).map(|r| m(r, c)));
            }
        }
        GroupedMatrix { cols, groups, data }
    }
}

/// out[r] = finish(r, init[r] + Σ_i m[r][i] · v[i]) for the lane vectors v
/// and out (each sum in i order).
#[inline(always)]
fn matvec_lanes<T: Real>(m: &GroupedMatrix<T>, v: &[T], init: impl Fn(usize) -> T, finish: impl Fn(usize, Lane<T>) -> Lane<T>, out: &mut [T]) {
    let v = &v[..m.cols * LANES];
    matvec_lanes_from(
        m,
        #[inline(always)]
        || {
            v.chunks_exact(LANES).map(
                #[inline(always)]
                |x| x.try_into().unwrap(),
            )
        },
        init,
        finish,
        out,
    )
}

/// [`matvec_lanes`] with v[i] read where `v()` says: a fresh iterator over
/// the `m.cols` lane vectors for each group of rows (gather reads a
/// pixel's inputs in place this way).
#[inline(always)]
fn matvec_lanes_from<'v, T: Real + 'v, I: Iterator<Item = &'v Lane<T>>>(
    m: &GroupedMatrix<T>,
    v: impl Fn() -> I,
    init: impl Fn(usize) -> T,
    finish: impl Fn(usize, Lane<T>) -> Lane<T>,
    out: &mut [T],
) {
    for &(r0, n) in &m.groups {
        let block = &m.data[r0 * m.cols..(r0 + n) * m.cols];
        with_group_size!(n, rows_group::<T>(block, r0, v(), &init, &finish, out));
    }
}

#[inline(always)]
fn rows_group<'v, T: Real + 'v, const N: usize>(
    block: &[T],
    r0: usize,
    v: impl Iterator<Item = &'v Lane<T>>,
    init: &impl Fn(usize) -> T,
    finish: &impl Fn(usize, Lane<T>) -> Lane<T>,
    out: &mut [T],
) {
    let mut acc: [Lane<T>; N] = std::array::from_fn(|g| [init(r0 + g); LANES]);
    for (w, x) in block.chunks_exact(N).zip(v) {
        // Fixed-size loops only, so the compiler keeps `acc` in registers;
        // each weight broadcast to a whole lane vector first, so every
        // operation is lane by lane (else the vectoriser may run across
        // the rows and shuffle).
        for g in 0..N {
            acc[g] = lanes_mul_add(acc[g], [w[g]; LANES], *x);
        }
    }
    for (g, a) in acc.iter().enumerate() {
        *lane_mut(out, r0 + g) = finish(r0 + g, *a);
    }
}

/// What [`LaneConv::gather_block`] does to each value before storing it:
/// the ReLU of a forward pass, or the ReLU mask of a backward pass (keep
/// the value where the given ReLU output, laid out as the result, is
/// positive). Fused into the kernel's store, so the map is not read and
/// written a second time.
#[derive(Clone, Copy)]
pub enum GatherOut<'a, T> {
    Plain,
    Relu,
    MaskedBy(&'a [T]),
}

/// max(a, 0) lane by lane, as `if a > 0 { a } else { 0 }` (NaN and −0 go
/// to +0), in registers.
#[inline(always)]
fn relu_lane<T: Real>(a: Lane<T>) -> Lane<T> {
    std::array::from_fn(|l| if a[l] > T::ZERO { a[l] } else { T::ZERO })
}

/// a where y > 0, else 0, lane by lane.
#[inline(always)]
fn mask_lane<T: Real>(a: Lane<T>, y: &Lane<T>) -> Lane<T> {
    std::array::from_fn(|l| if y[l] > T::ZERO { a[l] } else { T::ZERO })
}

/// acc[co0 + g] += Σ big[bi] · small[sp][co0 + g] for g < N over the
/// (small pixel sp, big lane bi) pairs of one filter row's runs, in order,
/// the N accumulators in registers for the whole walk.
#[inline(always)]
fn outer_group<T: Real, const N: usize>(runs: &[Run], big: &[T], small: &[T], c_small: usize, co0: usize, acc: &mut [T]) {
    let mut a: [Lane<T>; N] = std::array::from_fn(|g| *lane(acc, co0 + g));
    for r in runs {
        // Whole small pixels, so the channel range's check is the same for
        // every pixel (the compiler hoists it) and the lanes need none.
        let smalls = small[r.small * LANES..][..r.count * c_small * LANES].chunks_exact(c_small * LANES);
        let bigs = &big[r.big * LANES..][..((r.count - 1) * r.step + 1) * LANES];
        for (t, s) in smalls.enumerate() {
            let v = *lane(bigs, t * r.step);
            let s = &s[co0 * LANES..(co0 + N) * LANES];
            for g in 0..N {
                a[g] = lanes_mul_add(a[g], v, *lane(s, g));
            }
        }
    }
    for (g, v) in a.iter().enumerate() {
        *lane_mut(acc, co0 + g) = *v;
    }
}

/// One convolution — a SAME geometry from the big map to the small one and
/// its filter F ([filter row][c_small]) — ready for the kernels on single
/// lane blocks: the tap table, F in both orders, the instruction set.
pub struct LaneConv<'a, T> {
    g: &'a ConvGeom,
    c_small: usize,
    /// F (scatter's matrix) and Fᵀ (gather's), grouped for the kernels.
    f_grouped: GroupedMatrix<T>,
    ft_grouped: GroupedMatrix<T>,
    taps: &'a TapTable,
    avx2: bool,
}

impl<'a, T: Real> LaneConv<'a, T> {
    /// `taps` is `TapTable::new(g, c_small)`, usually a layer's [`TapCache`].
    pub fn new(g: &'a ConvGeom, taps: &'a TapTable, f: &'a [T], c_small: usize) -> Self {
        let k = g.k();
        assert_eq!(f.len(), k * c_small, "conv kernel: filter size");
        assert!(g.in_len() > 0 && g.p_out() * c_small > 0, "conv kernel: empty map");
        assert!(taps.full.len() == g.p_out() && taps.run_start.len() == k + 1, "conv kernel: tap table of another geometry");
        let f_grouped = GroupedMatrix::new(k, c_small, |j, co| f[j * c_small + co]);
        let ft_grouped = GroupedMatrix::new(c_small, k, |co, j| f[j * c_small + co]);
        LaneConv { g, c_small, f_grouped, ft_grouped, taps, avx2: has_avx2() }
    }

    /// Values in one block of the big map.
    pub fn big_len(&self) -> usize {
        self.g.in_len() * LANES
    }

    /// Values in one block of the small map.
    pub fn small_len(&self) -> usize {
        self.g.p_out() * self.c_small * LANES
    }

    /// Values in the filter gradient's per-lane accumulator.
    pub fn grad_len(&self) -> usize {
        self.g.k() * self.c_small * LANES
    }

    /// Blocks in a big map of `big` values and a small map of `small`.
    fn blocks_of(&self, big: usize, small: usize) -> usize {
        assert_eq!(big % self.big_len(), 0, "conv kernel: big map size");
        assert_eq!(big / self.big_len() * self.small_len(), small, "conv kernel: small map size");
        big / self.big_len()
    }

    /// small = out(Σ F · big (+ bias)) over one block; every value of
    /// `small` is written.
    pub fn gather_block(&self, bias: Option<&[T]>, big: &[T], small: &mut [T], out: GatherOut<'_, T>) {
        let (g, t, k, cs) = (self.g, self.taps, self.g.k(), self.c_small);
        with_best_simd(
            self.avx2,
            #[inline(always)]
            || {
                let mut patch = vec![T::ZERO; k * LANES];
                for po in 0..g.p_out() {
                    let res = &mut small[po * cs * LANES..][..cs * LANES];
                    // Inputs read in place where the field is inside the map;
                    // copied into a zero-padded patch at the edges.
                    let rows = t.rows_of(po, k);
                    if rows.is_none() {
                        load_patch(g, t, po, big, &mut patch);
                    }
                    let patch = &patch[..];
                    macro_rules! run {
                        ($finish:expr) => {
                            match rows {
                                Some(rows) => matvec_lanes_from(
                                    &self.ft_grouped,
                                    #[inline(always)]
                                    || {
                                        rows.iter().map(
                                            #[inline(always)]
                                            |&i| lane(big, i),
                                        )
                                    },
                                    #[inline(always)]
                                    |co| bias.map_or(T::ZERO, |b| b[co]),
                                    $finish,
                                    res,
                                ),
                                None => matvec_lanes(
                                    &self.ft_grouped,
                                    patch,
                                    #[inline(always)]
                                    |co| bias.map_or(T::ZERO, |b| b[co]),
                                    $finish,
                                    res,
                                ),
                            }
                        };
                    }
                    match out {
                        GatherOut::Plain => run!(
                            #[inline(always)]
                            |_, a| a
                        ),
                        GatherOut::Relu => run!(
                            #[inline(always)]
                            |_, a| relu_lane(a)
                        ),
                        GatherOut::MaskedBy(y) => {
                            let y = &y[po * cs * LANES..][..cs * LANES];
                            run!(
                                #[inline(always)]
                                |co, a| mask_lane(a, lane(y, co))
                            )
                        }
                    }
                }
            },
        )
    }

    /// big += Σ Fᵀ · small over one block.
    pub fn scatter_block(&self, small: &[T], big: &mut [T]) {
        let (g, t, k, cs) = (self.g, self.taps, self.g.k(), self.c_small);
        let c_big = g.c_in;
        with_best_simd(
            self.avx2,
            #[inline(always)]
            || {
                let mut dpatch = vec![T::ZERO; k * LANES];
                for po in 0..g.p_out() {
                    let src = &small[po * cs * LANES..][..cs * LANES];
                    matvec_lanes(&self.f_grouped, src, |_| T::ZERO, |_, a| a, &mut dpatch);
                    for &(tap, pi) in t.of(po) {
                        for ci in 0..c_big {
                            // Whole lane vectors in and out: element-wise `+=`
                            // through the slices compiled to scalar adds.
                            let a = *lane(&dpatch, tap * c_big + ci);
                            let d = lane_mut(big, pi * c_big + ci);
                            *d = std::array::from_fn(|l| d[l] + a[l]);
                        }
                    }
                }
            },
        )
    }

    /// acc[j][co][lane] += Σ_po patch[po][j] · small[po][co] over one block
    /// (`acc` has [`Self::grad_len`] values), each sum in pixel order. The
    /// patch values are read straight from the big map through the tap
    /// table, so a group of output channels' accumulators stays in
    /// registers for the whole run over the pixels.
    pub fn filter_grad_block(&self, big: &[T], small: &[T], acc: &mut [T]) {
        let (g, cs) = (self.g, self.c_small);
        with_best_simd(
            self.avx2,
            #[inline(always)]
            || {
                // Output channels in the groups Fᵀ's rows already have.
                let groups = &self.ft_grouped.groups;
                for j in 0..g.k() {
                    let runs = self.taps.runs_of_row(j);
                    let out = &mut acc[j * cs * LANES..][..cs * LANES];
                    for &(co, n) in groups {
                        with_group_size!(n, outer_group::<T>(runs, big, small, cs, co, out));
                    }
                }
            },
        )
    }
}

impl<T: Real> LaneConv<'_, T> {
    /// small = Σ F · big (+ bias) for a whole lane-blocked batch.
    pub fn gather(&self, bias: Option<&[T]>, big: &[T]) -> Vec<T> {
        let mut small = vec![T::ZERO; big.len() / self.big_len() * self.small_len()];
        self.blocks_of(big.len(), small.len());
        small.par_chunks_mut(self.small_len()).zip(big.par_chunks(self.big_len())).for_each(|(s, b)| self.gather_block(bias, b, s, GatherOut::Plain));
        small
    }

    /// big = Σ Fᵀ · small for a whole lane-blocked batch (the adjoint of
    /// [`Self::gather`] without bias).
    pub fn scatter(&self, small: &[T]) -> Vec<T> {
        let mut big = vec![T::ZERO; small.len() / self.small_len() * self.big_len()];
        self.blocks_of(big.len(), small.len());
        big.par_chunks_mut(self.big_len()).zip(small.par_chunks(self.small_len())).for_each(|(b, s)| self.scatter_block(s, b));
        big
    }

    /// grad += Σ_{pixels, images} big ⊗ small in the filter's layout, for a
    /// whole batch: one per-lane partial per block, added in block order.
    pub fn add_filter_grad(&self, big: &[T], small: &[T], grad: &mut [T]) {
        self.blocks_of(big.len(), small.len());
        let partials: Vec<Vec<T>> = big
            .par_chunks(self.big_len())
            .zip(small.par_chunks(self.small_len()))
            .map(|(b, s)| {
                let mut acc = vec![T::ZERO; self.grad_len()];
                self.filter_grad_block(b, s, &mut acc);
                acc
            })
            .collect();
        for acc in &partials {
            add_lane_sums(acc, grad);
        }
    }
}

/// grad += Σ_lanes acc, for a per-lane accumulator `acc` ([value][lane]).
pub fn add_lane_sums<T: Real>(acc: &[T], grad: &mut [T]) {
    assert_eq!(acc.len(), grad.len() * LANES, "lane sums: size");
    for (gv, lanes) in grad.iter_mut().zip(acc.chunks_exact(LANES)) {
        let mut s = T::ZERO;
        for &v in lanes {
            s += v;
        }
        *gv += s;
    }
}

/// y[..][c][lane] += bias[c] over a lane-blocked map with `bias.len()`
/// channels per pixel (padding lanes too; they are never read back).
pub fn add_bias<T: Real>(y: &mut [T], bias: &[T]) {
    y.par_chunks_mut(bias.len() * LANES * 64).for_each(|chunk| add_bias_block(chunk, bias, false));
}

/// [`add_bias`] on one block (or any whole number of pixels), then the
/// ReLU when `relu`, in the same pass.
#[inline(always)]
pub fn add_bias_block<T: Real>(y: &mut [T], bias: &[T], relu: bool) {
    let c = bias.len();
    for px in y.chunks_exact_mut(c * LANES) {
        for (ch, &b) in bias.iter().enumerate() {
            let v = lane_mut(px, ch);
            let a: Lane<T> = std::array::from_fn(|l| v[l] + b);
            *v = if relu { relu_lane(a) } else { a };
        }
    }
}

/// dst ← src where y > 0, else 0 (the ReLU mask of y). Out of place on
/// purpose: done in place, the compiler turns the zeroing into masked
/// stores, which are slow on some CPUs (AMD's are microcoded).
#[inline(always)]
pub fn mask_into<T: Real>(src: &[T], y: &[T], dst: &mut [T]) {
    assert!(src.len() == y.len() && dst.len() == y.len(), "ReLU mask: sizes");
    for ((d, s), yv) in dst.chunks_exact_mut(LANES).zip(src.chunks_exact(LANES)).zip(y.chunks_exact(LANES)) {
        d.copy_from_slice(&mask_lane(s.try_into().unwrap(), yv.try_into().unwrap()));
    }
}

/// acc[c][lane] += Σ over pixels of a lane-blocked gradient with c
/// channels per pixel (one block, or any whole number of pixels), in pixel
/// order: the bias gradient's per-lane partial.
pub fn add_bias_grad_block<T: Real>(dy: &[T], c: usize, acc: &mut [T]) {
    assert_eq!(acc.len(), c * LANES, "bias gradient: accumulator size");
    // One channel at a time with its sum in a register (with one output
    // channel, a pixel-major loop compiled to a 4-wide loop that stored
    // and reloaded the sum at every pixel).
    for (ch, a) in acc.chunks_exact_mut(LANES).enumerate() {
        let mut s: Lane<T> = *lane(a, 0);
        for px in dy.chunks_exact(c * LANES) {
            let v = lane(px, ch);
            s = std::array::from_fn(|l| s[l] + v[l]);
        }
        a.copy_from_slice(&s);
    }
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
            let taps = TapTable::new(&g, cs);
            let conv = LaneConv::new(&g, &taps, &f, cs);
            let gu = conv.gather(None, &u);
            let sv = conv.scatter(&v);
            let mut df = vec![0.0; f.len()];
            conv.add_filter_grad(&u, &v, &mut df);
            let a: f64 = gu.iter().zip(&v).map(|(x, y)| x * y).sum();
            let b: f64 = u.iter().zip(&sv).map(|(x, y)| x * y).sum();
            let c: f64 = f.iter().zip(&df).map(|(x, y)| x * y).sum();
            assert!((a - b).abs() < 1e-9 * (1.0 + a.abs()), "{a} vs {b}");
            assert!((a - c).abs() < 1e-9 * (1.0 + a.abs()), "{a} vs {c}");
        }
    }

    /// Random f32 filter, bias, one block of the big map and one of the
    /// small map for geometry `g` with `cs` small channels.
    #[allow(clippy::type_complexity)]
    fn random_conv_inputs(g: &ConvGeom, cs: usize, r: &mut Rng) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
        let mut v = |len: usize| -> Vec<f32> { (0..len).map(|_| r.normal() as f32).collect() };
        (v(g.k() * cs), v(cs), v(g.in_len() * LANES), v(g.p_out() * cs * LANES))
    }

    /// The kernels read through the tap table (in place in the interior,
    /// runs of in-map pixels for the filter gradient) and give the bits of
    /// the definition summed in the same order over a zero-padded patch:
    /// gather Σ_j F[j][co]·patch[j] in j order, the filter gradient
    /// Σ_po patch[po][j]·small[po][co] in pixel order, zeros included.
    #[test]
    fn table_walks_give_the_bits_of_the_padded_definition() {
        let mut r = Rng::stream(2, "lanes-table");
        for &(h, w, cb, cs, k, stride) in &[(32, 32, 1, 15, 3, 2), (12, 11, 3, 4, 5, 2), (9, 7, 2, 3, 3, 1)] {
            let g = ConvGeom::same(h, w, cb, k, k, stride);
            let (f, bias, big, small) = random_conv_inputs(&g, cs, &mut r);
            let taps = TapTable::new(&g, cs);
            let conv = LaneConv::new(&g, &taps, &f, cs);
            // patch[po][j][lane], zero where the tap falls outside the map.
            let mut patch = vec![0.0f32; g.p_out() * g.k() * LANES];
            for oy in 0..g.h_out {
                for ox in 0..g.w_out {
                    let po = oy * g.w_out + ox;
                    for (ky, kx) in (0..g.kh).flat_map(|ky| (0..g.kw).map(move |kx| (ky, kx))) {
                        if let Some((iy, ix)) = g.source(oy, ox, ky, kx) {
                            for ci in 0..cb {
                                let (j, i) = ((ky * g.kw + kx) * cb + ci, (iy * g.w_in + ix) * cb + ci);
                                patch[(po * g.k() + j) * LANES..][..LANES].copy_from_slice(&big[i * LANES..][..LANES]);
                            }
                        }
                    }
                }
            }
            let mut got = vec![0.0f32; small.len()];
            conv.gather_block(Some(&bias), &big, &mut got, GatherOut::Plain);
            let mut dgot = vec![0.0f32; g.k() * cs * LANES];
            conv.filter_grad_block(&big, &small, &mut dgot);
            for po in 0..g.p_out() {
                for co in 0..cs {
                    for l in 0..LANES {
                        let mut a = bias[co];
                        for j in 0..g.k() {
                            a += f[j * cs + co] * patch[(po * g.k() + j) * LANES + l];
                        }
                        assert_eq!(got[(po * cs + co) * LANES + l].to_bits(), a.to_bits(), "gather, geometry {h}×{w}×{cb}, pixel {po}");
                    }
                }
            }
            for j in 0..g.k() {
                for co in 0..cs {
                    for l in 0..LANES {
                        let mut a = 0.0f32;
                        for po in 0..g.p_out() {
                            a += patch[(po * g.k() + j) * LANES + l] * small[(po * cs + co) * LANES + l];
                        }
                        assert_eq!(dgot[(j * cs + co) * LANES + l].to_bits(), a.to_bits(), "filter gradient, geometry {h}×{w}×{cb}, row {j}");
                    }
                }
            }
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
        let (f, bias, big, small) = random_conv_inputs(&g, cs, &mut r);
        let taps = TapTable::new(&g, cs);
        let fast = LaneConv::new(&g, &taps, &f, cs);
        let base = LaneConv { avx2: false, ..LaneConv::new(&g, &taps, &f, cs) };
        let same = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());

        let (mut want, mut got) = (vec![0.0f32; small.len()], vec![0.0f32; small.len()]);
        base.gather_block(Some(&bias), &big, &mut want, GatherOut::Plain);
        fast.gather_block(Some(&bias), &big, &mut got, GatherOut::Plain);
        assert!(same(&got, &want), "gather");

        let (mut want, mut got) = (big.clone(), big.clone());
        base.scatter_block(&small, &mut want);
        fast.scatter_block(&small, &mut got);
        assert!(same(&got, &want), "scatter");

        let (mut want, mut got) = (vec![0.5f32; f.len() * LANES], vec![0.5f32; f.len() * LANES]);
        base.filter_grad_block(&big, &small, &mut want);
        fast.filter_grad_block(&big, &small, &mut got);
        assert!(same(&got, &want), "filter gradient");
    }
}
