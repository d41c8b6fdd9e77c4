//! The samples a sparse self-expression codes: the f32 rows the batched
//! correlations read (one GEMM per round of a block of samples, which is
//! where the solvers spend their time) and an f64 copy for every exact
//! product (subproblems, residuals, the final check of each candidate
//! the f32 correlations propose).

use crate::linalg::reduce::dot;
use crate::linalg::{Trans, dgemm, sgemm};

/// Samples coded per batch: each round of a block costs one
/// `rows × d × n` GEMM, and a block's correlations take `rows · n · 4`
/// bytes (36 MB at n = 70 000).
pub(crate) const BLOCK_ROWS: usize = 128;

/// The blocks of `BLOCK_ROWS` points (the last one shorter) of m points.
pub(crate) fn blocks(m: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..m).step_by(BLOCK_ROWS).map(move |start| start..(start + BLOCK_ROWS).min(m))
}

/// n samples of dimension d, row-major.
pub(crate) struct Samples<'a> {
    pub n: usize,
    pub d: usize,
    x32: &'a [f32],
    x64: Vec<f64>,
}

impl<'a> Samples<'a> {
    pub fn new(x: &'a [f32], n: usize, d: usize) -> Self {
        Samples { n, d, x32: x, x64: x.iter().map(|&v| v as f64).collect() }
    }

    /// How many samples a code may use: all, or all but the one it
    /// `exclude`s.
    pub fn usable(&self, exclude: Option<usize>) -> usize {
        self.n - usize::from(exclude.is_some())
    }

    /// Sample j in f64.
    pub fn row(&self, j: usize) -> &[f64] {
        &self.x64[j * self.d..(j + 1) * self.d]
    }

    /// x_jᵀ v in f64 (`reduce::dot`'s fixed order).
    pub fn dot(&self, j: usize, v: &[f64]) -> f64 {
        dot(self.row(j), v)
    }

    /// The correlations V·Xᵀ (rows × n, f32) of `rows` vectors (rows × d,
    /// f32) with every sample.
    pub fn correlate(&self, v: &[f32], rows: usize) -> Vec<f32> {
        let mut out = vec![0f32; rows * self.n];
        sgemm(rows, self.d, self.n, 1.0, v, Trans::No, self.x32, Trans::Yes, 0.0, &mut out);
        out
    }

    /// The f32 rows of samples `range`.
    pub fn rows32(&self, range: std::ops::Range<usize>) -> &[f32] {
        &self.x32[range.start * self.d..range.end * self.d]
    }

    /// x − Σ_s c_s x_{supp_s}, in f64.
    pub fn residual(&self, x: &[f64], supp: &[usize], c: &[f64]) -> Vec<f64> {
        let mut r = x.to_vec();
        for (&j, &cj) in supp.iter().zip(c) {
            if cj != 0.0 {
                r.iter_mut().zip(self.row(j)).for_each(|(ri, xj)| *ri -= cj * xj);
            }
        }
        r
    }

    /// The Gram matrix of the samples `supp` (s × s, row-major, f64), by
    /// the GEMM on their gathered rows (symmetric: the GEMM sums both
    /// triangles in one order).
    pub fn gram(&self, supp: &[usize]) -> Vec<f64> {
        let s = supp.len();
        let rows: Vec<f64> = supp.iter().flat_map(|&j| self.row(j).iter().copied()).collect();
        let mut g = vec![0.0; s * s];
        dgemm(s, self.d, s, 1.0, &rows, Trans::No, &rows, Trans::Yes, 0.0, &mut g);
        g
    }
}

/// What a solver codes by the samples: the samples themselves (each with
/// its own coefficient held at zero), or new points of the same dimension.
#[derive(Clone, Copy)]
pub(crate) enum Targets<'a> {
    /// Self-expression: sample i by the others.
    Itself,
    /// `m` new points (m × d, row-major f32) by every sample.
    New { x: &'a [f32], m: usize },
}

impl<'a> Targets<'a> {
    /// How many points are coded.
    pub fn count(&self, samples: &Samples) -> usize {
        match self {
            Targets::Itself => samples.n,
            Targets::New { m, .. } => *m,
        }
    }

    /// The f32 rows of points `range`.
    pub fn rows32<'s>(&self, samples: &'s Samples, range: std::ops::Range<usize>) -> &'s [f32]
    where
        'a: 's,
    {
        match self {
            Targets::Itself => samples.rows32(range),
            Targets::New { x, .. } => &x[range.start * samples.d..range.end * samples.d],
        }
    }

    /// Point i in f64.
    pub fn point(&self, samples: &Samples, i: usize) -> Vec<f64> {
        match self {
            Targets::Itself => samples.row(i).to_vec(),
            Targets::New { x, .. } => x[i * samples.d..(i + 1) * samples.d].iter().map(|&v| v as f64).collect(),
        }
    }

    /// The sample point i may not use (itself, in a self-expression).
    pub fn exclude(&self, i: usize) -> Option<usize> {
        match self {
            Targets::Itself => Some(i),
            Targets::New { .. } => None,
        }
    }
}

/// Indices of the `k` largest `score(j)` over `candidates`, largest first,
/// ties to the smaller index.
pub(crate) fn top_k(candidates: impl Iterator<Item = usize>, k: usize, score: impl Fn(usize) -> f64) -> Vec<usize> {
    top_k_scored(candidates.map(|j| (score(j), j)).collect(), k)
}

/// The indices of the `k` largest of (score, index) pairs, largest first,
/// ties to the smaller index.
pub(crate) fn top_k_scored(mut c: Vec<(f64, usize)>, k: usize) -> Vec<usize> {
    let by = |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if k < c.len() {
        if k == 0 {
            return Vec::new();
        }
        c.select_nth_unstable_by(k - 1, by);
        c.truncate(k);
    }
    c.sort_by(by);
    c.into_iter().map(|(_, j)| j).collect()
}
