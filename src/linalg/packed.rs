//! The packed GEMM driver the crate's own kernel families share
//! (`linalg::avx512`, `linalg::avx2`): the usual layout of packed GEMM
//! (Goto and van de Geijn). The inner dimension is cut into blocks of
//! [`KC`], a block of op(A) is packed into panels of MR rows and a block of
//! op(B) into panels of NR columns; a family's micro-kernel ([`Tile`])
//! keeps an MR × NR tile of C in registers while it runs over the block.
//!
//! The arithmetic is the one matrixmultiply's kernels do, so every family
//! gives the same bits for α = 1 or β = 0 (every product udll asks for):
//! each element of a block's tile is summed in order of the inner index
//! with one FMA per term from zero, the blocks of 256 are added in order as
//! `fma(α, tile, β·C)` (β = 1 after the first block), and β = 0 never reads
//! C. Threads split the rows of C, never the inner sum: the same bits under
//! any thread count.

use rayon::prelude::*;

/// Inner-dimension block, as matrixmultiply's (its bits depend on it).
pub const KC: usize = 256;
/// Columns of op(B) packed at a time (a 256 × 512 f32 block is 512 KiB,
/// which stays in the L2 cache while the row panels stream past it).
const NC: usize = 512;

/// The element types the kernels are built for.
pub trait Elem: Copy + Send + Sync + PartialEq + std::ops::Mul<Output = Self> + 'static {
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
}

impl Elem for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl Elem for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

/// A family's micro-kernel for one element type.
pub trait Tile<T: Elem> {
    /// Rows of C per tile (broadcast from the packed A panel).
    const MR: usize;
    /// Columns of C per tile (vectors loaded from the packed B panel).
    const NR: usize;

    /// One MR × NR tile: C[0..rows, 0..cols] ← fma(α, ap·bp, β·C), with
    /// β = 1 reading C as is and β = 0 not reading it.
    ///
    /// # Safety
    /// The CPU has the family's features; `ap` holds kc·MR and `bp` kc·NR
    /// values; C's rows·cols elements (row stride ldc) are writable.
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile(kc: usize, ap: *const T, bp: *const T, c: *mut T, ldc: usize, rows: usize, cols: usize, alpha: T, beta: T);
}

/// The sums of one tile over a packed block, in registers: `kc` steps,
/// each loading NV vectors of B, broadcasting MR values of A and adding
/// their MR · NV products by FMA, from zero and in order of the inner
/// index (the order every family shares). The caller's function enables
/// the intrinsics' target features; `ap` holds kc·MR and `bp` kc·NV·lanes
/// values.
macro_rules! tile_sums {
    ($kc:expr, $ap:expr, $bp:expr, $mr:expr, $nv:expr, $lanes:expr, $zero:ident, $load:ident, $set1:ident, $fmadd:ident) => {{
        let mut acc = [[$zero(); $nv]; $mr];
        let (mut a, mut b) = ($ap, $bp);
        for _ in 0..$kc {
            // SAFETY: a and b stay inside their panels (kc steps of MR and NR).
            unsafe {
                let mut bv = [$zero(); $nv];
                for (v, x) in bv.iter_mut().enumerate() {
                    *x = $load(b.add(v * $lanes));
                }
                for (r, row) in acc.iter_mut().enumerate() {
                    let av = $set1(*a.add(r));
                    for v in 0..$nv {
                        row[v] = $fmadd(av, bv[v], row[v]);
                    }
                }
                a = a.add($mr);
                b = b.add($nv * $lanes);
            }
        }
        acc
    }};
}
pub(crate) use tile_sums;

/// A raw pointer that may cross threads: every thread writes a disjoint
/// row range of C, and A and B are only read.
#[derive(Clone, Copy)]
struct Shared<T>(*mut T);

impl<T> Shared<T> {
    /// The pointer (a method, so that a closure captures the whole
    /// `Shared`, which may cross threads, not the bare pointer).
    fn ptr(&self) -> *mut T {
        self.0
    }
}
// SAFETY: see the type's documentation; `gemm` below upholds it.
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}

/// Rows [0, rows) × inner indices [p0, p0 + kc) of op(A) (element (i, p)
/// at `a[i·rsa + p·csa]`) into panels of `mr` rows, `[panel][p][mr]`, the
/// last panel padded with zeros.
///
/// # Safety
/// Every element named must lie inside the allocation of `a`.
#[allow(clippy::too_many_arguments)]
unsafe fn pack_a<T: Elem>(a: *const T, rsa: isize, csa: isize, rows: usize, p0: usize, kc: usize, mr: usize, out: &mut [T]) {
    for (pi, panel) in out.chunks_exact_mut(kc * mr).take(rows.div_ceil(mr)).enumerate() {
        let here = (rows - pi * mr).min(mr);
        for (p, dst) in panel.chunks_exact_mut(mr).enumerate() {
            for (r, d) in dst.iter_mut().enumerate() {
                // SAFETY: (pi·mr + r, p0 + p) is inside op(A) for r < here.
                *d = if r < here { unsafe { *a.offset((pi * mr + r) as isize * rsa + (p0 + p) as isize * csa) } } else { T::ZERO };
            }
        }
    }
}

/// Inner indices [p0, p0 + kc) × columns [j0, j0 + cols) of op(B) into
/// panels of `nr` columns, `[panel][p][nr]`, the last padded with zeros.
///
/// # Safety
/// Every element named must lie inside the allocation of `b`.
#[allow(clippy::too_many_arguments)]
unsafe fn pack_b<T: Elem>(b: *const T, rsb: isize, csb: isize, p0: usize, kc: usize, j0: usize, cols: usize, nr: usize, out: &mut [T]) {
    for (pj, panel) in out.chunks_exact_mut(kc * nr).take(cols.div_ceil(nr)).enumerate() {
        let here = (cols - pj * nr).min(nr);
        // SAFETY (every read below): row p0 + p < k and column
        // j0 + pj·nr + c < n of op(B).
        let at = |p: usize, c: usize| unsafe { b.offset((p0 + p) as isize * rsb + (j0 + pj * nr + c) as isize * csb) };
        if rsb == 1 && csb != 1 {
            // op(B) is a transposed row-major matrix: walk each column
            // down its contiguous run of p.
            panel.fill(T::ZERO);
            for c in 0..here {
                let col = at(0, c);
                for p in 0..kc {
                    panel[p * nr + c] = unsafe { *col.add(p) };
                }
            }
            continue;
        }
        for (p, dst) in panel.chunks_exact_mut(nr).enumerate() {
            let row = at(p, 0);
            if csb == 1 && here == nr {
                dst.copy_from_slice(unsafe { std::slice::from_raw_parts(row, nr) });
            } else {
                for (c, d) in dst.iter_mut().enumerate() {
                    *d = if c < here { unsafe { *row.offset(c as isize * csb) } } else { T::ZERO };
                }
            }
        }
    }
}

/// A zeroed buffer of `len` values whose first is 64-byte aligned (a
/// cache line: the kernels' vector loads never straddle two).
fn aligned<T: Elem>(len: usize) -> (Vec<T>, usize) {
    let v = vec![T::ZERO; len + 64 / std::mem::size_of::<T>()];
    let skip = v.as_ptr().align_offset(64);
    (v, skip)
}

/// C (m × n, row stride ldc) ← α·op(A)·op(B) + β·C, op(A) element (i, p)
/// at `a[i·rsa + p·csa]`, op(B) element (p, j) at `b[p·rsb + j·csb]`, with
/// the tiles of `K`. Per block of the inner dimension, B's block is packed
/// once (its panels in parallel), then the rows of C are split over the
/// rayon pool in runs of whole panels, each packing its rows of A and
/// running its tiles.
///
/// # Safety
/// The CPU has `K`'s features; the views must lie inside the slices (the
/// callers assert it), and `ldc ≥ n`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn gemm<T: Elem, K: Tile<T>>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: &[T],
    rsa: isize,
    csa: isize,
    b: &[T],
    rsb: isize,
    csb: isize,
    beta: T,
    c: &mut [T],
    ldc: usize,
) {
    let (mr, nr) = (K::MR, K::NR);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for row in c.chunks_mut(ldc).take(m) {
            row[..n].iter_mut().for_each(|v| *v = if beta == T::ZERO { T::ZERO } else { *v * beta });
        }
        return;
    }
    let threads = rayon::current_num_threads().max(1);
    // Whole panels per run; at least 4 panels, so that small products stay
    // on one thread.
    let per = m.div_ceil(threads).div_ceil(mr).max(4) * mr;
    let runs = m.div_ceil(per);
    let kc_max = KC.min(k);
    let (mut bbuf, bskip) = aligned::<T>(n.div_ceil(nr) * nr * kc_max);
    let mut abufs: Vec<(Vec<T>, usize)> = (0..runs).map(|r| aligned::<T>((m - r * per).min(per).div_ceil(mr) * mr * kc_max)).collect();
    let (ap, bp, cp) = (Shared(a.as_ptr() as *mut T), Shared(b.as_ptr() as *mut T), Shared(c.as_mut_ptr()));
    let mut p0 = 0;
    while p0 < k {
        let kc = (k - p0).min(KC);
        let b_here = if p0 == 0 { beta } else { T::ONE };
        let bpack = &mut bbuf[bskip..][..n.div_ceil(nr) * nr * kc];
        bpack.par_chunks_mut(kc * nr).enumerate().for_each(|(pj, panel)| {
            let cols = (n - pj * nr).min(nr);
            // SAFETY: columns pj·nr.. of op(B)'s k-block p0.., inside B.
            unsafe { pack_b(bp.ptr(), rsb, csb, p0, kc, pj * nr, cols, nr, panel) };
        });
        let bpack = &*bpack;
        abufs.par_iter_mut().enumerate().for_each(|(r, (abuf, askip))| {
            let i0 = r * per;
            let rows = (m - i0).min(per);
            let apack = &mut abuf[*askip..][..rows.div_ceil(mr) * mr * kc];
            // SAFETY: rows i0.. of op(A)'s k-block p0.., inside A.
            unsafe { pack_a(ap.ptr().offset(i0 as isize * rsa), rsa, csa, rows, p0, kc, mr, apack) };
            let mut j0 = 0;
            while j0 < n {
                let cols = (n - j0).min(NC);
                for pi in 0..rows.div_ceil(mr) {
                    let r_here = (rows - pi * mr).min(mr);
                    for pj in 0..cols.div_ceil(nr) {
                        let c_here = (cols - pj * nr).min(nr);
                        // SAFETY: runs write disjoint row ranges of C; the
                        // tile lies inside C's m × n view.
                        unsafe {
                            K::tile(
                                kc,
                                apack.as_ptr().add(pi * kc * mr),
                                bpack.as_ptr().add((j0 / nr + pj) * kc * nr),
                                cp.ptr().add((i0 + pi * mr) * ldc + j0 + pj * nr),
                                ldc,
                                r_here,
                                c_here,
                                alpha,
                                b_here,
                            );
                        }
                    }
                }
                j0 += cols;
            }
        });
        p0 += kc;
    }
}
