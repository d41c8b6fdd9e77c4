//! GEMM kernels for CPUs with AVX-512 (`avx512f`): the `avx512` kernel
//! family of [`super::kernels`].
//!
//! The layout is the usual one of packed GEMM (Goto and van de Geijn): the
//! inner dimension is cut into blocks of [`KC`], a block of op(A) is packed
//! into panels of [`MR`] rows and a block of op(B) into panels of [`NV`]
//! vectors of columns; a micro-kernel keeps an MR × NV-vector tile of C in
//! 28 registers (of the 32 AVX-512 has) while it runs over the block: per
//! step two loads of B, MR broadcasts of A and 2·MR fused multiply-adds.
//! matrixmultiply's AVX-512 kernel (16 × 16, one vector wide) spends one
//! broadcast per multiply-add; this one spends about half of one.
//!
//! The arithmetic is the one matrixmultiply's kernels do, so both give the
//! same bits for α = 1 or β = 0 (every product udll asks for): each element
//! of a block's tile is summed in order of the inner index with one FMA
//! per term from zero, the blocks of 256 are added in order as
//! `fma(α, tile, β·C)` (β = 1 after the first block), and β = 0 never reads
//! C. Threads split the rows of C, never the inner sum: the same bits under
//! any thread count.

use rayon::prelude::*;
use std::arch::x86_64::*;

/// Rows of C per micro-tile (broadcast from the packed A panel).
pub const MR: usize = 14;
/// Vectors of C per micro-tile row.
pub const NV: usize = 2;
/// Inner-dimension block, as matrixmultiply's (its bits depend on it).
pub const KC: usize = 256;
/// Columns of op(B) packed at a time (a 256 × 512 f32 block is 512 KiB,
/// which stays in the L2 cache while the row panels stream past it).
const NC: usize = 512;

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
// SAFETY: see the type's documentation; the GEMM functions below uphold it.
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}

/// Whether this CPU can run the kernels of this module.
pub fn available() -> bool {
    std::is_x86_feature_detected!("avx512f")
}

macro_rules! avx512_gemm {
    ($name:ident, $t:ty, $lanes:expr, $mask:ty, $load:ident, $maskz_load:ident, $mask_store:ident, $set1:ident, $fmadd:ident, $mul:ident, $zero:ident) => {
        /// The kernels for one element type.
        pub mod $name {
            use super::*;

            /// Columns of C per micro-tile: NV vectors.
            pub const NR: usize = NV * $lanes;

            /// Rows [i0, i0 + rows) × inner indices [p0, p0 + kc) of op(A)
            /// (element (i, p) at `a[i·rsa + p·csa]`) into panels of MR
            /// rows, `[panel][p][MR]`, the last panel padded with zeros.
            ///
            /// # Safety
            /// Every element named must lie inside the allocation of `a`.
            unsafe fn pack_a(a: *const $t, rsa: isize, csa: isize, rows: usize, p0: usize, kc: usize, out: &mut [$t]) {
                for (pi, panel) in out.chunks_exact_mut(kc * MR).take(rows.div_ceil(MR)).enumerate() {
                    let here = (rows - pi * MR).min(MR);
                    for (p, dst) in panel.chunks_exact_mut(MR).enumerate() {
                        for (r, d) in dst.iter_mut().enumerate() {
                            // SAFETY: (pi·MR + r, p0 + p) is inside op(A) for r < here.
                            *d = if r < here { unsafe { *a.offset((pi * MR + r) as isize * rsa + (p0 + p) as isize * csa) } } else { 0.0 };
                        }
                    }
                }
            }

            /// Inner indices [p0, p0 + kc) × columns [j0, j0 + cols) of
            /// op(B) into panels of NR columns, `[panel][p][NR]`, the last
            /// padded with zeros.
            ///
            /// # Safety
            /// Every element named must lie inside the allocation of `b`.
            #[allow(clippy::too_many_arguments)]
            unsafe fn pack_b(b: *const $t, rsb: isize, csb: isize, p0: usize, kc: usize, j0: usize, cols: usize, out: &mut [$t]) {
                for (pj, panel) in out.chunks_exact_mut(kc * NR).take(cols.div_ceil(NR)).enumerate() {
                    let here = (cols - pj * NR).min(NR);
                    // SAFETY (every read below): row p0 + p < k and column
                    // j0 + pj·NR + c < n of op(B).
                    let at = |p: usize, c: usize| unsafe { b.offset((p0 + p) as isize * rsb + (j0 + pj * NR + c) as isize * csb) };
                    if rsb == 1 && csb != 1 {
                        // op(B) is a transposed row-major matrix: walk each
                        // column down its contiguous run of p.
                        panel.fill(0.0);
                        for c in 0..here {
                            let col = at(0, c);
                            for p in 0..kc {
                                panel[p * NR + c] = unsafe { *col.add(p) };
                            }
                        }
                        continue;
                    }
                    for (p, dst) in panel.chunks_exact_mut(NR).enumerate() {
                        let row = at(p, 0);
                        if csb == 1 && here == NR {
                            dst.copy_from_slice(unsafe { std::slice::from_raw_parts(row, NR) });
                        } else {
                            for (c, d) in dst.iter_mut().enumerate() {
                                *d = if c < here { unsafe { *row.offset(c as isize * csb) } } else { 0.0 };
                            }
                        }
                    }
                }
            }

            /// The mask of the first `n` lanes (0 ≤ n ≤ lanes).
            fn lanes_mask(n: usize) -> $mask {
                if n >= $lanes { <$mask>::MAX } else { ((1u32 << n) - 1) as $mask }
            }

            /// One MR × NR tile: C[0..rows, 0..cols] ← fma(α, ap·bp, β·C),
            /// with β = 1 reading C as is and β = 0 not reading it.
            ///
            /// # Safety
            /// avx512f must be present; `ap` holds kc·MR and `bp` kc·NR
            /// values; C's rows·cols elements (row stride ldc) are writable.
            #[target_feature(enable = "avx512f")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn tile(kc: usize, ap: *const $t, bp: *const $t, c: *mut $t, ldc: usize, rows: usize, cols: usize, alpha: $t, beta: $t) {
                let mut acc = [[$zero(); NV]; MR];
                let (mut a, mut b) = (ap, bp);
                for _ in 0..kc {
                    // SAFETY: a and b stay inside their panels (kc steps of MR and NR).
                    unsafe {
                        let mut bv = [$zero(); NV];
                        for (v, x) in bv.iter_mut().enumerate() {
                            *x = $load(b.add(v * $lanes));
                        }
                        for (r, row) in acc.iter_mut().enumerate() {
                            let av = $set1(*a.add(r));
                            for v in 0..NV {
                                row[v] = $fmadd(av, bv[v], row[v]);
                            }
                        }
                        a = a.add(MR);
                        b = b.add(NR);
                    }
                }
                let valpha = $set1(alpha);
                let vbeta = $set1(beta);
                let masks: [$mask; NV] = std::array::from_fn(|v| lanes_mask(cols.saturating_sub(v * $lanes).min($lanes)));
                for (r, row) in acc.iter().enumerate().take(rows) {
                    for h in 0..NV {
                        if masks[h] == 0 {
                            continue;
                        }
                        // SAFETY: the masked lanes are columns < cols of row r < rows.
                        unsafe {
                            let p = c.add(r * ldc + h * $lanes);
                            let cv = if beta == 0.0 {
                                $zero()
                            } else if beta == 1.0 {
                                $maskz_load(masks[h], p)
                            } else {
                                $mul($maskz_load(masks[h], p), vbeta)
                            };
                            $mask_store(p, masks[h], $fmadd(valpha, row[h], cv));
                        }
                    }
                }
            }

            /// A zeroed buffer of `len` values whose first is 64-byte aligned
            /// (a cache line: the kernel's vector loads never straddle two).
            fn aligned(len: usize) -> (Vec<$t>, usize) {
                let v = vec![0.0 as $t; len + 64 / std::mem::size_of::<$t>()];
                let skip = v.as_ptr().align_offset(64);
                (v, skip)
            }

            /// C (m × n, row stride ldc) ← α·op(A)·op(B) + β·C, op(A)
            /// element (i, p) at `a[i·rsa + p·csa]`, op(B) element (p, j)
            /// at `b[p·rsb + j·csb]`. Per block of the inner dimension, B's
            /// block is packed once (its panels in parallel), then the rows
            /// of C are split over the rayon pool in runs of whole panels,
            /// each packing its rows of A and running its tiles.
            ///
            /// # Safety
            /// avx512f must be present ([`super::available`]); the views
            /// must lie inside the slices (the callers assert it), and
            /// `ldc ≥ n`.
            #[allow(clippy::too_many_arguments)]
            pub unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: $t,
                a: &[$t],
                rsa: isize,
                csa: isize,
                b: &[$t],
                rsb: isize,
                csb: isize,
                beta: $t,
                c: &mut [$t],
                ldc: usize,
            ) {
                if m == 0 || n == 0 {
                    return;
                }
                if k == 0 {
                    for row in c.chunks_mut(ldc).take(m) {
                        row[..n].iter_mut().for_each(|v| *v = if beta == 0.0 { 0.0 } else { *v * beta });
                    }
                    return;
                }
                let threads = rayon::current_num_threads().max(1);
                // Whole panels per run; at least 4 panels, so that small
                // products stay on one thread.
                let per = m.div_ceil(threads).div_ceil(MR).max(4) * MR;
                let runs = m.div_ceil(per);
                let kc_max = KC.min(k);
                let (mut bbuf, bskip) = aligned(n.div_ceil(NR) * NR * kc_max);
                let mut abufs: Vec<(Vec<$t>, usize)> = (0..runs).map(|r| aligned((m - r * per).min(per).div_ceil(MR) * MR * kc_max)).collect();
                let (ap, bp, cp) = (Shared(a.as_ptr() as *mut $t), Shared(b.as_ptr() as *mut $t), Shared(c.as_mut_ptr()));
                let mut p0 = 0;
                while p0 < k {
                    let kc = (k - p0).min(KC);
                    let b_here = if p0 == 0 { beta } else { 1.0 };
                    let bpack = &mut bbuf[bskip..][..n.div_ceil(NR) * NR * kc];
                    bpack.par_chunks_mut(kc * NR).enumerate().for_each(|(pj, panel)| {
                        let cols = (n - pj * NR).min(NR);
                        // SAFETY: columns pj·NR.. of op(B)'s k-block p0.., inside B.
                        unsafe { pack_b(bp.ptr(), rsb, csb, p0, kc, pj * NR, cols, panel) };
                    });
                    let bpack = &*bpack;
                    abufs.par_iter_mut().enumerate().for_each(|(r, (abuf, askip))| {
                        let i0 = r * per;
                        let rows = (m - i0).min(per);
                        let apack = &mut abuf[*askip..][..rows.div_ceil(MR) * MR * kc];
                        // SAFETY: rows i0.. of op(A)'s k-block p0.., inside A.
                        unsafe { pack_a(ap.ptr().offset(i0 as isize * rsa), rsa, csa, rows, p0, kc, apack) };
                        let mut j0 = 0;
                        while j0 < n {
                            let cols = (n - j0).min(NC);
                            for pi in 0..rows.div_ceil(MR) {
                                let r_here = (rows - pi * MR).min(MR);
                                for pj in 0..cols.div_ceil(NR) {
                                    let c_here = (cols - pj * NR).min(NR);
                                    // SAFETY: runs write disjoint row ranges of C;
                                    // the tile lies inside C's m × n view.
                                    unsafe {
                                        tile(
                                            kc,
                                            apack.as_ptr().add(pi * kc * MR),
                                            bpack.as_ptr().add((j0 / NR + pj) * kc * NR),
                                            cp.ptr().add((i0 + pi * MR) * ldc + j0 + pj * NR),
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
        }
    };
}

avx512_gemm!(
    f32s,
    f32,
    16,
    u16,
    _mm512_loadu_ps,
    _mm512_maskz_loadu_ps,
    _mm512_mask_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_mul_ps,
    _mm512_setzero_ps
);
avx512_gemm!(
    f64s,
    f64,
    8,
    u8,
    _mm512_loadu_pd,
    _mm512_maskz_loadu_pd,
    _mm512_mask_storeu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_mul_pd,
    _mm512_setzero_pd
);
