//! Running a loop compiled for the widest vector registers this CPU has,
//! with the arithmetic unchanged: the bodies are plain elementwise code
//! that the compiler vectorises, without fused multiply-adds, so the
//! bits are the same at every width.

/// Run `body` compiled for AVX2 when the CPU has it (`avx2`, detected once
/// by the caller), else as built. The kernels are all `#[inline(always)]`,
/// so they are compiled into whichever caller runs them; the arithmetic is
/// the same in both, only the register width differs. This relies on the
/// compiler inlining `body` into the AVX2 copy, which it does for a short
/// closure; a large body can stay a separate baseline function (the
/// scattering transform did), and is better given its own
/// `#[target_feature(enable = "avx2")]` function, as
/// `features::scattering`'s `Plan::transform_avx2` is.
#[inline(always)]
pub fn with_best_simd<R>(avx2: bool, body: impl FnOnce() -> R) -> R {
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

/// Whether this CPU has AVX2 (a runtime check; cache it in hot loops).
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
