//! The one GEMM wrapper of the crate.
//!
//! Every dense product in udll goes through here, so the kernel family
//! (`linalg::kernels`: matrixmultiply's portable kernels, or the crate's
//! AVX-512 or AVX2 ones) is the same everywhere and recorded in the
//! manifest (`kernel_family`, with `cpu_kernel_features`). Every family
//! splits the *output* over threads and keeps the order of the
//! inner-dimension sum, so results are bit-identical for any thread count;
//! all sum in the same order, so for α = 1 or β = 0 they give the same
//! bits too.
//!
//! Matrices are row-major slices; `Trans::Yes` reads the stored matrix as its
//! transpose through strides (no copy).

use crate::linalg::kernels::{KernelFamily, family};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// Whether an operand enters a product transposed.
pub enum Trans {
    /// As stored.
    No,
    /// Transposed.
    Yes,
}

/// Strides of a stored row-major `rows × cols` matrix read as `op(M)`.
fn strides(t: Trans, stored_cols: usize) -> (isize, isize) {
    match t {
        Trans::No => (stored_cols as isize, 1),
        Trans::Yes => (1, stored_cols as isize),
    }
}

/// One wrapper per element type, identical but for the type and the
/// kernels' entry points.
macro_rules! gemm_wrapper {
    ($(#[$doc:meta])* $name:ident, $family_name:ident, $t:ty, $kernel:path) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        pub fn $name(m: usize, k: usize, n: usize, alpha: $t, a: &[$t], ta: Trans, b: &[$t], tb: Trans, beta: $t, c: &mut [$t]) {
            $family_name(family(), m, k, n, alpha, a, ta, b, tb, beta, c)
        }

        /// The same product with the kernels of `family` (for tests and
        /// benches that compare families; everything else goes through
        /// the process-wide choice).
        #[allow(clippy::too_many_arguments)]
        pub fn $family_name(family: KernelFamily, m: usize, k: usize, n: usize, alpha: $t, a: &[$t], ta: Trans, b: &[$t], tb: Trans, beta: $t, c: &mut [$t]) {
            assert_eq!(a.len(), m * k, "{}: A has {} elements, expected {m}×{k}", stringify!($name), a.len());
            assert_eq!(b.len(), k * n, "{}: B has {} elements, expected {k}×{n}", stringify!($name), b.len());
            assert_eq!(c.len(), m * n, "{}: C has {} elements, expected {m}×{n}", stringify!($name), c.len());
            if m == 0 || n == 0 {
                return;
            }
            let (rsa, csa) = strides(ta, if ta == Trans::No { k } else { m });
            let (rsb, csb) = strides(tb, if tb == Trans::No { n } else { k });
            if own_kernels::<$t>(family, m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, n) {
                return;
            }
            // SAFETY: the asserts above keep every index the strides reach
            // inside the slices; C does not alias A or B (borrow rules).
            unsafe {
                $kernel(m, k, n, alpha, a.as_ptr(), rsa, csa, b.as_ptr(), rsb, csb, beta, c.as_mut_ptr(), n as isize, 1);
            }
        }
    };
}

gemm_wrapper!(
    /// C (m × n) ← alpha · op(A) · op(B) + beta · C, with op(A) m × k and
    /// op(B) k × n. A is stored row-major as m × k (No) or k × m (Yes); B as
    /// k × n (No) or n × k (Yes).
    sgemm, sgemm_family, f32, matrixmultiply::sgemm
);
gemm_wrapper!(
    /// The f64 twin of [`sgemm`], used by the eigen solvers and the
    /// finite-difference checks.
    dgemm, dgemm_family, f64, matrixmultiply::dgemm
);

/// The crate's own tiles for an element type, per family.
#[cfg(target_arch = "x86_64")]
trait OwnTiles: crate::linalg::packed::Elem {
    type Avx512: crate::linalg::packed::Tile<Self>;
    type Avx2: crate::linalg::packed::Tile<Self>;
}

#[cfg(target_arch = "x86_64")]
impl OwnTiles for f32 {
    type Avx512 = crate::linalg::avx512::F32;
    type Avx2 = crate::linalg::avx2::F32;
}

#[cfg(target_arch = "x86_64")]
impl OwnTiles for f64 {
    type Avx512 = crate::linalg::avx512::F64;
    type Avx2 = crate::linalg::avx2::F64;
}

/// Run the product with the crate's own kernels of `family` when it names
/// them and the CPU has them (true), else leave it to matrixmultiply
/// (false). The views must lie inside the slices (the callers assert it).
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
fn own_kernels<T: OwnTiles>(
    family: KernelFamily,
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
) -> bool {
    use crate::linalg::{avx2, avx512, packed};
    match family {
        // SAFETY (both arms): the CPU has the family's features (checked
        // here; `set_family` admits a family only where it runs), and the
        // callers keep the views inside the slices.
        KernelFamily::Avx512 if avx512::available() => unsafe { packed::gemm::<T, T::Avx512>(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc) },
        KernelFamily::Avx2 if avx2::available() => unsafe { packed::gemm::<T, T::Avx2>(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc) },
        _ => return false,
    }
    true
}

/// Elsewhere the portable kernels run.
#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
fn own_kernels<T>(
    _: KernelFamily,
    _: usize,
    _: usize,
    _: usize,
    _: T,
    _: &[T],
    _: isize,
    _: isize,
    _: &[T],
    _: isize,
    _: isize,
    _: T,
    _: &mut [T],
    _: usize,
) -> bool {
    false
}

/// C ← alpha · A · B + beta · C on strided views, for blocks of larger
/// matrices: A (m × k) has element (i, p) at `a[i·rsa + p·csa]`, B (k × n)
/// has (p, j) at `b[p·rsb + j·csb]`, and C (m × n) has (i, j) at
/// `c[i·rsc + j]`. The blocked Cholesky updates its trailing triangle in
/// place through it, and its triangular solves read the column-major
/// factor through it.
#[allow(clippy::too_many_arguments)]
pub fn dgemm_strided(
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    a: &[f64],
    rsa: usize,
    csa: usize,
    b: &[f64],
    rsb: usize,
    csb: usize,
    beta: f64,
    c: &mut [f64],
    rsc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rows: usize, rs: usize, cols: usize, cs: usize| (rows - 1) * rs + cols.saturating_sub(1) * cs;
    if k > 0 {
        assert!(last(m, rsa, k, csa) < a.len(), "dgemm_strided: A's {m}×{k} view leaves its slice ({} elements)", a.len());
        assert!(last(k, rsb, n, csb) < b.len(), "dgemm_strided: B's {k}×{n} view leaves its slice ({} elements)", b.len());
    }
    assert!(n <= rsc && last(m, rsc, n, 1) < c.len(), "dgemm_strided: C's {m}×{n} view (row stride {rsc}) leaves its slice ({} elements)", c.len());
    if own_kernels::<f64>(family(), m, k, n, alpha, a, rsa as isize, csa as isize, b, rsb as isize, csb as isize, beta, c, rsc) {
        return;
    }
    // SAFETY: the asserts above keep every index the strides reach inside
    // the slices; C does not alias A or B (borrow rules).
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            rsc as isize,
            1,
        );
    }
}

/// The SIMD features of this CPU that decide which kernels can run.
pub fn cpu_kernel_features() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut f = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            f.push("avx512f");
        }
        if std::is_x86_feature_detected!("avx2") {
            f.push("avx2");
        }
        if std::is_x86_feature_detected!("fma") {
            f.push("fma");
        }
        if std::is_x86_feature_detected!("avx") {
            f.push("avx");
        }
        if std::is_x86_feature_detected!("sse2") {
            f.push("sse2");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        f.push("neon");
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn naive(m: usize, k: usize, n: usize, a: &[f32], ta: Trans, b: &[f32], tb: Trans) -> Vec<f64> {
        let mut c = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    let av = if ta == Trans::No { a[i * k + p] } else { a[p * m + i] };
                    let bv = if tb == Trans::No { b[p * n + j] } else { b[j * k + p] };
                    s += av as f64 * bv as f64;
                }
                c[i * n + j] = s;
            }
        }
        c
    }

    /// The crate's own families (AVX-512, AVX2) against the triple loop,
    /// for every transpose, edge tiles (m, n not multiples of the tile),
    /// several inner blocks (k > 256) and k = 0; and bit for bit against
    /// the portable family when α = 1 or β = 0 (the same sums in the same
    /// order).
    #[test]
    fn own_families_match_the_triple_loop_and_the_portable_bits() {
        for family in [KernelFamily::Avx512, KernelFamily::Avx2] {
            if family.available() {
                own_family_matches(family);
            } else {
                eprintln!("SKIPPED: this CPU cannot run the {} kernels", family.name());
            }
        }
    }

    fn own_family_matches(family: KernelFamily) {
        let mut rng = Rng::stream(7, "gemm-avx512");
        for &(m, k, n) in &[(1, 1, 1), (13, 300, 33), (37, 513, 70), (5, 0, 7), (64, 31, 5), (25, 256, 32), (7, 9, 600)] {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal() as f32).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
            let c0: Vec<f32> = (0..m * n).map(|_| rng.normal() as f32).collect();
            let a64: Vec<f64> = a.iter().map(|&v| v as f64).collect();
            let b64: Vec<f64> = b.iter().map(|&v| v as f64).collect();
            for ta in [Trans::No, Trans::Yes] {
                for tb in [Trans::No, Trans::Yes] {
                    let want = naive(m, k, n, &a, ta, &b, tb);
                    for (alpha, beta) in [(1.0f32, 0.0f32), (1.0, 1.0), (2.0, 0.5), (0.5, 0.0), (1.0, -0.25)] {
                        let run32 = |f| {
                            let mut c = c0.clone();
                            sgemm_family(f, m, k, n, alpha, &a, ta, &b, tb, beta, &mut c);
                            c
                        };
                        let run64 = |f| {
                            let mut c: Vec<f64> = c0.iter().map(|&v| v as f64).collect();
                            dgemm_family(f, m, k, n, alpha as f64, &a64, ta, &b64, tb, beta as f64, &mut c);
                            c
                        };
                        let (fast, fast64) = (run32(family), run64(family));
                        for i in 0..m * n {
                            let w = alpha as f64 * want[i] + beta as f64 * c0[i] as f64;
                            assert!(
                                (fast[i] as f64 - w).abs() <= 1e-4 * (1.0 + w.abs()),
                                "f32 ({m},{k},{n}) {ta:?} {tb:?} α {alpha} β {beta} [{i}]: {} vs {w}",
                                fast[i]
                            );
                            assert!((fast64[i] - w).abs() <= 1e-10 * (1.0 + w.abs()), "f64 ({m},{k},{n}) [{i}]: {} vs {w}", fast64[i]);
                        }
                        if alpha == 1.0 || beta == 0.0 {
                            let (port, port64) = (run32(KernelFamily::Portable), run64(KernelFamily::Portable));
                            assert!(
                                fast.iter().zip(&port).all(|(x, y)| x.to_bits() == y.to_bits()),
                                "{family:?} f32 ({m},{k},{n}) {ta:?} {tb:?} α {alpha} β {beta}: not the portable bits"
                            );
                            assert!(
                                fast64.iter().zip(&port64).all(|(x, y)| x.to_bits() == y.to_bits()),
                                "{family:?} f64 ({m},{k},{n}) {ta:?} {tb:?} α {alpha} β {beta}: not the portable bits"
                            );
                        }
                    }
                }
            }
        }
    }

    /// A block of a column-major matrix times a block of a row-major one,
    /// into a block of a third, leaving the rest of C alone.
    #[test]
    fn strided_dgemm_reads_and_writes_only_its_blocks() {
        let mut rng = Rng::stream(1, "gemm-test");
        let (lda, ldb, ldc) = (9, 6, 7);
        let a: Vec<f64> = (0..lda * 8).map(|_| rng.normal()).collect();
        let b: Vec<f64> = (0..8 * ldb).map(|_| rng.normal()).collect();
        let (m, k, n) = (4, 5, 3);
        // A = rows 2.. and columns 1.. of a column-major lda × 8 matrix;
        // B = rows 1.. and columns 2.. of a row-major 8 × ldb one.
        let at = |i: usize, p: usize| a[(p + 1) * lda + i + 2];
        let bt = |p: usize, j: usize| b[(p + 1) * ldb + j + 2];
        let mut c = vec![0.5; 6 * ldc];
        dgemm_strided(m, k, n, 2.0, &a[lda + 2..], 1, lda, &b[ldb + 2..], ldb, 1, 1.0, &mut c[ldc + 1..], ldc);
        for r in 0..6 {
            for col in 0..ldc {
                let inside = (1..1 + m).contains(&r) && (1..1 + n).contains(&col);
                let want = if inside { 0.5 + 2.0 * (0..k).map(|p| at(r - 1, p) * bt(p, col - 1)).sum::<f64>() } else { 0.5 };
                assert!((c[r * ldc + col] - want).abs() < 1e-12, "c[{r}][{col}] = {}, want {want}", c[r * ldc + col]);
            }
        }
    }

    #[test]
    fn sgemm_matches_triple_loop_for_all_transposes() {
        let mut rng = Rng::stream(0, "gemm-test");
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 31, 5)] {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal() as f32).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
            for ta in [Trans::No, Trans::Yes] {
                for tb in [Trans::No, Trans::Yes] {
                    let mut c = vec![1.0f32; m * n];
                    sgemm(m, k, n, 2.0, &a, ta, &b, tb, 0.5, &mut c);
                    let want = naive(m, k, n, &a, ta, &b, tb);
                    for (g, w) in c.iter().zip(&want) {
                        let w = 2.0 * w + 0.5;
                        assert!((*g as f64 - w).abs() < 1e-4 * (1.0 + w.abs()), "{g} vs {w}");
                    }
                }
            }
        }
    }
}
