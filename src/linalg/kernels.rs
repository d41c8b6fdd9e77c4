//! Which GEMM kernels run: the kernel family, chosen once per process.
//!
//! - `portable`: matrixmultiply's kernels: AVX2 + FMA on x86-64-v3
//!   machines, its own AVX-512 kernel where the CPU has one (nalgebra
//!   turns that feature on). Both sum in the same order, so every
//!   x86-64-v3 machine gives the same bits. The golden files are this
//!   family's.
//! - `avx512`: the crate's own AVX-512 kernels (`linalg::avx512`), on CPUs
//!   with `avx512f`.
//! - `avx2`: the crate's own AVX2 + FMA kernels (`linalg::avx2`), on CPUs
//!   with both (the same packed driver, `linalg::packed`, as `avx512`).
//!
//! All three give the same bits for the products udll asks for (α = 1 or
//! β = 0): the same sums in the same order.
//!
//! The default (`auto`) is the fastest family the CPU has. The manifest
//! records the family that ran, and `udll audit` re-runs with it.

use crate::error::{Result, UdllError};
use std::sync::atomic::{AtomicU8, Ordering};

/// A family of GEMM kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelFamily {
    /// matrixmultiply's kernels: AVX2 + FMA, or its AVX-512 one where the
    /// CPU has AVX-512 (the same bits); SSE2 or NEON where there is no AVX2.
    Portable,
    /// The crate's AVX-512 kernels.
    Avx512,
    /// The crate's AVX2 + FMA kernels.
    Avx2,
}

impl KernelFamily {
    /// Every family, in the order `auto` prefers them (fastest first).
    pub const ALL: [KernelFamily; 3] = [KernelFamily::Avx512, KernelFamily::Avx2, KernelFamily::Portable];

    /// The name used by `--cpu-kernels` and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            KernelFamily::Portable => "portable",
            KernelFamily::Avx512 => "avx512",
            KernelFamily::Avx2 => "avx2",
        }
    }

    /// The CPU features the family needs, as the error names them.
    fn needs(self) -> &'static str {
        match self {
            KernelFamily::Portable => "nothing",
            KernelFamily::Avx512 => "avx512f",
            KernelFamily::Avx2 => "avx2 and fma",
        }
    }

    /// Whether this CPU can run the family.
    pub fn available(self) -> bool {
        match self {
            KernelFamily::Portable => true,
            #[cfg(target_arch = "x86_64")]
            KernelFamily::Avx512 => super::avx512::available(),
            #[cfg(target_arch = "x86_64")]
            KernelFamily::Avx2 => super::avx2::available(),
            #[cfg(not(target_arch = "x86_64"))]
            KernelFamily::Avx512 | KernelFamily::Avx2 => false,
        }
    }

    /// The fastest family this CPU has.
    pub fn best() -> KernelFamily {
        Self::ALL.into_iter().find(|f| f.available()).unwrap_or(KernelFamily::Portable)
    }

    /// `portable`, `avx512`, `avx2` or `auto` (the fastest this CPU has); an
    /// error naming the choices otherwise, or when this CPU cannot run the
    /// family asked for.
    pub fn parse(s: &str) -> Result<KernelFamily> {
        let f = match s {
            "auto" => return Ok(Self::best()),
            "portable" => KernelFamily::Portable,
            "avx512" => KernelFamily::Avx512,
            "avx2" => KernelFamily::Avx2,
            other => return Err(UdllError::config(format!("unknown CPU kernel family '{other}' (known: auto, portable, avx512, avx2)"))),
        };
        if !f.available() {
            return Err(UdllError::config(format!("CPU kernels {s}: this CPU cannot run the {s} kernels (it lacks {}); use portable", f.needs())));
        }
        Ok(f)
    }
}

/// 0: not chosen yet (the first use picks [`KernelFamily::best`]).
static FAMILY: AtomicU8 = AtomicU8::new(0);

fn code(f: KernelFamily) -> u8 {
    match f {
        KernelFamily::Portable => 1,
        KernelFamily::Avx512 => 2,
        KernelFamily::Avx2 => 3,
    }
}

/// The family the GEMM wrapper runs.
pub fn family() -> KernelFamily {
    match FAMILY.load(Ordering::Relaxed) {
        1 => KernelFamily::Portable,
        2 => KernelFamily::Avx512,
        3 => KernelFamily::Avx2,
        _ => {
            let f = KernelFamily::best();
            FAMILY.store(code(f), Ordering::Relaxed);
            f
        }
    }
}

/// Run the GEMM wrapper with `f` from now on (an error when the CPU cannot).
pub fn set_family(f: KernelFamily) -> Result<()> {
    if !f.available() {
        return Err(UdllError::config(format!("this CPU cannot run the {} kernels", f.name())));
    }
    FAMILY.store(code(f), Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_unknown_ones_are_refused() {
        assert_eq!(KernelFamily::parse("portable").unwrap(), KernelFamily::Portable);
        assert_eq!(KernelFamily::parse("auto").unwrap(), KernelFamily::best());
        assert!(KernelFamily::parse("fastest").unwrap_err().to_string().contains("known: auto, portable, avx512, avx2"));
        for (name, needs) in [("avx512", "lacks avx512f"), ("avx2", "lacks avx2 and fma")] {
            match KernelFamily::parse(name) {
                Ok(f) => assert!(f.available() && f.name() == name),
                Err(e) => assert!(e.to_string().contains(needs), "{e}"),
            }
        }
        // Each family has its own code.
        let codes: std::collections::BTreeSet<u8> = KernelFamily::ALL.into_iter().map(code).collect();
        assert_eq!(codes.len(), KernelFamily::ALL.len());
    }
}
